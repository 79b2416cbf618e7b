"""CIFAR-10/100 as uint8 tensors, a larger unlabeled ``.npz`` image pool, and batched augmentation.

Images stay uint8 ``(n, 3, 32, 32)`` (3 KiB each, so all of CIFAR fits on any GPU); each training
batch is gathered on the device and passed through :func:`augment`, which does the standard
CIFAR augmentation of He et al. (2016, Sec. 4.2) as used by Nakkiran et al. (2019, *Deep Double
Descent*, App. B): a random 32x32 crop of the image zero-padded by 4 pixels on each side, then
a horizontal flip with probability 1/2, then per-channel normalisation

.. math:: \\hat x_c = (x_c / 255 - \\mu_c) / \\sigma_c = x_c \\cdot \\frac{1}{255\\,\\sigma_c} - \\frac{\\mu_c}{\\sigma_c},

all as a few whole-batch tensor operations on whatever device the batch is on (no per-image
Python loop, no host round trip). It is the same transformation as torchvision's
``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip()``, ``ToTensor()``, ``Normalize(mu, sigma)``.

``mu`` and ``sigma`` are the per-channel mean and standard deviation of the training split's
pixels (in [0, 1]), the values commonly quoted for CIFAR-10 and CIFAR-100.
"""
from __future__ import annotations

import functools
import math
import os
import threading
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .validation import ConfigError, non_negative_int, one_of

CIFAR_DATASETS = ("cifar10", "cifar100")
NUM_CLASSES = {"cifar10": 10, "cifar100": 100}

#: Per-channel (R, G, B) mean and standard deviation of the training split, pixels in [0, 1].
CIFAR_MEAN_STD = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
CIFAR10_MEAN, CIFAR10_STD = CIFAR_MEAN_STD["cifar10"]

#: One thread at a time loads (and, if allowed, downloads and extracts) through torchvision: groups trained at
#: once (:mod:`ddlib.concurrency`) must not write into one data folder together.
_LOAD_LOCK = threading.Lock()


def _torchvision_class(name: str):
    from torchvision import datasets

    return datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100


def require_files(name: str, root: str | os.PathLike, download: bool = False) -> Path:
    """The folder of ``name``'s files under ``root``; raise :class:`ConfigError` naming it, the missing files and
    the ways out where a split file is missing there and ``download`` is off (sizes and checksums are
    torchvision's to check)."""
    one_of("dataset", name, CIFAR_DATASETS)
    cls = _torchvision_class(name)
    folder = Path(root).expanduser() / cls.base_folder
    missing = [f for f in _split_files(name) if not (folder / f).is_file()]
    if missing and not download:
        raise ConfigError(
            f"{name} files not found in {folder} (missing: {', '.join(missing)}). Put the extracted "
            f"'{cls.filename}' there (or point $DDLIB_DATA at the folder that holds '{cls.base_folder}'), "
            f"or allow downloading: set DDLIB_DOWNLOAD=1 in the environment (ddlib.load_data), or pass "
            f"download=True (ddlib.cifar.load_cifar)")
    return folder


def load_cifar(name: str, root: str | os.PathLike, train: bool, download: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Load a CIFAR split through ``torchvision.datasets.CIFAR10`` / ``CIFAR100``.

    Returns ``(images, labels)``: uint8 ``(n, 3, 32, 32)`` (CHW, RGB) and int64 ``(n,)`` (the
    fine labels for CIFAR-100), on the CPU. torchvision looks for (or, with ``download=True``,
    downloads into) ``root/cifar-10-batches-py`` or ``root/cifar-100-python`` and checks every
    file's md5. Raises :class:`ConfigError` if the files are missing or corrupted.

    A split is read (and its md5s checked) once per process while its files are unchanged (same size and
    modification time): a sweep loads the data once per group of runs, and a second read would cost more than
    the copy each call returns (the caller may change it in place).
    """
    folder = require_files(name, root, download)
    with _LOAD_LOCK:
        key = (name, str(folder.resolve()), bool(train))
        cached = _SPLITS.get(key)
        if cached is None or cached[0] != _files_stamp(name, folder):
            split = _read_split(name, folder, train, download)
            _SPLITS[key] = cached = (_files_stamp(name, folder), split)  # stamped after any download
        images, labels = cached[1]
    return images.clone(), labels.clone()


#: ``(name, folder, train) -> (files' sizes and times, (images, labels))``: the splits read so far.
_SPLITS: dict[tuple, tuple] = {}


def _split_files(name: str) -> list[str]:
    """The files torchvision reads for ``name``: every split's batches and the metadata."""
    cls = _torchvision_class(name)
    return [f for f, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]


def _files_stamp(name: str, folder: Path) -> tuple:
    """Each file's name, size and modification time (name alone where it is missing)."""
    paths = [folder / f for f in _split_files(name)]
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else (p.name,) for p in paths)


def _read_split(name: str, folder: Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        ds = _torchvision_class(name)(root=str(folder.parent), train=bool(train), download=download)
    except RuntimeError as err:  # torchvision's md5 check failed
        raise ConfigError(f"{name} files in {folder} are corrupted or incomplete ({err}); delete the "
                          f"folder and download again (DDLIB_DOWNLOAD=1 or download=True)") from err
    images = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))  # HWC -> CHW
    labels = torch.as_tensor(np.asarray(ds.targets, dtype=np.int64))
    return images, labels


def _as_chw(arr: np.ndarray, path) -> np.ndarray:
    if arr.dtype != np.uint8 or arr.ndim != 4 or not (arr.shape[-1] == 3 or arr.shape[1] == 3):
        raise ConfigError(f"images in {path} must be uint8 of shape (n, 32, 32, 3) or (n, 3, 32, 32); "
                          f"got {arr.dtype} {arr.shape}")
    return arr.transpose(0, 3, 1, 2) if arr.shape[-1] == 3 else arr


def load_npz_pool(paths, max_images: int | None = None, image_key: str = "X", label_key: str = "Y"
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Load an unlabeled image pool from one or more ``.npz`` files, e.g. the CIFAR-5m parts.

    CIFAR-5m (Nakkiran, Neyshabur & Sedghi 2021, *The Deep Bootstrap Framework*) ships
    ``cifar5m_part{0..5}.npz`` with ``X``: uint8 ``(n, 32, 32, 3)`` and ``Y``: labels. Returns
    ``(images, labels)``: uint8 ``(n, 3, 32, 32)`` in file order (at most ``max_images``), and int64
    labels, or ``None`` if any file has no ``label_key``. Labels are for oracle checks only.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not paths:
        raise ConfigError("paths must name at least one .npz file")
    if max_images is not None:
        non_negative_int("max_images", max_images)
    xs, ys, have, labeled = [], [], 0, True
    for p in paths:
        if max_images is not None and have >= max_images:
            break
        if not Path(p).is_file():
            raise ConfigError(f"pool file not found: {p}")
        with np.load(p) as z:
            if image_key not in z.files:
                raise ConfigError(f"{p} has no array {image_key!r}; it has {', '.join(z.files)}")
            x = _as_chw(z[image_key], p)
            y = z[label_key] if label_key in z.files else None
        take = len(x) if max_images is None else min(len(x), max_images - have)
        xs.append(torch.from_numpy(np.ascontiguousarray(x[:take])))
        labeled = labeled and y is not None
        if y is not None:
            ys.append(torch.as_tensor(np.asarray(y[:take], dtype=np.int64)))
        have += take
    images = torch.cat(xs) if len(xs) > 1 else xs[0]
    labels = (torch.cat(ys) if len(ys) > 1 else ys[0]) if labeled else None
    return images, labels


def resolve_mean_std(mean_std) -> tuple[tuple, tuple]:
    """The per-channel ``(mean, std)`` that normalises uint8 images: ``mean_std`` itself, or a dataset's name
    (``"cifar10"``, ``"cifar100"``) looked up in :data:`CIFAR_MEAN_STD`. Required (``None`` is refused): the
    two datasets' statistics differ, so no default would be right for both."""
    if mean_std is None:
        raise ConfigError("uint8 images need mean_std: the dataset's name ('cifar10' or 'cifar100') or its "
                          "(mean, std), as ddlib.cifar.CIFAR_MEAN_STD holds them")
    if isinstance(mean_std, str):
        return CIFAR_MEAN_STD[one_of("mean_std", mean_std, CIFAR_DATASETS)]
    mean, std = mean_std
    return tuple(mean), tuple(std)


@functools.lru_cache(maxsize=64)
def _affine(mean: tuple, std: tuple, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(1 / (255 std), -mean / std)`` as ``(C, 1, 1)`` tensors on ``device``, made once: a host-to-device
    copy per batch would synchronise the stream every step."""
    c = len(mean)
    scale = torch.tensor([1.0 / (255.0 * v) for v in std]).view(c, 1, 1)
    shift = torch.tensor([-m / v for m, v in zip(mean, std)]).view(c, 1, 1)
    return scale.to(device), shift.to(device)


def normalize(x: torch.Tensor, mean=CIFAR10_MEAN, std=CIFAR10_STD, dtype: torch.dtype = torch.float32
              ) -> torch.Tensor:
    """``(x / 255 - mean) / std`` per channel (dim -3) as one multiply-add in float32, cast to ``dtype``."""
    c = x.shape[-3]
    if len(mean) != c or len(std) != c:
        raise ConfigError(f"mean and std need {c} entries (one per channel); got {len(mean)} and {len(std)}")
    scale, shift = _affine(tuple(map(float, mean)), tuple(map(float, std)), x.device)
    return torch.addcmul(shift, x.to(torch.float32), scale).to(dtype)


def augment_draws(n: int, generator: torch.Generator, padding: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """The random numbers of :func:`augment` for ``n`` images: crop offsets ``(2, n)`` (rows, then
    columns), uniform on ``{0, ..., 2 * padding}``, and flips ``(n,)`` (bool, probability 1/2), drawn
    in that order on ``generator.device``."""
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator, device=generator.device)
    flips = torch.randint(0, 2, (n,), generator=generator, device=generator.device).bool()
    return offsets, flips


def apply_augment(x: torch.Tensor, offsets: torch.Tensor, flips: torch.Tensor, *, padding: int = 4,
                  flip: bool = True, mean=CIFAR10_MEAN, std=CIFAR10_STD, dtype: torch.dtype = torch.float32
                  ) -> torch.Tensor:
    """Crop, flip and normalise the uint8 batch ``x`` ``(..., C, H, W)`` with given draws (one per image
    of the flattened batch; see :func:`augment_draws`): one ``gather`` from the padded batch."""
    *lead, c, h, w = x.shape
    xf = x.reshape(-1, c, h, w)
    n, dev = xf.shape[0], x.device
    offsets, flips = offsets.to(dev), flips.to(dev)
    rows = offsets[0, :, None] + torch.arange(h, device=dev)  # (n, h) in padded coordinates
    cols = offsets[1, :, None] + torch.arange(w, device=dev)  # (n, w)
    if flip:
        cols = torch.where(flips[:, None], cols.flip(1), cols)
    wp = w + 2 * padding
    lin = (rows[:, :, None] * wp + cols[:, None, :]).view(n, 1, h * w).expand(n, c, h * w)
    padded = F.pad(xf, (padding,) * 4).reshape(n, c, -1)
    out = torch.gather(padded, 2, lin).view(n, c, h, w)
    return normalize(out, mean, std, dtype).view(*lead, c, h, w)


def augment(x: torch.Tensor, generator: torch.Generator, *, padding: int = 4, flip: bool = True,
            mean=CIFAR10_MEAN, std=CIFAR10_STD, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Random crop (zero padding ``padding``) + horizontal flip + normalisation of a uint8 batch.

    ``x``: uint8 ``(..., C, H, W)``, e.g. ``(batch, 3, 32, 32)`` or ``(members, batch, 3, 32, 32)``;
    every image gets its own offsets ``(dy, dx)`` uniform on ``{0, ..., 2 * padding}`` and its own
    flip. Output pixel ``(i, j)`` of an image is padded pixel ``(dy + i, dx + j')`` with
    ``j' = W - 1 - j`` if flipped else ``j``, i.e. original pixel ``(dy + i - p, dx + j' - p)`` or 0
    outside the image: one ``gather`` from the padded batch. Random numbers are drawn on
    ``generator.device`` (pass a CUDA generator for CUDA batches to avoid a host copy), so the
    result is a deterministic function of ``x`` and the generator's state. Returns ``dtype``.
    """
    non_negative_int("padding", padding)
    n = math.prod(x.shape[:-3])
    offsets, flips = augment_draws(n, generator, padding)
    return apply_augment(x, offsets, flips, padding=padding, flip=flip, mean=mean, std=std, dtype=dtype)


def augment_members(x: torch.Tensor, generators, *, padding: int = 4, mean=CIFAR10_MEAN, std=CIFAR10_STD,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """:func:`augment` of each member's batch ``x[i]`` (``x``: ``(members, batch, C, H, W)``) with the
    member's own generator ``generators[i]``, equal bit for bit to
    ``torch.stack([augment(x[i], g) for i, g in enumerate(generators)])``, but only the random draws
    are per member: the crop, flip and normalisation run once on the whole ``(members * batch)``
    batch (about 2 instead of about 15 kernel launches per member and step)."""
    non_negative_int("padding", padding)
    if len(generators) != x.shape[0]:
        raise ConfigError(f"need one generator per member: {x.shape[0]} members, {len(generators)} generators")
    draws = [augment_draws(x.shape[1], g, padding) for g in generators]
    offsets = torch.cat([o.to(x.device) for o, _ in draws], dim=1)
    flips = torch.cat([f.to(x.device) for _, f in draws])
    return apply_augment(x, offsets, flips, padding=padding, mean=mean, std=std, dtype=dtype)
