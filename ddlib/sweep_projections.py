"""Every projection of the full sweep's cost the GPU appendix makes, in one table.

Each row is the one-seed sweep of ResNet-18-k (k = 1 to the throughput run's ``sweep_k_max``, its epochs and
training-set size) on one card, projected from one set of measurements or counts, by the function that makes it in
the prose: the throughput run's loop (:func:`ddlib.gpu_report.key_numbers`), Adam's fused form
(:func:`ddlib.roofline_report.fused_adam_comparison`), the library's defaults (:func:`ddlib.gpu_report.
defaults_sweep_numbers`), each compiled setting measured for one model at two widths or more, several seeds grouped
(per seed), and the roofline count with and without the per-operation latency (:func:`ddlib.roofline.sweep_hours`),
on the measured card and on the targets' card. Measured projections interpolate between the widths measured
(:func:`ddlib.gpu_report.projected_sweep_hours`).
"""
from __future__ import annotations

import pandas as pd

from . import roofline
from .gpu_report import (TARGETS, _compile_mode, _defaults_sweep, _fused_adam, compiled_runs, newest_file,
                         projected_sweep_hours, sweep_images)
from .roofline_report import _measured, fused_adam_comparison


def projections_table(current: pd.DataFrame, numbers: dict, runs: pd.DataFrame, fused_runs: pd.DataFrame | None,
                      width_runs: pd.DataFrame) -> pd.DataFrame:
    """One row per projection: what it assumes, its card and date, and its GPU-hours against the target; empty
    without a cited throughput run (``current``, ``numbers`` from :func:`ddlib.gpu_report.key_numbers`)."""
    if current.empty or "gpu_sweep_hours" not in numbers:
        return pd.DataFrame()
    first = current.iloc[0]
    cited = f"{first['device']}, {first['date']}"
    rows = [("measured: each width alone, foreach Adam (the throughput run)", cited, numbers["gpu_sweep_hours"])]
    fused = fused_adam_comparison(current, fused_runs)
    if len(fused) >= 2:
        rows.append(("measured: each width alone, fused Adam", cited,
                     projected_sweep_hours(first, fused["fused images/s"].to_dict())))
    defaults = _defaults_hours(fused_runs, width_runs)
    if defaults is not None:
        rows.append(("measured: the library's defaults (widths up to 16 padded, fused Adam)", defaults[0], defaults[1]))
    rows += _compiled_rows(runs)
    if "gpu_sweep_hours_batched" in numbers:
        rows.append((f"measured: {numbers['gpu_members']} seeds grouped, per seed", cited,
                     numbers["gpu_sweep_hours_batched"]))
    rows += _roofline_rows(current)
    table = pd.DataFrame(rows, columns=["projection", "card, date", "GPU-hours"])
    table["under the target"] = (table["GPU-hours"] < TARGETS["sweep_hours"]).map({True: "yes", False: "no"})
    return table.assign(**{"GPU-hours": table["GPU-hours"].round(0).astype(int)}).set_index("projection")


def _defaults_hours(fused_runs, width_runs) -> tuple[str, float] | None:
    """The defaults' projection (:func:`ddlib.gpu_report.defaults_sweep_numbers`) with the card and date of its
    fused-Adam rows, or ``None`` where it cannot be made."""
    hours = _defaults_sweep(fused_runs, width_runs)[1]
    if hours is None:
        return None
    row = newest_file(fused_runs, cpu=False).iloc[0]
    return f"{row['device']}, {row['date']}", hours


def _compiled_rows(runs: pd.DataFrame) -> list[tuple[str, str, float]]:
    """One row per compiled setting (mode, Adam's form, card, date) measured for one model at two widths or more."""
    compiled = compiled_runs(runs)
    if compiled.empty:
        return []
    compiled = compiled.assign(mode=_compile_mode(compiled), fused=_fused_adam(compiled))
    out = []
    for (mode, fused, device, date), rows in compiled.groupby(["mode", "fused", "device", "date"]):
        one = rows[rows["members"] == 1].drop_duplicates("k", keep="last").sort_values("k")
        if len(one) < 2:
            continue
        hours = projected_sweep_hours(one.iloc[0], dict(zip(one["k"].astype(int), one["ours_images_per_s"])))
        out.append((f"measured: compiled ({mode}), each width alone, {'fused' if fused else 'foreach'} Adam",
                    f"{device}, {date}", hours))
    return out


def _roofline_rows(current: pd.DataFrame) -> list[tuple[str, str, float]]:
    """The roofline count's sweep on the measured card, with the latency of one operation at the smallest measured
    width, and on the targets' card (:data:`ddlib.roofline.H100_SXM`) where that is another."""
    m = _measured(current)
    if m is None:
        return []
    first = m.rows.iloc[0]
    widths, images = range(1, int(first["sweep_k_max"]) + 1), sweep_images(first)
    rows = [(f"counted: roofline, {m.hw.name}", "no run", roofline.sweep_hours(m.model, widths, images, m.hw,
                                                                             batch=m.batch)),
            (f"counted: roofline + the measured latency per operation, {m.hw.name}", f"{first['device']}, "
             f"{first['date']}", roofline.sweep_hours(m.model, widths, images, m.hw, floor=m.floor, batch=m.batch))]
    if m.hw != roofline.H100_SXM:
        rows.append((f"counted: roofline, {roofline.H100_SXM.name} (the targets' card)", "no run",
                     roofline.sweep_hours(m.model, widths, images, roofline.H100_SXM, batch=m.batch)))
    return rows
