"""Training throughput (images/s) of ddlib's CIFAR pipeline against an idiomatic DataLoader pipeline.

For each width ``k`` it trains the same model family, batch size, optimiser (Adam) and precision
two ways, in one process:

* **ours**: :func:`ddlib.train.train_ensemble` itself, the loop every chapter runs: the uint8
  images ``(n, 3, 32, 32)`` live on the device; each step takes indices ``(members, batch)``
  from per-member epoch permutations, gathers ``x[idx]`` there and runs
  :func:`ddlib.cifar.augment_members` (crop with 4-pixel zero padding, flip, normalisation, each
  member with its own generator) as whole-batch tensor ops; the model is
  :func:`ddlib.vision_models.build_vision_model` (an ensemble of ``members`` seeds as grouped
  convolutions); bf16 autocast + channels_last on CUDA; ``--compile-mode`` picks a
  ``torch.compile`` mode (default off); ``--cuda-graph off on`` measures the loop without and with
  its whole step recorded as one CUDA graph (:mod:`ddlib.cuda_graph`; default: the library's
  default, on for CUDA). ``--members 1 8`` measures one model and 8 seeds grouped against the same
  baseline, in one run. ``--channel-align 1 8`` also measures each width whose stage channels are not
  all multiples of 8 with them rounded up to multiples of 8, zero-padded (:mod:`ddlib.channel_alignment`:
  the same model up to rounding, in wider tensors; images/s still count the unpadded model's FLOPs).
* **baseline**: a single ``nn.Module`` fed by ``torch.utils.data.DataLoader`` over a
  torchvision-style dataset (``torchvision.datasets.CIFAR10.__getitem__``: PIL image +
  ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip()``, ``ToTensor()``, ``Normalize``),
  ``--num-workers`` worker processes, pinned memory on CUDA, each batch copied to the device.

Images/s counts member-images (``members * batch`` per step for ours): with several seeds to
train, as in a sweep, that is the rate that sets the sweep's cost. Achieved TFLOP/s is
``3 * F * images/s`` with ``F`` the model's forward FLOPs per image (2 per multiply-add; the
backward pass costs about twice the forward); MFU is that over ``--peak-tflops`` (default 989,
H100 SXM dense bf16). The sweep projection charges ``epochs * train_size * seeds`` images for
every ``k`` in ``1..--sweep-k-max`` at the seconds per image interpolated linearly in
``(log k, log s)`` between measured widths (held flat below the smallest; above the largest,
scaled by FLOPs, an upper bound). On the CPU, compute uses ``cores - workers`` threads (at least 1)
unless ``--threads`` says otherwise, so the baseline's workers do not oversubscribe the cores.

The data are synthetic random uint8 images of CIFAR's shape (no download) unless ``--data-root``
names a folder holding ``cifar-10-batches-py``. Example (CPU, ~2 minutes)::

    PYTHONPATH=. python benchmarks/train_throughput.py --k 1 4 --members 1 4 --steps 20 --batch-size 64
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ddlib import sweep_cost  # noqa: E402
from ddlib.channel_alignment import stage_channels  # noqa: E402
from ddlib.cifar import CIFAR10_MEAN, CIFAR10_STD, load_cifar  # noqa: E402
from ddlib.cuda_graph import resolve_cuda_graph  # noqa: E402
from ddlib.devices import resolve_device  # noqa: E402
from ddlib.models import to_device  # noqa: E402
from ddlib.train import COMPILE_MODES, autocast_for, compiled, resolve_fused_optimizer  # noqa: E402
from ddlib.vision_models import VISION_MODELS, plain_vision_model, vision_forward_flops  # noqa: E402
from ddlib.width_batching import build_for_widths  # noqa: E402
from timing import device_name, peak_tflops, sync, timed_training  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--k", type=int, nargs="+", default=[1, 4, 16, 64], help="widths to measure")
    p.add_argument("--model", choices=VISION_MODELS, default="resnet18")
    p.add_argument("--steps", type=int, default=50, help="timed steps per measurement")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation, cuDNN autotune); >= 1")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--members", type=int, nargs="+", default=[1],
                   help="ensemble sizes to measure (ours): seeds trained together as one grouped model")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--compile-mode", default="off", choices=COMPILE_MODES, help="torch.compile mode of ours")
    p.add_argument("--cuda-graph", nargs="+", default=["auto"], choices=["auto", "on", "off"],
                   help="whole-step CUDA graph of ours: each value is measured (auto: on for CUDA)")
    p.add_argument("--channel-align", type=int, nargs="+", default=[1],
                   help="stage channels rounded up to each multiple given, zero-padded (1: none); a width that "
                        "padding does not change is measured once")
    p.add_argument("--compile-baseline", action="store_true",
                   help="compile the baseline model too (with --compile-mode, or the default mode)")
    p.add_argument("--num-workers", type=int, default=min(8, os.cpu_count() or 1), help="baseline DataLoader workers")
    p.add_argument("--n-images", type=int, default=50_000, help="synthetic training set size")
    p.add_argument("--data-root", default=None, help="use real CIFAR-10 from this folder instead of synthetic data")
    p.add_argument("--num-classes", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default on CPU: cores - baseline workers, at least 1; all cores with --skip-baseline)")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--csv", default=None, help="also write the table (with date, device, projection) to this CSV")
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="peak dense TFLOP/s for MFU (default 989 = H100 bf16 on CUDA; no MFU elsewhere)")
    p.add_argument("--epochs", type=int, default=4000, help="sweep projection: epochs per model")
    p.add_argument("--train-size", type=int, default=50_000, help="sweep projection: images per epoch")
    p.add_argument("--sweep-k-max", type=int, default=64, help="sweep projection: k = 1..this")
    p.add_argument("--sweep-seeds", type=int, default=1, help="sweep projection: models per k")
    args = p.parse_args(argv)
    for name in ("steps", "warmup", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")
    if min(args.members) < 1 or min(args.k) < 1 or min(args.channel_align) < 1:
        p.error("--members, --k and --channel-align must be >= 1")
    return args


def _timed(step, steps: int, warmup: int, device) -> float:
    for _ in range(warmup):
        step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)  # waits for the last step
    sync(device)
    return time.perf_counter() - t0


def measure_ours(args, k, members, x, y, device, graph: bool, align: int = 1) -> tuple[float, list[int]]:
    """Member-images per second of :func:`ddlib.train.train_ensemble` (``x``, ``y`` on the device):
    ``--warmup`` untimed steps, then ``--steps`` timed ones, all in one call; stage channels rounded up to a
    multiple of ``align``, zero-padded (:func:`ddlib.width_batching.build_for_widths`). Also the stage channels
    of the model that trained (its ``channels``)."""
    model = to_device(build_for_widths(args.model, [k] * members, (3, 32, 32), args.num_classes, range(members), align),
                      args.model, device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seconds = timed_training(model, x, y, range(members), steps=args.steps, warmup=args.warmup,
                                 batch_size=args.batch_size, lr=args.lr, compile_mode=args.compile_mode,
                                 cuda_graph="on" if graph else "off")
    failed = [str(w.message) for w in caught if "CUDA graph capture" in str(w.message)]
    if failed:  # the loop went on eagerly: the row would not measure the graph
        raise RuntimeError(failed[0])
    for w in caught:  # any other warning (e.g. compiling on one CPU thread) is still shown
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return args.steps * members * args.batch_size / seconds, list(model.channels)


class SyntheticCIFAR10(torch.utils.data.Dataset):
    """CIFAR-10 stand-in: ``data`` (n, 32, 32, 3) uint8 HWC and ``targets``, served by torchvision's
    own ``CIFAR10.__getitem__`` (PIL image, then ``transform``)."""

    def __init__(self, data: np.ndarray, targets, transform=None):
        from torchvision import datasets

        self.data, self.targets, self.transform, self.target_transform = data, list(targets), transform, None
        self._getitem = datasets.CIFAR10.__getitem__

    def __getitem__(self, index):
        return self._getitem(self, index)

    def __len__(self):
        return len(self.data)


def baseline_dataset(args, images, labels):
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
    if args.data_root:
        return datasets.CIFAR10(args.data_root, train=True, transform=tf)
    return SyntheticCIFAR10(images.permute(0, 2, 3, 1).numpy(), labels.tolist(), transform=tf)


def measure_baseline(args, k, dataset, device) -> float:
    """Images per second of a DataLoader + torchvision.transforms pipeline (one model)."""
    cuda = device.type == "cuda"
    model = to_device(plain_vision_model(args.model, k, args.num_classes), args.model, device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    fwd = compiled(model, (args.compile_mode if args.compile_mode != "off" else "default")
                   if args.compile_baseline else "off")
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, drop_last=True,
                                         num_workers=args.num_workers, pin_memory=cuda,
                                         persistent_workers=args.num_workers > 0)
    batches = iter(loader)
    model.train()

    def step():
        nonlocal batches
        try:
            xb, yb = next(batches)
        except StopIteration:
            batches = iter(loader)
            xb, yb = next(batches)
        xb = xb.to(device, non_blocking=True)
        if cuda:
            xb = xb.contiguous(memory_format=torch.channels_last)
        yb = yb.to(device, non_blocking=True)
        with autocast_for(device):
            logits = fwd(xb)
        loss = F.cross_entropy(logits.float(), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    dt = _timed(step, args.steps, args.warmup, device)
    batches = loader = None  # drop the iterator and the loader: their workers stop
    return args.steps * args.batch_size / dt


def projected_hours(args, measured: dict[int, float], flops: dict[int, float]) -> float:
    """Device-hours of the sweep ``k = 1..--sweep-k-max`` at the measured images/s (:mod:`ddlib.sweep_cost`)."""
    return sweep_cost.projected_hours(measured, flops, range(1, args.sweep_k_max + 1),
                                      args.epochs * args.train_size * args.sweep_seeds)


def main(argv=None):
    args = parse_args(argv)
    device = resolve_device(args.device)
    if args.threads or device.type == "cpu":  # the baseline's DataLoader workers get cores of their own
        workers = 0 if args.skip_baseline else args.num_workers
        torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) - workers))
    bf16 = device.type == "cuda"  # as ddlib.train.autocast_for: bf16 autocast on CUDA, float32 elsewhere
    peak = peak_tflops(args.peak_tflops, device)
    if device.type == "cuda":  # for the baseline; ours autotunes in train_ensemble ($DDLIB_CUDNN_BENCHMARK)
        torch.backends.cudnn.benchmark = True
    name = device_name(device)
    fused = resolve_fused_optimizer(None, device)  # what train_ensemble will run
    if args.data_root:
        images, labels = load_cifar("cifar10", args.data_root, train=True)
    else:
        g = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (args.n_images, 3, 32, 32), dtype=torch.uint8, generator=g)
        labels = torch.randint(0, args.num_classes, (args.n_images,), generator=g)
    dataset = None if args.skip_baseline else baseline_dataset(args, images, labels)
    x, y = images.to(device), labels.to(device)
    baseline = "no baseline" if args.skip_baseline else f"baseline workers {args.num_workers}"
    print(f"device: {name} | torch {torch.__version__} | model {args.model} | batch {args.batch_size} | "
          f"members {args.members} | {'bf16 autocast' if bf16 else 'fp32'} | compile {args.compile_mode} | "
          f"Adam {'fused' if fused else 'foreach'} | "
          f"{baseline} | data {'CIFAR-10 ' + args.data_root if args.data_root else 'synthetic'} "
          f"n={len(images)} | {args.steps} timed steps after {args.warmup} warm-up", flush=True)

    flops = {k: float(vision_forward_flops(args.model, k, args.num_classes)) for k in
             sorted(set(args.k) | set(range(1, args.sweep_k_max + 1)))}
    variants = [(g, m, a) for g in graph_settings(args, device) for m in args.members for a in sorted(set(args.channel_align))]
    ours, base, rows, by_model = {v: {} for v in variants}, {}, [], {}
    head = (f"{'k':>4} {'graph':>5} {'members':>7} {'align':>5} {'GFLOP/img':>9} {'ours img/s':>11} {'base img/s':>11} "
            f"{'ratio':>6} {'ours TFLOP/s':>12}" + (f" {'ours MFU':>8}" if peak else ""))
    print(head + "\n" + "-" * len(head), flush=True)
    fmt = lambda v, f: format(v, f) if v is not None else "-"  # noqa: E731
    for k in args.k:
        base[k] = None if args.skip_baseline else measure_baseline(args, k, dataset, device)
        tf = lambda r: 3 * flops[k] * r / 1e12  # noqa: E731
        for graph, m, align in variants:
            model_key = (graph, m, k, tuple(stage_channels(k, align)))  # the same tensors are measured once
            if model_key in by_model:
                ours[graph, m, align][k] = by_model[model_key]
                continue
            rate, channels = measure_ours(args, k, m, x, y, device, graph, align)
            ours[graph, m, align][k] = by_model[model_key] = rate
            ratio = base[k] and rate / base[k]
            mfu = tf(rate) / peak if peak else None
            print(f"{k:>4} {'on' if graph else 'off':>5} {m:>7} {align:>5} {flops[k] / 1e9:>9.4f} {rate:>11.0f} "
                  f"{fmt(base[k], '>11.0f')} {fmt(ratio, '>6.2f')} {tf(rate):>12.4f}"
                  + (f" {mfu:>8.2%}" if peak else ""), flush=True)
            rows.append({"cuda_graph": graph, "members": m, "channel_align": align,
                         "channels": " ".join(map(str, channels)), "k": k,
                         "gflop_per_image": flops[k] / 1e9,
                         "ours_images_per_s": rate, "baseline_images_per_s": base[k], "ratio": ratio,
                         "ours_tflops": tf(rate), "ours_mfu": mfu})
            write_csv(args, rows, name, bf16, peak, fused)

    print(f"\nProjected sweep k=1..{args.sweep_k_max}, {args.epochs} epochs x {args.train_size} images x "
          f"{args.sweep_seeds} seed(s) per k, on this device ({name}), device-hours per model:")
    hours = {v: projected_hours(args, ours[v], flops) for v in variants}
    for (graph, m, align), h in hours.items():
        print(f"  ours, CUDA graph {'on' if graph else 'off'}, {m} member(s) per grouped model"
              + (f", stage channels rounded up to multiples of {align}" if align > 1 else "") + f": {h:,.1f}")
    hours_base = None if args.skip_baseline else projected_hours(args, base, flops)
    if hours_base is not None:
        print(f"  baseline: {hours_base:,.1f}")
    outside = [k for k in range(1, args.sweep_k_max + 1) if k < min(args.k) or k > max(args.k)]
    if outside:
        print(f"  (widths {outside[0]}..{outside[-1]} outside the measured range are extrapolated)"
              if len(outside) == outside[-1] - outside[0] + 1 else
              f"  ({len(outside)} widths outside the measured range {min(args.k)}..{max(args.k)} are extrapolated)")
        print("  (above the largest measured width, by FLOPs: an upper bound until compute-bound)")
    write_csv(args, rows, name, bf16, peak, fused, hours, hours_base)


def graph_settings(args, device) -> list[bool]:
    """The distinct CUDA-graph settings ``--cuda-graph`` asks for, resolved on ``device`` (off first)."""
    return sorted({resolve_cuda_graph(v, device, args.compile_mode) for v in args.cuda_graph})


def write_csv(args, rows, name, bf16, peak, fused, hours=None, hours_base=None) -> None:
    """Write the rows so far to ``--csv`` (after every measurement, so a run cut short keeps what it
    measured; the projections are filled in at the end)."""
    if not args.csv:
        return
    import pandas as pd

    meta = {"date": time.strftime("%Y-%m-%d"), "device": name, "torch": torch.__version__, "model": args.model,
            "batch_size": args.batch_size, "precision": "bf16" if bf16 else "fp32",
            "compile_mode": args.compile_mode, "fused_optimizer": fused,
            "baseline_workers": None if args.skip_baseline else args.num_workers, "timed_steps": args.steps,
            "data": "cifar10" if args.data_root else "synthetic", "peak_tflops": peak,
            "sweep_k_max": args.sweep_k_max, "sweep_epochs": args.epochs, "sweep_seeds": args.sweep_seeds,
            "sweep_train_size": args.train_size,
            "projected_sweep_hours_baseline": hours_base}
    pd.DataFrame([{**meta, **r, "projected_sweep_hours_ours":
                   (hours or {}).get((r["cuda_graph"], r["members"], r["channel_align"]))}
                  for r in rows]
                 ).to_csv(args.csv, index=False)
    if hours is not None:
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
