"""The command-line options shared by the benchmarks that time sets of widths (``width_batching.py``,
``concurrent_groups.py``): the sets themselves, the model, the training recipe and the device; and how
both describe a run (the printed header, the settings columns of their CSVs)."""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo's ddlib, installed or not

from ddlib.models import IMAGE_MODELS, MODELS  # noqa: E402


def width_sets(distinct: bool):
    """An argparse ``type`` for one comma-separated set of at least two widths >= 1 (``distinct``: no repeats)."""
    def parse(text: str) -> list[int]:
        try:
            widths = [int(w) for w in text.split(",") if w.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"widths must be comma-separated integers, e.g. 2,4,8; got {text!r}") from None
        if len(widths) < 2 or min(widths) < 1 or (distinct and len(set(widths)) != len(widths)):
            kind = "distinct widths" if distinct else "widths"
            raise argparse.ArgumentTypeError(f"each width set needs at least two {kind} >= 1; got {text!r}")
        return widths
    return parse


def add_width_set_options(p: argparse.ArgumentParser, *, model: str, widths, distinct: bool, widths_help: str,
                          seeds: int, seeds_help: str, steps: int, lr: float) -> None:
    """``--model --widths --seeds --steps --warmup --batch-size --n-train --lr --device --csv`` with these defaults."""
    p.add_argument("--model", choices=MODELS, default=model)
    p.add_argument("--widths", type=width_sets(distinct), nargs="+", default=widths, help=widths_help)
    p.add_argument("--seeds", type=int, default=seeds, help=seeds_help)
    p.add_argument("--steps", type=int, default=steps, help="timed steps per measurement")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first; >= 1 (more than the graph's 3 on CUDA)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--n-train", type=int, default=1000, help="training set size")
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--csv", default=None, help="also write the table (with date and device) to this CSV")


def check_width_set_options(p: argparse.ArgumentParser, args) -> None:
    """Refuse counts below 1 and a batch larger than the training set, naming the option."""
    for name in ("seeds", "steps", "warmup", "batch_size", "n_train"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")
    if args.batch_size > args.n_train:
        p.error(f"--batch-size ({args.batch_size}) must not exceed --n-train ({args.n_train})")


def run_header(args, device_name: str, graph: bool, per: str) -> str:
    """The first printed line: card, torch, model, seeds ``per`` width or group, batch, steps, data, graph."""
    data = "synthetic CIFAR-shaped" if args.model in IMAGE_MODELS else "MNIST-1D"
    return (f"device: {device_name} | torch {torch.__version__} | model {args.model} | {args.seeds} seed(s) per {per} | "
            f"batch {args.batch_size} | {args.steps} timed steps after {args.warmup} warm-up | data {data} "
            f"n={args.n_train} | CUDA graph {'on' if graph else 'off'}")


def csv_settings(args, device_name: str, graph: bool) -> dict:
    """The settings columns every row of such a benchmark's CSV carries."""
    return {"date": time.strftime("%Y-%m-%d"), "device": device_name, "torch": torch.__version__, "model": args.model,
            "seeds": args.seeds, "batch_size": args.batch_size, "timed_steps": args.steps, "n_train": args.n_train,
            "data": "synthetic" if args.model in IMAGE_MODELS else "mnist1d", "cuda_graph": graph}
