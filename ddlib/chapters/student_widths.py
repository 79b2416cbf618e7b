"""Why the student escapes overfitting (C2), across student widths: students of every width of the double-descent
chapter's sweep, trained on the noisy labeled set (``direct``) or on the widest teacher's hard labels on the pool
(``hard_pool``), at the label-noise rates of ``student_sweep_noise``.

Cotter et al. (2021) explain the student's escape by the size of its training set: the teacher-labeled pool is
large, so the student is far from its own interpolation threshold and cannot memorise the labels' errors. The
chapter's main comparison tests one student width. Here the student's width sweeps the double-descent chapter's
widths at a label-noise rate where that chapter's curve has a clear peak, so that what the explanation predicts can
be seen whole: ``direct`` (a student of the 1,000 noisy labels, trained like every student) should have the
double-descent peak, and a student of the pool's 25,000 teacher labels, which it cannot fit, none. Every student
trains for the chapter's number of steps on the chapter's pool and seeds, so a larger pool is also fewer passes over
it (:func:`sentence` says so); the teacher is the widest of the sweep at that rate (its runs are the double-descent
chapter's noise study, reused from the store).

:func:`numbers` reads which widths' students fit their labels (the double-descent chapter's tolerance) and each
curve's peak by that chapter's test of a clear peak without its window near the interpolation threshold
(:func:`peak_of`: a curve that never fits its labels has no threshold to look near), and sets the two methods side by
side at every width; :func:`sentence` words them.
"""
from __future__ import annotations

import pandas as pd

from .. import book
from ..data import DATASET_SHAPES
from ..models import count_params
from ..prose import CLEAR, join, plural, points, points_range, relation, shown_difference
from ..runner import SweepOutcome
from . import distillation as kd
from . import double_descent as dd

#: The two students of every width: the no-teacher baseline and the paper's method.
STUDY_METHODS = ("direct", "hard_pool")
#: The curves read: ``direct``, ``hard_pool`` on the chapter's pool and, where the chapter's pool-size study has a
#: smaller pool, ``hard_pool`` on that one (:func:`small_pool_size`).
CURVES = ("direct", "hard_pool", "small_pool")


def small_pool_size(p: dict) -> int | None:
    """The smallest pool of the chapter's pool-size study (``pool_study_sizes``), where it is smaller than the main
    pool: ``hard_pool`` on it, at the same steps, goes through its labels as often as ``direct`` goes through the
    labeled set where the two are the same size, so the pool's size is changed without the passes over it."""
    small = min(p["pool_study_sizes"])
    return small if small < p["pool_size"] else None


def study_params(p: dict) -> list[tuple[float, dict]]:
    """``(rate, parameters)`` for each label-noise rate of ``p["student_sweep_noise"]``: the chapter's parameters at
    that rate (none where the list is empty)."""
    return [(float(rate), dict(p, label_noise=float(rate))) for rate in p.get("student_sweep_noise", [])]


def study_configs(p: dict) -> list[tuple[float, dict, list, list]]:
    """``(rate, q, teachers, students)`` for each rate of the study: its parameters ``q``, the widest teacher of the
    sweep at that rate on the student seeds, and students of every width of the sweep (``direct`` and, from that
    teacher, ``hard_pool`` on the chapter's pool and on :func:`small_pool_size`'s)."""
    out = []
    for rate, q in study_params(p):
        widest = max(q["widths"])
        pools = [p["pool_size"]] + ([small_pool_size(p)] if small_pool_size(p) else [])
        students = [c for w in q["widths"] for c in kd.student_configs(q, w, [widest], pools, list(STUDY_METHODS))]
        out.append((rate, q, [dd.run_config(q, widest, s) for s in p["student_seeds"]], students))
    return out


def run_study(p: dict, **kwargs) -> tuple[dict[float, pd.DataFrame], SweepOutcome]:
    """Run (or reuse) :func:`study_configs`; each rate's frame (rows as :func:`ddlib.chapters.distillation.run`'s) is
    written to ``results-student-widths-noise-<rate>.csv`` beside the chapter's table, with its parameters beside it.
    Returns ``{rate: frame}`` (empty where the study is off) and all the runs as one outcome."""
    return kd.run_studies(p, study_configs(p), "results-student-widths-noise-{:g}.csv", **kwargs)


def curve_keys(frame: pd.DataFrame, p: dict) -> pd.Series:
    """Which of :data:`CURVES` each row of ``frame`` belongs to (``None`` for the teacher's rows)."""
    small = small_pool_size(p)
    hard = frame["method"] == "hard_pool"
    keys = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    keys[frame["method"] == "direct"] = "direct"
    keys[hard & (frame["pool_size"] == p["pool_size"])] = "hard_pool"
    if small:
        keys[hard & (frame["pool_size"] == small)] = "small_pool"
    return keys


def _curve(frame: pd.DataFrame, key: str, p: dict) -> pd.DataFrame:
    """Curve ``key``'s students (:func:`curve_keys`) as a sweep frame for
    :func:`ddlib.chapters.double_descent.summarize`: one row per run with ``width`` (the student's), ``seed``,
    ``test_error``, ``train_error`` (on its own training set: the noisy labeled set for ``direct``, the pool's teacher
    labels for ``hard_pool``) and ``params``."""
    f = frame[curve_keys(frame, p) == key]
    shape, classes = DATASET_SHAPES[p["dataset"]]
    model = p["student_model"] or p["model"]
    return f.assign(width=f["student_width"].astype(int),
                    params=[count_params(model, int(w), shape, classes) for w in f["student_width"]])


def numbers(frame: pd.DataFrame, p: dict, rate: float) -> dict:
    """What :func:`sentence` says, from the study's ``frame`` at label-noise rate ``rate``.

    Per curve of :data:`CURVES` that ran (``small_pool``: the pool size, ``None`` where it did not): ``curves[key]``:
    :func:`ddlib.chapters.double_descent.summarize` of its students over their widths (best and widest width);
    ``peaks[key]``: :func:`peak_of` its mean test errors; ``fits[method]``: the widths
    whose students fit their own training labels (mean train error at most
    :data:`ddlib.chapters.double_descent.INTERPOLATION_TOL`). ``test[method]``, ``train[method]`` and ``params``: mean
    test and train error and parameter count by student width. ``gains``: per width, ``direct``'s error minus
    ``hard_pool``'s (as printed, :func:`ddlib.prose.shown_difference`); ``beats``: the widths where that is at least
    :data:`ddlib.prose.CLEAR`, ``worse`` those where it is at most ``-CLEAR``. At ``direct``'s peak width,
    ``peak_gain_se`` is the standard error of the seed-paired gain and ``peak_seeds_beating`` the seeds where
    ``hard_pool`` is lower. ``steps``: every student's training steps; ``passes[method]``: how many times they go
    through that method's training set (``steps * batch_size / size``); ``teacher_architecture``: whether the widest
    students are the teacher's own model and width."""
    teachers = frame[(frame["method"] == "teacher") & frame["seed"].isin(p["student_seeds"])]
    present = set(curve_keys(frame, p).dropna())
    curves = {k: _curve(frame, k, p) for k in CURVES if k in present}
    steps = dd.run_config(p, max(p["widths"]), p["student_seeds"][0]).train.steps * p["student_steps_factor"]
    small = small_pool_size(p)
    out = dict(rate=float(rate), teacher_width=int(teachers["teacher_width"].max()),
               teacher=float(teachers["test_error"].mean()), pool_size=int(p["pool_size"]),
               n_train=int(p["n_train"]), n_seeds=int(curves["hard_pool"]["seed"].nunique()), steps=int(steps),
               small_pool=small if "small_pool" in curves else None,
               passes={"direct": steps * p["batch_size"] / p["n_train"],
                       "hard_pool": steps * p["batch_size"] / p["pool_size"],
                       **({"small_pool": steps * p["batch_size"] / small} if "small_pool" in curves else {})},
               curves={m: dd.summarize(f) for m, f in curves.items()},
               test={m: f.groupby("width")["test_error"].mean().to_dict() for m, f in curves.items()},
               train={m: f.groupby("width")["train_error"].mean().to_dict() for m, f in curves.items()},
               params=curves["hard_pool"].groupby("width")["params"].first().astype(int).to_dict())
    widths = sorted(out["test"]["hard_pool"])
    out["widths"] = widths
    out["teacher_architecture"] = ((p["student_model"] or p["model"]) == p["model"]
                                   and widths[-1] == out["teacher_width"])
    out["fits"] = {k: [w for w in sorted(out["train"][k]) if out["train"][k][w] <= dd.INTERPOLATION_TOL]
                   for k in curves}
    out["gains"] = {w: shown_difference(out["test"]["direct"][w], out["test"]["hard_pool"][w]) for w in widths}
    out["beats"] = [w for w in widths if out["gains"][w] >= CLEAR]
    out["worse"] = [w for w in widths if out["gains"][w] <= -CLEAR]
    out["peaks"] = {k: peak_of(out["test"][k]) for k in curves}
    peak = out["peaks"]["direct"]["width"]
    by_seed = {m: curves[m][curves[m]["width"] == peak].groupby("seed")["test_error"].mean() for m in STUDY_METHODS}
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


def _curve_words(s: dict, peak: dict) -> str:
    """One curve's shape (``s``: its summary, ``peak``: :func:`peak_of`): a clear peak (where, and how far above the
    best narrower and the widest width) or none (and where it is lowest)."""
    if peak["clear"]:
        return (f"a clear peak at width {peak['width']} ({peak['error']:.1%}, {points(peak['over_narrower'])} above "
                f"width {peak['narrower']} and {points(peak['over_widest'])} above the widest)")
    lowest = ("the widest width" if s["best_width"] == s["widest_width"] else f"width {s['best_width']}")
    return (f"no clear peak: it is lowest at {lowest} ({s['best_test_error']:.1%})"
            + ("" if s["best_width"] == s["widest_width"] else f", and the widest is at {s['widest_test_error']:.1%}"))


def _widths(widths: list) -> str:
    return f"width{'s' if len(widths) > 1 else ''} {join(str(w) for w in widths)}"


def _fit_words(n: dict, method: str, labels: str) -> str:
    """Which widths' students fit their own training labels: none (with the lowest train error, its width and
    parameter count), every width from one on, or those listed."""
    fits, widths, train = n["fits"][method], n["widths"], n["train"][method]
    if not fits:
        w = min(train, key=train.get)
        return (f"no width fits the {labels} (the lowest train error is {train[w]:.1%}, at width {w}, "
                f"{n['params'][w]:,} parameters)")
    if fits == widths[widths.index(fits[0]):]:
        return f"the students fit their {labels} from width {fits[0]} on"
    return f"the students fit their {labels} at {_widths(fits)} only"


def sentence(n: dict) -> str:
    """The study in words (:func:`numbers`), as markdown bullets: each curve and which widths fit their own labels
    (with the training steps and passes over each training set, which a larger pool changes too), the teacher's
    labels against the labeled set's noise, the two main curves side by side (the widths where one beats the other
    by ``CLEAR``, the seed-paired gain at ``direct``'s peak, their best widths), then the verdict (:func:`_verdict`)."""
    direct, hard = n["curves"]["direct"], n["curves"]["hard_pool"]
    dpeak, hpeak = n["peaks"]["direct"], n["peaks"]["hard_pool"]
    widths, widest = n["widths"], n["widths"][-1]
    head = (f"At label noise {n['rate']:.0%} ({plural(n['n_seeds'], 'student seed')}, every student trained for "
            f"{n['steps']:,} steps: {n['passes']['direct']:.0f} passes over the {n['n_train']:,} labeled inputs, "
            f"{n['passes']['hard_pool']:.1f} over the {n['pool_size']:,} pool inputs):")
    bullets = [
        f"- **`direct`** (the noisy labeled set) has {_curve_words(direct, dpeak)}; "
        f"{_fit_words(n, 'direct', 'noisy labels')}.",
        f"- **`hard_pool`** (the widest teacher's labels for the pool). The teacher, width {n['teacher_width']}, has "
        f"{n['teacher']:.1%} test error, so presumably about that share of its pool labels is wrong, against "
        f"{n['rate']:.0%} of the labeled set's: its labels are wrong more often, but they are a function of the "
        f"input, not random. The curve has {_curve_words(hard, hpeak)}; {_fit_words(n, 'hard_pool', 'pool labels')}. "
        f"Its width-{widest} students are "
        f"{relation(shown_difference(n['test']['hard_pool'][widest], n['teacher']), 'the teacher')}."]
    if n.get("small_pool"):
        small = n["small_pool"]
        same = ", as many as `direct` makes over the labeled set" if small == n["n_train"] else ""
        bullets.append(f"- **`hard_pool` on {small:,} pool inputs** (the same teacher; "
                       f"{n['passes']['small_pool']:.0f} passes{same}) has "
                       f"{_curve_words(n['curves']['small_pool'], n['peaks']['small_pool'])}; "
                       f"{_fit_words(n, 'small_pool', 'pool labels')}.")
    beats, worse = n["beats"], n["worse"]
    side = (f"- **Side by side**, `hard_pool` beats `direct` by at least {points(CLEAR)} at {len(beats)} of the "
            f"{len(widths)} widths" + (f" ({_widths(beats)})" if 0 < len(beats) < len(widths) else "")
            + (f", and `direct` is at least that much better at {_widths(worse)}" if worse else "") + ".")
    if dpeak["clear"]:
        w = dpeak["width"]
        side += (f" At `direct`'s peak, width {w}, `hard_pool` is {n['test']['hard_pool'][w]:.1%}, "
                 f"{relation(-n['gains'][w], '`direct`')}"
                 + (f" (standard error of the seed-paired gain {points(n['peak_gain_se'])}; lower on "
                    f"{n['peak_seeds_beating']} of {n['peak_seeds']} seeds)" if n["peak_seeds"] > 1 else "") + ".")
    best = shown_difference(hard["best_test_error"], direct["best_test_error"])
    direct_best = f"`direct`'s best, width {direct['best_width']}"
    side += (f" `hard_pool`'s best, width {hard['best_width']} ({hard['best_test_error']:.1%}), is "
             f"{relation(best, direct_best)} ({direct['best_test_error']:.1%}).")
    bullets.append(side)
    return head + "\n\n" + "\n".join(bullets) + "\n\n" + _verdict(n)


def _verdict(n: dict) -> str:
    """What the curves say of the paper's explanation (the pool's size lets the student escape its own peak): whether
    ``direct`` peaks, whether the main pool's students peak and fit their labels, what the small pool shows
    (:func:`_small_pool_words`), what this run cannot separate (a larger pool at the same steps is also fewer passes
    over it), and how the best widths compare (:func:`_best_words`)."""
    dpeak, hpeak = n["peaks"]["direct"], n["peaks"]["hard_pool"]
    fitted = n["fits"]["hard_pool"]
    if not dpeak["clear"]:
        text = "Without a clear peak in `direct`'s curve at this rate, this run cannot show a pool removing one."
    else:
        w = dpeak["width"]
        first = (", the width at which `direct`'s students first fit their noisy labels"
                 if n["fits"]["direct"][:1] == [w] else "")
        text = f"Trained on the labeled set, the student peaks at width {w}{first}."
        if hpeak["clear"]:
            text += f" On the teacher's labels for the pool it peaks too, at width {hpeak['width']}."
        elif fitted:
            text += (f" On the teacher's labels for the pool it has no clear peak, though its students fit those "
                     f"labels at {_widths(fitted)}.")
        else:
            text += (" On the teacher's labels for the pool it has no clear peak, and no width fits those labels in "
                     "these steps: what the paper's explanation predicts.")
    text += _small_pool_words(n)
    text += (f" (At the same steps the larger pool is also fewer passes over its labels, "
             f"{n['passes']['hard_pool']:.1f} against {n['passes']['direct']:.0f}; this run does not separate the "
             f"two, the {{ref}}`next section <kd-pool-passes>` does, at one width.)")
    if n["teacher_architecture"] and not fitted:
        text += (f" The students of width {n['widths'][-1]} have the teacher's own architecture, so they could fit its "
                 f"labels exactly; in these steps they do not.")
    return text + _best_words(n)


def _small_pool_words(n: dict) -> str:
    """What the small pool adds (:func:`small_pool_size`): with as many pool inputs as labeled ones and as many passes,
    only the labels' source differs from ``direct``. Its curve's peak (or none, and where its students fit the
    teacher's labels), the large pool's students against it at every width, and it against ``direct``
    (:func:`_level_words`). Where ``direct`` peaks, the large pool does not, and the small pool's students fit their
    labels without a peak, fitting is shown not to be what brings the peak."""
    small = n.get("small_pool")
    if not small:
        return ""
    like = ("as many as the labeled set, with as many passes as `direct`"
            if small == n["n_train"] else f"{n['passes']['small_pool']:.0f} passes over them")
    peak, fits = n["peaks"]["small_pool"], n["fits"]["small_pool"]
    if peak["clear"]:
        shape = f"the teacher's labels give a clear peak, at width {peak['width']}"
    else:
        shape = "the curve has no clear peak" + (f", though {_fit_words(n, 'small_pool', 'pool labels')}"
                                                 if fits else ", and no width fits its labels")
    text = f" On a pool of {small:,} inputs ({like}), {shape}. {_level_words(n)}."
    if n["peaks"]["direct"]["clear"] and not n["peaks"]["hard_pool"]["clear"] and fits and not peak["clear"]:
        text += (" So the large pool keeping the student from fitting its labels is not what spares it the peak here: "
                 "on teacher labels it does fit, its curve has no peak either. What the larger pool changes is how low "
                 "the curve lies.")
    return text


def _range(diffs: list, above: str, below: str) -> str:
    """Differences as printed, in words: ``"3.4 to 7.9 points <above>"`` where all are above zero, ``"... <below>"``
    where all are below, else from the largest ``below`` to the largest ``above``."""
    lo, hi = min(diffs), max(diffs)
    if lo > 0:
        return f"{points_range(lo, hi)} {above}"
    if hi < 0:
        return f"{points_range(-hi, -lo)} {below}"
    return f"between {points(-lo)} {below} and {points(hi)} {above}"


def _level_words(n: dict) -> str:
    """The large pool's students against the small pool's at every width, and the small pool's against ``direct``
    (differences as printed, :func:`_range`)."""
    small, widths, test = n["small_pool"], n["widths"], n["test"]
    large = [shown_difference(test["small_pool"][w], test["hard_pool"][w]) for w in widths]
    versus = [shown_difference(test["small_pool"][w], test["direct"][w]) for w in widths]
    return (f"At every width the {n['pool_size']:,}-input pool's students are {_range(large, 'better', 'worse')} than "
            f"the {small:,}-input pool's, which are {_range(versus, 'worse', 'better')} than `direct`")


def _best_words(n: dict) -> str:
    """``hard_pool``'s best width against ``direct``'s best (:data:`ddlib.prose.CLEAR`, either way); where they are
    within it and ``direct`` has a clear peak, that distillation removes the peak rather than beating a well-chosen
    width."""
    direct, hard = n["curves"]["direct"], n["curves"]["hard_pool"]
    gain = shown_difference(direct["best_test_error"], hard["best_test_error"])
    peaked = n["peaks"]["direct"]["clear"]
    if gain >= CLEAR:
        return f" Distillation {'also ' if peaked else ''}beats `direct`'s best width, by {points(gain)}."
    if gain <= -CLEAR:
        return f" Distillation's best width is {points(-gain)} worse than `direct`'s best."
    removes = peaked and not n["peaks"]["hard_pool"]["clear"]
    return (f" Distillation {'removes the peak rather than beating' if removes else 'does not beat'} a well-chosen "
            f"width: `hard_pool`'s best is within {points(CLEAR)} of `direct`'s best.")


def short_sentence(n: dict) -> str:
    """:func:`sentence` in a few lines, for the findings page: the two main curves' shapes, whether the pool's labels
    are fitted at any width, at how many widths ``hard_pool`` beats ``direct`` by at least ``CLEAR``, and the small
    pool (:func:`_small_short`)."""
    def shape(method):
        peak = n["peaks"][method]
        return f"a clear peak at width {peak['width']}" if peak["clear"] else "no clear peak"
    if n["peaks"]["direct"]["clear"] or n["peaks"]["hard_pool"]["clear"]:
        shapes = (f"students of every width trained on the labeled set (`direct`) have {shape('direct')}, and those "
                  f"taught on the pool (`hard_pool`) have {shape('hard_pool')}")
    else:
        shapes = ("neither the students of the labeled set (`direct`) nor those of the pool (`hard_pool`) have a clear "
                  "peak")
    fitted = n["fits"]["hard_pool"]
    fits = (f"no width fits the pool's labels in {n['steps']:,} steps" if not fitted else
            f"the pool's labels are fitted at {_widths(fitted)}")
    return (f"At label noise {n['rate']:.0%}, {shapes}; {fits}. `hard_pool` beats `direct` by at least "
            f"{points(CLEAR)} at {len(n['beats'])} of the {len(n['widths'])} widths"
            + (f" ({_widths(n['beats'])})" if 0 < len(n["beats"]) < len(n["widths"]) else "")
            + (f" and is that much worse at {_widths(n['worse'])}" if n["worse"] else "") + "." + _small_short(n))


def _small_short(n: dict) -> str:
    """The small pool's curve in one sentence for :func:`short_sentence` (``""`` where it did not run): whether its
    students fit the teacher's labels (:func:`_fit_words`), whether it peaks, and whether it is worse than
    ``direct`` at every width."""
    small = n.get("small_pool")
    if not small:
        return ""
    peak = n["peaks"]["small_pool"]
    versus = [shown_difference(n["test"]["small_pool"][w], n["test"]["direct"][w]) for w in n["widths"]]
    return (f" On {small:,} pool inputs {_fit_words(n, 'small_pool', 'teacher labels')}, with "
            f"{'a clear peak' if peak['clear'] else 'no clear peak'}"
            + (", but with a higher error than `direct` at every width." if min(versus) > 0 else "."))


def sentences(frames: dict[float, pd.DataFrame], p: dict) -> str:
    """:func:`sentence` for every rate of the study, one paragraph each (or why there is none)."""
    if not frames:
        return "No such study was run here (`student_sweep_noise` is empty)."
    return "\n\n".join(sentence(numbers(frame, p, rate)) for rate, frame in frames.items())


def plot(frame: pd.DataFrame, p: dict, rate: float):
    """Test error (left) and train error on each student's own training set (right) against student width, for each
    curve of :data:`CURVES` (mean and standard error over the student seeds); the teacher's test error dashed."""
    keys = curve_keys(frame, p)
    f = frame[keys.notna()].assign(curve=keys[keys.notna()])
    f["student_width"] = f["student_width"].astype(int)
    names = {"direct": f"direct ({p['n_train']:,} noisy labels)",
             "hard_pool": f"hard_pool ({p['pool_size']:,} teacher labels)",
             "small_pool": f"hard_pool ({small_pool_size(p) or 0:,} teacher labels)"}
    f["student"] = f["curve"].map(names)
    teacher = frame.loc[(frame["method"] == "teacher") & frame["seed"].isin(p["student_seeds"]), "test_error"]
    widths = sorted(set(f["student_width"]))
    return book.test_and_train_panels(f, "student_width", [names[k] for k in CURVES if k in set(f["curve"])],
                                      teacher.mean(), "student width", f"Students of every width at {rate:.0%} label "
                                      f"noise", ticks=(widths, [str(w) for w in widths]))
