"""Where a distilled student's own interpolation peak lies: study 3 of the closed-form chapter, continued.

A student with ``M`` random ReLU features fitted min-norm to ``P`` pool points is square at ``P = M``. There its
feature Gram matrix is as badly conditioned as it gets, and the test error of a min-norm fit peaks (Belkin, Hsu & Xu
2020, Theorem 1, for Gaussian features; Hastie, Montanari, Rosset & Tibshirani 2022 for random features in the limit).
That holds whatever fitted the targets and whatever the size ``n`` of the labeled set the teacher saw.

Study 3 runs one student width, ``M = n``, where ``P/M`` and ``P/n`` are one number. Here students of several widths
(``peak_student_ratios``, as ``M/n``) are fitted to the widest teacher's hard labels on pools around their own size
(``P/M`` in :data:`POOL_RATIOS`), so that the two can be told apart. If the peak follows the student, it sits at
``P/M = 1`` for every student, i.e. at ``P/n = M/n``.
"""
from __future__ import annotations

import pandas as pd

from ..prose import join
from ..random_features import block_metrics, fit_ridge_path, one_hot
from .random_features import (PEAK_POOL_REACH, _plain_log_ticks, _single_threaded, fit_teacher, ratio_text,
                              student_features, student_width, widths)

#: Pool sizes around each student's own width, as ``P/M``; dense near 1, where the peak is (up to
#: :data:`ddlib.chapters.random_features.PEAK_POOL_REACH`, which the pool draw is sized for).
POOL_RATIOS = (0.5, 0.75, 0.9, 1.0, 1.1, 1.33, PEAK_POOL_REACH)
#: A peak "follows the student" where its ``P/M`` lies within this distance of 1, for every student width.
NEAR_ONE = 0.1


@_single_threaded
def run_student_peak(params: dict, data: dict) -> pd.DataFrame:
    """Students of width ``M = round(r * n)`` for ``r`` in ``peak_student_ratios`` (each its own feature draw, as
    in study 3), fitted min-norm to the widest teacher's hard labels on the first ``P = round(q * M)`` pool points
    for ``q`` in :data:`POOL_RATIOS`; one row per student and pool, with test error and one-hot test MSE."""
    n, c = params["n_train"], data["num_classes"]
    teacher_width = max(widths(n, params["teacher_ratios"]))
    feats, theta = fit_teacher(params, data, teacher_width)
    hard = one_hot(feats.predict(data["x_pool"], theta).argmax(1).numpy(), c)
    rows = []
    for r in sorted(params["peak_student_ratios"]):
        m = student_width(n, r)
        student = student_features(params, data, m)
        phi_pool = student(data["x_pool"])
        for pool in sorted({max(1, int(round(q * m))) for q in POOL_RATIOS}):
            (fit,) = fit_ridge_path(phi_pool[:pool], hard[:pool], [0.0])
            err, mse = block_metrics(student.predict(data["x_test"], fit), data["y_test"], c)
            rows.append(dict(study="student-peak", role="student-hard", N=teacher_width, N_over_n=teacher_width / n,
                             M=m, M_over_n=m / n, pool_size=pool, P_over_M=pool / m, P_over_n=pool / n,
                             test_error=float(err[0]), test_mse=float(mse[0])))
    return pd.DataFrame(rows)


def peak_numbers(frame: pd.DataFrame, params: dict) -> dict:
    """Where each student's test MSE peaks (the pool size of its highest MSE), as ``P/M`` and ``P/n``, and the
    sentence the chapter prints: the peak "follows the student" where every ``P/M`` at the peak is within
    :data:`NEAR_ONE` of 1 and the students' ``M/n`` differ, so that their ``P/n`` at the peak differ too."""
    peaks = frame.loc[frame.groupby("M")["test_mse"].idxmax()].sort_values("M")
    at_m = [ratio_text(v) for v in peaks["P_over_M"]]
    at_n = [ratio_text(v) for v in peaks["P_over_n"]]
    students = join(ratio_text(v) for v in peaks["M_over_n"])
    follows = bool(((peaks["P_over_M"] - 1).abs() <= NEAR_ONE).all()) and peaks["M_over_n"].nunique() > 1
    verdict = ("the peak follows the student's own width $M$, not the labeled set's size $n$. A pool is large for "
               "a student when $P$ is well past its own $M$" if follows else
               "the peaks do not all sit at $P = M$ in this run")
    text = (f"Fitted to the widest teacher's hard labels ($N/n$ = {ratio_text(float(peaks['N_over_n'].iloc[0]))}), "
            f"students with $M/n$ = {students} have their highest test MSE at $P/M$ = {join(at_m)}, that is at "
            f"$P/n$ = {join(at_n)}: {verdict}.")
    return dict(peak_sentence=text, peak_follows_student=follows, peak_students=students)


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
