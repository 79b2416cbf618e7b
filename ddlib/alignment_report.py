"""Widths whose channel counts are not multiples of 8, measured: the appendix's words for the runs of
``benchmarks/gpu_session.sh``'s ``aligned`` step (``benchmarks/results/channel-alignment/``).

ResNet-18-``k`` has stages of ``k, 2k, 4k, 8k`` channels, all multiples of 8 only when ``k`` is.
Tensor-core convolutions in 16-bit precision want input and output channel counts divisible by 8
(NVIDIA, *Deep Learning Performance Documentation: Convolutional Layers User's Guide*, "Channels In
and Out"), and the throughput run the sweep projection rests on measured ``k = 1, 4, 16, 64`` only,
interpolating the widths between them (:mod:`ddlib.sweep_cost`). The ``aligned`` step times the same
loop (one model, the whole step as a CUDA graph, Adam's foreach form) at unaligned widths beside
aligned ones in one run. Here:

* each unaligned width's images/s is set against the rate interpolated (log-log) between the aligned
  widths of the same run, its *alignment ratio*;
* the one-model sweep is projected again with each width above :data:`ddlib.gpu_report.SMALL_K`
  interpolated from measured widths of its own kind (multiples of 8, or not), and the widths up to
  :data:`ddlib.gpu_report.SMALL_K` as the throughput run projects them;
* where the run also timed the unaligned widths with their stages rounded up to multiples of 8,
  zero-padded (``--channel-align 1 8``; :mod:`ddlib.channel_alignment`, ``$DDLIB_CHANNEL_ALIGN``), each
  padded rate is set against the same width unpadded, and the sweep is projected a third time with
  the unaligned widths above :data:`ddlib.gpu_report.SMALL_K` interpolated from the padded rates.
"""
from __future__ import annotations

import pandas as pd

from .channel_alignment import CHANNEL_ALIGNMENT, is_aligned, padded_flops_ratio, pads
from .gpu_report import (RESULTS, SMALL_K, TARGETS, _compile_mode, _cuda_graph, _device_words, _fused_adam, newest_file,
                         one_model_images_per_s, projected_sweep_hours)

CHANNEL_ALIGNMENT_RESULTS = RESULTS / "channel-alignment"


def loop_widths_words(current: pd.DataFrame) -> dict:
    """The widths the cited throughput run (:func:`ddlib.gpu_report.current_runs`) measured one model at, and those
    of them that are multiples of :data:`CHANNEL_ALIGNMENT`, in words, for the appendix's prose."""
    widths = sorted({int(k) for k in current.loc[current["members"] == 1, "k"]}) if len(current) else []
    aligned = [k for k in widths if is_aligned(k)]
    return {"alignment_loop_widths": ", ".join(map(str, widths)) or "none",
            "alignment_loop_aligned": " and ".join(map(str, aligned)) if aligned else "none"}


def _newest_loop(runs: pd.DataFrame) -> pd.DataFrame:
    """The newest GPU file's rows of the loop the sweep projection rests on: one model, graphed, uncompiled,
    Adam's foreach form; padded and unpadded (an empty frame where there is none)."""
    if runs.empty:
        return runs
    gpu = runs[~runs["device"].astype(str).str.startswith("cpu")]
    loop = gpu[(gpu["members"] == 1) & _cuda_graph(gpu) & (_compile_mode(gpu) == "off") & ~_fused_adam(gpu)]
    return newest_file(loop) if len(loop) else loop


def _align(rows: pd.DataFrame) -> pd.Series:
    """Each row's ``channel_align`` (1 where the file predates the column)."""
    return rows["channel_align"].fillna(1).astype(int) if "channel_align" in rows else pd.Series(1, index=rows.index)


def _padded(rows: pd.DataFrame) -> pd.Series:
    """Which rows trained a model whose stages were rounded up (``channel_align`` > 1 where that changes it)."""
    return pd.Series([pads(str(m), int(k), int(a)) for m, k, a in zip(rows["model"], rows["k"], _align(rows))],
                     index=rows.index, dtype=bool)


def padding_cost_words(numbers: dict, model: str = "resnet18") -> dict:
    """What padding the unaligned widths from :data:`SMALL_K` + 1 to the sweep's widest (``numbers``'
    ``gpu_sweep_k_max``, else 64) to multiples of :data:`CHANNEL_ALIGNMENT` costs in FLOPs
    (:func:`ddlib.channel_alignment.padded_flops_ratio`): its largest and smallest ratio, in words."""
    k_max = int(numbers.get("gpu_sweep_k_max", 64))
    ratios = {k: padded_flops_ratio(model, k) for k in range(SMALL_K + 1, k_max + 1) if not is_aligned(k)}
    most, least = max(ratios, key=ratios.get), min(ratios, key=ratios.get)
    return {"alignment_padding_cost": f"at the unaligned widths from {SMALL_K + 1} to {k_max} that is "
                                      f"{ratios[most]:.2f} times the FLOPs at $k = {most}$, down to "
                                      f"{ratios[least]:.2f} at $k = {least}$"}


def alignment_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """The newest GPU file's unpadded rows of the projection's loop (:func:`_newest_loop`)."""
    rows = _newest_loop(runs)
    return rows[~_padded(rows)] if len(rows) else rows


def padded_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """The same file's rows with the stages rounded up to multiples of :data:`CHANNEL_ALIGNMENT`, zero-padded."""
    rows = _newest_loop(runs)
    if rows.empty:
        return rows
    return rows[_padded(rows) & (_align(rows) == CHANNEL_ALIGNMENT)]


def alignment_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per measured width: images/s, whether it is a multiple of :data:`CHANNEL_ALIGNMENT`, and for the others
    the alignment ratio (images/s over the rate interpolated between the run's aligned widths) and, where
    measured, the images/s with the stages padded to multiples of 8 and their ratio to the unpadded rate."""
    rows = alignment_rows(runs)
    if rows.empty:
        return pd.DataFrame()
    aligned = rows[rows["k"].map(is_aligned)]
    table = rows.set_index(rows["k"].astype(int).rename("k"))[["ours_images_per_s"]].round(0).astype(int)
    table["multiple of 8"] = table.index.map(is_aligned)
    if len(aligned) >= 2:
        table["against aligned neighbours"] = [
            None if is_aligned(k) else round(v / one_model_images_per_s(str(k), aligned), 2)
            for k, v in table["ours_images_per_s"].items()]
    padded = padded_rows(runs)
    if len(padded):
        rates = dict(zip(padded["k"].astype(int), padded["ours_images_per_s"]))
        table["padded images/s"] = [round(rates[k]) if k in rates else None for k in table.index]
        table["padded / unpadded"] = [round(rates[k] / v, 2) if k in rates else None
                                      for k, v in table["ours_images_per_s"].items()]
    return table.rename(columns={"ours_images_per_s": "images/s"})


def alignment_status(runs: pd.DataFrame) -> str:
    """``"none"`` where no GPU run of the aligned step exists (:func:`alignment_rows` is empty), ``"unmeasured"``
    where the newest one sets no width that is not a multiple of :data:`CHANNEL_ALIGNMENT` against two aligned
    ones (fewer than two aligned widths, or no unaligned width), ``"measured"`` where it does."""
    return _status(alignment_table(runs))


def _status(table: pd.DataFrame) -> str:
    """:func:`alignment_status` from the run's :func:`alignment_table` (empty where there is no run)."""
    if table.empty:
        return "none"
    if "against aligned neighbours" not in table or table["against aligned neighbours"].dropna().empty:
        return "unmeasured"
    return "measured"


def alignment_sentence(runs: pd.DataFrame, numbers: dict) -> str:
    """The measurement in words, with the sweep projected again per kind of width (module docstring) against
    :func:`ddlib.gpu_report.key_numbers`' ``numbers``; or that it has not run, or measured nothing
    (:func:`alignment_status`)."""
    rows, table = alignment_rows(runs), alignment_table(runs)
    status = _status(table)
    if status == "none":
        return ("Not measured yet: `benchmarks/gpu_session.sh`'s `aligned` step times the loop at such widths beside "
                "aligned ones; until it has run on a GPU, the projections above treat every width as the "
                "interpolation between the measured widths says.")
    if status == "unmeasured":
        what = (f"fewer than two widths that are multiples of {CHANNEL_ALIGNMENT}" if "against aligned neighbours"
                not in table else f"no width that is not a multiple of {CHANNEL_ALIGNMENT}")
        return f"The newest run ({rows['file'].iloc[0]}) measured {what}, so nothing is set against aligned widths."
    ratios = table["against aligned neighbours"].dropna()
    r0 = rows.iloc[0]
    text = (f"On {_device_words(r0['device'])} on {r0['date']} ({r0['file']}, {int(r0['timed_steps'])} timed steps "
            f"per width), the widths that are not multiples of {CHANNEL_ALIGNMENT} "
            f"({', '.join(map(str, ratios.index))}) trained {ratios.min():.2f}–{ratios.max():.2f} times the rate "
            f"interpolated between the aligned widths of the same run "
            f"({', '.join(map(str, table.index[table['multiple of 8']]))}).")
    measured = dict(zip(rows["k"].astype(int), rows["ours_images_per_s"]))
    hours = _projection(rows, numbers, measured)
    if isinstance(hours, str):
        text += hours
    else:
        text += (f" Interpolating each width above {SMALL_K} from measured widths of its own kind, the one-model "
                 f"sweep ($k = 1$ to {int(numbers['gpu_sweep_k_max'])}) would take about {hours:.0f} GPU-hours, against "
                 f"{numbers['gpu_sweep_hours']:.0f} interpolated from the throughput run's widths alone; "
                 f"{_against_target(hours)}.")
    return text + _padded_sentence(runs, table, rows, numbers, measured, hours)


def _padded_sentence(runs, table, rows, numbers, measured, hours: float | str) -> str:
    """The unaligned widths padded to multiples of 8: against themselves unpadded, and (where the unpadded sweep
    was projected, ``hours``) the sweep with them padded."""
    padded = padded_rows(runs)
    if padded.empty:
        return (f" Whether padding their stages to multiples of {CHANNEL_ALIGNMENT} (`$DDLIB_CHANNEL_ALIGN`) pays was "
                f"not timed in this run.")
    ratio = table["padded / unpadded"].dropna()
    text = (f" With their stages rounded up to multiples of {CHANNEL_ALIGNMENT} channels, zero-padded "
            f"(`DDLIB_CHANNEL_ALIGN={CHANNEL_ALIGNMENT}`: the same models, up to rounding), widths "
            f"{', '.join(map(str, ratio.index))} trained {ratio.min():.2f}–{ratio.max():.2f} times their unpadded "
            f"rate.")
    if isinstance(hours, str):
        return text
    with_padding = {**measured, **dict(zip(padded["k"].astype(int), padded["ours_images_per_s"]))}
    padded_hours = _projection(rows, numbers, with_padding)
    if isinstance(padded_hours, str):
        return text
    return text + (f" The sweep with every unaligned width above {SMALL_K} padded, each interpolated from the padded "
                   f"rates, would take about {padded_hours:.0f} GPU-hours ({padded_hours / hours:.2f} times the "
                   f"{hours:.0f} unpadded); {_against_target(padded_hours)}.")


def _against_target(hours: float) -> str:
    return f"{'under' if hours < TARGETS['sweep_hours'] else 'over'} the {TARGETS['sweep_hours']:.0f}-hour target"


def _projection(rows: pd.DataFrame, numbers: dict, measured: dict[int, float]) -> float | str:
    """GPU-hours of the one-model sweep: widths up to :data:`SMALL_K` as the throughput run projects them, each wider
    width interpolated from the ``measured`` images/s of widths of its own kind; or, as a sentence, why not (another
    card, or a kind with no measured width above :data:`SMALL_K`)."""
    if "gpu_sweep_hours_small" not in numbers or numbers.get("gpu_device") != rows.iloc[0]["device"]:
        return " The sweep is not projected again from it: the throughput run above was measured on another card."
    first, k_max = rows.iloc[0], int(numbers["gpu_sweep_k_max"])
    hours = numbers["gpu_sweep_hours_small"]
    for aligned in (True, False):
        own = {k: v for k, v in measured.items() if is_aligned(k) == aligned and k > SMALL_K}
        widths = [k for k in range(SMALL_K + 1, k_max + 1) if is_aligned(k) == aligned]
        if widths and not own:
            return (f" No {'aligned' if aligned else 'unaligned'} width above {SMALL_K} was measured, so the sweep is "
                    f"not projected again from this run.")
        hours += projected_sweep_hours(first, own, widths) if widths else 0.0
    return hours
