"""Timing helpers shared by the benchmark scripts: the library's own training loop, timed after a warm-up."""
from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
import time
from concurrent.futures import Executor

import torch

from ddlib import ResultStore, load_data, run_configs
from ddlib.chapters import double_descent as dd
from ddlib.config import TrainConfig
from ddlib.cuda_graph import WARMUP_STEPS, resolve_cuda_graph
from ddlib.roofline import H100_SXM
from ddlib.train import Targets, train_ensemble
from ddlib.validation import ConfigError


def device_name(device: torch.device) -> str:
    """The card's name on CUDA, else e.g. ``"cpu (2 threads)"`` (the ``device`` column of the CSVs)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{device.type} ({torch.get_num_threads()} threads)"


#: Dense bf16 peak of an H100 SXM in TFLOP/s (:data:`ddlib.roofline.H100_SXM`), the MFU denominator on CUDA by default.
H100_BF16_PEAK_TFLOPS = H100_SXM.peak_tflops


def peak_tflops(given: float | None, device: torch.device) -> float | None:
    """The peak for MFU: ``given`` (``--peak-tflops``), else :data:`H100_BF16_PEAK_TFLOPS` on CUDA, else none."""
    return given if given else (H100_BF16_PEAK_TFLOPS if device.type == "cuda" else None)


def sync(device: torch.device) -> None:
    """Wait for queued device work (CUDA runs asynchronously; a clock read alone would not)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_training(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, order_seeds, *, steps: int,
                   warmup: int, batch_size: int, lr: float, compile_mode: str = "off",
                   cuda_graph: str | None = None, outcome: dict | None = None) -> float:
    """Seconds of ``steps`` steps of :func:`ddlib.train.train_ensemble` (Adam) after ``warmup`` untimed ones,
    all in one call (one model, one optimiser state); ``x``, ``y`` on the training device. ``cuda_graph``:
    as :func:`ddlib.cuda_graph.resolve_cuda_graph` (its eager steps and the capture fall in the warm-up).
    ``outcome``: filled as ``train_ensemble`` fills it (``step_loop``: how the steps actually ran)."""
    device, members = x.device, len(order_seeds)
    _check_warmup(warmup, device, compile_mode, cuda_graph)
    cfg = TrainConfig(optimizer="adam", lr=lr, batch_size=batch_size, steps=warmup + steps)
    started = {}

    def start_clock(step):
        if step == warmup - 1:
            sync(device)
            started["t"] = time.perf_counter()

    train_ensemble(model, x, Targets(hard=y.expand(members, -1)), cfg, order_seeds=list(order_seeds),
                   on_step=start_clock, compile_mode=compile_mode, cuda_graph=cuda_graph, outcome=outcome,
                   mean_std="cifar10")  # CIFAR's shape for the image models (unused for float inputs)
    sync(device)
    return time.perf_counter() - started["t"]


def _check_warmup(warmup: int, device: torch.device, compile_mode: str, cuda_graph: str | None) -> None:
    """Refuse a warm-up that would put the graph's eager steps or its capture inside the timed steps."""
    if resolve_cuda_graph(cuda_graph, device, compile_mode) and warmup <= WARMUP_STEPS:
        raise ConfigError(f"warmup must exceed the CUDA graph's {WARMUP_STEPS} eager steps and its capture "
                          f"(at least {WARMUP_STEPS + 1}) so that only replays are timed; got {warmup}")


def timed_together(runs, x: torch.Tensor, y: torch.Tensor, executor: Executor, *, steps: int, warmup: int,
                   batch_size: int, lr: float, cuda_graph: str | None = None,
                   outcomes: list[dict] | None = None) -> float:
    """Seconds for every ``(model, order_seeds)`` of ``runs`` to train ``steps`` steps at once, each in
    :func:`ddlib.train.train_ensemble` in its own thread of ``executor`` (at least ``len(runs)`` workers,
    e.g. :func:`ddlib.concurrency.stream_executor`). The models and data are made ready on the device first
    (the workers' streams do not wait for the default stream). The clock starts once every run has finished
    its ``warmup`` untimed steps (captures included; each waits for its own stream, then at a barrier) and
    stops when the last run's work is done. ``outcomes``: filled with each run's ``train_ensemble`` outcome."""
    device = x.device
    _check_warmup(warmup, device, "off", cuda_graph)
    workers = getattr(executor, "_max_workers", len(runs))
    if workers < len(runs):
        raise ConfigError(f"timed_together needs a worker per run: {len(runs)} runs, {workers} workers")
    ready = threading.Barrier(len(runs) + 1, timeout=900)
    cfg = TrainConfig(optimizer="adam", lr=lr, batch_size=batch_size, steps=warmup + steps)
    outcomes = outcomes if outcomes is not None else []
    outcomes[:] = [{} for _ in runs]

    def own_stream_done():
        if device.type == "cuda":
            torch.cuda.current_stream(device).synchronize()

    def train(model, order_seeds, outcome):
        def wait_for_the_others(step):
            if step == warmup - 1:
                own_stream_done()
                ready.wait()

        try:
            train_ensemble(model, x, Targets(hard=y.expand(len(order_seeds), -1)), cfg, order_seeds=list(order_seeds),
                           on_step=wait_for_the_others, compile_mode="off", cuda_graph=cuda_graph, outcome=outcome,
                           mean_std="cifar10")
            own_stream_done()
        except BaseException:
            ready.abort()  # the main thread and the other runs stop waiting
            raise

    sync(device)
    futures = [executor.submit(train, model, seeds, out) for (model, seeds), out in zip(runs, outcomes)]
    try:
        ready.wait()
    except threading.BrokenBarrierError:  # a run failed: raise its own error, not another run's broken wait
        errors = [f.exception() for f in futures]
        raise next((e for e in errors if e is not None and not isinstance(e, threading.BrokenBarrierError)),
                   errors[0]) from None
    except BaseException:  # e.g. Ctrl-C here: the runs stop waiting for the clock
        ready.abort()
        raise
    started = time.perf_counter()
    for f in futures:
        f.result()
    return time.perf_counter() - started


def timed_chapter_sweeps(preset: str, device: torch.device, settings: dict[str, dict]) -> tuple[int, dict[str, float]]:
    """The double-descent chapter's sweep at ``preset`` (data, training, evaluation, storing), timed through
    :func:`ddlib.run_configs` once per entry of ``settings`` (label -> keyword arguments), each into a fresh
    temporary store, after an untimed warm-up (the data made and cached, every setting run once on a copy of
    the sweep with just enough steps to capture the CUDA graph), so that one-time costs (data, kernels and
    algorithms for each setting's shapes) do not land on whichever setting comes first.
    Returns the number of runs and the seconds per label (also printed as they come)."""
    configs = dd.sweep_configs(dd.resolve_params(preset, device=device.type))
    print(f"device: {device_name(device)} | torch {torch.__version__} | double-descent {preset} sweep, {len(configs)} runs, "
          f"widths {sorted({c.width for c in configs})}", flush=True)
    for data in {c.data for c in configs}:
        load_data(data, device=device)
    short = [dataclasses.replace(c, train=dataclasses.replace(c.train, steps=WARMUP_STEPS + 1)) for c in configs]
    for kwargs in settings.values():
        with tempfile.TemporaryDirectory() as root:
            run_configs(short, store=ResultStore(root), device=device.type, progress=False, **kwargs)
    seconds = {}
    for label, kwargs in settings.items():
        with tempfile.TemporaryDirectory() as root:
            started = time.perf_counter()
            run_configs(configs, store=ResultStore(root), device=device.type, progress=False, **kwargs)
            seconds[label] = time.perf_counter() - started
        print(f"{label}: {seconds[label]:.1f} s", flush=True)
    return len(configs), seconds


def compare_chapter_sweeps(preset: str, device: torch.device, base: tuple[str, dict, str], other: tuple[str, dict, str],
                           csv: str | None, extra: dict) -> None:
    """Time the chapter sweep two ways (:func:`timed_chapter_sweeps`), each given as ``(label, run_configs
    keyword arguments, CSV column for its seconds)``, print ``ratio = base / other`` and, with ``csv``, write
    one row: date, device, torch, sweep, runs, ``extra`` (the settings), both seconds and the ratio."""
    runs, seconds = timed_chapter_sweeps(preset, device, {base[0]: base[1], other[0]: other[1]})
    ratio = seconds[base[0]] / seconds[other[0]]
    print(f"ratio ({base[0]} / {other[0]}): {ratio:.2f}")
    if csv:
        import pandas as pd

        os.makedirs(os.path.dirname(os.path.abspath(csv)), exist_ok=True)
        pd.DataFrame([{"date": time.strftime("%Y-%m-%d"), "device": device_name(device), "torch": torch.__version__,
                       "sweep": f"double-descent {preset}", "runs": runs, **extra,
                       base[2]: seconds[base[0]], other[2]: seconds[other[0]], "ratio": ratio}]).to_csv(csv, index=False)
