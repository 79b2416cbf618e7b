"""Distillation from the Python side: label a pool with a teacher, build student configs.

The training itself is the same engine as every other run (:mod:`ddlib.runner`): a student
is a :class:`~ddlib.config.RunConfig` whose :class:`~ddlib.config.TargetConfig` names its
teacher's config and the method. Methods (Cotter et al. 2021; Hinton et al. 2015):

* ``hard_pool``  - argmax labels of the teacher on a held-out unlabeled pool (the paper's method);
* ``hard_labeled`` - argmax labels of the teacher on the labeled inputs;
* ``soft_kd_labeled`` / ``soft_kd_pool`` - Hinton's loss on the labeled inputs / on the pool;
* ``oracle_pool`` - the pool's true labels (a reference, no teacher);
* ``direct`` - the student trained on the noisy labeled set (a plain ``labels`` run).

The teacher's logits are computed once per input before the student trains (offline distillation,
:func:`ddlib.runner._teacher_logits`): for CIFAR on the un-augmented image, while the student trains on
random crops and flips of it, so soft targets are those of the clean view, not of each augmented one.
"""
from __future__ import annotations

import dataclasses

import torch

from .config import POOL_METHODS, TARGET_METHODS, RunConfig, TargetConfig
from .train import predict_logits
from .validation import ConfigError, one_of

#: Distilled students start from seed ``s + STUDENT_SEED_OFFSET`` (init and batch order), not the teacher's
#: own ``s``: a student as wide as its teacher would otherwise start from the teacher's exact
#: weights and batch order. ``direct`` keeps ``s``: it *is* the double-descent run at that width.
STUDENT_SEED_OFFSET = 1000

#: Every target method of :mod:`ddlib.config`, with ``labels`` named ``direct`` (a student trained on the labels).
STUDENT_METHODS = ("direct",) + tuple(m for m in TARGET_METHODS if m != "labels")


@torch.no_grad()
def hard_labels(teacher: torch.nn.Module, x: torch.Tensor, chunk: int = 8192, mean_std=None) -> torch.Tensor:
    """The teacher's argmax labels on ``x`` (batched inference on ``x``'s device, no Python loop over samples);
    uint8 images are normalised with ``mean_std`` (required for them: ``"cifar10"``, ``"cifar100"`` or a
    ``(mean, std)`` pair; :func:`ddlib.train.predict_logits`)."""
    return predict_logits(teacher, x, members=1, chunk=chunk, mean_std=mean_std)[0].argmax(-1)


def student_config(teacher: RunConfig, method: str, *, model: str, width: int, pool_size: int = 0,
                   pool_seed: int = TargetConfig.pool_seed, temperature: float = TargetConfig.temperature,
                   alpha: float = TargetConfig.alpha,
                   seed: int | None = None) -> RunConfig:
    """The config of a student of ``teacher`` by ``method`` (same data, recipe and seeds by default).

    ``direct`` and ``oracle_pool`` do not use the teacher (the ``direct`` config is exactly a
    double-descent sweep run at the student's width, so it is shared with that chapter). Every
    other student's seeds are offset by :data:`STUDENT_SEED_OFFSET`.
    """
    one_of("method", method, STUDENT_METHODS)
    if not isinstance(teacher, RunConfig):
        raise ConfigError(f"teacher must be a ddlib.RunConfig; got {type(teacher).__name__}")
    seed = teacher.init_seed if seed is None else seed
    if method == "direct":
        return dataclasses.replace(teacher, model=model, width=width, init_seed=seed, order_seed=seed,
                                   targets=TargetConfig())
    seed += STUDENT_SEED_OFFSET
    uses_pool = method in POOL_METHODS
    if uses_pool and pool_size < teacher.train.batch_size:
        raise ConfigError(f"pool_size ({pool_size}) must be at least one batch (batch_size={teacher.train.batch_size})")
    if method == "oracle_pool":
        targets = TargetConfig(method=method, pool_size=pool_size, pool_seed=pool_seed)
    else:
        soft = method.startswith("soft")
        # pool_seed only matters where a pool is drawn; elsewhere it keeps its default (no false hash changes)
        targets = TargetConfig(method=method, teacher=teacher, pool_size=pool_size if uses_pool else 0,
                               pool_seed=pool_seed if uses_pool else TargetConfig.pool_seed, temperature=temperature if soft else TargetConfig.temperature,
                               alpha=alpha if method == "soft_kd_labeled" else TargetConfig.alpha)
    return dataclasses.replace(teacher, model=model, width=width, init_seed=seed, order_seed=seed, targets=targets)
