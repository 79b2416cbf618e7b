"""Where one training step's device time goes, per kind of operation, against its roofline.

For each width ``--k`` it builds one model of ``--model`` as the library trains it (channels-last and
bf16 autocast on CUDA, float32 on a CPU) and runs ``--warmup`` eager steps of
:func:`ddlib.train.training_step` (the step :func:`ddlib.train.train_ensemble` runs; cuDNN autotuning
as in training; Adam's foreach form, as the roofline's as-dispatched count, where the library's default on
CUDA is now the fused form), then profiles ``--steps`` more with ``torch.profiler``. Eager, not as a CUDA graph: a
replayed graph hides which operation launched a kernel, and its kernels take as long as eager ones.

Per kind of operation (:func:`ddlib.roofline.kind_of`): the measured time per step (on CUDA the kernel
time the profiler attributes to the ATen operations that launched it; on a CPU the operations' own
CPU time), the roofline time of the step's operations of that kind on ``--card`` (CUDA only), and
``efficiency = roofline / measured`` (1 would be a kernel at the card's peak or bandwidth); on CUDA a row
``unattributed`` holds the kernel time not attributed to an ATen operation (should be near 0). Each row
also carries the step's wall time (timed over as many steps without the profiler, which slows every
operation), the sum of all its kernels' times (on CUDA, straight from the kernel events) and the time
the device waited (wall minus kernels: launches and the host). Data: random uint8 CIFAR-shaped
images, no download.

Kinds follow :func:`ddlib.roofline.kind_of` of the operation the profiler charges a kernel to, the
innermost one: a ``copy_`` inside ``clone`` or ``constant_pad_nd`` counts as a cast here but as "other"
in the roofline trace, and a convolution's bias ``add_`` (the 5-layer CNN) as an addition; the
ResNet-18's convolutions have no bias.

    python benchmarks/kernel_profile.py --k 16 64 --csv benchmarks/results/kernel-profile/gpu-resnet18-h100.csv
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

from ddlib import roofline  # noqa: E402
from ddlib.devices import cudnn_benchmark, resolve_cudnn_benchmark, resolve_device  # noqa: E402
from ddlib.models import to_device  # noqa: E402
from ddlib.roofline_report import CARDS, card  # noqa: E402
from ddlib.train import autocast_for  # noqa: E402
from ddlib.vision_models import VISION_MODELS, build_vision_model  # noqa: E402
from timing import device_name, sync  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="resnet18", choices=VISION_MODELS)
    p.add_argument("--k", type=int, nargs="+", default=[16, 64], help="widths to profile")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=20, help="profiled steps per width")
    p.add_argument("--warmup", type=int, default=5, help="unprofiled steps first (cuDNN autotuning, Adam's state)")
    p.add_argument("--card", default=None, choices=sorted(CARDS),
                   help="the card whose roofline is compared (default: the one the script runs on)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--csv", default=None, help="write the rows here")
    args = p.parse_args(argv)
    for name in ("batch_size", "steps", "warmup"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")
    if min(args.k) < 1:
        p.error(f"--k must be >= 1; got {min(args.k)}")
    return args


def step_for(model_name: str, k: int, batch: int, device: torch.device):
    """``run()``: one training step of one model at width ``k`` on a fixed batch, as the library runs it."""
    model = to_device(build_vision_model(model_name, k, 10, [0]), model_name, device)  # channels-last on CUDA
    return roofline.synthetic_step(model, batch, autocast=lambda: autocast_for(device),
                                   input_dtype=torch.bfloat16 if device.type == "cuda" else torch.float32)


def measured_by_kind(prof, cuda: bool, steps: int) -> tuple[dict[str, float], float]:
    """Milliseconds per step per kind of ATen operation, and of all kernels (CUDA) or all operations (CPU)."""
    by_kind: dict[str, float] = {}
    kernels = 0.0
    for event in prof.key_averages():
        if cuda and event.device_type == torch.autograd.DeviceType.CUDA:
            kernels += event.self_device_time_total
        if not event.key.startswith("aten::"):
            continue
        us = event.self_device_time_total if cuda else event.self_cpu_time_total
        kind = roofline.kind_of(event.key.removeprefix("aten::"))
        by_kind[kind] = by_kind.get(kind, 0.0) + us
    total = kernels if cuda else sum(by_kind.values())
    return {kind: us / 1e3 / steps for kind, us in by_kind.items()}, total / 1e3 / steps


def profile_width(args, k: int, device: torch.device, hw) -> list[dict]:
    """The rows of one width: per kind of operation, then ``unattributed`` (CUDA: kernel time the profiler
    gave no ATen operation of a known kind; should be near 0)."""
    run = step_for(args.model, k, args.batch_size, device)
    cuda = device.type == "cuda"
    with cudnn_benchmark(resolve_cudnn_benchmark(None, device)):
        for _ in range(args.warmup):
            run()
        sync(device)
        start = time.perf_counter()  # wall time without the profiler, which slows every operation down
        for _ in range(args.steps):
            run()
        sync(device)
        wall = (time.perf_counter() - start) * 1e3 / args.steps
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
        with profile(activities=activities) as prof:
            for _ in range(args.steps):
                run()
            sync(device)
    measured, kernels = measured_by_kind(prof, cuda, args.steps)
    roof = roofline.seconds_by_kind(roofline.step_costs(args.model, k, args.batch_size), hw) if cuda else {}
    rows = []
    for kind in dict.fromkeys([label for label, _ in roofline.KINDS] + ["other"] + list(measured)):
        ms, roof_ms = measured.get(kind, 0.0), 1e3 * roof.get(kind, 0.0)
        rows.append({"k": k, "kind": kind, "measured_ms": ms, "roofline_ms": roof_ms if cuda else None,
                     "efficiency": roof_ms / ms if cuda and ms > 0 else None})
    if cuda:
        rows.append({"k": k, "kind": "unattributed", "measured_ms": kernels - sum(measured.values()),
                     "roofline_ms": None, "efficiency": None})
    for row in rows:
        row.update(step_wall_ms=wall, step_kernel_ms=kernels, device_waiting_ms=wall - kernels if cuda else None)
    return rows


def card_of(args, device: torch.device):
    """The :class:`ddlib.roofline.Hardware` to compare with: the card the script runs on (``--card`` must agree
    with it), or ``--card``/none off CUDA."""
    if device.type != "cuda":
        return CARDS[args.card] if args.card else None
    found = card(device_name(device))
    if found is None:
        sys.exit(f"kernel_profile.py: no peak and bandwidth known for {device_name(device)}; known cards: "
                 f"{', '.join(sorted(CARDS))} (ddlib.roofline_report.CARDS)")
    if args.card and CARDS[args.card] is not found:
        sys.exit(f"kernel_profile.py: --card {args.card} does not match the device {device_name(device)}")
    return found


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    hw = card_of(args, device)
    roof = f"roofline of an {hw.name}" if device.type == "cuda" else "no roofline off CUDA"
    print(f"{device_name(device)} · torch {torch.__version__} · {args.model} · batch {args.batch_size} · "
          f"{args.steps} profiled steps after {args.warmup}; {roof}")
    rows = []
    for k in args.k:
        rows += profile_width(args, k, device, hw)
        table = pd.DataFrame([r for r in rows if r["k"] == k]).drop(columns="k")
        print(f"k = {k}: step {table['step_wall_ms'].iloc[0]:.3f} ms wall, {table['step_kernel_ms'].iloc[0]:.3f} ms "
              f"in kernels/operations\n" + table.drop(columns=["step_wall_ms", "step_kernel_ms"]).round(4).to_string())
        if args.csv:
            meta = {"date": datetime.date.today().isoformat(), "device": device_name(device),
                    "torch": torch.__version__,
                    "model": args.model, "batch_size": args.batch_size, "steps": args.steps,
                    "card": hw.name if hw else None}
            os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
            pd.DataFrame([{**meta, **r} for r in rows]).to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
