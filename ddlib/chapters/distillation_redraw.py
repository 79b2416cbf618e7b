"""The distillation chapter's main comparison again on other draws of the data (``redraw_seeds``).

Every run of the chapter shares one labeled set, one draw of wrong labels and one test set: a student seed varies
only the student's initialisation and batch order (and its teacher's). For each seed ``r`` of ``redraw_seeds`` the
widest teacher's comparison (every method of ``methods``, every student seed, a pool of the main pool's size) runs
again with ``data_seed = noise_seed = r``. The teachers are the double-descent chapter's sweep on that draw
(:func:`ddlib.chapters.double_descent.run_redraws`, reused from the store where that chapter ran first); the students
keep the chapter's width, and its pool where the pool does not depend on the draw (MNIST-1D, ``.npz`` files; a CIFAR
pool from the training split is the rest of that draw's permutation), so that only the draw changes.
"""
from __future__ import annotations

import pandas as pd

from ..prose import relation, shown_difference
from ..runner import SweepOutcome
from . import distillation as kd
from . import double_descent as dd


def redraw_configs(p: dict, width: int) -> list[tuple[int, dict, list, list]]:
    """``(r, q, teachers, students)`` for each other draw of ``p`` (:func:`ddlib.chapters.double_descent.redraw_params`):
    its parameters ``q``, the widest teacher of every student seed on that draw, and its students of width
    ``width``."""
    widest = max(p["teacher_widths"])
    return [(r, q, [dd.run_config(q, widest, s) for s in p["student_seeds"]],
             kd.student_configs(q, width, [widest], [p["pool_size"]], p["methods"]))
            for r, q in dd.redraw_params(p)]


def run_redraws(p: dict, width: int, **kwargs) -> tuple[dict[int, pd.DataFrame], SweepOutcome]:
    """Run (or reuse) :func:`redraw_configs`; each draw's frame (rows as :func:`ddlib.chapters.distillation.run`'s)
    is written to ``results-draw-<r>.csv`` beside the chapter's table (its parameters, the draw's, beside it). Returns ``{r: frame}`` (empty where there is
    no other draw) and the runs of all of them as one outcome."""
    return kd.run_studies(p, redraw_configs(p, width), "results-draw-{}.csv", **kwargs)


def numbers(frame: pd.DataFrame, p: dict) -> dict:
    """The widest teacher's comparison in one draw's ``frame``: the mean test errors of the teacher (over the student
    seeds), of ``hard_pool`` (main pool), ``direct`` and ``soft_kd_labeled``, as
    :func:`ddlib.chapters.distillation.summarize` takes them (:func:`ddlib.chapters.distillation.mean_error`), and
    the seed-paired counts (:func:`ddlib.chapters.distillation._seed_by_seed`)."""
    frame, widest, pool = kd.paired(frame, p), max(p["teacher_widths"]), p["pool_size"]
    return dict(teacher=kd.mean_error(frame, "teacher", widest), hard_pool=kd.mean_error(frame, "hard_pool", widest, pool),
                direct=kd.mean_error(frame, "direct"), soft_kd_labeled=kd.mean_error(frame, "soft_kd_labeled", widest, 0),
                **kd._seed_by_seed(frame, widest, pool))


def redraw_sentence(main: dict, frames: dict[int, pd.DataFrame], p: dict, width: int) -> str:
    """What another draw of the data does to claim C3 (and C2's gap to the teacher) for the widest teacher: one
    paragraph per draw, its ``hard_pool`` student against its teacher, and against ``direct`` and ``soft_kd_labeled``
    where ``methods`` has them (:func:`ddlib.chapters.distillation._compare`, on the printed errors), the
    seed-paired counts, and the gains of the chapter's draw (``main``: :func:`ddlib.chapters.distillation.summarize`)
    beside them."""
    if not frames:
        return ("No other draw of the data was run here (`redraw_seeds` is empty, or holds only the chapter's own "
                "draw).")
    parts = []
    for r, frame in frames.items():
        n = numbers(frame, p)
        hp = n["hard_pool"]
        gap = shown_difference(hp, n["teacher"])
        others = [m for m in ("direct", "soft_kd_labeled") if m in p["methods"]]
        compared = " and ".join(kd._compare(shown_difference(n[m], hp), f"`{m}` ({n[m]:.1%})") for m in others)
        in_main = " and ".join(kd._compare(shown_difference(main[m if m == "direct" else f"{m}_widest"],
                                                            main["hard_pool_widest"]), f"`{m}`") for m in others)
        c3 = (f" It {compared} (C3).{kd._seed_words(n)} In the chapter's draw it {in_main}." if others else "")
        parts.append(
            f"On another draw of the data (`data_seed` = `noise_seed` = {r}: {dd.what_redraw_changes(r, p)}; "
            f"{_pool_words(p)} and the same student width, {width}), the widest teacher's `hard_pool` student ends at "
            f"{hp:.1%} against its teachers' {n['teacher']:.1%}, {relation(gap, 'them')}.{c3}")
    return "\n\n".join(parts)


def _pool_words(p: dict) -> str:
    """Whether another draw keeps the pool: MNIST-1D's is its own draws (``pool_seed``) and ``.npz`` files are fixed,
    but a CIFAR pool taken from the training split is the rest of that draw's permutation."""
    split_pool = p["dataset"] != "mnist1d" and not kd.pool_npz_files()
    return "another pool (the rest of its split)" if split_pool else "the same pool"


def redraw_table(main: pd.DataFrame, frames: dict[int, pd.DataFrame], p: dict) -> pd.DataFrame:
    """Mean test error (per cent, one decimal) of each method (rows) for the widest teacher, in the chapter's draw
    and in each other one (columns), from :func:`ddlib.chapters.distillation.method_table`."""
    column = f"width {max(p['teacher_widths'])}"
    draws = {f"draw {p['data_seed']}/{p['noise_seed']} (the chapter's)": kd.method_table(main, p)[column]}
    draws.update({f"draw {r}/{r}": kd.method_table(f, p)[column] for r, f in sorted(frames.items())})
    table = pd.DataFrame(draws)
    table.columns.name = "data_seed/noise_seed"
    return table
