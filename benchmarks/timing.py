"""Timing helpers shared by the benchmark scripts: the library's own training loop, timed after a warm-up."""
from __future__ import annotations

import threading
import time
from concurrent.futures import Executor

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
    _check_warmup(warmup, device, compile_mode, cuda_graph)
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


def _check_warmup(warmup: int, device: torch.device, compile_mode: str, cuda_graph: str | None) -> None:
    if resolve_cuda_graph(cuda_graph, device, compile_mode) and warmup <= WARMUP_STEPS:
        raise ConfigError(f"warmup must exceed the CUDA graph's {WARMUP_STEPS} eager steps and its capture "
                          f"(at least {WARMUP_STEPS + 1}) so that only replays are timed; got {warmup}")


def timed_together(runs, x: torch.Tensor, y: torch.Tensor, executor: Executor, *, steps: int, warmup: int,
                   batch_size: int, lr: float, cuda_graph: str | None = None) -> float:
    """Seconds for every ``(model, order_seeds)`` of ``runs`` to train ``steps`` steps at once, each in
    :func:`ddlib.train.train_ensemble` in its own thread of ``executor`` (at least ``len(runs)`` workers,
    e.g. :func:`ddlib.concurrency.stream_executor`). The clock starts once every run has finished its
    ``warmup`` untimed steps (captures included; each waits for its own stream, then at a barrier) and
    stops when the last run's work is done."""
    device = x.device
    _check_warmup(warmup, device, "off", cuda_graph)
    ready = threading.Barrier(len(runs) + 1, timeout=900)
    cfg = TrainConfig(optimizer="adam", lr=lr, batch_size=batch_size, steps=warmup + steps)

    def own_stream_done():
        if device.type == "cuda":
            torch.cuda.current_stream(device).synchronize()

    def train(model, order_seeds):
        def wait_for_the_others(step):
            if step == warmup - 1:
                own_stream_done()
                ready.wait()

        try:
            train_ensemble(model, x, Targets(hard=y.expand(len(order_seeds), -1)), cfg, order_seeds=list(order_seeds),
                           on_step=wait_for_the_others, compile_mode="off", cuda_graph=cuda_graph)
            own_stream_done()
        except BaseException:
            ready.abort()  # the main thread and the other runs stop waiting
            raise

    futures = [executor.submit(train, model, seeds) for model, seeds in runs]
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        for f in futures:
            f.result()  # raises the run's own error
        raise
    started = time.perf_counter()
    for f in futures:
        f.result()
    return time.perf_counter() - started


def timed_chapter_sweeps(preset: str, device: torch.device, settings: dict[str, dict]) -> tuple[int, dict[str, float]]:
    """The double-descent chapter's sweep at ``preset`` (data, training, evaluation, storing), timed through
    :func:`ddlib.run_configs` once per entry of ``settings`` (label -> keyword arguments), each into a fresh
    temporary store, after an untimed warm-up (the data made and cached, the first setting run once on a
    one-step copy of the sweep), so that one-time costs do not land on whichever setting comes first.
    Returns the number of runs and the seconds per label (also printed as they come)."""
    import dataclasses
    import tempfile

    from ddlib import ResultStore, load_data, run_configs
    from ddlib.chapters import double_descent as dd

    configs = dd.sweep_configs(dd.resolve_params(preset, device=device.type))
    print(f"device: {device_name(device)} | torch {torch.__version__} | double-descent {preset} sweep, {len(configs)} runs, "
          f"widths {sorted({c.width for c in configs})}", flush=True)
    first = next(iter(settings.values()))
    for data in {c.data for c in configs}:
        load_data(data, device=device)
    with tempfile.TemporaryDirectory() as root:
        run_configs([dataclasses.replace(c, train=dataclasses.replace(c.train, steps=1)) for c in configs],
                    store=ResultStore(root), device=device.type, progress=False, **first)
    seconds = {}
    for label, kwargs in settings.items():
        with tempfile.TemporaryDirectory() as root:
            started = time.perf_counter()
            run_configs(configs, store=ResultStore(root), device=device.type, progress=False, **kwargs)
            seconds[label] = time.perf_counter() - started
        print(f"{label}: {seconds[label]:.1f} s", flush=True)
    return len(configs), seconds
