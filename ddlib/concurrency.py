"""Training several groups of runs at once on one GPU, each in its own thread on its own CUDA stream.

Why: at the paper's batch of 128 on 32x32 images, one PreAct ResNet-18-k step uses a small fraction
of an H100 even when it is replayed as one CUDA graph (:mod:`ddlib.cuda_graph`; the ``ours_mfu``
column of ``benchmarks/results/gpu-resnet18-graph-h100.csv``). Its kernels are small (a 32x32 image,
128 of them, up to 512 channels), and kernels queued on one stream run one after another. Kernels on
*different* streams may run at the same time (NVIDIA, *CUDA C++ Programming Guide*, "Asynchronous
Concurrent Execution": streams, concurrent kernel execution), so independent models, such as the
widths of a sweep too wide to share a zero-padded ensemble (:mod:`ddlib.width_batching`), may fill
the card together. Unlike padding, nothing is computed twice. On an H200 (2026-12-04, with
:data:`ddlib.cuda_graph.CAPTURE_GUARD`; an earlier run broke on the capture race it prevents), groups of
widths above 16 trained faster at once than one after another in the same run, but at the widest widths
no faster than the one-model loop of the throughput benchmark that the sweep projection rests on
(``benchmarks/results/concurrent-groups/``; the book's appendix gives the numbers of the newest run). It
stays off (1) by default.

How: :func:`stream_executor` is a :class:`concurrent.futures.ThreadPoolExecutor` whose worker threads
each take one of the executor's own CUDA streams as their current stream (PyTorch's current stream is
per thread), so a group's steps, its warm-up, its graph capture and its replays all queue on that
stream; :func:`ddlib.runner.run_configs` hands its groups to such an executor when
``concurrent_groups`` (or ``$DDLIB_CONCURRENT_GROUPS``) is above 1. The streams are drawn from
PyTorch's pool of high-priority streams and checked to be distinct: ``torch.cuda.Stream()`` hands out
the 32 streams of a pool in turn, and a stream shared with another thread's capture would have that
thread's kernels recorded into the other's graph. The rest of the library is safe for this: every
random draw comes from the run's own generators; captures take turns and wait for, and hold back, eager
work that may synchronise the device, such as cuDNN's autotuning of a new shape
(:data:`ddlib.cuda_graph.CAPTURE_GUARD`); cuDNN autotuning is switched by a shared stack of open blocks
(:func:`ddlib.devices.cudnn_benchmark`). On a CPU the results are bit for bit those of training the
groups one after another (tested); on a GPU, up to the last bits that cuDNN's choice of algorithms
may change, as between any two GPU runs with autotuning on.

Limits: ``torch.compile`` is refused in these threads, as compiling resets Dynamo's caches for the
whole process (:func:`ddlib.train.compiled`). While one group captures its graph, PyTorch's allocator
does not release cached memory to retry a failed allocation, and each capture synchronises the
device, so groups at once need more memory headroom than one at a time. Stopping: a failed group
stops the groups not yet started (those running finish and are stored); on Ctrl-C the running groups
still finish unless interrupted again, and then resume from their checkpoints next time.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import torch

from .paths import env_word
from .validation import ConfigError, positive_int


#: Worker threads at most: the size of PyTorch's pool of high-priority streams per device.
MAX_WORKERS = 32

#: The prefix of the worker threads' names (``ddlib.train`` refuses ``torch.compile`` in them).
THREAD_PREFIX = "ddlib-stream"


def resolve_concurrent_groups(value: int | None = None) -> int:
    """How many groups train at once: ``value``, else ``$DDLIB_CONCURRENT_GROUPS`` (an integer >= 1;
    unset or empty: 1, one group at a time)."""
    if value is not None:
        return positive_int("concurrent_groups", value)
    raw = env_word("DDLIB_CONCURRENT_GROUPS")
    if raw == "":
        return 1
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ConfigError(f"DDLIB_CONCURRENT_GROUPS must be a positive integer (the number of groups trained "
                          f"at once; 1: one at a time); got {raw!r}")
    return int(raw)


def refuse_compile(mode: str, where: str) -> None:
    """Fail naming ``where`` if ``mode`` (a :func:`ddlib.train.resolve_compile_mode` value) compiles."""
    if mode != "off":
        raise ConfigError(f"{where} cannot be combined with torch.compile (compile mode {mode!r}): compiling one group "
                          f"resets the compiled code of the others; set DDLIB_COMPILE=off, or train one group at a time")


def in_worker_thread() -> bool:
    """Whether this code runs in a thread of :func:`stream_executor`."""
    return threading.current_thread().name.startswith(THREAD_PREFIX)


def worker_streams(workers: int, device: torch.device) -> list:
    """``workers`` distinct high-priority CUDA streams of ``device`` (checked by their handles)."""
    streams = [torch.cuda.Stream(device, priority=-1) for _ in range(workers)]
    if len({s.cuda_stream for s in streams}) != workers:
        raise ConfigError(f"workers={workers}: PyTorch's stream pool gave fewer than {workers} distinct CUDA streams; "
                          f"use at most {MAX_WORKERS} workers")
    return streams


def stream_executor(workers: int, device: torch.device) -> ThreadPoolExecutor:
    """A thread pool of ``workers`` threads, each queueing its CUDA work on a stream of its own.

    Use it as ``run_configs(..., executor=stream_executor(4, device))``, or let
    ``run_configs(concurrent_groups=4)`` make one. Only CPUs and CUDA devices are accepted (PyTorch's
    MPS backend is not safe for ops from several threads at once). On a CPU the threads share the
    cores torch already uses (the committed CPU runs: see the full-scale appendix)."""
    positive_int("workers", workers)
    if workers > MAX_WORKERS:
        raise ConfigError(f"workers must be at most {MAX_WORKERS} (PyTorch's pool of CUDA streams); got {workers}")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"groups at once run on a CPU or a CUDA device; got {device.type!r} (use concurrent_groups=1)")
    streams = queue.SimpleQueue()
    for stream in worker_streams(workers, device) if device.type == "cuda" else []:
        streams.put(stream)
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=THREAD_PREFIX,
                              initializer=_take_a_stream, initargs=(streams,))


def _take_a_stream(streams: queue.SimpleQueue) -> None:
    """Thread initialiser: make one of the executor's streams this thread's current stream (none on a CPU)."""
    if not streams.empty():
        torch.cuda.set_stream(streams.get())
