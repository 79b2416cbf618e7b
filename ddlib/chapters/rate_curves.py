"""The distillation chapter's comparison across teacher widths (its first figure and table) again at another learning
rate, for teachers and students alike, with students of the width the chapter's rule picks at that rate.

:mod:`ddlib.chapters.widest_variants` reruns the widest teacher's comparison at each rate of ``lr_study``; claim C4
(the student's error tracks the teacher's curve) needs every teacher width. At each other rate this module trains,
for every teacher width of ``teacher_widths`` and the rule's width at that rate (the width of highest error near
that rate's threshold), every student method of ``methods`` of
every student seed, its students of the rule's width there (:func:`ddlib.chapters.widest_variants.rule_widths`; the
chapter's width where the width is set by hand). The teachers are that rate's whole sweep (the double-descent
chapter's learning-rate study), so the teacher curve has every width of it. The widest teacher's students, ``direct``
and ``oracle_pool`` are the runs :mod:`ddlib.chapters.widest_variants` trained, reused from the store. C4's other
half, the pool size, is studied for the widest teacher: its ``hard_pool`` students on every pool of
``pool_study_sizes``.
"""
from __future__ import annotations

import functools

import pandas as pd

from ..prose import CLEAR, join, plural, points, shown_difference
from ..runner import SweepOutcome
from . import distillation as kd
from . import double_descent as dd

#: The baselines a ``hard_pool`` student is said to beat (claim C3), where ``methods`` has them.
BASELINES = ("direct", "soft_kd_labeled")


def curve_width(width: int, widths: dict[float, int | None], lr: float) -> int | None:
    """The student width at rate ``lr``: the rule's there (``widths``, :func:`ddlib.chapters.widest_variants.rule_widths`;
    ``None`` while that rate's sweep is not stored), or the chapter's ``width`` where no rule applies (set by hand)."""
    return widths[lr] if lr in widths else width


def teacher_widths_at(p: dict, student_width: int) -> list[int]:
    """The teacher widths distilled at another rate: the chapter's ``teacher_widths`` and that rate's student width
    (the width the rule singles out there, as the chapter's own is among its teacher widths), where the sweep has it."""
    extra = [student_width] if student_width in p["widths"] else []
    return sorted(set(p["teacher_widths"]) | set(extra))


def rate_params(p: dict, lr: float, width: int, widths: dict[float, int | None]) -> dict:
    """``p`` at learning rate ``lr`` with the teacher widths distilled there (:func:`teacher_widths_at` of the student
    width there, :func:`curve_width`), as :func:`ddlib.chapters.distillation.method_table` and
    :func:`ddlib.chapters.distillation.plot_methods` read it."""
    return dict(p, lr=lr, teacher_widths=teacher_widths_at(p, curve_width(width, widths, lr)))


def curve_configs(p: dict, width: int, widths: dict[float, int | None]) -> list[tuple]:
    """``(rate, q, teachers, students)`` for each other learning rate of ``p`` whose student width is known
    (:func:`curve_width`): ``q`` the parameters at that rate, ``teachers`` that rate's whole sweep, ``students`` every
    method of every teacher width of :func:`teacher_widths_at` and student seed, of that width, and the widest
    teacher's ``hard_pool`` students on every pool of ``pool_study_sizes`` (the chapter's pool-size study, for the
    widest teacher only)."""
    out = []
    for lr, q in dd.lr_study_params(p):
        w = curve_width(width, widths, lr)
        if w is not None:
            tws = teacher_widths_at(p, w)
            students = (kd.student_configs(q, w, tws, [p["pool_size"]], p["methods"])
                        + kd.student_configs(q, w, [max(tws)], p["pool_study_sizes"], ["hard_pool"]))
            out.append((lr, q, dd.sweep_configs(q), students))
    return out


def run_curves(p: dict, width: int, widths: dict[float, int | None], **kwargs
               ) -> tuple[dict[float, pd.DataFrame], SweepOutcome]:
    """Run (or reuse) :func:`curve_configs`; each rate's frame (rows as :func:`ddlib.chapters.distillation.run`'s) is
    written to ``results-lr-<rate>-teachers.csv`` beside the chapter's table. Returns ``{rate: frame}`` (empty where
    there is no other rate) and all the runs as one outcome."""
    configs = curve_configs(p, width, widths)
    studies = [(f"{lr:g}-teachers", q, teachers, students) for lr, q, teachers, students in configs]
    frames, outcome = kd.run_studies(p, studies, "results-lr-{}.csv", **kwargs)
    return {lr: frames[key] for (lr, *_), (key, *_) in zip(configs, studies)}, outcome


def curve_numbers(frame: pd.DataFrame, p: dict, teacher_widths: list[int]) -> dict:
    """Across ``teacher_widths`` in ``frame`` (means over the student seeds, :func:`ddlib.chapters.distillation.paired`),
    for the ``hard_pool`` student (main pool) and its teacher; every comparison a difference of the printed errors:

    - ``hard_pool`` and ``teacher``: the two mean test errors by teacher width;
    - ``close_to_teacher``: the teacher widths where the student is less than
      :data:`ddlib.chapters.distillation.CLOSE_TO_TEACHER` from its teacher (C2's "close"), and ``below_teacher``,
      where it is at least :data:`ddlib.prose.CLEAR` below it;
    - ``best``, ``best_error``: the teacher width of the best student, and that student's error;
    - ``beats``: for each baseline of ``methods``, the teacher widths from which the student beats it by at least
      ``CLEAR``; ``soft_kd_labeled_wins``: ``(width, lead)`` where ``soft_kd_labeled`` has the lower error by at least
      :data:`ddlib.chapters.distillation.MARGIN`;
    - :func:`ddlib.chapters.distillation.tracking` over every teacher width, and ``tracking_without_widest``, its
      correlation without the widest teacher (one point can carry a correlation of few points);
    - ``rises``: ``(a, b, up, change)`` for each pair of neighbouring widths where the teacher's error rises (by ``up``),
      with the student's change there;
    - ``pool_curve``: the widest teacher's ``hard_pool`` student's mean error by pool size (``pool_study_sizes``).
    """
    frame, pool = kd.paired(frame, p), p["pool_size"]
    mean = functools.partial(kd.mean_error, frame)
    hp = {tw: mean("hard_pool", tw, pool) for tw in teacher_widths}
    teacher = {tw: mean("teacher", tw) for tw in teacher_widths}
    gap = {tw: shown_difference(hp[tw], teacher[tw]) for tw in teacher_widths}
    beats = {m: [tw for tw in teacher_widths if shown_difference(mean(m, tw, kd.method_pool(m, p)), hp[tw]) >= CLEAR]
             for m in BASELINES if m in p["methods"]}
    soft_wins = [(tw, lead) for tw in teacher_widths if "soft_kd_labeled" in p["methods"]
                 and (lead := shown_difference(hp[tw], mean("soft_kd_labeled", tw, 0))) >= kd.MARGIN]
    best = min(teacher_widths, key=hp.get)
    rises = [(a, b, up, shown_difference(hp[b], hp[a])) for a, b in zip(teacher_widths, teacher_widths[1:])
             if (up := shown_difference(teacher[b], teacher[a])) > 0]
    distilled = frame[frame["teacher_width"].isin(teacher_widths)]
    narrower = distilled[distilled["teacher_width"] != max(teacher_widths)]
    return dict(kd.tracking(distilled, pool), hard_pool=hp, teacher=teacher,
                close_to_teacher=[tw for tw in teacher_widths if abs(gap[tw]) < kd.CLOSE_TO_TEACHER],
                below_teacher=[tw for tw in teacher_widths if gap[tw] <= -CLEAR], best=best, best_error=hp[best],
                beats=beats, soft_kd_labeled_wins=soft_wins, rises=rises,
                tracking_without_widest=kd.tracking(narrower, pool)["tracking_correlation"],
                pool_curve=pool_curve(frame, p, max(teacher_widths)))


def pool_curve(frame: pd.DataFrame, p: dict, teacher_width: int) -> dict[int, float]:
    """The ``hard_pool`` student of the teacher of ``teacher_width``: its mean test error (over the student seeds of
    ``frame``) on each pool of ``pool_study_sizes``, ``nan`` where that pool was not run."""
    return {n: kd.mean_error(frame, "hard_pool", teacher_width, n) for n in sorted(p["pool_study_sizes"])}


def curve_table(frames: dict[float, pd.DataFrame], widths: dict[float, int | None], p: dict, width: int
                ) -> pd.DataFrame | None:
    """Mean test error (per cent, one decimal) of each method (rows) for each teacher width distilled at each other
    learning rate (columns: rate, then teacher width; :func:`ddlib.chapters.distillation.method_table`); ``None``
    where there is no other rate."""
    if not frames:
        return None
    tables = {f"{lr:g}, students of width {curve_width(width, widths, lr)}": kd.method_table(
        f, rate_params(p, lr, width, widths)) for lr, f in sorted(frames.items())}
    return pd.concat(tables, axis=1, names=["learning rate", "teacher"])


def plot(frames: dict[float, pd.DataFrame], widths: dict[float, int | None], p: dict, width: int) -> list:
    """One :func:`ddlib.chapters.distillation.plot_methods` figure per other learning rate, its title naming the rate."""
    return [kd.plot_methods(f, rate_params(p, lr, width, widths), f" at learning rate {lr:g}")
            for lr, f in sorted(frames.items())]


def _rises_words(n: dict) -> str:
    """Where the teachers' mean error rises from one distilled width to the next (:func:`curve_numbers`' ``rises``),
    what the students' does there, and whether the teachers have a clear peak to inherit at all: a student can follow
    its teacher down without following it up."""
    if not n["rises"]:
        return ""

    def change(c: float) -> str:
        return f"rises by {points(c)}" if c > 0 else f"falls by {points(-c)}" if c < 0 else "stays level"
    said = join(f"from width {a} to {b} the teachers' error rises by {points(up)} and the students' {change(c)}"
                for a, b, up, c in n["rises"])
    clear = [(a, b, c) for a, b, up, c in n["rises"] if up >= CLEAR]
    if not clear:
        return (f" Where the teacher curve goes up, {said}; no such rise is as large as the {points(CLEAR)} counted as "
                f"clear, so these teachers have no clear peak for a student to inherit, and the correlation says only "
                f"that a better teacher makes a better student.")
    followed = [f"{a} to {b}" for a, b, c in clear if c >= CLEAR]
    return (f" Where the teacher curve goes up, {said}. The students rise by at least {points(CLEAR)} too on "
            f"{len(followed)} of the teachers' {plural(len(clear), 'clear rise')}"
            f"{f' (from width {join(followed)})' if followed else ''}.")


def _pool_words(n: dict, base: dict, at: str) -> str:
    """C4's other half: the widest teacher's ``hard_pool`` student on the smallest and the largest pool of the pool-size
    study (:func:`curve_numbers`' ``pool_curve``), beside the same at the chapter's rate (``base``, labelled ``at``);
    ``""`` where either end was not run."""
    curve, before = n["pool_curve"], base["pool_curve"]
    small, large = min(curve), max(curve)
    if len(curve) < 2 or any(v != v for v in (curve[small], curve[large])):
        return ""
    change = shown_difference(curve[small], curve[large])
    helps = ("helps" if change >= kd.MARGIN else "does not help" if change <= -kd.MARGIN else "changes little")
    then = (f" ({at}: from {before[small]:.1%} to {before[large]:.1%})"
            if small in before and large in before and before[small] == before[small] else "")
    return (f" A larger pool, at the same number of steps, {helps}: the widest teacher's student goes from "
            f"{curve[small]:.1%} on {small:,} inputs to {curve[large]:.1%} on {large:,}{then}.")


def _count(widths: list[int], n: int, note: str) -> str:
    """``widths`` out of ``n`` teacher widths, in words, with ``note`` (the chapter's rate's count) in the same
    brackets: "none of the 5 (note)", "2 of the 5 (widths 16 and 64; note)", "the one (width 64; note)"."""
    if n == 1:
        return f"the one (width {widths[0]}; {note})" if widths else f"not the one ({note})"
    if not widths:
        return f"none of the {n} ({note})"
    return f"{len(widths)} of the {n} (width{'s' if len(widths) > 1 else ''} {join(widths)}; {note})"


def _no_curves(p: dict) -> str:
    """Why no other rate's comparison across teacher widths ran."""
    if not dd.lr_study_params(p):
        return ("No other learning rate was run here (`lr_study` is empty, or holds only the chapter's own rate), so the "
                "comparison across teacher widths is the chapter's rate's only.")
    return ("The rule's width at the other learning rates is not known (their sweeps are not all stored), so their "
            "comparison across teacher widths was not run.")


def curve_sentence(main: pd.DataFrame, frames: dict[float, pd.DataFrame], widths: dict[float, int | None], p: dict,
                   width: int) -> str:
    """For each other learning rate, a lead sentence and one bullet per claim on how the ``hard_pool`` student follows
    its teachers across teacher widths (:func:`curve_numbers`): C2, the teacher widths where it is close to its
    teacher and where it is clearly better, and the best student's teacher; C3, the teacher widths from which it beats
    each baseline, and those from which ``soft_kd_labeled`` does better; C4, the correlation with the teacher curve
    (and without the widest teacher) and what the student does where that curve rises (:func:`_rises_words`). Each
    count is set beside the same at the chapter's rate (``main``, the chapter's frame, its students of ``width``, over
    the chapter's teacher widths), in brackets."""
    if not frames:
        return _no_curves(p)
    if "hard_pool" not in p["methods"]:
        return "`hard_pool` is not among `methods`, so there is no student to follow its teachers across widths here."
    mine = sorted(set(p["teacher_widths"]))
    base, k0, at = curve_numbers(main, p, mine), len(mine), f"{p['lr']:g}"
    said = []
    for lr, frame in sorted(frames.items()):
        w = curve_width(width, widths, lr)
        q = rate_params(p, lr, width, widths)
        tws = q["teacher_widths"]
        n, k = curve_numbers(frame, q, tws), len(tws)
        why = ("set by hand" if p["student_width"] != "peak" else "the rule's width there, as at the chapter's rate"
               if w == width else "the width the rule picks there")
        lead = (f"At learning rate {lr:g}, with students of width {w} ({why}), "
                f"{'the teachers of widths' if k > 1 else 'the teacher of width'} {join(tws)} {'are' if k > 1 else 'is'} "
                f"distilled (every method, {plural(len(p['student_seeds']), 'seed')}). Their `hard_pool` students, claim "
                f"by claim, with the chapter's rate in brackets ({at}: students of width {width}, "
                f"{'teachers of widths' if k0 > 1 else 'the teacher of width'} {join(mine)}):")
        widest = "the widest" if n["best"] == max(tws) else "not the widest"
        close = _count(n["close_to_teacher"], k, f"{at}: {len(base['close_to_teacher'])} of the {k0}")
        below = _count(n["below_teacher"], k, f"{at}: {len(base['below_teacher'])} of the {k0}")
        c2 = (f"- C2: the student is within {points(kd.CLOSE_TO_TEACHER)} of the teachers it learned from at {close}, "
              f"and at least {points(CLEAR)} better than them at {below}. The best `hard_pool` student comes from the "
              f"teacher of width {n['best']} ({n['best_error']:.1%}, {widest}; {at}: width {base['best']}).")
        beats = [f"`{m}` from {_count(ws, k, f'{at}: {n0} of the {k0}')}"
                 for (m, ws), n0 in zip(n["beats"].items(), map(len, base["beats"].values()))]
        c3 = (f"\n- C3: it beats {' and '.join(beats)}, each by at least {points(CLEAR)}.{kd._soft_wins_words(n)}"
              if beats else "")
        r, r0, r1 = n["tracking_correlation"], base["tracking_correlation"], n["tracking_without_widest"]
        if r == r:
            without = f", {r1:.2f} without the widest teacher" if r1 == r1 else ""
            falls = (": the teachers' error never rises with width over these widths, so that is a shared trend, not "
                     "a shared peak" if n["teacher_curve_only_falls"] else "")
            c4 = (f"\n- C4: its error follows its teacher's with correlation {r:.2f} over {plural(k, 'teacher width')}"
                  f"{without} ({at}: {f'{r0:.2f} over {k0}' if r0 == r0 else 'none'}){falls}."
                  f"{_rises_words(n)}")
        elif k < 3:
            c4 = "\n- C4: its error cannot be correlated with its teacher's here: there are fewer than three teacher widths."
        else:
            c4 = "\n- C4: no correlation with its teacher's error can be computed from these runs."
        said.append(f"{lead}\n\n{c2}{c3}{c4}{_pool_words(n, base, at)}")
    return "\n\n".join(said)
