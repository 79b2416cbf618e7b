"""Distillation from the Python side: label a pool with a teacher, build student configs.

The training itself is the same engine as every other run (:mod:`ddlib.runner`): a student
is a :class:`~ddlib.config.RunConfig` whose :class:`~ddlib.config.TargetConfig` names its
teacher's config and the method. Methods (Cotter et al. 2021; Hinton et al. 2015):

* ``hard_pool``  - argmax labels of the teacher on a held-out unlabeled pool (the paper's method);
* ``hard_labeled`` - argmax labels of the teacher on the labeled inputs;
* ``soft_kd_labeled`` / ``soft_kd_pool`` - Hinton's loss on the labeled inputs / on the pool;
* ``oracle_pool`` - the pool's true labels (an upper bound, no teacher);
* ``direct`` - the student trained on the noisy labeled set (a plain ``labels`` run).
"""
from __future__ import annotations

import dataclasses

import torch

from .config import RunConfig, TargetConfig
from .train import predict_logits
from .validation import ConfigError, one_of

#: Distilled students start from seed ``s + STUDENT_SEED_OFFSET`` (init and batch order), not the teacher's
#: own ``s``: a student as wide as its teacher would otherwise start from the teacher's exact
#: weights and batch order. ``direct`` keeps ``s``: it *is* the double-descent run at that width.
STUDENT_SEED_OFFSET = 1000

STUDENT_METHODS = ("direct", "hard_labeled", "hard_pool", "soft_kd_labeled", "soft_kd_pool", "oracle_pool")


@torch.no_grad()
def hard_labels(teacher: torch.nn.Module, x: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """The teacher's argmax labels on ``x`` (batched inference on ``x``'s device, no Python loop over samples)."""
    return predict_logits(teacher, x, members=1, chunk=chunk)[0].argmax(-1)


def student_config(teacher: RunConfig, method: str, *, model: str, width: int, pool_size: int = 0,
                   pool_seed: int = 1000, temperature: float = 4.0, alpha: float = 0.9,
                   seed: int | None = None) -> RunConfig:
    """The config of a student of ``teacher`` by ``method`` (same data, recipe and seeds by default).

    ``direct`` and ``oracle_pool`` do not use the teacher (the ``direct`` config is exactly a
    double-descent sweep run at the student's width, so it is shared with that chapter). Every
    other student's seeds are offset by :data:`STUDENT_SEED_OFFSET`.
    """
    one_of("method", method, STUDENT_METHODS)
    seed = teacher.init_seed if seed is None else seed
    if method == "direct":
        return dataclasses.replace(teacher, model=model, width=width, init_seed=seed, order_seed=seed,
                                   targets=TargetConfig())
    seed += STUDENT_SEED_OFFSET
    if method == "oracle_pool":
        targets = TargetConfig(method=method, pool_size=pool_size, pool_seed=pool_seed)
    else:
        uses_pool = method.endswith("_pool")
        if uses_pool and pool_size < teacher.train.batch_size:
            raise ConfigError(f"pool_size ({pool_size}) must be at least one batch (batch_size={teacher.train.batch_size})")
        soft = method.startswith("soft")
        # pool_seed only matters where a pool is drawn; elsewhere it keeps its default (no false hash changes)
        targets = TargetConfig(method=method, teacher=teacher, pool_size=pool_size if uses_pool else 0,
                               pool_seed=pool_seed if uses_pool else TargetConfig.pool_seed, temperature=temperature if soft else 4.0,
                               alpha=alpha if method == "soft_kd_labeled" else 0.9)
    return dataclasses.replace(teacher, model=model, width=width, init_seed=seed, order_seed=seed, targets=targets)
