"""Running lists of run configs: skip what is stored, batch what can be batched, store the rest.

:func:`run_configs` is the engine behind every chapter:

1. Configs already in the :class:`~ddlib.store.ResultStore` are *reused*, never retrained.
2. Missing teachers of missing distillation runs are added and trained first (phases by
   teacher depth), so a student never waits on a teacher that does not exist.
3. Missing runs that differ only in seeds or targets (teacher, distillation method) but train on
   the same inputs (same :meth:`RunConfig.batch_key`) are trained together as one ensemble
   (:mod:`ddlib.models`; per-member loss weights, :func:`ddlib.losses.kd_loss_per_member`), then
   stored one by one. Runs at
   widths up to ``width_batch`` that differ also in width share one zero-padded ensemble
   (:mod:`ddlib.width_batching`; the same models, trained faster where steps are overhead-bound).
4. Groups go through any :class:`concurrent.futures.Executor` (default: in this process, one after
   another; with ``concurrent_groups`` above 1, several at once in threads, each on its own CUDA
   stream, :mod:`ddlib.concurrency`). The worker writes to the store itself, so a killed sweep
   loses only the groups in flight, and those only back to their last periodic checkpoint
   (:mod:`ddlib.checkpoint`, ``$DDLIB_CHECKPOINT_EVERY`` steps, default 5000).
"""
from __future__ import annotations

import math
import time
from collections import defaultdict
from concurrent.futures import FIRST_EXCEPTION, Executor, wait
from dataclasses import dataclass, field

import torch

from . import cifar
from .channel_alignment import channel_align_setting, pads
from .checkpoint import Checkpointing, checkpoint_every_from_env
from .concurrency import in_worker_thread, refuse_compile, resolve_concurrent_groups, stream_executor
from .config import POOL_METHODS, RunConfig, config_hash
from .data import DATASET_SHAPES, load_data, load_pool, pool_source
from .devices import resolve_device
from .models import build_model, count_params, member_state, stack_states, to_device
from .paths import switch_setting
from .store import ResultStore
from .train import Targets, error_rate, predict_logits, resolve_compile_mode, train_ensemble
from .validation import ConfigError
from .width_batching import build_for_widths, width_batch_limit

#: Largest number of members trained as one ensemble (bounds memory; ample for CPU speed-ups).
MAX_MEMBERS = 32


#: How a chapter's last runs line starts: every run the chapter asked for, each counted once.
CHAPTER_TOTAL = "whole chapter, each run once:"


@dataclass
class SweepOutcome:
    """The records of every requested run, and how many were trained now or found stored."""

    records: list[dict] = field(default_factory=list)
    computed: int = 0
    reused: int = 0
    computed_hashes: set[str] = field(default_factory=set)

    def summary(self) -> str:
        return f"runs: {self.computed} computed, {self.reused} reused"

    def chapter_summary(self) -> str:
        """:meth:`summary` marked as a chapter's total (:data:`CHAPTER_TOTAL`), the line ``python -m ddlib run``
        reports; a chapter prints it once, for the :meth:`merge` of all its sweeps."""
        return f"{CHAPTER_TOTAL} {self.summary()}"

    def merge(self, other: "SweepOutcome") -> "SweepOutcome":
        """Both sweeps as one: each distinct run counted once (computed if either sweep trained it)."""
        records = self.records + other.records
        hashes = {r["hash"] for r in records}
        done = self.computed_hashes | other.computed_hashes
        return SweepOutcome(records, computed=len(hashes & done), reused=len(hashes - done), computed_hashes=done)


def _teacher_depth(cfg: RunConfig) -> int:
    return 0 if cfg.targets.teacher is None else 1 + _teacher_depth(cfg.targets.teacher)


def method_batching(value: bool | None = None) -> bool:
    """Whether runs that differ in their targets (method, teacher, temperature, alpha) but train on the
    same inputs share one ensemble: ``value``, else ``$DDLIB_METHOD_BATCH`` (on/off words; ``auto`` or
    unset: on)."""
    if value is not None:
        return bool(value)
    return switch_setting(None, "method_batch", "DDLIB_METHOD_BATCH")[1] != "off"  # auto (unset) is on


def run_configs(configs, *, store: ResultStore | None = None, device: str = "auto",
                executor: Executor | None = None, progress: bool = True,
                width_batch: int | None = None, method_batch: bool | None = None,
                concurrent_groups: int | None = None) -> SweepOutcome:
    """Make sure every config in ``configs`` is stored; return their records in order.

    ``width_batch``: the widest width trained in a shared ensemble with other widths (0: none); default
    :func:`ddlib.width_batching.width_batch_limit` (``$DDLIB_WIDTH_BATCH``, else 4 on a CPU and 16 on a GPU).
    Like the device, it changes speed, not the recipe (results agree up to floating-point rounding, which
    training can grow: the book's 124 default runs, trained with limits 16 and 4, ended with different test
    errors in 30 runs, by 0.1 points on average and at most 0.6), so it is not part of a run's hash.
    Wider groups mean fewer, larger jobs: with an ``executor``, less parallelism,
    and a kill loses a whole group back to its last checkpoint; pass ``width_batch=0`` to keep one width per group.
    ``$DDLIB_CHANNEL_ALIGN`` rounds the CIFAR models' stage channels up to a multiple, zero-padded
    (:mod:`ddlib.channel_alignment`; default 1, none); a speed switch outside the hash as well; the provenance
    records what a group was padded to (``channel_align``, 1 where nothing was).
    ``method_batch``: students of different methods on the same inputs share one ensemble (default
    :func:`method_batching`, on); likewise a speed switch outside the hash.
    ``concurrent_groups``: how many groups train at once, each in a thread on its own CUDA stream, when no
    ``executor`` is given (default :func:`ddlib.concurrency.resolve_concurrent_groups`:
    ``$DDLIB_CONCURRENT_GROUPS``, else 1); not with ``torch.compile``; another speed switch outside the hash.
    An executor of threads on a GPU should be :func:`ddlib.concurrency.stream_executor`, whose threads have
    streams of their own."""
    store = store or ResultStore()
    dev = resolve_device(device)
    limit = width_batch_limit(dev, width_batch)
    channel_align_setting()  # a bad $DDLIB_CHANNEL_ALIGN fails here, before any training
    mixed_methods = method_batching(method_batch)
    workers = 1 if executor is not None else resolve_concurrent_groups(concurrent_groups)
    if workers > 1:
        refuse_compile(resolve_compile_mode(), f"concurrent_groups={workers}")
    configs = list(configs)
    requested = {config_hash(c): c for c in configs}
    missing: dict[str, RunConfig] = {}

    def need(cfg: RunConfig):
        h = config_hash(cfg)
        if h in missing or store.has(cfg):
            return
        missing[h] = cfg
        if cfg.targets.teacher is not None:
            need(cfg.targets.teacher)

    for c in configs:
        need(c)
    outcome = SweepOutcome(computed=sum(h in missing for h in requested),
                           reused=sum(h not in missing for h in requested),
                           computed_hashes={h for h in requested if h in missing})
    by_depth: dict[int, list[RunConfig]] = defaultdict(list)
    for cfg in missing.values():
        by_depth[_teacher_depth(cfg)].append(cfg)
    pool = stream_executor(workers, dev) if workers > 1 else None
    try:
        for depth in sorted(by_depth):
            groups = _groups(by_depth[depth], limit, mixed_methods)
            _train_groups([(g, str(store.root), device, progress) for g in groups], executor or pool, progress)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    outcome.records = [store.load(c) for c in configs]
    return outcome


def _train_groups(jobs: list[tuple], executor: Executor | None, progress: bool) -> None:
    """Run :func:`train_group` on every job, in this process one after another or through ``executor``
    (all submitted; on the first failure the groups not yet started are cancelled, those running finish
    and are stored, and the failure is raised)."""
    if executor is None:
        for i, job in enumerate(jobs):
            if progress:
                print(f"[{i + 1}/{len(jobs)}] {_describe(job[0])}", flush=True)
            train_group(*job)
        return
    if progress:
        print(f"{len(jobs)} group(s) through {type(executor).__name__}: "
              + "; ".join(_describe(job[0]) for job in jobs), flush=True)
    futures = [executor.submit(train_group, *job) for job in jobs]
    try:
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    except BaseException:  # e.g. Ctrl-C: drop the groups not yet started, whoever made the executor
        for f in futures:
            f.cancel()
        raise
    failed = [f for f in futures if f in done and f.exception() is not None]
    if failed:
        for f in futures:
            f.cancel()  # only those not yet started
        wait(futures)
        failed[0].result()


def _groups(configs: list[RunConfig], width_batch: int = 0, method_batch: bool = True) -> list[list[RunConfig]]:
    """Configs with equal :meth:`RunConfig.batch_key` (ignoring width up to ``width_batch``, and the
    targets if ``method_batch``), at most :data:`MAX_MEMBERS` per group; a mixed-width group is sorted
    by width, so a split pads least."""
    groups: dict[str, list[RunConfig]] = defaultdict(list)
    for cfg in configs:
        groups[cfg.batch_key(ignore_width=cfg.width <= width_batch, ignore_method=method_batch)].append(cfg)
    out = []
    for g in groups.values():
        g = sorted(g, key=lambda c: c.width)  # stable: seeds keep their order within a width
        out.extend(g[i : i + MAX_MEMBERS] for i in range(0, len(g), MAX_MEMBERS))
    return out


def _describe(group: list[RunConfig]) -> str:
    c = group[0]
    methods = sorted({g.targets.method for g in group} - {"labels"})
    extra = f" <- {', '.join(methods)}" if methods else ""
    widths = sorted({g.width for g in group})
    width = f"width {widths[0]}" if len(widths) == 1 else f"widths {','.join(map(str, widths))}"
    return f"{c.model} {width}{extra}: {len(group)} member(s)"


def _mean_std(cfg: RunConfig):
    """Per-channel normalisation of image datasets (``None`` for MNIST-1D)."""
    return cifar.CIFAR_MEAN_STD.get(cfg.data.dataset)


def _targets_for_group(group, data, store, device):
    """Training inputs, per-member :class:`~ddlib.train.Targets`, the labels each member is fitted to
    (noisy labels for ``labels`` runs, true pool labels for ``oracle_pool``, the teacher's argmax for
    distillation), and each member's teacher test logits (or ``None``).

    Members share their inputs (the labeled set, or one pool) but may differ in method: then each
    gets its own loss weights (:func:`ddlib.losses.kd_loss_per_member`)."""
    t0 = group[0].targets
    if t0.uses_pool:
        x, y_true = load_pool(group[0].data, t0.pool_size, t0.pool_seed, device=device)
    else:
        x, y_true = data.x_train, data.y_train
    cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    hard, soft, fit, teacher_test = [], [], [], []
    for cfg in group:
        method = cfg.targets.method
        if method in ("labels", "oracle_pool"):
            if y_true is None:
                raise ConfigError(f"oracle_pool needs the pool's true labels, but {pool_source(cfg.data)} has none")
            hard.append(y_true), soft.append(None), fit.append(y_true), teacher_test.append(None)
            continue
        train_logits, test_logits = _teacher_logits(cfg.targets.teacher, x, data, store, device, cache)
        teacher_labels = train_logits.argmax(-1)
        fit.append(teacher_labels), teacher_test.append(test_logits)
        if method.startswith("hard"):
            hard.append(teacher_labels), soft.append(None)
        else:
            hard.append(None if method == "soft_kd_pool" else y_true), soft.append(train_logits)
    return x, _stack_targets(group, hard, soft), torch.stack(fit), teacher_test


def _teacher_logits(teacher: RunConfig, x, data, store, device, cache) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's logits on the training inputs and on the test set (once per teacher and group)."""
    h = config_hash(teacher)
    if h not in cache:
        model, ms = load_trained_model(teacher, store, device), _mean_std(teacher)
        cache[h] = (predict_logits(model, x, 1, mean_std=ms)[0], predict_logits(model, data.x_test, 1, mean_std=ms)[0])
    return cache[h]


def _stack_targets(group, hard, soft) -> Targets:
    """One :class:`Targets` for the group: plain labels, one distillation method with shared loss weights
    (every member at the same method, temperature and alpha), or (members trained differently) per-member
    weights, with zeros where a member has no labels or no teacher logits (their weight is then 0)."""
    if all(s is None for s in soft):
        same = all(h is hard[0] for h in hard)
        return Targets(hard=hard[0].expand(len(group), -1) if same else torch.stack(hard))
    t0 = group[0].targets
    if len({(c.targets.method, c.targets.temperature, c.targets.alpha) for c in group}) == 1:
        labels = None if hard[0] is None else torch.stack(hard)
        return Targets(hard=labels, teacher_logits=torch.stack(soft), temperature=t0.temperature, alpha=t0.alpha)
    like_soft = next(s for s in soft if s is not None)
    like_hard = like_soft[:, 0].long()
    alpha = [0.0 if s is None else 1.0 if h is None else c.targets.alpha for c, h, s in zip(group, hard, soft)]
    temperature = [1.0 if s is None else c.targets.temperature for c, s in zip(group, soft)]
    return Targets(hard=torch.stack([torch.zeros_like(like_hard) if h is None else h for h in hard]),
                   teacher_logits=torch.stack([torch.zeros_like(like_soft) if s is None else s for s in soft]),
                   temperature=torch.tensor(temperature, device=like_soft.device),
                   alpha=torch.tensor(alpha, device=like_soft.device))


def train_group(group: list[RunConfig], store_root: str, device: str = "auto", progress: bool = True) -> list[dict]:
    """Train one batchable group of runs as an ensemble and store each member's result."""
    store = ResultStore(store_root)
    dev = resolve_device(device)
    c0 = group[0]
    started = time.time()
    data = load_data(c0.data, device=dev)
    x, targets, fit_labels, teacher_test = _targets_for_group(group, data, store, dev)
    align = channel_align_setting()
    model = to_device(build_for_widths(c0.model, [c.width for c in group], data.input_shape, data.num_classes,
                                       [c.init_seed for c in group], align), c0.model, dev)
    ms = _mean_std(c0)
    padded_to = align if pads(c0.model, max(c.width for c in group), align) else 1  # what was done, not asked
    key = ",".join(config_hash(c) for c in group)
    if padded_to > 1:  # a checkpoint of other tensor shapes is not this run's
        key += f";channel_align={padded_to}"
    ckpt = Checkpointing(store.checkpoint_path(group), checkpoint_every_from_env(), key=key)
    outcome = {}
    losses = train_ensemble(model, x, targets, c0.train, [c.order_seed for c in group],
                            progress=_describe(group) if progress else False, mean_std=ms, checkpoint=ckpt,
                            outcome=outcome)
    train_logits = predict_logits(model, x, len(group), mean_std=ms)
    train_err = error_rate(train_logits, fit_labels).tolist()
    test_logits = predict_logits(model, data.x_test, len(group), mean_std=ms)
    test_err = error_rate(test_logits, data.y_test).tolist()
    _refuse_diverged(group, losses, train_logits, test_logits, ckpt)
    seconds = time.time() - started
    shared_prov = {"device": str(dev), "group_seconds": seconds, "group_size": len(group),
                   "group_widths": sorted({c.width for c in group}), "channel_align": padded_to,
                   "groups_at_once": in_worker_thread(),  # group_seconds was then shared with other groups
                   **outcome}  # step_loop (how the steps ran), cudnn_benchmark, compile_mode, fused_optimizer
    if ckpt.resumed_from:
        shared_prov["resumed_from_step"] = ckpt.resumed_from
    records = []
    for i, cfg in enumerate(group):
        # train_error: error against the labels the run was fitted to (noisy labels for `labels`
        # runs, the teacher's argmax for distillation, true pool labels for oracle_pool).
        params = count_params(cfg.model, cfg.width, data.input_shape, data.num_classes)
        metrics = {"train_error": train_err[i], "test_error": test_err[i], "params": params,
                   "group_final_loss": losses[-1], "n_fit": int(x.shape[0])}
        if cfg.targets.method == "labels":
            metrics["train_error_clean"] = error_rate(train_logits[i], data.y_train_clean).item()
        if teacher_test[i] is not None:
            agree = (test_logits[i].argmax(-1) == teacher_test[i].argmax(-1)).float().mean().item()
            metrics["agreement"] = agree
            metrics["teacher_test_error"] = error_rate(teacher_test[i], data.y_test).item()
        prov = dict(shared_prov)
        if cfg.targets.uses_pool:
            prov["pool_source"] = pool_source(cfg.data)
        records.append(store.save(cfg, metrics, member_state(model, i), prov))
    ckpt.remove()
    return records


class TrainingDiverged(RuntimeError):
    """A group's training ended with a non-finite loss or non-finite outputs; nothing of it was stored."""


def _refuse_diverged(group: list[RunConfig], losses: list[float], train_logits: torch.Tensor,
                     test_logits: torch.Tensor, ckpt: Checkpointing) -> None:
    """Raise :class:`TrainingDiverged` before anything is stored if the group's last loss, or any member's outputs,
    are not finite: a diverged model would otherwise be stored as a result and reused by every later build. The
    group's checkpoint goes too, so that a rerun (after a change outside the hash) does not resume diverged weights."""
    finite = (torch.isfinite(train_logits).flatten(1).all(1) & torch.isfinite(test_logits).flatten(1).all(1)).tolist()
    if all(finite) and (not losses or math.isfinite(losses[-1])):
        return
    bad = [c for c, ok in zip(group, finite) if not ok] or group
    ckpt.remove()
    t = group[0].train
    raise TrainingDiverged(f"training diverged (non-finite loss or outputs) for {len(bad)} of {len(group)} run(s) of "
                           f"group {_describe(group)!r} ({t.optimizer}, lr={t.lr:g}, weight_decay={t.weight_decay:g}); "
                           f"nothing of the group was stored. A smaller lr usually helps.")


def load_trained_model(cfg: RunConfig, store: ResultStore | None = None, device="cpu") -> torch.nn.Module:
    """Rebuild a stored run's model on ``device``, in eval mode (``store``: default :class:`ResultStore`).

    The model is a one-member ensemble (:mod:`ddlib.models`): it maps ``(members, batch, *input)`` to
    ``(members, batch, classes)``: take ``ddlib.predict_logits(model, x, members=1)[0]`` (in chunks, and for
    uint8 CIFAR images with ``mean_std="cifar10"`` or ``"cifar100"``, which normalises them), or for float
    inputs ``model(x.unsqueeze(0))[0]``.
    Raises :class:`ConfigError` if ``cfg`` was never trained into ``store``.
    """
    store = store or ResultStore()
    if not store.has(cfg):
        raise ConfigError(f"run {config_hash(cfg)} is not stored in {store.root}; train it first with "
                          f"ddlib.run_configs([cfg]) (the same store)")
    input_shape, num_classes = DATASET_SHAPES[cfg.data.dataset]
    model = build_model(cfg.model, cfg.width, input_shape, num_classes, [cfg.init_seed])
    stack_states(model, [store.load_weights(cfg)])
    return to_device(model, cfg.model, torch.device(device)).eval()


def records_frame(records: list[dict]):
    """A wide pandas DataFrame: one row per run, config fields flattened, metrics as columns."""
    import pandas as pd

    rows = []
    for r in records:
        cfg = r["config"]
        t = cfg["targets"]
        teacher = t.get("teacher")
        rows.append({
            "hash": r["hash"], "model": cfg["model"], "width": cfg["width"], "seed": cfg["init_seed"],
            "label_noise": cfg["data"]["label_noise"], "n_train": cfg["data"]["n_train"],
            "method": t["method"], "pool_size": t["pool_size"] if t["method"] in POOL_METHODS else 0,
            "teacher_width": teacher["width"] if teacher else None,
            **r["metrics"],
        })
    return pd.DataFrame(rows)


def tidy_frame(records: list[dict]):
    """The long ("tidy") form: one row per run and metric, columns ``hash``, config fields, ``metric``, ``value``."""
    wide = records_frame(records)
    id_cols = ["hash", "model", "width", "seed", "label_noise", "n_train", "method", "pool_size", "teacher_width"]
    return wide.melt(id_vars=id_cols, var_name="metric", value_name="value").dropna(subset=["value"])


__all__ = ["SweepOutcome", "run_configs", "train_group", "load_trained_model", "records_frame", "tidy_frame"]
