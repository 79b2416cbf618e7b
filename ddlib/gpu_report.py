"""Reading the GPU benchmark results for the book's appendix.

``benchmarks/train_throughput.py --csv benchmarks/results/NAME.csv`` writes one row per width
``k`` (and ensemble size) with the date, the device, the throughputs (ours and the DataLoader
baseline), the achieved TFLOP/s, the model FLOP utilisation (MFU = achieved / peak dense bf16
TFLOP/s, with achieved = 3 x forward FLOPs per image x images per second, the usual fwd + 2x bwd
estimate of Kaplan et al. 2020) and the projected cost of the full width sweep. This module loads
those files, picks the run the prose cites (:func:`current_runs`) and the numbers it cites.

Files written before the script timed ``ddlib.train.train_ensemble`` itself lack the columns
``baseline_workers`` and ``compile_mode``; :func:`key_numbers` says in words which kind it cites.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .paths import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"
#: Small-size runs of the same script on this project's CPU machines (no MFU, no targets).
CPU_RESULTS = RESULTS / "cpu"
#: Runs of ``benchmarks/width_batching.py`` (several widths as one zero-padded ensemble), any device.
WIDTH_BATCHING_RESULTS = RESULTS / "width-batching"
#: Runs of ``benchmarks/width_batching.py --chapter-sweep`` (a whole chapter sweep with and without it).
CHAPTER_SWEEP_RESULTS = WIDTH_BATCHING_RESULTS / "chapter-sweep"

#: The speed targets of the full-scale issue: DataLoader ratio for k <= 16, MFU at k = 64, sweep hours.
TARGETS = {"ratio": 3.0, "mfu_k64": 0.40, "sweep_hours": 24.0}

_SETTINGS = ("date", "device", "model", "precision", "compile_mode")


def load_benchmarks(folder: Path | str = RESULTS) -> pd.DataFrame:
    """All benchmark CSVs in ``folder``, one row per (file, members, k), with a ``file`` column."""
    frames = [pd.read_csv(p).assign(file=p.name) for p in sorted(Path(folder).glob("*.csv"))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _compile_mode(runs: pd.DataFrame) -> pd.Series:
    return runs["compile_mode"].fillna("off") if "compile_mode" in runs else pd.Series("off", index=runs.index)


def current_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The eager (uncompiled) rows the prose cites: those of the newest date and, where that date has
    runs written by the current script (with ``baseline_workers``), only those."""
    if runs.empty:
        return runs
    eager = runs[_compile_mode(runs) == "off"]
    newest = eager[eager["date"] == eager["date"].max()]
    if "baseline_workers" in newest and newest["baseline_workers"].notna().any():
        newest = newest[newest["baseline_workers"].notna()]
    return newest


def compiled_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Rows measured with ``torch.compile`` (``--compile-mode`` other than off)."""
    return runs if runs.empty else runs[_compile_mode(runs) != "off"]


def show(runs: pd.DataFrame) -> pd.DataFrame:
    """The table the appendix shows (throughputs rounded, MFU in percent); of the run's settings
    (date, device, model, precision, compile mode) only those that differ between rows are kept,
    the prose states the rest."""
    if runs.empty:
        return runs
    settings = [c for c in _SETTINGS if c in runs and runs[c].nunique(dropna=False) > 1]
    cols = settings + ["members", "k", "ours_images_per_s", "baseline_images_per_s", "ratio", "ours_tflops",
                       "ours_mfu"]
    out = runs[[c for c in cols if c in runs]].reset_index(drop=True)
    out["ours_mfu"] = (100 * out["ours_mfu"]).round(2)
    out = out.dropna(axis="columns", how="all")  # e.g. no MFU on a CPU, no baseline in a run without one
    return out.rename(columns={"ours_mfu": "ours_mfu_%"}).round(2)


def plot(runs: pd.DataFrame):
    """Training images per second against width ``k`` (log-log): ours for each ensemble size (all
    members' images counted) and the DataLoader baseline (one model)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for members, group in runs.groupby("members"):
        group = group.sort_values("k")
        ax.plot(group["k"], group["ours_images_per_s"], marker="o",
                label=f"ours, {members} seed(s) as one grouped model")
    base = runs.dropna(subset=["baseline_images_per_s"]).drop_duplicates("k").sort_values("k")
    ax.plot(base["k"], base["baseline_images_per_s"], marker="s", ls="--", color="grey",
            label="DataLoader baseline, one model")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    widths = sorted(runs["k"].unique())
    ax.set_xticks(widths, [str(k) for k in widths])
    ax.set_xlabel("width k")
    ax.set_ylabel("training images per second")
    ax.set_title(f"{runs['model'].iloc[0]} training throughput, {runs['device'].iloc[0]}")
    ax.legend()
    fig.tight_layout()
    return fig


def key_numbers(runs: pd.DataFrame) -> dict:
    """Numbers and sentences cited in the prose, from :func:`current_runs`: ratios for k <= 16, MFU at
    k = 64, projected sweep hours, verdicts against :data:`TARGETS`, and what compiled runs show."""
    current = current_runs(runs)
    first = current.iloc[0]
    single = current[(current["members"] == 1) & current["baseline_images_per_s"].notna()]
    batched = current[current["members"] > 1]
    out = {"gpu_date": str(first["date"]), "gpu_device": str(first["device"]), "gpu_batch": int(first["batch_size"]),
           "gpu_precision": str(first["precision"]), "gpu_peak_tflops": float(first["peak_tflops"]),
           "gpu_sweep_k_max": int(first["sweep_k_max"]), "gpu_sweep_epochs": int(first["sweep_epochs"]),
           "gpu_sweep_seeds": int(first["sweep_seeds"]), "gpu_sweep_train_size": int(first["sweep_train_size"]),
           "gpu_data": str(first["data"]),
           "gpu_script_note": _script_note(current), "gpu_compile_note": _compile_note(compiled_runs(runs))}
    if len(single):
        small = single[single["k"] <= 16]
        out.update(gpu_ratio_min_small_k=float(small["ratio"].min()), gpu_ratio_max_small_k=float(small["ratio"].max()),
                   gpu_ratio_k64=float(single.loc[single["k"] == 64, "ratio"].iloc[0]),
                   gpu_mfu_k64=float(single.loc[single["k"] == 64, "ours_mfu"].iloc[0]),
                   gpu_sweep_hours=float(single["projected_sweep_hours_ours"].iloc[0]),
                   gpu_sweep_hours_baseline=float(single["projected_sweep_hours_baseline"].iloc[0]))
        out["gpu_ratio_verdict"] = _met(out["gpu_ratio_min_small_k"] >= TARGETS["ratio"])
    if len(batched):
        m = int(batched["members"].max())
        group = batched[batched["members"] == m]
        out.update(gpu_members=m, gpu_mfu_k64_batched=float(group.loc[group["k"] == 64, "ours_mfu"].iloc[0]),
                   gpu_sweep_hours_batched=float(group["projected_sweep_hours_ours"].iloc[0]),
                   gpu_sweep_hours_batched_all=float(group["projected_sweep_hours_ours"].iloc[0]) * m)
        out.update(_batched_ratios(group, single))
    mfu = max(out.get("gpu_mfu_k64", 0.0), out.get("gpu_mfu_k64_batched", 0.0))
    hours = out.get("gpu_sweep_hours", float("inf"))  # the sweep as the paper preset runs it: one seed, one model
    out["gpu_mfu_verdict"] = _met(mfu >= TARGETS["mfu_k64"])
    out["gpu_sweep_verdict"] = _met(hours < TARGETS["sweep_hours"])
    out.update(gpu_target_ratio=TARGETS["ratio"], gpu_target_mfu=TARGETS["mfu_k64"],
               gpu_target_hours=TARGETS["sweep_hours"])
    return out


def _script_note(current: pd.DataFrame) -> str:
    if "baseline_workers" in current and current["baseline_workers"].notna().all():
        return ("These rows time `ddlib.train.train_ensemble` itself, one model and grouped seeds against "
                "the baseline measured in the same run.")
    return ("These rows were measured with an earlier version of the benchmark, whose \"ours\" was a "
            "hand-written copy of the training step (random batches, one augmentation generator for all "
            "members) rather than `train_ensemble` itself, and before the per-member augmentation was batched "
            "into one crop for all members. `benchmarks/gpu_session.sh` is the prepared script that measures "
            "the current loop (one model and 8 seeds against the same baseline in one run, and the "
            "`reduce-overhead` compile mode); no GPU has been available to run it since.")


def _compile_note(compiled: pd.DataFrame) -> str:
    if compiled.empty:
        return ("No run with `torch.compile` has been measured on a GPU yet (`benchmarks/gpu_session.sh` "
                "includes one).")
    parts = []
    for _, r in compiled.sort_values(["compile_mode", "k", "members"]).iterrows():
        ratio = "" if pd.isna(r["baseline_images_per_s"]) else f", {r['ratio']:.2f}x the baseline of that run"
        parts.append(f"k = {int(r['k'])} with {int(r['members'])} member(s): {r['ours_images_per_s']:,.0f} "
                     f"images/s{ratio}, MFU {r['ours_mfu']:.1%}")
    r0 = compiled.iloc[0]
    return (f"With `torch.compile` (mode {', '.join(sorted(set(compiled['compile_mode'])))}; {r0['device']}, "
            f"{r0['date']}): " + "; ".join(parts) + ".")


def cpu_numbers(runs: pd.DataFrame) -> dict:
    """Numbers cited from the newest CPU run of the benchmark: the range of ours/DataLoader ratios for
    one model and for the largest ensemble measured, the ensemble's gain in images/s over one model
    at the smallest and largest width, and the run's device, batch, widths, workers and steps."""
    runs = current_runs(runs)
    one, grouped = runs[runs["members"] == 1], runs[runs["members"] == runs["members"].max()]
    gain = grouped.set_index("k")["ours_images_per_s"] / one.set_index("k")["ours_images_per_s"]
    first = runs.iloc[0]
    return {"cpu_grouping_gain_smallest_k": float(gain.loc[gain.index.min()]),
            "cpu_grouping_gain_largest_k": float(gain.loc[gain.index.max()]),
            "cpu_k_min": int(gain.index.min()), "cpu_k_max": int(gain.index.max()),
            "cpu_device": str(first["device"]), "cpu_batch": int(first["batch_size"]),
            "cpu_widths": ", ".join(str(k) for k in sorted(runs["k"].unique())),
            "cpu_members": int(grouped["members"].iloc[0]), "cpu_workers": int(first["baseline_workers"]),
            "cpu_steps": int(first["timed_steps"]), "cpu_precision": str(first["precision"]),
            "cpu_data": str(first["data"]),
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
        same_card = single[single["device"] == small["device"].iloc[0]].drop_duplicates("k").set_index("k")
        if not set(small.index) <= set(same_card.index):
            nan = float("nan")
            return {"gpu_ratio_batched_min_small_k": nan, "gpu_ratio_batched_max_small_k": nan,
                    "gpu_ratio_batched_source": "not measured (no baseline on this card)",
                    "gpu_ratio_batched_verdict": "not measured"}
        base = same_card.loc[small.index, "baseline_images_per_s"]
        source = "taken from the one-model run on the same card (a separate run)"
    ratio = small["ours_images_per_s"] / base
    verdict = _met(float(ratio.min()) >= TARGETS["ratio"])
    return {"gpu_ratio_batched_min_small_k": float(ratio.min()), "gpu_ratio_batched_max_small_k": float(ratio.max()),
            "gpu_ratio_batched_source": source,
            "gpu_ratio_batched_verdict": verdict if source.startswith("measured") else verdict + " across two runs"}


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def width_batching_numbers(runs: pd.DataFrame) -> dict:
    """Sentences cited from ``benchmarks/width_batching.py`` runs (:data:`WIDTH_BATCHING_RESULTS`).

    ``wb_cpu_sentence``: for the newest CPU file, its width sets in order of their widest width, the
    longest leading run of sets that train faster padded (``ratio`` = separate / padded > 1): where it
    stops paying and what the next set gives (a noisy set beyond the first loss does not reopen the
    range). ``wb_gpu_note``: the newest GPU file's ratios, or that there is none. ``wb_pays_up_to``:
    the widest width of that leading run (0 if none)."""
    out = {"wb_gpu_note": _width_batching_gpu_note(_newest_file(runs, cpu=False))}
    cpu = _newest_file(runs, cpu=True)
    if cpu.empty:
        return {**out, "wb_pays_up_to": 0, "wb_cpu_sentence": "No CPU run of `benchmarks/width_batching.py` is stored."}
    cpu = cpu.assign(widest=cpu["widths"].map(_widest)).sort_values("widest")
    losing = (cpu["ratio"] <= 1).to_numpy()
    paying = cpu.iloc[: int(losing.argmax()) if losing.any() else len(cpu)]
    r0 = cpu.iloc[0]
    data = "MNIST-1D" if r0["data"] == "mnist1d" else "synthetic CIFAR-shaped images"
    text = (f"In short runs on {_device_words(r0['device'])}, with {r0['model']} on {data}, {int(r0['seeds'])} seeds per width, batch "
            f"{int(r0['batch_size'])} and {int(r0['timed_steps'])} timed steps, ")
    if paying.empty:
        text += (f"padding does not pay even for widths {_spaced(r0['widths'])}: {r0['ratio']:.2f} times as fast "
                 "as one width at a time.")
    else:
        last, best = paying.iloc[-1], paying.loc[paying["ratio"].idxmax()]
        text += (f"padding the widths up to {int(last['widest'])} into one ensemble trains them {last['ratio']:.2f} "
                 f"times as fast as one width at a time, although it holds {last['padding_overhead']:.1f} times the "
                 f"parameters (best: {best['ratio']:.2f} times, for widths {_spaced(best['widths'])}).")
        if len(paying) < len(cpu):
            nxt = cpu.iloc[len(paying)]
            text += (f" Once width {int(nxt['widest'])} joins, the padding ({nxt['padding_overhead']:.1f} times the "
                     f"parameters) outweighs the overhead it saves: {nxt['ratio']:.2f} times as fast, i.e. slower.")
        else:
            text += " Every set measured pays."
    return {**out, "wb_pays_up_to": int(paying["widest"].max()) if len(paying) else 0, "wb_cpu_sentence": text}


def chapter_sweep_sentence(runs: pd.DataFrame) -> str:
    """What width batching does to a whole chapter sweep, from the newest ``--chapter-sweep`` file."""
    if runs.empty:
        return "The whole chapter sweep has not been timed with and without it."
    r = _newest_file(runs).iloc[0]
    chapter, preset = str(r["sweep"]).rsplit(" ", 1)
    return (f"For the {chapter} chapter's whole sweep at its `{preset}` preset ({int(r['runs'])} runs, timing data, "
            f"training, evaluation and storing; {_device_words(r['device'])}, {r['date']}), padding widths up to {int(r['width_batch'])} took "
            f"{r['batched_s']:.0f} s against {r['unbatched_s']:.0f} s one width per group, {r['ratio']:.2f} times as "
            "fast: training steps are only part of a sweep, and wider widths train as before.")


def show_width_batching(runs: pd.DataFrame) -> pd.DataFrame:
    """The width-batching table the appendix shows: times, ratio and padding per width set of the newest
    CPU file, the run :func:`width_batching_numbers` describes (its settings are in the prose; GPU runs
    have their own sentence)."""
    cpu = _newest_file(runs, cpu=True)
    cols = ["widths", "members", "separate_s", "padded_s", "ratio", "padding_overhead"]
    return cpu[cols].reset_index(drop=True).round(2)


def _newest_file(runs: pd.DataFrame, cpu: bool | None = None) -> pd.DataFrame:
    """The rows of the newest benchmark file (by date, then file name); with ``cpu``, among the files
    measured on a CPU (``True``) or on a GPU (``False``) only."""
    if cpu is not None and len(runs):
        runs = runs[runs["device"].str.startswith("cpu") == cpu]
    if runs.empty:
        return runs
    newest = runs.sort_values(["date", "file"]).iloc[-1]["file"]
    return runs[runs["file"] == newest]


def _device_words(device: str) -> str:
    """``"cpu (2 threads)"`` as ``"a CPU (2 threads)"``; a GPU's name as it is."""
    return str(device).replace("cpu", "a CPU", 1)


def _widest(widths: str) -> int:
    return max(int(w) for w in str(widths).split(","))


def _spaced(widths: str) -> str:
    return ", ".join(str(widths).split(","))


def _width_batching_gpu_note(gpu: pd.DataFrame) -> str:
    if gpu.empty:
        return ("Width batching has not been measured on a GPU yet (`benchmarks/gpu_session.sh` includes ResNet-18 "
                "at small widths); until it is, it is off there by default.")
    parts = [f"widths {_spaced(r['widths'])}: {r['ratio']:.2f}x (padding: {r['padding_overhead']:.1f} times the "
             f"parameters)" for _, r in gpu.iterrows()]
    r0 = gpu.iloc[0]
    return f"On {r0['device']} ({r0['date']}, {r0['model']}, {int(r0['seeds'])} seed(s) per width): " + "; ".join(parts) + "."
