"""The training loop: an ensemble of members, data on the device, batches indexed there.

Per step, each member draws its own batch of indices from its own epoch permutation (seeded by
its ``order_seed``); the inputs are gathered on the device with one indexing operation
(``x[idx]`` with ``idx`` of shape ``(members, batch)``), and nothing crosses the host-device
boundary except the permutations, once per epoch. On CUDA the forward pass runs under bf16
autocast; losses are computed in float32.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from tqdm import tqdm

from .config import TrainConfig
from .losses import cross_entropy, kd_loss
from .validation import ConfigError


@dataclass
class Targets:
    """Training targets for each member, on the device.

    ``hard``: int64 labels ``(members, n)``, or ``None``; ``teacher_logits``: float
    ``(members, n, classes)`` for soft distillation, or ``None``. With both, the loss is
    Hinton's mixture; with only ``teacher_logits``, the soft term alone.
    """

    hard: torch.Tensor | None = None
    teacher_logits: torch.Tensor | None = None
    temperature: float = 1.0
    alpha: float = 1.0

    def loss(self, logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        rows = torch.arange(idx.shape[0], device=idx.device)[:, None]
        hard = None if self.hard is None else self.hard[rows, idx]
        if self.teacher_logits is None:
            return cross_entropy(logits, hard)
        return kd_loss(logits, self.teacher_logits[rows, idx], hard, self.temperature, self.alpha)


def autocast_for(device: torch.device):
    """bf16 autocast on CUDA; a no-op elsewhere (CPU bf16 is slower than float32 for these sizes)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba 2015) or plain SGD with momentum 0.9, constant learning rate."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay, foreach=True)


def _epoch_indices(gens: list[torch.Generator], n: int, batch: int, device) -> torch.Tensor:
    """One epoch of batch indices, shape ``(steps_per_epoch, members, batch)``; drops the tail."""
    per_epoch = n // batch
    perms = torch.stack([torch.randperm(n, generator=g)[: per_epoch * batch] for g in gens])
    return perms.view(len(gens), per_epoch, batch).transpose(0, 1).to(device, non_blocking=True)


def train_ensemble(model: torch.nn.Module, x: torch.Tensor, targets: Targets, cfg: TrainConfig,
                   order_seeds, *, progress: bool | str = False) -> list[float]:
    """Train ``model`` (an ensemble) in place for ``cfg.steps`` steps; return the loss every 100 steps.

    ``x`` holds the training inputs ``(n, *shape)`` shared by all members, already on the device.
    """
    n = x.shape[0]
    if cfg.batch_size > n:
        raise ConfigError(f"batch_size ({cfg.batch_size}) must not exceed the training set size ({n})")
    device = x.device
    gens = [torch.Generator().manual_seed(int(s) + 0x5EED) for s in order_seeds]
    opt = make_optimizer(model.parameters(), cfg)
    model.train()
    losses, epoch, step_in_epoch = [], None, 0
    bar = tqdm(total=cfg.steps, desc=progress if isinstance(progress, str) else "train",
               disable=not progress, mininterval=2.0, leave=False)
    for step in range(cfg.steps):
        if epoch is None or step_in_epoch == epoch.shape[0]:
            epoch, step_in_epoch = _epoch_indices(gens, n, cfg.batch_size, device), 0
        idx = epoch[step_in_epoch]
        step_in_epoch += 1
        with autocast_for(device):
            logits = model(x[idx])
        loss = targets.loss(logits, idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == cfg.steps - 1:
            losses.append(loss.item() / idx.shape[0])
        bar.update(1)
    bar.close()
    return losses


@torch.no_grad()
def predict_logits(model: torch.nn.Module, x: torch.Tensor, members: int, chunk: int = 4096) -> torch.Tensor:
    """Logits of every member on every input, shape ``(members, n, classes)``, in float32."""
    model.eval()
    out = []
    for start in range(0, x.shape[0], chunk):
        xb = x[start : start + chunk]
        with autocast_for(x.device):
            out.append(model(xb.unsqueeze(0).expand(members, *xb.shape)).float())
    return torch.cat(out, dim=1)


def error_rate(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-member fraction of argmax predictions that differ from ``labels`` (``(n,)`` or ``(members, n)``)."""
    return (logits.argmax(-1) != labels).float().mean(-1)
