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
from .gpu_report import TARGETS, compiled_settings, compiled_sweep_hours, defaults_sweep, newest_file
from .roofline_report import card, counted_sweep_hours, fused_adam_comparison, fused_sweep_hours
from .width_batching import GPU_WIDTH_BATCH


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
        rows.append(("measured: each width alone, fused Adam", cited, fused_sweep_hours(current, fused)["fused"]))
    hours = defaults_sweep(fused_runs, width_runs)[1]
    if hours is not None:
        row = newest_file(fused_runs, cpu=False).iloc[0]
        rows.append((f"measured: the library's defaults (widths up to {GPU_WIDTH_BATCH} padded, fused Adam)",
                     f"{row['device']}, {row['date']}", hours))
    for (mode, _, fused_adam, device, date), setting in compiled_settings(runs):
        projected = compiled_sweep_hours(setting)
        if projected is not None:
            rows.append((f"measured: compiled ({mode}), each width alone, {'fused' if fused_adam else 'foreach'} Adam",
                         f"{device}, {date}", projected[1]))
    if "gpu_sweep_hours_batched" in numbers:
        rows.append((f"measured: {numbers['gpu_members']} seeds grouped, per seed", cited,
                     numbers["gpu_sweep_hours_batched"]))
    rows += _counted_rows(current)
    table = pd.DataFrame(rows, columns=["projection", "card, date", "GPU-hours"])
    table["under the target"] = (table["GPU-hours"] < TARGETS["sweep_hours"]).map({True: "yes", False: "no"})
    return table.assign(**{"GPU-hours": table["GPU-hours"].round(0).astype(int)}).set_index("projection")


def _counted_rows(current: pd.DataFrame) -> list[tuple[str, str, float]]:
    """The roofline count's sweep (:func:`ddlib.roofline_report.counted_sweep_hours`) on the measured card, with the
    latency of one operation at the smallest measured width, and on the targets' card
    (:data:`ddlib.roofline.H100_SXM`) where that is another."""
    counted = counted_sweep_hours(current)
    if counted is None:
        return []
    first = current.iloc[0]
    hw = card(str(first["device"]))
    rows = [(f"counted: roofline, {hw.name}", "no run", counted[0]),
            (f"counted: roofline + the measured latency per operation, {hw.name}", f"{first['device']}, "
             f"{first['date']}", counted[1])]
    if hw != roofline.H100_SXM:
        rows.append((f"counted: roofline, {roofline.H100_SXM.name} (the targets' card)", "no run",
                     counted_sweep_hours(current, roofline.H100_SXM)[0]))
    return rows
