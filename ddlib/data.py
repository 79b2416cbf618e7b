"""Datasets as tensors on the device: a noisy labeled set, a clean test set, an unlabeled pool.

A :class:`DataConfig` names everything that determines the data. :func:`load_data` returns a
:class:`LabeledData` whose tensors already sit on the training device, so training indexes
batches there and never copies per step.

MNIST-1D layout: the labeled training set is a generator draw of ``n_train`` samples with seed
``data_seed``; the test set is its own draw of ``n_test`` samples with seed ``data_seed + 500``; a
validation set (:func:`load_validation`, for choices such as a model's width that must not see the test set)
is a draw of its own with seed ``data_seed + 700``, labeled as noisily as the training set; the unlabeled pool is made of further draws from seed ``pool_seed`` (default :data:`DEFAULT_POOL_SEED`,
the same for :func:`load_pool` and :class:`ddlib.TargetConfig`), so it is held out from both and can be as
large as wanted (:func:`check_pool_seeds` refuses a ``pool_seed`` whose draws would repeat either).

CIFAR-10/100 layout (files read through torchvision from :func:`ddlib.paths.data_dir`): a
permutation of the 50,000 training images seeded by ``data_seed``; its first ``n_train`` images
are the labeled set (label noise as for MNIST-1D, :func:`ddlib.noise.corrupt_labels`), the next
``pool_size`` the unlabeled pool (or, if ``$DDLIB_POOL_NPZ`` names ``.npz`` files, e.g. the
CIFAR-5m parts, the first ``pool_size`` images of those), and its last images the validation set. The test set is the first ``n_test``
images of the test split, clean. Images stay uint8 ``(n, 3, 32, 32)`` on the device; training
augments and normalises each batch there (:mod:`ddlib.cifar`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import cifar, mnist1d_data
from .noise import corrupt_labels
from .paths import data_dir, download_allowed, pool_npz_files
from .validation import ConfigError, in_unit_interval, non_negative_int, one_of, positive_int

#: Every dataset name a :class:`DataConfig` accepts.
DATASETS = ("mnist1d",) + cifar.CIFAR_DATASETS

#: ``(input_shape, num_classes)`` of each dataset (one sample, as the models see it).
DATASET_SHAPES = {"mnist1d": ((mnist1d_data.LENGTH,), mnist1d_data.NUM_CLASSES),
                  **{name: ((3, 32, 32), k) for name, k in cifar.NUM_CLASSES.items()}}

#: Sizes of CIFAR's official splits (both CIFAR-10 and CIFAR-100).
CIFAR_TRAIN_SIZE, CIFAR_TEST_SIZE = 50000, 10000


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
        object.__setattr__(self, "label_noise", float(self.label_noise))  # 0 and 0.0 hash alike
        non_negative_int("noise_seed", self.noise_seed)
        non_negative_int("data_seed", self.data_seed)
        if self.dataset in cifar.CIFAR_DATASETS:
            if self.n_train > CIFAR_TRAIN_SIZE:
                raise ConfigError(f"n_train must be at most {CIFAR_TRAIN_SIZE} for {self.dataset} (its training "
                                  f"split); got {self.n_train}")
            if self.n_test > CIFAR_TEST_SIZE:
                raise ConfigError(f"n_test must be at most {CIFAR_TEST_SIZE} for {self.dataset} (its test split); "
                                  f"got {self.n_test}")


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


def _need_data_config(cfg) -> None:
    """Refuse anything but a :class:`DataConfig` (a :class:`LabeledData` already loaded, say) with a clear error."""
    if not isinstance(cfg, DataConfig):
        raise ConfigError(f"cfg must be a ddlib.DataConfig (the data's settings); got {type(cfg).__name__}")


def load_data(cfg: DataConfig, device: torch.device | str = "cpu", download: bool | None = None) -> LabeledData:
    """Build the labeled (noisy) training set and the clean test set for ``cfg`` on ``device``.

    ``download`` (CIFAR only): fetch missing files into :func:`ddlib.paths.data_dir`; ``None``
    means ``$DDLIB_DOWNLOAD=1``.
    """
    _need_data_config(cfg)
    if cfg.dataset in cifar.CIFAR_DATASETS:
        return _load_cifar(cfg, device, download)
    x, y = mnist1d_data.generate(cfg.n_train, cfg.data_seed)
    x_test, y_test = mnist1d_data.generate(cfg.n_test, cfg.data_seed + TEST_SEED_OFFSET)
    y_clean = y
    y_noisy = corrupt_labels(y_clean, cfg.label_noise, mnist1d_data.NUM_CLASSES, cfg.noise_seed)
    return LabeledData(
        x_train=_on_device(x, device),
        y_train=_on_device(y_noisy, device),
        y_train_clean=_on_device(y_clean, device),
        x_test=_on_device(x_test, device),
        y_test=_on_device(y_test, device),
        num_classes=mnist1d_data.NUM_CLASSES,
    )


def _on_device(a: np.ndarray, device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).to(device)


#: MNIST-1D's test set is its own draw, seed ``data_seed + TEST_SEED_OFFSET``, so changing ``n_test``
#: never changes the training set, nor ``n_train`` the test set.
TEST_SEED_OFFSET = 500

#: MNIST-1D's validation set is its own draw, seed ``data_seed + VALIDATION_SEED_OFFSET``; its labels are
#: corrupted like the training set's, with noise seed ``noise_seed + VALIDATION_SEED_OFFSET``.
VALIDATION_SEED_OFFSET = 700

#: The MNIST-1D pool's first generator seed unless one is given (``TargetConfig.pool_seed``, ``load_pool``).
DEFAULT_POOL_SEED = 1000

#: The pool is made of generator draws of this many samples (seeds ``pool_seed``, ``pool_seed + 1``, ...),
#: so a smaller pool is always a prefix of a larger one with the same seed (nested pools).
POOL_CHUNK = 5000


def load_pool(cfg: DataConfig, pool_size: int, pool_seed: int = DEFAULT_POOL_SEED, device: torch.device | str = "cpu",
              download: bool | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Return ``(x_pool, y_pool_true)``: ``pool_size`` held-out inputs and their true labels.

    The pool is the first ``pool_size`` samples of the draws with seeds ``pool_seed + i``
    (``i = 0, 1, ...``) of :data:`POOL_CHUNK` samples each, disjoint from the labeled draw (seed
    ``data_seed``) and the test draw (seed ``data_seed + TEST_SEED_OFFSET``). The true labels exist only for the ``oracle_pool`` reference;
    distillation never sees them.

    CIFAR: the training images after the labeled ones in the ``data_seed`` permutation (so the
    pool is disjoint from the labeled set and nested in ``pool_size``; ``pool_seed`` plays no
    part), or the first ``pool_size`` images of the ``$DDLIB_POOL_NPZ`` files, whose labels may be
    ``None`` (then ``oracle_pool`` cannot run).
    """
    _need_data_config(cfg)
    positive_int("pool_size", pool_size)
    if cfg.dataset in cifar.CIFAR_DATASETS:
        return _cifar_pool(cfg, pool_size, device, download)
    seed = non_negative_int("pool_seed", pool_seed)
    check_pool_seeds(cfg, pool_size, seed)
    xs, ys = zip(*(mnist1d_data.generate(POOL_CHUNK, seed + i) for i in range(-(-pool_size // POOL_CHUNK))))
    x, y = np.concatenate(xs)[:pool_size], np.concatenate(ys)[:pool_size]
    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)


def check_pool_seeds(cfg: DataConfig, pool_size: int, pool_seed: int, validation: bool = False) -> None:
    """Refuse an MNIST-1D pool whose generator seeds would repeat the labeled or the test draw, or, where a
    validation set is used with it (``validation``), the validation draw (:func:`load_validation`)."""
    chunks = range(pool_seed, pool_seed + -(-pool_size // POOL_CHUNK))
    draws = [("data_seed", cfg.data_seed),
             (f"the test draw (data_seed + {TEST_SEED_OFFSET})", cfg.data_seed + TEST_SEED_OFFSET)]
    if validation:
        draws.append((f"the validation draw (data_seed + {VALIDATION_SEED_OFFSET})",
                      cfg.data_seed + VALIDATION_SEED_OFFSET))
    for name, seed in draws:
        if seed in chunks:
            raise ConfigError(f"pool_seed {pool_seed} with pool size {pool_size} uses generator seeds "
                              f"{chunks.start}..{chunks.stop - 1}, which include {name} ({seed}); choose another pool_seed")


def load_validation(cfg: DataConfig, size: int, device: torch.device | str = "cpu", download: bool | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return ``(x_val, y_val, y_val_clean)``: ``size`` held-out inputs with labels corrupted at ``cfg.label_noise``
    (what a user who holds out part of a noisy labeled set has) and their true labels.

    Under symmetric noise at rate ``r`` with ``C`` classes the expected error against noisy labels is
    ``r + (1 - r C / (C - 1)) e`` for a clean error ``e``: an increasing function of ``e`` (for ``r < 1 - 1/C``),
    so the noisy labels rank models as the clean ones do in expectation.

    MNIST-1D: a generator draw of its own (seed ``data_seed +`` :data:`VALIDATION_SEED_OFFSET`), disjoint from the
    labeled, test and pool draws. CIFAR: the last ``size`` images of the ``data_seed`` permutation of the training
    split (disjoint from the labeled set, and from a pool taken from the split while
    ``n_train + pool_size + size`` is at most the split's size).
    """
    _need_data_config(cfg)
    positive_int("val_size", size)
    if cfg.dataset in cifar.CIFAR_DATASETS:
        x_all, y_all = _cifar_split(cfg, True, download)
        _need("n_train + val_size", cfg.n_train + size, len(x_all), cfg)
        take = torch.from_numpy(_split_permutation(cfg, len(x_all))[len(x_all) - size:])
        x, y_clean, classes = x_all[take].contiguous(), y_all[take].numpy(), cifar.NUM_CLASSES[cfg.dataset]
    else:
        x, y_clean = mnist1d_data.generate(size, cfg.data_seed + VALIDATION_SEED_OFFSET)
        x, classes = torch.from_numpy(np.ascontiguousarray(x)), mnist1d_data.NUM_CLASSES
    y_noisy = corrupt_labels(y_clean, cfg.label_noise, classes, cfg.noise_seed + VALIDATION_SEED_OFFSET)
    return x.to(device), _on_device(y_noisy, device), _on_device(y_clean.astype(np.int64), device)


# ----------------------------------------------------------------------------- CIFAR
def _split_permutation(cfg: DataConfig, n: int) -> np.ndarray:
    """The permutation of the ``n`` training images that orders labeled set, then pool, with the validation set
    last (seed ``data_seed``)."""
    return np.random.default_rng([cfg.data_seed, 0x73706C6974]).permutation(n)  # a stream of its own ("split")


def _cifar_split(cfg: DataConfig, train: bool, download: bool | None) -> tuple[torch.Tensor, torch.Tensor]:
    return cifar.load_cifar(cfg.dataset, data_dir(), train=train,
                            download=download_allowed() if download is None else bool(download))


def _need(what: str, wanted: int, have: int, cfg: DataConfig) -> None:
    if wanted > have:
        raise ConfigError(f"{what} ({wanted}) is more than the {have} images available for {cfg.dataset} "
                          f"in {data_dir()}")


def _load_cifar(cfg: DataConfig, device, download: bool | None) -> LabeledData:
    x, y = _cifar_split(cfg, True, download)
    _need("n_train", cfg.n_train, len(x), cfg)
    take = torch.from_numpy(_split_permutation(cfg, len(x))[: cfg.n_train])
    y_clean = y[take].numpy()
    y_noisy = corrupt_labels(y_clean, cfg.label_noise, cifar.NUM_CLASSES[cfg.dataset], cfg.noise_seed)
    x_test, y_test = _cifar_split(cfg, False, download)
    _need("n_test", cfg.n_test, len(x_test), cfg)
    return LabeledData(
        x_train=x[take].contiguous().to(device), y_train=torch.from_numpy(y_noisy).to(device),
        y_train_clean=torch.from_numpy(y_clean).to(device), x_test=x_test[: cfg.n_test].contiguous().to(device),
        y_test=y_test[: cfg.n_test].to(device), num_classes=cifar.NUM_CLASSES[cfg.dataset])


def _cifar_pool(cfg: DataConfig, pool_size: int, device, download: bool | None):
    files = pool_npz_files()
    if files:
        x, y = cifar.load_npz_pool(files, max_images=pool_size)
        _need("pool_size", pool_size, len(x), cfg)
    else:
        x_all, y_all = _cifar_split(cfg, True, download)
        _need("n_train + pool_size", cfg.n_train + pool_size, len(x_all), cfg)
        take = torch.from_numpy(_split_permutation(cfg, len(x_all))[cfg.n_train : cfg.n_train + pool_size])
        x, y = x_all[take].contiguous(), y_all[take]
    return x.to(device), None if y is None else y.to(device)


def pool_source(cfg: DataConfig) -> str:
    """Where :func:`load_pool` takes the pool from (recorded with each pool run; not in the config hash)."""
    if cfg.dataset not in cifar.CIFAR_DATASETS:
        return "mnist1d draws"
    files = pool_npz_files()
    return "npz: " + ", ".join(str(f) for f in files) if files else f"{cfg.dataset} train split"
