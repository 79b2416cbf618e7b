"""The book's chapters on a GPU, through the library's defaults there (CUDA graph, width batching,
students of several methods in one ensemble): the distillation chapter's ``smoke`` preset, then the
double-descent chapter's ``default`` preset, with their summaries and wall-clock times (data, training,
evaluation, storing; every run computed afresh; on CUDA, the CUDA context, cuBLAS and cuDNN are started
before any clock). Results go to a temporary ``$DDLIB_RESULTS`` unless it is set; ``--csv`` writes one
row per chapter (date, device, seconds, runs) for the appendix.

    PYTHONPATH=. python benchmarks/gpu_chapters.py [--csv benchmarks/results/chapters/NAME.csv]
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DDLIB_RESULTS", tempfile.mkdtemp())

import torch  # noqa: E402

from ddlib.chapters import distillation, double_descent  # noqa: E402
from ddlib.devices import resolve_device  # noqa: E402
from timing import device_name  # noqa: E402


def main():
    warnings.filterwarnings("error", message="CUDA graph capture")  # a failed capture must not pass unnoticed
    csv = sys.argv[sys.argv.index("--csv") + 1] if "--csv" in sys.argv else None
    dev = resolve_device("auto")
    device, rows = device_name(dev), []
    if dev.type == "cuda":  # start CUDA, cuBLAS and cuDNN before any clock, so no chapter pays for it
        torch.nn.functional.conv1d(torch.randn(2, 3, 8, device=dev), torch.randn(4, 3, 3, device=dev)).sum().item()
        (torch.randn(64, 64, device=dev) @ torch.randn(64, 64, device=dev)).sum().item()
    print(f"device: {device} | torch {torch.__version__}", flush=True)
    for module, preset in ((distillation, "smoke"), (double_descent, "default")):
        p = module.resolve_params(preset, device="auto")
        t = time.perf_counter()
        out = module.run(p)
        seconds = time.perf_counter() - t
        frame = out[0]
        summary = module.summarize(frame, out[1], p) if module is distillation else module.summarize(frame)
        keys = [k for k in summary if isinstance(summary[k], (int, float)) and not isinstance(summary[k], bool)]
        print(f"{module.__name__.split('.')[-1]} {preset}: {seconds:.1f} s, {out[-1].summary()}")
        print("  " + ", ".join(f"{k}={summary[k]:.4g}" for k in keys), flush=True)
        rows.append({"date": time.strftime("%Y-%m-%d"), "device": device, "torch": torch.__version__,
                     "chapter": module.__name__.split(".")[-1].replace("_", "-"), "preset": preset,
                     "seconds": seconds, "runs_computed": out[-1].computed, "cuda_warmed": dev.type == "cuda"})
        if csv:
            import pandas as pd

            pd.DataFrame(rows).to_csv(csv, index=False)


if __name__ == "__main__":
    main()
