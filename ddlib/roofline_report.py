"""The roofline count of :mod:`ddlib.roofline` set against the GPU measurements, for the book's appendix.

For the one-model rows of the measured run the appendix cites (:func:`ddlib.gpu_report.current_runs`),
per width: the measured step time (batch / images per second), the roofline time of the step's
operations on the measured card, and the roofline time with every operation given at least the
*per-operation latency* seen at the smallest measured width (its measured step time over its number
of operations, :func:`ddlib.roofline.per_op_floor`), a two-parameter model of the step (card, one
measurement) whose other widths are predictions to set against their measurements.
"""
from __future__ import annotations

import pandas as pd

from . import roofline
from .gpu_report import SMALL_K, TARGETS
from .roofline import Hardware

#: Cards whose peak and bandwidth are known here, by a word of the device name torch reports.
#: H200: NVIDIA H200 datasheet (989 dense bf16 TFLOP/s, as the H100 SXM; 4.8 TB/s HBM3e).
CARDS = {"H100": roofline.H100_SXM, "H200": Hardware("H200 141GB", 989.0, 4.8)}


def card(device: str) -> Hardware | None:
    """The :class:`~ddlib.roofline.Hardware` of a device name such as ``NVIDIA H100 80GB HBM3``, or
    ``None`` for a card not in :data:`CARDS` (an H100 PCIe, with other peaks, is not the SXM part)."""
    if "PCIe" in device:
        return None
    return next((hw for word, hw in CARDS.items() if word in device), None)


def _one_model(current: pd.DataFrame) -> pd.DataFrame:
    rows = current[current["members"] == 1] if len(current) else current
    return rows.sort_values("k") if len(rows) else rows


def roofline_table(current: pd.DataFrame) -> pd.DataFrame:
    """Per measured width (one model): measured and roofline step times (ms), the roofline with the
    per-operation latency of the smallest width, and the measured and roofline MFU."""
    rows = _one_model(current)
    hw = card(str(rows["device"].iloc[0])) if len(rows) else None
    if hw is None:
        return pd.DataFrame()
    model, batch = str(rows["model"].iloc[0]), int(rows["batch_size"].iloc[0])
    first = rows.iloc[0]
    floor = roofline.per_op_floor(batch / first["ours_images_per_s"], model, int(first["k"]), batch)
    out = []
    for _, r in rows.iterrows():
        k = int(r["k"])
        costs = roofline.step_costs(model, k, batch)
        out.append({"k": k, "operations": len(costs), "gflop": sum(op.flops for op in costs) / 1e9,
                    "gbytes": sum(op.bytes for op in costs) / 1e9,
                    "measured_ms": 1e3 * batch / r["ours_images_per_s"],
                    "roofline_ms": 1e3 * roofline.step_seconds(costs, hw),
                    "roofline_plus_latency_ms": 1e3 * roofline.step_seconds(costs, hw, floor),
                    "measured_mfu": float(r["ours_mfu"]), "roofline_mfu": roofline.mfu_bound(model, k, hw, batch)})
    return pd.DataFrame(out).set_index("k").round({"gflop": 1, "gbytes": 3, "measured_ms": 3, "roofline_ms": 3,
                                    "roofline_plus_latency_ms": 3, "measured_mfu": 3, "roofline_mfu": 3})


def roofline_numbers(current: pd.DataFrame, measured_sweep_hours: float | None = None) -> dict:
    """Numbers and sentences the appendix cites: the roofline at the widest measured width (its
    operations, FLOPs, bytes, the time of its matrix products and of the rest, the MFU bound against
    :data:`ddlib.gpu_report.TARGETS`) and the sweep's hours at the roofline and with the per-operation
    latency, next to ``measured_sweep_hours`` (the projection from the measurements)."""
    rows = _one_model(current)
    hw = card(str(rows["device"].iloc[0])) if len(rows) else None
    if hw is None:
        return {"roof_sentence": "No one-model GPU run on a card of known peak and bandwidth has been measured, "
                                 "so the roofline is not set against a measurement here.",
                "roof_small_sentence": "", "roof_sweep_sentence": ""}
    model, batch, first, widest = str(rows["model"].iloc[0]), int(rows["batch_size"].iloc[0]), rows.iloc[0], rows.iloc[-1]
    k_min, k = int(first["k"]), int(widest["k"])
    floor = roofline.per_op_floor(batch / first["ours_images_per_s"], model, k_min, batch)
    costs = roofline.step_costs(model, k, batch)
    products = [op for op in costs if op.flops > 0]
    rest = [op for op in costs if op.flops == 0]
    bound, target = roofline.mfu_bound(model, k, hw, batch), TARGETS["mfu_k64"]
    verdict = (f"below the {target:.0%} target: with these operations at batch {batch} the target cannot be met, up "
               f"to the caveats below; only fewer bytes (fusing operations, which `torch.compile` does in part) or "
               f"more arithmetic per byte (a larger batch, another recipe) would lift the bound" if bound < target
               else f"above the {target:.0%} target, so the hardware does not rule it out; the gap to the measured "
                    f"utilisation is the kernels' own")
    out = {"roof_card": hw.name, "roof_peak_tflops": hw.peak_tflops, "roof_tb_s": hw.memory_tb_s, "roof_k": k,
           "roof_ops": len(costs), "roof_gflop": sum(op.flops for op in costs) / 1e9,
           "roof_gbytes": sum(op.bytes for op in costs) / 1e9,
           "roof_products_ms": 1e3 * roofline.step_seconds(products, hw),
           "roof_rest_ms": 1e3 * roofline.step_seconds(rest, hw),
           "roof_ms": 1e3 * roofline.step_seconds(costs, hw),
           "roof_measured_ms": float(1e3 * batch / widest["ours_images_per_s"]),
           "roof_mfu": bound, "roof_measured_mfu": float(widest["ours_mfu"]), "roof_mfu_verdict": verdict,
           "roof_floor_us": 1e6 * floor, "roof_k_min": k_min,
           "roof_small_ratio": float(batch / first["ours_images_per_s"] / roofline.step_seconds(
               roofline.step_costs(model, k_min, batch), hw))}
    ratio = out["roof_small_ratio"]
    out["roof_small_sentence"] = (
        f"At k = {k_min} the measured step takes {ratio:.0f} times its roofline: " + (
            "the small models are bound by the latency of their operations, one after another, not by arithmetic "
            "or memory." if ratio >= 10 else "even the small models run close to what the card allows."))
    out["roof_sentence"] = _sentence(out)
    out.update(_sweep_numbers(rows, model, batch, hw, floor, measured_sweep_hours))
    return out


def _sentence(n: dict) -> str:
    return (f"At k = {n['roof_k']} one training step dispatches {n['roof_ops']} operations that do "
            f"{n['roof_gflop']:.0f} GFLOP and move {n['roof_gbytes']:.2f} GB. On an {n['roof_card']} "
            f"({n['roof_peak_tflops']:.0f} TFLOP/s, {n['roof_tb_s']:.2f} TB/s) they take at least "
            f"{n['roof_ms']:.2f} ms: {n['roof_products_ms']:.2f} ms for the convolutions and matrix products and "
            f"{n['roof_rest_ms']:.2f} ms for the memory-bound rest (batch norm, ReLU, additions, casts, Adam). The "
            f"measured step took {n['roof_measured_ms']:.2f} ms ({n['roof_measured_mfu']:.1%} MFU); at the roofline "
            f"the MFU would be {n['roof_mfu']:.1%}, {n['roof_mfu_verdict']}.")


def _sweep_numbers(rows: pd.DataFrame, model: str, batch: int, hw: Hardware, floor: float,
                   measured: float | None) -> dict:
    first = rows.iloc[0]
    widths = range(1, int(first["sweep_k_max"]) + 1)
    images = float(first["sweep_epochs"] * first["sweep_train_size"] * first["sweep_seeds"])
    at_roof = roofline.sweep_hours(model, widths, images, hw, batch=batch)
    with_latency = roofline.sweep_hours(model, widths, images, hw, floor=floor, batch=batch)
    small = roofline.sweep_hours(model, range(1, SMALL_K + 1), images, hw, floor=floor, batch=batch)
    hours = TARGETS["sweep_hours"]
    text = (f"For the whole sweep (k = 1 to {widths[-1]}, one model at a time) the roofline gives {at_roof:.0f} "
            f"GPU-hours, {'under' if at_roof < hours else 'over'} the {hours:.0f}-hour target. If every operation "
            f"also took at least the {floor * 1e6:.1f} µs it took on average at k = {int(first['k'])} (the "
            f"measured step time over its operations), it would take {with_latency:.0f} GPU-hours, {small:.0f} "
            f"of them for k ≤ {SMALL_K}")
    text += f"; the projection from the measurements is {measured:.0f}." if measured is not None else "."
    if at_roof < hours <= with_latency:
        text += (" The target is within the card's reach only if that latency is hidden, by keeping the operations "
                 "of several models in flight at once (seeds grouped, widths padded, groups at once, below).")
    elif with_latency < hours:
        text += " Even with that latency the sweep fits the target; what is lost is the kernels' own inefficiency."
    else:
        text += " Even at the roofline the sweep misses the target: one card cannot run it in time with these operations."
    return {"roof_sweep_hours": at_roof, "roof_sweep_hours_latency": with_latency,
            "roof_sweep_hours_latency_small": small, "roof_sweep_sentence": text}
