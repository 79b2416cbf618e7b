"""What the hardware allows one training step: a roofline count of the step's operations.

The roofline model (Williams, Waterman & Patterson 2009, *Roofline: an insightful visual performance
model for multicore architectures*, CACM 52(4)) bounds the time of an operation on a device with
peak arithmetic rate ``P`` and memory bandwidth ``W`` from below by ``max(flops / P, bytes / W)``.
Here it is applied operation by operation to the training step of :func:`ddlib.train.training_step`
(gather and augmentation of the batch, forward pass under bf16 autocast, loss, backward pass, Adam):

* every ATen operation the step dispatches is recorded (a ``TorchDispatchMode``; views and
  allocations, which launch no kernel, and host reads of scalars are left out);
* ``flops``: its matrix-product and convolution FLOPs, by the formulas of
  ``torch.utils.flop_counter`` (2 per multiply-add; batch norm, ReLU and additions count 0, as in
  the benchmark's MFU);
* ``bytes``: what it reads and writes in device memory, once each: every distinct input tensor read
  (not the destination of ``copy_`` and ``fill_``), every output and every argument it updates in place
  written (an expanded, stride-0 dimension stored once).

The step's roofline time is the sum over its operations (they run one after another on one stream),
and ``MFU <= model FLOPs / (roofline time x P)``. The count is of *this* step's operations: fusing
operations (``torch.compile``) removes traffic between them and changes it. ``fuse_pointwise=True``
counts the step with every run of batch norm, ReLU, additions and casts between two matrix products
ideally fused (:func:`fused`), from the same recording: each operation's reads and writes are followed
as versions of storages, so that a run moves only what comes from before it and what is read after it.

It is an estimate, not a strict bound, in both directions: a tensor that fits in the L2 cache
(50 MB on an H100, :attr:`Hardware.l2_mb`) may be read again from the cache rather than from device
memory, and real kernels may move more than their inputs and outputs (cuDNN's backward reads the
output gradient once for the input gradient and once for the weight gradient; batch norm reads its
input twice).

The trace runs on the CPU, under CPU bf16 autocast: convolutions and matrix products run in bf16
there as on CUDA, so every tensor has the dtype it has in the GPU step; Adam is the capturable form
the CUDA graph runs (its step counts on the device, one more pass over the second moments). Every
tensor's size and every FLOP count of these models is a polynomial of degree at most 2 in the width
``k`` (stage widths ``k .. 8k``: weights grow as ``k^2``, activations as ``k``), so :func:`step_costs`
traces widths 1, 2 and 3 and evaluates each operation's polynomial at ``k`` (exact; tested against
direct traces), fused or not.
"""
from __future__ import annotations

import functools
import importlib
import itertools
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple
from unittest import mock

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import flop_registry

from . import cifar
from .config import TrainConfig
from .train import Targets, batch_inputs, make_optimizer, training_step
from .validation import ConfigError, positive_int
from .vision_models import build_vision_model, vision_forward_flops


@dataclass(frozen=True)
class Hardware:
    """A device's dense bf16 peak (TFLOP/s), device-memory bandwidth (TB/s) and L2 cache (MB)."""

    name: str
    peak_tflops: float
    memory_tb_s: float
    l2_mb: float


#: NVIDIA H100 SXM5 80 GB (HBM3), the card of the issue's targets (NVIDIA H100 Tensor Core GPU
#: datasheet: 989 dense bf16 TFLOP/s, 1,979 with sparsity; 3.35 TB/s; NVIDIA's Hopper architecture
#: whitepaper: 50 MB L2).
H100_SXM = Hardware("H100 SXM5 80GB", 989.0, 3.35, 50.0)


@dataclass(frozen=True)
class OpCost:
    """One dispatched operation: its name, FLOPs and bytes moved (inputs read plus outputs written)."""

    name: str
    flops: float
    bytes: float

    def seconds(self, hw: Hardware, floor: float = 0.0) -> float:
        """``max(floor, flops / peak, bytes / bandwidth)``: its roofline time, or ``floor`` if longer."""
        return max(floor, self.flops / (hw.peak_tflops * 1e12), self.bytes / (hw.memory_tb_s * 1e12))


#: Dispatched operations that launch no kernel and move no data: allocations (their output is not
#: written), ``_unsafe_view`` (a view not marked as one) and reads of a scalar back to the host;
#: operations of the ``profiler`` namespace (the optimiser's ``record_function`` marks) are left out too.
_ALLOCATIONS = (torch.ops.aten.empty.memory_format, torch.ops.aten.empty_strided.default,
                torch.ops.aten.empty_like.default, torch.ops.aten.new_empty.default,
                torch.ops.aten.new_empty_strided.default)
_NOT_KERNELS = _ALLOCATIONS + (torch.ops.aten._unsafe_view.default, torch.ops.aten._local_scalar_dense.default)

#: In-place operations that overwrite their first argument without reading it.
_OVERWRITES_SELF = (torch.ops.aten.copy_.default, torch.ops.aten.fill_.Scalar, torch.ops.aten.fill_.Tensor,
                    torch.ops.aten.zero_.default)

#: Arguments an operation updates in place though its schema does not mark them as written: batch norm in
#: training updates its running statistics (``_native_batch_norm_legit`` marks them; ``native_batch_norm``,
#: which the CPU dispatches, does not).
_UNMARKED_WRITES = {torch.ops.aten.native_batch_norm.default: ("running_mean", "running_var")}


class _Access(NamedTuple):
    """One tensor an operation reads or writes: the *value* it holds (a storage's address and the number of
    the write that produced its contents), the view of memory it is (:func:`_view`, so that each view is
    counted once) and its bytes (:func:`_stored_bytes`)."""

    value: tuple[int, int]
    view: tuple
    nbytes: int


@dataclass(frozen=True)
class _Flow:
    """What one recorded operation read and wrote. A value is one version of a storage (every write makes a
    new one), so a tensor written by one operation and read by a later one is the same value only when
    nothing wrote its storage in between. ``kept`` marks the writes that must reach memory whoever reads
    them: updates of storages that outlive the step (parameters, optimiser state, running statistics: the
    storages the step updates in place without having allocated them) and writes that cover only part of
    their storage (the rest of it may have been written by another operation)."""

    reads: tuple[_Access, ...]
    writes: tuple[_Access, ...]
    kept: tuple[bool, ...]


class _OpRecorder(TorchDispatchMode):
    """Records an :class:`OpCost` and a :class:`_Flow` for every operation dispatched inside it that is not a
    view."""

    def __init__(self):
        super().__init__()
        self.ops: list[OpCost] = []
        self.flows: list[_Flow] = []
        self._version: dict[int, int] = {}  # storage address -> the number of the write it holds
        self._allocated: set[int] = set()  # storages allocated while recording
        self._writes = itertools.count(1)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in _ALLOCATIONS:  # nothing moves, but what is written into it later is the step's own
            self._new_value(out, allocated=True)
        if func.is_view or func in _NOT_KERNELS or func.namespace == "profiler":
            return out
        count = flop_registry.get(func._overloadpacket)
        flops = count(*args, **kwargs, out_val=out) if count else 0
        flow = self._flow(*_touched(func, args, kwargs, out))
        self.ops.append(OpCost(str(func), float(flops), float(sum(a.nbytes for a in flow.reads + flow.writes))))
        self.flows.append(flow)
        return out

    def _new_value(self, t: torch.Tensor, allocated: bool) -> tuple[int, int]:
        address = t.untyped_storage().data_ptr()
        if allocated:
            self._allocated.add(address)
        self._version[address] = next(self._writes)
        return address, self._version[address]

    def _flow(self, read: list, written: list, in_place: list) -> _Flow:
        reads = tuple(_Access((a := t.untyped_storage().data_ptr(), self._version.get(a, 0)), _view(t),
                              _stored_bytes(t)) for t in read)
        updated = {_view(t) for t in in_place}
        writes, kept = [], []
        for t in written:
            address = t.untyped_storage().data_ptr()
            outlives = _view(t) in updated and address not in self._allocated
            writes.append(_Access(self._new_value(t, allocated=_view(t) not in updated), _view(t), _stored_bytes(t)))
            kept.append(outlives or t.numel() * t.element_size() < t.untyped_storage().nbytes())
        return _Flow(reads, tuple(writes), tuple(kept))


def _touched(func, args: tuple, kwargs: dict, out) -> tuple[list, list, list]:
    """The distinct tensors an operation reads (not the destination of :data:`_OVERWRITES_SELF`), the distinct
    tensors it writes (its outputs and the arguments it updates in place: those its schema marks as written,
    such as the ``_foreach_*_`` of Adam, which return nothing, and :data:`_UNMARKED_WRITES`), and of those
    the arguments it updates in place."""
    schema = func._schema.arguments
    values = [args[i] if i < len(args) else kwargs.get(a.name) for i, a in enumerate(schema)]
    unmarked = _UNMARKED_WRITES.get(func, ()) if _training(schema, values) else ()
    in_place = [v for a, v in zip(schema, values)
                if (a.alias_info is not None and a.alias_info.is_write) or a.name in unmarked]
    read = values[1:] if func in _OVERWRITES_SELF else values
    return _distinct(read), _distinct([out, in_place]), _distinct(in_place)


def _training(schema, values) -> bool:
    """Whether an operation's ``training`` argument, where it has one, is true."""
    return any(a.name == "training" and bool(v) for a, v in zip(schema, values))


def _view(t: torch.Tensor) -> tuple:
    """One view of memory: ``_foreach_addcmul_(v, g, g)`` reads ``g`` once."""
    return t.data_ptr(), t.dtype, tuple(t.shape), t.stride()


def _distinct(tree) -> list[torch.Tensor]:
    """The tensors in ``tree``, each view of memory (:func:`_view`) once."""
    seen = {}
    for t in tree_leaves(tree):
        if isinstance(t, torch.Tensor):
            seen.setdefault(_view(t), t)
    return list(seen.values())


def _stored_bytes(t: torch.Tensor) -> int:
    """Bytes of the elements ``t`` refers to: an expanded (broadcast) dimension, of stride 0, is stored once."""
    return math.prod(n for n, stride in zip(t.shape, t.stride()) if stride != 0) * t.element_size() if t.numel() else 0


def record_ops(fn: Callable[[], object], fuse_pointwise: bool = False) -> list[OpCost]:
    """The operations ``fn()`` dispatches, in order, with their FLOPs and bytes; with ``fuse_pointwise``,
    each run of consecutive fusable operations as one (:func:`fused`)."""
    recorder = _OpRecorder()
    with recorder:
        fn()
    return fused(recorder.ops, recorder.flows) if fuse_pointwise else recorder.ops


#: The kinds of operation (:data:`KINDS`) an ideal compiler fuses into the passes around the matrix products.
FUSABLE = ("batch norm", "ReLU", "additions", "casts")
#: The name of a run of fused operations (its kind: :data:`FUSED_KIND`).
FUSED_NAME = "fused.pointwise"


def fused(ops: list[OpCost], flows: list[_Flow]) -> list[OpCost]:
    """``ops`` with each run of consecutive :data:`FUSABLE` operations replaced by one operation that moves
    only what a single fused kernel would have to: the values it reads that were written before it, once
    per view, and the values it writes that a later recorded operation reads or that must reach memory
    anyway (``kept``, :class:`_Flow`); a value written and read only inside the run never goes to memory.
    (A value read only by something that is not recorded, a host read of a scalar or ``fn``'s caller,
    counts as unread; the training step has none inside a run.)

    This is the traffic of an *ideal* fusion of batch norm, ReLU, the residual additions and the casts
    between two matrix products, the best ``torch.compile`` could do with this sequence of operations. It
    assumes one pass where real kernels make two: batch norm's statistics must be reduced over the input
    before it can be normalised, and its backward pass must reduce over the output gradient before it
    can form the input gradient. Operations of other kinds are kept as they are."""
    last_read: dict[tuple, int] = {}
    for i, flow in enumerate(flows):
        for access in flow.reads:
            last_read[access.value] = i
    out, i = [], 0
    while i < len(ops):
        j = i
        while j < len(ops) and kind(ops[j]) in FUSABLE:
            j += 1
        if j == i:
            out.append(ops[i])
            i += 1
            continue
        run = flows[i:j]
        produced = {a.value for flow in run for a in flow.writes}
        reads = {(a.value, a.view): a.nbytes for flow in run for a in flow.reads if a.value not in produced}
        writes = {(a.value, a.view): a.nbytes for flow in run for a, kept in zip(flow.writes, flow.kept)
                  if kept or last_read.get(a.value, -1) >= j}
        out.append(OpCost(FUSED_NAME, 0.0, float(sum(reads.values()) + sum(writes.values()))))
        i = j
    return out


def trace_training_step(model: str, k: int, batch: int = 128, members: int = 1, num_classes: int = 10,
                        fused_adam: bool = False, fuse_pointwise: bool = False) -> list[OpCost]:
    """The operations of one steady-state training step of ``members`` seeds of ``model`` at width ``k``,
    grouped as the library trains them, on a batch of ``batch`` CIFAR-shaped images: gather and
    augmentation, forward under bf16 autocast (on the CPU, the dtypes of the GPU step), loss, backward,
    Adam in its capturable form, as the CUDA graph runs it (:func:`_capturable_on_cpu`; ``fused_adam``: its
    fused form, :func:`ddlib.train.resolve_fused_optimizer`). A first step runs unrecorded, so that Adam's
    state exists, as in every later step. ``fuse_pointwise``: with the passes between the matrix products
    ideally fused (:func:`fused`)."""
    plain, with_fusion = _trace(model, k, batch, members, num_classes, fused_adam)
    return with_fusion if fuse_pointwise else plain


def _trace(model: str, k: int, batch: int, members: int, num_classes: int, fused_adam: bool
           ) -> tuple[list[OpCost], list[OpCost]]:
    """One recording of the step of :func:`trace_training_step`: its operations as dispatched, and fused."""
    positive_int("batch", batch)
    positive_int("members", members)
    net = build_vision_model(model, k, num_classes, range(members)).to(memory_format=torch.channels_last)
    one = synthetic_step(net, batch, autocast=lambda: torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=False),
                         input_dtype=torch.bfloat16, capturable=True, fused=fused_adam, num_classes=num_classes)
    recorder = _OpRecorder()
    with _capturable_on_cpu():
        one()
        with recorder:
            one()
    return recorder.ops, fused(recorder.ops, recorder.flows)


def synthetic_step(net: torch.nn.Module, batch: int, *, autocast: Callable, input_dtype: torch.dtype,
                   capturable: bool = False, fused: bool = False, num_classes: int = 10
                   ) -> Callable[[], torch.Tensor]:
    """``run()``: one :func:`ddlib.train.training_step` of the ensemble ``net`` (on its device) on a fixed
    batch of ``batch`` random uint8 CIFAR-shaped images, as :func:`ddlib.train.train_ensemble` runs it:
    gathered and augmented per member (:func:`ddlib.train.batch_inputs`, inputs in ``input_dtype``),
    forward under ``autocast()``, hard-label loss, Adam (``capturable``, as under the CUDA graph; ``fused``). The
    step that this module traces and ``benchmarks/kernel_profile.py`` profiles."""
    device = next(net.parameters()).device
    members = net.members
    x = torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8, device=device)
    idx = torch.stack([torch.randperm(batch, device=device) for _ in range(members)])  # drawn once per epoch
    targets = Targets(hard=torch.randint(0, num_classes, (members, batch), device=device))
    opt = make_optimizer(net.parameters(), TrainConfig(optimizer="adam", lr=1e-4, batch_size=batch),
                         capturable=capturable, fused=fused)
    step = training_step(net, opt, targets, autocast)
    aug_gens = [torch.Generator(device=device).manual_seed(i) for i in range(members)]
    mean_std = (cifar.CIFAR10_MEAN, cifar.CIFAR10_STD)
    return lambda: step(batch_inputs(x, idx, aug_gens, mean_std, input_dtype), idx)


def _capturable_on_cpu():
    """Let Adam's capturable form run on the CPU for the trace. PyTorch refuses it off GPUs only because a
    CPU has no graphs to capture; its arithmetic (bias corrections from step counts kept as tensors, one
    more pass over the second moments) is the same on any device, and it is what the graphed GPU step runs.
    (If a PyTorch release moves this check, the patch fails with an AttributeError, not silently.)"""
    adam = importlib.import_module("torch.optim.adam")
    check = adam._get_capturable_supported_devices
    return mock.patch.object(adam, "_get_capturable_supported_devices", lambda *a, **kw: [*check(*a, **kw), "cpu"])


_FIT_WIDTHS = (1, 2, 3)


@functools.lru_cache(maxsize=None)
def _fit(model: str, batch: int, members: int, num_classes: int, fused_adam: bool = False
         ) -> dict[bool, tuple[tuple[str, ...], np.ndarray]]:
    """For the step as dispatched (key ``False``) and fused (``True``): operation names and, per operation,
    the coefficients ``(c0, c1, c2)`` of its FLOPs and of its bytes as polynomials in ``k``, shape
    ``(ops, 2, 3)``, from traces at :data:`_FIT_WIDTHS`. The traces must dispatch the same operations (checked
    before fusion, which would hide a difference among the fused ones)."""
    traces = [_trace(model, k, batch, members, num_classes, fused_adam) for k in _FIT_WIDTHS]
    vander = np.vander(np.array(_FIT_WIDTHS, dtype=float), 3, increasing=True)  # rows (1, k, k^2)
    out = {}
    for fuse in (False, True):
        names = tuple(op.name for op in traces[0][fuse])
        if any(tuple(op.name for op in t[fuse]) != names for t in traces[1:]):
            raise RuntimeError(f"the step of {model} dispatches different operations at widths {_FIT_WIDTHS}; "
                               "its costs cannot be fitted as polynomials in k")
        values = np.array([[[op.flops, op.bytes] for op in t[fuse]] for t in traces])  # (widths, ops, 2)
        coef = np.linalg.solve(vander, values.reshape(len(_FIT_WIDTHS), -1))  # (3, ops * 2)
        out[fuse] = names, coef.reshape(3, len(names), 2).transpose(1, 2, 0)
    return out


def step_costs(model: str, k: int, batch: int = 128, members: int = 1, num_classes: int = 10,
               fused_adam: bool = False, fuse_pointwise: bool = False) -> list[OpCost]:
    """:func:`trace_training_step` at any width ``k``, evaluated from the quadratic fit (milliseconds)."""
    positive_int("k", k)
    names, coef = _fit(model, batch, members, num_classes, fused_adam)[fuse_pointwise]
    at_k = np.rint(coef @ np.array([1.0, k, k * k]))  # counts are integers
    return [OpCost(name, float(f), float(b)) for name, (f, b) in zip(names, at_k)]


#: Kinds of operation, by the ATen name (``aten.NAME.overload``, an in-place ``NAME_`` as ``NAME``): the first
#: whose test holds. Names of the inner operations a GPU profile attributes kernels to (``cudnn_convolution``,
#: ``cudnn_batch_norm``, ``clamp_min``) fall in the same kinds.
KINDS = (("convolutions and matrix products", lambda n: "conv" in n or n in ("mm", "bmm", "baddbmm", "addmm")),
         ("batch norm", lambda n: "batch_norm" in n),
         ("ReLU", lambda n: n in ("relu", "clamp_min", "threshold_backward")),
         ("additions", lambda n: n == "add"),
         ("Adam", lambda n: n.startswith("_foreach") or n.startswith("_fused_adam")),
         ("casts", lambda n: n in ("_to_copy", "copy")))


#: The kind of a run of fused operations (:func:`fused`).
FUSED_KIND = "fused batch norm, ReLU, additions and casts"


def kind(op: OpCost) -> str:
    """The :data:`KINDS` entry of an operation, :data:`FUSED_KIND` for a fused run, or ``"other"`` (batch gather
    and augmentation, loss, pooling)."""
    return FUSED_KIND if op.name == FUSED_NAME else kind_of(op.name.split(".")[1])


def kind_of(name: str) -> str:
    """:func:`kind` of an ATen operation's bare name (``convolution``, ``add_``; an in-place form is its
    operation's kind)."""
    name = name if name.startswith("_foreach") else name.rstrip("_")
    return next((label for label, test in KINDS if test(name)), "other")


def seconds_by_kind(costs: list[OpCost], hw: Hardware = H100_SXM) -> dict[str, float]:
    """Roofline seconds of the step per :func:`kind`, in the order of :data:`KINDS`, then ``"other"`` (then
    :data:`FUSED_KIND`, for a step with fused runs)."""
    out = dict.fromkeys([label for label, _ in KINDS] + ["other"], 0.0)
    for op in costs:
        out[kind(op)] = out.get(kind(op), 0.0) + op.seconds(hw)
    return out


def step_seconds(costs: list[OpCost], hw: Hardware = H100_SXM, floor: float = 0.0) -> float:
    """The step's roofline time: the sum of each operation's :meth:`OpCost.seconds`.

    ``floor`` > 0 gives each operation at least that long (a per-kernel latency: see
    :func:`per_op_floor`)."""
    if floor < 0:
        raise ConfigError(f"floor must be >= 0 seconds; got {floor!r}")
    return sum(op.seconds(hw, floor) for op in costs)


def model_flops_per_step(model: str, k: int, batch: int = 128, members: int = 1, num_classes: int = 10) -> float:
    """The FLOPs that MFU counts: 3 x forward FLOPs x images (as ``benchmarks/train_throughput.py``)."""
    return 3.0 * batch * members * vision_forward_flops(model, k, num_classes)


def mfu_bound(model: str, k: int, hw: Hardware = H100_SXM, batch: int = 128, members: int = 1,
              num_classes: int = 10, fused_adam: bool = False, fuse_pointwise: bool = False) -> float:
    """Model FLOP utilisation if the step ran at its roofline time: ``model FLOPs / (time x peak)``."""
    time = step_seconds(step_costs(model, k, batch, members, num_classes, fused_adam, fuse_pointwise), hw)
    return model_flops_per_step(model, k, batch, members, num_classes) / (time * hw.peak_tflops * 1e12)


def per_op_floor(step_time: float, model: str, k: int, batch: int = 128, members: int = 1,
                 num_classes: int = 10) -> float:
    """Seconds per operation if a measured ``step_time`` at width ``k`` were spread evenly over the step's
    operations: at small widths, where every operation's roofline time is tiny, it is the latency of one
    operation (launch, scheduling and the kernel's own ramp-up) as the measurement saw it."""
    return step_time / len(step_costs(model, k, batch, members, num_classes))


def sweep_hours(model: str, widths, images_per_width: float, hw: Hardware = H100_SXM, floor: float = 0.0,
                batch: int = 128, num_classes: int = 10) -> float:
    """Hours to train ``images_per_width`` images at each width, one model at a time, every step at
    :func:`step_seconds` (with ``floor``): a lower bound on the sweep for this step's operations when
    ``floor`` is 0, up to the caveats of the module docstring."""
    if images_per_width <= 0:
        raise ConfigError(f"images_per_width must be > 0; got {images_per_width!r}")
    seconds = sum(step_seconds(step_costs(model, k, batch, 1, num_classes), hw, floor) / batch for k in widths)
    return seconds * images_per_width / 3600
