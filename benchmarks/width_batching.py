"""Width batching: a sweep's small widths trained one ensemble per width vs one zero-padded ensemble.

For each set of widths (``--widths 2,4,8 2,4,8,12,16``) it trains ``--seeds`` seeds at every width
two ways, in one process, through :func:`ddlib.train.train_ensemble` (Adam, ``--steps`` timed steps
after ``--warmup`` untimed ones, the same batch size):

* **separate**: one ensemble per width, its seeds grouped, as :func:`ddlib.runner.run_configs` does
  with ``width_batch=0``; the time is the sum over widths;
* **padded**: all widths and seeds as one ensemble of the widest width
  (:func:`ddlib.width_batching.build_for_widths`), as ``run_configs`` does for widths up to
  ``width_batch``.

It prints both times and ``ratio = separate / padded`` (above 1: batching the widths pays), and
``padding_overhead = members * params(W) / sum_i params(w_i)``, the extra arithmetic that padding
buys (parameters as a proxy for FLOPs). Data: MNIST-1D models (``mlp``, ``cnn1d``) train on the
book's MNIST-1D training set (generated offline, ``--n-train`` examples); image models
(``resnet18``, ``cnn5``) on synthetic uint8 images of CIFAR's shape (augmented on the device as
always). No download. Example (CPU, the book's default cnn1d setting, ~2 minutes)::

    PYTHONPATH=. python benchmarks/width_batching.py --model cnn1d --widths 2,4,8 2,4,8,12,16 2,4,8,12,16,24,32

``--chapter-sweep`` instead times the double-descent chapter's whole ``default`` sweep (data, training,
evaluation, storing) through :func:`ddlib.run_configs` twice, into two temporary stores: with
``width_batch=0`` and with ``--width-batch`` (default :data:`ddlib.width_batching.CPU_WIDTH_BATCH`);
its ``--csv`` goes to its own folder (``benchmarks/results/width-batching/chapter-sweep/``), as its
columns differ::

    PYTHONPATH=. python benchmarks/width_batching.py --chapter-sweep \
        --csv benchmarks/results/width-batching/chapter-sweep/cpu-double-descent.csv
"""
from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ddlib.cuda_graph import resolve_cuda_graph  # noqa: E402
from ddlib.data import DataConfig, load_data  # noqa: E402
from ddlib.devices import resolve_device  # noqa: E402
from ddlib.models import IMAGE_MODELS, build_model, count_params, to_device  # noqa: E402
from ddlib.width_batching import CPU_WIDTH_BATCH, build_for_widths  # noqa: E402
from timing import compare_chapter_sweeps, device_name, timed_training  # noqa: E402
from width_set_options import add_width_set_options, check_width_set_options, csv_settings, run_header  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_width_set_options(p, model="cnn1d", widths=[[2, 4, 8], [2, 4, 8, 12, 16]], distinct=True,
                          widths_help="width sets, each comma-separated", seeds=3, seeds_help="seeds per width",
                          steps=300, lr=1e-3)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--chapter-sweep", action="store_true",
                   help="time the double-descent chapter's default sweep without and with width batching")
    p.add_argument("--width-batch", type=int, default=CPU_WIDTH_BATCH, help="the limit --chapter-sweep tries")
    p.add_argument("--chapter-preset", default="default", help="the preset whose sweep --chapter-sweep times")
    args = p.parse_args(argv)
    check_width_set_options(p, args)
    return args


def training_data(args, device):
    """(inputs, labels, input shape, classes) on ``device``: MNIST-1D, or synthetic CIFAR-shaped images."""
    if args.model in IMAGE_MODELS:
        g = torch.Generator().manual_seed(0)
        x = torch.randint(0, 256, (args.n_train, 3, 32, 32), dtype=torch.uint8, generator=g)
        return x.to(device), torch.randint(0, 10, (args.n_train,), generator=g).to(device), (3, 32, 32), 10
    d = load_data(DataConfig(n_train=args.n_train, n_test=100), device=device)
    return d.x_train, d.y_train, d.input_shape, d.num_classes


def measure(args, widths, data, device) -> dict:
    """Seconds for ``widths`` x ``--seeds`` trained separately (per width) and as one padded ensemble."""
    x, y, shape, classes = data
    seeds = list(range(args.seeds))
    kw = dict(steps=args.steps, warmup=args.warmup, batch_size=args.batch_size, lr=args.lr)
    separate = sum(timed_training(to_device(build_model(args.model, w, shape, classes, seeds), args.model, device),
                                  x, y, seeds, **kw) for w in widths)
    all_widths = [w for w in widths for _ in seeds]
    member_seeds = seeds * len(widths)
    padded_model = to_device(build_for_widths(args.model, all_widths, shape, classes, member_seeds), args.model, device)
    padded = timed_training(padded_model, x, y, member_seeds, **kw)
    overhead = len(all_widths) * count_params(args.model, max(widths), shape, classes) / sum(
        count_params(args.model, w, shape, classes) for w in all_widths)
    return {"widths": ",".join(map(str, widths)), "members": len(all_widths), "separate_s": separate,
            "padded_s": padded, "ratio": separate / padded, "padding_overhead": overhead}


def time_chapter_sweep(args, device) -> None:
    """Seconds of the double-descent chapter's default sweep, one width per group vs widths batched."""
    compare_chapter_sweeps(args.chapter_preset, device, ("width_batch=0", dict(width_batch=0), "unbatched_s"),
                           (f"width_batch={args.width_batch}", dict(width_batch=args.width_batch), "batched_s"),
                           args.csv, {"width_batch": args.width_batch})


def main(argv=None):
    args = parse_args(argv)
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.chapter_sweep:
        return time_chapter_sweep(args, device)
    # $DDLIB_CUDA_GRAPH, else on for CUDA; cuDNN autotuning is train_ensemble's own ($DDLIB_CUDNN_BENCHMARK)
    name, graph = device_name(device), resolve_cuda_graph(None, device)
    data = training_data(args, device)
    print(run_header(args, name, graph, "width"), flush=True)
    head = f"{'widths':>24} {'members':>7} {'separate s':>10} {'padded s':>9} {'ratio':>6} {'padding':>8}"
    print(head + "\n" + "-" * len(head), flush=True)
    rows = []
    for widths in args.widths:
        row = measure(args, widths, data, device)
        rows.append(row)
        print(f"{row['widths']:>24} {row['members']:>7} {row['separate_s']:>10.2f} {row['padded_s']:>9.2f} "
              f"{row['ratio']:>6.2f} {row['padding_overhead']:>7.2f}x", flush=True)
        write_csv(args, rows, name, graph)


def write_csv(args, rows, name, graph: bool) -> None:
    """Write the rows so far to ``--csv`` (after every measurement: a run cut short keeps what it measured)."""
    if not args.csv:
        return
    import pandas as pd

    meta = csv_settings(args, name, graph)
    pd.DataFrame([{**meta, **r} for r in rows]).to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
