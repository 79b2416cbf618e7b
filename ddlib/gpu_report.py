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

import re
from pathlib import Path

import pandas as pd

from . import sweep_cost
from .channel_alignment import CHANNEL_ALIGNMENT, is_aligned
from .chapters import double_descent as dd
from .prose import join, plural
from .paths import REPO_ROOT
from .vision_models import stage_shapes, vision_forward_flops
from .width_batching import GPU_WIDTH_BATCH

RESULTS = REPO_ROOT / "benchmarks" / "results"
#: Small-size runs of the same script on this project's CPU machines (no MFU, no targets).
CPU_RESULTS = RESULTS / "cpu"
#: Runs of ``benchmarks/width_batching.py`` (several widths as one zero-padded ensemble), any device.
WIDTH_BATCHING_RESULTS = RESULTS / "width-batching"
#: Runs of ``benchmarks/width_batching.py --chapter-sweep`` (a whole chapter sweep with and without it).
CHAPTER_SWEEP_RESULTS = WIDTH_BATCHING_RESULTS / "chapter-sweep"

#: Runs of ``benchmarks/concurrent_groups.py`` (groups in threads, each on its own CUDA stream), any device,
#: and of its ``--chapter-sweep`` (a whole chapter sweep one group at a time and several at once).
CONCURRENT_RESULTS = RESULTS / "concurrent-groups"
CONCURRENT_CHAPTER_RESULTS = CONCURRENT_RESULTS / "chapter-sweep"

#: Runs of ``benchmarks/method_batching.py``: a chapter's students with and without method batching.
METHOD_BATCHING_RESULTS = RESULTS / "method-batching"
#: Runs of ``benchmarks/gpu_chapters.py``: whole chapter sweeps with the library's defaults, any device.
CHAPTER_RESULTS = RESULTS / "chapters"

#: The speed targets of the full-scale issue: DataLoader ratio for k <= 16, MFU at k = 64, sweep hours.
TARGETS = {"ratio": 3.0, "mfu_k64": 0.40, "sweep_hours": 24.0}

#: The issue's small widths (k <= 16), where the sweep projection is split: the wider ones are those trained
#: one group at a time (also the widest width padded on a GPU, :data:`ddlib.width_batching.GPU_WIDTH_BATCH`).
SMALL_K = 16

_SETTINGS = ("date", "device", "model", "precision", "compile_mode", "cuda_graph")

#: The card the issue's targets are stated for: among the newest date's runs, the prose cites its runs
#: where there are any.
TARGET_CARD = "H100"


def load_benchmarks(folder: Path | str = RESULTS) -> pd.DataFrame:
    """All benchmark CSVs in ``folder``, one row per (file, members, k), with a ``file`` column."""
    frames = [pd.read_csv(p).assign(file=p.name) for p in sorted(Path(folder).glob("*.csv"))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _compile_mode(runs: pd.DataFrame) -> pd.Series:
    return runs["compile_mode"].fillna("off") if "compile_mode" in runs else pd.Series("off", index=runs.index)


def _fused_adam(runs: pd.DataFrame) -> pd.Series:
    """Whether each row ran Adam's fused form (rows of ``DDLIB_FUSED_OPTIMIZER=on`` carry ``fused_optimizer``;
    files written before the switch ran foreach)."""
    if "fused_optimizer" not in runs:
        return pd.Series(False, index=runs.index)
    return runs["fused_optimizer"].astype("boolean").fillna(False).astype(bool)


def _default_loop(runs: pd.DataFrame) -> pd.DataFrame:
    """The rows of the loop the appendix cites: uncompiled, with Adam's foreach form, the form of every run
    measured against the DataLoader baseline (the fused form, the default on CUDA since an H200 measured it
    faster, is set beside these rows by :func:`ddlib.roofline_report.fused_adam_comparison`), and unpadded
    (rows of ``train_throughput.py --channel-align`` above 1 are :mod:`ddlib.alignment_report`'s)."""
    align = runs["channel_align"].fillna(1) if "channel_align" in runs else 1
    return runs[(_compile_mode(runs) == "off") & ~_fused_adam(runs) & (align == 1)]


def _cuda_graph(runs: pd.DataFrame) -> pd.Series:
    """Whether each row ran the whole step as a CUDA graph (files written before the switch: no)."""
    if "cuda_graph" not in runs:
        return pd.Series(False, index=runs.index)
    return runs["cuda_graph"].astype("boolean").fillna(False).astype(bool)


def current_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The rows the prose cites (:func:`_default_loop`: uncompiled, foreach Adam): those of the
    newest date; among them, where there are such
    rows, those written by the current script (with ``baseline_workers``), then those of the library's
    loop on CUDA (the step as a CUDA graph), then those on :data:`TARGET_CARD`; of what is left,
    the newest file (by name, within the date) where the current script wrote them (it writes one model
    and grouped seeds into one file; the first version wrote them into two)."""
    if runs.empty:
        return runs
    uncompiled = _default_loop(runs)
    newest = uncompiled[uncompiled["date"] == uncompiled["date"].max()]
    preferences = (lambda r: r["baseline_workers"].notna() if "baseline_workers" in r else None,
                   _cuda_graph,
                   lambda r: r["device"].str.contains(TARGET_CARD))
    for prefer in preferences:
        keep = prefer(newest)
        if keep is not None and keep.any():
            newest = newest[keep]
    current_script = "baseline_workers" in newest and newest["baseline_workers"].notna().all()
    return newest_file(newest) if current_script else newest


def graph_comparison(runs: pd.DataFrame) -> pd.DataFrame:
    """Eager against CUDA-graph training, measured in one run (the newest file holding both, default loop otherwise):
    per ensemble size and width, images/s of each, the graph's speed-up, and each one's ratio to the
    DataLoader baseline of that run."""
    uncompiled = _default_loop(runs) if len(runs) else runs
    both = [f for f, rows in uncompiled.groupby("file") if _cuda_graph(rows).nunique() == 2] if len(runs) else []
    if not both:
        return pd.DataFrame()
    rows = newest_file(uncompiled[uncompiled["file"].isin(both)])
    rows = rows.assign(graph=_cuda_graph(rows).map({False: "eager", True: "graph"}))
    table = rows.pivot_table(index=["members", "k"], columns="graph", values=["ours_images_per_s", "ratio"])
    out = pd.DataFrame({"eager_images_per_s": table["ours_images_per_s"]["eager"],
                        "graph_images_per_s": table["ours_images_per_s"]["graph"]})
    out["graph_speedup"] = out["graph_images_per_s"] / out["eager_images_per_s"]
    out["eager_ratio"], out["graph_ratio"] = table["ratio"]["eager"], table["ratio"]["graph"]
    out = out.reset_index().round(2).round({"eager_images_per_s": 0, "graph_images_per_s": 0})
    return out.assign(device=rows["device"].iloc[0], date=rows["date"].iloc[0])


def graph_numbers(runs: pd.DataFrame) -> dict:
    """Numbers cited about the CUDA graph from :func:`graph_comparison`: its card and date, and the
    speed-up range for one model at k <= 16, at k = 64, and for the largest ensemble."""
    table = graph_comparison(runs)
    if table.empty:
        return {"graph_sentence": "No run has measured eager and CUDA-graph training side by side yet."}
    one, many = table[table["members"] == 1], table[table["members"] == table["members"].max()]
    small, many_small = one[one["k"] <= 16]["graph_speedup"], many[many["k"] <= 16]["graph_speedup"]
    widest, many_widest = (rows.loc[rows["k"] == rows["k"].max()].iloc[0] for rows in (one, many))
    most, least = (table.loc[table["graph_speedup"].idxmax()], table.loc[table["graph_speedup"].idxmin()])
    cited = current_runs(runs)["device"].iloc[0]
    card = table["device"].iloc[0]
    other_card = (f" This run was on another card ({card}) than the table above ({cited}), so set its ratios against "
                  f"each other, not against that table's." if card != cited else "")
    text = (f"Side by side in one run ({card}, {table['date'].iloc[0]}), the CUDA graph trains "
            f"one model {small.min():.1f}–{small.max():.1f} times as fast as the eager loop for $k \\le 16$ and "
            f"{widest['graph_speedup']:.1f} times at $k = {int(widest['k'])}$; with {int(many['members'].iloc[0])} seeds "
            f"grouped, {many_small.min():.1f}–{many_small.max():.1f} times for $k \\le 16$ and "
            f"{many_widest['graph_speedup']:.2f} times at $k = {int(many_widest['k'])}$. It gains most "
            f"({most['graph_speedup']:.1f} times) with {_models(most['members'])} at $k = {int(most['k'])}$ and least "
            f"({least['graph_speedup']:.2f} times) with {_models(least['members'])} at $k = {int(least['k'])}$.{other_card}")
    return {"graph_sentence": text}


def _models(members) -> str:
    """A row's number of models in words: ``one model`` or ``8 seeds grouped``."""
    return "one model" if int(members) == 1 else f"{int(members)} seeds grouped"


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
    if "device" in runs and runs["device"].astype(str).str.startswith("cpu").all():
        out = out.drop(columns=["ours_tflops", "ours_mfu"], errors="ignore")  # no utilisation figures on a CPU
    out = out.dropna(axis="columns", how="all")  # e.g. no MFU on a CPU, no baseline in a run without one
    return out.rename(columns={"ours_mfu": "ours_mfu_%"}).round(2).round({"ours_images_per_s": 0,
                                                                            "baseline_images_per_s": 0})


#: Column headings of the appendix's tables (:func:`readable`).
LABELS = {"members": "seeds grouped", "ours_images_per_s": "ours, images/s",
          "baseline_images_per_s": "DataLoader, images/s", "ratio": "ours / DataLoader", "ours_tflops": "ours, TFLOP/s",
          "ours_mfu_%": "ours, MFU %", "eager_images_per_s": "eager, images/s", "graph_images_per_s": "graph, images/s",
          "graph_speedup": "graph / eager", "eager_ratio": "eager / DataLoader", "graph_ratio": "graph / DataLoader",
          "separate_s": "one width at a time, s", "padded_s": "padded into one, s",
          "padding_overhead": "parameters, padded / own", "compile_mode": "compile mode", "cuda_graph": "CUDA graph"}


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` as the book shows it: rows labelled by what was measured (the width set, or seeds grouped
    and k, in order) instead of a running number, headings in words (:data:`LABELS`); values unchanged."""
    if table.empty:
        return table
    rates = [c for c in table if c.endswith("images_per_s")]  # whole images per second: no ".0"
    table = table.assign(**{c: table[c].round().astype("Int64") for c in rates})
    if "widths" in table:  # a width-batching table: its members are the models of one padded ensemble
        return table.set_index("widths").rename(columns={**LABELS, "members": "models",
                                                         "ratio": "speed-up, padded (one at a time / padded)"})
    keys = [c for c in ("members", "k") if c in table]
    return table.set_index(keys).sort_index().rename(columns=LABELS).rename_axis(index=[LABELS.get(k, k) for k in keys])


def plot(runs: pd.DataFrame):
    """Training images per second against width ``k`` (log-log): ours for each ensemble size (all
    members' images counted) and the DataLoader baseline (one model)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    for members, group in runs.groupby("members"):
        group = group.sort_values("k")
        ax.plot(group["k"], group["ours_images_per_s"], marker="o",
                label="ours, one model" if members == 1 else f"ours, {members} seeds as one grouped model")
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
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small")  # below: no curve hidden
    fig.tight_layout()
    return fig


def key_numbers(runs: pd.DataFrame, fused_runs: pd.DataFrame | None = None) -> dict:
    """Numbers and sentences cited in the prose, from :func:`current_runs`: ratios for k <= 16, MFU at
    k = 64, projected sweep hours, verdicts against :data:`TARGETS`, and what compiled runs show (each beside
    the uncompiled foreach rows and, for fused compiled rows, the uncompiled ``fused_runs``)."""
    current = current_runs(runs)
    first = current.iloc[0]
    single = current[(current["members"] == 1) & current["baseline_images_per_s"].notna()]
    batched = current[current["members"] > 1]
    out = {"gpu_date": str(first["date"]), "gpu_device": str(first["device"]), "gpu_batch": int(first["batch_size"]),
           "gpu_precision": str(first["precision"]), "gpu_peak_tflops": float(first["peak_tflops"]),
           "gpu_sweep_k_max": int(first["sweep_k_max"]), "gpu_sweep_epochs": int(first["sweep_epochs"]),
           "gpu_sweep_seeds": plural(int(first["sweep_seeds"]), "seed"),
           "gpu_sweep_train_size": int(first["sweep_train_size"]),
           "gpu_data": str(first["data"]),
           "gpu_script_note": _script_note(current),
           "gpu_compile_note": _compile_note(runs, fused_runs),
           "gpu_layers_words": _layers_words(str(first["model"]), int(current["k"].max()))}
    if len(single):
        small = single[single["k"] <= 16]
        out.update(gpu_ratio_min_small_k=float(small["ratio"].min()), gpu_ratio_max_small_k=float(small["ratio"].max()),
                   gpu_ratio_k64=float(single.loc[single["k"] == 64, "ratio"].iloc[0]),
                   gpu_mfu_k64=float(single.loc[single["k"] == 64, "ours_mfu"].iloc[0]),
                   gpu_sweep_hours=float(single["projected_sweep_hours_ours"].iloc[0]),
                   gpu_sweep_hours_baseline=float(single["projected_sweep_hours_baseline"].iloc[0]))
        out["gpu_ratio_verdict"] = _met(out["gpu_ratio_min_small_k"] >= TARGETS["ratio"])
        out.update(_hours_by_width(single, first))
        out["gpu_step_ms_smallest_k"] = 1000 * out["gpu_batch"] / float(single.sort_values("k")["ours_images_per_s"].iloc[0])
        out["gpu_step_ms_k64"] = 1000 * out["gpu_batch"] / float(single.loc[single["k"] == 64, "ours_images_per_s"].iloc[0])
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
    out["gpu_mfu_best_sentence"] = best_mfu_sentence(runs)
    out["gpu_sweep_verdict"] = _met(hours < TARGETS["sweep_hours"])
    out["gpu_data_path_note"] = data_path_note(runs)
    out.update(gpu_target_ratio=TARGETS["ratio"], gpu_target_mfu=TARGETS["mfu_k64"],
               gpu_target_hours=TARGETS["sweep_hours"], gpu_card_note=_card_note(out["gpu_device"], runs, current),
               gpu_overhead_note=_overhead_note(current))
    return out


def data_path_note(runs: pd.DataFrame) -> str:
    """How much of one model's gain over the DataLoader baseline at k <= 16 the data path makes on its own: the
    eager loop's ratio in the run that timed the eager and graphed loops side by side (:func:`graph_comparison`);
    ``""`` where no run did."""
    table = graph_comparison(runs)
    if table.empty:
        return ""
    one = table[(table["members"] == 1) & (table["k"] <= SMALL_K)]
    if one.empty:
        return ""
    lo, hi = one["eager_ratio"].min(), one["eager_ratio"].max()
    return (f"Most of that gain is the CUDA graph's: in the run that timed both loops ({table['device'].iloc[0]}, "
            f"{table['date'].iloc[0]}), the eager loop, with the data on the device and its augmentation batched "
            f"there, trained {lo:.2f}–{hi:.2f} times the baseline for $k \\le {SMALL_K}$. The data path alone keeps pace with the "
            f"DataLoader's worker processes; the graph, replaying the whole step with that data path inside it, makes "
            f"the rest.")


def best_mfu_sentence(runs: pd.DataFrame) -> str:
    """The highest MFU at k = 64 of any committed GPU throughput row (any compile mode, Adam form, graph switch
    or number of seeds), its setting, and what the other numbers of seeds gave in that same setting (card, date,
    compile mode, Adam's form, graph switch)."""
    if runs.empty or "ours_mfu" not in runs:
        return ""
    wide = runs[(runs["k"] == 64) & runs["ours_mfu"].notna()]
    if wide.empty:
        return ""
    wide = wide.assign(mode=_compile_mode(wide), fused=_fused_adam(wide), graph=_cuda_graph(wide))
    best = wide.loc[wide["ours_mfu"].idxmax()]
    setting = wide[(wide["device"] == best["device"]) & (wide["date"] == best["date"]) & (wide["mode"] == best["mode"])
                   & (wide["fused"] == best["fused"]) & (wide["graph"] == best["graph"])]
    by_members = setting.sort_values("ours_mfu").drop_duplicates("members", keep="last").sort_values("members")
    words = ", ".join(w for w in (f"`torch.compile` mode {best['mode']}" if best["mode"] != "off" else "uncompiled",
                                  "Adam's fused form" if best["fused"] else "Adam's foreach form",
                                  "the whole step as a CUDA graph" if best["graph"] else "eager steps"))
    text = (f"The best utilisation measured at $k = 64$ in any setting is {best['ours_mfu']:.1%} "
            f"({_models(best['members'])}, {words}; {_device_words(best['device'])}, {best['date']})")
    if len(by_members) > 1:
        text += "; in that setting " + ", ".join(f"{_models(m)} gave {v:.1%}"
                                                 for m, v in zip(by_members["members"], by_members["ours_mfu"]))
    return text + "."


def sweep_images(row: pd.Series) -> float:
    """Images one width of the projected sweep trains: epochs x training-set size x seeds, from a throughput
    row's ``sweep_*`` settings."""
    return float(row["sweep_epochs"] * row["sweep_train_size"] * row["sweep_seeds"])


def projected_sweep_hours(row: pd.Series, images_per_s: dict[int, float], widths=None) -> float:
    """GPU-hours of the one-model sweep over ``widths`` (default 1 to the row's ``sweep_k_max``) at the measured
    ``{k: images/s}`` (:func:`ddlib.sweep_cost.projected_hours`), with the throughput row ``row``'s sweep
    settings. FLOPs (10 classes, as the benchmark's default; the CSV does not record the class count) only
    matter above the widest measured width."""
    widths = range(1, int(row["sweep_k_max"]) + 1) if widths is None else widths
    measured = {int(k): v for k, v in images_per_s.items()}
    flops = _forward_flops(str(row["model"]), max(*widths, *measured))
    return sweep_cost.projected_hours(measured, flops, widths, sweep_images(row))


def _forward_flops(model: str, k_max: int) -> dict[int, float]:
    """``{k: forward FLOPs per image}`` for k = 1..``k_max`` (10 classes, as the benchmarks' default; their CSVs
    do not record the class count), the table :mod:`ddlib.sweep_cost` scales by above the widest measured width."""
    return {k: float(vision_forward_flops(model, k, 10)) for k in range(1, k_max + 1)}


def _hours_by_width(single: pd.DataFrame, first: pd.Series, small_k: int = SMALL_K) -> dict:
    """The one-model sweep projection split at ``small_k``: hours for ``k <= small_k`` and above, recomputed
    from the rows with :func:`projected_sweep_hours` (the same projection the CSV holds), and a sentence on
    whether the wide part alone misses the target."""
    measured = dict(zip(single["k"].astype(int), single["ours_images_per_s"]))
    k_max = int(first["sweep_k_max"])
    small = projected_sweep_hours(first, measured, range(1, small_k + 1))
    wide = projected_sweep_hours(first, measured, range(small_k + 1, k_max + 1))
    verdict = ("so even with the small widths free the sweep would stay over" if wide >= TARGETS["sweep_hours"]
               else "so making the small widths cheaper could bring the sweep under")
    return {"gpu_sweep_hours_small": small, "gpu_sweep_hours_wide": wide,
            "gpu_sweep_split_sentence": (f"Of the projected {small + wide:.0f} GPU-hours, widths 1 to {small_k} take "
                                         f"{small:.0f} and widths {small_k + 1} to {k_max} take {wide:.0f}, {verdict} "
                                         f"{TARGETS['sweep_hours']:.0f} hours.")}


def defaults_sweep_numbers(fused_runs: pd.DataFrame | None, width_runs: pd.DataFrame, numbers: dict) -> dict:
    """:func:`defaults_sweep`'s sentence, and the hours the appendix's introduction quotes: the defaults' projection
    where it can be made, else the throughput run's (``numbers``, :func:`key_numbers`), said as such."""
    sentence, hours = defaults_sweep(fused_runs, width_runs)
    quoted = (f"{hours:.0f}" if hours is not None else
              f"{numbers['gpu_sweep_hours']:.0f} (each width alone)" if "gpu_sweep_hours" in numbers else "an unmeasured number of")
    return {"defaults_sweep_sentence": sentence, "defaults_sweep_hours": quoted}


def defaults_sweep(fused_runs: pd.DataFrame | None, width_runs: pd.DataFrame,
                    small_k: int = GPU_WIDTH_BATCH) -> tuple[str, float | None]:
    """The one-seed sweep as the library's defaults on CUDA run it, from two measurements of one card: widths 1 to
    ``small_k`` (default: the runner's limit on a GPU) padded into one ensemble (the newest GPU width-batching set of
    exactly those widths, one seed each, the whole step as a CUDA graph: its padded time per step trains all of them
    at once) and the wider widths one at a time with Adam's fused form (the newest fused-Adam run's one-model rows,
    projected as the throughput run's are, :func:`projected_sweep_hours`): the sentence and the hours; ``("", None)``
    where either is missing or they ran on different cards."""
    if fused_runs is None or fused_runs.empty or width_runs.empty:
        return "", None
    fused = newest_file(fused_runs, cpu=False)
    one = fused[fused["members"] == 1] if len(fused) else fused
    if len(one) < 2:
        return "", None
    first = one.iloc[0]
    gpu = width_runs[~width_runs["device"].str.startswith("cpu")]
    sets = gpu[gpu["widths"].map(lambda w: sorted(_width_list(w)) == list(range(1, small_k + 1)))
               & (gpu["seeds"] == 1) & _cuda_graph(gpu) & (gpu["device"] == first["device"])]
    if sets.empty:
        return "", None
    padded = newest_file(sets).iloc[0]
    k_max = int(first["sweep_k_max"])
    step_s = float(padded["padded_s"]) / int(padded["timed_steps"])
    small = sweep_images(first) / int(padded["batch_size"]) * step_s / 3600
    wide = projected_sweep_hours(first, dict(zip(one["k"].astype(int), one["ours_images_per_s"])),
                                 range(small_k + 1, k_max + 1))
    total, target = small + wide, TARGETS["sweep_hours"]
    return (f"As the library's defaults on CUDA run it, widths 1 to {small_k} padded into one ensemble "
            f"({1e3 * step_s:.1f} ms a step for all {small_k}; {padded['device']}, {padded['date']}, "
            f"`benchmarks/results/width-batching/`, Adam's form not recorded) would take about {small:.0f} GPU-hours, "
            f"and widths {small_k + 1} to {k_max} one at a time with Adam's fused form (projected from the fused-Adam "
            f"rows; {first['device']}, {first['date']}) about {wide:.0f}: about {total:.0f} GPU-hours in all, "
            f"{'under' if total < target else 'still over'} the {target:.0f}-hour target."), total


def _card_note(device: str, runs: pd.DataFrame | None = None, current: pd.DataFrame | None = None) -> str:
    """Where the cited card is not the targets' (:data:`TARGET_CARD`): why its hours bound the targets' card's from
    below, and, from ``runs``, the newest row of the same loop (uncompiled, foreach Adam, same CUDA-graph switch,
    one model, the widest width of ``current``) on the targets' card beside the cited one."""
    if TARGET_CARD in device:
        return ""
    text = (f"The targets are set for an {TARGET_CARD}; the card above is {device}. An H200 has the same dense bf16 "
            f"peak and more memory bandwidth, so an {TARGET_CARD} should be no faster and the hours above are a lower "
            f"bound on the {TARGET_CARD} cost.")
    if runs is None or current is None or current.empty:
        return text
    cited = current[current["members"] == 1].sort_values("k")
    if cited.empty:
        return text
    row = cited.iloc[-1]
    loop = _default_loop(runs)
    same = loop[loop["device"].str.contains(TARGET_CARD) & (loop["members"] == 1) & (loop["k"] == row["k"])
                & (_cuda_graph(loop) == bool(_cuda_graph(cited).iloc[-1]))]
    if same.empty:
        return text
    other = same.sort_values(["date", "file"]).iloc[-1]
    return (text + f" The newest {TARGET_CARD} run of the same loop at $k = {int(row['k'])}$ ({other['device']}, "
            f"{other['date']}) trained {other['ours_images_per_s']:,.0f} images/s against {row['ours_images_per_s']:,.0f} "
            f"here ({row['date']}), {other['ours_images_per_s'] / row['ours_images_per_s']:.2f} times as many, on "
            f"another day and library version.")


def _overhead_note(current: pd.DataFrame) -> str:
    """Why one model's ratio is what it is: the loop the cited rows ran, in words."""
    if _cuda_graph(current).all():
        return ("The whole step runs as one CUDA graph, replayed with one launch, so the host no longer issues "
                "its few hundred kernels one by one; the baseline still does.")
    return ("The reason is per-step overhead: at this batch size an eager ResNet-18 step is bound by kernel "
            "launches and the optimizer whatever the width, so both pipelines run at nearly the same speed.")


def _script_note(current: pd.DataFrame) -> str:
    if "baseline_workers" in current and current["baseline_workers"].notna().all():
        graph = "the whole step as a CUDA graph" if _cuda_graph(current).all() else "eager steps, no CUDA graph"
        workers = sorted({int(w) for w in current["baseline_workers"]})
        return (f"These rows time `ddlib.train.train_ensemble` itself ({graph}, Adam's foreach form; the fused form, "
                f"now the library's default on CUDA, is measured beside it in the roofline section below) "
                f"against the baseline measured in the same run (its `DataLoader` with "
                f"{plural(workers[0], 'worker process', 'worker processes') if len(workers) == 1 else join(workers) + ' worker processes'}).")
    return ("These rows were measured with an earlier version of the benchmark, whose \"ours\" was a "
            "hand-written copy of the training step (random batches, one augmentation generator for all "
            "members) rather than `train_ensemble` itself, and before the per-member augmentation was batched "
            "into one crop for all members. `benchmarks/gpu_session.sh` is the prepared script that measures "
            "the current loop (one model and 8 seeds against the same baseline in one run, and the "
            "`reduce-overhead` compile mode); no GPU has been available to run it since.")


def _layers_words(model: str, k: int) -> str:
    """The sizes of a model's stages at width ``k`` in words (:func:`ddlib.vision_models.stage_shapes`)."""
    shapes = stage_shapes(model, k)
    (c0, h0, w0), (c1, h1, w1) = shapes[0], shapes[-1]
    return f"{h0} × {w0} down to {h1} × {w1} pixels, {c0} to {c1} channels at $k = {k}$"


def compiled_table(runs: pd.DataFrame, fused_runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every GPU row measured with ``torch.compile`` beside the uncompiled row of its card, date, width, number of
    models, CUDA-graph switch and form of Adam (foreach: the throughput rows of :func:`_default_loop`; fused:
    ``fused_runs``): images/s and MFU compiled, images/s uncompiled, and "compiling alone", compiled over
    uncompiled. Empty where nothing was compiled."""
    compiled = compiled_runs(runs)
    if compiled.empty:
        return pd.DataFrame()
    uncompiled = _default_loop(runs)
    compiled = compiled.assign(graph=_cuda_graph(compiled), fused=_fused_adam(compiled))
    rows = []
    for _, r in compiled.sort_values(["date", "device", "compile_mode", "members", "k"]).iterrows():
        plain = _same_setting_row(fused_runs if r["fused"] else uncompiled, r, r["graph"])
        rows.append({"card, date": f"{r['device']}, {r['date']}", "compiled as": _compiled_as(r),
                     "seeds grouped": int(r["members"]), "k": int(r["k"]),
                     "images/s": round(r["ours_images_per_s"]), "MFU %": float(f"{100 * r['ours_mfu']:.3g}"),
                     "uncompiled, images/s": None if plain is None else round(plain["ours_images_per_s"]),
                     "compiling alone": (None if plain is None else
                                         round(r["ours_images_per_s"] / plain["ours_images_per_s"], 2))})
    table = pd.DataFrame(rows).set_index(["card, date", "compiled as", "seeds grouped", "k"])
    return table.astype({c: "Int64" for c in ("images/s", "uncompiled, images/s")})


def _compiled_as(row: pd.Series) -> str:
    """A compiled row's mode, loop (the CUDA graph, or eager) and Adam's form, in a few words."""
    return f"{row['compile_mode']}, {'graph' if row['graph'] else 'eager'}, {'fused' if row['fused'] else 'foreach'} Adam"


def compiled_settings(runs: pd.DataFrame):
    """The compiled rows of ``runs`` (with ``graph`` and ``fused`` flags) grouped by setting: ``((mode, graph,
    fused, device, date), rows)`` pairs, by date, card and mode."""
    compiled = compiled_runs(runs)
    compiled = compiled.assign(graph=_cuda_graph(compiled), fused=_fused_adam(compiled))
    return compiled.sort_values(["date", "device", "compile_mode"]).groupby(
        ["compile_mode", "graph", "fused", "device", "date"], sort=False)


def _compile_note(runs: pd.DataFrame, fused_runs: pd.DataFrame | None = None) -> str:
    """What the compiled runs (:func:`compiled_table`) show, per setting (mode, CUDA-graph switch, Adam's form,
    card, date): how much compiling alone gained over the same loop uncompiled, the utilisation at the widest
    width measured, and, where the setting was measured for one model at two widths or more, the one-seed sweep
    projected from those rows alone (:func:`_compiled_projection`)."""
    table = compiled_table(runs, fused_runs)
    if table.empty:
        return ("No run with `torch.compile` has been measured on a GPU yet (`benchmarks/gpu_session.sh` "
                "includes one).")
    sentences = []
    for (mode, graph, fused, device, date), flags in compiled_settings(runs):
        rows = table.loc[(f"{device}, {date}", _compiled_as(flags.iloc[0]))].reset_index()
        widest = rows[rows["k"] == rows["k"].max()].sort_values("seeds grouped")
        mfu = ", ".join(f"{v:.1f}% with {_models(m)}" for m, v in zip(widest["seeds grouped"], widest["MFU %"]))
        gain = rows["compiling alone"].dropna()
        alone = ("" if gain.empty else
                 f"compiling alone trained {gain.min():.2f} times as fast as the same loop uncompiled"
                 if gain.min() == gain.max() else
                 f"compiling alone trained {gain.min():.2f}–{gain.max():.2f} times as fast as the same loop uncompiled")
        said = "; ".join(w for w in (alone, f"MFU at $k = {int(rows['k'].max())}$: {mfu}") if w)
        sentences.append(f"With `torch.compile` (mode {mode}; {'CUDA graph' if graph else 'eager'}, "
                         f"{'fused' if fused else 'foreach'} Adam; {device}, {date}): {said}." + _compiled_projection(flags))
    return " ".join(sentences)


def _same_setting_row(runs: pd.DataFrame | None, row: pd.Series, graph: bool) -> pd.Series | None:
    """The uncompiled row of ``runs`` measured on ``row``'s card and date (the newest file of that date), at its
    width and number of models, with the CUDA-graph switch ``graph``; ``None`` where there is none."""
    if runs is None or runs.empty:
        return None
    same = runs[(runs["device"] == row["device"]) & (runs["date"] == row["date"]) & (runs["k"] == row["k"])
                & (runs["members"] == row["members"]) & (_cuda_graph(runs) == graph) & (_compile_mode(runs) == "off")]
    return None if same.empty else same.sort_values("file").iloc[-1]  # the newest file of that date


def compiled_sweep_hours(rows: pd.DataFrame) -> tuple[list[int], float] | None:
    """The one-seed sweep projected from one compiled setting's one-model rows (:func:`projected_sweep_hours`:
    flat below the narrowest measured width, scaled by FLOPs above the widest): the widths it rests on and the
    hours; ``None`` with fewer than two widths."""
    one = rows[rows["members"] == 1].drop_duplicates("k", keep="last").sort_values("k")
    if len(one) < 2:
        return None
    ks = [int(k) for k in one["k"]]
    return ks, projected_sweep_hours(one.iloc[0], dict(zip(ks, one["ours_images_per_s"])))


def _compiled_projection(rows: pd.DataFrame) -> str:
    """:func:`compiled_sweep_hours` in words, or ``""``."""
    projected = compiled_sweep_hours(rows)
    if projected is None:
        return ""
    (ks, hours), first = projected, rows.iloc[0]
    below = f"; widths below {ks[0]} at $k = {ks[0]}$'s speed" if ks[0] > 1 else ""
    return (f" Projected from these one-model rows alone ($k = {', '.join(map(str, ks))}${below}), the one-seed sweep "
            f"($k = 1$ to {int(first['sweep_k_max'])}, {int(first['sweep_epochs'])} epochs) would take about "
            f"{hours:.0f} GPU-hours, {'under' if hours < TARGETS['sweep_hours'] else 'over'} the "
            f"{TARGETS['sweep_hours']:.0f}-hour target.")


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
            "cpu_device": _device_words(first["device"]), "cpu_batch": int(first["batch_size"]),
            "cpu_widths": ", ".join(str(k) for k in sorted(runs["k"].unique())),
            "cpu_members": int(grouped["members"].iloc[0]),
            "cpu_workers": plural(int(first["baseline_workers"]), "DataLoader worker process", "DataLoader worker processes"),
            "cpu_steps": int(first["timed_steps"]), "cpu_precision": str(first["precision"]),
            "cpu_data": str(first["data"]),
            "cpu_ratio_min": float(one["ratio"].min()), "cpu_ratio_max": float(one["ratio"].max()),
            "cpu_ratio_grouped_min": float(grouped["ratio"].min()),
            "cpu_ratio_grouped_max": float(grouped["ratio"].max())}


def mnist1d_benchmark_sentence(log: Path | str = RESULTS / "bench-mnist1d.log") -> str:
    """``benchmarks/mnist1d_training.py``'s run in words, from its log: the setting of its first line and the
    range of its ``ratio`` column (ours / baseline, seed-steps per second) over the widths measured."""
    log = Path(log)
    if not log.exists():
        return "`benchmarks/mnist1d_training.py` has no stored run."
    lines = log.read_text().splitlines()
    head = re.match(r"device (\S+), torch threads (\d+), model (\S+), (\d+) seeds x (\d+) steps, batch (\d+)", lines[0])
    rows = [line.split() for line in lines[2:] if line.strip()]
    widths, ratios = [int(r[0]) for r in rows], [float(r[-1]) for r in rows]
    device, threads, model, seeds, steps, batch = head.groups()
    where = "a GPU (the log does not name the card)" if device == "cuda" else _device_words(f"cpu ({threads} threads)")
    return (f"On MNIST-1D, `benchmarks/mnist1d_training.py` trains {plural(int(seeds), 'seed')} of {model} as one "
            f"ensemble against {plural(int(seeds), 'plain model')} fed one after another by a DataLoader "
            f"({steps} steps each, batch {batch}); on {where} ours ran {min(ratios):.2f}–{max(ratios):.2f} times the "
            f"baseline's seed-steps per second at widths {', '.join(map(str, widths))} "
            f"(`benchmarks/results/{log.name}`).")


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
    range). ``wb_gpu_note``: every GPU file's ratios, or that there is none. ``wb_pays_up_to``:
    the widest width of that leading run (0 if none)."""
    gpu = runs[~runs["device"].str.startswith("cpu")] if len(runs) else runs
    out = {"wb_gpu_note": _width_batching_gpu_note(gpu)}
    cpu = newest_file(runs, cpu=True)
    if cpu.empty:
        return {**out, "wb_pays_up_to": 0, "wb_cpu_sentence": "No CPU run of `benchmarks/width_batching.py` is stored."}
    cpu = cpu.assign(widest=cpu["widths"].map(_widest)).sort_values("widest")
    losing = (cpu["ratio"] <= 1).to_numpy()
    paying = cpu.iloc[: int(losing.argmax()) if losing.any() else len(cpu)]
    r0 = cpu.iloc[0]
    data = "MNIST-1D" if r0["data"] == "mnist1d" else "synthetic CIFAR-shaped images"
    seeds_now = len(dd.SWEEP_PRESETS["default"]["seeds"])
    not_retimed = (f" (the book's sweep now runs {seeds_now}; not timed again)" if r0["data"] == "mnist1d"
                   and int(r0["seeds"]) != seeds_now else "")
    text = (f"In short runs on {_device_words(r0['device'])}, with {r0['model']} on {data}, {int(r0['seeds'])} seeds "
            f"per width{not_retimed}, batch "
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
    return _chapter_sweep_sentence(runs, "The whole chapter sweep has not been timed with and without it.",
                                   lambda r: f"padding widths up to {int(r['width_batch'])}", "one width per group",
                                   "unbatched_s", "batched_s",
                                   ": training steps are only part of a sweep, and wider widths train as before.")


def _chapter_sweep_sentence(runs: pd.DataFrame, missing: str, batched, separate: str, separate_col: str,
                            batched_col: str, ending: str = ".") -> str:
    """A whole chapter sweep timed two ways, from the newest file of ``runs`` (``missing`` when there is none);
    ``batched(row)`` words the faster-meant way."""
    if runs.empty:
        return missing
    r = newest_file(runs).iloc[0]
    chapter, preset = str(r["sweep"]).rsplit(" ", 1)
    return _timed_both_ways(r, f"the {chapter} chapter's whole sweep at its `{preset}` preset", batched(r), separate,
                            r[separate_col], ending, batched_s=r[batched_col],
                            runs_note=_preset_now(chapter, preset, r["runs"]))


def method_batching_sentence(runs: pd.DataFrame) -> str:
    """What method batching does to the distillation chapter's students, from the newest file."""
    if runs.empty:
        return "Method batching has not been timed yet (`benchmarks/method_batching.py`)."
    r = newest_file(runs).iloc[0]
    chapter, preset, _ = str(r["sweep"]).split(" ", 2)
    counts = ((f" ({int(r['groups_batched'])} ensembles)", f" ({int(r['groups_separate'])} ensembles)")
              if "groups_batched" in r and pd.notna(r["groups_batched"]) else ("", ""))
    return _timed_both_ways(r, f"the {chapter} chapter's students at its `{preset}` preset",
                            f"grouping them by their inputs{counts[0]}", f"grouping them by their targets{counts[1]}",
                            r["separate_s"], runs_note=_changed_since(_student_runs(preset), r["runs"]))


def _timed_both_ways(r: pd.Series, subject: str, batched: str, separate: str, separate_s: float,
                     ending: str = ".", batched_s: float | None = None, runs_note: str = "") -> str:
    """One sweep timed two ways in one run (``runs``, ``ratio``, device, date and, unless given, ``batched_s``
    from ``r``; ``runs_note`` follows the run count)."""
    batched_s = r["batched_s"] if batched_s is None else batched_s
    return (f"For {subject} ({int(r['runs'])} runs{runs_note}{';' if runs_note else ','} timing data, training, "
            f"evaluation and storing; "
            f"{_device_words(r['device'])}, {r['date']}), {batched} took {batched_s:.1f} s against "
            f"{separate_s:.1f} s {separate}, {r['ratio']:.2f} times as fast{ending}")


def show_concurrent_groups(runs: pd.DataFrame, throughput: pd.DataFrame | None = None) -> pd.DataFrame:
    """The groups-at-once table: the newest GPU file's rows, or the newest CPU file's while no GPU run exists;
    with ``throughput`` (the cited throughput run's rows, :func:`current_runs`), also the images/s at once
    against that run's one-model loop at the same widths (:func:`against_one_model`)."""
    rows = newest_file(runs, cpu=False)
    rows = rows if len(rows) else newest_file(runs, cpu=True)
    cols = ["device"] * (rows["device"].nunique() > 1) + ["widths", "groups", "alone_s", "together_s", "ratio",
                                                          "images_per_s_together"]  # one card: the prose names it
    cols += [c for c in ("mfu_together",) if c in rows and rows[c].notna().any()]
    table = rows[cols].assign(widths=rows["widths"].map(_spaced)).set_index("widths")  # "57–64", not every width
    table = table.round({"alone_s": 2, "together_s": 2, "ratio": 2})
    table["images_per_s_together"] = table["images_per_s_together"].round().astype(int)
    if "mfu_together" in table:
        table["mfu_together"] = (100 * table["mfu_together"]).round(1)
    against = against_one_model(rows, throughput)
    if against is not None:
        table["against_one_model"] = against.round(2).to_numpy()
    return table.rename(columns={"alone_s": "one after another, s", "together_s": "at once, s", "ratio": "speed-up, at once",
                                 "images_per_s_together": "images/s at once", "mfu_together": "MFU at once, %",
                                 "against_one_model": "at once / one-model loop"})


def one_model_images_per_s(widths: str, throughput: pd.DataFrame) -> float:
    """Images per second at which the throughput run's one-model rows (``throughput``) would train the groups
    of a set ``widths`` one after another, the same number of images each: ``1 / mean_w s(w)``, with ``s(w)``
    the seconds per image :func:`ddlib.sweep_cost.seconds_per_image` interpolates from those rows (log-log
    between measured widths, as the sweep projection does)."""
    one = throughput[throughput["members"] == 1]
    if one.empty:
        raise ValueError("the throughput rows hold no one-model row (members == 1) to compare with")
    measured = dict(zip(one["k"].astype(int), one["ours_images_per_s"]))
    ks = _width_list(widths)
    flops = _forward_flops(str(one["model"].iloc[0]), max(*ks, *measured))
    seconds = [sweep_cost.seconds_per_image(measured, flops, k) for k in ks]
    return len(seconds) / sum(seconds)


def against_one_model(rows: pd.DataFrame, throughput: pd.DataFrame | None) -> pd.Series | None:
    """Per groups-at-once row, its images/s at once over :func:`one_model_images_per_s` of the throughput run's
    one-model rows of the same card, model, batch size and CUDA-graph switch (``None`` where there are none, or
    where the groups had several seeds each). The file's own ratio compares with its own one-after-another runs;
    this one with the loop the sweep projection rests on, measured in another run (other steps and data)."""
    one = _comparable_one_model_rows(rows, throughput)
    if one is None:
        return None
    return rows["images_per_s_together"] / rows["widths"].map(lambda w: one_model_images_per_s(w, one))


def _comparable_one_model_rows(rows: pd.DataFrame, throughput: pd.DataFrame | None) -> pd.DataFrame | None:
    """The throughput run's one-model rows that a groups-at-once file's one-seed groups compare with (same card,
    model, batch size and CUDA-graph switch), or ``None`` (none, several seeds per group, or two runs' rows at
    one width: not one loop)."""
    if throughput is None or rows.empty or throughput.empty or (rows["seeds"] != 1).any():
        return None
    r0 = rows.iloc[0]
    one = throughput[(throughput["members"] == 1) & (throughput["device"] == r0["device"])
                     & (throughput["model"] == r0["model"]) & (_cuda_graph(throughput) == bool(_cuda_graph(rows).iloc[0]))]
    if "batch_size" in throughput and "batch_size" in rows:
        one = one[one["batch_size"] == r0["batch_size"]]
    return None if one.empty or one["k"].duplicated().any() else one


def concurrent_groups_sentence(runs: pd.DataFrame, numbers: dict, throughput: pd.DataFrame | None = None,
                               alignment_runs: pd.DataFrame | None = None) -> str:
    """What training groups at once did (newest GPU file, and newest CPU file), with the sweep projection it
    implies: from :func:`key_numbers`' ``numbers``, the hours of widths up to :data:`SMALL_K` plus those of the
    wider ones (one group at a time) divided by the smallest ratio measured with every width above
    :data:`SMALL_K`; or, with no GPU run, that it is unmeasured there. With ``throughput`` (the rows ``numbers``
    come from) that ratio is :func:`against_one_model`'s, as the projection rests on that run's loop, and the
    sentence says how the file's own one-after-another runs compare with that loop (:func:`_alone_against_loop`).
    ``alignment_runs``: the channel-alignment runs (:func:`alignment_status`; default the committed ones), which
    decide whether the sentence says the slowdown of unaligned widths is measured or yet to be."""
    gpu, cpu = newest_file(runs, cpu=False), newest_file(runs, cpu=True)
    against = against_one_model(gpu, throughput)
    measured = " ".join(_concurrent_file_sentence(rows, against if rows is gpu else None)
                        + (_alone_against_loop(runs, gpu, throughput, alignment_runs) if rows is gpu else "")
                        for rows in (gpu, cpu) if not rows.empty)
    if gpu.empty:
        return (measured + " No GPU run of `benchmarks/concurrent_groups.py` is committed yet, so it is not known "
                "whether groups at once pay on a GPU; the switch stays off by default, and the sweep projections "
                "above train one group at a time.").strip()
    return f"{measured} {_concurrent_projection(gpu, numbers, against)}"


def _concurrent_file_sentence(rows: pd.DataFrame, against: pd.Series | None = None) -> str:
    """One groups-at-once file in words: card, date, setting and each set's ratio (and MFU where measured, and the
    ratio to the throughput run's one-model loop where given)."""
    r0 = rows.iloc[0]
    sets = "; ".join(f"widths {_spaced(r['widths'])}: {r['ratio']:.2f} times as fast at once"
                     + (f" (and {against.loc[i]:.2f} times the throughput run's one-model loop)"
                        if against is not None else "")
                     + (f", {r['mfu_together']:.1%} MFU" if pd.notna(r.get("mfu_together")) else "")
                     for i, r in rows.iterrows())
    return (f"On {_device_words(r0['device'])} on {r0['date']} ({r0['model']}, {plural(int(r0['seeds']), 'seed')} per "
            f"group, batch {int(r0['batch_size'])}, {_concurrent_loop(rows)}): {sets}.")


#: How far (as a fraction) a groups-at-once file's own one-after-another runs may differ from the throughput run's
#: interpolated loop before the appendix looks for a cause.
LOOP_TOLERANCE = 0.1

def _alone_range(rows: pd.DataFrame, one: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """A groups-at-once file's one-after-another images/s per set (images/s at once x at-once seconds / alone
    seconds) and its ratio to the loop of the one-model rows ``one`` (:func:`one_model_images_per_s`)."""
    alone = rows["images_per_s_together"] * rows["together_s"] / rows["alone_s"]
    return alone, alone / rows["widths"].map(lambda w: one_model_images_per_s(w, one))


def alignment_status(alignment_runs: pd.DataFrame | None = None) -> str:
    """:func:`ddlib.alignment_report.alignment_status` of ``alignment_runs`` (as :func:`load_benchmarks` reads
    them), default the committed ``benchmarks/results/channel-alignment/``: ``"none"``, ``"unmeasured"`` or
    ``"measured"``."""
    from . import alignment_report  # it imports this module

    runs = (load_benchmarks(alignment_report.CHANNEL_ALIGNMENT_RESULTS) if alignment_runs is None
            else alignment_runs)
    return alignment_report.alignment_status(runs)


#: How the suspected cause's sentence ends, by :func:`alignment_status`.
_ALIGNMENT_ENDING = {
    "measured": "; the section on such widths, above, is where that is measured.",
    "unmeasured": ("; the section on such widths, above, is where it is to be measured: its GPU run set no "
                   "unaligned width against aligned ones."),
    "none": "; the section on such widths, above, is where it will be measured: no GPU run of it exists yet.",
}


def _alone_against_loop(runs: pd.DataFrame, gpu: pd.DataFrame, throughput: pd.DataFrame | None,
                        alignment_runs: pd.DataFrame | None = None) -> str:
    """How the newest GPU file's own one-after-another runs compare with the throughput run's one-model loop at
    the same widths (which that loop interpolates between the widths it measured); where they differ by more
    than a tenth, what rules a cause out (an earlier file of the same card timed in another setting) and the
    cause suspected: widths whose stage channels (w, 2w, 4w, 8w for ResNet-18-w) are not all divisible by
    :data:`CHANNEL_ALIGNMENT`, which the measured widths mostly are; and whether the section on such widths has
    measured that yet (:func:`alignment_status` of ``alignment_runs``)."""
    one = _comparable_one_model_rows(gpu, throughput)
    if one is None or not {"n_train", "timed_steps"} <= set(gpu.columns):
        return ""
    alone, vs_loop = _alone_range(gpu, one)
    r0, measured = gpu.iloc[0], sorted(int(k) for k in one["k"])
    text = (f" One after another, this script's runs (each {int(r0['timed_steps'])} timed steps on "
            f"{int(r0['n_train']):,} images) trained {alone.min():,.0f}–{alone.max():,.0f} images/s, "
            f"{vs_loop.min():.2f}–{vs_loop.max():.2f} times what the throughput run's loop trains at the same widths "
            f"as the projection interpolates it between the widths that run measured "
            f"($k = {', '.join(map(str, measured))}$)")
    if vs_loop.min() >= 1 - LOOP_TOLERANCE and vs_loop.max() <= 1 + LOOP_TOLERANCE:
        return text + "."
    text += (", so the speed-up column (at once against this file's own runs) and the last column (against that "
             "loop) measure against different references.")
    if vs_loop.max() > 1 + LOOP_TOLERANCE:  # faster than the loop predicts: no slowdown to explain
        return text
    earlier = _earlier_setting(runs, gpu, one)
    if earlier:
        text += f" {earlier}"
    widths = _widths_in(gpu)
    odd = [k for k in widths if not is_aligned(k)]
    aligned = [k for k in measured if k >= SMALL_K and is_aligned(k)]
    if odd:
        text += (f" A possible cause: {len(odd)} of these {len(widths)} widths "
                 f"{'is not a multiple' if len(odd) == 1 else 'are not multiples'} of {CHANNEL_ALIGNMENT}, so some of "
                 f"their stages have channel counts that tensor-core convolutions "
                 f"in 16-bit precision do not run at full speed (NVIDIA's convolution performance guide asks for "
                 f"multiples of {CHANNEL_ALIGNMENT})"
                 + (f", while the loop's measured widths from {SMALL_K} up ({', '.join(map(str, aligned))}) are "
                    f"multiples of {CHANNEL_ALIGNMENT}. If so, the sweep projection above, which interpolates between "
                    f"those widths, is too low for most widths above {SMALL_K}" if aligned else "")
                 + _ALIGNMENT_ENDING[alignment_status(alignment_runs)])
    return text


def wide_loop_caveat(concurrent_runs: pd.DataFrame, throughput: pd.DataFrame, numbers: dict, where: str) -> str:
    """A caveat on the sweep projection's widths above :data:`SMALL_K`, where the newest GPU groups-at-once file,
    timed one group after another at such widths, trained more than :data:`LOOP_TOLERANCE` slower than the
    throughput run's loop as the projection interpolates it: those widths' hours at the file's rates; ``""``
    where no such file exists, it ran on another card, or its rates agree. ``where`` says where the page shows
    those runs from the caveat's place ("below", "above"), and so also the roofline counts, which come before
    them.

    The factor is measured against that one loop (each width alone, Adam's foreach form) and applies to
    projections that interpolate between measured widths: the sentence gives it for that loop's projection, says
    any other measured projection interpolates too with a factor not measured, and leaves out the roofline counts,
    which count every width."""
    gpu = newest_file(concurrent_runs, cpu=False) if len(concurrent_runs) else concurrent_runs
    if gpu.empty or "gpu_sweep_hours_wide" not in numbers or gpu.iloc[0]["device"] != numbers.get("gpu_device"):
        return ""
    wide = gpu[gpu["widths"].map(lambda w: min(_width_list(w)) > SMALL_K)]
    one = _comparable_one_model_rows(wide, throughput)
    if one is None or wide.empty:
        return ""
    _, vs_loop = _alone_range(wide, one)
    lo, hi = float(vs_loop.min()), float(vs_loop.max())
    if hi >= 1 - LOOP_TOLERANCE:
        return ""
    hours, k_max = numbers["gpu_sweep_hours_wide"], int(numbers["gpu_sweep_k_max"])
    return (f"One caveat: timed one after another in the groups-at-once runs ({gpu.iloc[0]['device']}, "
            f"{gpu.iloc[0]['date']}, widths {_spaced(','.join(map(str, _widths_in(wide))))}, {where}), widths above "
            f"{SMALL_K} trained {lo:.2f}–{hi:.2f} times as fast as the throughput run's loop (each width alone, "
            f"Adam's foreach form) does as the projection interpolates it; at those rates widths {SMALL_K + 1} to "
            f"{k_max} would take about {hours / hi:.0f}–{hours / lo:.0f} GPU-hours instead of the {hours:.0f} that "
            f"run projects for them, so that projection's hours for widths above {SMALL_K} may be low by a factor of "
            f"{1 / hi:.2f}–{1 / lo:.2f}. The factor was measured against that one loop only: any projection "
            f"measured with another loop interpolates between its measured widths too and may be low there as well, "
            f"by a factor not measured, while the roofline counts ({where}) count every width instead of "
            f"interpolating, so this caveat is not about them.")


def _earlier_setting(runs: pd.DataFrame, gpu: pd.DataFrame, one: pd.DataFrame) -> str:
    """The same comparison for the newest earlier GPU file of the same card timed in another setting (steps or
    images), in words, or ``""`` where there is none."""
    r0 = gpu.iloc[0]
    if not {"n_train", "timed_steps"} <= set(runs.columns):
        return ""
    # the newest file's card, model, batch size, seeds and graph switch: comparable with the same one-model rows
    same = [c for c in ("device", "model", "batch_size", "seeds") if c in runs]
    other = runs[(runs["file"] != r0["file"]) & runs["n_train"].notna() & (runs[same] == r0[same]).all(axis=1)
                 & (_cuda_graph(runs) == bool(_cuda_graph(gpu).iloc[0]))
                 & ((runs["n_train"] != r0["n_train"]) | (runs["timed_steps"] != r0["timed_steps"]))]
    if other.empty:
        return ""
    prev = newest_file(other)
    p0, (_, vs_loop) = prev.iloc[0], _alone_range(prev, one)
    changed = " and ".join(w for w, differs in (("steps", p0["timed_steps"] != r0["timed_steps"]),
                                                ("images", p0["n_train"] != r0["n_train"])) if differs)
    return (f"An earlier run on the same card ({prev['file'].iloc[0]}: {int(p0['timed_steps'])} timed steps on "
            f"{int(p0['n_train']):,} images) gave {vs_loop.min():.2f}–{vs_loop.max():.2f}, so changing the number of "
            f"{changed} did not change it.")


def _concurrent_projection(gpu: pd.DataFrame, numbers: dict, against: pd.Series | None = None) -> str:
    """The one-seed sweep projection redone with the GPU file's ratios for the widths above :data:`SMALL_K`
    (``against``'s where given, else the file's own), or why it is not: no such set, another card than the
    throughput run's, several seeds, or no gain."""
    wide_rows = gpu["widths"].map(lambda w: min(_width_list(w)) > SMALL_K)
    wide = gpu[wide_rows]
    if wide.empty:
        return f"No set measured had all its widths above {SMALL_K}, so the sweep projection is not redone."
    if "gpu_sweep_hours_wide" not in numbers:
        return "No throughput run holds a sweep projection to redo with these ratios."
    if numbers["gpu_device"] != gpu.iloc[0]["device"]:
        return (f"The sweep projection above was measured on {numbers['gpu_device']}, not on this card, so it "
                f"is not redone with these ratios.")
    if (wide["seeds"] != 1).any():
        return "These groups had more than one seed each, so the one-seed sweep projection is not redone."
    ratios = (against[wide_rows] if against is not None else wide["ratio"]).dropna()
    if ratios.empty:
        return f"No ratio was measured for the sets above {SMALL_K}, so the sweep projection is not redone."
    basis = "against the throughput run's one-model loop" if against is not None else "measured for them"
    ratio, slowest = float(ratios.min()), _spaced(wide.loc[ratios.idxmin(), "widths"])
    if ratio <= 1:
        return (f"Above {SMALL_K}, groups at once were slower for some sets{' ' + basis if against is not None else ''} "
                f"(smallest ratio {ratio:.2f}, widths {slowest}); as every width above {SMALL_K} is charged at the "
                f"smallest ratio, groups at once do not lower the sweep projection above.")
    small, rest = numbers["gpu_sweep_hours_small"], numbers["gpu_sweep_hours_wide"] / ratio
    widest, k_max = _widest_at_once(wide), int(numbers["gpu_sweep_k_max"])
    caveat = ("" if widest >= k_max else
              f" Groups at once were measured only up to width {widest}; the wider models fill more of the card on "
              f"their own and may gain less, so for them this ratio is a guess, likely too high.")
    return (f"Training the widths above {SMALL_K} at once at the smallest of these ratios {basis} "
            f"({ratio:.2f}) would bring the one-seed sweep projected above to about {small + rest:.0f} GPU-hours "
            f"({small:.0f} for widths up to {SMALL_K} one at a time, {rest:.0f} for the rest), "
            f"{'under' if small + rest < TARGETS['sweep_hours'] else 'still over'} the "
            f"{TARGETS['sweep_hours']:.0f}-hour target.{caveat}")


def _widest_at_once(rows: pd.DataFrame) -> int:
    """The widest width of any set in a groups-at-once file's rows."""
    return max(_widest(w) for w in rows["widths"])


def _concurrent_loop(rows: pd.DataFrame) -> str:
    """How a groups-at-once file's steps ran: from its ``step_loop_*`` columns (what ran) where it has them,
    else from ``cuda_graph`` (the switch)."""
    if "step_loop_together" in rows:
        cells = list(rows["step_loop_alone"]) + list(rows["step_loop_together"])
        loops = sorted({loop for cell in cells for loop in str(cell).split("; ")})
        if loops == ["cuda graph"]:
            return "the whole step as a CUDA graph"
        if loops == ["eager"]:
            return "eager steps"
        return f"not every step as a CUDA graph: {'; '.join(loops)}"
    return "the whole step as a CUDA graph (the switch)" if _cuda_graph(rows).all() else "eager steps"


def concurrent_chapter_sentence(runs: pd.DataFrame) -> str:
    """What training groups at once did to a whole chapter sweep, from the newest ``--chapter-sweep`` file."""
    return _chapter_sweep_sentence(runs, "The whole chapter sweep has not been timed with groups at once.",
                                   lambda r: f"{int(r['workers'])} groups at once", "one group at a time",
                                   "one_at_a_time_s", "at_once_s")


def same_setting_sentence(width_runs: pd.DataFrame, concurrent_runs: pd.DataFrame) -> str:
    """How far apart two timings of one setting are: the newest width-batching ``--chapter-sweep`` (its
    ``batched_s``) and the newest groups-at-once ``--chapter-sweep`` (its ``one_at_a_time_s``) both time the
    same sweep padded up to the same width, one group at a time, when preset, runs, device and limit agree;
    where they do not, there is nothing to compare and the sentence is empty."""
    if width_runs.empty or concurrent_runs.empty or "width_batch" not in concurrent_runs:
        return ""
    wb, cg = newest_file(width_runs).iloc[0], newest_file(concurrent_runs).iloc[0]
    setting = ("sweep", "runs", "device", "width_batch")
    if [wb.get(k) for k in setting] != [cg.get(k) for k in setting]:
        return ""
    a, b = float(wb["batched_s"]), float(cg["one_at_a_time_s"])
    return (f"The same setting (widths up to {int(wb['width_batch'])} padded, one group at a time) took {a:.1f} s in "
            f"the width-batching run and {b:.1f} s in this one, {abs(a - b) / min(a, b):.1%} apart: a measure of how "
            f"far two timings of one setting differ on this shared machine.")


def show_width_batching(runs: pd.DataFrame) -> pd.DataFrame:
    """The width-batching table of the appendix: times, ratio and padding per width set of the newest
    CPU file, the run :func:`width_batching_numbers` describes (its settings are in the prose; GPU runs
    have their own sentence)."""
    cpu = newest_file(runs, cpu=True)
    cols = ["widths", "members", "separate_s", "padded_s", "ratio", "padding_overhead"]
    return cpu[cols].reset_index(drop=True).round(2)


def newest_file(runs: pd.DataFrame, cpu: bool | None = None) -> pd.DataFrame:
    """The rows of the newest benchmark file (by date, then file name); with ``cpu``, among the files
    measured on a CPU (``True``) or on a GPU (``False``) only."""
    if cpu is not None and len(runs):
        runs = runs[runs["device"].str.startswith("cpu") == cpu]
    if runs.empty:
        return runs
    newest = runs.sort_values(["date", "file"]).iloc[-1]["file"]
    return runs[runs["file"] == newest]


def _device_words(device: str) -> str:
    """``"cpu (2 threads)"`` as ``"a CPU (2 threads)"`` (``"cpu (1 threads)"`` as ``"a CPU (1 thread)"``); a GPU's
    name as it is."""
    return re.sub(r"^cpu \(1 threads\)", "cpu (1 thread)", str(device)).replace("cpu", "a CPU", 1)


def _widest(widths: str) -> int:
    return max(_width_list(widths))


def _widths_in(rows: pd.DataFrame) -> list[int]:
    """Every width of every set in ``rows``' ``widths`` cells, once each, in order."""
    return sorted({k for w in rows["widths"] for k in _width_list(w)})


def _width_list(widths) -> list[int]:
    """A CSV's ``widths`` cell (``"17,18,19,20"``) as integers."""
    return [int(w) for w in str(widths).split(",")]


def _spaced(widths: str) -> str:
    """``"1,2,3,4,8"`` as ``"1–4, 8"``: runs of three or more consecutive widths as a range."""
    values, parts, start = _width_list(widths), [], 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[i - 1] + 1:
            run = values[start:i]
            parts += [f"{run[0]}–{run[-1]}"] if len(run) >= 3 else [str(v) for v in run]
            start = i
    return ", ".join(parts)


def _width_batching_gpu_note(gpu: pd.DataFrame) -> str:
    """What the GPU files of ``benchmarks/width_batching.py`` (:func:`show_width_batching_gpu`) have in common and
    whether every set paid; or that there is none."""
    if gpu.empty:
        return ("Width batching has not been measured on a GPU yet (`benchmarks/gpu_session.sh` includes ResNet-18 "
                "at small widths).")
    models, seeds = ", ".join(dd.model_in_words(m) for m in sorted(set(gpu["model"]))), sorted({int(s) for s in gpu["seeds"]})
    verdict = _width_batching_gpu_verdict(gpu)
    return (f"In the GPU runs above ({models}, {plural(seeds[0], 'seed') if len(seeds) == 1 else join(seeds) + ' seeds'}"
            f" per width): {verdict[0].lower()}{verdict[1:]}")


def show_width_batching_gpu(runs: pd.DataFrame) -> pd.DataFrame | None:
    """The GPU runs of ``benchmarks/width_batching.py``, one row per width set: card and date, the loop (eager steps
    or the whole step as a CUDA graph), the speed-up padded (one width at a time over padded) and the padding's
    parameters over the models' own; ``None`` where no GPU has run it."""
    gpu = runs[~runs["device"].str.startswith("cpu")] if len(runs) else runs
    if gpu.empty:
        return None
    gpu = gpu.sort_values(["date", "file"])
    return pd.DataFrame({"card, date": gpu["device"] + ", " + gpu["date"],
                         "steps": _cuda_graph(gpu).map({True: "CUDA graph", False: "eager"}),
                         "widths": gpu["widths"].map(_spaced), "speed-up, padded": gpu["ratio"].round(2),
                         "parameters, padded / own": gpu["padding_overhead"].round(1)}
                        ).set_index(["card, date", "steps", "widths"])


def _width_batching_gpu_verdict(gpu: pd.DataFrame) -> str:
    """Whether every GPU set trained faster padded, for both loops measured, and whether the eager and graphed
    runs shared a card (only then do they isolate what the graph changes)."""
    graph = _cuda_graph(gpu)
    both_loops = graph.nunique() == 2
    verdict = "Every set measured on a GPU pays" if (gpu["ratio"] > 1).all() else "Not every set measured on a GPU pays"
    if not both_loops:
        return verdict + "."
    shared_card = set(gpu.loc[graph, "device"]) & set(gpu.loc[~graph, "device"])
    cards = ("" if shared_card else " (the eager and graphed runs were on different cards, so they do not isolate "
             "what the graph changes)")
    return f"{verdict}, eager or graphed{cards}."


def _preset_runs(chapter: str, preset: str) -> int | None:
    """How many runs the double-descent sweep at ``preset`` (what the chapter benchmarks time) has now; ``None``
    for what is not known beforehand (the distillation chapter's runs depend on its teachers' sweep)."""
    if chapter != dd.CHAPTER or preset not in dd.SWEEP_PRESETS:
        return None
    return len(dd.sweep_configs(dd.resolve_params(preset, device="cpu")))


def _student_runs(preset: str) -> int | None:
    """How many runs the distillation chapter's main student sweep at ``preset`` has now (what
    ``benchmarks/method_batching.py`` times: every method and teacher width at the main pool, for each student
    seed; its size does not depend on the student's width); ``None`` for an unknown preset."""
    from .chapters import distillation as kd

    if preset not in kd.PRESETS:
        return None
    p = kd.resolve_params(preset, device="cpu")
    return len(kd.student_configs(p, p["widths"][0], p["teacher_widths"], [p["pool_size"]], p["methods"]))


def _changed_since(now: int | None, measured) -> str:
    """``", as the preset was when timed; it now has N"`` where a preset now has ``now`` runs, not the ``measured``
    number; ``""`` where they agree or ``now`` is not known."""
    return "" if now is None or now == int(measured) else f", as the preset was when timed; it now has {now}"


def _preset_now(chapter: str, preset: str, measured) -> str:
    """:func:`_changed_since` for the double-descent sweep at ``preset`` (:func:`_preset_runs`)."""
    return _changed_since(_preset_runs(chapter, preset), measured)


def chapter_times_sentence(runs: pd.DataFrame, folder: Path | str = CHAPTER_RESULTS,
                           same_sweep: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> str:
    """The book's own chapter sweeps on a GPU against a CPU, from the newest file of each in ``folder``
    (default :data:`CHAPTER_RESULTS`; the logs beside the CSVs hold the summaries compared): seconds per
    chapter and preset, every run computed afresh. ``same_sweep``: the width-batching and groups-at-once
    ``--chapter-sweep`` runs, whose one-group-at-a-time timings of the same CPU sweep are set beside it.
    Where the double-descent preset has changed since it was timed, the sentence says so (:func:`_preset_now`)."""
    gpu, cpu = newest_file(runs, cpu=False), newest_file(runs, cpu=True)
    if gpu.empty or cpu.empty:
        return "The chapters' sweeps have not been timed on both a GPU and a CPU yet (`benchmarks/gpu_chapters.py`)."
    both = gpu.merge(cpu, on=["chapter", "preset"], suffixes=("_gpu", "_cpu"))
    parts = []
    cold = "cuda_warmed" not in gpu or not gpu["cuda_warmed"].astype(bool).all()
    for i, r in both.iterrows():
        if int(r["runs_computed_gpu"]) != int(r["runs_computed_cpu"]):  # not the same sweep: no ratio
            now = _preset_runs(r["chapter"], r["preset"])
            parts.append(f"the {r['chapter']} chapter at `{r['preset']}` took {r['seconds_gpu']:.1f} s for "
                         f"{int(r['runs_computed_gpu'])} runs on {r['device_gpu']} and {r['seconds_cpu']:.1f} s for "
                         f"{int(r['runs_computed_cpu'])} runs on {_device_words(r['device_cpu'])}: not the same sweep"
                         + ("" if now is None else f" (the preset now has {now} runs)") + ", so not set against each other")
            continue
        faster = r["seconds_cpu"] / r["seconds_gpu"]
        speed = f"{faster:.0f} times as fast" if faster >= 1.5 else "slower" if faster < 1 else "about as fast"
        if faster < 1.5:
            speed += (" (the run is small, so the GPU's fixed costs, such as one graph capture per group"
                      + (" and, for the first chapter timed, starting CUDA," if cold and i == 0 else "")
                      + " may well dominate; they were not timed apart)")
        runs = f"{int(r['runs_computed_gpu'])} runs{_preset_now(r['chapter'], r['preset'], r['runs_computed_gpu'])}"
        parts.append(f"the {r['chapter']} chapter at `{r['preset']}` ({runs}) took "
                     f"{r['seconds_gpu']:.1f} s on {r['device_gpu']} against {r['seconds_cpu']:.1f} s on "
                     f"{_device_words(r['device_cpu'])}, {speed}")
    versions = ("" if gpu["torch"].iloc[0] == cpu["torch"].iloc[0] else
                f" The GPU run used torch {gpu['torch'].iloc[0]}, the CPU run torch {cpu['torch'].iloc[0]}.")
    return ("With the library's defaults and every run computed afresh (`benchmarks/gpu_chapters.py`; data, training, "
            "evaluation and storing), " + "; ".join(parts) + "." + versions + " "
            + _agreement(gpu, cpu, Path(folder), set(both["chapter"][both["runs_computed_gpu"] == both["runs_computed_cpu"]]))
            + _same_sweep_on_cpu(cpu, same_sweep))


def _same_sweep_on_cpu(cpu: pd.DataFrame, same_sweep: tuple[pd.DataFrame, pd.DataFrame] | None) -> str:
    """The CPU chapter time beside the batching benchmarks' timings of the same sweep (one group at a time,
    padded as the library's default pads), when they ran on the same kind of CPU."""
    if same_sweep is None:
        return ""
    width_runs, concurrent_runs = same_sweep
    mine = cpu[(cpu["chapter"] == "double-descent") & (cpu["preset"] == "default")]
    others = [(f"{float(r[col]):.0f} s", r["device"], int(r["runs"])) for rows, col in ((width_runs, "batched_s"),
                                                                                       (concurrent_runs, "one_at_a_time_s"))
              if not rows.empty for r in [newest_file(rows).iloc[0]] if r["sweep"] == "double-descent default"]
    others = [t for t, device, runs in others if len(mine) and device == mine["device"].iloc[0]
              and runs == int(mine["runs_computed"].iloc[0])]  # the same sweep: the same kind of CPU, the same runs
    if mine.empty or not others:
        return ""
    return (f" On the CPU the batching benchmarks above timed the same sweep with the same defaults at "
            f"{' and '.join(others)}, against {float(mine['seconds'].iloc[0]):.0f} s here: separate processes at "
            f"different times on a shared machine, so set times against each other only within one run.")


#: Test errors compared between devices, per chapter, each with its words in the prose.
_COMPARED = {"double-descent": {"narrowest_test_error": "the narrowest width's test error",
                                "best_narrower_test_error": "the best width narrower than the highest-error one",
                                "peak_test_error": "the highest test error near the interpolation threshold",
                                "widest_test_error": "the widest width's test error"},
             "distillation": {"teacher_widest": "the widest teacher", "direct": "the student trained on the labels",
                              "hard_labeled_widest": "hard labels on the labeled set",
                              "hard_pool_widest": "hard labels on the pool",
                              "soft_kd_labeled_widest": "soft labels on the labeled set",
                              "soft_kd_pool_widest": "soft labels on the pool", "oracle_pool": "the pool's true labels"}}


def _summaries(log: Path) -> dict:
    """``{chapter: {key: value}}`` from a ``benchmarks/gpu_chapters.py`` log: the ``key=value`` line after
    each ``<chapter> <preset>: ...`` line."""
    out, chapter = {}, None
    for line in log.read_text().splitlines():
        if line.startswith(("double_descent ", "distillation ")) and " s, runs:" in line:
            chapter = line.split()[0].replace("_", "-")
        elif chapter and line.startswith("  ") and "=" in line:
            out[chapter] = {k: float(v) for k, v in (item.split("=") for item in line.strip().split(", "))}
            chapter = None
    return out


def _agreement(gpu: pd.DataFrame, cpu: pd.DataFrame, folder: Path, chapters: set[str]) -> str:
    """How far the same summaries differ between the devices, from the logs beside the CSVs in ``folder``, for
    the ``chapters`` whose sweeps computed the same runs on both (a sweep of other seeds is not compared)."""
    logs = [folder / Path(str(rows["file"].iloc[0])).with_suffix(".log").name for rows in (gpu, cpu)]
    if not all(log.exists() for log in logs):
        return ""
    g, c = (_summaries(log) for log in logs)
    diffs = {(ch, key): g[ch][key] - c[ch][key] for ch, keys in _COMPARED.items() if ch in chapters for key in keys
             if key in g.get(ch, {}) and key in c.get(ch, {})}
    if not diffs:
        return ""
    (ch, key), worst = max(diffs.items(), key=lambda item: abs(item[1]))
    text = (f"These are the benchmark's own runs (`{logs[0].name}`, `{logs[1].name}`), not the book build's, so the "
            f"CPU's numbers can differ from the chapters' in the last digits (runs grouped otherwise; see *Several widths "
            f"as one computation* above). The GPU trains under bf16 autocast, the CPU in float32, so the "
            f"results are not the same runs: the "
            f"{len(diffs)} test errors compared differ by at most {100 * abs(worst):.1f} points ({ch} chapter, "
            f"{_COMPARED[ch][key]}: {g[ch][key]:.1%} on the GPU, {c[ch][key]:.1%} on the CPU).")
    dd_g, dd_c = g.get("double-descent", {}), c.get("double-descent", {})
    if "double-descent" in chapters and all(key in dd for dd in (dd_g, dd_c) for key in ("peak_over_narrower", "seed_spread")):
        text += (f" In the double-descent chapter, the highest test error near the interpolation threshold minus the "
                 f"best narrower width's is {100 * dd_g['peak_over_narrower']:+.1f} points on the GPU and "
                 f"{100 * dd_c['peak_over_narrower']:+.1f} on the CPU, against a seed spread of "
                 f"{100 * dd_g['seed_spread']:.1f} and {100 * dd_c['seed_spread']:.1f} points")
        above = [name for name, dd in (("GPU", dd_g), ("CPU", dd_c)) if dd["peak_over_narrower"] > dd["seed_spread"]]
        text += (": on neither device does a peak stand out from seed noise in these runs." if not above else
                 ": on both devices a peak stands out from seed noise." if len(above) == 2 else
                 f": only on the {above[0]} does a peak stand out from seed noise.")
    return text
