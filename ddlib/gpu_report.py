"""Reading the GPU benchmark results for the book's appendix.

``benchmarks/train_throughput.py --csv benchmarks/results/NAME.csv`` writes one row per width
``k`` with the date, the device, the throughputs (ours and the DataLoader baseline), the
achieved TFLOP/s, the model FLOP utilisation (MFU = achieved / peak dense bf16 TFLOP/s, with
achieved = 3 x forward FLOPs per image x images per second, the usual fwd + 2x bwd estimate of
Kaplan et al. 2020) and the projected cost of the full width sweep. This module loads those
files and picks out the numbers the appendix cites.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .paths import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"
#: Small-size runs of the same script on this project's CPU machines (no MFU, no targets).
CPU_RESULTS = RESULTS / "cpu"


def load_benchmarks(folder: Path | str = RESULTS) -> pd.DataFrame:
    """All benchmark CSVs in ``folder``, one row per (file, k), with a ``file`` column."""
    frames = [pd.read_csv(p).assign(file=p.name) for p in sorted(Path(folder).glob("*.csv"))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def show(runs: pd.DataFrame) -> pd.DataFrame:
    """The table the appendix shows (throughputs rounded, MFU in percent); of the run's settings
    (date, device, model, precision, compile mode) only those that differ between rows are kept,
    the prose states the rest."""
    if runs.empty:
        return runs
    settings = [c for c in ("date", "device", "model", "precision", "compile_mode")
                if c in runs and runs[c].nunique(dropna=False) > 1]
    cols = settings + ["members", "k", "ours_images_per_s", "baseline_images_per_s", "ratio", "ours_tflops",
                       "ours_mfu"]
    out = runs[[c for c in cols if c in runs]].copy()
    out["ours_mfu"] = (100 * out["ours_mfu"]).round(2)
    return out.rename(columns={"ours_mfu": "ours_mfu_%"}).round(2)


def key_numbers(runs: pd.DataFrame) -> dict:
    """Numbers cited in the prose: ratios for k <= 16, MFU at k = 64, projected sweep hours."""
    single = runs[(runs["members"] == 1) & runs["baseline_images_per_s"].notna()]
    batched = runs[runs["members"] > 1]
    out = {"gpu_date": str(runs["date"].iloc[0]), "gpu_device": str(runs["device"].iloc[0]),
           "gpu_batch": int(runs["batch_size"].iloc[0]), "gpu_peak_tflops": float(runs["peak_tflops"].iloc[0]),
           "gpu_sweep_k_max": int(runs["sweep_k_max"].iloc[0]), "gpu_sweep_epochs": int(runs["sweep_epochs"].iloc[0])}
    if len(single):
        small = single[single["k"] <= 16]
        out.update(gpu_ratio_min_small_k=float(small["ratio"].min()), gpu_ratio_max_small_k=float(small["ratio"].max()),
                   gpu_ratio_k64=float(single.loc[single["k"] == 64, "ratio"].iloc[0]),
                   gpu_mfu_k64=float(single.loc[single["k"] == 64, "ours_mfu"].iloc[0]),
                   gpu_sweep_hours=float(single["projected_sweep_hours_ours"].iloc[0]),
                   gpu_sweep_hours_baseline=float(single["projected_sweep_hours_baseline"].iloc[0]))
        out["gpu_ratio_verdict"] = _met(out["gpu_ratio_min_small_k"] >= TARGETS["ratio"])
    if len(batched):
        m = int(batched["members"].iloc[0])
        out.update(gpu_members=m, gpu_mfu_k64_batched=float(batched.loc[batched["k"] == 64, "ours_mfu"].iloc[0]),
                   gpu_sweep_hours_batched=float(batched["projected_sweep_hours_ours"].iloc[0]),
                   gpu_sweep_hours_batched_all=float(batched["projected_sweep_hours_ours"].iloc[0]) * m)
        out.update(_batched_ratios(batched[batched["members"] == m], single))
    mfu = max(out.get("gpu_mfu_k64", 0.0), out.get("gpu_mfu_k64_batched", 0.0))
    hours = min(out.get("gpu_sweep_hours", float("inf")), out.get("gpu_sweep_hours_batched", float("inf")))
    out["gpu_mfu_verdict"] = _met(mfu >= TARGETS["mfu_k64"])
    out["gpu_sweep_verdict"] = _met(hours < TARGETS["sweep_hours"])
    out.update(gpu_target_ratio=TARGETS["ratio"], gpu_target_mfu=TARGETS["mfu_k64"],
               gpu_target_hours=TARGETS["sweep_hours"])
    return out


def cpu_numbers(runs: pd.DataFrame) -> dict:
    """Numbers cited from a CPU run of the benchmark: the range of ours/DataLoader ratios for one
    model and for the largest ensemble measured, the ensemble's gain in images/s over one model at
    the smallest and largest width, and the run's device, batch and widths."""
    one, grouped = runs[runs["members"] == 1], runs[runs["members"] == runs["members"].max()]
    gain = grouped.set_index("k")["ours_images_per_s"] / one.set_index("k")["ours_images_per_s"]
    return {"cpu_grouping_gain_smallest_k": float(gain.loc[gain.index.min()]),
            "cpu_grouping_gain_largest_k": float(gain.loc[gain.index.max()]),
            "cpu_k_min": int(gain.index.min()), "cpu_k_max": int(gain.index.max()),"cpu_device": str(runs["device"].iloc[0]), "cpu_batch": int(runs["batch_size"].iloc[0]),
            "cpu_widths": ", ".join(str(k) for k in sorted(runs["k"].unique())),
            "cpu_members": int(grouped["members"].iloc[0]), "cpu_workers": int(runs["baseline_workers"].iloc[0]),
            "cpu_ratio_min": float(one["ratio"].min()), "cpu_ratio_max": float(one["ratio"].max()),
            "cpu_ratio_grouped_min": float(grouped["ratio"].min()),
            "cpu_ratio_grouped_max": float(grouped["ratio"].max())}


def _batched_ratios(batched: pd.DataFrame, single: pd.DataFrame) -> dict:
    """Member-images/s of grouped training over the DataLoader baseline for k <= 16: against the
    baseline measured in the same run where there is one, else against the one-model run's baseline
    at the same k on the same card (a separate run; ``gpu_ratio_batched_source`` says which)."""
    small = batched[batched["k"] <= 16].set_index("k")
    if small["baseline_images_per_s"].notna().all():
        base, source = small["baseline_images_per_s"], "measured in the same run"
    else:
        same_card = single[single["device"] == small["device"].iloc[0]].set_index("k")
        if not set(small.index) <= set(same_card.index):
            return {}
        base = same_card.loc[small.index, "baseline_images_per_s"]
        source = "taken from the one-model run on the same card (a separate run)"
    ratio = small["ours_images_per_s"] / base
    verdict = _met(float(ratio.min()) >= TARGETS["ratio"])
    return {"gpu_ratio_batched_min_small_k": float(ratio.min()), "gpu_ratio_batched_max_small_k": float(ratio.max()),
            "gpu_ratio_batched_source": source,
            "gpu_ratio_batched_verdict": verdict if source.startswith("measured") else verdict + " across two runs"}


#: The speed targets of the full-scale issue: DataLoader ratio for k <= 16, MFU at k = 64, sweep hours.
TARGETS = {"ratio": 3.0, "mfu_k64": 0.40, "sweep_hours": 24.0}


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"
