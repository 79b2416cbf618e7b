"""Claim C3 against ``direct`` stopped early: the student trained on the noisy labeled set for each length of
``direct_epochs``, the length chosen on the validation set.

The chapter's ``direct`` trains for as many steps as every student (``student_steps_factor`` times the teachers'),
with no early stopping, on labels of which ``label_noise`` are wrong: a network that long on a small noisy set fits
the wrong labels, and stopping before it does is the usual remedy (e.g. Rolnick et al. 2017, *Deep learning is
robust to massive label noise*; Li, Soltanolkotabi & Oymak 2020, *Gradient descent with early stopping is provably
robust to label noise*). Here the same model is trained for each epoch count of ``direct_epochs`` (one run per
length and student seed, each from the start: the same seeds, recipe and data), every run is scored on the
validation set's noisy labels (:func:`ddlib.chapters.width_choice.validation_errors`), and the length of lowest mean
validation error is the early-stopped ``direct``: what a user of the paper's setting could pick without the test
set. With ``val_size = 0`` the test set picks it and :func:`sentence` says so. Runs that coincide with runs of the
chapter (the sweep at its own epochs, the chapter's ``direct``) are reused from the store. The validation set is the
one the student's width was chosen on, the width of highest validation error at the sweep's length: that choice
can only make the sweep's length look worse here, a small bias against it (the prose names ties as printed).
"""
from __future__ import annotations

import pandas as pd

from .. import book
from ..config import config_hash
from ..prose import join, plural, points, shown_difference
from ..runner import SweepOutcome, records_frame, run_configs
from . import distillation as kd
from . import double_descent as dd
from . import width_choice


def length_configs(p: dict, width: int) -> list:
    """The ``direct`` student of width ``width`` trained for each epoch count of ``p["direct_epochs"]``, for every
    student seed (the double-descent sweep's config at that length: ``direct`` keeps the teacher's seed)."""
    q = dict(p, model=p["student_model"] or p["model"])  # the chapter's `direct` is the student's model
    return [dd.run_config(dict(q, epochs=int(e)), width, s) for e in p.get("direct_epochs", []) for s in p["student_seeds"]]


def run_lengths(p: dict, width: int, **kwargs) -> tuple[pd.DataFrame | None, SweepOutcome]:
    """Run (or reuse) :func:`length_configs`; one row per run (``epochs``, ``seed``, ``train_error``, ``test_error``,
    ``val_error`` where ``val_size > 0``), written to ``results-direct-epochs.csv`` beside the chapter's table.
    ``(None, empty outcome)`` where ``direct_epochs`` is empty."""
    configs = length_configs(p, width)
    if not configs:
        return None, SweepOutcome()
    outcome = run_configs(configs, device=p["device"], **kwargs)
    records = records_frame(outcome.records).set_index("hash")
    steps_per_epoch = p["n_train"] // p["batch_size"]
    frame = pd.DataFrame([dict(epochs=c.train.steps // steps_per_epoch, seed=c.init_seed, hash=h,
                               train_error=records.loc[h, "train_error"], test_error=records.loc[h, "test_error"])
                          for c, h in zip(configs, map(config_hash, configs))])
    if p["val_size"]:
        frame["val_error"] = [e["val_error"] for e in width_choice.validation_errors(p, configs)]
    book.write_table(frame, kd.CHAPTER, p, "results-direct-epochs.csv")
    return frame, outcome


def numbers(frame: pd.DataFrame, chapter_frame: pd.DataFrame, summary: dict, p: dict) -> dict:
    """The early-stopped ``direct`` against the chapter's: ``by_length`` (mean errors per epoch count), ``chosen``
    (the epoch count of lowest mean validation error, or test error with ``val_size = 0``), ``chosen_on``, its mean
    test error ``stopped``, the chapter's ``direct`` and the widest teacher's ``hard_pool`` (``summary``:
    :func:`ddlib.chapters.distillation.summarize`), and, from the chapter's per-run ``chapter_frame``, on how many
    seeds ``hard_pool`` beats the stopped ``direct`` of the same seed and the standard error of that seed-paired
    gain (``gain_se``; ``nan`` below two seeds)."""
    on = "val_error" if "val_error" in frame else "test_error"
    by_length = frame.groupby("epochs")[[c for c in ("train_error", "val_error", "test_error") if c in frame]].mean()
    chosen = int(by_length[on].idxmin())
    shown = (100 * by_length[on]).round(1)  # as the table prints them
    tied = [int(e) for e in by_length.index if e != chosen and shown[e] == shown[chosen]]
    stopped = frame[frame["epochs"] == chosen].set_index("seed")["test_error"]
    hp = kd.errors_by_seed(chapter_frame, "hard_pool", max(p["teacher_widths"]), p["pool_size"])
    gains = (stopped - hp.reindex(stopped.index)).dropna()
    return dict(by_length=by_length, chosen=chosen, tied=tied, chosen_on="validation" if on == "val_error" else "test",
                stopped=float(stopped.mean()), direct=summary["direct"], hard_pool=summary["hard_pool_widest"],
                lengths=[int(e) for e in by_length.index], n_seeds=len(stopped), n_paired=len(gains),
                gain_se=kd.standard_error(gains), seeds_beating=int((gains > 0).sum()),
                student_epochs=p["student_steps_factor"] * p["epochs"])


def sentence(n: dict) -> str:
    """The early-stopped ``direct`` in words, against the chapter's ``direct`` and the widest teacher's ``hard_pool``
    (:func:`ddlib.chapters.distillation._compare`, on the printed errors)."""
    where = ("its lowest mean error on the validation set's noisy labels" if n["chosen_on"] == "validation" else
             "its lowest mean test error (no validation set is held out here, so the test set picks the length and "
             "flatters `direct`)")
    gain = shown_difference(n["stopped"], n["hard_pool"])
    text = (f"Trained for {join(n['lengths'])} epochs ({plural(n['n_seeds'], 'seed')} each), `direct` has {where} at "
            f"{n['chosen']:,} epochs{_tie_words(n)}, where its test error is {n['stopped']:.1%}.")
    if n["direct"] == n["direct"]:  # the chapter's `direct` ran
        saved = shown_difference(n["direct"], n["stopped"])
        effect = ("a length no shorter than the chapter's: stopping early does not apply" if n["chosen"] >= n["student_epochs"]
                  else f"stopping early saves it {points(saved)}" if saved > 0 else "stopping early does not help it")
        text += (f" The chapter's `direct` ({n['student_epochs']:,} epochs, every student's steps) is at {n['direct']:.1%}: "
                 f"{effect}.")
    text += (f" Against this early-stopped `direct`, the widest teacher's `hard_pool` student ({n['hard_pool']:.1%}) "
            f"{kd._compare(gain, '`direct` stopped early')}")
    if n["gain_se"] == n["gain_se"]:
        text += (f" (lower on {n['seeds_beating']} of {plural(n['n_paired'], 'seed')}, standard error of the "
                 f"seed-paired gain {points(n['gain_se'])})")
    return text + "."


def _tie_words(n: dict) -> str:
    """The lengths whose mean error on the choosing set prints the same as the chosen one's, said as such."""
    if not n.get("tied"):
        return ""
    return f" (as printed, {join(n['tied'])} epochs tie with it there; the unrounded means decide)"


def lengths_table(n: dict) -> pd.DataFrame:
    """Mean errors (per cent, one decimal) of ``direct`` by training length, the chosen length marked."""
    table = (100 * n["by_length"]).round(1)
    table.index = [f"{e:,}{' (chosen)' if e == n['chosen'] else ''}" for e in table.index]
    table.index.name = "epochs"
    return table.rename(columns={"train_error": "train error (noisy labels)", "val_error": "validation error (noisy labels)",
                                 "test_error": "test error"})


def fit_at_length_note(frame: pd.DataFrame, p: dict) -> str:
    """How the student's width fares at ``direct``'s own length (``student_steps_factor`` times the sweep's steps):
    the mean train error on the noisy labels of the chapter's ``direct`` against the sweep's model of the same width
    (trained for ``p["epochs"]`` epochs), from the chapter's frame (:func:`kd.run`). Where the width was read off the
    sweep by the chapter's rule (``student_width`` "peak") and ``direct`` fits its labels (mean train error at most
    :data:`dd.INTERPOLATION_TOL`) but the sweep's model does not, it says that at ``direct``'s length the width is at
    or past its interpolation threshold, so the rule's reason holds for the teachers' training only. One sentence
    where the two lengths are the same, or either run is missing."""
    direct = frame[frame["method"] == "direct"]
    width = int(direct["student_width"].iloc[0]) if len(direct) else None
    sweep = frame[(frame["method"] == "teacher") & (frame["teacher_width"] == width)]
    if direct.empty or sweep.empty:
        return "`direct`, or the sweep's model of its width, was not run here."
    if p["student_steps_factor"] == 1:
        return "`direct` trains as long as the sweep's models, so its width was read off models of its own length."
    epochs, factor = p["epochs"], p["student_steps_factor"]
    d, t = direct["train_error"].mean(), sweep["train_error"].mean()
    by_rule = p.get("student_width", "peak") == "peak"
    text = ((f"The rule reads the sweep's models, trained for {epochs:,} epochs; every" if by_rule else
             f"The student's width is set by hand here. The sweep's models train for {epochs:,} epochs; every")
            + f" student trains {factor:g} times as many steps, so `direct` (width {width}) trains for "
            f"{int(epochs * factor):,} epochs, and its train error on the noisy labels is {d:.1%}, against {t:.1%} "
            f"for the sweep's model of width {width}.")
    if by_rule and d <= dd.INTERPOLATION_TOL < t:
        text += (f" At `direct`'s length width {width} fits its noisy labels, so there it is at or past its "
                 f"interpolation threshold, not below it (see the double-descent chapter's "
                 f"{{ref}}`longer training <dd-longer-training>`): the reason for this width given above holds for "
                 f"the teachers' training, not for `direct`'s.")
    return text
