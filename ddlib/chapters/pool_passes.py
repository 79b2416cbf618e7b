"""The pool's size or the passes over it? What the student-width study (:mod:`ddlib.chapters.student_widths`) cannot
separate, separated at one student width.

That study trains every student for the chapter's steps, so its large pool is also far fewer passes over the
student's training labels than ``direct`` makes over the labeled set (at ``default``, 21.5 against 538): a student
that goes over its labels less often may just not have had the time to memorise their errors, which is early
stopping in effect (the remedy :mod:`ddlib.chapters.direct_lengths` tries on ``direct``). Cotter et al. (2021) credit
the pool's size instead. Here, at the highest rate of ``student_sweep_noise`` and at one student width (``direct``'s
peak in that study, :func:`study_width`), ``hard_pool`` from the same widest teacher trains on each pool of
``pool_study_sizes`` for every number of passes that a pool no larger than it gets at the chapter's steps,
``direct``'s own among them (:func:`ladder`). At ``default`` that is the 1,000-input pool for 538 passes, the
5,000-input pool for 107.5 and 538, and the 25,000-input pool for 21.5, 107.5 and 538 passes (25 times the chapter's
steps). Runs that are the student-width study's (the chapter's steps on its two pools, ``direct``, the teachers) are
reused from the store; the seeds are the student seeds.

If the pool's size is what spares the student, the large pool's students stay clearly below ``direct`` when they
make as many passes as it; if the fewer passes were, they rise to it. :func:`numbers` reads both and :func:`sentence`
words them.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from .. import book
from ..config import config_hash
from ..prose import CLEAR, as_shown, plural, points, relation, shown_difference
from ..runner import SweepOutcome, records_frame, run_configs
from ..store import ResultStore
from . import distillation as kd
from . import double_descent as dd
from . import student_widths

TABLE = "results-pool-passes-noise-{:g}.csv"


def study_rate(p: dict) -> float | None:
    """The label-noise rate of the study: the highest of ``student_sweep_noise`` (at ``default`` the rate at which the
    double-descent chapter's curve has its clearest peak), ``None`` where that list is empty."""
    rates = p.get("student_sweep_noise", [])
    return float(max(rates)) if rates else None


def study_width(direct_curve: dict, widths: list) -> tuple[int, str]:
    """The student width of the study and why: the width of ``direct``'s highest bump in the student-width study
    (``direct_curve``: its mean test error by width; :func:`ddlib.chapters.student_widths.peak_of`), ``"peak"``
    where that bump is a clear peak, ``"bump"`` where it is not; the widest of ``widths`` (``"widest"``) where the
    curve has fewer than three widths."""
    peak = student_widths.peak_of(direct_curve)
    if peak["width"] is None:
        return int(max(widths)), "widest"
    return int(peak["width"]), "peak" if peak["clear"] else "bump"


def direct_curve(frame: pd.DataFrame) -> dict:
    """``direct``'s mean test error by student width, from a student-width study frame."""
    d = frame[frame["method"] == "direct"]
    return d.groupby(d["student_width"].astype(int))["test_error"].mean().to_dict()


def ladder(p: dict) -> list[tuple[int, int]]:
    """``(pool size, level)`` pairs: each pool of ``pool_study_sizes`` is trained for as many passes as a training set
    of ``level`` inputs gets at the chapter's steps, for every level no larger than the pool among the pool sizes and
    ``n_train`` (whose level is ``direct``'s passes), so that every pool is also trained for the chapter's steps
    (its own size) and a larger pool for each smaller one's passes. The steps are the chapter's times
    ``pool / level``."""
    sizes = sorted({int(s) for s in p["pool_study_sizes"]})
    levels = sorted(set(sizes) | {int(p["n_train"])})
    return [(pool, level) for pool in sizes for level in levels if level <= pool]


def _longer(cfg, factor: float):
    """``cfg`` trained for ``factor`` times its steps (rounded)."""
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, steps=round(cfg.train.steps * factor)))


def study_configs(p: dict, width: int) -> tuple[dict, list, list]:
    """``(q, teachers, students)``: the parameters at :func:`study_rate`, the widest teacher of that rate's sweep on
    the student seeds, and students of width ``width``: ``direct`` and ``hard_pool`` from that teacher at every pair
    of :func:`ladder`."""
    q = dict(p, label_noise=study_rate(p))
    widest = max(q["widths"])
    students = kd.student_configs(q, width, [widest], [0], ["direct"])
    for pool, level in ladder(p):
        students += [_longer(c, pool / level) for c in kd.student_configs(q, width, [widest], [pool], ["hard_pool"])]
    return q, [dd.run_config(q, widest, s) for s in p["student_seeds"]], students


def planned_configs(p: dict, store: ResultStore) -> list:
    """The study's runs, once the student-width study's ``direct`` runs at :func:`study_rate` (which pick the width)
    are all in ``store``; none before (or where the study is off)."""
    rate = study_rate(p)
    if rate is None:
        return []
    (_, q, _, students), = [s for s in student_widths.study_configs(p) if s[0] == rate]
    direct = [c for c in students if c.targets.method == "labels"]
    if not all(store.has(c) for c in direct):
        return []
    runs = records_frame([store.load(c) for c in direct])
    width, _ = study_width(runs.groupby("width")["test_error"].mean().to_dict(), q["widths"])
    _, teachers, students = study_configs(p, width)
    return teachers + students


def run_study(p: dict, sweeps: dict[float, pd.DataFrame], **kwargs) -> tuple[pd.DataFrame | None, SweepOutcome]:
    """Run (or reuse) :func:`study_configs` at the width :func:`study_width` reads off ``sweeps`` (the student-width
    study's frames, :func:`ddlib.chapters.student_widths.run_study`). The frame (rows as
    :func:`ddlib.chapters.distillation.runs_frame`'s, with ``steps``, ``passes`` over the run's own training set and
    ``why``, :func:`study_width`'s reason) is written to ``results-pool-passes-noise-<rate>.csv`` beside the chapter's
    table. ``(None, empty outcome)`` where the study is off."""
    rate = study_rate(p)
    if rate is None or rate not in sweeps:
        return None, SweepOutcome()
    width, why = study_width(direct_curve(sweeps[rate]), p["widths"])
    q, teachers, students = study_configs(p, width)
    teacher_outcome = run_configs(teachers, device=p["device"], **kwargs)
    student_outcome = run_configs(students, device=p["device"], **kwargs)
    frame = kd.runs_frame(records_frame(teacher_outcome.records), student_outcome)
    steps = {config_hash(c): c.train.steps for c in teachers + students}
    frame["steps"] = frame["hash"].map(steps)
    size = frame["pool_size"].where(frame["pool_size"] > 0, p["n_train"])
    frame["passes"] = frame["steps"] * p["batch_size"] / size
    frame["why"] = why
    book.write_table(frame, kd.CHAPTER, q, TABLE.format(rate), folder_params=p)
    return frame, teacher_outcome.merge(student_outcome)


def numbers(frame: pd.DataFrame | None, p: dict) -> dict | None:
    """What :func:`sentence` says, from the study's ``frame`` (``None`` where the study is off).

    ``width``, ``why`` (:func:`study_width`), ``rate``, ``teacher_width`` and ``teacher`` (its mean test error);
    ``direct``: its mean test and train error (on its noisy labels), ``direct_passes`` and ``steps`` (the chapter's
    student steps); ``grid``: for each pool size, ``{passes: (mean test error, mean train error on the teacher's
    labels, steps)}``; ``largest``: the largest pool; ``equal``: each pool's mean test error at ``direct``'s passes
    (where it ran them); ``gain_base`` and ``gain_equal``: ``direct``'s error minus the largest pool's (as printed,
    :func:`ddlib.prose.shown_difference`) at the chapter's steps and at ``direct``'s passes, with ``equal_se`` the
    standard error of the seed-paired gain at equal passes and ``equal_beating`` the seeds on which the pool is lower
    (of ``n_seeds``)."""
    if frame is None:
        return None
    students = frame[frame["method"] != "teacher"].assign(passes=lambda f: f["passes"].round(1))
    direct = students[students["method"] == "direct"]
    hard = students[students["method"] == "hard_pool"]
    teachers = frame[(frame["method"] == "teacher") & frame["seed"].isin(p["student_seeds"])]
    direct_passes = float(direct["passes"].iloc[0])
    grid = {int(pool): {float(passes): (float(g["test_error"].mean()), float(g["train_error"].mean()),
                                        int(g["steps"].iloc[0]))
                        for passes, g in f.groupby("passes")}
            for pool, f in hard.groupby("pool_size")}
    largest = max(grid)
    base = min(grid[largest])  # the fewest passes over the largest pool: the chapter's steps
    out = dict(rate=study_rate(p), width=int(direct["student_width"].iloc[0]), why=frame["why"].iloc[0],
               teacher_width=int(teachers["teacher_width"].max()), teacher=float(teachers["test_error"].mean()),
               direct=float(direct["test_error"].mean()), direct_train=float(direct["train_error"].mean()),
               direct_passes=direct_passes, steps=int(direct["steps"].iloc[0]), n_train=int(p["n_train"]),
               grid=grid, largest=largest, base_passes=base, n_seeds=int(direct["seed"].nunique()),
               equal={pool: g[direct_passes][0] for pool, g in grid.items() if direct_passes in g})
    out["gain_base"] = shown_difference(out["direct"], grid[largest][base][0])
    if direct_passes in grid[largest]:
        out["gain_equal"] = shown_difference(out["direct"], grid[largest][direct_passes][0])
        at = hard[(hard["pool_size"] == largest) & (hard["passes"] == direct_passes)]
        gains = (direct.groupby("seed")["test_error"].mean() - at.groupby("seed")["test_error"].mean()).dropna()
        out.update(equal_se=kd.standard_error(gains), equal_beating=int((gains > 0).sum()), n_paired=len(gains))
    return out


def _why_words(n: dict) -> str:
    return {"peak": "`direct`'s clear peak in the study above",
            "bump": "the highest bump of `direct`'s curve in the study above, not a clear peak",
            "widest": "the widest width: `direct`'s curve above has too few widths for a peak"}[n["why"]]


def _passes(x: float) -> str:
    """A number of passes as the page prints it: whole from 100 on or where it is whole, else to one decimal."""
    return f"{x:,.0f}" if x >= 100 or float(x).is_integer() else f"{x:,.1f}"


def sentence(n: dict) -> str:
    """The study in words (:func:`numbers`): the setting and ``direct``; each pool at ``direct``'s passes against it;
    the largest pool's errors as its passes grow; then the verdict (:func:`_verdict`)."""
    head = (f"At label noise {n['rate']:.0%}, students of width {n['width']} ({_why_words(n)}) learn from the widest "
            f"teacher (width {n['teacher_width']}, {n['teacher']:.1%} test error), on "
            f"{plural(n['n_seeds'], 'seed')}. `direct` makes {_passes(n['direct_passes'])} passes over the "
            f"{n['n_train']:,} labeled inputs in the chapter's {n['steps']:,} steps and ends at {n['direct']:.1%} test "
            f"error ({n['direct_train']:.1%} on its noisy labels).")
    bullets = []
    if n["equal"]:
        said = "; ".join(f"on {pool:,} inputs {err:.1%}, {relation(shown_difference(err, n['direct']), '`direct`')}"
                         for pool, err in sorted(n["equal"].items()))
        errors = [as_shown(err) for _, err in sorted(n["equal"].items())]  # by pool size, as printed
        falling = len(errors) > 2 and all(a > b for a, b in zip(errors, errors[1:]))
        falls = ", falling with every larger pool" if falling else ""
        bullets.append(f"- **As many passes as `direct`** ({_passes(n['direct_passes'])}), `hard_pool` is{falls}: "
                       f"{said}"
                       + (f" (the {n['largest']:,}-input pool lower on {n['equal_beating']} of {n['n_paired']} seeds, "
                          f"standard error of the seed-paired gain {points(n['equal_se'])})"
                          if n.get("n_paired", 0) > 1 else "") + ".")
    curve = n["grid"][n["largest"]]
    said = "; ".join(f"{_passes(passes)} passes ({steps:,} steps), {test:.1%} test error and {train:.1%} on its labels"
                     for passes, (test, train, steps) in sorted(curve.items()))
    bullets.append(f"- **Longer on the {n['largest']:,}-input pool**: {said}.")
    return head + "\n\n" + "\n".join(bullets) + "\n\n" + _verdict(n)


def _verdict(n: dict) -> str:
    """What the runs say of the pool's size against the passes: no gain to explain at the chapter's steps (the
    largest pool less than ``CLEAR`` below ``direct``), a gain that holds at ``direct``'s passes (at least ``CLEAR``),
    shrinks to within ``CLEAR`` or turns into a loss; and whether the largest pool's students then fit the teacher's
    labels."""
    base, largest = n["gain_base"], f"the {n['largest']:,}-input pool's students"
    if "gain_equal" not in n:
        return (f"No pool here is trained for `direct`'s {_passes(n['direct_passes'])} passes (none is at least as "
                f"large as the labeled set), so this run cannot separate the pool's size from the passes.")
    equal = n["gain_equal"]
    test, train, _ = n["grid"][n["largest"]][n["direct_passes"]]
    fit = (f"they now fit the teacher's labels ({train:.1%} train error on them)" if train <= dd.INTERPOLATION_TOL
           else f"they still do not fit the teacher's labels ({train:.1%} train error on them)")
    if base < CLEAR:
        short = f", less than {points(CLEAR)}: no clear gain" if base > 0 else ": no gain"
        return (f"At the chapter's steps {largest} are {relation(-base, '`direct`')} at this width{short} here for "
                f"the passes to explain; at `direct`'s passes they are {relation(-equal, '`direct`')}, and {fit}.")
    head = (f"At the chapter's steps {largest} are {points(base)} below `direct`; with as many passes as `direct` "
            f"they are {relation(-equal, '`direct`')}, and {fit}.")
    if equal >= CLEAR:
        return (head + " The fewer passes do not explain the gain: trained as long over its labels as `direct` over "
                "its own, the student of the large pool still escapes `direct`'s peak, as the paper's explanation "
                "by the pool's size has it.")
    if equal > -CLEAR:
        return (head + f" Within {points(CLEAR)} of `direct` at equal passes: most of the gain at the chapter's "
                "steps came from going over the pool fewer times, not from its size.")
    return (head + " Worse than `direct` at equal passes: the gain at the chapter's steps came from going over the "
            "pool fewer times, and the longer training loses it.")


def short_sentence(n: dict) -> str:
    """:func:`sentence` in one line for the findings page: the largest pool against ``direct`` at the chapter's steps
    and at ``direct``'s passes."""
    if "gain_equal" not in n:
        return ""
    return (f"At width {n['width']} and {n['rate']:.0%} noise, the {n['largest']:,}-input pool's student trained for "
            f"as many passes as `direct` ({_passes(n['direct_passes'])}) is "
            f"{relation(-n['gain_equal'], '`direct`')}, against {relation(-n['gain_base'], '`direct`')} at the "
            f"chapter's steps ({_passes(n['base_passes'])} passes).")


def table(n: dict | None) -> pd.DataFrame | None:
    """Mean test error in per cent (one decimal) of ``hard_pool`` by pool size (rows) and passes over the pool
    (columns), ``direct`` in a row of its own at its passes (``None`` where the study is off)."""
    if n is None:
        return None
    rows = {f"hard_pool, {pool:,} inputs": {_passes(k): round(100 * v[0], 1) for k, v in curve.items()}
            for pool, curve in sorted(n["grid"].items())}
    rows[f"direct, {n['n_train']:,} noisy labels"] = {_passes(n["direct_passes"]): round(100 * n["direct"], 1)}
    levels = sorted({k for curve in n["grid"].values() for k in curve} | {n["direct_passes"]})
    out = pd.DataFrame(rows).T.reindex(columns=[_passes(x) for x in levels])
    out.columns.name = "passes over the training set"
    return out.astype(object).where(out.notna(), "")


def plot(frame: pd.DataFrame, p: dict):
    """Test error (left) and error on each student's own training labels (right) against passes over them (log
    scale): one line per pool size of ``hard_pool``, largest first (the student-width figure's colours for ``direct``
    and the main pool), mean and standard error over the seeds; ``direct`` a single point at its passes; the
    teacher's test error dashed (:func:`ddlib.book.test_and_train_panels`)."""
    students = frame[frame["method"] != "teacher"].copy()
    students["student"] = [f"direct ({p['n_train']:,} noisy labels)" if m == "direct" else
                           f"hard_pool ({int(size):,} teacher labels)"
                           for m, size in zip(students["method"], students["pool_size"])]
    order = [f"direct ({p['n_train']:,} noisy labels)"] + [
        f"hard_pool ({int(size):,} teacher labels)" for size in sorted(set(students["pool_size"]) - {0}, reverse=True)]
    teacher = frame.loc[(frame["method"] == "teacher") & frame["seed"].isin(p["student_seeds"]), "test_error"]
    width = int(frame.loc[frame["method"] == "direct", "student_width"].iloc[0])
    fig, axes = book.test_and_train_panels(students, "passes", order, teacher.mean(), "passes over the training set",
                                           f"Students of width {width} at {study_rate(p):.0%} label noise: pool "
                                           f"size against passes")
    levels = sorted(set(students["passes"].round(1)))
    for ax in axes:
        ax.set_xticks(levels, [_passes(x) for x in levels])
        ax.minorticks_off()
    fig.tight_layout()
    return fig


def summary_line(n: dict | None) -> str:
    """:func:`sentence` of the study's :func:`numbers`, or why there is none."""
    if n is None:
        return "No such study was run here (`student_sweep_noise` is empty)."
    return sentence(n)

