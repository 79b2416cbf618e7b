"""The pool's size or the passes over it? What the student-width study (:mod:`ddlib.chapters.student_widths`) cannot
separate, separated at one student width per rate.

That study trains every student for the chapter's steps, so its large pool is also far fewer passes over the
student's training labels than ``direct`` makes over the labeled set (at ``default``, 21.5 against 538): a student
that goes over its labels less often may just not have had the time to memorise their errors, which is early
stopping in effect (the remedy :mod:`ddlib.chapters.direct_lengths` tries on ``direct``). Cotter et al. (2021) credit
the pool's size instead. Here, at each rate of ``student_sweep_noise`` and at one student width there (``direct``'s
peak in that study, :func:`study_width`), ``hard_pool`` from the same widest teacher and ``direct`` are trained
for the passes of every level from ``n_train`` to the largest pool (:func:`ladder`, :func:`direct_levels`): a run at
level ``L`` makes as many passes over its own training set as ``L`` inputs get in the chapter's steps. At
``default`` the levels are 1,000, 5,000 and 25,000 inputs (538, 107.5 and 21.5 passes), so every pool of
``pool_study_sizes`` and ``direct`` run at each, from 168 steps (``direct`` and the 1,000-input pool at 21.5
passes) to 105,000 (the 25,000-input pool at 538 passes, 25 times the chapter's steps). Runs that are the
student-width study's (the chapter's steps on its two pools, ``direct``, the teachers) are reused from the store;
the seeds are the student seeds.

If the pool's size is what spares the student, the large pool's students stay clearly below ``direct`` when they
make as many passes as it; if the fewer passes were, they rise to it. From the other side, ``direct`` stopped after
as few passes as the large pool's students make shows whether stopping early gives it what the pool gives.
:func:`numbers` reads both, :func:`kind` weighs the gain kept at ``direct``'s passes against the gain at the
chapter's steps, and :func:`sentence` words them.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from .. import book
from ..config import config_hash
from ..prose import CLEAR, as_shown, join, plural, points, relation, shown_difference, signed_points
from ..runner import SweepOutcome, records_frame, run_configs
from ..store import ResultStore
from . import distillation as kd
from . import double_descent as dd
from . import student_widths

TABLE = "results-pool-passes-noise-{:g}.csv"


def study_rates(p: dict) -> list[float]:
    """The label-noise rates of the study, lowest first: those of ``student_sweep_noise`` (the student-width study's;
    at ``default`` the chapter's rate and the one at which the double-descent chapter's curve has its clearest peak).
    Empty where that list is (the study is off)."""
    return sorted(float(rate) for rate in p.get("student_sweep_noise", []))


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


def levels(p: dict) -> list[int]:
    """The levels of the study, smallest first: each size of ``pool_study_sizes`` and ``n_train``. A run at level
    ``L`` makes as many passes over its training set as a training set of ``L`` inputs gets in the chapter's
    steps."""
    return sorted({int(s) for s in p["pool_study_sizes"]} | {int(p["n_train"])})


def ladder(p: dict) -> list[tuple[int, int]]:
    """``(pool size, level)`` pairs of ``hard_pool``: each pool of ``pool_study_sizes`` is trained for as many passes
    as a training set of ``level`` inputs gets at the chapter's steps (its steps are the chapter's times ``pool /
    level``). Every pool gets its own level (the chapter's steps) and every level from ``n_train`` (``direct``'s
    passes) up to the largest pool (its passes), so at each of those levels every pool makes the same passes; never
    more passes than ``direct`` makes (a pool smaller than the labeled set adds only its own level)."""
    n = int(p["n_train"])
    return [(int(pool), level) for pool in sorted({int(s) for s in p["pool_study_sizes"]}) for level in levels(p)
            if level == pool or level >= n]


def direct_levels(p: dict) -> list[int]:
    """The levels ``direct`` is trained at: its own (``n_train``, the chapter's steps) and each larger one of
    :func:`levels`, i.e. stopped after as few passes over the labeled set as each larger pool gets in the chapter's
    steps (``direct`` stopped early, at this rate; :mod:`ddlib.chapters.direct_lengths` does so at the chapter's
    rate, with the length chosen on the validation set)."""
    return [level for level in levels(p) if level >= int(p["n_train"])]


def ladder_steps(base: int, pool: int, level: int) -> int:
    """The steps of :func:`ladder`'s pair ``(pool, level)`` when the chapter's student steps are ``base``: as many
    passes over ``pool`` inputs as ``base`` steps make over ``level`` inputs (rounded; at least one)."""
    return max(1, round(base * pool / level))


def step_levels(p: dict, base: int) -> dict[tuple[int, int], int]:
    """``{(pool size, steps): level}`` for every pair of :func:`ladder` (:func:`ladder_steps`), and ``(0, steps):
    level`` for ``direct`` at each of :func:`direct_levels` (its pool is the labeled set): which level a stored run
    was trained at, read back exactly from its steps."""
    n = int(p["n_train"])
    return {**{(0, ladder_steps(base, n, level)): level for level in direct_levels(p)},
            **{(pool, ladder_steps(base, pool, level)): level for pool, level in ladder(p)}}


def _at_level(cfg, pool: int, level: int):
    """``cfg`` (trained for the chapter's student steps on ``pool`` inputs) trained for :func:`ladder_steps`
    instead: longer for a level below ``pool``, shorter for one above."""
    steps = ladder_steps(cfg.train.steps, pool, level)
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, steps=steps))


def study_configs(p: dict, rate: float, width: int) -> tuple[dict, list, list]:
    """``(q, teachers, students)``: the parameters at label noise ``rate``, the widest teacher of that rate's sweep on
    the student seeds, and students of width ``width``: ``direct`` at each of :func:`direct_levels` and
    ``hard_pool`` from that teacher at every pair of :func:`ladder`."""
    q = dict(p, label_noise=float(rate))
    widest, n = max(q["widths"]), int(p["n_train"])
    direct = kd.student_configs(q, width, [widest], [0], ["direct"])
    students = [_at_level(c, n, level) for level in direct_levels(p) for c in direct]
    for pool, level in ladder(p):
        students += [_at_level(c, pool, level) for c in kd.student_configs(q, width, [widest], [pool], ["hard_pool"])]
    return q, [dd.run_config(q, widest, s) for s in p["student_seeds"]], students


def planned_configs(p: dict, store: ResultStore) -> list:
    """The study's runs at each rate of :func:`study_rates` whose student-width study ``direct`` runs (which pick the
    width) are all in ``store``; none at the others (and none where the study is off)."""
    out = []
    for rate, q, _, students in student_widths.study_configs(p):
        direct = [c for c in students if c.targets.method == "labels"]
        if all(store.has(c) for c in direct):
            runs = records_frame([store.load(c) for c in direct])
            width, _ = study_width(runs.groupby("width")["test_error"].mean().to_dict(), q["widths"])
            _, teachers, students = study_configs(p, rate, width)
            out += teachers + students
    return out


def run_study(p: dict, sweeps: dict[float, pd.DataFrame], **kwargs) -> tuple[dict[float, pd.DataFrame], SweepOutcome]:
    """Run (or reuse) :func:`study_configs` at each rate of :func:`study_rates`, at the width :func:`study_width`
    reads off that rate's frame of ``sweeps`` (the student-width study's, :func:`ddlib.chapters.student_widths.
    run_study`). Each rate's frame (rows as :func:`ddlib.chapters.distillation.runs_frame`'s, with ``steps``,
    ``passes`` over the run's own training set (steps x batch size / its size), ``level`` (:func:`ladder`'s and
    :func:`direct_levels`'; 0 for the teachers) and ``why``, :func:`study_width`'s reason) is written to
    ``results-pool-passes-noise-<rate>.csv`` beside the chapter's table. Returns ``{rate: frame}`` (empty where the
    study is off) and all their runs as one outcome."""
    frames, outcome = {}, SweepOutcome()
    for rate in study_rates(p):
        if rate in sweeps:
            frames[rate], more = _run_rate(p, rate, sweeps[rate], **kwargs)
            outcome = outcome.merge(more)
    return frames, outcome


def _run_rate(p: dict, rate: float, sweep: pd.DataFrame, **kwargs) -> tuple[pd.DataFrame, SweepOutcome]:
    """:func:`run_study` at one rate, ``sweep`` being the student-width study's frame there."""
    width, why = study_width(direct_curve(sweep), p["widths"])
    q, teachers, students = study_configs(p, rate, width)
    teacher_outcome = run_configs(teachers, device=p["device"], **kwargs)
    student_outcome = run_configs(students, device=p["device"], **kwargs)
    frame = kd.runs_frame(records_frame(teacher_outcome.records), student_outcome)
    steps = {config_hash(c): c.train.steps for c in teachers + students}
    frame["steps"] = frame["hash"].map(steps)
    size = frame["pool_size"].where(frame["pool_size"] > 0, p["n_train"])
    frame["passes"] = frame["steps"] * p["batch_size"] / size
    level_of = step_levels(p, students[0].train.steps)  # `direct` at its own level first: the chapter's steps
    frame["level"] = [0 if method == "teacher" else level_of[int(pool), int(steps)]
                      for method, pool, steps in zip(frame["method"], frame["pool_size"], frame["steps"])]
    frame["why"] = why
    book.write_table(frame, kd.CHAPTER, q, TABLE.format(rate), folder_params=p)
    return frame, teacher_outcome.merge(student_outcome)


def _cell(f: pd.DataFrame) -> dict:
    """One point of the study (runs of one method, pool and level): mean ``test`` and ``train`` error, ``steps``,
    ``passes`` and the test error by seed (``by_seed``)."""
    return dict(test=float(f["test_error"].mean()), train=float(f["train_error"].mean()), steps=int(f["steps"].iloc[0]),
                passes=float(f["passes"].iloc[0]), by_seed=f.groupby("seed")["test_error"].mean())


def _paired(a: pd.Series, b: pd.Series) -> dict:
    """``a``'s errors minus ``b``'s, seed by seed: ``diff`` (of the means, as printed), its standard error ``se``,
    ``lower`` and ``higher`` (the seeds where ``a`` is below and above ``b``) and ``n`` (seeds paired)."""
    d = (a - b).dropna()
    return dict(diff=shown_difference(float(a.mean()), float(b.mean())), se=kd.standard_error(d),
                lower=int((d < 0).sum()), higher=int((d > 0).sum()), n=len(d))


def numbers(frame: pd.DataFrame, p: dict, rate: float) -> dict:
    """What :func:`sentence` says, from the study's ``frame`` at label noise ``rate``.

    ``width``, ``why`` (:func:`study_width`), ``rate``, ``teacher_width`` and ``teacher`` (its mean test error),
    ``n_train``, ``n_seeds``; ``direct_grid``: ``{level: cell}`` (:func:`_cell`) for ``direct`` and ``direct`` its
    cell at its own level (``n_train``, the chapter's steps); ``grid``: ``{pool: {level: cell}}`` for ``hard_pool``
    (levels as :func:`ladder`'s, read from the frame's ``level`` column, so no float is matched); ``largest``: the
    largest pool. ``equal``: for each pool trained for ``direct``'s passes (level ``n_train``), its cell's test error
    against ``direct``'s (:func:`_paired`); ``short`` (where ``direct`` also ran at a larger level): at the largest
    such ``level``, ``direct``'s ``cell`` there, its ``change`` from its own passes (:func:`_paired`) and each pool's
    error there against it (``pools``); ``longer``: for each pool also trained for more passes than at the chapter's
    steps, its cell at the chapter's steps and at its most passes (``first``, ``last``) and the change between them
    (:func:`_paired`). ``gain_base`` and ``gain_equal``: ``direct``'s error minus the largest pool's (as printed) at
    the chapter's steps and at ``direct``'s passes. ``closest`` (where ``direct`` ran at a level above its own that
    the largest pool ran at too): the ``level`` of those where ``direct`` comes closest to the largest pool's
    students, ``direct``'s ``cell`` there and its error against theirs (``against``, :func:`_paired`); its
    difference as printed is ``gain_short``. That level is picked on the test set, so it favours ``direct``.
    ``teacher_gaps``: the largest pool's error minus the teacher's at each level (as printed)."""
    students = frame[frame["method"] != "teacher"]
    teachers = frame[(frame["method"] == "teacher") & frame["seed"].isin(p["student_seeds"])]
    direct_grid = {int(level): _cell(g) for level, g in students[students["method"] == "direct"].groupby("level")}
    hard = students[students["method"] == "hard_pool"]
    grid = {int(pool): {int(level): _cell(g) for level, g in f.groupby("level")}
            for pool, f in hard.groupby("pool_size")}
    n_train, largest = int(p["n_train"]), max(grid)
    direct = direct_grid[n_train]

    def against_direct(level: int) -> dict:
        return {pool: _paired(g[level]["by_seed"], direct_grid[level]["by_seed"]) for pool, g in grid.items()
                if level in g}

    out = dict(rate=float(rate), width=int(students["student_width"].iloc[0]), why=frame["why"].iloc[0],
               teacher_width=int(teachers["teacher_width"].max()), teacher=float(teachers["test_error"].mean()),
               n_train=n_train, n_seeds=int(students["seed"].nunique()), direct=direct, direct_grid=direct_grid,
               grid=grid, largest=largest, equal=against_direct(n_train),
               longer={pool: dict(first=g[pool], last=g[min(g)],
                                  change=_paired(g[min(g)]["by_seed"], g[pool]["by_seed"]))
                       for pool, g in grid.items() if pool in g and min(g) < pool})
    top = max(direct_grid)
    if top > n_train:
        out["short"] = dict(level=top, cell=direct_grid[top], pools=against_direct(top),
                            change=_paired(direct_grid[top]["by_seed"], direct["by_seed"]))
    out["gain_base"] = shown_difference(direct["test"], grid[largest][largest]["test"])
    # only where the largest pool makes fewer passes than `direct` in the chapter's steps is there a confound
    if largest >= n_train and n_train in grid[largest]:
        out["gain_equal"] = shown_difference(direct["test"], grid[largest][n_train]["test"])
    shorter = [level for level in direct_grid if level > n_train and level in grid[largest]]
    if shorter:
        level = min(shorter, key=lambda lv: direct_grid[lv]["test"] - grid[largest][lv]["test"])
        out["closest"] = dict(level=level, cell=direct_grid[level],
                              against=_paired(direct_grid[level]["by_seed"], grid[largest][level]["by_seed"]))
        out["gain_short"] = out["closest"]["against"]["diff"]
    out["teacher_gaps"] = {level: shown_difference(c["test"], out["teacher"]) for level, c in grid[largest].items()}
    return out


def _why_words(n: dict) -> str:
    return {"peak": "`direct`'s clear peak in the study above",
            "bump": "the highest bump of `direct`'s curve in the study above, not a clear peak",
            "widest": "the widest width: `direct`'s curve above has too few widths for a peak"}[n["why"]]


def _passes(x: float) -> str:
    """A number of passes as the page prints it: whole from 100 on or where it is whole, else to one decimal."""
    return f"{x:,.0f}" if x >= 100 or float(x).is_integer() else f"{x:,.1f}"


def _seeds(d: dict, lower: str, higher: str) -> str:
    """On how many seeds a paired difference (:func:`_paired`) goes its printed way, and its standard error."""
    if d["n"] < 2:
        return ""
    side = (f"{lower} on {d['lower']}" if d["diff"] < 0 else f"{higher} on {d['higher']}" if d["diff"] > 0 else
            f"{lower} on {d['lower']} and {higher} on {d['higher']}")
    return f", {side} of {d['n']} seeds, SE {points(d['se'])}"


def _pools_words(n: dict, level: int) -> str:
    """Each pool at ``level`` against ``direct`` at the same level, and whether the error falls with every larger
    pool."""
    rows = sorted((pool, d) for pool, d in n["grid"].items() if level in d)
    paired = n["equal"] if level == n["n_train"] else n["short"]["pools"]
    errors = [as_shown(cells[level]["test"]) for _, cells in rows]
    falls = len(errors) > 2 and all(a > b for a, b in zip(errors, errors[1:]))
    said = join(f"{cells[level]['test']:.1%} on {pool:,} inputs ("
                f"{relation(paired[pool]['diff'], '`direct`')}{_seeds(paired[pool], 'lower', 'higher')})"
                for pool, cells in rows)
    return ("`hard_pool`'s error falls as the pool grows: " if falls else "`hard_pool` is at ") + said


def _equal_words(n: dict) -> str:
    """Each pool at ``direct``'s passes against ``direct``."""
    return (f"- **As many passes as `direct`** ({_passes(n['direct']['passes'])}): "
            f"{_pools_words(n, n['n_train'])}.")


def _short_words(n: dict) -> str:
    """``direct`` stopped after as few passes as the largest pool makes in the chapter's steps: its test error, its
    change from its own passes, its error on its labels, and each pool at those passes against it."""
    s = n.get("short")
    if s is None:
        return ""
    c, change = s["cell"], s["change"]
    return (f"- **As few passes as the {s['level']:,}-input pool** ({_passes(c['passes'])}): `direct`, stopped after "
            f"{c['steps']:,} steps, ends at {c['test']:.1%} test error ({signed_points(change['diff'])} against its "
            f"{_passes(n['direct']['passes'])} passes{_seeds(change, 'lower', 'higher')}) with {c['train']:.1%} on its "
            f"noisy labels; {_pools_words(n, s['level'])}.")


def _longer_words(n: dict) -> str:
    """Each pool also trained for more passes than in the chapter's steps, largest first: its test error and its
    error on the teacher's labels from the chapter's steps to its most passes."""
    parts = []
    for pool, d in sorted(n["longer"].items(), reverse=True):
        first, last, change = d["first"], d["last"], d["change"]
        parts.append(f"on {pool:,} inputs, from {_passes(first['passes'])} to {_passes(last['passes'])} passes "
                     f"({first['steps']:,} to {last['steps']:,} steps), test error {first['test']:.1%} to "
                     f"{last['test']:.1%} ({signed_points(change['diff'])}{_seeds(change, 'lower', 'higher')}) "
                     f"while the error on its labels goes from {first['train']:.1%} to {last['train']:.1%}")
    return "- **Longer**: " + "; ".join(parts) + "." if parts else ""


def sentence(n: dict) -> str:
    """The study in words (:func:`numbers`): the setting and ``direct``; each pool at ``direct``'s passes against it;
    ``direct`` stopped after as few passes as the largest pool and each pool there against it; each pool from the
    chapter's steps to its most passes; then the verdict (:func:`_verdict`)."""
    d = n["direct"]
    head = (f"At label noise {n['rate']:.0%}, students of width {n['width']} ({_why_words(n)}) learn from the widest "
            f"teacher (width {n['teacher_width']}, {n['teacher']:.1%} test error), on "
            f"{plural(n['n_seeds'], 'seed')}. `direct` makes {_passes(d['passes'])} passes over the {n['n_train']:,} "
            f"labeled inputs in the chapter's {d['steps']:,} steps and ends at {d['test']:.1%} test error "
            f"({d['train']:.1%} on its noisy labels).")
    bullets = [b for b in (_equal_words(n) if n["equal"] else "", _short_words(n), _longer_words(n)) if b]
    return head + "\n\n" + "\n".join(bullets) + "\n\n" + _verdict(n)


def kind(n: dict) -> str:
    """What happens to the largest pool's gain over ``direct`` (``gain_base``, at the chapter's steps) at ``direct``'s
    passes (``gain_equal``): ``"unmatched"`` (no pool ran those passes), ``"none"`` (no gain of at least
    :data:`ddlib.prose.CLEAR` to explain), ``"lost"`` (at least ``CLEAR`` worse than ``direct``), ``"held"`` (at
    least ``CLEAR`` and at least half the gain kept), ``"little"`` (half kept, but under ``CLEAR``), ``"part"`` (at
    least ``CLEAR``, less than half kept) or ``"most"`` (less than half kept, within ``CLEAR``)."""
    if "gain_equal" not in n:
        return "unmatched"
    base, equal = n["gain_base"], n["gain_equal"]
    if base < CLEAR:
        return "none"
    if equal <= -CLEAR:
        return "lost"
    if equal >= base / 2:
        return "held" if equal >= CLEAR else "little"
    return "part" if equal >= CLEAR else "most"


_KIND_WORDS = {
    "held": "fewer passes do not explain the gain, which comes with the pool's size at this width and rate",
    "little": f"the gain changes little, though at equal passes it is under the {points(CLEAR)} this book calls clear",
    "part": "the students keep less than half of the gain, so fewer passes explain most of it and the pool's size the "
            "rest",
    "most": "most of the gain came from going over the pool fewer times, not from its size",
    "lost": "the longer training loses the gain, which came from going over the pool fewer times",
}


def _stopped_words(n: dict) -> str:
    """``direct`` trained for fewer passes than its own, at the level where it comes closest to the largest pool's
    students at the same passes (``closest``, picked on the test set), against them (``gain_short``): still at least
    :data:`ddlib.prose.CLEAR` above them, within it, or that far below; and what that adds to :func:`kind`'s reading
    of the other side (the pool trained for ``direct``'s passes)."""
    if "gain_short" not in n:
        return ""
    g, close, k = n["gain_short"], n["closest"], kind(n)
    c, theirs = close["cell"], n["grid"][n["largest"]][close["level"]]["steps"]
    steps = f"{c['steps']:,} steps against their {theirs:,}"
    if sum(level > n["n_train"] for level in n["direct_grid"]) > 1:
        head = (f" Trained for as many passes as the {n['largest']:,}-input pool's students but fewer than its own, "
                f"`direct` comes closest to them at {_passes(c['passes'])} passes ({steps}; picked on the test set, "
                f"which favours `direct`), where it is {relation(g, 'them')}")
    else:
        head = (f" Trained for only the {n['largest']:,}-input pool's {_passes(c['passes'])} passes ({steps}), "
                f"`direct` is {relation(g, 'those students')}")
    seeds = _seeds(close["against"], "lower", "higher")
    head += f" ({seeds[2:]})" if seeds else ""
    if g >= CLEAR and k == "none":
        return head + "; stopping it that early makes it worse."
    if g >= CLEAR:
        both = ", so the gain needs both the pool and the few passes over it" if k in ("most", "lost") else ""
        return head + f"; stopping it early does not close the gap{both}."
    if g <= -CLEAR:
        return head + "; stopped that early, it does better than the pool."
    return head + ("; stopping it that early does about as well as the pool, so early stopping is a remedy too."
                   if k in ("held", "little", "part") else "; stopping it that early does about as well as the pool.")


def _verdict(n: dict) -> str:
    """The largest pool's gain over ``direct`` at the chapter's steps and at ``direct``'s passes, and what that says
    (:func:`kind`); where there is a gain, how close those students are to their teacher; ``direct`` stopped after
    as few passes as they make (:func:`_stopped_words`); what the pool as large as the labeled set says of the
    teacher's labels as such."""
    k, largest = kind(n), f"the {n['largest']:,}-input pool's students"
    if k == "unmatched":
        return (f"No pool here is at least as large as the labeled set, so none makes fewer passes than `direct`'s "
                f"{_passes(n['direct']['passes'])} in the chapter's steps: there are no fewer passes for this run to "
                f"separate from the pool's size.")
    train = n["grid"][n["largest"]][n["n_train"]]["train"]
    fit = (f"they fit the teacher's labels ({train:.1%} train error on them)" if train <= dd.INTERPOLATION_TOL
           else f"they do not fit the teacher's labels ({train:.1%} train error on them)")
    where = "At `direct`'s peak width" if n["why"] == "peak" else "At this width"
    base, equal = n["gain_base"], n["gain_equal"]
    if k == "none":
        return (f"{where}, at the chapter's steps, {largest} are {relation(-base, '`direct`')}: no clear gain here for "
                f"the passes to explain. With as many passes as `direct` they are {relation(-equal, 'it')}, and "
                f"{fit}.{_stopped_words(n)}")
    words = _KIND_WORDS[k]
    text = (f"{where}, {largest} are {points(base)} below `direct` at the chapter's steps and "
            f"{relation(-equal, 'it')} with as many passes, and {fit}. {words[0].upper() + words[1:]}.")
    gap = max(abs(g) for g in n["teacher_gaps"].values())
    if gap < CLEAR:
        text += (f" At every number of passes they are within {points(gap)} of their teacher "
                 f"({n['teacher']:.1%}): the gain is the distance from `direct` down to the teacher's error.")
    text += _stopped_words(n)
    if n["n_train"] in n["equal"]:
        same = n["equal"][n["n_train"]]["diff"]
        text += (f" On {n['n_train']:,} pool inputs (as many as the labeled set, with as many passes) the students of "
                 f"the teacher's labels are {relation(same, '`direct`')}")
        if k in ("held", "little", "part"):
            text += (": what helps is the pool's many inputs, not the teacher's labels as such" if same >= CLEAR else
                     ": the teacher's labels help on their own too" if same <= -CLEAR else "")
        text += "."
    return text


def short_sentence(n: dict | None) -> str:
    """:func:`sentence` in one line for the findings page: the largest pool against ``direct`` at the chapter's steps
    and at ``direct``'s passes, and what that says (:func:`kind`), then ``direct`` stopped after as few passes as
    that pool makes, against it; empty where the study is off or unmatched."""
    if n is None or kind(n) == "unmatched":
        return ""
    words = "there was no clear gain to explain" if kind(n) == "none" else _KIND_WORDS[kind(n)]
    stopped = (f" Stopped early, `direct` comes closest to them at {_passes(n['closest']['cell']['passes'])} passes, "
               f"{relation(n['gain_short'], 'them')}." if "gain_short" in n else "")
    return (f"At width {n['width']} and {n['rate']:.0%} noise, the {n['largest']:,}-input pool's students trained for "
            f"as many passes as `direct` ({_passes(n['direct']['passes'])}) are "
            f"{relation(-n['gain_equal'], '`direct`')}, against {relation(-n['gain_base'], '`direct`')} at the "
            f"chapter's steps ({_passes(n['grid'][n['largest']][n['largest']]['passes'])} passes); {words}.{stopped}")


def table(n: dict) -> pd.DataFrame:
    """Mean test error in per cent (one decimal) of ``hard_pool`` by pool size (rows) and passes over the pool
    (columns, one per level of :func:`ladder`, most passes last), ``direct`` in a row of its own at each of its
    levels."""
    levels = sorted({level for g in n["grid"].values() for level in g} | {n["n_train"]}, reverse=True)
    passes = {level: n["direct"]["passes"] * n["n_train"] / level for level in levels}
    rows = {f"hard_pool, {pool:,} inputs": {level: round(100 * c["test"], 1) for level, c in g.items()}
            for pool, g in sorted(n["grid"].items())}
    rows[f"direct, {n['n_train']:,} noisy labels"] = {level: round(100 * c["test"], 1)
                                                      for level, c in n["direct_grid"].items()}
    out = pd.DataFrame(rows).T.reindex(columns=levels)
    out.columns = pd.Index([_passes(passes[level]) for level in levels], name="passes over the training set")
    return out.astype(object).where(out.notna(), "")


def tables(ns: dict[float, dict]) -> pd.DataFrame | None:
    """:func:`table` at each rate of ``ns`` (:func:`all_numbers`), one block of rows per rate under a ``label noise``
    index level (``None`` where the study is off)."""
    if not ns:
        return None
    return pd.concat({f"{rate:.0%}": table(n) for rate, n in ns.items()}, names=["label noise", "student"])


def plot(frame: pd.DataFrame, p: dict, rate: float):
    """Test error (left) and error on each student's own training labels (right) against passes over them (log
    scale): one line for ``direct`` and one per pool size of ``hard_pool``, coloured as in the student-width figure
    where the pool is one of that figure's (the main pool and the smallest), mean and standard error over the seeds;
    the teacher's test error dashed (:func:`ddlib.book.test_and_train_panels`). Each run is placed at its level's
    passes (``direct``'s times ``n_train / level``), so runs of one level share a point even where rounded steps
    make their passes differ slightly, and there is one tick per level."""
    students = frame[frame["method"] != "teacher"].copy()
    label = {0: f"direct ({p['n_train']:,} noisy labels)"}
    for size in sorted(set(students["pool_size"]) - {0}):
        label[int(size)] = f"hard_pool ({int(size):,} teacher labels)"
    students["student"] = students["pool_size"].astype(int).map(label)
    small = student_widths.small_pool_size(p)
    others = [s for s in sorted(label) if s not in (0, p["pool_size"], small)]
    slots = {0: 0, p["pool_size"]: 1, small: 2, **{s: 4 + i for i, s in enumerate(others)}}
    keys = sorted(label, key=slots.get)
    teacher = frame.loc[(frame["method"] == "teacher") & frame["seed"].isin(p["student_seeds"]), "test_error"]
    width = int(students["student_width"].iloc[0])
    own = students.loc[(students["method"] == "direct") & (students["level"] == p["n_train"]), "passes"].iloc[0]
    students["at_level"] = own * p["n_train"] / students["level"]
    ticks = sorted(set(students["at_level"]))
    return book.test_and_train_panels(
        students, "at_level", [label[k] for k in keys], teacher.mean(), "passes over the training set",
        f"Students of width {width} at {rate:.0%} label noise: pool size against passes",
        ticks=(ticks, [_passes(x) for x in ticks]), colours=[slots[k] for k in keys])


def all_numbers(frames: dict[float, pd.DataFrame], p: dict) -> dict[float, dict]:
    """``{rate: numbers}`` (:func:`numbers`) for each rate's frame of :func:`run_study`."""
    return {rate: numbers(frame, p, rate) for rate, frame in frames.items()}


def summary_line(ns: dict[float, dict]) -> str:
    """:func:`sentence` at each rate of ``ns`` (:func:`all_numbers`), then the study's scope; or why there is none."""
    if not ns:
        return "No such study was run here (`student_sweep_noise` is empty)."
    scope = ("At each rate this is one width, one teacher and one draw of the data; the standard errors cover the "
             "seeds only.")
    return "\n\n".join([sentence(n) for n in ns.values()] + [scope])
