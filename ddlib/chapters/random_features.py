"""Chapter *Double descent and distillation in closed form* (``book/random-features.md``).

Three studies, all exact float64 linear algebra from :mod:`ddlib.random_features`, no training:

1. :func:`run_linear` - min-norm least squares on the first ``p`` of ``D`` isotropic Gaussian
   features, simulation against the exact risk of Belkin, Hsu & Xu (2020, Theorem 1);
2. :func:`run_ridge` - min-norm and ridge regression on ``N`` random ReLU features of MNIST-1D
   with one-hot targets, noisy and clean labels (Nakkiran, Venkat, Kakade & Ma 2021);
3. :func:`run_distillation` - a random-features teacher with ``N`` features fitted to the noisy
   labels, a student with ``M`` features fitted to the teacher's outputs (or its arg-max hard
   labels) on an unlabeled pool of size ``P``; :mod:`ddlib.chapters.student_peak` then locates the
   student's own peak for several ``M``.

Feature draws: study 2 (and the teachers of study 3) use ``default_rng([seed, N, repeat])`` for
width ``N``; the student uses the independent stream ``default_rng([seed, M, 1_000_003])``.
Data: one MNIST-1D draw with ``data_seed`` (first ``n_train`` samples train, next ``n_test``
test) and one draw with ``pool_seed`` for the pool (pool size ``P`` = its first ``P`` samples).
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import torch

from .. import mnist1d_data, presets
from ..paths import REPO_ROOT
from ..book import percent_axis, write_table
from ..noise import corrupt_labels
from ..random_features import (RandomReLUFeatures, belkin_hsu_xu_risk, block_metrics, classification_error,
                               fit_ridge_path, one_hot, onehot_mse, simulate_linear_risk)
from ..validation import (ConfigError, in_unit_interval, non_empty_ints, non_negative_float, non_negative_int,
                          positive_float, positive_int)
from ..prose import CLEAR, as_shown, join, plural, points, points_range, relation, shown_difference

CHAPTER = "random-features"
STUDENT_STREAM = 1_000_003
#: Standard deviation of the random features' biases (:class:`ddlib.random_features.RandomReLUFeatures`).
BIAS_STD = 0.5
#: Study 1 checks simulation against theory at the points with ``|p - n| >= FAR_FRACTION * n`` ...
FAR_FRACTION = 0.25
#: ... counting those within ``WITHIN_SE`` standard errors of the exact risk.
WITHIN_SE = 2
#: Study 3: the large-pool student "follows the teacher's curve" where its largest distance from the teacher's error,
#: over the teacher widths, is at most this share ("a quarter") of the spread of the teachers' own errors.
FOLLOW_SHARE = 0.25
#: ... and a pool with ``P >= FAR_POOL * M`` is "far from" the student's own threshold ``P = M``.
FAR_POOL = 2
#: Hard labels "tame the scale" where the soft-target student's MSE distilled from the peaked teacher is at least this
#: many times the hard-label student's.
TAME_FACTOR = 10

_COMMON = dict(seed=0, data_seed=0, pool_seed=1000, label_noise=0.2, lin_sigma=0.25,
               lin_beta_decays=[0.0, 1.0], student_ratio=1.0, peak_student_ratios=[0.5, 1.0, 2.0])

PRESETS = {
    "smoke": dict(_COMMON, lin_n=20, lin_d=80, lin_trials=40, lin_points=14,
                  n_train=100, n_test=500, rf_ratios=[0.2, 0.5, 0.9, 1.0, 1.1, 2.0, 5.0],
                  ridges=[1e-5, 1e-3], rf_repeats=1, teacher_ratios=[0.3, 1.0, 3.0],
                  pool_sizes=[100, 800], peak_student_ratios=[0.5, 2.0]),
    "default": dict(_COMMON, lin_n=40, lin_d=400, lin_trials=200, lin_points=26,
                    n_train=500, n_test=5000,
                    rf_ratios=[0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2,
                               1.35, 1.5, 2.0, 3.0, 5.0, 10.0],
                    ridges=[1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1], rf_repeats=1,
                    teacher_ratios=[0.1, 0.3, 0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 4.0, 10.0],
                    pool_sizes=[500, 1000, 2000, 8000]),
    "paper": dict(_COMMON, lin_n=40, lin_d=400, lin_trials=1000, lin_points=60,
                  n_train=1000, n_test=10000,
                  rf_ratios=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1.0,
                             1.02, 1.05, 1.1, 1.15, 1.2, 1.35, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0],
                  ridges=[1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1], rf_repeats=3,
                  teacher_ratios=[0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25,
                                  1.5, 2.0, 3.0, 5.0, 10.0],
                  pool_sizes=[1000, 2000, 4000, 16000]),
}


def prose_conventions() -> dict:
    """What the page says once of its words, glued: ``clear_points``, the margin (:data:`ddlib.prose.CLEAR`, in
    points) a difference of two error rates, as printed (:func:`ddlib.prose.shown_difference`), must reach to count
    as *clear*."""
    return {"clear_points": points(CLEAR)}


def _single_threaded(func):
    """Run ``func`` with one torch thread, then restore the previous setting.

    The matrices here are small (at most a few thousand on a side), and on a small shared CPU
    several BLAS threads fighting other processes were measured 3-4x *slower* than one thread.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return func(*args, **kwargs)
        finally:
            torch.set_num_threads(before)
    return wrapper


def _positive_floats(name: str, values) -> list[float]:
    if isinstance(values, (int, float, str)) or not hasattr(values, "__iter__"):
        raise ConfigError(f"{name} must be a non-empty list of numbers > 0; got {values!r}")
    values = list(values)
    if not values:
        raise ConfigError(f"{name} must be a non-empty list of numbers > 0; got an empty list")
    return [positive_float(f"each entry of {name}", v) for v in values]


def validate(params: dict) -> None:
    """Raise :class:`ddlib.ConfigError` naming the first parameter whose value is not allowed."""
    for name in ("seed", "data_seed", "pool_seed"):
        non_negative_int(name, params[name])
    if params["pool_seed"] == params["data_seed"]:  # one generator seed: the pool would repeat the train/test draw
        raise ConfigError(f"pool_seed must differ from data_seed (both {params['data_seed']}): MNIST-1D draws with "
                          f"one seed share their first samples, so the pool would hold training and test signals")
    for name in ("lin_n", "lin_d", "lin_points", "n_train", "n_test", "rf_repeats"):
        positive_int(name, params[name])
    if positive_int("lin_trials", params["lin_trials"]) < 2:
        raise ConfigError(f"lin_trials must be an integer >= 2 (for a standard error); got {params['lin_trials']!r}")
    if params["lin_d"] < 2 * params["lin_n"]:
        raise ConfigError(f"lin_d must be at least 2 * lin_n = {2 * params['lin_n']} so that both sides of "
                          f"p = lin_n are visible; got {params['lin_d']!r}")
    if params["lin_n"] < 8:
        raise ConfigError(f"lin_n must be >= 8; got {params['lin_n']!r}")
    if params["lin_points"] < 4:
        raise ConfigError(f"lin_points must be >= 4; got {params['lin_points']!r}")
    non_negative_float("lin_sigma", params["lin_sigma"])
    decays = params["lin_beta_decays"]
    if isinstance(decays, (int, float, str)) or not hasattr(decays, "__iter__") or not list(decays):
        raise ConfigError(f"lin_beta_decays must be a non-empty list of numbers >= 0; got {decays!r}")
    for d in decays:
        non_negative_float("each entry of lin_beta_decays", d)
    in_unit_interval("label_noise", params["label_noise"], closed_right=False)
    _positive_floats("rf_ratios", params["rf_ratios"])
    _positive_floats("ridges", params["ridges"])
    _positive_floats("teacher_ratios", params["teacher_ratios"])
    positive_float("student_ratio", params["student_ratio"])
    non_empty_ints("pool_sizes", params["pool_sizes"], positive=True)
    _positive_floats("peak_student_ratios", params["peak_student_ratios"])


def resolve_params(preset: str = "default", check_injected: bool = False, **overrides) -> dict:
    """The chapter's parameters: ``PRESETS[preset]`` with the non-``None`` ``overrides`` applied
    (``check_injected``: the chapter's own resolve cell; :func:`ddlib.presets.resolve`)."""
    return presets.resolve(CHAPTER, PRESETS, preset, overrides, validate, check_injected)


# --------------------------------------------------------------------------- study 1: linear


def linear_p_grid(n: int, d: int, points: int) -> np.ndarray:
    """Integer model sizes ``p`` in ``[1, d]``: log-spaced, denser near ``n``, skipping ``n±1, n``."""
    grid = np.unique(np.round(np.geomspace(1, d, points)).astype(int))
    near = n + np.array([-8, -6, -4, -3, -2, 2, 3, 4, 6, 8])
    grid = np.union1d(grid, near[(near >= 1) & (near <= d)])
    return grid[np.abs(grid - n) >= 2]


def linear_beta(d: int, decay: float) -> np.ndarray:
    """:math:`\\beta_j \\propto j^{-a}` (``a = decay``), scaled to :math:`\\|\\beta\\| = 1`."""
    beta = np.arange(1, d + 1, dtype=np.float64) ** (-float(decay))
    return beta / np.linalg.norm(beta)


@_single_threaded
def run_linear(params: dict) -> pd.DataFrame:
    """Study 1: simulated mean risk (with standard error) and the exact risk, per ``p`` and ``beta``."""
    n, d, sigma = params["lin_n"], params["lin_d"], params["lin_sigma"]
    rows = []
    for k, decay in enumerate(params["lin_beta_decays"]):
        beta = linear_beta(d, decay)
        for p in linear_p_grid(n, d, params["lin_points"]):
            risks = simulate_linear_risk(n, int(p), beta, sigma, params["lin_trials"],
                                         seed=params["seed"] * 1_000_003 + 1000 * k + int(p))
            rows.append(dict(study="linear", beta_decay=float(decay), p=int(p), p_over_n=p / n,
                             risk_mean=float(risks.mean()),
                             risk_se=float(risks.std(ddof=1) / np.sqrt(len(risks))),
                             risk_median=float(np.median(risks)),
                             theory=float(belkin_hsu_xu_risk(n, int(p), beta, sigma)[0]),
                             trials=params["lin_trials"]))
    return pd.DataFrame(rows)


def theory_curve(params: dict, decay: float) -> pd.DataFrame:
    """The exact risk at every integer ``p`` (``inf`` for ``|p - n| <= 1``), for plotting."""
    n, d = params["lin_n"], params["lin_d"]
    ps = np.arange(1, d + 1)
    return pd.DataFrame(dict(p=ps, p_over_n=ps / n,
                             theory=belkin_hsu_xu_risk(n, ps, linear_beta(d, decay), params["lin_sigma"])))


def linear_numbers(frame: pd.DataFrame, params: dict) -> dict:
    """Numbers the prose cites for study 1 (z-scores use points with ``|p - n| >= FAR_FRACTION * n``)."""
    n = params["lin_n"]
    far = frame[(frame.p - n).abs() >= FAR_FRACTION * n]
    z = (far.risk_mean - far.theory) / far.risk_se
    out = dict(lin_max_abs_z=float(z.abs().max()), lin_frac_within_2se=float((z.abs() <= WITHIN_SE).mean()),
               lin_points_far=int(len(far)), lin_far_min=FAR_FRACTION * n, lin_within_se=WITHIN_SE,
               lin_null_risk=1.0 + float(params["lin_sigma"]) ** 2)  # ||beta||^2 + sigma^2, with ||beta|| = 1
    for k, decay in enumerate(params["lin_beta_decays"]):
        sub = frame[frame.beta_decay == float(decay)]
        under, over = sub[sub.p < n], sub[sub.p > n]
        best_under = under.loc[under.theory.idxmin()]
        out.update({f"lin{k}_decay": float(decay),
                    f"lin{k}_best_under_p": int(best_under.p), f"lin{k}_best_under": float(best_under.theory),
                    f"lin{k}_at_d": float(sub[sub.p == sub.p.max()].theory.iloc[0]),
                    f"lin{k}_best_over": float(over.theory.min()),
                    f"lin{k}_best_over_p": int(over.loc[over.theory.idxmin()].p),
                    f"lin{k}_near_peak": float(sub[sub.p == n + 2].theory.iloc[0])})
        out[f"lin{k}_at_d_below_null"] = 1.0 - out[f"lin{k}_at_d"] / out["lin_null_risk"]
    return out


# --------------------------------------------------------------------------- MNIST-1D data


def load_mnist1d(params: dict) -> dict:
    """Train (noisy and clean labels), test and pool arrays for the random-features studies."""
    n, nt = params["n_train"], params["n_test"]
    x, y = mnist1d_data.generate(n + nt, params["data_seed"])
    y_noisy = corrupt_labels(y[:n], params["label_noise"], mnist1d_data.NUM_CLASSES, params["seed"])
    x_pool, _ = mnist1d_data.generate(max(params["pool_sizes"]), params["pool_seed"])
    return dict(x_train=x[:n], y_noisy=y_noisy, y_clean=y[:n], x_test=x[n:], y_test=y[n:],
                x_pool=x_pool, num_classes=mnist1d_data.NUM_CLASSES)


def widths(n: int, ratios) -> list[int]:
    """``N = round(ratio * n)`` for every ratio, at least 1, duplicates removed, in order."""
    return sorted({max(1, int(round(r * n))) for r in ratios})


def ratio(x: float) -> float:
    """A width ratio such as ``N / n`` as the prose prints it (``{:g}``): two decimals at most, so that
    0.95 reads "0.95" and 10.0 reads "10"."""
    return round(float(x), 2)


def ratio_text(x: float) -> str:
    return f"{ratio(x):g}"


def feature_setting(data: dict) -> dict:
    """The random features' setting as the prose cites it: input length ``d``, number of classes
    (and the error of guessing at chance), and the biases' standard deviation."""
    classes = int(data["num_classes"])
    return dict(rf_input_dim=int(data["x_train"].shape[1]), rf_classes=classes, chance_error=1 - 1 / classes,
                rf_bias_std=BIAS_STD)


# --------------------------------------------------------------------------- study 2: ridge


def library_ridge(lam: float, n: int) -> float:
    """The ``ridge`` argument of :func:`ddlib.random_features.fit_ridge_path` (and
    :func:`~ddlib.random_features.min_norm_solve`) that gives the chapter's ridge strength ``lam`` on ``n`` training
    samples: :math:`n\\lambda`.

    The chapter's :math:`\\lambda` (the ``ridges`` parameter, the :math:`\\lambda` its prose and figures print) is
    per training sample, :math:`\\hat\\theta_\\lambda = \\arg\\min_\\theta \\frac1n\\|X\\theta - Y\\|^2 +
    \\lambda\\|\\theta\\|^2`; the library minimises the plain sum :math:`\\|X\\theta - Y\\|^2 +
    \\mathrm{ridge}\\,\\|\\theta\\|^2`, the same minimiser for :math:`\\mathrm{ridge} = n\\lambda`.
    """
    return n * lam


@_single_threaded
def run_ridge(params: dict, data: dict) -> pd.DataFrame:
    """Study 2: test error and MSE of min-norm (``ridge = 0``) and ridge fits, per width ``N``.

    Ridge ``lam`` (the ``ridge`` column) is the chapter's per-sample :math:`\\lambda`, the objective
    :math:`\\frac1n\\|\\Phi\\theta - Y\\|^2 + \\lambda\\|\\theta\\|^2`, i.e. :func:`fit_ridge_path` with
    ``ridge`` = :math:`n\\lambda` (:func:`library_ridge`). Noisy and clean one-hot targets are solved
    together as 20 columns of one system.
    """
    n, c = params["n_train"], data["num_classes"]
    targets = torch.cat([one_hot(data["y_noisy"], c), one_hot(data["y_clean"], c)], 1)
    ridges = [0.0] + [float(r) for r in params["ridges"]]
    rows = []
    for width in widths(n, params["rf_ratios"]):
        for rep in range(params["rf_repeats"]):
            feats = RandomReLUFeatures(data["x_train"].shape[1], width, [params["seed"], width, rep], BIAS_STD)
            thetas = fit_ridge_path(feats(data["x_train"]), targets, [library_ridge(lam, n) for lam in ridges])
            err, mse = block_metrics(feats.predict(data["x_test"], torch.cat(thetas, 1)), data["y_test"], c)
            for i, lam in enumerate(ridges):
                for j, labels in enumerate(("noisy", "clean")):
                    rows.append(dict(study="ridge", labels=labels, N=width, N_over_n=width / n, ridge=lam,
                                     repeat=rep, test_error=err[2 * i + j], test_mse=mse[2 * i + j]))
    return pd.DataFrame(rows)


def with_best_ridge(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Add, per ``(labels, N)``, the rows of the ridge (``> 0``) with the lowest mean ``metric``.

    The ridge is tuned on the test set: an oracle, like the optimal ridge of Nakkiran et al.
    (2021), which minimises the population risk. The added rows have ``ridge = -1`` and
    ``ridge_label = "tuned"``.
    """
    mean = frame[frame.ridge > 0].groupby(["labels", "N", "ridge"], as_index=False)[metric].mean()
    best = mean.loc[mean.groupby(["labels", "N"])[metric].idxmin(), ["labels", "N", "ridge"]]
    tuned = frame.merge(best, on=["labels", "N", "ridge"]).assign(tuned_ridge=lambda f: f.ridge, ridge=-1.0)
    out = pd.concat([frame, tuned], ignore_index=True)
    out["ridge_label"] = out.ridge.map(lambda r: "tuned" if r < 0 else ("0 (min-norm)" if r == 0 else f"{r:g}"))
    return out


def _max_rise(values: np.ndarray, metric: str) -> float:
    """The largest rise from one width to the next of a curve (0 where it never rises): for test errors the
    difference of the printed values (:func:`ddlib.prose.shown_difference`), as the page says of every difference
    of error rates, so that "never rises by more than" the printed bound holds of the numbers as printed."""
    if metric == "test_error":
        rises = [shown_difference(b, a) for a, b in zip(values[:-1], values[1:])]
    else:
        rises = list(np.diff(values))
    return float(max([0.0, *rises]))


def ridge_numbers(frame: pd.DataFrame, params: dict) -> dict:
    """Numbers the prose cites for study 2 (means over repeats; ``tuned`` = oracle ridge per metric; the tuned
    error's largest rise between neighbouring widths is a difference of the printed errors, :func:`_max_rise`)."""
    n = params["n_train"]
    out = dict(widest_ratio=ratio(frame.N.max() / n), smallest_ratio=ratio(frame.N.min() / n),
               draws_per_width=plural(params["rf_repeats"], "feature draw"))
    out.update(ridge_lo=float(min(params["ridges"])), ridge_hi=float(max(params["ridges"])),
               num_ridges=len(params["ridges"]))
    for metric, short in (("test_error", "err"), ("test_mse", "mse")):
        mean = with_best_ridge(frame, metric).groupby(["labels", "ridge", "N"], as_index=False)[metric].mean()
        for labels in ("noisy", "clean"):
            sub = mean[mean.labels == labels]
            mn = sub[sub.ridge == 0].sort_values("N")
            tuned = sub[sub.ridge == -1].sort_values("N")
            peak = mn.loc[mn[metric].idxmax()]
            out.update({f"{labels}_peak_{short}": float(peak[metric]),
                        f"{labels}_peak_{short}_ratio": ratio(peak.N / n),
                        f"{labels}_widest_{short}": float(mn[metric].iloc[-1]),
                        f"{labels}_smallest_{short}": float(mn[metric].iloc[0]),
                        f"{labels}_min_{short}": float(mn[metric].min()),
                        f"{labels}_tuned_max_{short}": float(tuned[metric].max()),
                        f"{labels}_tuned_at_peak_{short}": float(tuned[tuned.N == peak.N][metric].iloc[0]),
                        f"{labels}_tuned_widest_{short}": float(tuned[metric].iloc[-1]),
                        f"{labels}_tuned_min_{short}": float(tuned[metric].min()),
                        f"{labels}_tuned_argmin_{short}_ratio":
                            ratio(tuned.N.iloc[int(np.argmin(tuned[metric].to_numpy()))] / n),
                        f"{labels}_tuned_max_rise_{short}": _max_rise(tuned[metric].to_numpy(), metric)})
            if metric == "test_error":
                e = out[f"{labels}_tuned_at_peak_err"]
                out[f"{labels}_err_se"] = float(np.sqrt(e * (1 - e) / params["n_test"]))
            for name, lam in (("lo", min(params["ridges"])), ("hi", max(params["ridges"]))):
                out[f"{labels}_ridge_{name}_max_{short}"] = float(sub[sub.ridge == float(lam)][metric].max())
    out["tuned_edge_note"] = tuned_edge_note(frame, params)
    out.update(ridge_words(out))
    out["noisy_tuned_max_rise_err_points"] = points(out["noisy_tuned_max_rise_err"])
    out["noisy_err_se_points"] = points(out["noisy_err_se"])
    out["noise_effect_sentence"] = noise_effect_sentence(frame, params)
    return out


def ridge_words(out: dict) -> dict:
    """Study 2's bullet heads and claims, chosen by its numbers (:func:`ridge_numbers`; differences of errors as
    printed, :func:`ddlib.prose.shown_difference`):

    * clean labels "peak too" where the clean min-norm error at its peak is at least :data:`CLEAR` above both
      the narrowest and the widest model's; else they "barely peak" and the peak needs the noise;
    * "the second descent is slower for the MSE" where the widest min-norm error is at least :data:`CLEAR`
      below the narrowest's while its MSE is still above the narrowest's; else both are simply stated;
    * ridge "shrinks the peak" where the strongest ridge's largest MSE is below the min-norm peak, and a tuned
      ridge "removes it" (an essentially monotone curve) where its error never rises by :data:`CLEAR` or more
      from one width to the next.
    """
    words = {}
    clean_rise = shown_difference(out["clean_peak_err"], max(out["clean_smallest_err"], out["clean_widest_err"]))
    words.update(clean_peak_head="**Clean labels peak too**" if clean_rise >= CLEAR else "**Clean labels barely peak**",
                 clean_peak_tail=("Label noise is not needed for the peak." if clean_rise >= CLEAR else
                                  f"Without label noise the peak is less than {points(CLEAR)} above both ends."))
    fell = shown_difference(out["noisy_smallest_err"], out["noisy_widest_err"])
    mse_above = out["noisy_widest_mse"] > out["noisy_smallest_mse"]
    than = relation(-fell, "the narrowest model's")
    said = (f"the min-norm error ({out['noisy_widest_err']:.1%}) is {than}, "
            f"and the min-norm MSE ({out['noisy_widest_mse']:.3f}) is {'still above' if mse_above else 'below'} "
            f"the narrowest model's ({out['noisy_smallest_mse']:.3f})")
    words["mse_bullet"] = (f"**The second descent is slower for the MSE than for the error.** At the widest width {said}."
                           if fell >= CLEAR and mse_above else f"**At the widest width** {said}.")
    shrinks = out["noisy_ridge_hi_max_mse"] < out["noisy_peak_mse"]
    monotone = out["noisy_tuned_max_rise_err"] < CLEAR - 1e-12
    words["ridge_head"] = ("**Ridge shrinks the peak, and a tuned ridge removes it.**" if shrinks and monotone else
                           "**Ridge shrinks the peak; a tuned ridge does not remove it.**" if shrinks else
                           "**Ridge does not shrink the peak here.**")
    words["tuned_shape"] = ("The tuned ridge gives an essentially monotone curve:" if monotone else
                            "The tuned ridge still rises somewhere:")
    words["tuned_holds"] = ("here it holds on MNIST-1D features too." if monotone else
                            "here, on MNIST-1D features, it does not hold at every width.")
    return words


def tuned_edge_note(frame: pd.DataFrame, params: dict) -> str:
    """Where the oracle ridge (:func:`with_best_ridge`) is the strongest one tried, the tuned curve is the best
    of the grid, not an optimum: how often that happens, per metric, over the ``(labels, N)`` cells; ``""``
    where it never does."""
    top, said = max(float(r) for r in params["ridges"]), []
    for metric, name in (("test_error", "error"), ("test_mse", "MSE")):
        tuned = with_best_ridge(frame, metric)
        picks = tuned[tuned.ridge < 0].drop_duplicates(["labels", "N"])
        at_top = int((picks.tuned_ridge == top).sum())
        if at_top:
            said.append(f"for the {name} at {at_top} of the {len(picks)} (labels, width) cases")
    if not said:
        return ""
    return (f" The tuned ridge is the strongest tried ($\\lambda$ = {top:g}) {' and '.join(said)}: there the "
            f"tuned curve is the best of the ridges tried, not necessarily the best ridge.")


def _ratios_words(ratios: list[str], consecutive: bool) -> str:
    """``["0.95", "1", "1.05"]`` as "0.95 to 1.05" when they are consecutive widths of the grid, else listed."""
    return f"{ratios[0]} to {ratios[-1]}" if consecutive and len(ratios) > 2 else join(ratios)


#: Both errors at the peak are "near the chance level" when each is within this (5 points, either side) of
#: ``1 - 1/classes``.
NEAR_CHANCE = 0.05


def _by_range(lo: float, hi: float) -> str:
    """``"by 2.6 to 7.7 points"``, or ``"by 10.0 points"`` where the two print the same."""
    return f"by {points_range(lo, hi)}"


def noise_effect_sentence(frame: pd.DataFrame, params: dict) -> str:
    """Where label noise raises the min-norm test error: ``diff(N) = error_noisy(N) - error_clean(N)``
    (means over repeats, as printed: the difference of the two errors printed with one decimal in per
    cent, :func:`ddlib.prose.shown_difference`), "raised" where ``diff >= CLEAR``
    (2 points, said in the sentence); the widths where it is not are named with how far the two differ
    there (or that they do not differ, as printed), and "around the peak" is said only if they are
    consecutive widths and the noisy curve's peak is among them. "Near chance" means within
    :data:`NEAR_CHANCE` (5 points) of ``1 - 1/classes``, above or below. MyST markdown (``$N/n$``): cite
    it with ``{glue:md}`...:myst```."""
    n = params["n_train"]
    mn = frame[frame.ridge == 0].groupby(["N", "labels"]).test_error.mean().unstack().sort_index()
    diff = pd.Series([shown_difference(a, b) for a, b in zip(mn["noisy"], mn["clean"])], index=mn.index)
    raised = diff[diff >= CLEAR]
    widest = (f"at the widest width, {mn['noisy'].iloc[-1]:.1%} with noisy labels against "
              f"{mn['clean'].iloc[-1]:.1%} with clean ones")
    if len(raised) == len(diff):
        return (f"Label noise raises the min-norm error by {points(CLEAR)} or more at every width "
                f"({_by_range(diff.min(), diff.max())}; {widest}).")
    rest = diff[diff < CLEAR]
    if not len(raised):
        if (rest == 0).all():
            return ("Label noise does not change the min-norm error at any width: the noisy-label and clean-label "
                    "errors print the same at every width.")
        if (rest >= 0).all():
            return (f"Label noise raises the min-norm error by less than {points(CLEAR)} at every width (by at most "
                    f"{points(rest.max())}).")
        if (rest <= 0).all():
            return (f"Label noise lowers the min-norm error{'' if (rest < 0).all() else ' or leaves it unchanged'} at "
                    f"every width, by at most {points(-rest.min())}.")
        return (f"Label noise changes the min-norm error by less than {points(CLEAR)} at every width, up or down "
                f"(by at most {points(rest.abs().max())}).")
    positions = [list(diff.index).index(N) for N in rest.index]
    consecutive = positions == list(range(positions[0], positions[0] + len(positions)))
    where = f"$N/n$ = {_ratios_words([ratio_text(N / n) for N in rest.index], consecutive)}"
    peak_n = int(mn["noisy"].idxmax())
    at_peak = peak_n in rest.index
    where = f"around the peak, at {where}" if at_peak and consecutive else f"at {where}"
    if (rest == 0).all():
        change = f"{where} it does not change the error (the two print the same)"
    elif (rest >= 0).all():
        change = f"by less than that {where}: at most {points(rest.max())}"
    elif (rest <= 0).all():
        change = (f"{where} it lowers the error instead{'' if (rest < 0).all() else ' or leaves it unchanged'}, by at "
                  f"most {points(-rest.min())}")
    else:
        change = f"{where} it changes the error by less than that, up or down: at most {points(rest.abs().max())}"
    text = (f"Label noise raises the min-norm error by {points(CLEAR)} or more at {len(raised)} of the {len(diff)} "
            f"widths ({_by_range(raised.min(), raised.max())}; {widest}); {change}")
    if at_peak:
        chance = 1 - 1 / mnist1d_data.NUM_CLASSES
        off = max(abs(shown_difference(mn[labels][peak_n], chance)) for labels in ("noisy", "clean"))
        near = f", both near the chance level of {chance:.0%}" if off <= NEAR_CHANCE else ""
        text += (f" (at the peak, $N/n$ = {ratio_text(peak_n / n)}, {mn['noisy'][peak_n]:.1%} with noisy labels and "
                 f"{mn['clean'][peak_n]:.1%} with clean ones{near})")
    return text + "."


# --------------------------------------------------------------------------- study 3: distillation


def fit_teacher(params: dict, data: dict, width: int):
    """Study 3's teacher of ``width`` features (the draw of :func:`run_ridge`, repeat 0), fitted min-norm to the noisy
    one-hot labels: ``(features, weights)``."""
    feats = RandomReLUFeatures(data["x_train"].shape[1], width, [params["seed"], width, 0], BIAS_STD)
    (theta,) = fit_ridge_path(feats(data["x_train"]), one_hot(data["y_noisy"], data["num_classes"]), [0.0])
    return feats, theta


def student_features(params: dict, data: dict, m: int) -> RandomReLUFeatures:
    """The student's own draw of ``m`` features (the stream :data:`STUDENT_STREAM`, independent of the teachers')."""
    return RandomReLUFeatures(data["x_train"].shape[1], m, [params["seed"], m, STUDENT_STREAM], BIAS_STD)


@_single_threaded
def run_distillation(params: dict, data: dict) -> pd.DataFrame:
    """Study 3: teachers of width ``N`` on the noisy labels, a width-``M`` student distilled on pools.

    For each teacher width ``N`` (features as in :func:`run_ridge`, repeat 0) the min-norm teacher
    is fitted to the noisy one-hot labels. Its outputs on the pool are the *soft* targets, the
    one-hot of their arg-max the *hard* targets. The student (its own feature draw, width
    ``M = round(student_ratio * n)``) is fitted min-norm to the first ``P`` pool points for each
    ``P`` in ``pool_sizes``; all teachers' targets are columns of one solve per ``P``. The
    reference ``student-labels`` is the same student fitted min-norm to the noisy labeled set, and
    ``student-labels-tuned`` the same with the ridge of ``ridges`` of lowest test error (an oracle, as in
    :func:`with_best_ridge`; its ``ridge`` column says which, the chapter's per-sample :math:`\\lambda`, fitted with
    :func:`library_ridge`).
    """
    n, c = params["n_train"], data["num_classes"]
    x_pool = data["x_pool"][:max(params["pool_sizes"])]
    teacher_widths = widths(n, params["teacher_ratios"])
    rows, targets = [], []
    y_noisy = one_hot(data["y_noisy"], c)
    for width in teacher_widths:
        feats, theta = fit_teacher(params, data, width)
        test_out = feats.predict(data["x_test"], theta)
        rows.append(dict(study="distillation", role="teacher", N=width, N_over_n=width / n,
                         test_error=classification_error(test_out, data["y_test"]),
                         test_mse=onehot_mse(test_out, data["y_test"])))
        soft = feats.predict(x_pool, theta)
        targets += [soft, one_hot(soft.argmax(1).numpy(), c)]
    targets = torch.cat(targets, 1)  # columns: teacher k soft, teacher k hard, ...

    (m,) = widths(n, [params["student_ratio"]])
    student = student_features(params, data, m)
    phi_pool = student(x_pool)
    lams = [0.0] + [float(r) for r in params["ridges"]]
    fits = fit_ridge_path(student(data["x_train"]), y_noisy, [library_ridge(lam, n) for lam in lams])
    labs = [dict(test_error=classification_error(out, data["y_test"]), test_mse=onehot_mse(out, data["y_test"]),
                 ridge=lam) for lam, out in zip(lams, (student.predict(data["x_test"], t) for t in fits))]
    tuned = min(labs[1:], key=lambda r: r["test_error"]) if len(labs) > 1 else labs[0]
    for width in teacher_widths:
        rows.append(dict(study="distillation", role="student-labels", N=width, N_over_n=width / n, M=m, **labs[0]))
        rows.append(dict(study="distillation", role="student-labels-tuned", N=width, N_over_n=width / n, M=m, **tuned))
    for pool in sorted(params["pool_sizes"]):
        (theta,) = fit_ridge_path(phi_pool[:pool], targets[:pool], [0.0])
        err, mse = block_metrics(student.predict(data["x_test"], theta), data["y_test"], c)
        for k, width in enumerate(teacher_widths):
            for j, kind in enumerate(("soft", "hard")):
                rows.append(dict(study="distillation", role=f"student-{kind}", N=width, N_over_n=width / n, M=m,
                                 pool_size=pool, test_error=err[2 * k + j], test_mse=mse[2 * k + j]))
    return pd.DataFrame(rows)


def distillation_numbers(frame: pd.DataFrame, params: dict) -> dict:
    """Numbers the prose cites for study 3 (``small``/``large`` = smallest/largest pool).

    Per teacher width, the student's error minus the teacher's is taken as printed
    (:func:`ddlib.prose.shown_difference`): its largest absolute value over the widths (``*_max_abs_gap``, with the
    widths ``N/n`` where it occurs, ``*_max_abs_gap_at``) and the widths where it is negative (``*_beats_teacher``)
    therefore agree with any single width's difference said elsewhere, such as the widest teacher's
    (:func:`widest_gap_sentence`). ``*_mean_gap`` is the mean of the unrounded differences.
    """
    n = params["n_train"]
    teacher = frame[frame.role == "teacher"].set_index("N").sort_index()
    peak_n = int(teacher.test_mse.idxmax())
    widest = int(teacher.index.max())
    labels_ref = frame[frame.role == "student-labels"].iloc[0]
    out = dict(teacher_peak_ratio=ratio(peak_n / n), teacher_peak_err=float(teacher.test_error[peak_n]),
               teacher_peak_mse=float(teacher.test_mse[peak_n]), teacher_widest_err=float(teacher.test_error[widest]),
               teacher_best_err=float(teacher.test_error.min()),
               teacher_best_ratio=ratio(teacher.test_error.idxmin() / n),
               n_train=int(n), student_m=int(labels_ref.M), student_labels_err=float(labels_ref.test_error),
               student_labels_mse=float(labels_ref.test_mse), widest_teacher_ratio=ratio(widest / n))
    tuned_ref = frame[frame.role == "student-labels-tuned"]
    if len(tuned_ref):
        out.update(student_labels_tuned_err=float(tuned_ref.test_error.iloc[0]),
                   student_labels_tuned_ridge=float(tuned_ref.ridge.iloc[0]))
    pools = sorted(params["pool_sizes"])
    for name, pool in (("small", pools[0]), ("large", pools[-1])):
        out[f"pool_{name}"] = int(pool)
        out[f"pool_{name}_over_m"] = pool / int(labels_ref.M)
        for kind in ("soft", "hard"):
            s = frame[(frame.role == f"student-{kind}") & (frame.pool_size == pool)].set_index("N").sort_index()
            gap = s.test_error - teacher.test_error[s.index]
            shown = pd.Series([shown_difference(a, b) for a, b in zip(s.test_error, teacher.test_error[s.index])],
                              index=s.index)  # student minus teacher, as printed
            largest = float(shown.abs().max())
            where = join(ratio_text(N / n) for N in shown.index[shown.abs() == largest])
            out.update({f"{kind}_{name}_at_peak_err": float(s.test_error[peak_n]),
                        f"{kind}_{name}_at_peak_mse": float(s.test_mse[peak_n]),
                        f"{kind}_{name}_widest_err": float(s.test_error[widest]),
                        f"{kind}_{name}_min_err": float(s.test_error.min()),
                        f"{kind}_{name}_max_err": float(s.test_error.max()),
                        f"{kind}_{name}_mean_gap": float(gap.mean()),
                        f"{kind}_{name}_max_abs_gap": largest, f"{kind}_{name}_max_abs_gap_at": where,
                        f"{kind}_{name}_beats_teacher": int((shown < 0).sum())})
    out["num_teachers"] = int(len(teacher))
    level = float(teacher.test_error.mean())  # a binomial standard error at the teachers' mean error
    out["test_err_se_points"] = points(float(np.sqrt(level * (1 - level) / params["n_test"])))
    m = out["student_m"]
    out["student_labels_head"] = ("**The student fitted to the labels is at its own peak** ($M = n$)" if m == n else
                                  f"**The student fitted to the labels** ($M/n$ = {ratio_text(m / n)})")
    out["teacher_err_spread"] = shown_difference(teacher.test_error.max(), teacher.test_error.min())
    out["teacher_err_spread_points"] = points(out["teacher_err_spread"])
    out.update(small_pool_words(out, out["teacher_err_spread"]))
    for kind in ("soft", "hard"):
        for name in ("small", "large"):
            gap = out[f"{kind}_{name}_mean_gap"]
            out[f"{kind}_{name}_mean_gap_words"] = f"{points(abs(gap))} {'worse' if as_shown(gap) >= 0 else 'better'}"
            out[f"{kind}_{name}_mean_gap_vs_teacher"] = relation(gap, "the teacher's")
            out[f"{kind}_{name}_max_abs_gap_points"] = points(out[f"{kind}_{name}_max_abs_gap"])
    for words in (large_pool_words, hard_label_words, improvement_words, peak_teacher_words):
        out.update(words(out))
    out["tuned_labels_sentence"] = tuned_labels_sentence(out)
    out["widest_gap_sentence"] = widest_gap_sentence(out)
    return out


def tuned_labels_sentence(out: dict) -> str:
    """The same student fitted to the labeled set with its best ridge (an oracle on the test set) against the
    widest teacher's large-pool hard-label student (errors as printed): the min-norm labeled student sits at its
    own peak where ``M = n``, so it is the weakest baseline; this one is the strongest a labeled-set fit of
    these features can be. ``""`` without a ridge grid."""
    if "student_labels_tuned_err" not in out:
        return ""
    tuned, hard = out["student_labels_tuned_err"], out["hard_large_widest_err"]
    diff = shown_difference(hard, tuned)
    verdict = (f"the hard-label student beats it by {points(-diff)}" if diff <= -CLEAR else
               f"{points(abs(diff))} {'better' if diff > 0 else 'worse'} than the hard-label student, less than the "
               f"{points(CLEAR)} counted as clear" if diff != 0 else "level with the hard-label student")
    return (f" With a ridge penalty tuned on the test set (an oracle; $\\lambda$ = {out['student_labels_tuned_ridge']:g}"
            f" of those in Section 2), the same student fitted to the labeled set gets {tuned:.1%}: {verdict}. So "
            f"against the labeled set the distilled student's gain is over the unregularised fit at its own peak; a "
            f"tuned ridge {'keeps' if diff <= -CLEAR else 'removes'} {'part of it' if diff <= -CLEAR else 'it'}.")


def widest_gap_sentence(out: dict) -> str:
    """The paper's regime, the widest teacher, on its own: how far the large-pool students are from it (as
    printed), beside the standard error of one test error, which a difference of two errors on the same test
    points does not exceed by much."""
    gaps = {k: shown_difference(out[f"{k}_large_widest_err"], out["teacher_widest_err"]) for k in KINDS}
    words = [f"the {'soft-target' if k == 'soft' else 'hard-label'} student is {relation(g, 'it')}"
             for k, g in gaps.items()]
    return (f"From the widest teacher ({out['teacher_widest_err']:.1%}), the paper's regime, "
            f"{' and '.join(words)} (one test error's standard error is about {out['test_err_se_points']}).")


#: The point study 3's small pool adds to the paper's story, whose student escapes because its pool is large.
_LARGE_AGAINST_M = ("what makes a pool large is, by the algebra, its size against the student's $M$ features, not the "
                    "labeled set's:")
#: Said where the student has as many features as labeled points, so the run cannot separate P/M from P/n.
_M_IS_N = (" With $M = n$ here, this run alone does not tell $P/M$ from $P/n$; students of other widths, below, "
           "do.")


def small_pool_words(out: dict, teacher_range: float) -> dict:
    """What the smallest pool does for the student, in words chosen by the numbers of
    :func:`distillation_numbers` (``out``), against the same student fitted to the labeled set.

    Over every teacher and both kinds of target, ``gain`` is how much better than that student the best
    small-pool student is, ``loss`` how much worse the worst one is (differences of the printed errors,
    :func:`ddlib.prose.shown_difference`). The pool "helps" where ``gain >= CLEAR``;
    where it does not, distillation is "as bad as training on the labels" where also ``loss < CLEAR``.
    ``teacher_range`` is the spread of the teachers' own errors (highest minus lowest, as printed); "the
    student's own peak dominates" is said only where the small-pool students' errors span at least
    :data:`CLEAR` less than that.
    """
    m, pool, lab = out["student_m"], out["pool_small"], out["student_labels_err"]
    best = min(out["soft_small_min_err"], out["hard_small_min_err"])
    worst = max(out["soft_small_max_err"], out["hard_small_max_err"])
    gain, loss = shown_difference(lab, best), shown_difference(worst, lab)
    helps, as_bad = gain >= CLEAR, gain < CLEAR and loss < CLEAR
    pool_words = "a pool of the student's own size" if pool == m else "the smallest pool"
    fit = ("the student is again square and interpolates the teacher's outputs, whatever they are" if pool == m else
           "the student has more features than pool points and interpolates the teacher's outputs, whatever they are"
           if pool < m else "the student has fewer features than pool points and cannot interpolate them")
    labels = f"the same student fitted to the labels ({lab:.1%})"
    span = shown_difference(worst, best)  # of the small-pool students, over teachers and kinds of target
    if helps:
        tail = f"With the best teacher it is {points(gain)} better than {labels}."
        second = (f"a pool need not be far larger than the student here: even with {pool_words} ($P/M$ = "
                  f"{ratio_text(pool / m)}), distillation beats training the same student on the labels with some "
                  f"teachers (by up to {points(gain)}, above).")
    elif as_bad:
        tail = (f"Whatever the teacher, with soft or hard targets, it stays within {points(max(-gain, loss, 0.0))} of "
                f"{labels}")
        tail += (f"; its error spans {points(span)} across teachers whose own errors span {points(teacher_range)}: "
                 f"the student's own peak dominates and little of the teacher shows through."
                 if teacher_range - span >= CLEAR else
                 f", and its error spans {points(span)} across the teachers, whose own errors span "
                 f"{points(teacher_range)}.")
        second = (f"{_LARGE_AGAINST_M} the student's own peak is at $P = M$ whatever the teacher's $N$, which is why "
                  f"{pool_words} ($P/M$ = {ratio_text(pool / m)}) leaves distillation as bad as training on the "
                  f"labels, whatever the teacher (above).{_M_IS_N if m == out['n_train'] else ''}")
    else:
        tail = (f"With no teacher is it better than {labels} by {points(CLEAR)} or more, and with some it is "
                f"{points(loss)} worse.")
        second = (f"{_LARGE_AGAINST_M} with {pool_words} ($P/M$ = {ratio_text(pool / m)}), distillation does no "
                  f"better than training on the labels with any teacher (up to {points(loss)} worse, above)."
                  f"{_M_IS_N if m == out['n_train'] else ''}")
    head = f"{pool_words[0].upper()}{pool_words[1:]} {'helps with some teachers' if helps else 'does not help'}"
    return dict(small_pool_head=f"**{head}.**", small_pool_fit=fit, small_pool_tail=tail,
                small_pool_second=second, pool_small_over_m_text=ratio_text(pool / m),
                pool_large_over_m_text=ratio_text(out["pool_large"] / m))


KINDS = ("soft", "hard")
_ONLY = {("soft",): "with soft targets, not with hard labels", ("hard",): "with hard labels, not with soft targets"}


def following(out: dict) -> tuple[dict, tuple, bool]:
    """How the largest pool's students follow the teachers' curve (numbers of :func:`distillation_numbers`):
    ``(gaps, follows, inherits)``. ``gaps[kind]`` is that kind's largest distance from the teacher's error over the
    teacher widths, as printed; the kinds in ``follows`` are those with ``gaps[kind] <= FOLLOW_SHARE *
    teacher_err_spread``; ``inherits`` is true where both kinds follow and the teacher's error at its peak, and each
    kind's error distilled from that teacher, are at least :data:`CLEAR` above the widest teacher's and the error
    distilled from it (:func:`ddlib.prose.shown_difference`)."""
    gaps = {k: as_shown(out[f"{k}_large_max_abs_gap"]) for k in KINDS}
    follows = tuple(k for k in KINDS if gaps[k] <= FOLLOW_SHARE * out["teacher_err_spread"])
    drops = [shown_difference(out["teacher_peak_err"], out["teacher_widest_err"])]
    drops += [shown_difference(out[f"{k}_large_at_peak_err"], out[f"{k}_large_widest_err"]) for k in KINDS]
    return gaps, follows, follows == KINDS and min(drops) >= CLEAR


def large_pool_words(out: dict) -> dict:
    """The large-pool bullet of study 3 in words chosen by the numbers of :func:`distillation_numbers`.

    A kind of target (soft, hard) "follows the teacher's curve" where its ``max_abs_gap`` (as printed) is at most
    :data:`FOLLOW_SHARE` of ``teacher_err_spread`` (highest minus lowest teacher error, as printed). The student
    "inherits the teacher's double descent" where both kinds follow, the teacher's error at its peak is at least
    :data:`CLEAR` above the widest teacher's, and so is each kind's error distilled from those two teachers
    (:func:`ddlib.prose.shown_difference`). "A large pool removes the student's peak" is said only
    where ``P > M`` and some kind follows; ``large_pool_fit`` says which side of ``P = M`` the pool is on
    (``P >= FAR_POOL * M``: far from it).
    """
    m, pool, spread = out["student_m"], out["pool_large"], out["teacher_err_spread"]  # the spread as printed
    gaps, follows, inherits = following(out)
    shares = " (" + " and ".join(f"{gaps[k] / spread:.0%}" for k in KINDS) + " of it)" if spread > 0 else ""
    if follows == KINDS:
        what = ("the student inherits the teacher's double descent" if inherits else
                "the student follows the teacher's curve")
        verdict = f"both are within a quarter of that spread{shares}: the student follows the teacher's curve"
    elif follows:
        what = f"the student follows the teacher's curve {_ONLY[follows]}"
        verdict = (f"only the {'soft-target' if follows == ('soft',) else 'hard-label'} student's is within a quarter "
                   f"of that spread{shares}, so only it follows the teacher's curve")
    else:
        what = "the student does not follow the teacher's curve"
        verdict = f"neither is within a quarter of that spread{shares}: {what}"
    if pool > m:
        where = ("A large pool removes the student's peak" if follows else
                 "A large pool takes the student off its own threshold")
    else:
        where = "Even the largest pool leaves the student interpolating the teacher's outputs"
    joiner = " and " if bool(follows) == (pool > m) else ", but "
    fit = ("the student has fewer features than pool points and is far from its own threshold $P = M$"
           if pool >= FAR_POOL * m else
           "the student has fewer features than pool points but is still near its own threshold $P = M$"
           if pool > m else "the student is square and interpolates the teacher's outputs, whatever they are"
           if pool == m else "the student has more features than pool points and interpolates the teacher's outputs")
    return dict(large_pool_head=f"**{where}{joiner}{what}.**", large_pool_fit=fit, large_pool_follow=verdict)


def hard_label_words(out: dict) -> dict:
    """What hard labels change when distilling from the peaked teacher, with the largest pool (numbers of
    :func:`distillation_numbers`).

    They "tame the scale" where the soft-target student's test MSE is at least :data:`TAME_FACTOR` times the
    hard-label student's; they leave the error alone where the two errors as printed differ by less than
    :data:`CLEAR` (:func:`ddlib.prose.shown_difference`), and otherwise lower or raise it.
    """
    soft_mse, hard_mse = out["soft_large_at_peak_mse"], out["hard_large_at_peak_mse"]
    diff = shown_difference(out["hard_large_at_peak_err"], out["soft_large_at_peak_err"])
    change = "close" if abs(diff) < CLEAR else "lower" if diff < 0 else "raise"
    if soft_mse >= TAME_FACTOR * hard_mse:
        head = {"close": "tame the scale, not the error", "lower": "tame the scale and lower the error",
                "raise": "tame the scale but raise the error"}[change]
    elif soft_mse > hard_mse:
        head = f"shrink the scale less than {TAME_FACTOR}-fold" + {
            "close": ", and not the error", "lower": ", and lower the error", "raise": ", and raise the error"}[change]
    else:
        head = "do not shrink the scale" + {"close": " or change the error", "lower": ", but lower the error",
                                            "raise": ", and raise the error"}[change]
    same = "their errors are the same" if diff == 0 else f"their errors differ by only {points(abs(diff))}"
    error = (f"{same}, as the teacher's arg-max labels carry its mistakes whatever the scale of its outputs"
             if change == "close" else f"hard labels also {change} the error, by {points(abs(diff))}")
    return dict(hard_labels_head=f"**Hard labels {head}.**", hard_labels_error=error)


def improvement_words(out: dict) -> dict:
    """Whether the large-pool student improves on the teacher (numbers of :func:`distillation_numbers`).

    ``gain`` is the larger, over soft and hard targets, of the student's mean error below the teacher's (the mean
    gap as printed, sign flipped). "Improves" where ``gain >= CLEAR``, "not by much" where ``0 < gain < CLEAR``,
    "does not improve" otherwise.
    """
    gain = max(-as_shown(out[f"{k}_large_mean_gap"]) for k in KINDS)
    text = (f"the student does *improve* on the teacher, by up to {points(gain)} on average" if gain >= CLEAR else
            "the student does not *improve* on the teacher by much" if gain > 0 else
            "the student does not *improve* on the teacher")
    return dict(student_improves=text)


def peak_teacher_words(out: dict) -> dict:
    """Whether the large-pool student escapes a teacher at its peak (numbers of :func:`distillation_numbers`).

    Per kind of target, ``stuck`` is the large-pool student's error distilled from the peaked teacher minus that from
    the widest teacher, ``gain`` the smallest-pool student's error from the peaked teacher minus the large-pool one's
    (differences as printed, :func:`ddlib.prose.shown_difference`). The student "cannot escape"
    where ``stuck >= CLEAR`` for both kinds (and is "not clearly worse" distilled from it with the kinds where
    ``stuck < CLEAR``); the remedy is then "a better teacher, not a bigger pool" where also
    ``gain < CLEAR`` for both kinds.
    """
    stuck = {k: shown_difference(out[f"{k}_large_at_peak_err"], out[f"{k}_large_widest_err"]) for k in KINDS}
    gain = max(shown_difference(out[f"{k}_small_at_peak_err"], out[f"{k}_large_at_peak_err"]) for k in KINDS)
    if min(stuck.values()) < CLEAR:
        other = "its error distilled from the widest teacher"
        escaped = [k for k in KINDS if stuck[k] < CLEAR]
        which = ("either kind of target" if len(escaped) == 2 else
                 "soft targets" if escaped == ["soft"] else "hard labels")
        return dict(peak_teacher_third=(
            f"with the largest pool and {which}, the student is not clearly worse distilled from a teacher at its "
            f"peak than from the widest one: distilled from that teacher, the soft-target student's error is "
            f"{relation(stuck['soft'], other)} and the hard-label student's {relation(stuck['hard'], other)}."))
    behind = (f"its error distilled from that teacher is still {points(stuck['soft'])} (soft) and "
              f"{points(stuck['hard'])} (hard) above its error distilled from the widest teacher")
    if gain >= CLEAR:
        return dict(peak_teacher_third=(
            f"the student cannot escape a teacher at its peak, though the pool matters: distilled from that teacher, "
            f"the largest pool does up to {points(gain)} better than the smallest, but {behind}."))
    pool = ("does no better there than the smallest" if gain <= 0 else
            f"does only {points(gain)} better there than the smallest (the better of soft and hard targets)")
    return dict(peak_teacher_third=(
        f"the student cannot escape a teacher at its peak: with the largest pool {behind}, and the largest pool "
        f"{pool}. The remedy is a better teacher (wider, as the figure shows; "
        f"ridge-regularised teachers, which Section 2 suggests, are not distilled here), not a bigger pool."))


# --------------------------------------------------------------------------- plots and table


def _plain_log_ticks(ax, ticks=None) -> None:
    """Label a log x axis with plain numbers ("0.1", "1", "10"), as the prose prints ratios; with ``ticks``, at
    those values only (no minor-tick labels to crowd them)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    if ticks is not None:
        ax.xaxis.set_major_locator(FixedLocator(list(ticks)))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def plot_linear(frame: pd.DataFrame, params: dict):
    """Theory curves (lines) and simulation means with standard-error bars (points)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    decays = params["lin_beta_decays"]
    fig, axes = plt.subplots(1, len(decays), figsize=(5.2 * len(decays), 4.0), sharey=True, squeeze=False)
    colors = sns.color_palette()
    for ax, decay in zip(axes[0], decays):
        curve = theory_curve(params, decay)
        for side in (curve.p < params["lin_n"], curve.p > params["lin_n"]):
            ax.plot(curve.p_over_n[side], curve.theory[side], color=colors[0], lw=1.8)
        sub = frame[frame.beta_decay == float(decay)]
        ax.errorbar(sub.p_over_n, sub.risk_mean, yerr=sub.risk_se, fmt="o", ms=3.5, color=colors[1],
                    capsize=2, label=f"simulation mean ± s.e. ({params['lin_trials']} draws)")
        ax.plot([], [], color=colors[0], label="exact risk (Belkin, Hsu & Xu, Thm 1)")
        ax.axvline(1.0, color="grey", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel="p / n", ylim=(0.05, 60),
               title=r"$\beta_j$ equal" if float(decay) == 0 else rf"$\beta_j \propto j^{{-{decay:g}}}$")
        _plain_log_ticks(ax)
    axes[0][0].set_ylabel("test risk  E[(y − ŷ)²]")
    handles, names = axes[0][0].get_legend_handles_labels()  # below the panels, where it covers no point
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plot_ridge(frame: pd.DataFrame, params: dict):
    """Test error and test MSE against ``N / n``: min-norm, each ridge, and the tuned ridge."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    order = ["0 (min-norm)"] + [f"{r:g}" for r in params["ridges"]] + ["tuned"]
    palette = dict(zip(order, sns.color_palette("viridis", len(order) - 1) + [(0.85, 0.1, 0.1)]))
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for col, labels in enumerate(("noisy", "clean")):
        for row, metric in enumerate(("test_error", "test_mse")):
            sub = with_best_ridge(frame[frame.labels == labels], metric)
            ax = axes[row][col]
            sns.lineplot(data=sub, x="N_over_n", y=metric, hue="ridge_label", hue_order=order, palette=palette,
                         style="ridge_label", dashes={k: (2, 1) if k == "tuned" else "" for k in order},
                         marker="o", markersize=3.5, errorbar=("se", 1) if params["rf_repeats"] > 1 else None,
                         ax=ax, legend=(row == 0 and col == 1))
            ax.axvline(1.0, color="grey", ls=":", lw=1)
            ax.set(xscale="log", xlabel="N / n  (random features per training sample)",
                   ylabel="test classification error" if row == 0 else "test MSE (one-hot)")
            _plain_log_ticks(ax)
            if row == 1:
                ax.set_yscale("log")
            if row == 0:
                percent_axis(ax)
                noise = f"{params['label_noise']:.0%} label noise" if labels == "noisy" else "clean labels"
                ax.set(xlabel="", title=f"{noise}, n = {params['n_train']}")
    handles, names = axes[0][1].get_legend_handles_labels()  # below the panels, where it covers no curve
    axes[0][1].get_legend().remove()
    draws = "" if params["rf_repeats"] > 1 else " (one feature draw per width: no bands)"
    fig.legend(handles, names, title=f"ridge λ{draws}", loc="lower center", ncol=len(names), fontsize=9, title_fontsize=9,
               frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def plot_distillation(frame: pd.DataFrame, params: dict):
    """Student test error against teacher width, per pool size, soft and hard targets; the same student fitted to
    the labeled set, min-norm (dashed) and with its oracle ridge (dotted), as reference lines."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    teacher = frame[frame.role == "teacher"]
    labels_ref = frame[frame.role == "student-labels"]
    tuned_ref = frame[frame.role == "student-labels-tuned"]
    pools = sorted(params["pool_sizes"])
    palette = sns.color_palette("colorblind")  # skip index 3 (vermillion): the red line is the reference
    colors = {pool: palette[[2, 1, 4, 0, 7, 8, 9, 5, 6][i % 9]] for i, pool in enumerate(pools)}
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for col, kind in enumerate(("soft", "hard")):
        for row, metric in enumerate(("test_error", "test_mse")):
            ax = axes[row][col]
            ax.plot(teacher.N_over_n, teacher[metric], "k-o", ms=3.5, lw=2, label="teacher (width N)")
            for pool in pools:
                s = frame[(frame.role == f"student-{kind}") & (frame.pool_size == pool)]
                ax.plot(s.N_over_n, s[metric], "-s", ms=3.5, color=colors[pool], label=f"student, pool P = {pool}")
            ax.axhline(labels_ref[metric].iloc[0], color=(0.85, 0.1, 0.1), ls="--",
                       label="student fitted to the labeled set, min-norm")
            if len(tuned_ref):
                ax.axhline(tuned_ref[metric].iloc[0], color=(0.85, 0.1, 0.1), ls=":",
                           label=f"the same, ridge tuned on the test set (λ = {tuned_ref.ridge.iloc[0]:g})")
            ax.axvline(1.0, color="grey", ls=":", lw=1)
            ax.set(xscale="log", xlabel="teacher N / n",
                   ylabel="test classification error" if row == 0 else "test MSE (one-hot)")
            _plain_log_ticks(ax)
            if row == 1:
                ax.set_yscale("log")
            else:
                percent_axis(ax)
                ax.set(xlabel="", title=f"student on {kind} targets, M = {int(frame.M.dropna().iloc[0])}")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def write_results(params: dict, *frames: pd.DataFrame):
    """Write all studies as one tidy table (``study`` column) to ``results/random-features/<folder>``
    (:func:`ddlib.book.table_folder`).

    Returns the path written, relative to the repository root where it lies under it (absolute where
    ``$DDLIB_RESULTS`` points elsewhere).
    """
    table = pd.concat(frames, ignore_index=True)
    table.insert(1, "preset", params["preset"])
    path = write_table(table, CHAPTER, params)
    try:
        return path.resolve().relative_to(REPO_ROOT.resolve())
    except ValueError:
        return path
