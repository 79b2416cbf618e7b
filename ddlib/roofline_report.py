"""The roofline count of :mod:`ddlib.roofline` set against the GPU measurements, for the book's appendix.

For the one-model rows of the measured run the appendix cites (:func:`ddlib.gpu_report.current_runs`),
per width: the measured step time (batch / images per second), the roofline time of the step's
operations on the measured card, and the roofline time with every operation given at least the
*per-operation latency* seen at the smallest measured width (its measured step time over its number
of operations, :func:`ddlib.roofline.per_op_floor`), a two-parameter model of the step (card, one
measurement) whose other widths are predictions to set against their measurements.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from . import roofline
from .book import with_dashes
from .gpu_report import RESULTS, SMALL_K, TARGETS, newest_file, projected_sweep_hours, sweep_images
from .prose import plural
from .roofline import Hardware
from .vision_models import stage_shapes

#: ``benchmarks/kernel_profile.py``'s CSVs: a training step's device time per kind of operation.
KERNEL_PROFILE_RESULTS = RESULTS / "kernel-profile"
#: ``benchmarks/train_throughput.py`` run with ``DDLIB_FUSED_OPTIMIZER=on`` (``benchmarks/gpu_session.sh``,
#: right after the throughput step, so that the same session's foreach loop is there to compare with).
FUSED_ADAM_RESULTS = RESULTS / "fused-adam"

#: Cards whose peak and bandwidth are known here, by a word of the device name torch reports.
#: H200: NVIDIA H200 datasheet (989 dense bf16 TFLOP/s, as the H100 SXM; 4.8 TB/s HBM3e; the H100's 50 MB L2).
CARDS = {"H100": roofline.H100_SXM, "H200": Hardware("H200 141GB", 989.0, 4.8, 50.0)}


def card(device: str) -> Hardware | None:
    """The :class:`~ddlib.roofline.Hardware` of a device name as torch reports it (``NVIDIA H100 80GB HBM3``,
    the SXM part; ``NVIDIA H200``), or ``None`` for any other card, other H100 parts included (PCIe, NVL:
    other peaks and bandwidths)."""
    if "H200" in device:
        return CARDS["H200"]
    if "H100" in device and ("HBM3" in device or "SXM" in device) and not ("PCIe" in device or "NVL" in device):
        return CARDS["H100"]
    return None


@dataclass(frozen=True)
class _Measured:
    """The one-model rows of the cited run (sorted by width), their card, model, batch, and the
    per-operation latency at the smallest width."""

    rows: pd.DataFrame
    hw: Hardware
    model: str
    batch: int
    floor: float

    def step_seconds(self, row: pd.Series) -> float:
        return self.batch / float(row["ours_images_per_s"])


def _measured(current: pd.DataFrame) -> _Measured | None:
    """:class:`_Measured` of ``current``, or ``None`` without one-model rows on a card of :data:`CARDS`."""
    rows = current[current["members"] == 1].sort_values("k") if len(current) else current
    hw = card(str(rows["device"].iloc[0])) if len(rows) else None
    if hw is None:
        return None
    model, batch, first = str(rows["model"].iloc[0]), int(rows["batch_size"].iloc[0]), rows.iloc[0]
    floor = roofline.per_op_floor(batch / float(first["ours_images_per_s"]), model, int(first["k"]), batch)
    return _Measured(rows, hw, model, batch, floor)


def roofline_table(current: pd.DataFrame) -> pd.DataFrame:
    """Per measured width (one model): measured and roofline step times (ms), the roofline with the
    per-operation latency of the smallest width, and the measured and roofline MFU."""
    m = _measured(current)
    if m is None:
        return pd.DataFrame()
    out = []
    for _, r in m.rows.iterrows():
        k = int(r["k"])
        costs = roofline.step_costs(m.model, k, m.batch)
        out.append({"k": k, "ops": len(costs), "GFLOP": sum(op.flops for op in costs) / 1e9,
                    "GB": sum(op.bytes for op in costs) / 1e9, "measured ms": 1e3 * m.step_seconds(r),
                    "roofline ms": 1e3 * roofline.step_seconds(costs, m.hw),
                    "roofline + latency ms": 1e3 * roofline.step_seconds(costs, m.hw, m.floor),
                    "measured MFU %": 100 * float(r["ours_mfu"]),
                    "roofline MFU %": 100 * roofline.mfu_bound(m.model, k, m.hw, m.batch)})
    return pd.DataFrame(out).set_index("k").round({"GFLOP": 1, "GB": 3, "measured ms": 3, "roofline ms": 3,
                                                   "roofline + latency ms": 3, "measured MFU %": 1,
                                                   "roofline MFU %": 1})


def roofline_by_kind(current: pd.DataFrame) -> pd.DataFrame:
    """Roofline milliseconds per kind of operation (:func:`ddlib.roofline.kind`) at each measured width."""
    m = _measured(current)
    if m is None:
        return pd.DataFrame()
    columns = {f"k = {int(k)}, ms": {name: 1e3 * t for name, t in roofline.seconds_by_kind(
        roofline.step_costs(m.model, int(k), m.batch), m.hw).items()} for k in m.rows["k"]}
    return pd.DataFrame(columns).rename_axis("operations").round(3)


NO_CARD = {"roof_sentence": "No one-model GPU run on a card of known peak and bandwidth has been measured, so the "
                            "roofline is not set against a measurement here.",
           "roof_small_sentence": "", "roof_kinds_sentence": "", "roof_sweep_sentence": "", "roof_cache_sentence": "",
           "roof_groups_sentence": "", "roof_fused_sentence": "",
           "roof_fusion_sentence": "", "roof_mfu_words": "a share not counted here (no card of known peak measured)"}


def roofline_numbers(current: pd.DataFrame, measured: dict | None = None, fused_runs: pd.DataFrame | None = None
                     ) -> dict:
    """Numbers and sentences the appendix cites: the roofline at the widest measured width (its
    operations, FLOPs, bytes, the time of its matrix products and of the rest, the MFU bound against
    :data:`ddlib.gpu_report.TARGETS`), the smallest width's measured step against its roofline, and the
    sweep's hours at the roofline and with the per-operation latency, next to the projection from the
    measurements in ``measured`` (:func:`ddlib.gpu_report.key_numbers`: ``gpu_sweep_hours``, and
    ``gpu_sweep_hours_wide`` for the widths above :data:`ddlib.gpu_report.SMALL_K`, the part that groups
    at once is for); with ``fused_runs`` (:data:`FUSED_ADAM_RESULTS`), what Adam's fused form measured against
    the cited run; :data:`NO_CARD` without a run to set it against."""
    m = _measured(current)
    if m is None:
        return dict(NO_CARD)
    first, widest = m.rows.iloc[0], m.rows.iloc[-1]
    k = int(widest["k"])
    costs = roofline.step_costs(m.model, k, m.batch)
    by_kind = roofline.seconds_by_kind(costs, m.hw)
    products_kind = roofline.KINDS[0][0]
    rest = {name: t for name, t in by_kind.items() if name != products_kind}
    out = {"roof_card": m.hw.name, "roof_peak_tflops": m.hw.peak_tflops, "roof_tb_s": m.hw.memory_tb_s, "roof_k": k,
           "roof_ops": len(costs), "roof_gflop": sum(op.flops for op in costs) / 1e9,
           "roof_gbytes": sum(op.bytes for op in costs) / 1e9,
           "roof_products_ms": 1e3 * by_kind[products_kind], "roof_rest_ms": 1e3 * sum(rest.values()),
           "roof_ms": 1e3 * roofline.step_seconds(costs, m.hw), "roof_measured_ms": 1e3 * m.step_seconds(widest),
           "roof_mfu": roofline.mfu_bound(m.model, k, m.hw, m.batch), "roof_measured_mfu": float(widest["ours_mfu"]),
           "roof_floor_us": 1e6 * m.floor, "roof_k_min": int(first["k"]),
           "roof_small_ratio": m.step_seconds(first) / roofline.step_seconds(
               roofline.step_costs(m.model, int(first["k"]), m.batch), m.hw)}
    stage1_mb = m.batch * math.prod(stage_shapes(m.model, k)[0]) * 2 / 1e6  # one bf16 activation of the first stage
    out.update(roof_sentence=_sentence(out, m.batch) + _target_card_sentence(m, k), roof_small_sentence=_small_sentence(out),
               roof_kinds_sentence=_kinds_sentence(rest, k),
               roof_cache_sentence=(f"One activation of the first stage at $k = {k}$ (batch {m.batch}, bf16) is "
                                    f"{stage1_mb:.0f} MB and the {m.hw.name}'s L2 cache {m.hw.l2_mb:.0f} MB, so at "
                                    f"the widest width the cache caveat is not small: the estimate says where the "
                                    f"time would go, not a bound to the last per cent."),
               roof_fused_sentence=_fused_sentence(m, k, costs) + _fused_measured(current, fused_runs),
               roof_fusion_sentence=_fusion_sentence(m, k, costs), roof_mfu_words=f"{out['roof_mfu']:.1%}")
    out.update(_sweep_numbers(m, measured or {}))
    return out


def _sentence(n: dict, batch: int) -> str:
    target = TARGETS["mfu_k64"]
    verdict = (f"below the {target:.0%} utilisation target. By this estimate, with these operations at batch "
               f"{batch}, no scheduling of them reaches that target; fewer bytes (fusing operations, which `torch.compile` does "
               f"in part) or more arithmetic per byte (a larger batch, another recipe) would move the estimate"
               if n["roof_mfu"] < target else
               f"above the {target:.0%} utilisation target, so by this estimate the hardware does not rule it out; the gap to "
               f"the measured utilisation is the kernels' own")
    return (f"At $k = {n['roof_k']}$ one training step dispatches {n['roof_ops']} operations that do "
            f"{n['roof_gflop']:.0f} GFLOP and move {n['roof_gbytes']:.2f} GB. On an {n['roof_card']} "
            f"({n['roof_peak_tflops']:.0f} TFLOP/s, {n['roof_tb_s']:.2f} TB/s) they would take "
            f"{n['roof_ms']:.2f} ms at the roofline: {n['roof_products_ms']:.2f} ms for the convolutions and "
            "matrix products and "
            f"{n['roof_rest_ms']:.2f} ms for the memory-bound rest (batch norm, ReLU, additions, casts, Adam). The "
            f"measured step took {n['roof_measured_ms']:.2f} ms ({n['roof_measured_mfu']:.1%} MFU); at the roofline "
            f"the MFU would be {n['roof_mfu']:.1%} (an estimate: see the caveats below), {verdict}.")


def _target_card_sentence(m: _Measured, k: int, card: Hardware = roofline.H100_SXM) -> str:
    """Where the measured card is not the targets' ``card``: the same roofline count's MFU at width ``k`` on that
    card, as dispatched, with Adam's fused form, with the passes ideally fused, and with both, and which of these
    the utilisation target needs there; ``""`` on the targets' card itself."""
    if m.hw == card:
        return ""
    target = TARGETS["mfu_k64"]
    settings = (("as dispatched", {}), ("with Adam's fused form", dict(fused_adam=True)),
                ("with the passes ideally fused", dict(fuse_pointwise=True)),
                ("with both", dict(fused_adam=True, fuse_pointwise=True)))
    mfu = [(words, roofline.mfu_bound(m.model, k, card, m.batch, **kw)) for words, kw in settings]
    enough = next((words for words, v in mfu if v >= target), None)
    needs = (f"reaches the {target:.0%} target as dispatched" if enough == "as dispatched" else
             f"reaches the {target:.0%} target only {enough}" if enough else
             f"stays below the {target:.0%} target even with both")
    peak = ("the same peak" if card.peak_tflops == m.hw.peak_tflops else
            "a higher peak" if card.peak_tflops > m.hw.peak_tflops else "a lower peak")
    bandwidth = ("the same" if card.memory_tb_s == m.hw.memory_tb_s else
                 "more" if card.memory_tb_s > m.hw.memory_tb_s else "less")
    return (f" The targets are set for an {card.name} ({card.peak_tflops:.0f} TFLOP/s, {card.memory_tb_s:.2f} TB/s), "
            f"with {peak} and {bandwidth} memory bandwidth: there the same count gives "
            + ", ".join(f"{v:.1%} {words}" for words, v in mfu) + f", so on the targets' card it {needs}.")


def _fused_sentence(m: _Measured, k: int, costs: list) -> str:
    """What Adam's fused form (:func:`ddlib.train.resolve_fused_optimizer`) would change in the roofline at
    width ``k`` and in the number of operations a step dispatches, from a trace of that form."""
    fused, seconds, mfu = _counted(m, k, fused_adam=True)
    adam = [roofline.seconds_by_kind(c, m.hw)["Adam"] for c in (costs, fused)]
    return (f"Adam's fused form (`DDLIB_FUSED_OPTIMIZER`; see below for its default) would "
            f"dispatch {len(costs) - len(fused)} operations fewer a step at any width, and at $k = {k}$ take "
            f"{1e3 * adam[1]:.2f} ms at the roofline instead of {1e3 * adam[0]:.2f} ms: the step's roofline "
            f"would be {1e3 * seconds:.2f} ms and its MFU {mfu:.1%}.")


def _counted(m: _Measured, k: int, fused_adam: bool = False, fuse_pointwise: bool = False
             ) -> tuple[list, float, float]:
    """The step's operations at width ``k`` with Adam's fused form and/or the passes ideally fused, their
    roofline seconds on the measured card and the roofline MFU."""
    costs = roofline.step_costs(m.model, k, m.batch, fused_adam=fused_adam, fuse_pointwise=fuse_pointwise)
    mfu = roofline.mfu_bound(m.model, k, m.hw, m.batch, fused_adam=fused_adam, fuse_pointwise=fuse_pointwise)
    return costs, roofline.step_seconds(costs, m.hw), mfu


def fusion_table(current: pd.DataFrame) -> pd.DataFrame:
    """At the widest measured width (one model, the measured card): the step's roofline time and MFU as
    dispatched and with the passes between the matrix products ideally fused (:func:`ddlib.roofline.fused`),
    each with Adam's foreach and fused forms; empty without a measured card."""
    m = _measured(current)
    if m is None:
        return pd.DataFrame()
    k = int(m.rows["k"].iloc[-1])
    rows = {}
    for fuse, label in ((False, "as dispatched"), (True, "passes ideally fused")):
        row = {}
        for adam, name in ((False, "foreach Adam"), (True, "fused Adam")):
            _, seconds, mfu = _counted(m, k, adam, fuse)
            row[f"{name}: ms"], row[f"{name}: MFU %"] = round(1e3 * seconds, 2), round(100 * mfu, 1)
        rows[label] = row
    return pd.DataFrame(rows).T.rename_axis(f"k = {k}, roofline")


def _fusion_sentence(m: _Measured, k: int, costs: list) -> str:
    """What an ideal fusion of the passes between the matrix products (:func:`ddlib.roofline.fused`) would
    allow at width ``k``, with Adam's default and fused forms, against the utilisation target: which of the
    two fusions the target needs by this count, and how close to their roofline the kernels would then
    have to run (target / roofline MFU), against how close the measured step runs (roofline / measured time)."""
    target = TARGETS["mfu_k64"]
    fused, fused_s, alone = _counted(m, k, fuse_pointwise=True)
    _, both_s, both = _counted(m, k, fused_adam=True, fuse_pointwise=True)
    before = sum(t for name, t in roofline.seconds_by_kind(costs, m.hw).items() if name in roofline.FUSABLE)
    after = roofline.seconds_by_kind(fused, m.hw)[roofline.FUSED_KIND]
    now = roofline.step_seconds(costs, m.hw) / m.step_seconds(m.rows.iloc[-1])
    said = (f"If the runs of batch norm, ReLU, residual additions and casts between two matrix products were each one "
            f"pass that reads what came before it once and writes only what later operations read (an ideal fusion, "
            f"`ddlib.roofline.fused`), those passes would take {1e3 * after:.2f} ms at the roofline instead of "
            f"{1e3 * before:.2f} ms at $k = {k}$: a step of {1e3 * fused_s:.2f} ms and a "
            f"roofline MFU of {alone:.1%}, or {1e3 * both_s:.2f} ms and {both:.1%} "
            f"with Adam's fused form as well. This is optimistic: it counts one pass where batch norm needs two (it "
            f"must reduce over its input, and in the backward pass over the output gradient, before the rest), and "
            f"`torch.compile` fuses less.")
    kernels = (f"the kernels would have to run at {{:.0%}} of their roofline speed on average, where the measured step "
               f"runs at {now:.0%} of it")
    dispatched = roofline.mfu_bound(m.model, k, m.hw, m.batch)
    if dispatched >= target:
        return (f"{said} So by this count the {target:.0%} target at batch {m.batch} is within this card's reach even "
                f"as dispatched, but then {kernels.format(target / dispatched)}; with the passes fused they would "
                f"need {target / alone:.0%}.")
    if alone >= target:
        return (f"{said} So by this count the {target:.0%} target at batch {m.batch} is within the card's reach with "
                f"the fused passes alone, but then {kernels.format(target / alone)}.")
    if both >= target:
        return (f"{said} So by this count the {target:.0%} target at batch {m.batch} needs both fusions, the passes' "
                f"and Adam's, and even then {kernels.format(target / both)}.")
    return (f"{said} So by this count even both fusions stay below the {target:.0%} target at batch {m.batch}; only "
            f"more arithmetic per byte (a larger batch, or several seeds grouped) could reach it.")


def fused_adam_comparison(current: pd.DataFrame, fused_runs: pd.DataFrame | None) -> pd.DataFrame:
    """Per width: images per second of one model with Adam's fused form (the newest run in ``fused_runs``)
    and with the foreach form (``current``'s one-model rows with the same date, device and
    ``cuda_graph`` switch), and fused / default; empty unless both were measured in the same session."""
    if fused_runs is None or fused_runs.empty or current.empty:
        return pd.DataFrame()
    fused = newest_file(fused_runs)
    fused = fused[fused["members"] == 1]
    same = ["date", "device", "cuda_graph"]
    plain = current[current["members"] == 1].merge(fused[same].drop_duplicates(), on=same)
    if plain.empty:
        return pd.DataFrame()
    out = pd.DataFrame({"foreach images/s": plain.set_index("k")["ours_images_per_s"],
                        "fused images/s": fused.set_index("k")["ours_images_per_s"]}).dropna()
    out["fused / foreach"] = out["fused images/s"] / out["foreach images/s"]
    return out.rename_axis("k").round({"foreach images/s": 0, "fused images/s": 0, "fused / foreach": 2})


def _fused_measured(current: pd.DataFrame, fused_runs: pd.DataFrame | None) -> str:
    table = fused_adam_comparison(current, fused_runs)
    if table.empty and (fused_runs is None or fused_runs.empty):
        return " No GPU run of it has been measured yet."
    if table.empty:
        newest = newest_file(fused_runs).iloc[0]
        return (f" Its newest run ({newest['device']}, {newest['date']}) was not measured next to the cited foreach "
                f"loop (same card, date and CUDA-graph switch), so it is not compared here.")
    row = current.iloc[0]
    return (f" Measured on the {row['device']} ({row['date']}), it trained one model at "
            + ", ".join(f"{r:.2f}" for r in table["fused / foreach"])
            + " times the foreach loop's images per second at $k = "
            + ", ".join(str(int(k)) for k in table.index) + "$" + _fused_default(table) + " "
            + _fused_projection(current, table))


def _fused_default(table: pd.DataFrame) -> str:
    """Whether the measured ratios bear out the library's default (:func:`ddlib.train.resolve_fused_optimizer`:
    fused on CUDA)."""
    if (table["fused images/s"] >= table["foreach images/s"]).all():
        return ", so it is the library's default on CUDA (`DDLIB_FUSED_OPTIMIZER=auto`; foreach on a CPU)."
    return (", slower at some widths, yet the library's default on CUDA (`DDLIB_FUSED_OPTIMIZER=auto`) is "
            "fused: that default should be revisited.")


def fused_sweep_hours(current: pd.DataFrame, table: pd.DataFrame) -> dict[str, float]:
    """The one-model sweep projected with each form of Adam (``{"foreach": h, "fused": h}``) from the widths both were
    measured at (``table``: :func:`fused_adam_comparison`; :func:`ddlib.gpu_report.projected_sweep_hours`, above the
    widest measured width scaled by FLOPs, as in the throughput run's own projection)."""
    first = current.iloc[0]
    return {form: projected_sweep_hours(first, table[f"{form} images/s"].to_dict()) for form in ("foreach", "fused")}


def _fused_projection(current: pd.DataFrame, table: pd.DataFrame) -> str:
    """:func:`fused_sweep_hours` in words."""
    first = current.iloc[0]
    k_max = int(first["sweep_k_max"])
    hours = fused_sweep_hours(current, table)
    return (f"Projected from these widths alone ($k = 1$ to {k_max}, {int(first['sweep_epochs'])} epochs, "
            f"{plural(int(first['sweep_seeds']), 'seed')} per width), "
            f"the one-model sweep takes about {hours['fused']:.0f} GPU-hours with the fused form against "
            f"{hours['foreach']:.0f} with the foreach form.")


def _small_sentence(n: dict) -> str:
    ratio = n["roof_small_ratio"]
    return (f"At $k = {n['roof_k_min']}$ the measured step takes {ratio:.0f} times its roofline: " + (
        "the small models are bound by the latency of their operations, one after another, not by arithmetic or "
        "memory." if ratio >= 10 else "even the small models run close to what the card allows."))


def _kinds_sentence(rest: dict[str, float], k: int) -> str:
    largest = sorted(rest.items(), key=lambda item: -item[1])
    return (f"The memory-bound rest at $k = {k}$ splits into "
            + ", ".join(f"{name} {1e3 * t:.2f} ms" for name, t in largest[:-1])
            + f" and {largest[-1][0]} {1e3 * largest[-1][1]:.3f} ms: most are passes over the activations or the "
              f"weights that a kernel fusing them with their neighbours would not make.")


def _understates(predicted: float, measured: float) -> str:
    if predicted < 0.9 * measured:
        return ", so it understates the wide steps (their kernels run below the roofline)"
    return ", so it overstates the wide steps" if predicted > 1.1 * measured else ", close to it"


def counted_sweep_hours(current: pd.DataFrame, card: Hardware | None = None) -> tuple[float, float] | None:
    """The one-model sweep of the cited run's settings counted on ``card`` (default: the card it ran on,
    :func:`ddlib.roofline.sweep_hours`): at the roofline, and with every operation at least the latency of one
    operation measured at the smallest width; ``None`` without a run to take the settings from."""
    m = _measured(current)
    return None if m is None else _counted_hours(m, m.hw if card is None else card)


def _counted_hours(m: _Measured, card: Hardware) -> tuple[float, float]:
    first = m.rows.iloc[0]
    widths, images = range(1, int(first["sweep_k_max"]) + 1), sweep_images(first)
    return (roofline.sweep_hours(m.model, widths, images, card, batch=m.batch),
            roofline.sweep_hours(m.model, widths, images, card, floor=m.floor, batch=m.batch))


def _sweep_numbers(m: _Measured, measured: dict) -> dict:
    first = m.rows.iloc[0]
    widths = range(1, int(first["sweep_k_max"]) + 1)
    images = sweep_images(first)
    at_roof, with_latency = _counted_hours(m, m.hw)
    small = roofline.sweep_hours(m.model, range(1, SMALL_K + 1), images, m.hw, floor=m.floor, batch=m.batch)
    hours = TARGETS["sweep_hours"]
    widest = m.rows.iloc[-1]
    widest_costs = roofline.step_costs(m.model, int(widest["k"]), m.batch)
    predicted = roofline.step_seconds(widest_costs, m.hw, m.floor)
    text = (f"For the whole sweep ($k = 1$ to {widths[-1]}, one model at a time) the roofline gives {at_roof:.0f} "
            f"GPU-hours, {'under' if at_roof < hours else 'over'} the {hours:.0f}-hour sweep-cost target. At "
            f"$k = {int(first['k'])}$ the graphed step took {m.floor * 1e6:.1f} µs per dispatched operation (its measured "
            f"time over its operations; an operation may run several kernels, and in a replayed graph this is "
            f"not launch overhead but each kernel's own start-up and its wait for the one before). A model that "
            f"gives every operation at least that long predicts {1e3 * predicted:.2f} ms for the step at "
            f"$k = {int(widest['k'])}$, against {1e3 * m.step_seconds(widest):.2f} ms measured"
            f"{_understates(predicted, m.step_seconds(widest))}; for the sweep it gives {with_latency:.0f} GPU-hours, "
            f"{small:.0f} of them for $k \\le {SMALL_K}$")
    projected = measured.get("gpu_sweep_hours")
    text += f", against {projected:.0f} projected from the measurements." if projected is not None else "."
    if at_roof < hours <= with_latency:
        text += (" By this estimate the sweep-cost target is within the card's reach only if that latency is hidden, by "
                 "keeping the operations of several models in flight at once: widths padded into one ensemble for the "
                 "small widths and groups at once for the wide ones (below); grouping seeds does not make a "
                 "one-seed sweep cheaper.")
    elif with_latency < hours:
        text += " Even with that latency the sweep fits the target; what is lost is the kernels' own inefficiency."
    else:
        text += (" Even at the roofline the sweep misses the target: one card cannot run it in time with these "
                 "operations.")
    wide = roofline.sweep_hours(m.model, range(SMALL_K + 1, widths[-1] + 1), images, m.hw, batch=m.batch)
    wide_measured = measured.get("gpu_sweep_hours_wide")
    groups = ("" if wide_measured is None else
              f"The widths above {SMALL_K}, {wide_measured:.1f} GPU-hours as projected from the "
              f"measurements, would take {wide:.1f} at the roofline: training groups at once can gain at most about "
              f"{wide_measured / wide:.1f} times there, and at $k = {int(widest['k'])}$ at most "
              f"{m.step_seconds(widest) / roofline.step_seconds(widest_costs, m.hw):.1f} times, up to the caveats of "
              f"the estimate.")
    return {"roof_sweep_hours": at_roof, "roof_sweep_hours_latency": with_latency,
            "roof_sweep_hours_latency_small": small, "roof_sweep_hours_wide": wide, "roof_sweep_sentence": text,
            "roof_groups_sentence": groups}


def _gpu_profile(runs: pd.DataFrame) -> pd.DataFrame:
    """The rows of the newest ``benchmarks/kernel_profile.py`` file measured on a GPU (empty if none)."""
    return newest_file(runs, cpu=False)


def kernel_profile_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per kind of operation and width of the newest GPU profile: measured and roofline ms per step and
    their ratio (the kernels' efficiency against the roofline)."""
    rows = _gpu_profile(runs)
    if rows.empty:
        return rows
    values = ["measured_ms", "roofline_ms", "efficiency"]
    table = rows.pivot_table(index="kind", columns="k", values=values, sort=False)
    table = table[[(what, k) for k in sorted(rows["k"].unique()) for what in values]]
    table.columns = [f"k = {k}: {what.replace('_', ' ')}" for what, k in table.columns]
    return with_dashes(table.round(3)) if len(table) else table  # dashes: no roofline for the unattributed time


def kernel_profile_sentence(runs: pd.DataFrame) -> str:
    """What the newest GPU profile shows: per width, the step's wall time, its kernels' time and the kinds
    of operation furthest below their roofline; or that no GPU profile exists yet."""
    rows = _gpu_profile(runs)
    if rows.empty:
        return ("Which kinds of operation fall short of their roofline on the card, and by how much, only a profile "
                "of the step on the GPU can tell; none exists yet (`benchmarks/kernel_profile.py`, step 5 of "
                "`benchmarks/gpu_session.sh`: eager steps under `torch.profiler`, each kind's kernel time against "
                "its roofline).")
    first = rows.iloc[0]
    parts, any_lost = [], False
    for k, at_k in rows.groupby("k", sort=True):
        step = at_k.iloc[0]
        timed = at_k[at_k["efficiency"].notna() & (at_k["roofline_ms"] > 0.01 * at_k["roofline_ms"].sum())]
        worst = timed.sort_values("efficiency").head(2)
        slow = " and ".join(f"{r['kind']} at {r['efficiency']:.0%} of it" for _, r in worst.iterrows())
        lost = at_k.loc[at_k["kind"] == "unattributed", "measured_ms"].sum()
        said_lost = lost >= 0.05 * step["step_kernel_ms"]
        any_lost |= said_lost
        unattributed = (f", and the profiler attributed {lost:.2f} ms ({lost / step['step_kernel_ms']:.0%}) of that "
                        f"kernel time to no known kind of operation" if said_lost else "")
        parts.append(f"at $k = {int(k)}$ the step took {step['step_wall_ms']:.2f} ms, {step['step_kernel_ms']:.2f} ms "
                     f"of it in kernels; furthest below their roofline (of the kinds with at least 1% of the step's "
                     f"roofline time): {slow}{unattributed}")
    caveat = (" Where part of the kernel time is unattributed, the kinds' own rows undercount by that much; "
              "which kinds it belongs to was not traced." if any_lost else "")
    return (f"Profiled on {first['device']} ({first['date']}, {int(first['steps'])} eager steps after a warm-up under "
            f"`torch.profiler`, `benchmarks/results/kernel-profile/`): " + "; ".join(parts) + "." + caveat)
