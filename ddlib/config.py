"""Frozen run configurations and their content hash.

A :class:`RunConfig` fixes everything that determines one trained model: the data (including
the label-noise draw), the architecture and width, the training recipe, the seeds, and, for a
distilled student, where its targets come from (a :class:`TargetConfig`, which names the
teacher's own ``RunConfig``). Its :func:`config_hash` keys the results store, so two runs with
the same config are the same run and are trained once.

The hash covers every field plus ``ddlib.__version__`` (bump it when training semantics
change, and old results are no longer matched). It does not cover the device: a run computed
on a GPU serves a later CPU build of the book.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from .data import DATASETS, DEFAULT_POOL_SEED, DataConfig, check_pool_seeds
from .models import IMAGE_MODELS, MODELS, VECTOR_MODELS
from .validation import (ConfigError, in_unit_interval, non_negative_float, non_negative_int, one_of, positive_float,
                         positive_int)

OPTIMIZERS = ("adam", "sgd")

#: The model families that can run on each dataset (1-D signals vs. 32x32 RGB images).
MODELS_FOR_DATASET = {d: (VECTOR_MODELS if d == "mnist1d" else IMAGE_MODELS) for d in DATASETS}


def check_model_for_dataset(dataset: str, model: str) -> None:
    """Refuse a model family that cannot take the dataset's inputs, naming the ones that can."""
    allowed = MODELS_FOR_DATASET[dataset]
    if model not in allowed:
        raise ConfigError(f"model {model!r} does not run on dataset {dataset!r}; for {dataset!r} use model in "
                          f"{list(allowed)} (mnist1d: {list(VECTOR_MODELS)}; cifar10/cifar100: {list(IMAGE_MODELS)})")

#: How a run's training targets are made. ``labels`` is ordinary training on the noisy labeled
#: set (teachers, and the ``direct`` baseline); the others are distillation from a teacher.
TARGET_METHODS = ("labels", "hard_labeled", "hard_pool", "soft_kd_labeled", "soft_kd_pool", "oracle_pool")
POOL_METHODS = ("hard_pool", "soft_kd_pool", "oracle_pool")
TEACHER_METHODS = ("hard_labeled", "hard_pool", "soft_kd_labeled", "soft_kd_pool")


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation recipe: ``steps`` updates of ``optimizer`` at constant ``lr``."""

    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 128
    steps: int = 5000
    weight_decay: float = 0.0

    def __post_init__(self):
        one_of("optimizer", self.optimizer, OPTIMIZERS)
        positive_float("lr", self.lr)
        positive_int("batch_size", self.batch_size)
        positive_int("steps", self.steps)
        non_negative_float("weight_decay", self.weight_decay)
        _as_floats(self, "lr", "weight_decay")


@dataclass(frozen=True)
class TargetConfig:
    """Where a run's training targets come from.

    * ``labels``: the noisy labels of the labeled set;
    * ``hard_labeled`` / ``hard_pool``: the teacher's argmax on the labeled inputs / the pool;
    * ``soft_kd_labeled`` / ``soft_kd_pool``: Hinton et al. (2015) distillation at
      ``temperature`` with weight ``alpha`` on the soft term (see :func:`ddlib.losses.kd_loss`);
      on the pool, which has no labels, the loss is the soft term alone (``alpha`` = 1);
    * ``oracle_pool``: the pool's true labels (a reference the paper's setting lacks).
    """

    method: str = "labels"
    teacher: "RunConfig | None" = None
    pool_size: int = 0
    pool_seed: int = DEFAULT_POOL_SEED
    temperature: float = 4.0
    alpha: float = 0.9

    def __post_init__(self):
        one_of("method", self.method, TARGET_METHODS)
        if self.method in TEACHER_METHODS and self.teacher is None:
            raise ConfigError(f"method {self.method!r} needs a teacher RunConfig")
        if self.teacher is not None and not isinstance(self.teacher, RunConfig):
            raise ConfigError(f"teacher must be a ddlib.RunConfig or None; got {type(self.teacher).__name__}")
        if self.method in POOL_METHODS:
            positive_int("pool_size", self.pool_size)
        non_negative_int("pool_seed", self.pool_seed)
        positive_float("temperature", self.temperature)
        in_unit_interval("alpha", self.alpha, closed_right=True)
        _as_floats(self, "temperature", "alpha")
        self._refuse_unused_fields()

    def _refuse_unused_fields(self) -> None:
        """A field the method does not use must keep its default: it would change the run's hash, and so train the
        same model twice under two names, while changing nothing about it (a teacher for ``labels``, a pool size
        without a pool, a temperature for hard labels, ``alpha`` where the loss has no hard term)."""
        default = TargetConfig.__dataclass_fields__
        unused = {"teacher": self.method not in TEACHER_METHODS,
                  "pool_size": self.method not in POOL_METHODS, "pool_seed": self.method not in POOL_METHODS,
                  "temperature": not self.method.startswith("soft_kd"), "alpha": self.method != "soft_kd_labeled"}
        for name, is_unused in unused.items():
            value = getattr(self, name)
            if is_unused and value != default[name].default:
                shown = f"a RunConfig (hash {config_hash(value)})" if isinstance(value, RunConfig) else repr(value)
                raise ConfigError(f"{name} is not used by method {self.method!r} and must keep its default "
                                  f"({default[name].default!r}); got {shown}")

    @property
    def uses_pool(self) -> bool:
        return self.method in POOL_METHODS


@dataclass(frozen=True)
class RunConfig:
    """One trained model. ``init_seed`` draws the weights, ``order_seed`` the batch order."""

    data: DataConfig = field(default_factory=DataConfig)
    model: str = "mlp"
    width: int = 64
    train: TrainConfig = field(default_factory=TrainConfig)
    init_seed: int = 0
    order_seed: int = 0
    targets: TargetConfig = field(default_factory=TargetConfig)

    def __post_init__(self):
        for name, kind in (("data", DataConfig), ("train", TrainConfig), ("targets", TargetConfig)):
            if not isinstance(getattr(self, name), kind):
                raise ConfigError(f"{name} must be a ddlib.{kind.__name__}; got {type(getattr(self, name)).__name__}")
        one_of("model", self.model, MODELS)
        check_model_for_dataset(self.data.dataset, self.model)
        positive_int("width", self.width)
        non_negative_int("init_seed", self.init_seed)
        non_negative_int("order_seed", self.order_seed)
        if self.targets.uses_pool and self.data.dataset == "mnist1d":  # refused here, not after the teacher trains
            check_pool_seeds(self.data, self.targets.pool_size, self.targets.pool_seed)
        inputs, size = (("pool_size", self.targets.pool_size) if self.targets.uses_pool else
                        ("n_train", self.data.n_train))
        if self.train.batch_size > size:  # refused before any model of a sweep trains
            raise ConfigError(f"batch_size ({self.train.batch_size}) must not exceed {inputs} ({size}), the number of "
                              f"inputs this run trains on")

    def batch_key(self, ignore_width: bool = False, ignore_method: bool = True) -> str:
        """Runs with equal keys can be trained together as one ensemble: they may differ in seeds and,
        with ``ignore_method``, in their targets (method, teacher, temperature, alpha), as long as they
        train on the same inputs (the labeled set, or the same pool); with ``ignore_width``, in width too
        (zero-padded, :mod:`ddlib.width_batching`)."""
        d = dataclasses.asdict(self)
        d.pop("init_seed"), d.pop("order_seed")
        if ignore_width:
            d.pop("width")
        t = self.targets
        if ignore_method:
            d["targets"] = ["pool", t.pool_size, t.pool_seed] if t.uses_pool else ["labeled"]
        return _digest(d)


def _as_floats(obj, *names: str) -> None:
    """Store the named fields of a frozen dataclass as ``float`` (so ``0`` and ``0.0`` hash alike)."""
    for name in names:
        object.__setattr__(obj, name, float(getattr(obj, name)))


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def config_hash(cfg: RunConfig) -> str:
    """A stable hex digest of every field of ``cfg`` and the library version (16 hex digits).

    A CIFAR pool run read from user ``.npz`` files (``$DDLIB_POOL_NPZ``) also hashes those files'
    names and sizes, so switching pools never serves a stale result.
    """
    from . import __version__
    from .paths import pool_npz_files

    key = {"config": dataclasses.asdict(cfg), "ddlib": __version__}
    if cfg.data.dataset != "mnist1d" and cfg.targets.uses_pool and pool_npz_files():
        key["pool_npz"] = [(f.name, f.stat().st_size if f.exists() else None) for f in pool_npz_files()]
    return _digest(key)[:16]


def config_from_dict(d: dict) -> RunConfig:
    """Rebuild a :class:`RunConfig` from ``dataclasses.asdict`` output (as stored on disk)."""
    t = dict(d["targets"])
    if t.get("teacher") is not None:
        t["teacher"] = config_from_dict(t["teacher"])
    return RunConfig(
        data=DataConfig(**d["data"]), model=d["model"], width=d["width"], train=TrainConfig(**d["train"]),
        init_seed=d["init_seed"], order_seed=d["order_seed"], targets=TargetConfig(**t),
    )
