"""The whole training step (forward, loss, backward, optimiser) as one CUDA graph, replayed every step.

Why: at the paper's batch of 128 on 32x32 images, an eager PreAct ResNet-18 step is bound by the
host launching its few hundred kernels one by one, not by the GPU: on an H100 one model trains at
about 12,000 to 15,000 images/s whatever its width, k = 1 or k = 64 (``benchmarks/results/
gpu-resnet18-eager-h100.csv``), about 10 ms a step. A CUDA graph records the kernels of one step
once and replays them with a single launch (NVIDIA, *CUDA C++ Programming Guide*, "CUDA Graphs";
PyTorch's "whole-network capture", ``torch.cuda.graph``).

How (the recipe of PyTorch's CUDA-graph notes):

1. the first :data:`WARMUP_STEPS` steps run eagerly on a side stream (cuDNN picks its algorithms,
   the optimiser creates its state, the caching allocator settles);
2. the next step is captured: its inputs are copied into static buffers, gradients are set to
   ``None`` so that the backward pass allocates them from the graph's private memory pool, and the
   optimiser must be ``capturable`` (its step counts live on the device);
3. every later step copies its batch and its indices into the static buffers and replays.

Each of these is a real training step on the step's own batch: the captured step is replayed right
after its capture, so no batch is skipped or repeated. What stays outside the graph is what draws
random numbers or changes shape: the epoch permutation, the gather ``x[idx]`` and the augmentation
(a handful of kernels). Autocast runs with its weight-cast cache off, as graphs require.

The result is the same computation as the eager loop, not bit-identical to it: the capturable Adam
computes its bias corrections on the device, and cuDNN may pick other algorithms. It is a speed
switch, so, like ``torch.compile``, not part of a run's hash. ``$DDLIB_CUDA_GRAPH`` (or
``cuda_graph=``): ``auto`` (default: on for CUDA, off elsewhere), on or off. It is not combined
with the compile modes that record CUDA graphs themselves (``reduce-overhead``, ``max-autotune``).
"""
from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator

import torch

from .paths import switch_setting
from .validation import ConfigError

#: Eager steps before the capture (PyTorch's notes use 3 on a side stream).
WARMUP_STEPS = 3

#: ``torch.compile`` modes that already record CUDA graphs of their own.
GRAPHING_COMPILE_MODES = ("reduce-overhead", "max-autotune")

class CaptureInsideSection(Exception):
    """A capture asked for inside an eager section or another capture of the same thread: a programming error,
    not a failed capture (so not a ``RuntimeError``, which :class:`GraphedStep` treats as one)."""


class CaptureGuard:
    """Keeps CUDA-graph captures apart from one another and from eager work that may synchronise the device.

    A capture records the kernels queued on one stream. While one is open, a call from *any* thread that
    synchronises the whole device is an error that also breaks the capture (CUDA's
    ``cudaErrorStreamCaptureUnsupported``, then ``cudaErrorStreamCaptureInvalidated``), and ``torch.cuda.graph``
    itself synchronises the device and empties the allocator's cache before it captures. cuDNN's autotuning,
    most likely, synchronises the device when it times its algorithms for a shape it has not seen: on an H200 a
    group warming up in one thread broke the capture of another (``benchmarks/results/concurrent-groups/
    gpu-resnet18-h200-capture-race.log``, 2026-12-04; with this guard, the rerun that day captured every
    group: ``gpu-resnet18-h200-2026-12-04-2.log``). So, when groups train at once (:mod:`ddlib.concurrency`):

    * :meth:`eager` sections (eager training steps, the warm-up before a capture, predictions: everything
      that may meet a new shape) may overlap one another;
    * :meth:`capture` is exclusive: it waits until no eager section and no other capture is open, and no
      eager section starts while a capture waits or runs (so a capture cannot wait forever).

    Replays and the small per-step kernels around them (batch gather, augmentation) run outside both: they
    never synchronise the device. Sections nest within one thread (a nested one passes straight through),
    so a thread cannot deadlock on itself. On a CPU nothing ever captures and an eager section costs one
    uncontended lock."""

    def __init__(self):
        self._cond = threading.Condition()
        self._eager = 0
        self._capturing = False
        self._captures_waiting = 0
        self._held = threading.local()

    def _depth(self) -> int:
        return getattr(self._held, "depth", 0)

    @contextmanager
    def _holding(self) -> Iterator[None]:
        self._held.depth = self._depth() + 1
        try:
            yield
        finally:
            self._held.depth -= 1

    @contextmanager
    def eager(self) -> Iterator[None]:
        """Eager CUDA work that may synchronise the device: waits while a capture waits or runs."""
        if self._depth():
            yield
            return
        with self._cond:
            self._cond.wait_for(lambda: not self._capturing and not self._captures_waiting)
            self._eager += 1
        try:
            with self._holding():
                yield
        finally:
            with self._cond:
                self._eager -= 1
                self._cond.notify_all()

    @contextmanager
    def capture(self) -> Iterator[None]:
        """A graph capture: alone, once every open eager section has closed."""
        if self._depth():
            raise CaptureInsideSection("a CUDA graph capture cannot start inside an eager section or another "
                                       "capture of the same thread")
        with self._cond:
            self._captures_waiting += 1
            try:
                self._cond.wait_for(lambda: not self._capturing and not self._eager)
            finally:
                self._captures_waiting -= 1
                self._cond.notify_all()  # eager sections held back by this wait may go (e.g. after Ctrl-C)
            self._capturing = True
        try:
            with self._holding():
                yield
        finally:
            with self._cond:
                self._capturing = False
                self._cond.notify_all()

    def capturing(self) -> bool:
        """Whether a capture is open (for tests and checks)."""
        return self._capturing


#: The process's one :class:`CaptureGuard`: captures take turns, and eager work waits for them.
CAPTURE_GUARD = CaptureGuard()


def _work_stream() -> "torch.cuda.Stream":
    """The stream for the eager warm-up and the capture: this thread's current stream where it is one of its
    own (a thread of :func:`ddlib.concurrency.stream_executor`), else a side stream (the default stream
    cannot be captured). Warming up and capturing on the thread's own stream keeps every kernel of one
    group on a stream no other thread uses: PyTorch hands out its pooled streams in turn, so a side
    stream drawn here could be another thread's stream, and a capture would record that thread's work."""
    current = torch.cuda.current_stream()
    return torch.cuda.Stream() if current == torch.cuda.default_stream() else current


def resolve_cuda_graph(value: str | bool | None, device: torch.device, compile_mode: str = "off") -> bool:
    """Whether to capture the training step: ``value`` (``True``/``False`` or a word), else ``$DDLIB_CUDA_GRAPH``.

    ``auto`` (or unset, or empty) means on for CUDA, off elsewhere and off under a compile mode that graphs
    itself; ON words (``1``, ``on``, ...) on a device without CUDA fail naming the device."""
    name, word = switch_setting(value, "cuda_graph", "DDLIB_CUDA_GRAPH")
    if word == "off":
        return False
    usable = device.type == "cuda" and compile_mode not in GRAPHING_COMPILE_MODES
    if word == "auto":
        return usable
    if device.type != "cuda":
        raise ConfigError(f"{name}=on needs a CUDA device; training runs on {device.type}")
    if not usable:
        raise ConfigError(f"{name}=on cannot be combined with compile mode {compile_mode!r}, which records "
                          f"CUDA graphs itself; use compile mode 'default', 'max-autotune-no-cudagraphs' or 'off'")
    return True


class CudaGraphRecorder:
    """Records one call into a ``torch.cuda.CUDAGraph`` (on PyTorch's capture stream) and replays it.

    The capture checks only this thread's CUDA calls (``thread_local``), so that another thread of the
    process (a DataLoader's pin-memory thread, say) cannot break it."""

    def __init__(self):
        self.graph = torch.cuda.CUDAGraph()

    def capture(self, fn: Callable[[], torch.Tensor]) -> torch.Tensor:
        torch.cuda.synchronize()
        with torch.cuda.graph(self.graph, stream=_work_stream(), capture_error_mode="thread_local"):
            return fn()

    def replay(self) -> None:
        self.graph.replay()


def eager_step(step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]):
    """``step`` as the eager loop runs it: each call inside an eager section of :data:`CAPTURE_GUARD`, so that
    its first call on a new shape (cuDNN autotuning) cannot break another thread's capture."""
    def run(xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        with CAPTURE_GUARD.eager():
            return step(xb, idx)
    return run


class GraphedStep:
    """Calls ``step(xb, idx) -> loss`` eagerly :data:`WARMUP_STEPS` times, then captures it once and from
    then on replays it on copies of each step's ``xb`` and ``idx`` in static buffers.

    ``step`` must start by setting the gradients to ``None`` and must not synchronise with the host.
    The returned loss is the graph's static output: read it before the next call. ``recorder``
    (default :class:`CudaGraphRecorder`) is what captures and replays; the tests run the same
    bookkeeping on a CPU with a stand-in that records the step as a Python call. If the capture
    fails, a warning says why and the loop goes on eagerly (nothing ran during the failed capture).
    """

    def __init__(self, step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *,
                 recorder: Callable[[], object] = CudaGraphRecorder):
        self.step = step
        self._fallback = eager_step(step)  # after a failed capture: eager, guarded
        self.calls = 0
        self.graph = None
        self.failed = False
        self._recorder = recorder
        self._x = self._idx = self._loss = None

    def __call__(self, xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.graph is not None:
            self._x.copy_(xb)
            self._idx.copy_(idx)
            self.graph.replay()
            return self._loss
        if self.failed:
            return self._fallback(xb, idx)
        if self.calls <= WARMUP_STEPS:
            return self._eager(xb, idx)
        return self._capture_and_run(xb, idx)

    def _eager(self, xb, idx):
        """One eager step; on CUDA on a side stream (or the thread's own, :func:`_work_stream`), as PyTorch's
        notes ask for the steps before a capture."""
        with CAPTURE_GUARD.eager():
            if not xb.is_cuda:
                return self.step(xb, idx)
            side = _work_stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                loss = self.step(xb, idx)
            torch.cuda.current_stream().wait_stream(side)
            return loss

    def _capture_and_run(self, xb, idx):
        self._x, self._idx = xb.clone(), idx.clone()
        graph = self._recorder()
        try:
            with CAPTURE_GUARD.capture():
                self._loss = graph.capture(lambda: self.step(self._x, self._idx))
        except RuntimeError as err:  # e.g. an operation that synchronises; nothing was executed
            warnings.warn(f"CUDA graph capture of the training step failed, training on eagerly: {err}")
            self.failed = True
            self._x = self._idx = self._loss = None
            return self._fallback(xb, idx)
        self.graph = graph
        graph.replay()
        return self._loss
