"""The projected cost of a width sweep from throughputs measured at a few widths.

A sweep trains ``images`` images (epochs x training-set size x seeds) at every width ``k``; its
cost is ``sum_k images * s(k)`` with ``s(k)`` the seconds per image at width ``k``, interpolated
from the measured widths by :func:`seconds_per_image`. ``benchmarks/train_throughput.py`` writes
the projection into its CSV; :mod:`ddlib.gpu_report` splits it by width for the appendix.
"""
from __future__ import annotations

import math

import numpy as np


def seconds_per_image(measured: dict[int, float], flops: dict[int, float], k: int) -> float:
    """Seconds per image at width ``k`` from ``{k: images/s}``: linear interpolation in
    ``(log k, log s)`` between measured widths; flat below the smallest; scaled by FLOPs above the
    largest (exact once compute-bound, an upper bound while per-step overhead still dominates)."""
    ks = sorted(measured)
    if k <= ks[0]:
        return 1.0 / measured[ks[0]]
    if k >= ks[-1]:
        return flops[k] / flops[ks[-1]] / measured[ks[-1]]
    i = int(np.searchsorted(ks, k)) - 1
    a, b = math.log(ks[i]), math.log(ks[i + 1])
    la, lb = -math.log(measured[ks[i]]), -math.log(measured[ks[i + 1]])
    return math.exp(la + (math.log(k) - a) / (b - a) * (lb - la))


def projected_hours(measured: dict[int, float], flops: dict[int, float], widths, images: float) -> float:
    """Device-hours to train ``images`` images at each of ``widths`` at the measured images/s."""
    return sum(images * seconds_per_image(measured, flops, k) for k in widths) / 3600
