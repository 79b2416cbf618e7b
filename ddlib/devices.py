"""Choosing the torch device: ``"auto"`` means CUDA, else Apple MPS, else CPU."""
from __future__ import annotations

import torch

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
