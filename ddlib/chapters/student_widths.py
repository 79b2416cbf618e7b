"""Why the student escapes overfitting (C2), across student widths: students of every width of the double-descent
chapter's sweep, trained on the noisy labeled set (``direct``) or on the widest teacher's hard labels on the pool
(``hard_pool``), at the label-noise rates of ``student_sweep_noise``.

Cotter et al. (2021) explain the student's escape by the size of its training set: the teacher-labeled pool is
large, so the student is far from its own interpolation threshold and cannot memorise the labels' errors. The
chapter's main comparison tests one student width. Here the student's width sweeps the double-descent chapter's
widths at a label-noise rate where that chapter's curve has a clear peak, so that what the explanation predicts can
be seen whole: ``direct`` (a student of the 1,000 noisy labels, trained like every student) has the double-descent
peak; a student of the pool's 25,000 teacher labels, with far more labels than any width has parameters, fits
none of the sweep's widths to its labels and has no peak. Every student trains for the chapter's number of steps on
the chapter's pool and seeds; the teacher is the widest of the sweep at that rate (its runs are the double-descent
chapter's noise study, reused from the store).

:func:`numbers` reads where each curve's students fit their labels by the double-descent chapter's rule
(:func:`ddlib.chapters.double_descent.summarize`) and its peak by the same test of a clear peak without that rule's
window near the threshold (:func:`peak_of`: a curve that never fits its labels has no threshold to look near), and
sets the two methods side by side at every width; :func:`sentence` words them.
"""
from __future__ import annotations

import pandas as pd

from .. import book
from ..data import DATASET_SHAPES
from ..models import count_params
from ..prose import CLEAR, join, plural, points, relation, shown_difference
from ..runner import SweepOutcome
from . import distillation as kd
from . import double_descent as dd

#: The two students of every width: the no-teacher baseline and the paper's method.
STUDY_METHODS = ("direct", "hard_pool")


def study_params(p: dict) -> list[tuple[float, dict]]:
    """``(rate, parameters)`` for each label-noise rate of ``p["student_sweep_noise"]``: the chapter's parameters at
    that rate (none where the list is empty)."""
    return [(float(rate), dict(p, label_noise=float(rate))) for rate in p.get("student_sweep_noise", [])]


def study_configs(p: dict) -> list[tuple[float, dict, list, list]]:
    """``(rate, q, teachers, students)`` for each rate of the study: its parameters ``q``, the widest teacher of the
    sweep at that rate on the student seeds, and students of every width of the sweep (``direct`` and, from that
    teacher on the chapter's pool, ``hard_pool``)."""
    out = []
    for rate, q in study_params(p):
        widest = max(q["widths"])
        students = [c for w in q["widths"]
                    for c in kd.student_configs(q, w, [widest], [p["pool_size"]], list(STUDY_METHODS))]
        out.append((rate, q, [dd.run_config(q, widest, s) for s in p["student_seeds"]], students))
    return out


def run_study(p: dict, **kwargs) -> tuple[dict[float, pd.DataFrame], SweepOutcome]:
    """Run (or reuse) :func:`study_configs`; each rate's frame (rows as :func:`ddlib.chapters.distillation.run`'s) is
    written to ``results-student-widths-noise-<rate>.csv`` beside the chapter's table, with its parameters beside it.
    Returns ``{rate: frame}`` (empty where the study is off) and all the runs as one outcome."""
    return kd.run_studies(p, study_configs(p), "results-student-widths-noise-{:g}.csv", **kwargs)


def _curve(frame: pd.DataFrame, method: str, p: dict) -> pd.DataFrame:
    """``method``'s students as a sweep frame for :func:`ddlib.chapters.double_descent.summarize`: one row per run
    with ``width`` (the student's), ``seed``, ``test_error``, ``train_error`` (on its own training set: the noisy
    labeled set for ``direct``, the pool's teacher labels for ``hard_pool``) and ``params``."""
    f = frame[frame["method"] == method]
    shape, classes = DATASET_SHAPES[p["dataset"]]
    model = p["student_model"] or p["model"]
    return f.assign(width=f["student_width"].astype(int),
                    params=[count_params(model, int(w), shape, classes) for w in f["student_width"]])


def numbers(frame: pd.DataFrame, p: dict, rate: float) -> dict:
    """What :func:`sentence` says, from the study's ``frame`` at label-noise rate ``rate``.

    ``curves[method]``: :func:`ddlib.chapters.double_descent.summarize` of that method's students over their widths
    (its interpolation threshold, best and widest width); ``peaks[method]``: :func:`peak_of` its mean test errors.
    ``test[method]`` and ``train[method]``: mean test and train error by student width. ``gains``: per width,
    ``direct``'s error minus ``hard_pool``'s (as printed, :func:`ddlib.prose.shown_difference`); ``beats``: the
    widths where that is at least :data:`ddlib.prose.CLEAR`, ``worse`` those where it is at most ``-CLEAR``. At
    ``direct``'s peak width (``peaks["direct"]``), ``peak_gain_se`` is the
    standard error of the seed-paired gain and ``peak_seeds_beating`` the seeds where ``hard_pool`` is lower.
    ``close``: the widths whose ``hard_pool`` student is within
    :data:`ddlib.chapters.distillation.CLOSE_TO_TEACHER` of the teacher (as printed). ``pool_params``: the widest
    student's parameter count, against ``pool_size`` labels."""
    teachers = frame[(frame["method"] == "teacher") & frame["seed"].isin(p["student_seeds"])]
    curves = {m: _curve(frame, m, p) for m in STUDY_METHODS}
    out = dict(rate=float(rate), teacher_width=int(teachers["teacher_width"].max()),
               teacher=float(teachers["test_error"].mean()), pool_size=int(p["pool_size"]),
               n_train=int(p["n_train"]), n_seeds=int(curves["hard_pool"]["seed"].nunique()),
               curves={m: dd.summarize(f) for m, f in curves.items()},
               test={m: f.groupby("width")["test_error"].mean().to_dict() for m, f in curves.items()},
               train={m: f.groupby("width")["train_error"].mean().to_dict() for m, f in curves.items()},
               widest_params=int(curves["hard_pool"]["params"].max()))
    widths = sorted(out["test"]["hard_pool"])
    out["widths"] = widths
    out["gains"] = {w: shown_difference(out["test"]["direct"][w], out["test"]["hard_pool"][w]) for w in widths}
    out["beats"] = [w for w in widths if out["gains"][w] >= CLEAR]
    out["worse"] = [w for w in widths if out["gains"][w] <= -CLEAR]
    out["close"] = [w for w in widths
                    if abs(shown_difference(out["test"]["hard_pool"][w], out["teacher"])) < kd.CLOSE_TO_TEACHER]
    out["peaks"] = {m: peak_of(out["test"][m]) for m in STUDY_METHODS}
    peak = out["peaks"]["direct"]["width"]
    by_seed = {m: f[f["width"] == peak].groupby("seed")["test_error"].mean() for m, f in curves.items()}
    both = pd.concat(by_seed, axis=1).dropna()
    gains = both["direct"] - both["hard_pool"]
    out.update(peak_gain_se=kd.standard_error(gains), peak_seeds_beating=int((gains > 0).sum()),
               peak_seeds=len(gains))
    return out


def peak_of(curve: dict) -> dict:
    """The highest bump of a curve (``{width: mean test error}``): for each width with a narrower and a wider one, its
    error above the higher of the best narrower width's and the widest width's (as printed,
    :func:`ddlib.prose.shown_difference`); the width where that ``rise`` is largest, with the best narrower width
    (``narrower``) and its rise over each, and ``clear`` where ``rise`` is at least :data:`ddlib.prose.CLEAR`.

    This is the double-descent chapter's test of a clear peak without its search window near the interpolation
    threshold (:func:`ddlib.chapters.double_descent.clear_peak`), which a curve whose students never fit their labels
    does not have: both curves here are read the same way. ``width`` is ``None`` for fewer than three widths."""
    widths = sorted(curve)
    best = dict(width=None, narrower=None, rise=float("nan"), clear=False)
    for i, w in enumerate(widths[1:-1], 1):
        narrower = min(widths[:i], key=curve.get)
        rise = shown_difference(curve[w], max(curve[narrower], curve[widths[-1]]))
        if best["width"] is None or rise > best["rise"]:
            best = dict(width=w, narrower=narrower, rise=rise, clear=rise >= CLEAR, error=curve[w],
                        over_narrower=shown_difference(curve[w], curve[narrower]),
                        over_widest=shown_difference(curve[w], curve[widths[-1]]))
    return best


def _curve_words(s: dict, peak: dict, what: str) -> str:
    """One curve's shape (``s``: its summary, ``peak``: :func:`peak_of`): a clear peak (where, and how far above the
    best narrower and the widest width) or none (and where it is lowest)."""
    if peak["clear"]:
        return (f"{what} has a clear peak at width {peak['width']} ({peak['error']:.1%}, "
                f"{points(peak['over_narrower'])} above width {peak['narrower']} and "
                f"{points(peak['over_widest'])} above the widest)")
    lowest = ("the widest width" if s["best_width"] == s["widest_width"] else f"width {s['best_width']}")
    return (f"{what} has no clear peak: it is lowest at {lowest} ({s['best_test_error']:.1%})"
            + ("" if s["best_width"] == s["widest_width"] else f", and the widest is at {s['widest_test_error']:.1%}"))


def _fit_words(s: dict, labels: str) -> str:
    """Where the students first fit their own training labels (train error at most the chapter's tolerance), or
    that no width does."""
    if s["threshold_width"] is None:
        return f"no width fits the {labels}"
    return f"from width {s['threshold_width']} on the students fit the {labels}"


def _widths(widths: list) -> str:
    return f"width{'s' if len(widths) > 1 else ''} {join(str(w) for w in widths)}"


def sentence(n: dict) -> str:
    """The study in words (:func:`numbers`): each method's curve and where it fits its own labels, the gain of
    ``hard_pool`` over ``direct`` across widths and at ``direct``'s peak, the widths where the student is close to
    its teacher, and what that says of the paper's explanation of C2."""
    direct, hard = n["curves"]["direct"], n["curves"]["hard_pool"]
    head = (f"At label noise {n['rate']:.0%} ({plural(n['n_seeds'], 'student seed')}, the widest teacher, width "
            f"{n['teacher_width']}, at {n['teacher']:.1%})")
    labeled = f"{n['n_train']:,} noisy labels"
    pool = f"{n['pool_size']:,} pool labels"
    lowest_train = min(n["train"]["hard_pool"].values())
    text = (f"{head}, {_curve_words(direct, n['peaks']['direct'], 'the `direct` students’ curve')}, and "
            f"{_fit_words(direct, labeled)}. Taught on the pool, "
            f"{_fit_words(hard, pool)}"
            + (f" (the lowest train error is {lowest_train:.1%}, at {n['widest_params']:,} parameters for "
               f"{n['pool_size']:,} labels)" if hard["threshold_width"] is None else "")
            + f", and {_curve_words(hard, n['peaks']['hard_pool'], 'the `hard_pool` students’ curve')}.")
    beats, widths = n["beats"], n["widths"]
    text += (f" `hard_pool` beats `direct` by at least {points(CLEAR)} at {len(beats)} of the {len(widths)} widths"
             + (f" ({_widths(beats)})" if 0 < len(beats) < len(widths) else "") + ".")
    worse = n["worse"]
    if worse:
        wrong = join(f"{n['train']['hard_pool'][w]:.1%}" for w in worse)
        text += (f" `direct` is at least {points(CLEAR)} better at {_widths(worse)}, where the `hard_pool` students "
                 f"get {wrong} of the pool's labels wrong.")
    peak, direct_peak = n["peaks"]["direct"]["width"], n["peaks"]["direct"]["clear"]
    hard_peak = n["peaks"]["hard_pool"]["clear"]
    if direct_peak:
        gain = n["gains"][peak]
        text += (f" At `direct`'s peak, width {peak}, the `hard_pool` student is {n['test']['hard_pool'][peak]:.1%}, "
                 f"{relation(-gain, '`direct`')}"
                 + (f" (standard error of the seed-paired gain {points(n['peak_gain_se'])}; lower on "
                    f"{n['peak_seeds_beating']} of {n['peak_seeds']} seeds)" if n["peak_seeds"] > 1 else "") + ".")
    close = n["close"]
    text += (f" The `hard_pool` student is within {points(kd.CLOSE_TO_TEACHER)} of its teacher at "
             + ("every width" if len(close) == len(widths) else
                _widths(close) if close else "no width") + ".")
    widest = widths[-1]
    level = (f" At the widest width the two are within {points(CLEAR)} ({n['test']['direct'][widest]:.1%} and "
             f"{n['test']['hard_pool'][widest]:.1%}): past its peak, `direct` comes back down."
             if direct_peak and abs(n["gains"][widest]) < CLEAR else "")
    if direct_peak and not hard_peak and hard["threshold_width"] is None:
        verdict = (" So the paper's explanation holds here: trained on the labeled set the student overfits at its "
                   "threshold, while on the teacher-labeled pool no width can fit its labels, and the peak is gone."
                   + level)
    elif direct_peak and not hard_peak:
        verdict = (" The pool removes the peak, though some widths fit the pool's labels, so the pool's size alone "
                   "does not explain it here.")
    elif direct_peak:
        verdict = " The pool does not remove the peak here."
    else:
        verdict = (" Without a clear peak in `direct`'s curve at this rate, this run cannot show a pool removing "
                   "one.")
    return text + verdict


def short_sentence(n: dict) -> str:
    """:func:`sentence` in one line, for the findings page: the two curves' shapes, whether the pool's labels are
    fitted at any width, and at how many widths ``hard_pool`` beats ``direct`` by at least ``CLEAR``."""
    hard = n["curves"]["hard_pool"]

    def shape(method):
        peak = n["peaks"][method]
        return f"a clear peak at width {peak['width']}" if peak["clear"] else "no clear peak"
    fits = ("no width fits the pool's labels" if hard["threshold_width"] is None else
            f"widths from {hard['threshold_width']} on fit the pool's labels")
    return (f"At label noise {n['rate']:.0%}, students of every width trained on the labeled set (`direct`) have "
            f"{shape('direct')}, and those taught on the pool (`hard_pool`) have {shape('hard_pool')}; {fits}. "
            f"`hard_pool` beats `direct` by at least {points(CLEAR)} at {len(n['beats'])} of the {len(n['widths'])} "
            f"widths"
            + (f" ({_widths(n['beats'])})" if 0 < len(n["beats"]) < len(n["widths"]) else "")
            + (f" and is that much worse at {_widths(n['worse'])}" if n["worse"] else "") + ".")


def sentences(frames: dict[float, pd.DataFrame], p: dict) -> str:
    """:func:`sentence` for every rate of the study, one paragraph each (or why there is none)."""
    if not frames:
        return "No such study was run here (`student_sweep_noise` is empty)."
    return "\n\n".join(sentence(numbers(frame, p, rate)) for rate, frame in frames.items())


def plot(frame: pd.DataFrame, p: dict, rate: float):
    """Test error (left) and train error on each student's own training set (right) against student width, for
    ``direct`` and ``hard_pool`` (mean and standard error over the student seeds); the teacher's test error
    dashed."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    f = frame[frame["method"].isin(STUDY_METHODS)].copy()
    f["student_width"] = f["student_width"].astype(int)
    f["student"] = f["method"].map({"direct": f"direct ({p['n_train']:,} noisy labels)",
                                    "hard_pool": f"hard_pool ({p['pool_size']:,} teacher labels)"})
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), sharex=True)
    for ax, metric, title in ((axes[0], "test_error", "test error (clean labels)"),
                              (axes[1], "train_error", "train error (on its own training labels)")):
        sns.lineplot(data=f, x="student_width", y=metric, hue="student", style="student", markers=True,
                     dashes=False, errorbar="se", err_style="bars", ax=ax, legend=ax is axes[0])
        ax.set_xscale("log", base=2)
        book.label_log_axis(ax, f["student_width"])
        book.percent_axis(ax)
        ax.set_xlabel("student width (log scale)")
        ax.set_ylabel(title)
    teacher = frame.loc[(frame["method"] == "teacher") & frame["seed"].isin(p["student_seeds"]), "test_error"]
    axes[0].axhline(teacher.mean(), color="black", ls="--", lw=1.2, label="the widest teacher")
    axes[0].legend(title=None, fontsize="small")
    fig.suptitle(f"Students of every width at {rate:.0%} label noise")
    fig.tight_layout()
    return fig
