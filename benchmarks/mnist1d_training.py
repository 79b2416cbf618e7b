"""Training speed on MNIST-1D: ddlib's batched ensembles against a plain PyTorch baseline, in one run.

Baseline: the idiomatic loop, one model per seed, ``torch.nn`` layers, a ``DataLoader`` over a
``TensorDataset`` (shuffle, batch size as ours), Adam. Ours: :func:`ddlib.train.train_ensemble`,
all seeds as one ensemble, data on the device, batches indexed there. Both do the same number
of optimisation steps per seed; we report steps·seeds per second and the ratio.

    python benchmarks/mnist1d_training.py --widths 4 16 64 --seeds 3 --steps 300
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo's ddlib, installed or not

from ddlib import DataConfig, TrainConfig, build_model, load_data, resolve_device  # noqa: E402
from ddlib.train import Targets, train_ensemble  # noqa: E402


def plain_model(name: str, width: int) -> nn.Module:
    if name == "mlp":
        return nn.Sequential(nn.Linear(40, width), nn.ReLU(), nn.Linear(width, 10))
    return nn.Sequential(nn.Unflatten(1, (1, 40)),
                         nn.Conv1d(1, width, 5, 2, 2), nn.ReLU(), nn.Conv1d(width, width, 5, 2, 2), nn.ReLU(),
                         nn.Conv1d(width, width, 5, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(width * 5, 10))


def baseline(name, width, seeds, steps, batch, x, y, device) -> float:
    start = time.perf_counter()
    for seed in range(seeds):
        torch.manual_seed(seed)
        model = plain_model(name, width).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True, drop_last=True)
        done = 0
        while done < steps:
            for xb, yb in loader:
                xb, yb = xb.to(device), yb.to(device)
                loss = nn.functional.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                done += 1
                if done == steps:
                    break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def ours(name, width, seeds, steps, batch, x, y, device) -> float:
    start = time.perf_counter()
    model = build_model(name, width, (40,), 10, seeds=list(range(seeds))).to(device)
    xd, yd = x.to(device), y.to(device)
    train_ensemble(model, xd, Targets(hard=yd.expand(seeds, -1)), TrainConfig(steps=steps, batch_size=batch),
                   order_seeds=list(range(seeds)))
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="cnn1d", choices=["mlp", "cnn1d"])
    ap.add_argument("--widths", type=int, nargs="+", default=[4, 16, 64])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave torch's default)")
    ap.add_argument("--synthetic", action="store_true",
                    help="random inputs of MNIST-1D's shape instead of generated MNIST-1D (no mnist1d package needed)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if args.synthetic:
        g = torch.Generator().manual_seed(0)
        x, y = torch.randn(1000, 40, generator=g), torch.randint(0, 10, (1000,), generator=g)
    else:
        data = load_data(DataConfig(n_train=1000, n_test=100, label_noise=0.2))
        x, y = data.x_train, data.y_train
    print(f"device {device}, torch threads {torch.get_num_threads()}, model {args.model}, "
          f"{args.seeds} seeds x {args.steps} steps, batch {args.batch_size}")
    print(f"{'width':>6} {'baseline s':>11} {'ours s':>8} {'baseline steps/s':>17} {'ours steps/s':>13} {'ratio':>6}")
    for w in args.widths:
        ours(args.model, w, args.seeds, 5, args.batch_size, x, y, device)  # warm-up
        tb = baseline(args.model, w, args.seeds, args.steps, args.batch_size, x, y, device)
        to = ours(args.model, w, args.seeds, args.steps, args.batch_size, x, y, device)
        n = args.seeds * args.steps
        print(f"{w:>6} {tb:>11.2f} {to:>8.2f} {n / tb:>17.0f} {n / to:>13.0f} {tb / to:>6.2f}")


if __name__ == "__main__":
    main()
