"""MNIST-1D (Greydanus & Kobak, 2020/2024) generated offline and cached on disk.

MNIST-1D is procedural: ten 1-D templates (the digits' outlines) are padded, shifted, sheared,
scaled, blurred and corrupted with correlated noise into 40-sample signals. The ``mnist1d``
package's :func:`mnist1d.data.make_dataset` runs that generator; we never call its
``get_dataset`` (which tries a download and caches by path only).

Because the generator is a slow Python loop (about 14 s per 100k samples), each draw is
cached as an ``.npz`` keyed by a hash of *every* generator argument, so changing any of them
gives a new file, never a stale one. ``make_dataset`` also reseeds Python's and NumPy's global
random generators; we save and restore both around it so callers' randomness is untouched, and let
one thread at a time run it.

``make_dataset`` standardises each draw by its own scalar mean and standard deviation (the labeled set,
the test set and every pool chunk are separate draws), not by shared statistics; draws of one generator
differ in those only by sampling noise, which shrinks as the draws grow.
"""
from __future__ import annotations

import hashlib
import io
import json
import random
import threading
from pathlib import Path

import numpy as np

from .paths import cache_dir
from .storage import atomic_write_bytes
from .validation import non_negative_int, positive_int

NUM_CLASSES = 10
LENGTH = 40


def _generator_args(num_samples: int, seed: int) -> dict:
    from mnist1d.data import get_dataset_args

    args = dict(get_dataset_args(as_dict=True))
    args.pop("url", None)  # the download address plays no part in generation
    # The generator makes num_samples // 10 samples per class: round up to whole classes.
    # One draw of samples; we do our own train/test split, so the package's split is 100/0.
    per_class = -(-int(num_samples) // NUM_CLASSES)
    args.update(num_samples=per_class * NUM_CLASSES, train_split=1.0, seed=int(seed))
    return args


#: The generator draws from (and reseeds) Python's and NumPy's global random state, so two threads must not
#: run it at once (groups trained at once, :mod:`ddlib.concurrency`); held also while the cache is read or
#: written, so that one thread does not generate what another is about to save.
_GENERATOR_LOCK = threading.Lock()


def generate(num_samples: int, seed: int, *, cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)``: ``num_samples`` MNIST-1D signals (float32, shape ``(n, 40)``) and labels.

    The same ``(num_samples, seed)`` always gives the same arrays. Results are cached under
    ``cache`` (default: :func:`ddlib.paths.cache_dir`).
    """
    positive_int("num_samples", num_samples)
    non_negative_int("seed", seed)
    args = _generator_args(num_samples, seed)
    key = hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = Path(cache or cache_dir()) / "mnist1d" / f"mnist1d-n{num_samples}-s{seed}-{key}.npz"
    with _GENERATOR_LOCK:
        if path.exists():
            with np.load(path) as f:
                return f["x"][:num_samples], f["y"][:num_samples]
        x, y = _run_generator(args)
        buf = io.BytesIO()
        np.savez(buf, x=x, y=y, args=json.dumps(args, default=str))
        atomic_write_bytes(path, buf.getvalue())
    return x[:num_samples], y[:num_samples]


def _run_generator(args: dict) -> tuple[np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    view = get_dataset_args()  # an ObjectView; set every argument we hashed
    for k, v in args.items():
        setattr(view, k, v)
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(view)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    x = np.concatenate([data["x"], data["x_test"]]).astype(np.float32)
    y = np.concatenate([data["y"], data["y_test"]]).astype(np.int64)
    return x, y
