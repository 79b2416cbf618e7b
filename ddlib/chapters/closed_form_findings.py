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
  labels: the narrowest model, the best on either side of the threshold, the threshold and the widest model.
- **C2-C4** (:func:`distillation_table`, :func:`c2_c4_sentence`): the teacher at its peak and the widest teacher,
  their students on the largest and the smallest pool, and the same student fitted to the labeled set (min-norm,
  and with the ridge of lowest test error, an oracle).
"""
from __future__ import annotations

import pandas as pd

from .. import mnist1d_data
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
C1_ROWS = ("narrowest", "best below the threshold", "at the threshold", "best above the threshold", "widest")


def c1_curves(g: dict) -> dict[str, dict]:
    """``{label: curve}``, one per curve C1 is read on: study 1's exact risk for each decay ``a`` of the true weights
    (``p`` features, ``n`` samples; the risk is infinite for ``n - 1 <= p <= n + 1``, so ``p = n + 2`` stands for
    the threshold) and study 2's test error with noisy labels, min-norm and with the tuned ridge (``N`` features,
    means over feature draws). Each curve is a dict: ``values`` (by width, sorted), ``threshold`` (``n``), ``at``
    (the width that stands for it), ``width`` (``"p"`` or ``"N"``), ``error`` (whether the values are error rates)
    and ``decay`` (study 1)."""
    p, lin, ridge = g["params"], g["linear_frame"], g["ridge_frame"]
    curves = {}
    for decay in p["lin_beta_decays"]:
        values = lin[lin.beta_decay == float(decay)].set_index("p").theory.sort_index()
        curves[f"linear, a = {decay:g} (exact risk)"] = dict(
            values=values, threshold=p["lin_n"], at=p["lin_n"] + 2, width="p", error=False, decay=float(decay))
    tuned = rf.with_best_ridge(ridge, "test_error")
    for label, ridge_value in (("min-norm", 0.0), ("tuned ridge", -1.0)):
        rows = tuned[(tuned.labels == "noisy") & (tuned.ridge == ridge_value)]
        curves[f"random features, {label} (test error %)"] = dict(
            values=rows.groupby("N").test_error.mean().sort_index(), threshold=p["n_train"], at=p["n_train"],
            width="N", error=True)
    return curves


def _curve_cells(c: dict) -> list[str]:
    """:data:`C1_ROWS` of one curve of :func:`c1_curves`, each value (per cent for errors) with its width beside it;
    ``"–"`` where the grid has no such width (the best above the threshold is over widths past ``at``)."""
    values = c["values"]

    def cell(width):
        value = f"{100 * values[width]:.1f}" if c["error"] else f"{values[width]:.3f}"
        return f"{value} ({c['width']} = {width})"
    below, above = values[values.index < c["threshold"]], values[values.index > c["at"]]
    return [cell(values.index[0]), cell(below.idxmin()) if len(below) else "–",
            cell(c["at"]) if c["at"] in values.index else "–", cell(above.idxmin()) if len(above) else "–",
            cell(values.index[-1])]


def c1_table(g: dict) -> pd.DataFrame:
    """One column per curve of :func:`c1_curves`, rows :data:`C1_ROWS`."""
    frame = pd.DataFrame({label: _curve_cells(c) for label, c in c1_curves(g).items()}, index=list(C1_ROWS))
    frame.columns.name = "curve"
    return frame


def _linear_words(c: dict, null_risk: float) -> tuple[str, bool]:
    """One decay's exact-risk curve in words, and whether its widest model has the lowest risk: that risk (and how
    far below predicting zero), or the lowest risk under-parameterised with the second descent's lowest and the
    widest model's, or the lowest past the threshold short of the widest."""
    values, n = c["values"], c["threshold"]
    head = f"with weights decaying as $j^{{-{c['decay']:g}}}$" if c["decay"] else "with equal weights"
    widest, best = values.iloc[-1], values.idxmin()
    if widest <= values.min():
        below = 1 - widest / null_risk
        return (f"{head}, the widest model ($p = D$) has the lowest risk, {widest:.3f}"
                + (f", {below:.0%} below predicting zero" if below > 0 else ", no lower than predicting zero"), True)
    over = values[values.index > c["at"]]
    if best < n:
        second = over.idxmin()
        return (f"{head}, the lowest risk is {values[best]:.3f}, under-parameterised at $p$ = {best}; past the "
                f"threshold the risk falls to {values[second]:.3f} at $p$ = {second}"
                + (f" and rises again to {widest:.3f} at $p = D$" if second != values.index[-1] else ""), False)
    return (f"{head}, the lowest risk is {values[best]:.3f} at $p$ = {best}, past the threshold, and the widest "
            f"model's is {widest:.3f}", False)


def _peak_words(values: pd.Series, n: int) -> tuple[str, bool]:
    """Whether a test-error curve (by width ``N``) has a clear peak by the page's C1 rule: its highest error at least
    ``CLEAR`` above both the best narrower width's and the widest's (as printed); a highest error at either end of
    the sweep is no peak. Words (with the chance level where the peak is near it), and whether it is clear."""
    top = values.idxmax()
    where = f"{values[top]:.1%} at $N/n$ = {rf.ratio_text(top / n)}"
    if top in (values.index[0], values.index[-1]):
        end = "narrowest" if top == values.index[0] else "widest"
        return f"has no peak inside the sweep: it is highest at the {end} width ({where})", False
    rise = shown_difference(values[top], max(values[values.index < top].min(), values.iloc[-1]))
    chance = 1 - 1 / mnist1d_data.NUM_CLASSES
    near = (f", near the chance level of {chance:.0%}" if abs(shown_difference(values[top], chance)) <= rf.NEAR_CHANCE
            else "")
    if rise >= CLEAR:
        return (f"peaks clearly ({where}, {points(rise)} above the best narrower width and the widest{near})", True)
    return (f"has no clear peak (its highest, {where}, is less than {points(CLEAR)} above the best narrower width or "
            f"the widest)", False)


def c1_sentence(g: dict) -> str:
    """C1 in closed form. Study 1, per decay (:func:`_linear_words`), and where the widest model is not the best for
    some decay, that double descent is a statement about the peak. Study 2's min-norm fit to noisy labels: a clear
    peak or none (:func:`_peak_words`, the rule of the page's C1 table), whether the widest model has the lowest
    error (as printed), whether clean labels peak too and what the noise costs the widest model, and what the tuned
    ridge does (never rising by ``CLEAR`` from one width to the next:
    :func:`ddlib.chapters.random_features.ridge_numbers`)."""
    p, r = g["params"], g["ridge"]
    curves = c1_curves(g)
    null = g["linear"]["lin_null_risk"]
    said = [_linear_words(c, null) for c in curves.values() if not c["error"]]
    text = (f"In linear regression ($n$ = {p['lin_n']} samples, up to $D$ = {p['lin_d']} Gaussian features, noise "
            f"$\\sigma$ = {p['lin_sigma']:g}; predicting zero has risk {null:.3f}), the exact risk is infinite for "
            f"$n - 1 \\le p \\le n + 1$ and falls again past it: {'; '.join(words for words, _ in said)}.")
    if not all(best for _, best in said):
        text += " Double descent is a statement about the peak, not a promise that the widest model is best."
    values = curves["random features, min-norm (test error %)"]["values"]
    n = p["n_train"]
    peak, clear = _peak_words(values, n)
    widest = ("the widest model has the lowest error of all widths" if shown_difference(values.iloc[-1], values.min())
              == 0 else f"the widest model ({values.iloc[-1]:.1%}) is not the best width ({values.min():.1%} at "
                        f"$N/n$ = {rf.ratio_text(values.idxmin() / n)})")
    text += (f" With random ReLU features of MNIST-1D ($n$ = {n} samples, {p['label_noise']:.0%} of their labels "
             f"noisy), the min-norm test error {peak}, and {widest}.")
    clean_rise = shown_difference(r["clean_peak_err"], max(r["clean_smallest_err"], r["clean_widest_err"]))
    cost = shown_difference(r["noisy_widest_err"], r["clean_widest_err"])
    text += (f" With clean labels it {'peaks too' if clean_rise >= CLEAR else 'barely peaks'} "
             f"({r['clean_peak_err']:.1%} at $N/n$ = {rf.ratio_text(r['clean_peak_err_ratio'])})"
             + (", so the peak does not need label noise" if clean_rise >= CLEAR else "")
             + (f"; at the widest width the noise costs {points(cost)} ({r['noisy_widest_err']:.1%} against "
                f"{r['clean_widest_err']:.1%})." if cost > 0 else "."))
    monotone = r["noisy_tuned_max_rise_err"] < CLEAR - 1e-12
    tuned = (("removes the peak" if clear else "gives an essentially monotone curve") if monotone else
             "still rises somewhere")
    text += (f" A ridge tuned on the test set (an oracle) {tuned}: from one width to the next its error rises by at "
             f"most {points(r['noisy_tuned_max_rise_err'])}, and at $N = n$ it is {r['noisy_tuned_at_peak_err']:.1%}.")
    return text


# --- C2, C3 and C4 --------------------------------------------------------------------------------------------------

def distillation_table(g: dict) -> pd.DataFrame:
    """Study 3 (per cent test error): one column for the teacher at its peak (highest test MSE, as the chapter picks
    it) and one for the widest teacher; rows: the teacher, its students on the largest pool (hard labels, soft
    targets) and on the smallest, and the same student fitted to the labeled set (min-norm, and with the oracle
    ridge; these do not depend on the teacher)."""
    out, p = g["distill"], g["params"]
    large, small, m = out["pool_large"], out["pool_small"], out["student_m"]
    on_large = f"P = {large:,} (P/M = {out['pool_large_over_m_text']})"
    rows = {"teacher": ("teacher_peak_err", "teacher_widest_err"),
            f"hard-label student, {on_large}": ("hard_large_at_peak_err", "hard_large_widest_err"),
            f"soft-target student, {on_large}": ("soft_large_at_peak_err", "soft_large_widest_err"),
            f"hard-label student, P = {small:,} (P/M = {out['pool_small_over_m_text']})":
                ("hard_small_at_peak_err", "hard_small_widest_err")}
    table = {label: [f"{100 * out[a]:.1f}", f"{100 * out[b]:.1f}"] for label, (a, b) in rows.items()}

    def both(value):  # the labeled-set fits have no teacher: one value for both columns
        return [f"{100 * value:.1f}"] * 2
    table[f"the student (M = {m:,}) fitted to the {p['n_train']:,} labeled inputs, min-norm"] = both(
        out["student_labels_err"])
    if "student_labels_tuned_err" in out:
        table[f"the same, ridge tuned on the test set (λ = {out['student_labels_tuned_ridge']:g})"] = both(
            out["student_labels_tuned_err"])
    return pd.DataFrame(table, index=[f"teacher at its peak, N/n = {rf.ratio_text(out['teacher_peak_ratio'])}",
                                      f"widest teacher, N/n = {rf.ratio_text(out['widest_teacher_ratio'])}"]).T


def _versus(diff: float, other: str = "the distilled student") -> str:
    """``diff`` (an error minus ``other``'s, as printed) in words, saying where it is less than ``CLEAR``."""
    if as_shown(diff) == 0:
        return f"level with {other}"
    side = f"{points(abs(diff))} {'worse' if diff > 0 else 'better'} than {other}"
    return side if abs(diff) >= CLEAR else f"{side}, less than the {points(CLEAR)} counted as clear"


def _c2(out: dict) -> str:
    """The C2 bullet: the widest teacher's large-pool hard-label student against the teacher (close within
    ``CLOSE_TO_TEACHER``, better by ``CLEAR``, or more than ``CLOSE_TO_TEACHER`` better), and at how many teacher
    widths it is below its teacher as printed."""
    hard, teacher = out["hard_large_widest_err"], out["teacher_widest_err"]
    gap = shown_difference(hard, teacher)
    if abs(gap) < kd.CLOSE_TO_TEACHER:
        close = "close to it" + (f" and at least {points(CLEAR)} better" if gap <= -CLEAR else "")
    else:
        close = (f"more than {points(kd.CLOSE_TO_TEACHER)} better than it" if gap < 0 else "not close to it")
    below = out["hard_large_beats_teacher"]
    return (f"- **C2.** From the widest teacher ({teacher:.1%}), the hard-label student ($M$ = {out['student_m']:,} "
            f"features) on the largest pool gets {hard:.1%}, {relation(gap, 'the teacher')}: {close}. Over all "
            f"{out['num_teachers']} teacher widths it is below its teacher (as printed) at "
            f"{f'{below} of them' if below else 'none of them'}.")


def _c3(out: dict) -> str:
    """The C3 bullet: the student fitted to the labeled set, min-norm (at its own peak where ``M = n``) and with the
    oracle ridge, against the large-pool hard-label student of the widest teacher (beaten where by at least
    ``CLEAR``); soft targets on the same pool from that teacher, and both kinds' mean distance from their teachers
    over every teacher width."""
    hard, said = out["hard_large_widest_err"], []
    at_peak = out["student_m"] == out["n_train"]
    gain = shown_difference(out["student_labels_err"], hard)
    said.append(f"Fitted min-norm to the labeled set, the same student gets {out['student_labels_err']:.1%}, "
                f"{_versus(gain)}: the distilled student {'beats' if gain >= CLEAR else 'does not beat'} it"
                + (", but with $M = n$ that fit sits at its own interpolation peak, the weakest baseline there is."
                   if at_peak else "."))
    if "student_labels_tuned_err" in out:
        tuned = shown_difference(out["student_labels_tuned_err"], hard)
        said.append(f"With a ridge tuned on the test set (an oracle), it gets {out['student_labels_tuned_err']:.1%}, "
                    f"{_versus(tuned)}: the distilled student {'beats' if tuned >= CLEAR else 'does not beat'} it"
                    + (", so against the labeled set its gain is over the unregularised fit." if tuned < CLEAR
                       else "."))
    soft = out["soft_large_widest_err"]
    said.append(f"From the widest teacher, soft targets on the same pool (the teacher's outputs, fitted by least "
                f"squares: the closed form's `soft_kd_pool`) get {soft:.1%}, "
                f"{_versus(shown_difference(soft, hard), 'the hard-label student')}; averaged over the teacher "
                f"widths, the soft-target student's error is {out['soft_large_mean_gap_vs_teacher']} and the "
                f"hard-label student's {out['hard_large_mean_gap_vs_teacher']}.")
    return "- **C3.** " + " ".join(said)


def _c4(out: dict) -> str:
    """The C4 bullet: whether the large-pool students follow and inherit the teachers' curve
    (:func:`ddlib.chapters.random_features.following`), and whether the largest pool beats the smallest from the
    widest teacher (by at least ``MARGIN``)."""
    gaps, follows, inherits = rf.following(out)
    who = {rf.KINDS: "Both kinds of student follow", ("soft",): "Only the soft-target student follows",
           ("hard",): "Only the hard-label student follows", (): "Neither kind of student follows"}[follows]
    text = (f"- **C4.** {who} the teachers' curve: over the {out['num_teachers']} teacher widths their largest "
            f"distance from the teacher is {points(gaps['soft'])} (soft targets) and {points(gaps['hard'])} (hard "
            f"labels), against the {out['teacher_err_spread_points']} the teachers' own errors span; a student follows "
            f"where that is at most {rf.FOLLOW_SHARE:.0%} of the span.")
    if inherits:
        drop = shown_difference(out["hard_large_at_peak_err"], out["hard_large_widest_err"])
        text += (f" They inherit its peak: the hard-label student is {points(drop)} worse from the teacher at "
                 f"$N/n$ = {rf.ratio_text(out['teacher_peak_ratio'])} than from the widest.")
    hard = out["hard_large_widest_err"]
    pool_gain = shown_difference(out["hard_small_widest_err"], hard)
    smallest = "a pool only as large as the student" if out["pool_small"] == out["student_m"] else "the smallest pool"
    verdict = ("The larger pool helps" if pool_gain >= kd.MARGIN else "The larger pool does not help"
               if pool_gain <= -kd.MARGIN else f"The pool's size changes little (less than {points(kd.MARGIN)})")
    return (text + f" {verdict}: on {smallest} (P/M = {out['pool_small_over_m_text']}) the hard-label student gets "
            f"{out['hard_small_widest_err']:.1%} from the widest teacher, "
            + (f"{points(abs(pool_gain))} {'worse' if pool_gain > 0 else 'better'} than" if as_shown(pool_gain) else
               "the same as") + f" on the largest pool (P/M = {out['pool_large_over_m_text']}).")


def c2_c4_sentence(g: dict) -> str:
    """The C2, C3 and C4 bullets of study 3 (:func:`_c2`, :func:`_c3`, :func:`_c4`) as one markdown list. The closed
    form has no ``soft_kd_labeled``; soft targets on the pool stand for ``soft_kd_pool``."""
    out = g["distill"]
    return "\n".join((_c2(out), _c3(out), _c4(out)))
