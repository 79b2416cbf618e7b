"""Training losses for ensembles: logits have shape ``(members, batch, classes)``.

Each member's loss is a mean over its batch; the ensemble loss is the *sum* over members, so
every member receives exactly the gradient it would get if trained alone.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sum over members of the mean cross-entropy ``-log softmax(z)_y``."""
    s, b, c = logits.shape
    return F.cross_entropy(logits.reshape(s * b, c).float(), labels.reshape(s * b), reduction="sum") / b


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor | None,
            temperature: float, alpha: float) -> torch.Tensor:
    """Hinton, Vinyals & Dean (2015), *Distilling the Knowledge in a Neural Network*, Sec. 2.

    .. math::
        L = (1 - \\alpha)\\,\\mathrm{CE}(y, \\sigma(z_s))
            + \\alpha\\,T^2\\,\\mathrm{KL}\\big(\\sigma(z_t / T)\\,\\|\\,\\sigma(z_s / T)\\big)

    The ``T**2`` factor keeps the soft term's gradients on the same scale as the hard term's
    when ``T`` changes (the gradient of the soft term scales as ``1/T**2``). With
    ``labels=None`` only the soft term is used (``alpha`` is then taken as 1).
    Returned as the sum over members of each member's batch mean.
    """
    s, b, c = student_logits.shape
    log_p_s = F.log_softmax(student_logits.float() / temperature, dim=-1)
    log_p_t = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(-1).sum() / b
    soft = temperature**2 * kl
    if labels is None:
        return soft
    return (1 - alpha) * cross_entropy(student_logits, labels) + alpha * soft


def kd_loss_per_member(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                       temperature: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """:func:`kd_loss` with each member's own ``temperature[i]`` and ``alpha[i]`` (tensors of shape ``(members,)``).

    Lets members with different targets share one ensemble: ``alpha = 0`` is plain cross-entropy on
    ``labels`` (the teacher term is multiplied by 0), ``alpha = 1`` the soft term alone (the labels
    are then placeholders, multiplied by 0). Returned as the sum over members of each member's batch mean.
    """
    s, b, c = student_logits.shape
    t = temperature.float().view(s, 1, 1)
    log_p_s = F.log_softmax(student_logits.float() / t, dim=-1)
    log_p_t = F.log_softmax(teacher_logits.float() / t, dim=-1)
    soft = t.view(s) ** 2 * (log_p_t.exp() * (log_p_t - log_p_s)).sum(-1).sum(-1) / b
    hard = F.cross_entropy(student_logits.reshape(s * b, c).float(), labels.reshape(s * b),
                           reduction="none").view(s, b).sum(-1) / b
    a = alpha.float()
    return ((1 - a) * hard + a * soft).sum()
