"""Stage channel counts rounded up to a multiple of ``align``, the extra channels zero: a speed switch.

ResNet-18-``k`` and the 5-layer CNN (:mod:`ddlib.vision_models`) have stages of ``k, 2k, 4k, 8k``
channels, all multiples of 8 only when ``k`` is. Tensor-core convolutions in 16-bit precision want
input and output channel counts divisible by 8 (NVIDIA, *Deep Learning Performance Documentation:
Convolutional Layers User's Guide*, "Channels In and Out"); where they are not, cuDNN may pick slower
kernels. :func:`stage_channels` rounds each stage up to a multiple of ``align``, e.g. ``k = 17`` with
``align = 8``: ``[17, 34, 68, 136]`` becomes ``[24, 40, 72, 136]``.

The model then carries its width-``k`` members in the leading channels of each stage and zeros in
the rest, built by :func:`ddlib.width_batching.build_for_widths` exactly as narrower widths are padded
into a wider ensemble: a zero channel stays zero through convolution, BatchNorm, ReLU, pooling, the
residual sum and Adam or SGD, so each member trains its width-``k`` model, up to floating-point
summation order (that module's docstring has the induction; tested against separate training). The
stored weights are the unpadded model's. The extra channels cost FLOPs: with ``c_s`` the natural and
``p_s`` the padded channels of stage ``s``, a 3x3 convolution within the stage costs ``(p_s / c_s)^2``
times as much, e.g. ``(24/17)^2 = 1.99`` in the first stage at ``k = 17`` and 1 in the last. It pays
only if the aligned kernels are faster by more than that, which ``benchmarks/gpu_session.sh``'s
``aligned`` step measures (``--channel-align 1 8`` of ``benchmarks/train_throughput.py``).

Like width batching, the setting changes speed, not the recipe, so it is not part of a run's hash; the
provenance records what a group was padded to (``channel_align``, 1 where nothing was). ``$DDLIB_CHANNEL_ALIGN`` sets it (:func:`channel_align_setting`).
The default is 1 (no padding) on every device until a GPU run has measured it; only the CIFAR model
families are padded (the MNIST-1D models' channel counts are the chapters' widths, trained on a CPU).
The runner pads every group whose widest width is unaligned, small widths included (e.g. a CPU's group
of widths 1-4 trains in stages of 8, 8, 16, 32 channels); on a GPU, width batching trains the paper sweep's widths up
to 16 in groups whose widest is 16, already aligned, unless a group is split at
:data:`ddlib.runner.MAX_MEMBERS` members.
"""
from __future__ import annotations

from .models import IMAGE_MODELS
from .paths import OFF_WORDS, env_word
from .validation import ConfigError

#: Tensor-core convolutions in 16-bit precision want input and output channel counts divisible by 8 (NVIDIA,
#: *Deep Learning Performance Documentation: Convolutional Layers User's Guide*, "Channels In and Out").
CHANNEL_ALIGNMENT = 8

#: Each stage's channels as a multiple of the width ``k`` (both CIFAR families: ``[k, 2k, 4k, 8k]``).
STAGE_MULTIPLIERS = (1, 2, 4, 8)

#: ``$DDLIB_CHANNEL_ALIGN`` when unset: no padding, on every device. Not yet measured on a GPU; on this project's
#: 2-core CPU (ResNet-18, batch 64, two runs of ``train_throughput.py --channel-align 1 8`` on 2026-12-04,
#: ``benchmarks/results/channel-alignment/cpu-resnet18-*.csv``) padding was slower: 0.84-0.98 times the unpadded
#: images/s at k = 17, 20, 29 and 31.
DEFAULT_CHANNEL_ALIGN = 1


def stage_channels(width: int, align: int = 1) -> list[int]:
    """Channels of the four stages at ``width``, each rounded up to a multiple of ``align``
    (``align = 1``: the natural ``[k, 2k, 4k, 8k]``)."""
    return [-(-m * width // align) * align for m in STAGE_MULTIPLIERS]


def is_aligned(width: int, align: int = CHANNEL_ALIGNMENT) -> bool:
    """Whether every stage of ``width`` already has a multiple of ``align`` channels (padding changes nothing)."""
    return stage_channels(width, align) == stage_channels(width)


def pads(model_name: str, width: int, align: int) -> bool:
    """Whether aligning to ``align`` changes a model of family ``model_name`` at ``width`` (only the CIFAR families
    are aligned)."""
    return model_name in IMAGE_MODELS and not is_aligned(width, align)


def channel_align_setting(value: int | str | None = None) -> int:
    """The multiple the CIFAR models' stage channels are rounded up to (1: none).

    ``value`` if given, else ``$DDLIB_CHANNEL_ALIGN``; an integer >= 1, with ``0`` and the off-words
    meaning 1; unset: :data:`DEFAULT_CHANNEL_ALIGN`. Anything else raises :class:`ConfigError` naming
    the parameter."""
    name = "channel_align" if value is not None else "DDLIB_CHANNEL_ALIGN"
    raw = str(value).strip().lower() if value is not None else env_word("DDLIB_CHANNEL_ALIGN")
    if value is None and raw == "":
        return DEFAULT_CHANNEL_ALIGN
    if raw in OFF_WORDS:
        return 1
    align = int(raw) if raw.isascii() and raw.isdigit() else 0
    if align < 1:
        raise ConfigError(f"{name} must be a positive integer: the multiple each stage's channels are rounded up to "
                          f"(e.g. {CHANNEL_ALIGNMENT}; 1, 0 or off: none); got {raw!r}")
    return align


def padded_flops_ratio(model_name: str, width: int, align: int = CHANNEL_ALIGNMENT) -> float:
    """Forward FLOPs of one width-``width`` model with its stages rounded up to multiples of ``align``, over the
    unpadded model's (both counted by ``torch.utils.flop_counter`` on the ``meta`` device, one image; 1.0 when
    padding changes nothing; :func:`ddlib.vision_models.vision_forward_flops`). The zero channels are computed like
    any others: this is what padding costs."""
    from .vision_models import vision_forward_flops

    padded = vision_forward_flops(model_name, width, channels=tuple(stage_channels(width, align)))
    return padded / vision_forward_flops(model_name, width)
