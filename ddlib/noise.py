"""Symmetric label noise: a fixed fraction of labels replaced by a uniformly random *other* class.

Nakkiran et al. 2019 (*Deep Double Descent*, their experimental setup) give each label, independently with probability
``r``, a uniformly random incorrect class, drawn once before training. This is its fixed-count form:
with rate ``r`` on ``n`` labels, exactly ``round(r * n)`` positions are chosen uniformly without
replacement and each gets a class drawn uniformly from the ``C - 1`` classes that differ from
its true label, so the noise rate a run sees is ``r`` itself, not ``r`` on average (on a small
labeled set the independent draw would vary it by about ``sqrt(r (1 - r) / n)``). The draw uses its
own seed, independent of initialisation and batch order.
"""
from __future__ import annotations

import numpy as np

from .validation import in_unit_interval, positive_int


def corrupt_labels(labels: np.ndarray, rate: float, num_classes: int, seed: int) -> np.ndarray:
    """Return a copy of ``labels`` with exactly ``round(rate * len(labels))`` labels changed.

    Each changed label is ``(y + u) mod C`` with ``u`` uniform on ``{1, ..., C-1}``, so it is a
    uniformly random class different from ``y``.
    """
    in_unit_interval("label_noise", rate, closed_right=False)
    positive_int("num_classes", num_classes)
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng([seed, 0x6E6F697365])  # a stream of its own ("noise")
    n_flip = int(round(rate * len(labels)))
    flip = rng.choice(len(labels), size=n_flip, replace=False)
    noisy = labels.copy()
    if num_classes > 1:
        shift = rng.integers(1, num_classes, size=n_flip)
        noisy[flip] = (labels[flip] + shift) % num_classes
    return noisy
