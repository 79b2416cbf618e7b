"""The distillation chapter's main comparison for the widest teacher, again in another setting: on other draws of the
data (``redraw_seeds``) and at other learning rates (``lr_study``).

Every run of the chapter shares one labeled set, one draw of wrong labels, one test set and one recipe: a student seed
varies only the student's initialisation and batch order (and its teacher's). For each variant the widest teacher's
comparison (every method of ``methods``, every student seed, a pool of the main pool's size, the chapter's student
width) runs again with one thing changed:

- **another draw** ``r`` of ``redraw_seeds``: ``data_seed = noise_seed = r``. The teachers are the double-descent
  chapter's sweep on that draw (:func:`ddlib.chapters.double_descent.run_redraws`); the students keep the chapter's
  pool where the pool does not depend on the draw (MNIST-1D, ``.npz`` files; a CIFAR pool from the training split
  is the rest of that draw's permutation);
- **another learning rate** of ``lr_study``, for teachers and students alike. The teachers are the double-descent
  chapter's learning-rate study (:func:`ddlib.chapters.double_descent.run_lr_study`), and ``direct`` at that rate is
  the baseline of a student at that rate, as a recipe that suits every method may shrink or grow the gains. It
  trains its full length: early stopping (:mod:`ddlib.chapters.direct_lengths`) is studied at the chapter's rate
  only. The student width is the chapter's, and, where the rule picks another one at that rate, that one too
  (below).

Either way the teachers are reused from the store where the double-descent chapter ran first.

At another learning rate the threshold may lie elsewhere, and the chapter's rule (``student_width`` "peak") may pick
another width for the student. Where it does, the comparison runs a third time at that rate with the width the rule
picks there (:func:`rule_widths`: the same rule, on the same validation set, applied to that rate's whole sweep), so
that the study does not rest on a width chosen at the chapter's rate. At that width, every teacher width's comparison
at another rate is :mod:`ddlib.chapters.rate_curves`.
"""
from __future__ import annotations

import pandas as pd

from ..prose import CLEAR, join, relation, shown_difference
from ..runner import SweepOutcome, records_frame, run_configs
from ..store import ResultStore
from . import distillation as kd
from . import double_descent as dd
from . import width_choice


def variant_configs(p: dict, width: int, variants: list[tuple]) -> list[tuple]:
    """``(key, q, teachers, students)`` for each ``(key, q)`` of ``variants`` (parameters ``q``, ``p`` with one thing
    changed): the widest teacher of every student seed under ``q``, and its students of width ``width``."""
    widest = max(p["teacher_widths"])
    return [(key, q, [dd.run_config(q, widest, s) for s in p["student_seeds"]],
             kd.student_configs(q, width, [widest], [p["pool_size"]], p["methods"]))
            for key, q in variants]


def redraw_configs(p: dict, width: int) -> list[tuple]:
    """:func:`variant_configs` of each other draw of ``p`` (:func:`ddlib.chapters.double_descent.redraw_params`)."""
    return variant_configs(p, width, dd.redraw_params(p))


def lr_configs(p: dict, width: int) -> list[tuple]:
    """:func:`variant_configs` of each other learning rate of ``p`` (:func:`ddlib.chapters.double_descent.lr_study_params`)."""
    return variant_configs(p, width, dd.lr_study_params(p))


def _rate_sweeps(p: dict) -> list[tuple[float, dict, list]]:
    """``(rate, q, configs)`` of each other learning rate's whole sweep (every width and seed of ``p`` at that rate:
    the double-descent chapter's learning-rate study), which the rule reads; none where the student width is set by
    hand."""
    if p["student_width"] != "peak":
        return []
    return [(lr, q, dd.sweep_configs(q)) for lr, q in dd.lr_study_params(p)]


def rule_widths(p: dict, store: ResultStore | None = None) -> dict[float, int | None]:
    """The width the chapter's rule picks (:func:`ddlib.chapters.width_choice.choose` on the validation set, as for
    the chapter's own student) at each other learning rate of ``p``, from that rate's whole sweep
    (:func:`_rate_sweeps`) in ``store``; ``None`` for a rate whose sweep is not all stored. Empty where the student
    width is set by hand."""
    store = store or ResultStore()
    out = {}
    for lr, q, configs in _rate_sweeps(p):
        if not all(store.has(c) for c in configs):
            out[lr] = None
            continue
        teachers = records_frame([store.load(c) for c in configs])
        out[lr] = int(width_choice.choose(q, teachers, store)["summary"]["peak_width"])
    return out


def rule_sweep_configs(p: dict) -> list:
    """Every run of the sweeps :func:`rule_widths` reads (:func:`_rate_sweeps`), as one list."""
    return [c for _, _, configs in _rate_sweeps(p) for c in configs]


def rule_width_configs(p: dict, width: int, widths: dict[float, int | None]) -> list[tuple]:
    """:func:`variant_configs` at each other learning rate whose rule width (``widths``, :func:`rule_widths`) is known
    and differs from the chapter's ``width``, its students of that width."""
    rates = dict(dd.lr_study_params(p))
    return [c for lr, w in widths.items() if w is not None and w != width
            for c in variant_configs(p, w, [(lr, rates[lr])])]


def run_rule_widths(p: dict, width: int, **kwargs
                    ) -> tuple[dict[float, int | None], dict[float, pd.DataFrame], SweepOutcome]:
    """The rule's width at each other learning rate (:func:`rule_widths`, training that rate's sweep where it is not
    stored), and the widest teacher's comparison at that rate with students of that width where it differs from
    ``width`` (:func:`rule_width_configs`), each frame written to ``results-lr-<rate>-width-<w>.csv`` beside the
    chapter's table. Returns ``{rate: width}``, ``{rate: frame}`` (only the rates whose width differs) and all the
    runs (the sweeps' included) as one outcome."""
    sweeps = rule_sweep_configs(p)
    sweep_outcome = run_configs(sweeps, device=p["device"], **kwargs) if sweeps else SweepOutcome()
    widths = rule_widths(p, kwargs.get("store"))
    configs = rule_width_configs(p, width, widths)
    studies = [(f"{lr:g}-width-{widths[lr]}", q, teachers, students) for lr, q, teachers, students in configs]
    frames, outcome = kd.run_studies(p, studies, "results-lr-{}.csv", **kwargs)
    by_rate = {lr: frames[key] for (lr, *_), (key, *_) in zip(configs, studies)}
    return widths, by_rate, sweep_outcome.merge(outcome)


def run_redraws(p: dict, width: int, **kwargs) -> tuple[dict[int, pd.DataFrame], SweepOutcome]:
    """Run (or reuse) :func:`redraw_configs`; each draw's frame (rows as :func:`ddlib.chapters.distillation.run`'s)
    is written to ``results-draw-<r>.csv`` beside the chapter's table (its parameters, the draw's, beside it). Returns
    ``{r: frame}`` (empty where there is no other draw) and the runs of all of them as one outcome."""
    return kd.run_studies(p, redraw_configs(p, width), "results-draw-{}.csv", **kwargs)


def run_lr_study(p: dict, width: int, **kwargs) -> tuple[dict[float, pd.DataFrame], SweepOutcome]:
    """Run (or reuse) :func:`lr_configs`; each rate's frame is written to ``results-lr-<rate>.csv`` beside the chapter's
    table. Returns ``{rate: frame}`` (empty where there is no other rate) and the runs of all of them as one outcome."""
    return kd.run_studies(p, lr_configs(p, width), "results-lr-{:g}.csv", **kwargs)


def numbers(frame: pd.DataFrame, p: dict) -> dict:
    """The widest teacher's comparison in one variant's ``frame``: the mean test errors of the teacher (over the
    student seeds), of ``hard_pool`` (main pool), ``direct`` and ``soft_kd_labeled``, as
    :func:`ddlib.chapters.distillation.summarize` takes them (:func:`ddlib.chapters.distillation.mean_error`), and
    the seed-paired counts (:func:`ddlib.chapters.distillation._seed_by_seed`)."""
    frame, widest, pool = kd.paired(frame, p), max(p["teacher_widths"]), p["pool_size"]
    return dict(teacher=kd.mean_error(frame, "teacher", widest), hard_pool=kd.mean_error(frame, "hard_pool", widest, pool),
                direct=kd.mean_error(frame, "direct"), soft_kd_labeled=kd.mean_error(frame, "soft_kd_labeled", widest, 0),
                **kd._seed_by_seed(frame, widest, pool))


def redraw_sentence(main: dict, frames: dict[int, pd.DataFrame], p: dict, width: int) -> str:
    """What another draw of the data does to claim C3 (and C2's gap to the teacher) for the widest teacher, one
    paragraph per draw (:func:`_paragraph`)."""
    if not frames:
        return ("No other draw of the data was run here (`redraw_seeds` is empty, or holds only the chapter's own "
                "draw).")
    return "\n\n".join(_paragraph(
        main, frame, p, f"On another draw of the data (`data_seed` = `noise_seed` = {r}: {dd.what_redraw_changes(r, p)}; "
                        f"{_pool_words(p)} and the same student width, {width})", "In the chapter's draw")
        for r, frame in frames.items())


def lr_sentence(main: dict, frames: dict[float, pd.DataFrame], p: dict, width: int) -> str:
    """What another learning rate, for teachers and students alike, does to claim C3 (and C2's gap to the teacher)
    for the widest teacher, one paragraph per rate (:func:`_paragraph`)."""
    if not frames:
        return "No other learning rate was run here (`lr_study` is empty, or holds only the chapter's own rate)."
    return "\n\n".join(_paragraph(
        main, frame, p, f"At learning rate {lr:g} for teachers and students alike (instead of {p['lr']:g}; the same "
                        f"pool, student width, {width}, and steps)", f"At {p['lr']:g}", moves=f"{p['lr']:g}")
        for lr, frame in frames.items())


def rule_width_sentence(rate_frames: dict[float, pd.DataFrame], rule_frames: dict[float, pd.DataFrame],
                        widths: dict[float, int | None], p: dict, width: int) -> str:
    """For each other learning rate, the width the chapter's rule picks there (:func:`rule_widths`) and, where it
    differs from ``width``, the widest teacher's comparison with students of that width (:func:`_paragraph`), set
    against the same rate's students of width ``width`` (``rate_frames``, :func:`run_lr_study`)."""
    if p["student_width"] != "peak":
        return f"The student width is set by hand here ({width}), so no rule picks another one at another rate."
    if not widths:
        return "No other learning rate was run here, so the rule picks no other width."
    on = width_choice.chosen_on_words({"chosen_on": "test" if p["val_size"] == 0 else "validation"})
    said = []
    for lr, w in widths.items():
        rule = f"At learning rate {lr:g} the chapter's rule, applied to that rate's sweep on {on}, picks width {w}"
        if w is None:
            said.append(f"At learning rate {lr:g} the sweep is not all stored, so the rule's width there is unknown.")
        elif w == width:
            said.append(f"{rule} too, the width used above.")
        elif lr not in rule_frames or lr not in rate_frames:
            said.append(f"{rule}, not {width}, but that comparison was not run here.")
        else:
            n = numbers(rate_frames[lr], p)
            at_width = dict(hard_pool_widest=n["hard_pool"], direct=n["direct"],
                            soft_kd_labeled_widest=n["soft_kd_labeled"])
            said.append(_paragraph(at_width, rule_frames[lr], p,
                                   f"{rule}, not {width}. With students of width {w} (the same pool and steps)",
                                   f"With students of width {width} at that rate"))
    return "\n\n".join(said)


def _paragraph(main: dict, frame: pd.DataFrame, p: dict, opening: str, in_main: str, moves: str = "") -> str:
    """One variant's paragraph: its ``hard_pool`` student against its teacher (C2; "better than the teachers it learned
    from" where it is at least :data:`ddlib.prose.CLEAR` below them), and against ``direct`` and ``soft_kd_labeled``
    where ``methods`` has them (:func:`ddlib.chapters.distillation._compare`, on the printed errors), the seed-paired
    counts, and the gains of the chapter's own runs (``main``: :func:`ddlib.chapters.distillation.summarize`) beside
    them, after ``in_main``; with ``moves`` (the chapter's setting, as a rate "0.001"), how the teacher,
    ``hard_pool`` and each baseline moved from the chapter's own runs, and which baselines got worse, as a gain can grow
    because a baseline did."""
    n = numbers(frame, p)
    hp = n["hard_pool"]
    gap = shown_difference(hp, n["teacher"])
    others = [m for m in ("direct", "soft_kd_labeled") if m in p["methods"]]
    compared = " and ".join(kd._compare(shown_difference(n[m], hp), f"`{m}` ({n[m]:.1%})") for m in others)
    before = " and ".join(kd._compare(shown_difference(main[_in_summary(m)], main["hard_pool_widest"]), f"`{m}`")
                          for m in others)
    c3 = f" It {compared} (C3).{kd._seed_words(n)} {in_main} it {before}." if others else ""
    c2 = "C2: better than the teachers it learned from" if gap <= -CLEAR else "C2"
    moved = ""
    if moves:
        named = [("teacher", "the teacher"), ("hard_pool", "`hard_pool`")] + [(m, f"`{m}`") for m in others]
        moved = f" From {moves} to this rate, " + join(
            f"{name} moves from {main[_in_summary(m)]:.1%} to {n[m]:.1%}" for m, name in named) + "."
        worse = [m for m in others if shown_difference(n[m], main[_in_summary(m)]) > 0]
        if worse:
            one = len(worse) == 1
            moved += (f" {join(f'`{m}`' for m in worse)} {'is' if one else 'are'} worse at this rate, so part of the "
                      f"gain over {'it' if one else 'them'} is {'its' if one else 'their'} own loss.")
    return (f"{opening}, the widest teacher's `hard_pool` student ends at {hp:.1%} against its teachers' "
            f"{n['teacher']:.1%}, {relation(gap, 'them')} ({c2}).{c3}{moved}")


def _in_summary(method: str) -> str:
    """The key of ``method``'s widest-teacher error in :func:`ddlib.chapters.distillation.summarize`."""
    return "direct" if method == "direct" else f"{method}_widest"


def _pool_words(p: dict) -> str:
    """Whether another draw keeps the pool: MNIST-1D's is its own draws (``pool_seed``) and ``.npz`` files are fixed,
    but a CIFAR pool taken from the training split is the rest of that draw's permutation."""
    split_pool = p["dataset"] != "mnist1d" and not kd.pool_npz_files()
    return "another pool (the rest of its split)" if split_pool else "the same pool"


def redraw_table(main: pd.DataFrame, frames: dict[int, pd.DataFrame], p: dict) -> pd.DataFrame:
    """Mean test error (per cent, one decimal) of each method (rows) for the widest teacher, in the chapter's draw
    and in each other one (columns), from :func:`ddlib.chapters.distillation.method_table`."""
    columns = {f"draw {p['data_seed']}/{p['noise_seed']} (the chapter's)": main}
    columns.update({f"draw {r}/{r}": f for r, f in sorted(frames.items())})
    return _table(columns, p, "data_seed/noise_seed")


def lr_table(main: pd.DataFrame, frames: dict[float, pd.DataFrame], p: dict,
             rule_frames: dict[float, pd.DataFrame] | None = None, widths: dict[float, int] | None = None
             ) -> pd.DataFrame:
    """Mean test error (per cent, one decimal) of each method (rows) for the widest teacher, at the chapter's learning
    rate and at each other one (columns), and after each rate with a rule width of its own (``rule_frames``, by rate,
    :func:`run_rule_widths`; ``widths`` the rule's width there), that rate with students of that width."""
    mine = " (the chapter's)"
    columns = {}
    for lr, f in sorted({p["lr"]: main, **frames}.items()):
        columns[f"{lr:g}{mine if lr == p['lr'] else ''}"] = f
        if rule_frames and lr in rule_frames:
            w = widths[lr] if widths else int(rule_frames[lr]["student_width"].dropna().iloc[0])
            columns[f"{lr:g}, students of width {w}"] = rule_frames[lr]
    return _table(columns, p, "learning rate")


def _table(frames: dict[str, pd.DataFrame], p: dict, name: str) -> pd.DataFrame:
    column = f"width {max(p['teacher_widths'])}"
    table = pd.DataFrame({label: kd.method_table(f, p)[column] for label, f in frames.items()})
    table.columns.name = name
    return table
