"""Groups at once: independent models trained each in its own thread on its own CUDA stream, against the
same models trained one after another, in one run.

For each set of widths (``--widths 24,32 48,64 64,64,64,64``; a width may repeat: each copy gets its
own seeds) it trains ``--seeds`` seeds per entry, one ensemble per entry as
:func:`ddlib.runner.run_configs` groups the widths too wide to pad together, through
:func:`ddlib.train.train_ensemble` (Adam, ``--steps`` timed steps after ``--warmup`` untimed ones, the
library's default loop: on CUDA the whole step as a CUDA graph), two ways:

* **one after another**: the sum of each entry's own timed training;
* **at once**: every entry in its own thread of :func:`ddlib.concurrency.stream_executor`, as
  ``run_configs(concurrent_groups=...)`` trains groups; the clock starts when all have finished their
  warm-up and stops when the last has finished.

It prints both times, ``ratio = one after another / at once`` (above 1: training the groups at once
pays), the images per second of all entries together and, for the CIFAR models, their TFLOP/s and the
model FLOP utilisation ``3 * sum_i F(k_i) * images_i / seconds / peak`` (forward FLOPs ``F`` from
:func:`ddlib.vision_models.vision_forward_flops`; ``--peak-tflops``, default 989 = H100 bf16 dense, on
CUDA only). Data: synthetic uint8 images of CIFAR's shape for the CIFAR models (augmented on the device
as always), the book's MNIST-1D for the others. No download. On a CPU the threads share the cores torch
already uses, so expect no gain there; the script runs there so that its tests can. Example (GPU)::

    python benchmarks/concurrent_groups.py --widths 17,18,19,20 32,32,32,32 61,62,63,64 64,64,64,64 \\
        --csv benchmarks/results/concurrent-groups/gpu-resnet18-h100.csv

``--chapter-sweep`` instead times the double-descent chapter's whole sweep (``--chapter-preset``,
default ``default``: data, training, evaluation, storing) through :func:`ddlib.run_configs` with
``concurrent_groups=1`` and ``--workers`` (default 2), into temporary stores; its ``--csv`` goes to
its own folder (``benchmarks/results/concurrent-groups/chapter-sweep/``), as its columns differ.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ddlib.concurrency import stream_executor  # noqa: E402
from ddlib.cuda_graph import resolve_cuda_graph  # noqa: E402
from ddlib.devices import resolve_device  # noqa: E402
from ddlib.models import IMAGE_MODELS, build_model, to_device  # noqa: E402
from ddlib.vision_models import vision_forward_flops  # noqa: E402
from ddlib.width_batching import width_batch_limit  # noqa: E402
from timing import compare_chapter_sweeps, device_name, peak_tflops, timed_together, timed_training  # noqa: E402
from width_batching import training_data  # noqa: E402
from width_set_options import add_width_set_options, check_width_set_options, csv_settings, run_header  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_width_set_options(p, model="resnet18", widths=[[24, 32], [48, 64]], distinct=False,
                          widths_help="width sets, each comma-separated; each width of a set is one group",
                          seeds=1, seeds_help="seeds per group (one ensemble)", steps=100, lr=1e-4)
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="peak dense TFLOP/s for MFU (default 989 = H100 bf16 on CUDA; no MFU elsewhere)")
    p.add_argument("--chapter-sweep", action="store_true",
                   help="time the double-descent chapter's sweep one group at a time and --workers at once")
    p.add_argument("--workers", type=int, default=2, help="groups at once for --chapter-sweep")
    p.add_argument("--chapter-preset", default="default", help="the preset whose sweep --chapter-sweep times")
    args = p.parse_args(argv)
    check_width_set_options(p, args)
    if args.workers < 2:
        p.error(f"--workers must be >= 2 (groups at once); got {args.workers}")
    return args


def measure(args, widths, data, device, peak) -> dict:
    """Seconds for the groups of ``widths`` one after another and at once, and what they did together."""
    x, y, shape, classes = data
    seeds = [[copy * args.seeds + s for s in range(args.seeds)] for copy in range(len(widths))]
    kw = dict(steps=args.steps, warmup=args.warmup, batch_size=args.batch_size, lr=args.lr)

    def model(width, group_seeds):
        return to_device(build_model(args.model, width, shape, classes, group_seeds), args.model, device)

    alone_outcomes = [{} for _ in widths]
    alone = sum(timed_training(model(w, s), x, y, s, outcome=out, **kw) for w, s, out in zip(widths, seeds, alone_outcomes))
    together_outcomes = []
    with stream_executor(len(widths), device) as pool:
        together = timed_together([(model(w, s), s) for w, s in zip(widths, seeds)], x, y, pool,
                                  outcomes=together_outcomes, **kw)
    images = args.steps * args.batch_size * args.seeds
    row = {"widths": ",".join(map(str, widths)), "groups": len(widths), "alone_s": alone, "together_s": together,
           "ratio": alone / together, "images_per_s_together": images * len(widths) / together,
           # how the steps actually ran (a failed capture falls back to eager with only a warning)
           "step_loop_alone": _loops(alone_outcomes), "step_loop_together": _loops(together_outcomes)}
    if args.model in IMAGE_MODELS:
        flop = 3 * sum(vision_forward_flops(args.model, w, classes) for w in widths) * images
        row["tflops_together"] = flop / together / 1e12
        row["mfu_together"] = row["tflops_together"] / peak if peak else None
    return row


def time_chapter_sweep(args, device) -> None:
    """Seconds of the double-descent chapter's sweep, one group at a time vs ``--workers`` groups at once."""
    compare_chapter_sweeps(args.chapter_preset, device,
                           ("concurrent_groups=1", dict(concurrent_groups=1), "one_at_a_time_s"),
                           (f"concurrent_groups={args.workers}", dict(concurrent_groups=args.workers), "at_once_s"),
                           args.csv, {"workers": args.workers,
                                      "width_batch": width_batch_limit(device)})  # run_configs' default, in both


def _loops(outcomes: list[dict]) -> str:
    """The distinct ``step_loop`` values of some runs, e.g. ``"cuda graph"`` or ``"cuda graph; eager, capture failed"``."""
    return "; ".join(sorted({o["step_loop"] for o in outcomes}))


def main(argv=None):
    args = parse_args(argv)
    device = resolve_device(args.device)
    if args.chapter_sweep:
        return time_chapter_sweep(args, device)
    peak = peak_tflops(args.peak_tflops, device)
    name, graph = device_name(device), resolve_cuda_graph(None, device)
    data = training_data(args, device)
    print(run_header(args, name, graph, "group"), flush=True)
    head = (f"{'widths':>24} {'groups':>6} {'alone s':>8} {'at once s':>9} {'ratio':>6} {'images/s':>10}"
            + (f" {'TFLOP/s':>8} {'MFU':>7}" if peak else ""))
    print(head + "\n" + "-" * len(head), flush=True)
    rows = []
    for widths in args.widths:
        row = measure(args, widths, data, device, peak)
        rows.append(row)
        print(f"{row['widths']:>24} {row['groups']:>6} {row['alone_s']:>8.2f} {row['together_s']:>9.2f} "
              f"{row['ratio']:>6.2f} {row['images_per_s_together']:>10.0f}"
              + (f" {row['tflops_together']:>8.1f} {row['mfu_together']:>7.2%}" if peak else ""), flush=True)
        write_csv(args, rows, name, graph, peak)


def write_csv(args, rows, name, graph: bool, peak) -> None:
    """Write the rows so far to ``--csv`` (after every measurement: a run cut short keeps what it measured)."""
    if not args.csv:
        return
    import pandas as pd

    meta = {**csv_settings(args, name, graph), "peak_tflops": peak}
    os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
    pd.DataFrame([{**meta, **r} for r in rows]).to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
