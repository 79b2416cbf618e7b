"""Training several groups of runs at once on one GPU, each in its own thread on its own CUDA stream.

Why: at the paper's batch of 128 on 32x32 images, one PreAct ResNet-18-k step leaves most of an H100
idle even when it is replayed as one CUDA graph (:mod:`ddlib.cuda_graph`): the committed H100 run
(``benchmarks/results/gpu-resnet18-graph-h100.csv``) trains one model at about 64,000 images/s at
k = 16 and 37,000 at k = 64, where the bf16 peak would allow over 20 times more at k = 64. Its
kernels are small (a 32x32 image, 128 of them, up to 512 channels), and kernels queued on one stream
run one after another. Kernels on *different* streams may run at the same time (NVIDIA, *CUDA C++
Programming Guide*, "Asynchronous Concurrent Execution": streams, concurrent kernel execution), so
independent models, such as the widths of a sweep that are too wide to share a zero-padded ensemble
(:mod:`ddlib.width_batching`), can fill the card together. Unlike padding, nothing is computed twice.

How: :func:`stream_executor` is a :class:`concurrent.futures.ThreadPoolExecutor` whose worker threads
each make a CUDA stream of their own and make it their current stream (PyTorch's current stream is
per thread), so each group's steps, its graph capture and its replays queue on that stream;
:func:`ddlib.runner.run_configs` hands its groups to it when ``concurrent_groups`` (or
``$DDLIB_CONCURRENT_GROUPS``) is above 1. The rest of the library is safe for this: every random draw
comes from the run's own generators; captures take turns (:data:`ddlib.cuda_graph.CAPTURE_LOCK`) and
record only their own thread's calls; cuDNN autotuning is switched by a shared count
(:func:`ddlib.devices.cudnn_benchmark`). The results are those of training the groups one after
another (same seeds, same data order), which a test checks.

It is a speed switch, outside a run's hash, and off (1) by default: it has not yet been measured on a
GPU (``benchmarks/concurrent_groups.py`` measures it). ``torch.compile`` is refused with it, as
compiling resets Dynamo's caches for the whole process (:func:`ddlib.train.compiled`).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import torch

from .paths import env_word
from .validation import ConfigError, positive_int


def concurrent_groups(value: int | None = None) -> int:
    """How many groups train at once: ``value``, else ``$DDLIB_CONCURRENT_GROUPS`` (an integer >= 1;
    unset or empty: 1, one group at a time)."""
    if value is not None:
        return positive_int("concurrent_groups", value)
    raw = env_word("DDLIB_CONCURRENT_GROUPS")
    if raw == "":
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"DDLIB_CONCURRENT_GROUPS must be a positive integer (the number of groups trained "
                          f"at once; 1: one at a time); got {raw!r}")
    return int(raw)


def _use_own_stream(device: torch.device) -> None:
    """Thread initialiser: this thread's CUDA work goes to a new stream of its own (a no-op off CUDA)."""
    if device.type == "cuda":
        torch.cuda.set_stream(torch.cuda.Stream(device))


def stream_executor(workers: int, device: torch.device) -> ThreadPoolExecutor:
    """A thread pool of ``workers`` threads, each queueing its CUDA work on its own stream.

    Use it as ``run_configs(..., executor=stream_executor(4, device))``, or let
    ``run_configs(concurrent_groups=4)`` make one. On a CPU the threads share the cores torch already
    uses, so expect no gain there."""
    positive_int("workers", workers)
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ddlib-stream",
                              initializer=_use_own_stream, initargs=(device,))
