"""A published anchor for the MNIST-1D setting: Greydanus & Kobak's CNN and the book's in the setting of their table.

Greydanus & Kobak (*Scaling down deep learning with MNIST-1D*, 2020/2024; the table "Comparing MNIST and
MNIST-1D" in the README of github.com/greydanus/mnist1d) report 94% test accuracy for their CNN (three 1-D
convolutions of 25 channels and stride 2, then a linear layer) trained on the default MNIST-1D draw (4,000
training samples, clean labels) with Adam at learning rate 1e-2, batch 100, 8,000 steps and no weight decay
(their ``notebooks/train.py``). :data:`PUBLISHED` holds that setting: cited numbers, not made by a run of the
book, printed as citations.

The anchor trains, at width 25 on clean labels, their CNN (``cnn1d_gk``: kernels 5, 3 and 3) in the published
setting, and the book's ``cnn1d`` (kernel 5 in every layer) with two training sets (the published 4,000 samples and
the chapter's ``n_train``) and two recipes (the published one, with ``anchor_steps`` steps, and the chapter's: its
learning rate, batch and epochs), each on the seeds ``anchor_seeds``, and tests on the chapter's test set. It says
whether their model on the book's data and training code reaches the published error, what the book's kernels
change, and how much of the chapter's much higher error is the small labeled set and how much the chapter's
recipe.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from .. import book
from ..config import RunConfig, TrainConfig
from ..models import kernel_words
from ..prose import CLEAR, plural, points, relation, shown_difference
from ..runner import SweepOutcome, records_frame, run_configs
from . import double_descent as dd

#: Greydanus & Kobak's CNN on MNIST-1D (README table and notebooks/train.py of github.com/greydanus/mnist1d): their
#: model (``cnn1d_gk``, their ``ConvBase``), its setting, and the test-set size of their default split.
PUBLISHED = dict(model="cnn1d_gk", width=25, n_train=4000, n_test=1000, optimizer="adam", lr=1e-2, batch_size=100,
                 steps=8000, test_accuracy=0.94)
#: The book's 1-D CNN, the model of the chapters' MNIST-1D sweeps (kernel 5 in every layer).
BOOK_MODEL = "cnn1d"
RECIPES = ("published", "chapter")
COLUMNS = ["n_train", "recipe", "model", "seed", "train_error", "test_error", "hash"]


def plan(p: dict) -> list[tuple[int, str, RunConfig]]:
    """``(n_train, recipe, config)`` of every anchor run, on clean labels at the published width: the book's CNN
    (:data:`BOOK_MODEL`) on the published and the chapter's training-set size with both recipes, and Greydanus &
    Kobak's own CNN in the published setting (published size and recipe), each seed of ``p["anchor_seeds"]``; none
    where the chapter's dataset is not MNIST-1D, the only one the published number is for."""
    if p["dataset"] != "mnist1d" or not p.get("anchor_seeds"):
        return []
    published = TrainConfig(optimizer=PUBLISHED["optimizer"], lr=PUBLISHED["lr"], batch_size=PUBLISHED["batch_size"],
                             steps=p["anchor_steps"])
    runs = [(n, recipe, BOOK_MODEL) for n in sorted({PUBLISHED["n_train"], p["n_train"]}, reverse=True)
            for recipe in RECIPES]
    runs.insert(1, (PUBLISHED["n_train"], "published", PUBLISHED["model"]))
    out = []
    for n, recipe, model in runs:
        q = dict(p, n_train=n, label_noise=0.0, model=model)  # the chapter's recipe on clean labels
        for s in p["anchor_seeds"]:
            config = dd.run_config(q, PUBLISHED["width"], s)
            out.append((n, recipe, dataclasses.replace(config, train=published) if recipe == "published" else config))
    return out


def run(p: dict, folder_params: dict | None = None, **kwargs) -> tuple[pd.DataFrame, SweepOutcome]:
    """Run (or reuse) the anchor runs and write them to ``results-anchor.csv`` beside the sweep's table (columns
    :data:`COLUMNS`); an empty frame where ``anchor_seeds`` is empty."""
    planned = plan(p)
    if not planned:
        return pd.DataFrame(columns=COLUMNS), SweepOutcome()
    outcome = run_configs([c for _, _, c in planned], device=p["device"], **kwargs)
    frame = records_frame(outcome.records)
    frame.insert(1, "recipe", [recipe for _, recipe, _ in planned])
    frame = frame[COLUMNS]
    book.write_table(frame, dd.CHAPTER, p, "results-anchor.csv", folder_params)
    return frame, outcome


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """Test error in per cent, mean and standard error over seeds, one row per training-set size, recipe and
    model."""
    if frame.empty:
        return pd.DataFrame(columns=["test error, mean (%)", "standard error (points)", "seeds"])
    g = frame.groupby(["n_train", "recipe", "model"], sort=False)["test_error"]
    out = pd.DataFrame({"test error, mean (%)": 100 * g.mean(), "standard error (points)": 100 * g.sem(),
                        "seeds": g.size()}).round(1)
    out.index.names = ["training samples", "recipe", "model"]
    return out


def sentence(frame: pd.DataFrame, p: dict) -> str:
    """What the anchor shows, words chosen by the numbers: Greydanus & Kobak's CNN and the book's in the published
    setting against the published error (level with it within :data:`ddlib.prose.CLEAR`) and against each other,
    then the book's CNN with the chapter's recipe in that setting, and both recipes on the chapter's training-set
    size."""
    if p["dataset"] != "mnist1d":
        return f"The anchor is for MNIST-1D; with `dataset` {p['dataset']} it is not run."
    if frame.empty:
        return "The anchor was not run here (`anchor_seeds` is empty)."
    err = frame.groupby(["n_train", "recipe", "model"])["test_error"].mean()
    big, small = PUBLISHED["n_train"], p["n_train"]
    published = 1 - PUBLISHED["test_accuracy"]
    theirs, ours = err[(big, "published", PUBLISHED["model"])], err[(big, "published", BOOK_MODEL)]
    gap = shown_difference(theirs, published)
    steps = ("" if p["anchor_steps"] == PUBLISHED["steps"]
             else f" (trained for {p['anchor_steps']:,} steps here instead of the published {PUBLISHED['steps']:,})")
    match = "close to" if abs(gap) < CLEAR else "clearly above" if gap > 0 else "clearly below"
    kernels = shown_difference(ours, theirs)
    text = (f"In the published setting{steps}, Greydanus & Kobak's CNN (`{PUBLISHED['model']}`) reaches {theirs:.1%} "
            f"test error over {plural(frame['seed'].nunique(), 'seed')}, {match} the published {published:.0%} "
            f"({relation(gap, 'it')}), and the book's (`{BOOK_MODEL}`, {kernel_words(BOOK_MODEL)}) {ours:.1%}, "
            f"{relation(kernels, 'theirs')}. ")
    if abs(gap) < CLEAR:
        text += ("Their network, on this book's draws of the data and with this book's training code, comes close to "
                 "their number: the data generator and the training code are not what makes the chapter's errors "
                 "high. ")
    else:
        text += ("Their network, on this book's draws of the data and with this book's training code, does not come "
                 "close to their number; the draws differ from theirs, and this run does not say whether that is the "
                 "cause. ")
    text += ("The book's kernels change little here. " if abs(kernels) < CLEAR else
             f"The book's kernels cost {points(kernels)} here. " if kernels > 0 else
             f"The book's kernels gain {points(-kernels)} here. ")
    chapter_big = err[(big, "chapter", BOOK_MODEL)]
    text += (f"With the chapter's recipe (learning rate {p['lr']:g}, batch {p['batch_size']}, {p['epochs']:,} epochs) "
             f"instead, the book's CNN on the same {big:,} samples ends at {chapter_big:.1%}, "
             f"{relation(shown_difference(chapter_big, ours), 'the published recipe')}. ")
    if small != big:
        small_published, small_chapter = err[(small, "published", BOOK_MODEL)], err[(small, "chapter", BOOK_MODEL)]
        size_cost = shown_difference(small_published, ours)
        recipe_cost = shown_difference(chapter_big, ours)
        text += (f"On the chapter's {small:,} clean samples the published recipe gives {small_published:.1%} "
                 f"and the chapter's {small_chapter:.1%}")
        if small < big:
            text += (f": with the published recipe, going from {big:,} samples to {small:,} costs "
                     f"{points(size_cost)}, {'more' if size_cost > recipe_cost else 'no more'} than the chapter's "
                     f"recipe costs on {big:,} ({points(recipe_cost)}), before any label noise. ")
        else:
            text += ". "
    text += ("The chapter keeps its own recipe, the same for every width and for the distillation chapter's students; "
             "it was not tuned. " + _next_section(p))
    return text


def _next_section(p: dict) -> str:
    """What the learning-rate study of the next section runs, against the published rate."""
    others = [lr for lr in p.get("lr_study", []) if lr != p["lr"]]
    if PUBLISHED["lr"] in others:
        return f"The next section runs the sweep again at the published learning rate, {PUBLISHED['lr']:g}."
    if others:
        return ("The next section runs the sweep again at the learning rates of `lr_study`, the published one not "
                "among them.")
    return "The next section would run the sweep again at other learning rates; `lr_study` asks for none here."
