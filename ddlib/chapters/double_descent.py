"""Chapter "Model-wise double descent": the width sweep on noisy labels.

Nakkiran et al. (2019, *Deep Double Descent*, their section on model-wise double descent) and Belkin et al. (2019)
show that with label noise the test error, plotted against model size, rises to a peak near the
*interpolation threshold* (the smallest size whose training error reaches zero) and falls
again beyond it. This module turns the chapter's parameters into run configs, runs them
through the results store, and summarises the curve.
"""
from __future__ import annotations

import pandas as pd

from .. import book
from ..config import OPTIMIZERS, RunConfig, TrainConfig, check_model_for_dataset
from ..data import CIFAR_TEST_SIZE, CIFAR_TRAIN_SIZE, DATASET_SHAPES, DATASETS, DataConfig
from ..devices import DEVICES, resolve_device
from ..models import MODEL_NAMES, MODELS
from ..presets import resolve
from ..prose import CLEAR, as_shown, points, relation, shown_difference
from ..runner import SweepOutcome, records_frame, run_configs
from ..validation import (ConfigError, in_unit_interval, list_of, non_empty_ints, non_negative_int, one_of,
                          positive_float, positive_int)

CHAPTER = "double-descent"

#: Train error (on the noisy labels) at or below which a model counts as interpolating.
INTERPOLATION_TOL = 0.01

_COMMON = dict(dataset="mnist1d", label_noise=0.2, lr=1e-3, optimizer="adam", device="auto", noise_seed=0,
               data_seed=0)
#: The sweep's settings by preset; the distillation chapter's teachers are these sweeps.
SWEEP_PRESETS = {
    # seconds on a laptop CPU: what the tests run
    "smoke": dict(_COMMON, model="mlp", widths=[4, 64], seeds=[0], n_train=200, n_test=500, epochs=20,
                  batch_size=50),
    # the book build on a CPU (make book from a fresh clone: about 40 minutes on 2 cores); five seeds, as with three one seed could make a peak
    "default": dict(_COMMON, model="cnn1d", widths=[2, 4, 8, 12, 16, 24, 32, 64], seeds=[0, 1, 2, 3, 4],
                    n_train=1000, n_test=10000, epochs=300, batch_size=128),
    # Nakkiran et al. 2019, Fig. 1: ResNet-18 widths 1..64 on CIFAR-10, 15% noise, Adam 1e-4, 4000 epochs
    "paper": dict(_COMMON, dataset="cifar10", model="resnet18", widths=list(range(1, 65)), seeds=[0],
                  n_train=50000, n_test=10000, label_noise=0.15, epochs=4000, lr=1e-4, batch_size=128),
}
#: The label-noise rates of this chapter's own noise study, by preset: in ``default`` clean labels (what the
#: noise costs) and twice the noise (where Nakkiran et al.'s peak grows); none in ``paper``, where a second
#: sweep would double the GPU cost.
NOISE_STUDY = {"smoke": [0.4], "default": [0.0, 0.4], "paper": []}
#: The other draws of the data, by preset: each seed ``r`` runs the sweep with ``data_seed = noise_seed = r``
#: (another labeled set with other wrong labels, and for MNIST-1D another test set), because the chapter's seeds
#: vary only initialisation and batch order; none in ``paper``, for its GPU cost.
REDRAW_SEEDS = {"smoke": [1], "default": [1], "paper": []}
#: Longer training, by preset: each entry runs the sweep again for that many epochs, because Nakkiran et al. (2019,
#: Fig. 1, right) find the model-wise peak grows with training time; in ``default`` four times the sweep's 300 epochs
#: (about four times its CPU time); none in ``paper``, already at 4,000 epochs.
EPOCHS_STUDY = {"smoke": [40], "default": [1200], "paper": []}
#: Other learning rates, by preset: each entry runs the sweep again at that learning rate; in ``default`` the published
#: anchor's rate (:data:`ddlib.chapters.anchor.PUBLISHED`, ten times the sweep's), a tested equality; none in ``paper``,
#: for its GPU cost.
LR_STUDY = {"smoke": [1e-2], "default": [1e-2], "paper": []}
#: The published anchor (:mod:`ddlib.chapters.anchor`), by preset: its seeds and the steps of the published recipe
#: (8,000 as published; fewer in ``smoke``); none in ``paper``, whose data is CIFAR, not MNIST-1D.
ANCHOR = {"smoke": dict(anchor_seeds=[0], anchor_steps=100),
          "default": dict(anchor_seeds=[0, 1, 2, 3, 4], anchor_steps=8000),
          "paper": dict(anchor_seeds=[], anchor_steps=8000)}
PRESETS = {name: dict(sweep, noise_study=NOISE_STUDY[name], redraw_seeds=REDRAW_SEEDS[name],
                      epochs_study=EPOCHS_STUDY[name], lr_study=LR_STUDY[name], **ANCHOR[name])
           for name, sweep in SWEEP_PRESETS.items()}


#: Optimizers and datasets by their names in prose (the identifiers are what parameters take).
OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD"}
DATASET_NAMES = {"mnist1d": "MNIST-1D", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}


def model_in_words(model: str) -> str:
    """A model family as prose names it, with the identifier parameters take: ``"1-D CNN (`cnn1d`)"``."""
    return f"{MODEL_NAMES[model]} (`{model}`)"


def paper_setting() -> dict:
    """The ``paper`` preset's recipe, for prose that describes it (glued, never typed): names as prose writes them,
    and ``paper_model`` as the identifier, in code."""
    p = PRESETS["paper"]
    return {"paper_model": f"`{p['model']}`", "paper_model_name": MODEL_NAMES[p["model"]],
            "paper_k_min": min(p["widths"]), "paper_k_max": max(p["widths"]),
            "paper_dataset": DATASET_NAMES[p["dataset"]], "paper_label_noise": p["label_noise"],
            "paper_optimizer": OPTIMIZER_NAMES[p["optimizer"]],
            "paper_lr": p["lr"], "paper_batch": p["batch_size"], "paper_epochs": p["epochs"]}


def dataset_words(dataset: str) -> str:
    """The dataset, its number of classes and its input size, from :data:`ddlib.data.DATASET_SHAPES`."""
    shape, classes = DATASET_SHAPES[dataset]
    if dataset == "mnist1d":
        return f"MNIST-1D (Greydanus & Kobak), generated offline: {classes} classes of {shape[0]}-sample signals"
    name = DATASET_NAMES[dataset]
    return f"{name}: {classes} classes of {shape[1]}×{shape[2]} colour images"


def validate(p: dict) -> None:
    """Refuse any parameter value that cannot run, naming the parameter and what is allowed."""
    one_of("dataset", p["dataset"], DATASETS)
    one_of("model", p["model"], MODELS)
    check_model_for_dataset(p["dataset"], p["model"])
    non_empty_ints("widths", p["widths"], positive=True)
    non_empty_ints("seeds", p["seeds"], positive=False)
    positive_int("n_train", p["n_train"])
    positive_int("n_test", p["n_test"])
    in_unit_interval("label_noise", p["label_noise"], closed_right=False)
    list_of("noise_study", p.get("noise_study", []), "label-noise rates, each in [0, 1)",
            lambda level: in_unit_interval("noise_study", level, closed_right=False))
    list_of("redraw_seeds", p.get("redraw_seeds", []), "non-negative integers (data and noise seeds)",
            lambda seed: non_negative_int("each entry of redraw_seeds", seed))
    list_of("epochs_study", p.get("epochs_study", []), "positive epoch counts",
            lambda epochs: positive_int("each entry of epochs_study", epochs))
    list_of("lr_study", p.get("lr_study", []), "positive learning rates",
            lambda rate: positive_float("each entry of lr_study", rate))
    list_of("anchor_seeds", p.get("anchor_seeds", []), "non-negative integers (seeds)",
            lambda seed: non_negative_int("each entry of anchor_seeds", seed))
    positive_int("anchor_steps", p.get("anchor_steps", 1))
    positive_int("epochs", p["epochs"])
    positive_float("lr", p["lr"])
    positive_int("batch_size", p["batch_size"])
    one_of("device", p["device"], DEVICES)
    resolve_device(p["device"])  # an unavailable 'cuda' / 'mps' is refused here, not in the kernel
    one_of("optimizer", p["optimizer"], OPTIMIZERS)
    non_negative_int("noise_seed", p["noise_seed"])
    non_negative_int("data_seed", p["data_seed"])
    if p["batch_size"] > p["n_train"]:
        raise ConfigError(f"batch_size ({p['batch_size']}) must be at most n_train ({p['n_train']})")
    if p["dataset"] != "mnist1d":
        if p["n_train"] > CIFAR_TRAIN_SIZE:
            raise ConfigError(f"n_train must be at most {CIFAR_TRAIN_SIZE} for {p['dataset']} (its training split); "
                              f"got {p['n_train']}")
        if p["n_test"] > CIFAR_TEST_SIZE:
            raise ConfigError(f"n_test must be at most {CIFAR_TEST_SIZE} for {p['dataset']} (its test split); "
                              f"got {p['n_test']}")
    if p.get("preset") == "paper" and p["device"] == "auto" and resolve_device("auto").type != "cuda":
        raise ConfigError(
            "preset 'paper' is sized for a GPU (about 1.5M steps per width) and no CUDA GPU was found; "
            "set device to 'cpu' explicitly (-p device cpu, or device='cpu') to run it on the CPU anyway")


def resolve_params(preset: str = "default", check_injected: bool = False, **overrides) -> dict:
    """The chapter's parameters: ``PRESETS[preset]`` with every non-``None`` override, validated
    (``check_injected``: the chapter's own resolve cell; :func:`ddlib.presets.resolve`)."""
    return resolve(CHAPTER, PRESETS, preset, overrides, validate, check_injected)


def steps_for(p: dict) -> int:
    """Optimisation steps for ``epochs`` passes over the labeled set (last partial batch dropped)."""
    return p["epochs"] * (p["n_train"] // p["batch_size"])


def data_config(p: dict) -> DataConfig:
    return DataConfig(dataset=p["dataset"], n_train=p["n_train"], n_test=p["n_test"],
                      label_noise=p["label_noise"], noise_seed=p["noise_seed"], data_seed=p["data_seed"])


def run_config(p: dict, width: int, seed: int) -> RunConfig:
    """The config of one model of the sweep (the distillation chapter's teachers are these)."""
    train = TrainConfig(optimizer=p["optimizer"], lr=p["lr"], batch_size=p["batch_size"], steps=steps_for(p))
    return RunConfig(data=data_config(p), model=p["model"], width=width, train=train, init_seed=seed, order_seed=seed)


def sweep_configs(p: dict) -> list[RunConfig]:
    return [run_config(p, w, s) for w in p["widths"] for s in p["seeds"]]


def planned_configs(p: dict, store=None) -> list[RunConfig]:
    """Every run the chapter asks for: the sweep, the label-noise study's sweeps, the other draws', the training-length
    study's, the learning-rate study's and the published anchor's (trains nothing; ``store`` is unused, as the runs
    do not depend on stored results)."""
    from . import anchor  # anchor builds its runs with run_config, from this module

    studies = _noise_study_params(p) + redraw_params(p) + _epochs_study_params(p) + lr_study_params(p)
    return sweep_configs(p) + [c for _, q in studies for c in sweep_configs(q)] + [c for _, _, c in anchor.plan(p)]


def _one_knob_study(p: dict, study: str, knob: str, cast) -> list[tuple]:
    """``(value, parameters)`` of each sweep of a study that changes one parameter: ``p`` with ``p[knob]`` set to each
    value of ``p[study]`` (as ``cast``) but ``p[knob]`` itself, whose sweep is the chapter's main one."""
    return [(cast(v), dict(p, **{knob: cast(v)})) for v in p.get(study, []) if v != p[knob]]


def _noise_study_params(p: dict) -> list[tuple[float, dict]]:
    """``(rate, parameters)`` of each sweep of the label-noise study (``-p label_noise 0.4`` with the ``default``
    preset runs 0 and 0.4, and no third sweep)."""
    return _one_knob_study(p, "noise_study", "label_noise", float)


def _epochs_study_params(p: dict) -> list[tuple[int, dict]]:
    """``(epochs, parameters)`` of each sweep of the training-length study."""
    return _one_knob_study(p, "epochs_study", "epochs", int)


def lr_study_params(p: dict) -> list[tuple[float, dict]]:
    """``(learning rate, parameters)`` of each sweep of the learning-rate study."""
    return _one_knob_study(p, "lr_study", "lr", float)


def run(p: dict, table: str = "results.csv", folder_params: dict | None = None, **kwargs
        ) -> tuple[pd.DataFrame, SweepOutcome]:
    """Run (or reuse) the sweep; write ``results/double-descent/<folder>/<table>``, the folder being the preset's
    name or, where parameters differ from it, the name and their hash (:func:`ddlib.book.table_folder` of
    ``folder_params``, default ``p``)."""
    outcome = run_configs(sweep_configs(p), device=p["device"], **kwargs)
    frame = records_frame(outcome.records)[
        ["width", "params", "seed", "train_error", "test_error", "train_error_clean", "label_noise", "n_train", "hash"]]
    book.write_table(frame, CHAPTER, p, table, folder_params)
    return frame, outcome


def redraw_params(p: dict) -> list[tuple[int, dict]]:
    """``(r, parameters)`` of each other draw of the data: ``p`` with ``data_seed = noise_seed = r`` for each ``r`` of
    ``p["redraw_seeds"]`` but the chapter's own draw (where both seeds already are ``r``)."""
    return [(int(r), dict(p, data_seed=r, noise_seed=r)) for r in p.get("redraw_seeds", [])
            if (r, r) != (p["data_seed"], p["noise_seed"])]


def _run_studies(p: dict, studies: list[tuple], table: str, **kwargs) -> tuple[dict, SweepOutcome]:
    """Run the sweep of each ``(key, parameters)`` of ``studies``, each written to ``table.format(key)`` beside the
    main sweep's table; ``{key: frame}`` and the runs of all of them as one outcome."""
    frames, outcome = {}, SweepOutcome()
    for key, q in studies:
        frames[key], done = run(q, table.format(key), p, **kwargs)
        outcome = outcome.merge(done)
    return frames, outcome


def run_noise_study(p: dict, **kwargs) -> tuple[dict[float, pd.DataFrame], SweepOutcome]:
    """The sweep again at each label-noise rate of ``p["noise_study"]`` (the same widths, seeds, data and
    training; only how many labels are mislabeled changes), each written to ``results-noise-<rate>.csv`` beside
    the sweep's table. Returns ``{rate: frame}`` (empty for an empty study) and the runs of all of them as one
    outcome."""
    return _run_studies(p, _noise_study_params(p), "results-noise-{:g}.csv", **kwargs)


def run_redraws(p: dict, **kwargs) -> tuple[dict[int, pd.DataFrame], SweepOutcome]:
    """The sweep again on each other draw of the data, ``data_seed = noise_seed = r`` for ``r`` in
    ``p["redraw_seeds"]`` (the same widths, seeds and training, another labeled set with other wrong labels),
    each written to ``results-draw-<r>.csv`` beside the sweep's table. Returns ``{r: frame}`` (empty where none)
    and the runs of all of them as one outcome."""
    return _run_studies(p, redraw_params(p), "results-draw-{}.csv", **kwargs)


def run_epochs_study(p: dict, **kwargs) -> tuple[dict[int, pd.DataFrame], SweepOutcome]:
    """The sweep again for each epoch count of ``p["epochs_study"]`` (the same widths, seeds, data, labels,
    learning rate and batch; only how long each model trains changes), each written to ``results-epochs-<n>.csv``
    beside the sweep's table. Returns ``{epochs: frame}`` (empty where none) and the runs of all of them as one
    outcome."""
    return _run_studies(p, _epochs_study_params(p), "results-epochs-{}.csv", **kwargs)


def run_lr_study(p: dict, **kwargs) -> tuple[dict[float, pd.DataFrame], SweepOutcome]:
    """The sweep again at each learning rate of ``p["lr_study"]`` (the same widths, seeds, data, labels, batch and
    epochs; only the step size changes), each written to ``results-lr-<rate>.csv`` beside the sweep's table. Returns
    ``{rate: frame}`` (empty where none) and the runs of all of them as one outcome."""
    return _run_studies(p, lr_study_params(p), "results-lr-{:g}.csv", **kwargs)


def epochs_study_sentence(base: dict, studies: dict[int, dict], p: dict) -> str:
    """What longer training does to the curve, from :func:`summarize` of the main sweep (``base``, at ``p["epochs"]``)
    and of each sweep of the study (``studies``, by epoch count), one paragraph per length (:func:`_comparison`, then
    where the threshold moves: :func:`threshold_move`)."""
    if not studies:
        return ("No other training length was run here (`epochs_study` is empty, or holds only the sweep's own "
                "length).")
    return _knob_paragraphs(base, studies, p, lambda n: f"Trained for {n:,} epochs instead of {p['epochs']:,}",
                            lambda n: f"at {n:,} epochs", f"at {p['epochs']:,}", f"at {p['epochs']:,} epochs")


def lr_study_sentence(base: dict, studies: dict[float, dict], p: dict) -> str:
    """What another learning rate does to the curve, from :func:`summarize` of the main sweep (``base``, at
    ``p["lr"]``) and of each sweep of the study (``studies``, by rate), one paragraph per rate (:func:`_comparison`,
    then where the threshold moves, :func:`threshold_move`, and for a larger rate whether it kept networks from fitting
    wrong labels, :func:`_regulariser_answer`)."""
    if not studies:
        return "No other learning rate was run here (`lr_study` is empty, or holds only the sweep's own rate)."
    base_at = f"at {p['lr']:g}"
    return _knob_paragraphs(base, studies, p, lambda lr: f"At learning rate {lr:g} instead of {p['lr']:g}",
                            lambda lr: f"at learning rate {lr:g}", base_at, base_at,
                            extra=lambda lr, s: _regulariser_answer(base, s, lr > p["lr"]))


def _regulariser_answer(base: dict, s: dict, larger: bool) -> str:
    """Whether a larger learning rate acted as a regulariser, from where the threshold moved (``s`` against ``base``):
    not where narrower networks fit the noisy labels, as one would where only wider ones fit them, or none; nothing
    said for a smaller rate or an unmoved threshold."""
    t, t0 = s["threshold_width"], base["threshold_width"]
    if not larger or t0 is None or t == t0:
        return ""
    if t is not None and t < t0:
        return " The larger rate does not keep networks from fitting wrong labels here."
    return " The larger rate keeps networks from fitting wrong labels here, as a regulariser would."


def threshold_move(base: dict, s: dict, at: str, base_at: str) -> str:
    """Whether the interpolation threshold of sweep ``s`` (:func:`summarize`) lies at a narrower or a wider width than
    the main sweep's (``base``), or in only one of them: a narrower one means a change of training lets narrower
    networks fit their noisy labels (in the terms of Nakkiran et al. 2019, the training procedure's *effective
    model complexity*, the most samples it fits, grows); a wider one, or none, that it keeps them from it."""
    t, t0 = s["threshold_width"], base["threshold_width"]
    At = at[0].upper() + at[1:]
    if t is None and t0 is None:
        return f"No width fits its noisy labels {at} or {base_at}."
    if t is None:
        return f"{At}, no width fits its noisy labels, where width {t0} does {base_at}."
    if t0 is None:
        return f"{At}, width {t} fits its noisy labels, where no width does {base_at}."
    if t < t0:
        return (f"{At}, narrower networks fit their noisy labels: the threshold moves from width {t0} down to width {t} "
                f"(in the terms of Nakkiran et al. 2019, the training's effective model complexity, the most "
                f"samples it fits, grows).")
    if t > t0:
        return (f"{At}, only wider networks fit their noisy labels: the threshold moves from width {t0} up to width "
                f"{t}.")
    return f"The threshold stays at width {t}: this change does not move it."


def _knob_paragraphs(base: dict, studies: dict, p: dict, opening, at, base_at: str, threshold_base_at: str,
                     extra=None) -> str:
    """One :func:`_comparison` paragraph per sweep of a study that changes a training knob (not the labels), the
    sweeps' own words from ``opening(value)`` and ``at(value)``, each paragraph ending with where the threshold moves
    (:func:`threshold_move`, the main sweep named ``threshold_base_at``), then ``extra(value, summary)`` where given."""
    labels = _labels(p["label_noise"])
    return "\n\n".join(
        _comparison(base, s, opening=opening(v), at=at(v), base_at=base_at, where=at(v), labels=labels,
                    base_labels=labels)
        + " " + threshold_move(base, s, at(v), threshold_base_at) + (extra(v, s) if extra else "")
        for v, s in studies.items())


def noise_study_sentence(base: dict, studies: dict[float, dict], base_noise: float) -> str:
    """What another label-noise rate does to the curve, from :func:`summarize` of the main sweep (``base``, at
    ``base_noise``) and of each sweep of the study (``studies``, by rate), one paragraph per rate
    (:func:`_comparison`). A rate of 0 reads "clean labels"."""
    if not studies:
        return ("No other label-noise rate was run here (`noise_study` is empty, or holds only the sweep's own "
                "rate).")
    return "\n\n".join(_comparison(
        base, s, opening=("With clean labels (none mislabeled)" if level == 0 else
                          f"With {level:.0%} of the labels mislabeled") + f" instead of {base_noise:.0%}",
        at=f"at {level:.0%}", base_at=f"at {base_noise:.0%}",
        where="with clean labels" if level == 0 else f"at {level:.0%} label noise",
        labels=_labels(level), base_labels=_labels(base_noise)) for level, s in studies.items())


def redraw_sentence(base: dict, redraws: dict[int, dict], p: dict) -> str:
    """What another draw of the data does to the curve, from :func:`summarize` of the main sweep (``base``) and of
    each other draw's (``redraws``, by seed ``r``: ``data_seed = noise_seed = r``), one paragraph per draw
    (:func:`_comparison`): whether the rule still finds what it finds in the chapter's draw, where the seeds vary
    only initialisation and batch order."""
    if not redraws:
        return ("No other draw of the data was run here (`redraw_seeds` is empty, or holds only the chapter's own "
                "draw).")
    labels = _labels(p["label_noise"])
    return "\n\n".join(_comparison(
        base, s, opening=(f"With another draw of the data (`data_seed` = `noise_seed` = {r}: {what_redraw_changes(r, p)}) "
                          f"instead of the chapter's ({p['data_seed']} and {p['noise_seed']})"),
        at=f"in draw {r}", base_at="in the chapter's draw", where=f"in draw {r}", labels=labels, base_labels=labels)
        for r, s in redraws.items())


def what_redraw_changes(r: int, p: dict) -> str:
    """What the draw ``data_seed = noise_seed = r`` changes against the chapter's (``p``): the labeled set where
    ``r`` is another ``data_seed`` (for MNIST-1D the test set too, its own draw from ``data_seed``; CIFAR's is fixed),
    and the wrong labels always (another ``noise_seed``, or the same one on other inputs)."""
    if r == p["data_seed"]:
        return "the same labeled inputs and test set, other wrong labels"
    test = "another test set" if p["dataset"] == "mnist1d" else "the same test set"
    return f"another labeled set, other wrong labels and {test}"


def _labels(level: float) -> str:
    return "noisy labels" if level > 0 else "clean labels"


def _comparison(base: dict, s: dict, *, opening: str, at: str, base_at: str, where: str, labels: str,
                base_labels: str) -> str:
    """One sweep (``s``, :func:`summarize`) against the chapter's main one (``base``): the verdict's head under the
    same rule, the rise from the best narrower width to the width of highest test error near the threshold
    (``peak_over_narrower``, as printed) against the main sweep's, the seed spreads of both, and whether the
    widest model is still the best of the sweep (the part of claim C1 that distillation relies on), beside its
    test error in the main sweep; a widest model less than :data:`CLEAR` behind the best (as printed) is said to
    be so, and so is a best widest model less than :data:`CLEAR` ahead of the runner-up, or tied with it as
    printed. ``at`` and ``base_at`` name the two sweeps ("at 40%", "in draw 1"), ``where`` the other one in a
    clause ("at 40% label noise"), ``labels`` and ``base_labels`` what their models fit."""
    head = s["verdict_head"]
    spreads = [w for w in (_spread(s, at), _spread(base, base_at)) if w]
    seeds = f" The spread between seeds is {' and '.join(spreads)}." if spreads else ""
    return (f"{opening}, the same rule finds that {head[0].lower()}{head[1:]} Near the threshold "
            f"({_threshold(s, labels)}), {_rise(s)}; {base_at} ({_threshold(base, base_labels)}), {_rise(base)}."
            f"{seeds} {_widest_again(s, base, base_at, where)}")


def _rise(s: dict) -> str:
    narrower = s["best_narrower_width"]
    if narrower is None:
        return "no narrower width was trained"
    other = f"width {narrower}'s, the best narrower one"
    return f"width {s['peak_width']}'s test error is {relation(s['peak_over_narrower'], other)}"


def _threshold(s: dict, labels: str) -> str:
    """Where the interpolation threshold lies in a sweep (the first width that fits its training labels)."""
    return (f"no width fits the {labels}" if s.get("threshold_width") is None else
            f"width {s['threshold_width']} is the first to fit the {labels}")


def _spread(s: dict, at: str) -> str:
    return "" if s["seed_spread"] != s["seed_spread"] else f"{points(s['seed_spread'])} {at}"


def _widest_again(s: dict, base: dict, base_at: str, where: str) -> str:
    """Whether the widest model of ``s`` is still the best of its sweep, beside its error in ``base``."""
    said = f"The widest model ({s['widest_test_error']:.1%}, against {base['widest_test_error']:.1%} {base_at})"
    best = s["best_width"] == s["widest_width"]
    other = s["runner_up_width"] if best else s["best_width"]
    other_error = s["runner_up_test_error"] if best else s["best_test_error"]
    gap = shown_difference(*((other_error, s["widest_test_error"]) if best else (s["widest_test_error"], other_error)))
    if other != s["widest_width"] and gap == 0:
        what = "fitting every training label" if _widest_fits(s) else "the widest width"
        return (f"{said} ties with width {other} ({other_error:.1%}) as printed: {where}, {what} buys nothing "
                f"over width {other}.")
    if best:
        if other == s["widest_width"] or gap >= CLEAR:
            return f"{said} is again the best of the sweep."
        return (f"{said} is again the best of the sweep, but only {points(gap)} ahead of width {other} "
                f"({other_error:.1%}), less than the {points(CLEAR)} counted as clear.")
    if gap >= CLEAR:
        return f"{said} is no longer the best of the sweep: width {other}'s is {points(gap)} lower."
    return (f"{said} is no longer the best of the sweep, but only {points(gap)} behind width {other} "
            f"({other_error:.1%}), less than the {points(CLEAR)} counted as clear.")


def summarize(frame: pd.DataFrame) -> dict:
    """Key numbers of the curve, from the means over seeds at each width.

    ``threshold_width``: the first width whose mean train error is at most
    :data:`INTERPOLATION_TOL` (``None`` if none interpolates). The peak is looked for near the
    threshold only, so a noisy narrow, under-fitting model cannot be taken for it: ``peak_width`` is
    the width of highest mean test error among the widths from ``window_start`` (the best model
    narrower than the threshold: the first descent's minimum) to ``window_stop`` (one grid step past
    the threshold); without a threshold the widest width stands in for it. ``peak_over_narrower``
    and ``peak_over_widest`` are the peak width's mean test error minus the best narrower width's
    and the widest width's, as printed (:func:`shown_difference`: the difference of the two errors
    printed with one decimal in per cent), so that every word chosen from them agrees with the
    numbers the prose prints; the string entries (``verdict`` and its head ``verdict_head``, ``window_rule``,
    ``peak_status``, ...) put them into words for the prose, in percentage points. ``widths_above_peak``: every width
    whose mean test error is above the peak width's, inside the search window or not (narrow,
    under-fitting widths below it, or wider widths beyond it). ``best_widths``: every width whose mean test error prints
    as the lowest (``best_width`` and any that tie with it as printed). ``seed_spread`` is the mean over widths
    of the standard deviation over seeds (``nan`` with one seed per width; ``seed_noise_words`` then
    says so).
    """
    m = frame.groupby("width")[["train_error", "test_error", "params"]].mean().sort_index()
    widths = list(m.index)
    interp = [w for w in widths if m.loc[w, "train_error"] <= INTERPOLATION_TOL]
    threshold = interp[0] if interp else widths[-1]
    below = [w for w in widths if w < threshold]
    start = int(m.loc[below, "test_error"].idxmin()) if below else int(threshold)
    stop = int(widths[min(widths.index(threshold) + 1, len(widths) - 1)])
    peak_width = int(m.loc[[w for w in widths if start <= w <= stop], "test_error"].idxmax())
    narrower = m.loc[[w for w in widths if w < peak_width], "test_error"]
    wider = m.loc[[w for w in widths if w > peak_width], "test_error"]
    out = {
        "narrowest_width": int(widths[0]), "narrowest_test_error": float(m["test_error"].iloc[0]),
        "widest_width": int(widths[-1]), "widest_test_error": float(m["test_error"].iloc[-1]),
        "widest_train_error": float(m["train_error"].iloc[-1]),
        "best_width": int(m["test_error"].idxmin()), "best_test_error": float(m["test_error"].min()),
        # every width whose mean test error prints as the lowest (ties as printed)
        "best_widths": [int(w) for w in widths
                        if shown_difference(m.loc[w, "test_error"], m["test_error"].min()) == 0],
        "runner_up_width": int(m["test_error"].nsmallest(2).index[-1]),
        "runner_up_test_error": float(m["test_error"].nsmallest(2).iloc[-1]),
        "peak_width": peak_width, "peak_test_error": float(m.loc[peak_width, "test_error"]),
        "peak_params": int(m.loc[peak_width, "params"]), "widest_params": int(m["params"].iloc[-1]),
        "threshold_width": int(interp[0]) if interp else None,
        "window_start": start, "window_stop": stop,
        "best_narrower_width": int(narrower.idxmin()) if len(narrower) else None,
        "best_narrower_test_error": float(narrower.min()) if len(narrower) else float("nan"),
        # every width whose mean test error is above the peak width's: narrow, under-fitting ones below the
        # search window, or wider ones beyond it
        "widths_above_peak": [int(w) for w in widths if m.loc[w, "test_error"] > m.loc[peak_width, "test_error"]],
    }
    out["peak_over_narrower"] = shown_difference(out["peak_test_error"], out["best_narrower_test_error"])
    out["peak_over_widest"] = (shown_difference(out["peak_test_error"], out["widest_test_error"]) if len(wider)
                               else float("nan"))
    one_seed = _one_seed(frame)
    out["seed_spread"] = float("nan") if one_seed else float(frame.groupby("width")["test_error"].std().mean())
    out["interpolation_tol"] = INTERPOLATION_TOL
    out["seed_noise_words"] = (
        "so there is no spread between seeds to tell a difference from seed noise with (and no band around the "
        "curves)" if one_seed else
        f"so differences smaller than the spread between seeds (the standard deviation over seeds, "
        f"{points(out['seed_spread'])} averaged over widths; the table gives each width's) are within seed noise "
        f"(the figure's band spans the lowest to the highest seed)")
    out["clear_points"] = points(CLEAR)
    out["clear_peak"] = clear_peak(out)
    out["peak_status"] = ("a clear peak" if out["clear_peak"] else "not a clear peak" if interp
                          else "this run has no interpolation threshold")
    out["peak_where"] = "near the threshold" if interp else "from the best narrower width on"
    out["best_narrower_item"] = (
        f"{out['best_narrower_test_error']:.1%} at width {out['best_narrower_width']}"
        f"{seed_errors_words(frame, out['best_narrower_width'], ' (', ')')}, the best width narrower "
        f"than width {peak_width}" if out["best_narrower_width"] is not None
        else f"no width narrower than width {peak_width} was trained")
    out["peak_detail"] = f"{out['peak_params']:,} parameters{seed_errors_words(frame, peak_width, '; ')}"
    out["widest_fit"] = (f"{'fits' if out['widest_train_error'] <= INTERPOLATION_TOL else 'does not fit'} its noisy "
                         f"training labels (train error {out['widest_train_error']:.1%})")
    out["window_rule"] = window_rule(out)
    out["best_words"] = ("; it is the lowest test error of the sweep" if out["best_width"] == out["widest_width"] else
                         f"; the lowest test error of the sweep is {out['best_test_error']:.1%}, at width "
                         f"{out['best_width']}")
    out["verdict_head"], _ = verdict_parts(out)
    out["verdict"] = verdict(out)
    return out


def window_rule(s: dict) -> str:
    """Where :func:`summarize` looks for the peak (``window_start`` to ``window_stop``), in words."""
    start, stop, t = s["window_start"], s["window_stop"], s["threshold_width"]
    if t is None:
        return (f"and as no width reaches the threshold, the widest width stands in for it: from the best width "
                f"narrower than the widest (here width {start}) up to the widest (width {stop})")
    first = (f"from the first descent's minimum, the best width narrower than the threshold (here width {start}),"
             if start != t else "from the threshold itself (no narrower width was trained)")
    last = (f"up to one width past the threshold (here width {stop})" if stop != t
            else "up to the threshold, the widest width trained")
    return f"{first} {last}"


def peak_words(s: dict) -> str:
    """The width :func:`summarize` singles out (``peak_width``), named as truly as the run allows:
    "the peak" only for a clear one (:func:`clear_peak`)."""
    p = s["peak_width"]
    if s["clear_peak"]:
        return f"width {p}, the peak of test error near the interpolation threshold"
    if s["threshold_width"] is None:
        return (f"width {p}, the width of highest test error from the best narrower width on "
                f"(this run has no interpolation threshold)")
    return f"width {p}, the width of highest test error near the interpolation threshold (not a clear peak in this run)"


def clear_peak(s: dict) -> bool:
    """A clear peak: the sweep has an interpolation threshold, and the peak width's mean test error is at least
    :data:`CLEAR` above both the best narrower width's and the widest width's (``peak_over_narrower >= CLEAR``
    and ``peak_over_widest >= CLEAR``, differences of the printed errors: :func:`summarize`)."""
    return bool(s["threshold_width"] is not None and s["peak_over_narrower"] >= CLEAR
                and s["peak_over_widest"] >= CLEAR)


def _rise_words(s: dict) -> str:
    """How far the peak width's test error is above the best narrower width's (``rise = peak - narrower``)."""
    rise, spread, v = s["peak_over_narrower"], s["seed_spread"], s["best_narrower_width"]
    if v is None:
        return "no narrower width was trained"
    if rise >= CLEAR:
        return f"it is {points(rise)} above width {v}, the best narrower one"
    if rise <= 0:
        return (f"it is no higher than width {v}, the best narrower one "
                f"({relation(rise, 'it')})")
    small = (f"within the spread between seeds ({points(spread)})" if rise <= as_shown(spread)
             else f"less than the {points(CLEAR)} counted here as clear")
    return f"it is only {points(rise)} above width {v}, the best narrower one, {small}"


def _fall_words(s: dict, ref: str) -> str:
    """How far the widest width's test error is below the peak width's (``fall = peak - widest``), ``ref``
    naming the peak width."""
    fall, w = s["peak_over_widest"], s["widest_width"]
    if fall != fall:  # nan: the peak width is the widest
        return "No wider width was trained."
    fits = ", which fits its noisy training labels," if _widest_fits(s) else ""
    if fall >= CLEAR:
        return f"The widest model (width {w}){fits} is {points(fall)} better than {ref}."
    if fall > 0:
        return (f"The widest model (width {w}){fits} is only {points(fall)} better than {ref}: test error does "
                f"not clearly come back down.")
    if fall == 0:
        return f"The widest model (width {w}){fits} is level with {ref}: test error does not come back down."
    return f"The widest model (width {w}){fits} is {points(-fall)} worse than {ref}."


def _widest_fits(s: dict) -> bool:
    return s.get("widest_train_error", 1.0) <= s.get("interpolation_tol", INTERPOLATION_TOL)


def verdict(s: dict) -> str:
    """:func:`verdict_parts` as one paragraph, its head in bold."""
    head, body = verdict_parts(s)
    return f"**{head}** {body}"


def verdict_parts(s: dict) -> tuple[str, str]:
    """Short sentences, chosen by the numbers, saying whether this run shows double descent (C1): the head
    (one sentence, the answer) and the body (the numbers behind it).

    With ``rise = peak_over_narrower`` and ``fall = peak_over_widest``: no threshold when no width
    interpolates (``threshold_width is None``); else double descent when both are at least :data:`CLEAR`
    (:func:`clear_peak`); when only ``fall`` is, no clear peak but a fall past the threshold, one answer whether a
    rise smaller than the margin is above or below zero (a sign that seed noise can flip); the body then says
    whether test error plateaus near the threshold or, where the width of highest test error is where the search
    starts, does not rise there at all; no double descent otherwise.
    ``rise`` and ``fall`` are differences of the printed errors (:func:`summarize`), so the words agree with
    the numbers printed. The width of highest test error near the threshold is called "the peak" only for
    double descent.
    """
    p = s["peak_width"]
    if s["threshold_width"] is None:
        return ("This run does not reach the interpolation threshold.",
                f"No width fits its noisy training labels (mean train error at most "
                f"{s.get('interpolation_tol', INTERPOLATION_TOL):.0%}), so it cannot show double descent. From the best "
                f"narrower width on, test error is highest at width {p}. {_fall_words(s, f'width {p}')}")
    near = f"near the interpolation threshold (width {s['threshold_width']})"
    if clear_peak(s):
        return ("This run shows double descent.",
                f"Test error peaks at width {p}, {near}: {_rise_words(s)}. {_fall_words(s, 'the peak')}")
    rise = s["peak_over_narrower"]
    c1_holds = (" The part of claim C1 that matters for distillation holds: the widest model interpolates its noisy "
                "labels and has the lowest test error of the sweep." if s.get("best_width") == s["widest_width"] and _widest_fits(s) else "")
    # "but" only where the rise falls short of a peak; a clear rise is stated as such
    highest = (f"Near the interpolation threshold (width {s['threshold_width']}), the highest test error is at "
               f"width {p}{':' if rise >= CLEAR else ', but'} {_rise_words(s)}.")
    if s["peak_over_widest"] >= CLEAR:
        # no clear rise, a clear fall: one answer whatever the sign of a rise smaller than the margin
        head = "This run shows no clear peak; test error falls past the interpolation threshold."
        if p == s.get("window_start") and s["best_narrower_width"] is not None:
            # the highest width in the window is where it starts: test error does not rise near the threshold
            v = s["best_narrower_width"]
            narrower = (f"; width {v}, narrower still, is {points(-rise)} higher" if rise < 0
                        else f"; width {v}, narrower still, is level with it")
            return (head, f"Near the threshold (width {s['threshold_width']}), no width has a higher test error than "
                          f"width {p}, the best width narrower than the threshold, where the search starts{narrower}. "
                          f"{_fall_words(s, f'width {p}')}{c1_holds}")
        return (head, f"{highest} {_fall_words(s, f'width {p}')} Test error plateaus near the threshold instead of "
                      f"peaking.{c1_holds}")
    return "This run does not show double descent.", f"{highest} {_fall_words(s, f'width {p}')}"


def plot(frame: pd.DataFrame, summary: dict):
    """Test and train error against width (log axis), seeds as a band, the threshold marked."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    long = frame.melt(id_vars=["width", "seed"], value_vars=["test_error", "train_error"],
                      var_name="split", value_name="error")
    long["split"] = long["split"].map({"test_error": "test (clean labels)", "train_error": "train (noisy labels)"})
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    sns.lineplot(data=long, x="width", y="error", hue="split", marker="o", errorbar=("pi", 100), ax=ax)
    ax.set_xscale("log", base=2)
    book.label_log_axis(ax, frame["width"])
    ax.set_xlabel(f"model width ({frame.attrs.get('width_name', 'channels / hidden units')}, log scale)")
    ax.set_ylabel("error")
    book.percent_axis(ax)
    if summary["threshold_width"] is not None:
        ax.axvline(summary["threshold_width"], color="grey", ls="--", lw=1)
        ax.annotate("interpolation threshold", (summary["threshold_width"], ax.get_ylim()[1]),
                    xytext=(4, -14), textcoords="offset points", color="grey", fontsize=9)
    peak = ("peak" if summary.get("clear_peak") else "highest test error near the threshold"
            if summary["threshold_width"] is not None else "highest test error from the best narrower width on")
    ax.axvline(summary["peak_width"], color="C4", ls=":", lw=1.2, label=f"{peak} (width {summary['peak_width']})")
    # below the axes: inside, it covered the train curve around the threshold
    ax.legend(title=None, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small")
    ax.set_title("Model-wise double descent")
    fig.tight_layout()
    return fig


def seed_errors_words(frame: pd.DataFrame, width: int, before: str = "", after: str = "") -> str:
    """The test error of each seed at ``width``, between ``before`` and ``after`` (``"seeds 0, 1, 2: 58.1%,
    63.0%, 58.0%"``), so a reader sees whether a mean rests on one seed; ``""`` with a single seed."""
    if _one_seed(frame):
        return ""
    rows = frame[frame["width"] == width].sort_values("seed")
    return (f"{before}seeds {', '.join(str(int(v)) for v in rows['seed'])}: "
            f"{', '.join(f'{e:.1%}' for e in rows['test_error'])}{after}")


def _one_seed(frame: pd.DataFrame) -> bool:
    """Whether every width of the sweep has a single seed (then there is no spread between seeds)."""
    return "seed" in frame and bool(frame.groupby("width")["seed"].nunique().max() <= 1)


def width_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per width: its parameter count (the same for every seed) and the mean and standard
    deviation over seeds of the train and test error, in per cent with one decimal. With one seed per
    width there is no standard deviation: the columns are the errors themselves."""
    g = frame.groupby("width")
    one_seed = _one_seed(frame)
    table = pd.DataFrame({"parameters": g["params"].first().astype(int)})
    for col, name in (("train_error", "train error"), ("test_error", "test error")):
        table[f"{name} (%)" if one_seed else f"{name}, mean (%)"] = (100 * g[col].mean()).round(1)
        if not one_seed:
            table[f"{name}, std (%)"] = (100 * g[col].std()).round(1)
    table.index = table.index.astype(int)
    return table


def plot_noise(frames: dict[float, pd.DataFrame]):
    """Test error against width (log axis) for the sweeps at each label-noise rate (``{rate: frame}``), seeds
    as a band."""
    return plot_sweeps({f"{level:.0%} label noise": f for level, f in sorted(frames.items())},
                       "The same sweep at other label-noise rates")


def plot_redraws(base: pd.DataFrame, redraws: dict[int, pd.DataFrame], p: dict):
    """Test error against width for the chapter's draw of the data (``base``) and each other one (``{r: frame}``,
    ``data_seed = noise_seed = r``), seeds as a band."""
    curves = {f"the chapter's draw (data_seed {p['data_seed']}, noise_seed {p['noise_seed']})": base}
    curves.update({f"draw {r} (data_seed = noise_seed = {r})": f for r, f in sorted(redraws.items())})
    return plot_sweeps(curves, "The same sweep on another draw of the data")


def plot_epochs(base: pd.DataFrame, studies: dict[int, pd.DataFrame], p: dict):
    """Test and train error against width for the chapter's training length (``base``) and each of the study's
    (``{epochs: frame}``), seeds as a band: train error is drawn too, as longer training may change which widths fit
    their training labels."""
    curves = {f"{n:,} epochs": f for n, f in sorted({p["epochs"]: base, **studies}.items())}
    return plot_sweeps(curves, "The same sweep trained for longer", train=_labels(p["label_noise"]))


def plot_lr(base: pd.DataFrame, studies: dict[float, pd.DataFrame], p: dict):
    """Test and train error against width for the chapter's learning rate (``base``) and each of the study's
    (``{rate: frame}``), seeds as a band: train error is drawn too, as a rate may change which widths fit their
    training labels."""
    curves = {f"learning rate {lr:g}": f for lr, f in sorted({p["lr"]: base, **studies}.items())}
    return plot_sweeps(curves, "The same sweep at another learning rate", train=_labels(p["label_noise"]))


def plot_sweeps(frames: dict[str, pd.DataFrame], title: str, train: str | None = None):
    """Test error against width (log axis), one curve per sweep (``{label: frame}``, in order), seeds as a band
    (lowest to highest); with ``train`` (what the models were fitted to: "noisy labels"), each sweep's train error
    too, dashed in the same colour."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    long = pd.concat([f.assign(sweep=label) for label, f in frames.items()])
    y, style, ylabel = "test_error", None, "test error (clean labels)"
    if train:
        long = long.melt(id_vars=["width", "seed", "sweep"], value_vars=["test_error", "train_error"],
                         var_name="split", value_name="error")
        long["split"] = long["split"].map({"test_error": "test (clean labels)", "train_error": f"train ({train})"})
        y, style, ylabel = "error", "split", "error"
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    sns.lineplot(data=long, x="width", y=y, hue="sweep", style=style, marker="o", errorbar=("pi", 100), ax=ax)
    ax.set_xscale("log", base=2)
    book.label_log_axis(ax, long["width"])
    ax.set_xlabel("model width (log scale)")
    ax.set_ylabel(ylabel)
    book.percent_axis(ax)
    # with hue and style, seaborn heads each group with its column's name; the entries alone are the legend
    handles, labels = zip(*[(h, t) for h, t in zip(*ax.get_legend_handles_labels()) if t not in ("sweep", "split")])
    ax.legend(handles, labels, title=None, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=min(len(labels), 3 if not train else 2), fontsize="small")
    ax.set_title(title)
    fig.tight_layout()
    return fig
