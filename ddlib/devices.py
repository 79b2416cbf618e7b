"""Choosing the torch device: ``"auto"`` means CUDA, else Apple MPS, else CPU."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import torch

from .paths import switch_setting
from .validation import ConfigError, one_of

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """Map a device name to a :class:`torch.device`, refusing ones that are not available."""
    one_of("device", name, DEVICES)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device='mps' was asked for but MPS is not available; use 'auto' or 'cpu'")
    return torch.device(name)


def resolve_cudnn_benchmark(value: str | bool | None, device: torch.device) -> bool:
    """Whether training lets cuDNN time its convolution algorithms and keep the fastest per shape
    (``torch.backends.cudnn.benchmark``): ``value`` (``True``/``False`` or a word), else
    ``$DDLIB_CUDNN_BENCHMARK``; ``auto`` (or unset) means on for CUDA. The throughput benchmarks
    measured with it on. A speed switch, not part of a run's hash; with it on, two GPU runs of the same
    config may pick different algorithms and so differ in the last bits."""
    word = switch_setting(value, "cudnn_benchmark", "DDLIB_CUDNN_BENCHMARK")[1]
    return device.type == "cuda" if word == "auto" else word == "on"


_AUTOTUNE = {"lock": threading.Lock(), "open": [], "previous": False}


@contextmanager
def cudnn_benchmark(enabled: bool):
    """Set ``torch.backends.cudnn.benchmark`` to ``enabled`` inside the block and restore it after.

    The flag is one per process. Blocks may overlap in threads (groups trained at once,
    :mod:`ddlib.concurrency`) or nest: the first to enter saves the process's setting and the last to
    leave restores it; a block that leaves while others are open sets the flag to the newest open
    block's value, so one thread's exit cannot switch autotuning off under another's loop, and a nested
    block hands back its outer block's value."""
    block = object()
    with _AUTOTUNE["lock"]:
        if not _AUTOTUNE["open"]:
            _AUTOTUNE["previous"] = torch.backends.cudnn.benchmark
        _AUTOTUNE["open"].append((block, enabled))
        torch.backends.cudnn.benchmark = enabled
    try:
        yield
    finally:
        with _AUTOTUNE["lock"]:
            _AUTOTUNE["open"] = [b for b in _AUTOTUNE["open"] if b[0] is not block]
            torch.backends.cudnn.benchmark = (_AUTOTUNE["open"][-1][1] if _AUTOTUNE["open"]
                                              else _AUTOTUNE["previous"])
