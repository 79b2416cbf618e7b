"""Datasets as tensors on the device: a noisy labeled set, a clean test set, an unlabeled pool.

A :class:`DataConfig` names everything that determines the data. :func:`load_data` returns a
:class:`LabeledData` whose tensors already sit on the training device, so training indexes
batches there and never copies per step.

MNIST-1D layout (one generator draw with seed ``data_seed`` of ``n_train + n_test`` samples):
the first ``n_train`` samples are the labeled training set, the next ``n_test`` the test set.
The unlabeled pool is a *separate* draw with seed ``pool_seed`` (default ``data_seed + 1000``),
so it is held out from both and can be as large as wanted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import mnist1d_data
from .noise import corrupt_labels
from .validation import in_unit_interval, non_negative_int, one_of, positive_int

DATASETS = ("mnist1d",)


@dataclass(frozen=True)
class DataConfig:
    """What data a run sees. ``label_noise`` is the fraction of training labels corrupted."""

    dataset: str = "mnist1d"
    n_train: int = 1000
    n_test: int = 10000
    label_noise: float = 0.2
    noise_seed: int = 0
    data_seed: int = 0

    def __post_init__(self):
        one_of("dataset", self.dataset, DATASETS)
        positive_int("n_train", self.n_train)
        positive_int("n_test", self.n_test)
        in_unit_interval("label_noise", self.label_noise, closed_right=False)
        non_negative_int("noise_seed", self.noise_seed)
        non_negative_int("data_seed", self.data_seed)


@dataclass
class LabeledData:
    """Tensors on one device. ``y_train`` is noisy; ``y_train_clean`` is what it was before."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    y_train_clean: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def load_data(cfg: DataConfig, device: torch.device | str = "cpu") -> LabeledData:
    """Build the labeled (noisy) training set and the clean test set for ``cfg`` on ``device``."""
    x, y = mnist1d_data.generate(cfg.n_train + cfg.n_test, cfg.data_seed)
    y_clean = y[: cfg.n_train]
    y_noisy = corrupt_labels(y_clean, cfg.label_noise, mnist1d_data.NUM_CLASSES, cfg.noise_seed)
    as_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)  # noqa: E731
    return LabeledData(
        x_train=as_t(x[: cfg.n_train]),
        y_train=as_t(y_noisy),
        y_train_clean=as_t(y_clean),
        x_test=as_t(x[cfg.n_train :]),
        y_test=as_t(y[cfg.n_train :]),
        num_classes=mnist1d_data.NUM_CLASSES,
    )


#: The pool is made of generator draws of this many samples (seeds ``pool_seed``, ``pool_seed + 1``, ...),
#: so a smaller pool is always a prefix of a larger one with the same seed (nested pools).
POOL_CHUNK = 5000


def load_pool(cfg: DataConfig, pool_size: int, pool_seed: int | None = None,
              device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(x_pool, y_pool_true)``: ``pool_size`` held-out inputs and their true labels.

    The pool is the first ``pool_size`` samples of the draws with seeds ``pool_seed + i``
    (``i = 0, 1, ...``) of :data:`POOL_CHUNK` samples each, disjoint from the labeled and test
    draw (seed ``data_seed``). The true labels exist only for the ``oracle_pool`` upper bound;
    distillation never sees them.
    """
    positive_int("pool_size", pool_size)
    seed = cfg.data_seed + 1000 if pool_seed is None else non_negative_int("pool_seed", pool_seed)
    if seed <= cfg.data_seed < seed + -(-pool_size // POOL_CHUNK):
        raise ValueError(f"pool_seed {seed} would reuse the labeled data's draw (data_seed {cfg.data_seed})")
    xs, ys = zip(*(mnist1d_data.generate(POOL_CHUNK, seed + i) for i in range(-(-pool_size // POOL_CHUNK))))
    x, y = np.concatenate(xs)[:pool_size], np.concatenate(ys)[:pool_size]
    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
