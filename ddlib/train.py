"""The training loop: an ensemble of members, data on the device, batches indexed there.

Per step, each member draws its own batch of indices from its own epoch permutation (seeded by
its ``order_seed``); the inputs are gathered on the device with one indexing operation
(``x[idx]`` with ``idx`` of shape ``(members, batch)``), and nothing crosses the host-device
boundary except the permutations, once per epoch. On CUDA the forward pass runs under bf16
autocast; losses are computed in float32.

Images (uint8 inputs, :mod:`ddlib.cifar`): each member's batch goes through
:func:`ddlib.cifar.augment` (random crop with 4-pixel zero padding, horizontal flip,
normalisation) with the member's own augmentation generator on the device, seeded by its
``order_seed`` (one batched crop for all members; :func:`ddlib.cifar.augment_members`), so member
``i`` of an ensemble sees exactly the batches it would see alone.
:func:`predict_logits` only normalises them. ``$DDLIB_COMPILE`` (or ``compile_mode``) runs the training
forward pass through ``torch.compile`` in one of its modes (off by default; see
:func:`resolve_compile_mode`). Long runs save periodic checkpoints and resume from them
(:mod:`ddlib.checkpoint`).
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Callable

import torch
from tqdm import tqdm

from . import cifar
from .checkpoint import Checkpointing
from .concurrency import in_worker_thread, refuse_compile
from .config import TrainConfig
from .cuda_graph import CAPTURE_GUARD, GraphedStep, eager_step, resolve_cuda_graph
from .devices import cudnn_benchmark, resolve_cudnn_benchmark
from .losses import cross_entropy, kd_loss, kd_loss_per_member
from .paths import OFF_WORDS, ON_WORDS, env_word, switch_setting
from .validation import ConfigError, numpy_hint


@dataclass
class Targets:
    """Training targets for each member, on the device.

    ``hard``: int64 labels ``(members, n)``, or ``None``; ``teacher_logits``: float
    ``(members, n, classes)`` for soft distillation, or ``None``. With both, the loss is
    Hinton's mixture; with only ``teacher_logits``, the soft term alone. ``temperature`` and
    ``alpha`` are one number for all members, or tensors ``(members,)`` when members of one ensemble
    are trained differently (:func:`ddlib.losses.kd_loss_per_member`; ``hard`` is then required).
    """

    hard: torch.Tensor | None = None
    teacher_logits: torch.Tensor | None = None
    temperature: float | torch.Tensor = 1.0
    alpha: float | torch.Tensor = 1.0

    def loss(self, logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        rows = torch.arange(idx.shape[0], device=idx.device)[:, None]
        hard = None if self.hard is None else self.hard[rows, idx]
        if self.teacher_logits is None:
            return cross_entropy(logits, hard)
        if isinstance(self.alpha, torch.Tensor):
            return kd_loss_per_member(logits, self.teacher_logits[rows, idx], hard, self.temperature, self.alpha)
        return kd_loss(logits, self.teacher_logits[rows, idx], hard, self.temperature, self.alpha)


def autocast_for(device: torch.device, cache: bool = True):
    """bf16 autocast on CUDA; a no-op elsewhere (CPU bf16 is slower than float32 for these sizes).

    ``cache=False`` turns off autocast's cache of weight casts, which CUDA-graph capture requires."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=cache)
    return contextlib.nullcontext()


def resolve_fused_optimizer(value: str | bool | None = None, device: torch.device | None = None,
                            optimizer: str = "adam") -> bool:
    """Whether the optimiser runs in PyTorch's fused form: ``value`` (``True``/``False`` or a word), else
    ``$DDLIB_FUSED_OPTIMIZER``; ``auto`` (or unset) means on for Adam on a CUDA ``device``, off elsewhere
    (SGD's fused form was never measured, so ``auto`` leaves it off; ``on`` asks for it).

    The fused form (``fused=True``) updates every parameter, gradient and moment of a step in one kernel
    per dtype and device, where the ``foreach`` form runs one multi-tensor kernel per arithmetic
    operation: at width 64 the graphed ResNet-18 step's Adam is 2 operations instead of 17 (:mod:`ddlib.roofline`;
    the appendix). It computes the same update in another order, so weights agree within rounding, not
    bit for bit. On an H200 (2026-12-04, ``benchmarks/results/fused-adam/``) the graphed ResNet-18 trained
    1.11 to 1.14 times as fast with it as with the foreach form (k = 1, 16, 64), so it is the default on
    CUDA; on a CPU, where it was not measured and the book's results were made with the foreach form,
    it stays off. Like the CUDA graph it is a speed switch, not part of a run's hash."""
    word = switch_setting(value, "fused_optimizer", "DDLIB_FUSED_OPTIMIZER")[1]
    if word == "auto":
        return optimizer == "adam" and device is not None and device.type == "cuda"
    return word == "on"


def make_optimizer(params, cfg: TrainConfig, capturable: bool = False, fused: bool = False) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba 2015) or plain SGD with momentum 0.9, constant learning rate.

    ``capturable``: Adam keeps its step counts on the device, so that its step can be recorded in a
    CUDA graph (:mod:`ddlib.cuda_graph`; SGD needs nothing of the kind). ``fused``: PyTorch's fused
    kernels instead of its ``foreach`` ones (:func:`resolve_fused_optimizer`)."""
    impl = {"fused": True} if fused else {"foreach": True}
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, capturable=capturable, **impl)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay, **impl)


def match_loaded_state(opt: torch.optim.Optimizer, capturable: bool, fused: bool = False) -> None:
    """Make a loaded optimizer state fit this run: ``load_state_dict`` takes ``capturable``, ``fused`` and
    ``foreach`` from the saved state, so a checkpoint written with the CUDA graph (or the fused form) off
    and resumed with it on, or the other way round, would keep the saving run's setting. Adam's step counts
    go to the parameter's device (capturable or fused, as Adam itself puts them) or to the CPU, as float32."""
    for group in opt.param_groups:
        if "capturable" in group:
            group["capturable"] = capturable
        group["fused"], group["foreach"] = fused, not fused
    on_device = capturable or fused
    for param, state in opt.state.items():
        if torch.is_tensor(state.get("step")):
            state["step"] = state["step"].to(device=param.device if on_device else "cpu", dtype=torch.float32)


def _epoch_indices(gens: list[torch.Generator], n: int, batch: int, device) -> torch.Tensor:
    """One epoch of batch indices, shape ``(steps_per_epoch, members, batch)``; drops the tail."""
    per_epoch = n // batch
    perms = torch.stack([torch.randperm(n, generator=g)[: per_epoch * batch] for g in gens])
    return perms.view(len(gens), per_epoch, batch).transpose(0, 1).to(device, non_blocking=True)


def _order_generators(order_seeds) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(int(s) + 0x5EED) for s in order_seeds]


def _augment_generators(order_seeds, device) -> list[torch.Generator]:
    """One augmentation generator per member, on the training device (no host round trip per batch)."""
    return [torch.Generator(device=device).manual_seed(int(s) + 0xA06E) for s in order_seeds]


def _input_dtype(model: torch.nn.Module, device: torch.device) -> torch.dtype:
    """Images go in as bf16 under CUDA autocast, else in the model's own dtype (float32, or float64 in tests)."""
    return torch.bfloat16 if device.type == "cuda" else next(model.parameters()).dtype


#: The training loop reads the loss back to the host (a synchronisation) at step 0, every this many steps and at
#: the last step, and returns those losses.
LOSS_READ_EVERY = 100

#: ``torch.compile`` modes the training loop accepts ("off": eager). On a GPU, "reduce-overhead" (and,
#: besides its kernel search, "max-autotune") also records CUDA graphs, which pays off where per-step
#: launch overhead dominates (small widths). "max-autotune-no-cudagraphs" searches kernels only, so it
#: combines with this library's own whole-step graph (:mod:`ddlib.cuda_graph`).
COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def resolve_compile_mode(value: str | None = None) -> str:
    """The ``torch.compile`` mode for training: ``value``, or else ``$DDLIB_COMPILE``.

    Unset, empty, and :data:`ddlib.paths.OFF_WORDS` (``0``, ``false``, ``no``, ``off``) mean ``"off"``;
    :data:`ddlib.paths.ON_WORDS` (``1``, ``true``, ``yes``, ``on``) mean ``"default"``; otherwise one of
    :data:`COMPILE_MODES`.
    """
    name = "compile_mode" if value is not None else "DDLIB_COMPILE"
    raw = value.strip().lower() if value is not None else env_word("DDLIB_COMPILE")
    mode = "off" if raw in OFF_WORDS else "default" if raw in ON_WORDS else raw
    if mode not in COMPILE_MODES:
        raise ConfigError(f"{name} must be one of {', '.join(COMPILE_MODES)} (or 0/1, on/off); got {raw!r}")
    return mode


#: Seen on this project's CPU machines with torch 2.14.1: the compiled backward of the PreAct ResNet on
#: one CPU thread aborts the process with glibc heap corruption (two threads run fine). Inductor's CPU
#: backend has had such crashes with convolutions and normalisation (pytorch/pytorch#181618).
ONE_THREAD_COMPILE_WARNING = ("torch.compile on one CPU thread: with torch 2.14.1 the compiled ResNet backward "
                              "aborted with heap corruption here; use torch.set_num_threads(2) or more, or "
                              "compile mode 'off' (DDLIB_COMPILE=0)")


def compiled(model: torch.nn.Module, mode: str) -> torch.nn.Module:
    """``model`` itself for mode "off", else ``torch.compile(model, mode=...)`` (which shares its parameters).

    Compiled code of earlier models is dropped first (``torch.compiler.reset()``): a sweep compiles one
    model per width in one process, and past Dynamo's recompile limit (8) further widths would
    silently run eagerly."""
    if mode == "off":
        return model
    on_cpu = all(p.device.type == "cpu" for p in model.parameters())
    convolutional = any(p.dim() == 4 for p in model.parameters())  # 2-D convolution weights (ours are grouped)
    if on_cpu and convolutional and torch.get_num_threads() == 1:
        warnings.warn(ONE_THREAD_COMPILE_WARNING)
    torch.compiler.reset()
    return torch.compile(model, mode=None if mode == "default" else mode)


def training_step(forward: Callable[[torch.Tensor], torch.Tensor], opt: torch.optim.Optimizer, targets: Targets,
                  autocast: Callable[[], contextlib.AbstractContextManager]
                  ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The step every loop of this library runs, as a function ``step(xb, idx) -> loss``: gradients set to
    ``None``, the forward pass of ``forward`` on the inputs ``xb`` under ``autocast()``, ``targets``' loss
    on the examples ``idx``, backward, one step of ``opt``. The loss comes back detached, not read
    (no host synchronisation: :mod:`ddlib.cuda_graph` records this function; :mod:`ddlib.roofline` counts
    its operations)."""

    def step(xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        with autocast():
            logits = forward(xb)
        loss = targets.loss(logits, idx)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def batch_inputs(x, idx, aug_gens, mean_std, dtype) -> torch.Tensor:
    """The inputs of one step, ``(members, batch, *shape)``: gathered, and augmented if they are images."""
    if not aug_gens:
        return x[idx]
    mean, std = mean_std
    return cifar.augment_members(x[idx], aug_gens, mean=mean, std=std, dtype=dtype)


def train_ensemble(model: torch.nn.Module, x: torch.Tensor, targets: Targets, cfg: TrainConfig,
                   order_seeds, *, progress: bool | str = False, mean_std=None,
                   checkpoint: Checkpointing | None = None,
                   on_step: Callable[[int], None] | None = None,
                   compile_mode: str | None = None, cuda_graph: str | bool | None = None,
                   fused_optimizer: str | bool | None = None, outcome: dict | None = None) -> list[float]:
    """Train ``model`` (an ensemble) in place for ``cfg.steps`` steps; return the loss every 100 steps.

    ``x`` holds the training inputs ``(n, *shape)`` shared by all members, already on the device;
    uint8 ``x`` is images, augmented per batch and normalised with ``mean_std`` (required for them: the
    dataset's name or its per-channel ``(mean, std)``, :func:`ddlib.cifar.resolve_mean_std`). With ``checkpoint``, the state is saved every
    ``checkpoint.every`` steps and a saved state is resumed from. ``on_step(step)`` is called
    after each step (a test or timing hook). ``compile_mode``: a :func:`resolve_compile_mode` value (default
    ``$DDLIB_COMPILE``, else off); it changes speed, not the recipe, so it is not part of a run's hash.
    ``cuda_graph``: a :func:`ddlib.cuda_graph.resolve_cuda_graph` value (default ``$DDLIB_CUDA_GRAPH``, else
    on for CUDA): the whole step is recorded once as a CUDA graph and replayed (likewise a speed switch).
    ``fused_optimizer``: a :func:`resolve_fused_optimizer` value (default ``$DDLIB_FUSED_OPTIMIZER``, else
    on for CUDA and off elsewhere), the optimiser's fused kernels (a speed switch too).
    cuDNN's algorithm autotuning is on during the loop as :func:`ddlib.devices.resolve_cudnn_benchmark`
    says (``$DDLIB_CUDNN_BENCHMARK``, else on for CUDA). ``outcome``, when given, is filled with
    ``step_loop``: whether this library's whole-step graph ran, one of :data:`STEP_LOOPS` (the switch may
    be on and the capture still fail, or the steps left after a resume be too few to capture; a
    compile mode that records graphs of its own reports "eager" here and is named in ``compile_mode``);
    for a run resumed from a checkpoint, the loops of its parts in order where they differ, joined by
    " then " (e.g. "cuda graph then eager"); ``cudnn_benchmark``, ``compile_mode`` and ``fused_optimizer``
    (this part's).
    """
    n = x.shape[0]
    if cfg.batch_size > n:
        raise ConfigError(f"batch_size ({cfg.batch_size}) must not exceed the training set size ({n})")
    device = x.device
    gens = _order_generators(order_seeds)
    images = x.dtype == torch.uint8
    aug_gens = _augment_generators(order_seeds, device) if images else []
    mean_std = cifar.resolve_mean_std(mean_std) if images else None
    in_dtype = _input_dtype(model, device)
    mode = resolve_compile_mode(compile_mode)
    if in_worker_thread():
        refuse_compile(mode, "training in a thread of ddlib.concurrency.stream_executor")
    graphed = resolve_cuda_graph(cuda_graph, device, mode)
    fused = resolve_fused_optimizer(fused_optimizer, device, cfg.optimizer)
    opt = make_optimizer(model.parameters(), cfg, capturable=graphed, fused=fused)
    forward = compiled(model, mode)

    one_step = training_step(forward, opt, targets, lambda: autocast_for(device, cache=not graphed))
    run_step = GraphedStep(one_step) if graphed else eager_step(one_step)
    losses, epoch, step_in_epoch, start, earlier_loops = [], None, 0, 0, []
    if checkpoint is not None and checkpoint.active(cfg.steps):
        saved = checkpoint.load()
        if saved is not None:
            model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["optimizer"])
            match_loaded_state(opt, graphed, fused)
            for g, st in zip(gens + aug_gens, saved["order_gens"] + saved["aug_gens"]):
                g.set_state(st)
            epoch, step_in_epoch = saved["epoch"].to(device), saved["step_in_epoch"]
            start, losses = saved["step"], list(saved["losses"])
            earlier_loops = list(saved.get("step_loops", []))  # checkpoints written before it lack it
            checkpoint.resumed_from = start
    else:
        checkpoint = None
    autotune = resolve_cudnn_benchmark(None, device)
    with cudnn_benchmark(autotune):
        model.train()
        bar = tqdm(total=cfg.steps, initial=start, desc=progress if isinstance(progress, str) else "train",
                   disable=not progress, mininterval=2.0, leave=False)
        for step in range(start, cfg.steps):
            if epoch is None or step_in_epoch == epoch.shape[0]:
                epoch, step_in_epoch = _epoch_indices(gens, n, cfg.batch_size, device), 0
            idx = epoch[step_in_epoch]
            step_in_epoch += 1
            loss = run_step(batch_inputs(x, idx, aug_gens, mean_std, in_dtype), idx)
            if step % LOSS_READ_EVERY == 0 or step == cfg.steps - 1:
                losses.append(loss.item() / idx.shape[0])
            bar.update(1)
            if checkpoint is not None and checkpoint.due(step + 1, cfg.steps):
                checkpoint.save({
                    "step": step + 1, "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "order_gens": [g.get_state() for g in gens], "aug_gens": [g.get_state() for g in aug_gens],
                    "epoch": epoch.cpu(), "step_in_epoch": step_in_epoch, "losses": losses,
                    "step_loops": earlier_loops + [_step_loop(run_step)]})
            if on_step is not None:
                on_step(step)
        bar.close()
    if outcome is not None:
        this_part = [_step_loop(run_step)] if cfg.steps > start or not earlier_loops else []
        outcome.update(step_loop=_joined(earlier_loops + this_part), cudnn_benchmark=autotune, compile_mode=mode,
                       fused_optimizer=bool(opt.param_groups[0].get("fused")))  # what ran, after a resume too
    return losses


#: How the steps ran with respect to :mod:`ddlib.cuda_graph`'s whole-step graph.
STEP_LOOPS = ("cuda graph", "eager, capture failed", "eager")


def _step_loop(run_step) -> str:
    """Which of :data:`STEP_LOOPS` ran: a replayed graph, an eager fallback after a failed capture, or eager."""
    if getattr(run_step, "graph", None) is not None:  # a GraphedStep that captured
        return STEP_LOOPS[0]
    if getattr(run_step, "failed", False):
        return STEP_LOOPS[1]
    return STEP_LOOPS[2]


def _joined(loops: list[str]) -> str:
    """The loops of a run's parts in order, a repeat of the one before dropped: ``"cuda graph then eager"``."""
    return " then ".join(loop for i, loop in enumerate(loops) if i == 0 or loop != loops[i - 1])


@torch.no_grad()
def predict_logits(model: torch.nn.Module, x: torch.Tensor, members: int, chunk: int | None = None,
                   mean_std=None) -> torch.Tensor:
    """Logits of every member on every input, shape ``(members, n, classes)``, in float32.

    uint8 ``x`` (images) is normalised, not augmented, with ``mean_std``: the dataset's name (``"cifar10"``,
    ``"cifar100"``) or its per-channel ``(mean, std)``; required for images
    (:func:`ddlib.cifar.resolve_mean_std`), unused for float inputs. It runs as an eager section of
    :data:`ddlib.cuda_graph.CAPTURE_GUARD` (new shapes: cuDNN may autotune while another thread captures).
    """
    held = getattr(model, "members", members)
    if isinstance(members, bool) or not isinstance(members, int) or members != held:
        raise ConfigError(f"members must be the model's number of members ({held}); got {members!r}"
                          f"{numpy_hint(members)}")
    model.eval()
    images = x.dtype == torch.uint8
    chunk = chunk or (1024 if images else 4096)
    mean, std = cifar.resolve_mean_std(mean_std) if images else (None, None)
    in_dtype = _input_dtype(model, x.device)
    out = []
    with CAPTURE_GUARD.eager():
        for start in range(0, x.shape[0], chunk):
            xb = x[start : start + chunk]
            if images:
                xb = cifar.normalize(xb, mean, std, in_dtype)
            with autocast_for(x.device):
                out.append(model(xb.unsqueeze(0).expand(members, *xb.shape)).float())
    return torch.cat(out, dim=1)


def error_rate(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-member fraction of argmax predictions that differ from ``labels`` (``(n,)`` or ``(members, n)``)."""
    return (logits.argmax(-1) != labels).float().mean(-1)
