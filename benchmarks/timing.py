"""Timing helpers shared by the benchmark scripts: the library's own training loop, timed after a warm-up."""
from __future__ import annotations

import time

import torch

from ddlib.config import TrainConfig
from ddlib.cuda_graph import WARMUP_STEPS, resolve_cuda_graph
from ddlib.train import Targets, train_ensemble
from ddlib.validation import ConfigError


def device_name(device: torch.device) -> str:
    """The card's name on CUDA, else e.g. ``"cpu (2 threads)"`` (the ``device`` column of the CSVs)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{device.type} ({torch.get_num_threads()} threads)"


def sync(device: torch.device) -> None:
    """Wait for queued device work (CUDA runs asynchronously; a clock read alone would not)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_training(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, order_seeds, *, steps: int,
                   warmup: int, batch_size: int, lr: float, compile_mode: str = "off",
                   cuda_graph: str | None = None) -> float:
    """Seconds of ``steps`` steps of :func:`ddlib.train.train_ensemble` (Adam) after ``warmup`` untimed ones,
    all in one call (one model, one optimiser state); ``x``, ``y`` on the training device. ``cuda_graph``:
    as :func:`ddlib.cuda_graph.resolve_cuda_graph` (its eager steps and the capture fall in the warm-up)."""
    device, members = x.device, len(order_seeds)
    if resolve_cuda_graph(cuda_graph, device, compile_mode) and warmup <= WARMUP_STEPS:
        raise ConfigError(f"warmup must exceed the CUDA graph's {WARMUP_STEPS} eager steps and its capture "
                          f"(at least {WARMUP_STEPS + 1}) so that only replays are timed; got {warmup}")
    cfg = TrainConfig(optimizer="adam", lr=lr, batch_size=batch_size, steps=warmup + steps)
    started = {}

    def start_clock(step):
        if step == warmup - 1:
            sync(device)
            started["t"] = time.perf_counter()

    train_ensemble(model, x, Targets(hard=y.expand(members, -1)), cfg, order_seeds=list(order_seeds),
                   on_step=start_clock, compile_mode=compile_mode, cuda_graph=cuda_graph)
    sync(device)
    return time.perf_counter() - started["t"]
