"""Where a distilled student's own interpolation peak lies: study 3 of the closed-form chapter, continued.

A student with ``M`` random ReLU features fitted min-norm to ``P`` pool points is square at ``P = M``. There its
feature Gram matrix is as badly conditioned as it gets, and the test error of a min-norm fit to targets the student
cannot represent exactly peaks (Belkin, Hsu & Xu 2020, Theorem 1, for Gaussian features; Hastie, Montanari, Rosset &
Tibshirani 2022 for random features in the limit). Hard labels from a teacher with its own feature draw are such
targets, whatever the size ``n`` of the labeled set the teacher saw.

Study 3 runs one student width, ``M = n``, where ``P/M`` and ``P/n`` are one number. Here students of several widths
(``peak_student_ratios``, as ``M/n``) are fitted to the widest teacher's hard labels on pools around their own size
(``P/M`` in :data:`POOL_RATIOS`) and at ``P = n``, so that the two can be told apart. If the peak follows the
student, it sits at ``P = M`` for every student, and a student with ``M != n`` has no peak at ``P = n``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import mnist1d_data
from ..prose import join
from ..random_features import block_metrics, fit_ridge_path, one_hot
from .random_features import _plain_log_ticks, _single_threaded, fit_teacher, ratio_text, student_features, widths

#: Pool sizes around each student's own width, as ``P/M``; dense near 1, where the peak is. Every student is also
#: fitted at ``P = n``.
POOL_RATIOS = (0.5, 0.75, 0.9, 1.0, 1.1, 1.33, 2.0)


def pool_sizes_for(m: int, n: int) -> list[int]:
    """The pool sizes a student of width ``m`` is fitted on: ``round(q * m)`` for ``q`` in :data:`POOL_RATIOS`
    (``P = m`` among them), and ``n``."""
    return sorted({max(1, int(round(q * m))) for q in POOL_RATIOS} | {n})


def _pool(params: dict, data: dict, size: int):
    """The first ``size`` pool inputs: study 3's draw where it is long enough, else a draw of its own with
    ``pool_seed`` (MNIST-1D draws of one seed are not prefixes of each other, so study 3's draw is never changed)."""
    if len(data["x_pool"]) >= size:
        return data["x_pool"][:size]
    return mnist1d_data.generate(size, params["pool_seed"])[0]


@_single_threaded
def run_student_peak(params: dict, data: dict) -> pd.DataFrame:
    """Students of the widths ``M`` of ``peak_student_ratios`` (:func:`ddlib.chapters.random_features.widths`,
    each its own feature draw, as in study 3), fitted min-norm to the widest teacher's hard labels on the first ``P``
    pool points for ``P`` in :func:`pool_sizes_for`; one row per student and pool, with test error and one-hot test
    MSE."""
    n, c = params["n_train"], data["num_classes"]
    teacher_width = max(widths(n, params["teacher_ratios"]))
    feats, theta = fit_teacher(params, data, teacher_width)
    student_widths = widths(n, params["peak_student_ratios"])
    x_pool = _pool(params, data, max(max(pool_sizes_for(m, n)) for m in student_widths))
    hard = one_hot(feats.predict(x_pool, theta).argmax(1).numpy(), c)
    rows = []
    for m in student_widths:
        pools = pool_sizes_for(m, n)
        student = student_features(params, data, m)
        phi_pool = student(x_pool[:max(pools)])
        for pool in pools:
            (fit,) = fit_ridge_path(phi_pool[:pool], hard[:pool], [0.0])
            err, mse = block_metrics(student.predict(data["x_test"], fit), data["y_test"], c)
            rows.append(dict(study="student-peak", role="student-hard", N=teacher_width, N_over_n=teacher_width / n,
                             M=m, M_over_n=m / n, pool_size=pool, P_over_M=pool / m, P_over_n=pool / n,
                             test_error=float(err[0]), test_mse=float(mse[0])))
    return pd.DataFrame(rows)


def peak_numbers(frame: pd.DataFrame, num_classes: int = mnist1d_data.NUM_CLASSES) -> dict:
    """Where each student's test MSE peaks (the pool size of its highest MSE), as ``P/M`` and ``P/n``, in the
    sentence the chapter prints. Three verdicts: the peaks are not all at ``P = M``; they are, but every student has
    ``M = n`` (nothing told apart); they are, and the students with ``M != n`` have no peak at ``P = n`` (their MSE
    and error there are quoted): the peak follows the student."""
    peaks = frame.loc[frame.groupby("M")["test_mse"].idxmax()].sort_values("M")
    at_own = bool((peaks["pool_size"] == peaks["M"]).all())
    n = int(round(float(peaks["M"].iloc[0] / peaks["M_over_n"].iloc[0])))
    others = frame[(frame["M"] != n) & (frame["pool_size"] == n)]
    text = (f"Fitted to the widest teacher's hard labels ($N/n$ = {ratio_text(float(peaks['N_over_n'].iloc[0]))}), "
            f"students with $M/n$ = {join(ratio_text(v) for v in peaks['M_over_n'])} have their highest test MSE at "
            f"$P/M$ = {join(ratio_text(v) for v in peaks['P_over_M'])}, that is at $P/n$ = "
            f"{join(ratio_text(v) for v in peaks['P_over_n'])}")
    chance = 1 - 1 / num_classes
    error = (f"; their test error there is {_span(peaks['test_error'])} (chance: {chance:.0%})")
    if not at_own:
        return dict(peak_sentence=text + error + ": the peaks do not all sit at $P = M$ in this run.",
                    peak_follows_student=False)
    if others.empty:
        return dict(peak_sentence=text + error + ". Every student here has $M = n$, so this run cannot tell $P/M$ "
                                                 "from $P/n$.", peak_follows_student=False)
    return dict(peak_sentence=(
        text + error + f". At $P = n$ the students with $M \\ne n$ have a test MSE of {_span(others['test_mse'], '.2f')}"
        f" and an error of {_span(others['test_error'])}, against an MSE of order {_orders(peaks['test_mse'])} at "
        f"their own $P = M$ (one draw each, of a fit that is exactly square there, where the expected MSE is "
        f"infinite: only its order means anything): the peak follows the student's own width $M$, not the labeled set's size $n$, so a pool's size is "
        f"to be read against the student's $M$."), peak_follows_student=True)


def _orders(values: pd.Series) -> str:
    """The decimal orders of magnitude ``values`` span, as maths: ``"$10^{2}$ to $10^{5}$"`` (one where they agree)."""
    lo, hi = (int(np.floor(np.log10(float(v)))) for v in (values.min(), values.max()))
    return f"$10^{{{lo}}}$" if lo == hi else f"$10^{{{lo}}}$ to $10^{{{hi}}}$"


def _span(values: pd.Series, fmt: str = ".1%") -> str:
    """``"a–b"`` of the smallest and largest of ``values`` (one value where they print alike)."""
    lo, hi = format(float(values.min()), fmt), format(float(values.max()), fmt)
    return lo if lo == hi else f"{lo}–{hi}"


def plot_student_peak(frame: pd.DataFrame):
    """Test MSE (log) of each student width against ``P/M`` (left) and against ``P/n`` (right)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    palette = sns.color_palette("colorblind")
    for i, (m, rows) in enumerate(frame.groupby("M")):
        label = f"student M/n = {ratio_text(float(rows['M_over_n'].iloc[0]))} (M = {m})"
        for ax, x in zip(axes, ("P_over_M", "P_over_n")):
            ax.plot(rows[x], rows["test_mse"], "-o", ms=3.5, color=palette[i % len(palette)], label=label)
    for ax, x, name in zip(axes, ("P_over_M", "P_over_n"), ("pool P / student M", "pool P / labeled n")):
        ax.axvline(1.0, color="grey", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel=name)
        lo, hi = frame[x].min(), frame[x].max()
        _plain_log_ticks(ax, [t for t in (0.25, 0.5, 1, 2, 4) if lo <= t <= hi * 1.001])
    axes[0].set_ylabel("test MSE (one-hot)")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
