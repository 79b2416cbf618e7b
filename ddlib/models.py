"""Width-parameterised model families, written as *ensembles*: ``members`` independent models
evaluated as one batched computation.

Every family takes inputs of shape ``(members, batch, *input_shape)`` and returns logits of shape
``(members, batch, classes)``. Member ``i`` is initialised from its own seed, exactly as a
lone model with that seed would be, so training ``S`` seeds together is the same computation
as training them one by one (up to floating-point summation order), only faster: small models
are dominated by per-step overhead, and batching shares it.

Families (``width`` is the knob swept for double descent):

* ``mlp``: one hidden ReLU layer of ``width`` units (Belkin et al. 2019 use this family for
  their double-descent curves). Parameters per member: ``(d + 1) h + (h + 1) C``.
* ``cnn1d``: for MNIST-1D, three 1-D convolutions of ``width`` channels (kernel 5, padding 2,
  stride 2, so the length goes 40 -> 20 -> 10 -> 5) with ReLU, then a linear layer (after
  Greydanus & Kobak's MNIST-1D CNN, with the channel count as the width knob). Parameters per
  member: ``6 w + 2 (5 w^2 + w) + (5 w + 1) C``.
* ``cnn1d_gk``: Greydanus & Kobak's MNIST-1D CNN itself (their ``ConvBase``): the same, but kernels 5, 3 and 3,
  all with padding 1 (the length goes 40 -> 19 -> 10 -> 5). Parameters per member:
  ``6 w + 2 (3 w^2 + w) + (5 w + 1) C``. The book's chapters use ``cnn1d``; this one is the published anchor's check.

* ``resnet18`` / ``cnn5``: the CIFAR families of Nakkiran et al. (2019), in
  :mod:`ddlib.vision_models` (input ``(members, batch, 3, 32, 32)`` float, already normalised).

Every ensemble has a ``members`` attribute, and every parameter and buffer has
``members * (one member's dim 0)`` rows, member-major, which :func:`member_state` relies on.

Initialisation follows PyTorch's default for ``nn.Linear``/``nn.Conv1d``: weights and biases
uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``.
"""
from __future__ import annotations

import functools
import math

import torch
from torch import nn
from torch.nn import functional as F

from .validation import one_of, positive_int

VECTOR_MODELS = ("mlp", "cnn1d", "cnn1d_gk")

#: Each model family in a clause, for prose that names the family a run used (``width`` is the swept knob).
MODEL_WORDS = {
    "mlp": "one hidden ReLU layer of `width` units, then a linear layer",
    "cnn1d": ("three 1-D convolutions of `width` channels, kernel 5 and stride 2, with ReLU, then a linear layer, "
              "after Greydanus & Kobak's MNIST-1D CNN"),
    "cnn1d_gk": ("Greydanus & Kobak's MNIST-1D CNN: three 1-D convolutions of `width` channels, kernels 5, 3 and 3, "
                 "stride 2, with ReLU, then a linear layer"),
    "resnet18": ("the pre-activation ResNet-18 with stage widths `[k, 2k, 4k, 8k]` for width `k`, as in Nakkiran "
                 "et al. 2019"),
    "cnn5": ("four 3x3 conv-BatchNorm-ReLU layers of widths `[k, 2k, 4k, 8k]` with max-pooling, then a linear layer, "
             "as in Nakkiran et al. 2019"),
}
#: Each model family's name in prose (the identifier is what parameters take).
MODEL_NAMES = {"mlp": "MLP", "cnn1d": "1-D CNN", "cnn1d_gk": "Greydanus & Kobak's 1-D CNN", "resnet18": "PreAct ResNet-18",
               "cnn5": "5-layer CNN"}
IMAGE_MODELS = ("resnet18", "cnn5")  # built by ddlib.vision_models
MODELS = VECTOR_MODELS + IMAGE_MODELS


def _uniform(shape, fan_in: int, gen: torch.Generator) -> torch.Tensor:
    bound = 1.0 / math.sqrt(fan_in)
    return (torch.rand(shape, generator=gen, dtype=torch.float32) * 2 - 1) * bound


def _member_generators(seeds) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(int(s)) for s in seeds]


class EnsembleMLP(nn.Module):
    """``members`` one-hidden-layer ReLU MLPs, evaluated with batched matrix products."""

    def __init__(self, in_features: int, width: int, num_classes: int, seeds):
        super().__init__()
        gens = _member_generators(seeds)
        self.members = len(gens)
        # Draw per member in a fixed order so member i does not depend on the others.
        w1, b1, w2, b2 = [], [], [], []
        for g in gens:
            w1.append(_uniform((in_features, width), in_features, g))
            b1.append(_uniform((1, width), in_features, g))
            w2.append(_uniform((width, num_classes), width, g))
            b2.append(_uniform((1, num_classes), width, g))
        self.w1, self.b1 = nn.Parameter(torch.stack(w1)), nn.Parameter(torch.stack(b1))
        self.w2, self.b2 = nn.Parameter(torch.stack(w2)), nn.Parameter(torch.stack(b2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(2)
        h = torch.relu(torch.baddbmm(self.b1, x, self.w1))
        return torch.baddbmm(self.b2, h, self.w2)


class EnsembleCNN1d(nn.Module):
    """``members`` small 1-D CNNs, each convolution computed as im2col + one batched matmul.

    Activations are kept channels-last, ``(members, batch, length, channels)``; a convolution
    with kernel ``k`` and stride ``s`` unfolds the padded input into windows (``Tensor.unfold``: a
    view, copied once by the reshape) ``(members, batch * out_len, k * channels)`` with columns
    ``tap * channels + channel``, and multiplies by the members' stacked kernels
    ``(members, k * channels, width)``. On a CPU this is several times faster than a grouped
    ``conv1d`` for these sizes, and it is the same function. ``KERNELS``, ``PADDINGS`` and ``STRIDES`` give each
    convolution's (:class:`EnsembleCNN1dGK` changes the first two).
    """

    KERNELS, PADDINGS, STRIDES = (5, 5, 5), (2, 2, 2), (2, 2, 2)

    def __init__(self, length: int, width: int, num_classes: int, seeds):
        super().__init__()
        gens = _member_generators(seeds)
        self.members, self.width = len(gens), width
        in_channels = (1, width, width)
        out_len = length
        for k, pad, s in zip(self.KERNELS, self.PADDINGS, self.STRIDES):
            out_len = (out_len + 2 * pad - k) // s + 1
        self.out_len = out_len
        weights = [[] for _ in in_channels]
        biases = [[] for _ in in_channels]
        lin_w, lin_b = [], []
        for g in gens:
            for i, (c, k) in enumerate(zip(in_channels, self.KERNELS)):
                weights[i].append(_uniform((c * k, width), c * k, g))
                biases[i].append(_uniform((1, width), c * k, g))
            lin_w.append(_uniform((width * out_len, num_classes), width * out_len, g))
            lin_b.append(_uniform((1, num_classes), width * out_len, g))
        self.conv_w = nn.ParameterList([nn.Parameter(torch.stack(w)) for w in weights])
        self.conv_b = nn.ParameterList([nn.Parameter(torch.stack(b)) for b in biases])
        self.lin_w, self.lin_b = nn.Parameter(torch.stack(lin_w)), nn.Parameter(torch.stack(lin_b))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s, b = x.shape[:2]
        h = x.reshape(s, b, -1, 1)  # (members, batch, length, 1 channel)
        for w, bias, k, pad, stride in zip(self.conv_w, self.conv_b, self.KERNELS, self.PADDINGS, self.STRIDES):
            h = F.pad(h, (0, 0, pad, pad))
            win = h.unfold(2, k, stride).transpose(3, 4)  # (members, batch, out_len, kernel, channels)
            out_len = win.shape[2]
            h = torch.relu(torch.baddbmm(bias, win.reshape(s, b * out_len, -1), w)).view(s, b, out_len, -1)
        h = h.transpose(2, 3).reshape(s, b, -1)  # flatten channel-major, like a Conv1d stack
        return torch.baddbmm(self.lin_b, h, self.lin_w)

    def padding_view(self, key: str, t: torch.Tensor) -> torch.Tensor:
        """A member's im2col kernel ``(1, kernel * channels, width)`` (rows ``tap * channels + channel``) as
        ``(1, kernel, channels, width)``, so a narrower member is its leading block (:mod:`ddlib.width_batching`)."""
        if not key.startswith("conv_w."):
            return t
        return t.view(t.shape[0], self.KERNELS[int(key.split(".")[1])], -1, t.shape[-1])


class EnsembleCNN1dGK(EnsembleCNN1d):
    """Greydanus & Kobak's MNIST-1D CNN (``ConvBase`` in ``notebooks/models.py`` of github.com/greydanus/mnist1d):
    kernels 5, 3 and 3, padding 1 and stride 2 in every layer, ReLU, then a linear layer on the channel-major
    flattened features; the published anchor's model (:mod:`ddlib.chapters.anchor`)."""

    KERNELS, PADDINGS = (5, 3, 3), (1, 1, 1)


#: The 1-D CNN families and their classes.
CNN1D_CLASSES = {"cnn1d": EnsembleCNN1d, "cnn1d_gk": EnsembleCNN1dGK}


def kernel_words(name: str) -> str:
    """A 1-D CNN family's convolution kernels in words, from its class: "kernel 5 in every layer" where they are all
    one size, else "kernels 5, 3 and 3"."""
    kernels = CNN1D_CLASSES[name].KERNELS
    if len(set(kernels)) == 1:
        return f"kernel {kernels[0]} in every layer"
    return "kernels " + ", ".join(map(str, kernels[:-1])) + f" and {kernels[-1]}"


def build_model(name: str, width: int, input_shape, num_classes: int, seeds) -> nn.Module:
    """Build an ensemble of ``len(seeds)`` models of family ``name`` at ``width``."""
    one_of("model", name, MODELS)
    positive_int("width", width)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one member")
    if name in IMAGE_MODELS:
        from .vision_models import build_vision_model

        return build_vision_model(name, width, num_classes, seeds)
    features = int(math.prod(input_shape))
    if name == "mlp":
        return EnsembleMLP(features, width, num_classes, seeds)
    return CNN1D_CLASSES[name](features, width, num_classes, seeds)


@functools.lru_cache(maxsize=None)
def _count_params(name: str, width: int, input_shape: tuple, num_classes: int) -> int:
    if name in IMAGE_MODELS:
        from .vision_models import count_vision_params

        return count_vision_params(name, width, num_classes)
    model = build_model(name, width, input_shape, num_classes, seeds=[0])
    return sum(p.numel() for p in model.parameters())


def count_params(name: str, width: int, input_shape, num_classes: int) -> int:
    """Number of trainable parameters of *one* model of family ``name`` at ``width`` (cached)."""
    one_of("model", name, MODELS)
    positive_int("width", width)
    return _count_params(name, int(width), tuple(input_shape), int(num_classes))


def member_state(model: nn.Module, index: int) -> dict[str, torch.Tensor]:
    """The parameters of member ``index`` alone, as a state dict of CPU tensors (for saving).

    For an ensemble of several widths (:mod:`ddlib.width_batching`), the member's unpadded state."""
    if getattr(model, "member_widths", None) is not None:
        from .width_batching import padded_member_state

        return padded_member_state(model, index)
    members = _num_members(model)
    return {name: member_rows(p, members, index).detach().cpu().clone() for name, p in model.state_dict().items()}


def member_rows(t: torch.Tensor, members: int, index: int) -> torch.Tensor:
    """Member ``index``'s rows of an ensemble tensor (every family stacks its members along dim 0), a view."""
    rows = t.shape[0] // members
    return t[index * rows : (index + 1) * rows]


def to_device(model: nn.Module, name: str, device: torch.device) -> nn.Module:
    """Move ``model`` (of family ``name``) to ``device``; image models use channels-last memory on CUDA
    (faster convolutions)."""
    model = model.to(device)
    if device.type == "cuda" and name in IMAGE_MODELS:
        model = model.to(memory_format=torch.channels_last)
    return model


def stack_states(model: nn.Module, states: list[dict[str, torch.Tensor]]) -> None:
    """Load one saved member state per member into an ensemble of one width (the inverse of
    :func:`member_state` there; a zero-padded ensemble of several widths is built by
    :func:`ddlib.width_batching.build_for_widths` instead)."""
    merged = {k: torch.cat([s[k] for s in states]) for k in states[0]}
    model.load_state_dict(merged)


def _num_members(model: nn.Module) -> int:
    return model.members
