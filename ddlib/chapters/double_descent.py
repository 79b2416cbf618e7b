"""Chapter "Model-wise double descent": the width sweep on noisy labels.

Nakkiran et al. (2019, *Deep Double Descent*, Sec. 4) and Belkin et al. (2019) show that with
label noise the test error, plotted against model size, rises to a peak near the
*interpolation threshold* (the smallest size whose training error reaches zero) and falls
again beyond it. This module turns the chapter's parameters into run configs, runs them
through the results store, and summarises the curve.
"""
from __future__ import annotations

import pandas as pd

from .. import book
from ..config import OPTIMIZERS, RunConfig, TrainConfig, check_model_for_dataset
from ..data import CIFAR_TEST_SIZE, CIFAR_TRAIN_SIZE, DATASETS, DataConfig
from ..devices import DEVICES, resolve_device
from ..models import MODELS
from ..presets import resolve
from ..runner import SweepOutcome, records_frame, run_configs
from ..validation import (ConfigError, in_unit_interval, non_empty_ints, non_negative_int, one_of, positive_float,
                          positive_int)

CHAPTER = "double-descent"

#: Train error (on the noisy labels) at or below which a model counts as interpolating.
INTERPOLATION_TOL = 0.01

_COMMON = dict(dataset="mnist1d", label_noise=0.2, lr=1e-3, optimizer="adam", device="auto", noise_seed=0,
               data_seed=0)
PRESETS = {
    # seconds on a laptop CPU: what the tests run
    "smoke": dict(_COMMON, model="mlp", widths=[4, 64], seeds=[0], n_train=200, n_test=500, epochs=20,
                  batch_size=50),
    # the book build on a 2-core CPU (a few minutes)
    "default": dict(_COMMON, model="cnn1d", widths=[2, 4, 8, 12, 16, 24, 32, 64], seeds=[0, 1, 2],
                    n_train=1000, n_test=10000, epochs=300, batch_size=128),
    # Nakkiran et al. 2019, Fig. 1: ResNet-18 widths 1..64 on CIFAR-10, 15% noise, Adam 1e-4, 4000 epochs
    "paper": dict(_COMMON, dataset="cifar10", model="resnet18", widths=list(range(1, 65)), seeds=[0],
                  n_train=50000, n_test=10000, label_noise=0.15, epochs=4000, lr=1e-4, batch_size=128),
}


def paper_setting() -> dict:
    """The ``paper`` preset's recipe, for prose that describes it (glued, never typed)."""
    p = PRESETS["paper"]
    return {"paper_model": p["model"], "paper_k_min": min(p["widths"]), "paper_k_max": max(p["widths"]),
            "paper_dataset": p["dataset"], "paper_label_noise": p["label_noise"], "paper_optimizer": p["optimizer"],
            "paper_lr": p["lr"], "paper_batch": p["batch_size"], "paper_epochs": p["epochs"]}


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
            "pass device='cpu' explicitly to run it on the CPU anyway")


def resolve_params(preset: str = "default", **overrides) -> dict:
    """The chapter's parameters: ``PRESETS[preset]`` with every non-``None`` override, validated."""
    return resolve(CHAPTER, PRESETS, preset, overrides, validate)


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


def run(p: dict, **kwargs) -> tuple[pd.DataFrame, SweepOutcome]:
    """Run (or reuse) the sweep; write ``results/double-descent/<preset>/results.csv``."""
    outcome = run_configs(sweep_configs(p), device=p["device"], **kwargs)
    frame = records_frame(outcome.records)[
        ["width", "params", "seed", "train_error", "test_error", "train_error_clean", "label_noise", "n_train", "hash"]]
    book.write_table(frame, CHAPTER, p["preset"])
    return frame, outcome


def summarize(frame: pd.DataFrame) -> dict:
    """Key numbers of the curve, from the means over seeds at each width.

    ``threshold_width``: the first width whose mean train error is at most
    :data:`INTERPOLATION_TOL` (the widest width if none interpolates). The peak is looked for
    near the threshold only, so a noisy narrow, under-fitting model cannot be taken for it:
    ``peak_width`` is the width of highest mean test error among the widths from the best
    model narrower than the threshold (the first descent's minimum) up to one grid step past
    the threshold.
    """
    m = frame.groupby("width")[["train_error", "test_error", "params"]].mean().sort_index()
    widths = list(m.index)
    interp = [w for w in widths if m.loc[w, "train_error"] <= INTERPOLATION_TOL]
    threshold = interp[0] if interp else widths[-1]
    below = [w for w in widths if w < threshold]
    start = int(m.loc[below, "test_error"].idxmin()) if below else threshold
    stop = widths[min(widths.index(threshold) + 1, len(widths) - 1)]
    peak_width = int(m.loc[[w for w in widths if start <= w <= stop], "test_error"].idxmax())
    narrower = m.loc[[w for w in widths if w < peak_width], "test_error"]
    wider = m.loc[[w for w in widths if w > peak_width], "test_error"]
    out = {
        "narrowest_width": int(widths[0]), "narrowest_test_error": float(m["test_error"].iloc[0]),
        "widest_width": int(widths[-1]), "widest_test_error": float(m["test_error"].iloc[-1]),
        "widest_train_error": float(m["train_error"].iloc[-1]),
        "best_width": int(m["test_error"].idxmin()), "best_test_error": float(m["test_error"].min()),
        "peak_width": peak_width, "peak_test_error": float(m.loc[peak_width, "test_error"]),
        "peak_params": int(m.loc[peak_width, "params"]),
        "threshold_width": int(interp[0]) if interp else None,
        "best_narrower_width": int(narrower.idxmin()) if len(narrower) else None,
        "best_narrower_test_error": float(narrower.min()) if len(narrower) else float("nan"),
    }
    out["peak_over_narrower"] = out["peak_test_error"] - out["best_narrower_test_error"]
    out["peak_over_widest"] = out["peak_test_error"] - out["widest_test_error"] if len(wider) else float("nan")
    out["peak_to_threshold_ratio"] = (peak_width / out["threshold_width"]) if interp else float("nan")
    out["seed_spread"] = float(frame.groupby("width")["test_error"].std().mean())
    out["interpolation_tol"] = INTERPOLATION_TOL
    out["peak_over_narrower_points"] = points(out["peak_over_narrower"])
    out["peak_over_widest_points"] = points(out["peak_over_widest"])
    out["seed_spread_points"] = points(out["seed_spread"])
    out["verdict"] = verdict(out)
    return out


#: A difference of mean test errors smaller than this (2 points) is not called a peak or a descent.
CLEAR = 0.02


def points(x: float) -> str:
    """A difference of two error rates in percentage points, e.g. ``"5.7 points"``."""
    return f"{100 * x:.1f} points"


def verdict(s: dict) -> str:
    """One sentence, chosen by the numbers, saying whether this run shows double descent (C1)."""
    rise, fall = s["peak_over_narrower"], s["peak_over_widest"]
    near = (f"width {s['peak_width']}, the highest test error near the interpolation threshold "
            f"(width {s['threshold_width']})" if s["threshold_width"] is not None else f"width {s['peak_width']}")
    narrower = f"the best narrower model (width {s['best_narrower_width']})"
    if rise >= CLEAR and fall >= CLEAR:
        return (f"**This run shows double descent:** test error rises {points(rise)} above {narrower} to a peak at "
                f"{near}, and the widest model (width {s['widest_width']}) is {points(fall)} below the peak.")
    if fall >= CLEAR:
        return (f"**This run shows the second descent but no clear peak:** the widest, interpolating model "
                f"(width {s['widest_width']}) is {points(fall)} better than {near}, but that model is only "
                f"{points(rise)} above {narrower}, within the spread between seeds ({points(s['seed_spread'])}). "
                f"Here test error plateaus near the threshold instead of peaking; the part of claim C1 that "
                f"matters for distillation (a very wide model that interpolates noisy labels generalises best) holds.")
    return (f"**This run does not show double descent:** {near} is {points(rise)} above {narrower} "
            f"and {points(fall)} above the widest model (seed spread {points(s['seed_spread'])}).")


def plot(frame: pd.DataFrame, summary: dict):
    """Test and train error against width (log axis), seeds as a band, the threshold marked."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    long = frame.melt(id_vars=["width", "seed"], value_vars=["test_error", "train_error"],
                      var_name="split", value_name="error")
    long["split"] = long["split"].map({"test_error": "test (clean labels)", "train_error": "train (noisy labels)"})
    fig, ax = plt.subplots()
    sns.lineplot(data=long, x="width", y="error", hue="split", marker="o", errorbar=("pi", 100), ax=ax)
    ax.set_xscale("log", base=2)
    ax.set_xlabel(f"model width ({frame.attrs.get('width_name', 'channels / hidden units')}, log scale)")
    ax.set_ylabel("error")
    if summary["threshold_width"] is not None:
        ax.axvline(summary["threshold_width"], color="grey", ls="--", lw=1)
        ax.annotate("interpolation threshold", (summary["threshold_width"], ax.get_ylim()[1]),
                    xytext=(4, -14), textcoords="offset points", color="grey", fontsize=9)
    ax.axvline(summary["peak_width"], color="C3", ls=":", lw=1)
    ax.legend(title=None)
    ax.set_title("Model-wise double descent")
    fig.tight_layout()
    return fig
