"""The distillation chapter's choices among the teachers' sweep, made on a validation set, not the test set.

By default (``student_width="peak"``) the students have the width that the double-descent chapter's rule
(:func:`ddlib.chapters.double_descent.summarize`) singles out: the width of highest error near the interpolation
threshold, where training on the labeled set does worst, which is the paper's case for distillation. The pool-size
study's second teacher is the best one narrower than that width. Made with test errors, both choices would let the
test set pick the setting in which the methods are then compared on that same test set. Here the rule and the
"best" are applied to the sweep models' errors on a validation set instead (:func:`ddlib.data.load_validation`:
``val_size`` held-out inputs labeled as noisily as the training set, which is all a user of the paper's setting
has). With ``val_size = 0`` (the ``paper`` preset, whose labeled set is all of CIFAR's training split, so that
nothing is left to hold out) both choices fall back to the test errors, and :func:`note` says so.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import cifar
from ..config import config_hash
from ..data import load_validation
from ..devices import resolve_device
from ..prose import join
from ..runner import load_trained_model
from ..storage import atomic_write_text
from ..store import ResultStore
from ..train import error_rate, predict_logits
from . import double_descent as dd


def validation_frame(p: dict, store: ResultStore | None = None) -> pd.DataFrame:
    """One row per run of the sweep (every width and seed of ``p``, all in ``store``): ``width``, ``seed``,
    ``val_error`` against the validation set's noisy labels (what the choices use) and ``val_error_clean`` against
    its true labels (reported only), from :func:`validation_errors`."""
    configs = dd.sweep_configs(p)
    rows = [dict(width=cfg.width, seed=cfg.init_seed, **errors)
            for cfg, errors in zip(configs, validation_errors(p, configs, store))]
    return pd.DataFrame(rows).sort_values(["width", "seed"], ignore_index=True)


def validation_errors(p: dict, configs: list, store: ResultStore | None = None) -> list[dict]:
    """``{"val_error", "val_error_clean"}`` of each stored run of ``configs`` (in order) on the validation set of
    ``p`` (:func:`ddlib.data.load_validation`, ``p["val_size"]`` inputs): against its noisy labels and its true ones.

    Each run's errors are kept beside it in the store (:func:`cached_errors_path`), so a chapter whose runs are all
    stored (trained on a GPU elsewhere, say) is rebuilt without the dataset's files; the validation set is loaded
    only where a run's errors are missing."""
    store = store or ResultStore()
    data = dd.data_config(p)
    other = [cfg for cfg in configs if cfg.data != data]
    if other:  # its errors would be taken on another draw's validation set, and kept under its own hash
        raise ValueError(f"validation_errors scores runs of p's data only; {len(other)} of the configs have other data")
    found = [_read_cached(store, cfg, p["val_size"]) for cfg in configs]
    missing = [i for i, errors in enumerate(found) if errors is None]
    if missing:
        device = resolve_device(p["device"])
        x, y_noisy, y_clean = load_validation(data, p["val_size"], device)
        mean_std = p["dataset"] if p["dataset"] in cifar.CIFAR_DATASETS else None
        for i in missing:
            cfg = configs[i]
            logits = predict_logits(load_trained_model(cfg, store, device), x, members=1, mean_std=mean_std)
            found[i] = dict(val_error=float(error_rate(logits, y_noisy)[0]),
                            val_error_clean=float(error_rate(logits, y_clean)[0]))
            atomic_write_text(cached_errors_path(store, cfg, p["val_size"]),
                              json.dumps(dict(found[i], weights_sha256=store.weights_digest(cfg))))
    return found


def cached_errors_path(store: ResultStore, cfg, val_size: int) -> Path:
    """Where the validation errors of the stored run ``cfg`` on a validation set of ``val_size`` inputs are kept:
    the set is fixed by the run's data settings and ``val_size`` (:func:`ddlib.data.load_validation`), under
    :data:`CACHE_SCHEME`; each entry also records the digest of the weights it was computed from."""
    return store.root / "validation" / f"{config_hash(cfg)}-n{val_size}-{CACHE_SCHEME}.json"


#: Changes whenever :func:`ddlib.data.load_validation` draws another set for the same settings, so that errors on
#: an older set are never read as this one's.
CACHE_SCHEME = "v1"


def _read_cached(store: ResultStore, cfg, val_size: int) -> dict | None:
    """The kept validation errors of ``cfg``, or ``None`` where there are none, or where they were computed from
    other weights than the stored ones (a run stored again under the same hash: retrained, or copied over with its
    record). The stored weights' digest is the one their record gives (:meth:`ddlib.store.ResultStore.weights_digest`),
    so a weights file replaced without its record is not noticed; for a record without a digest the file is hashed."""
    path = cached_errors_path(store, cfg, val_size)
    if not path.exists():
        return None
    entry = json.loads(path.read_text(encoding="utf-8"))
    if entry.pop("weights_sha256", None) != store.weights_digest(cfg):
        return None
    return entry


def choose(p: dict, teachers: pd.DataFrame, store: ResultStore | None = None) -> dict:
    """The rule's width and the errors the choices are made on.

    ``teachers``: the sweep's records (:func:`ddlib.runner.records_frame`: ``width``, ``seed``, ``params``,
    ``train_error``, ``test_error``), the validation errors taking the test errors' place. Returns ``chosen_on`` (``"validation"`` or, with ``val_size = 0``, ``"test"``), ``selection``
    (mean error per width, on that set), ``summary`` (:func:`ddlib.chapters.double_descent.summarize` of those
    errors: its ``peak_width`` is the chosen width) and ``frame`` (the per-run validation errors; ``None`` for
    ``"test"``)."""
    if p["val_size"] == 0:
        frame, errors, on = None, teachers, "test"
    else:
        frame = validation_frame(p, store)
        errors = teachers.drop(columns="test_error").merge(frame[["width", "seed", "val_error"]], on=["width", "seed"])
        errors, on = errors.rename(columns={"val_error": "test_error"}), "validation"
    return dict(chosen_on=on, frame=frame, summary=dd.summarize(errors),
                selection=errors.groupby("width")["test_error"].mean().sort_index())


def best_narrower(widths, peak: int, selection: pd.Series) -> tuple[int, bool]:
    """The width of ``widths`` narrower than ``peak`` with the lowest ``selection`` error, and ``True``; or, where
    none is narrower (tiny settings), the narrowest of ``widths`` and ``False``."""
    narrow = [w for w in widths if w < peak]
    if not narrow:
        return min(widths), False
    return min(narrow, key=lambda w: float(selection[w])), True


def chosen_on_words(teacher_summary: dict) -> str:
    """The set the choices were made on, as the prose names it."""
    return "the validation set" if teacher_summary["chosen_on"] == "validation" else "the test set"


def note(teacher_summary: dict, p: dict) -> str:
    """How the student's width was chosen, for the prose: on which set, and, on the validation set, whether the
    test errors would have chosen the same width (empty where ``student_width`` was given)."""
    if p["student_width"] != "peak":
        return ""
    s = teacher_summary
    chosen, on_test = s["chosen_width"], s["peak_width"]
    if s["chosen_on"] == "test":
        return ("The student's width was picked from the double-descent sweep's test errors, the same test set the "
                "students are scored on, since `val_size` is 0 here (no validation set was held out); near a plateau "
                "that choice is close to arbitrary, which matters less than which method wins at the width chosen.")
    errors = s["selection"]
    shown = join(f"{w} ({errors[w]:.1%})" for w in errors.index)
    agree = ("the test errors single out the same width" if chosen == on_test else
             f"the test errors would have singled out width {on_test} instead (the width the paragraph above "
             f"describes), so the students here are not at the width the rule singles out on the test set")
    return (f"The student's width was chosen by that rule on a validation set, so that the test set, on which the "
            f"methods are compared, has no say in the student's width: {p['val_size']:,} held-out inputs with "
            f"{p['label_noise']:.0%} of their labels wrong, like the training set's (mean errors against those "
            f"labels by width: {shown}). It singles out width {chosen}; {agree}. The pool study's narrower teacher "
            f"is chosen on the same errors.")
