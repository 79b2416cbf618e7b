"""Several *widths* trained as one ensemble: each narrower member zero-padded to the widest.

A width sweep trains one ensemble per width, and at small widths a training step costs about
the same whatever the width (per-step overhead: Python, autograd, kernel launches). This module
puts members of different widths ``w_i`` into one ensemble of width ``W = max(w_i)`` of the same
family (:mod:`ddlib.models`, :mod:`ddlib.vision_models`), so all of them share one step.

Member ``i`` occupies the *leading block* of each of its tensors: the first ``w_i`` units of every
hidden layer (the first ``c * w_i`` channels of a stage of width ``c * W``), initialised exactly as
the lone width-``w_i`` model with its seed; every other entry is zero. This is exact, not an
approximation, by induction over layers:

* a padded unit has zero incoming weights and bias, so its pre-activation is 0, its output is
  ``ReLU(0) = 0`` (BatchNorm of an all-zero channel gives its bias, also 0), and max/average
  pooling keep it 0; its outgoing weights are zero, so it changes no real unit;
* its gradient is therefore zero, and so is the gradient of every weight touching it (each is a
  product with the unit's zero activation or zero gradient); Adam and SGD (with momentum or
  L2 weight decay ``lambda * w = 0``) leave a weight with zero gradient at zero.

So member ``i`` computes, and learns, its width-``w_i`` model, up to floating-point summation
order (tested against separate training). In float32 the two agree to rounding level at first,
but training amplifies rounding: after thousands of steps a run's final test error can differ by
tenths of a point from the same run trained alone (a student distilled from such a run by more),
as it can after a change of thread count or device. Run hashes therefore do not record the grouping; the provenance does (``group_widths``). Every member pays for width ``W``: the FLOPs grow by
``members * cost(W) / sum_i cost(w_i)`` (for convolutions ``cost(w)`` grows as ``w^2``), so
batching widths pays only where per-step overhead dominates, i.e. at small widths;
``benchmarks/width_batching.py`` measures it. :func:`width_batch_limit` is the widest width that
:func:`ddlib.runner.run_configs` pads into a shared ensemble.
"""
from __future__ import annotations

import torch
from torch import nn

from .channel_alignment import pads, stage_channels
from .models import build_model, member_rows
from .paths import OFF_WORDS, env_word
from .validation import ConfigError, non_negative_int_text, positive_int

#: Widest width padded into a shared ensemble on a CPU when ``$DDLIB_WIDTH_BATCH`` is unset: the widest
#: width for which the newest committed CPU run of ``benchmarks/width_batching.py`` (the book's cnn1d, 5 seeds
#: per width; ``benchmarks/results/width-batching/``, cited in the full-scale appendix) still trained faster
#: padded than one width at a time: widths 2 and 4 (1.34 times as fast); from width 8 on, padding was slower.
#: (An earlier run, at 3 seeds, found padding paid up to 16; rerun on 2026-12-04 at 3 seeds it paid only for
#: 2 and 4 too.) Over the chapter's whole sweep the limit matters little: 1.04 times as fast at 4, 1.01 at 16.
#: Measured for cnn1d only; the CIFAR models' cost grows faster with width.
CPU_WIDTH_BATCH = 4

#: The same on a GPU: the widest width of the committed GPU runs (ResNet-18, one seed per width, widths
#: 1..4, 1..8 and 1..16 on an H100 eagerly and on an H200 with the whole step as a CUDA graph), every
#: set of which trained faster padded. Wider sets were not measured there.
GPU_WIDTH_BATCH = 16


def width_batch_limit(device: torch.device, value: int | None = None) -> int:
    """The widest width trained in a shared, zero-padded ensemble (0: every width alone).

    ``value`` if given, else ``$DDLIB_WIDTH_BATCH`` (an integer >= 0; off-words mean 0), else
    :data:`CPU_WIDTH_BATCH` on a CPU and :data:`GPU_WIDTH_BATCH` elsewhere.
    """
    name = "width_batch" if value is not None else "DDLIB_WIDTH_BATCH"
    raw = str(value).strip().lower() if value is not None else env_word("DDLIB_WIDTH_BATCH")
    if value is None and raw == "":
        return CPU_WIDTH_BATCH if device.type == "cpu" else GPU_WIDTH_BATCH
    if raw in OFF_WORDS:
        return 0
    return non_negative_int_text(name, raw, "the widest width to batch; 0 or off: none")


def build_for_widths(name: str, widths, input_shape, num_classes: int, seeds, channel_align: int = 1) -> nn.Module:
    """An ensemble whose member ``i`` is the width-``widths[i]`` model of family ``name`` seeded by ``seeds[i]``.

    All widths equal (and no stage to align): :func:`ddlib.models.build_model`. Otherwise the members are
    zero-padded to the widest (module docstring), whose stages a CIFAR family also rounds up to a multiple of
    ``channel_align`` channels (:mod:`ddlib.channel_alignment`; other families ignore it); the ensemble then
    carries ``member_widths``, which :func:`ddlib.models.member_state` uses to hand back each member's
    unpadded state.
    """
    widths, seeds = [int(w) for w in widths], [int(s) for s in seeds]
    if len(widths) != len(seeds):
        raise ConfigError(f"widths and seeds must have one entry per member; got {len(widths)} widths, {len(seeds)} seeds")
    if not widths:
        raise ConfigError("widths must name at least one member")
    channel_align = positive_int("channel_align", channel_align)
    widest = max(widths)
    padded = pads(name, widest, channel_align)
    if len(set(widths)) == 1 and not padded:
        return build_model(name, widths[0], input_shape, num_classes, seeds)
    if padded:
        from .vision_models import build_vision_model

        model = build_vision_model(name, widest, num_classes, seeds, stage_channels(widest, channel_align))
    else:
        model = build_model(name, widest, input_shape, num_classes, seeds)
    state = model.state_dict()  # views of the parameters and buffers
    shapes: dict[int, dict[str, torch.Size]] = {}
    with torch.no_grad():
        for tensor in state.values():
            tensor.zero_()
        for i, (width, seed) in enumerate(zip(widths, seeds)):
            lone = build_model(name, width, input_shape, num_classes, [seed]).state_dict()
            shapes.setdefault(width, {k: v.shape for k, v in lone.items()})
            for key, target in state.items():
                _block(model, key, member_rows(target, len(widths), i), lone[key].shape).copy_(
                    _padding_view(model, key, lone[key]))
    model.member_widths, model.member_shapes = widths, shapes
    return model


def padded_member_state(model: nn.Module, index: int) -> dict[str, torch.Tensor]:
    """Member ``index`` of a width-batched ensemble as the state dict of its lone model (CPU tensors)."""
    shapes = model.member_shapes[model.member_widths[index]]
    members = len(model.member_widths)
    return {key: _block(model, key, member_rows(t, members, index), shapes[key]).detach().cpu().reshape(shapes[key])
            .clone() for key, t in model.state_dict().items()}


def _padding_view(model: nn.Module, key: str, t: torch.Tensor) -> torch.Tensor:
    """``t`` viewed so that a narrower member is its leading block (a family may define ``padding_view``)."""
    hook = getattr(model, "padding_view", None)
    return t if hook is None else hook(key, t)


def _block(model: nn.Module, key: str, padded: torch.Tensor, lone_shape) -> torch.Tensor:
    """The leading block of ``padded`` (one member's rows of tensor ``key``) that a lone tensor of ``lone_shape`` fills."""
    view = _padding_view(model, key, padded)
    inner = _padding_view(model, key, torch.empty(lone_shape, device="meta")).shape
    return view[tuple(slice(0, n) for n in inner)]
