"""The distillation chapter's comparison across teacher widths (its first figure and table) again at another learning
rate, for teachers and students alike, with students of the width the chapter's rule picks at that rate.

:mod:`ddlib.chapters.widest_variants` reruns the widest teacher's comparison at each rate of ``lr_study``; claim C4
(the student's error tracks the teacher's curve) needs every teacher width. At each other rate this module trains,
for every teacher width of ``teacher_widths`` and the rule's width at that rate (the width of highest error near
that rate's threshold, as ``16`` is among the chapter's teacher widths), every student method of ``methods`` of
every student seed, its students of the rule's width there (:func:`ddlib.chapters.widest_variants.rule_widths`; the
chapter's width where the width is set by hand). The teachers are that rate's whole sweep (the double-descent
chapter's learning-rate study), so the teacher curve has every width of it. The widest teacher's students, ``direct``
and ``oracle_pool`` are the runs :mod:`ddlib.chapters.widest_variants` trained, reused from the store.
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
    method of every teacher width of :func:`teacher_widths_at` and student seed, of that width."""
    out = []
    for lr, q in dd.lr_study_params(p):
        w = curve_width(width, widths, lr)
        if w is not None:
            students = kd.student_configs(q, w, teacher_widths_at(p, w), [p["pool_size"]], p["methods"])
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
    """Across ``teacher_widths`` in ``frame`` (means over the student seeds, :func:`ddlib.chapters.distillation.paired`):
    the ``hard_pool`` student's error by teacher width (``hard_pool``, main pool), its tracking of the teacher's curve
    (:func:`ddlib.chapters.distillation.tracking`), the teacher widths from which it beats each baseline of ``methods``
    by at least :data:`ddlib.prose.CLEAR` (``beats``), those from which it ends at least that far below its own teacher
    (``below_teacher``), its best teacher (``best``, ``best_error``), the teacher's mean error by width (``teacher``) and
    the teacher widths from which ``soft_kd_labeled`` has the lower error by at least
    :data:`ddlib.chapters.distillation.MARGIN` (``soft_kd_labeled_wins``, with that lead); differences of the printed
    errors."""
    frame, pool = kd.paired(frame, p), p["pool_size"]
    mean = functools.partial(kd.mean_error, frame)
    hp = {tw: mean("hard_pool", tw, pool) for tw in teacher_widths}
    beats = {m: [tw for tw in teacher_widths if shown_difference(mean(m, tw, kd.method_pool(m, p)), hp[tw]) >= CLEAR]
             for m in BASELINES if m in p["methods"]}
    teacher = {tw: mean("teacher", tw) for tw in teacher_widths}
    below = [tw for tw in teacher_widths if shown_difference(hp[tw], teacher[tw]) <= -CLEAR]
    best = min(teacher_widths, key=hp.get)
    soft_wins = [(tw, lead) for tw in teacher_widths if "soft_kd_labeled" in p["methods"]
                 and (lead := shown_difference(hp[tw], mean("soft_kd_labeled", tw, 0))) >= kd.MARGIN]
    return dict(kd.tracking(frame, pool), hard_pool=hp, teacher=teacher, beats=beats, below_teacher=below, best=best,
                best_error=hp[best], soft_kd_labeled_wins=soft_wins)


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
    """Where the teachers' mean error rises from one distilled width to the next (as printed), what the students'
    does there: whether the student follows the teacher up, not only down."""
    widths = sorted(n["teacher"])
    said = []
    for a, b in zip(widths, widths[1:]):
        up = shown_difference(n["teacher"][b], n["teacher"][a])
        if up > 0:
            change = shown_difference(n["hard_pool"][b], n["hard_pool"][a])
            student = (f"rises by {points(change)}" if change > 0 else f"falls by {points(-change)}" if change < 0
                       else "stays level")
            clear = "" if up >= CLEAR else f", less than the {points(CLEAR)} counted as clear"
            said.append(f"from width {a} to {b} (by {points(up)}{clear}), the students' error {student}")
    return f" Where the teachers' error rises, {join(said)}." if said else ""


def _count(widths: list[int], n: int, note: str) -> str:
    """``widths`` out of ``n`` teacher widths, in words, with ``note`` in the same brackets: "none of the 5 (note)",
    "2 of the 5 (widths 16 and 64; note)"."""
    if not widths:
        return f"none of the {n} ({note})"
    return f"{len(widths)} of the {n} (width{'s' if len(widths) > 1 else ''} {join(widths)}; {note})"


def curve_sentence(main: pd.DataFrame, frames: dict[float, pd.DataFrame], widths: dict[float, int | None], p: dict,
                   width: int) -> str:
    """For each other learning rate, a lead sentence and one bullet per claim on how the ``hard_pool`` student follows
    its teachers across teacher widths (:func:`curve_numbers`): C2, the teachers it ends clearly below, and its best
    teacher; C3, the teachers from which it beats each baseline, and those from which ``soft_kd_labeled`` does
    better; C4, the correlation with the teacher curve and what the student does where that curve rises. Each count
    is set beside the same at the chapter's rate (``main``, the chapter's frame, its students of ``width``, over the
    chapter's teacher widths)."""
    if not frames:
        return ("No other learning rate was run here (`lr_study` is empty, or holds only the chapter's own rate), so the "
                "comparison across teacher widths is the chapter's rate's only.")
    base = curve_numbers(main, p, sorted(p["teacher_widths"]))
    k0, at = len(p["teacher_widths"]), f"at {p['lr']:g}"
    said = []
    for lr, frame in frames.items():
        w = curve_width(width, widths, lr)
        q = rate_params(p, lr, width, widths)
        tws = q["teacher_widths"]
        n, k = curve_numbers(frame, q, tws), len(tws)
        why = ("set by hand" if p["student_width"] != "peak" else "the rule's width there, as at the chapter's rate"
               if w == width else "the width the rule picks there")
        lead = (f"At learning rate {lr:g}, with students of width {w} ({why}), "
                f"{'the teachers of widths' if k > 1 else 'the teacher of width'} {join(tws)} {'are' if k > 1 else 'is'} "
                f"distilled (every method, {plural(len(p['student_seeds']), 'seed')}). Their `hard_pool` students, claim by "
                f"claim:")
        widest = "the widest" if n["best"] == max(tws) else "not the widest"
        below = _count(n["below_teacher"], k, f"{at}, {len(base['below_teacher'])} of {k0}")
        c2 = (f"- C2: the student ends at least {points(CLEAR)} below its own teachers from {below}. Its best teacher is width "
              f"{n['best']} ({n['best_error']:.1%}, {widest}; {at}, width {base['best']}).")
        beats = [f"`{m}` from {_count(ws, k, f'{at}, {n0} of {k0}')}"
                 for (m, ws), n0 in zip(n["beats"].items(), map(len, base["beats"].values()))]
        c3 = (f"\n- C3: it beats {' and '.join(beats)}, by at least {points(CLEAR)}.{kd._soft_wins_words(n)}"
              if beats else "")
        r, r0 = n["tracking_correlation"], base["tracking_correlation"]
        if r == r:
            falls = (": the teachers' error never rises with width over these widths, so that is a shared trend, not "
                     "a shared peak" if n["teacher_curve_only_falls"] else "")
            c4 = (f"\n- C4: its error follows its teacher's with correlation {r:.2f}"
                  f"{f' ({r0:.2f} {at}, with students of width {width})' if r0 == r0 else ''}{falls}."
                  f"{_rises_words(n)}")
        else:
            c4 = "\n- C4: its error cannot be correlated with its teacher's here: there are fewer than three teacher widths."
        said.append(f"{lead}\n\n{c2}{c3}{c4}")
    return "\n\n".join(said)
