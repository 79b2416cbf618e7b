"""The closed-form chapter's answers to C1-C4, for the findings page (``book/findings.md``, section *In closed form*).

The closed-form chapter (:mod:`ddlib.chapters.random_features`, ``book/random-features.md``) fits its models exactly,
so it answers the claims without the training chapters' noise of seeds and optimisers. :func:`gather` reruns its three
studies at one preset through the chapter's own functions (a few seconds on a CPU at ``default``; nothing is stored,
as the chapter stores nothing it does not recompute) and keeps their numbers
(:func:`~ddlib.chapters.random_features.linear_numbers`, :func:`~ddlib.chapters.random_features.ridge_numbers`,
:func:`~ddlib.chapters.random_features.distillation_numbers`). The tables and sentences here set them out claim by
claim, with the findings page's words: differences of errors as printed (:func:`ddlib.prose.shown_difference`),
*clear* from :data:`ddlib.prose.CLEAR` on, a student *close* to its teacher within
:data:`ddlib.chapters.distillation.CLOSE_TO_TEACHER`, a larger pool helping from
:data:`ddlib.chapters.distillation.MARGIN` on.

- **C1** (:func:`c1_table`, :func:`c1_sentence`): the exact risk of min-norm linear regression (Belkin, Hsu & Xu
  2020) for each decay of the true weights, and the test error of min-norm random ReLU features on MNIST-1D with noisy
  labels: the narrowest model, the threshold, the widest model and the lowest anywhere.
- **C2-C4** (:func:`distillation_table`, :func:`c2_c4_sentence`): the teacher at its peak and the widest teacher,
  their students on the largest and the smallest pool, and the same student fitted to the labeled set (min-norm,
  and with the ridge of lowest test error, an oracle).
"""
from __future__ import annotations

import pandas as pd

from ..prose import CLEAR, as_shown, points, relation, shown_difference
from . import distillation as kd
from . import random_features as rf


def gather(preset: str) -> dict:
    """The closed-form chapter's parameters at ``preset``, the frames of its first two studies (``linear_frame``,
    ``ridge_frame``) and its three studies' numbers (``linear``, ``ridge``, ``distill``), computed by the chapter's own
    functions with its own seeds."""
    p = rf.resolve_params(preset)
    data = rf.load_mnist1d(p)
    linear, ridge = rf.run_linear(p), rf.run_ridge(p, data)
    return dict(params=p, linear_frame=linear, ridge_frame=ridge, linear=rf.linear_numbers(linear, p),
                ridge=rf.ridge_numbers(ridge, p), distill=rf.distillation_numbers(rf.run_distillation(p, data), p))


# --- C1 -------------------------------------------------------------------------------------------------------------

#: The rows of :func:`c1_table`.
C1_ROWS = ("narrowest", "best below the threshold", "at the threshold", "widest", "lowest anywhere")


def c1_curves(g: dict) -> dict[str, dict]:
    """``{label: curve}``, one per curve C1 is read on: study 1's exact risk for each decay ``a`` of the true weights
    (``p`` features, ``n`` samples; the risk is infinite at ``p = n \\pm 1``, so ``p = n + 2`` stands for the
    threshold) and study 2's test error with noisy labels, min-norm and with the tuned ridge (``N`` features, means
    over feature draws). Each curve is a dict: ``values`` (by width, sorted), ``threshold`` (``n``), ``at`` (the width
    that stands for it), ``width`` (``"p"`` or ``"N"``), ``error`` (whether the values are error rates) and
    ``decay`` (study 1)."""
    p, lin, ridge = g["params"], g["linear_frame"], g["ridge_frame"]
    curves = {}
    for decay in p["lin_beta_decays"]:
        values = lin[lin.beta_decay == float(decay)].set_index("p").theory.sort_index()
        curves[f"linear regression, a = {decay:g} (exact risk)"] = dict(
            values=values, threshold=p["lin_n"], at=p["lin_n"] + 2, width="p", error=False, decay=float(decay))
    tuned = rf.with_best_ridge(ridge, "test_error")
    for label, ridge_value in (("min-norm", 0.0), ("tuned ridge", -1.0)):
        rows = tuned[(tuned.labels == "noisy") & (tuned.ridge == ridge_value)]
        curves[f"random ReLU features, {label} (test error %)"] = dict(
            values=rows.groupby("N").test_error.mean().sort_index(), threshold=p["n_train"], at=p["n_train"],
            width="N", error=True)
    return curves


def _curve_cells(c: dict) -> list[str]:
    """:data:`C1_ROWS` of one curve of :func:`c1_curves`, each value (per cent for errors) with its width beside it;
    ``"–"`` where the grid has no such width."""
    values = c["values"]

    def cell(width):
        value = f"{100 * values[width]:.1f}" if c["error"] else f"{values[width]:.3f}"
        return f"{value} ({c['width']} = {width})"
    below = values[values.index < c["threshold"]]
    return [cell(values.index[0]), cell(below.idxmin()) if len(below) else "–",
            cell(c["at"]) if c["at"] in values.index else "–", cell(values.index[-1]), cell(values.idxmin())]


def c1_table(g: dict) -> pd.DataFrame:
    """One column per curve of :func:`c1_curves`, rows :data:`C1_ROWS`."""
    frame = pd.DataFrame({label: _curve_cells(c) for label, c in c1_curves(g).items()}, index=list(C1_ROWS))
    frame.columns.name = "curve"
    return frame


def c1_sentence(g: dict) -> str:
    """C1 in closed form: for each decay of study 1, whether the widest model has the lowest exact risk (else where
    the lowest is); for study 2's min-norm fit to noisy labels, whether its highest error is a clear peak (at least
    ``CLEAR`` above both the narrowest and the widest model, as printed) and whether the widest model has the lowest
    error (as printed); whether the tuned ridge removes the peak (never rises by ``CLEAR`` from one width to the
    next, :func:`ddlib.chapters.random_features.ridge_numbers`)."""
    said, curves = [], c1_curves(g)
    for c in curves.values():
        if c["error"]:
            continue
        values = c["values"]
        head = f"with weights decaying as $j^{{-{c['decay']:g}}}$" if c["decay"] else "with equal weights"
        best = values.idxmin()
        if values.iloc[-1] <= values.min():
            said.append(f"{head}, the widest model ($p = D$) has the lowest risk, {values.iloc[-1]:.3f}")
        else:
            side = "under" if best < c["threshold"] else "over"
            said.append(f"{head}, the lowest risk is {values[best]:.3f} at $p$ = {best} ({side}-parameterised), "
                        f"and the widest model's is {values.iloc[-1]:.3f}")
    linear = (f"In linear regression the exact risk is infinite next to the threshold $p = n$; {'; '.join(said)} "
              f"(predicting zero has risk {g['linear']['lin_null_risk']:.3f}).")
    values = curves["random ReLU features, min-norm (test error %)"]["values"]
    n, top = g["params"]["n_train"], values.idxmax()
    rise = shown_difference(values[top], max(values.iloc[0], values.iloc[-1]))
    where = f"{values[top]:.1%} at $N/n$ = {rf.ratio_text(top / n)}"
    peak = (f"peaks clearly ({where}, {points(rise)} above the higher of the narrowest and the widest model's)"
            if rise >= CLEAR else f"has no clear peak (its highest, {where}, is less than {points(CLEAR)} above the "
                                  f"higher of the two ends)")
    lowest = shown_difference(values.iloc[-1], values.min()) == 0
    widest = ("the widest model has the lowest error of all widths" if lowest else
              f"the widest model ({values.iloc[-1]:.1%}) is not the best width ({values.min():.1%} at $N/n$ = "
              f"{rf.ratio_text(values.idxmin() / n)})")
    tuned = ("a ridge tuned on the test set removes the peak" if g["ridge"]["noisy_tuned_max_rise_err"] < CLEAR - 1e-12
             else "even a ridge tuned on the test set leaves a rise")
    return (f"{linear} With random ReLU features on MNIST-1D and noisy labels, the min-norm test error {peak}, "
            f"{widest}, and {tuned}.")


# --- C2, C3 and C4 --------------------------------------------------------------------------------------------------

def distillation_table(g: dict) -> pd.DataFrame:
    """Study 3 (per cent test error): one column for the teacher at its peak (highest test MSE) and one for the widest
    teacher; rows: the teacher, its students on the largest pool (hard labels, soft targets) and on the smallest, and
    the same student fitted to the labeled set (min-norm, and with the oracle ridge; these do not depend on the
    teacher)."""
    out, p = g["distill"], g["params"]
    large, small, m = out["pool_large"], out["pool_small"], out["student_m"]
    rows = {"teacher": ("teacher_peak_err", "teacher_widest_err"),
            f"hard-label student, pool P = {large:,} (P/M = {out['pool_large_over_m_text']})":
                ("hard_large_at_peak_err", "hard_large_widest_err"),
            f"soft-target student, pool P = {large:,}": ("soft_large_at_peak_err", "soft_large_widest_err"),
            f"hard-label student, pool P = {small:,} (P/M = {out['pool_small_over_m_text']})":
                ("hard_small_at_peak_err", "hard_small_widest_err")}
    table = {label: [f"{100 * out[a]:.1f}", f"{100 * out[b]:.1f}"] for label, (a, b) in rows.items()}

    def both(value):  # the labeled-set fits have no teacher: one value for both columns
        return [f"{100 * value:.1f}"] * 2
    table[f"same student on the {p['n_train']:,} labeled inputs, min-norm"] = both(out["student_labels_err"])
    if "student_labels_tuned_err" in out:
        table[f"same student, ridge tuned on the test set (λ = {out['student_labels_tuned_ridge']:g})"] = both(
            out["student_labels_tuned_err"])
    frame = pd.DataFrame(table, index=[f"teacher at its peak, N/n = {rf.ratio_text(out['teacher_peak_ratio'])}",
                                       f"widest teacher, N/n = {rf.ratio_text(out['widest_teacher_ratio'])}"]).T
    frame.columns.name = f"student width M = {m:,}"
    return frame


def _versus(diff: float, other: str = "the distilled student") -> str:
    """``diff`` (an error minus ``other``'s, as printed) in words, saying where it is less than ``CLEAR``."""
    if as_shown(diff) == 0:
        return f"level with {other}"
    side = f"{points(abs(diff))} {'worse' if diff > 0 else 'better'} than {other}"
    return side if abs(diff) >= CLEAR else f"{side}, less than the {points(CLEAR)} counted as clear"


def c2_c4_sentence(g: dict) -> str:
    """C2: the widest teacher's large-pool hard-label student against the teacher (close within
    ``CLOSE_TO_TEACHER``, better by ``CLEAR``), and at how many teacher widths it is below its teacher as printed.
    C3: the same student against the student fitted to the labeled set, min-norm and with the oracle ridge (beaten
    where by at least ``CLEAR``); the closed form has no ``soft_kd_labeled``, and soft targets on the pool stand for
    ``soft_kd_pool``. C4: whether the large-pool students follow and inherit the teacher's curve
    (:func:`ddlib.chapters.random_features.following`), and whether the largest pool beats the smallest from the widest
    teacher (by at least ``MARGIN``)."""
    out = g["distill"]
    hard, teacher = out["hard_large_widest_err"], out["teacher_widest_err"]
    gap = shown_difference(hard, teacher)
    close = ("close to it" if abs(gap) < kd.CLOSE_TO_TEACHER else "not close to it") + (
        f" and at least {points(CLEAR)} better" if gap <= -CLEAR else "")
    c2 = (f"- **C2.** From the widest teacher ({teacher:.1%}), the hard-label student on the largest pool gets {hard:.1%}, "
          f"{relation(gap, 'the teacher')}: {close}. Over the {out['num_teachers']} teacher widths it is below its "
          f"teacher (as printed) at {out['hard_large_beats_teacher']}.")
    said = []
    for key, name in (("student_labels_err", "Fitted min-norm to the labeled set, the same student gets"),
                      ("student_labels_tuned_err", "With a ridge tuned on the test set (an oracle), it gets")):
        if key in out:
            gain = shown_difference(out[key], hard)
            said.append(f"{name} {out[key]:.1%}, {_versus(gain)}: the distilled student "
                        + ("beats it." if gain >= CLEAR else "does not beat it."))
    soft = out["soft_large_widest_err"]
    c3 = (f"\n- **C3.** {' '.join(said)} Soft targets on the same pool get {soft:.1%}, "
          f"{_versus(shown_difference(soft, hard), 'the hard-label student')}.")
    gaps, follows, inherits = rf.following(out)
    drop = shown_difference(out["hard_large_at_peak_err"], out["hard_large_widest_err"])
    spread = f"against a spread of {out['teacher_err_spread_points']} in the teachers' errors"
    distances = (f"largest distance from their teacher {points(gaps['soft'])} with soft targets and "
                 f"{points(gaps['hard'])} with hard labels, {spread}; a student follows where its distance is at most "
                 f"{rf.FOLLOW_SHARE:.0%} of that spread")
    who = {rf.KINDS: "Both kinds of student follow", ("soft",): "Only the soft-target student follows",
           ("hard",): "Only the hard-label student follows", (): "Neither kind of student follows"}[follows]
    curve = f"{who} the teachers' curve ({distances})"
    peak = (f"; they inherit its peak: from the teacher at $N/n$ = {rf.ratio_text(out['teacher_peak_ratio'])} the "
            f"hard-label student is {points(drop)} worse than from the widest" if inherits else "")
    pool_gain = shown_difference(out["hard_small_widest_err"], hard)
    smallest = ("a pool only as large as the student" if out["pool_small"] == out["student_m"] else "the smallest pool")
    verdict = ("The larger pool helps" if pool_gain >= kd.MARGIN else "The larger pool does not help"
               if pool_gain <= -kd.MARGIN else f"The pool's size changes little (less than {points(kd.MARGIN)})")
    pool = (f"{verdict}: on {smallest} (P/M = {out['pool_small_over_m_text']}) the hard-label student gets "
            f"{out['hard_small_widest_err']:.1%} from the widest teacher, "
            + (f"{points(abs(pool_gain))} {'worse' if pool_gain > 0 else 'better'} than" if as_shown(pool_gain) else
               "the same as") + f" on the largest pool (P/M = {out['pool_large_over_m_text']}).")
    return f"{c2}{c3}\n- **C4.** {curve}{peak}. {pool}"
