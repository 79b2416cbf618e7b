"""The CIFAR model families of Nakkiran et al. (2019), *Deep Double Descent* (arXiv:1912.02292), App. B.

Both are indexed by a width ``k`` (``k = 64`` is the standard size):

* ``resnet18``: the pre-activation ResNet-18 of He et al. (2016, *Identity Mappings in Deep
  Residual Networks*) with stage widths ``[k, 2k, 4k, 8k]``, exactly as in Nakkiran et al.'s
  ``make_resnet18k`` (gitlab.com/harvard-machine-learning/double-descent, ``models/resnet18k.py``,
  itself Kuang Liu's ``pytorch-cifar`` ``preact_resnet.py`` with an ``init_channels`` knob):
  3x3 conv to ``k`` channels; four stages of two pre-activation blocks
  ``out = conv2(relu(bn2(conv1(relu(bn1(x)))))) + shortcut``, the first block of stages 2-4 with
  stride 2 and a 1x1 convolution (applied to ``relu(bn1(x))``) as shortcut; 4x4 average pool;
  linear layer. Convolutions have no bias. About 11.17M parameters at ``k = 64``, 10 classes.
* ``cnn5``: the 5-layer CNN of Nakkiran et al. (``models/mcnn.py``, after Page's Myrtle CNN):
  four 3x3 conv(bias)-BatchNorm-ReLU layers of widths ``[k, 2k, 4k, 8k]``, a 2x2 max-pool after
  the 2nd, 3rd and 4th, a global 4x4 max-pool, and a linear layer.

Each family comes twice: a plain single-model ``nn.Module`` (:class:`PreActResNet18`,
:class:`FiveLayerCNN`), and an *ensemble* following ``ddlib.models``' convention
(:class:`EnsemblePreActResNet18`, :class:`EnsembleFiveLayerCNN`): input ``(members, batch, 3, H, W)``,
logits ``(members, batch, classes)``. The ensemble stacks its members along the channel axis,
``(batch, members * channels, H, W)``, and every convolution is grouped with ``groups = members``,
so member ``i`` only ever sees channels ``[i * c, (i + 1) * c)``; BatchNorm over
``members * c`` channels is per-member BatchNorm, since its statistics are per channel. Every
parameter and buffer has ``members * (one member's dim 0)`` rows, member-major, with the same
names as the plain model's, so ``ddlib.models.member_state`` yields a plain model's state dict.
Member ``i`` is initialised from ``torch.Generator().manual_seed(seeds[i])`` alone with PyTorch's
default initialisation (conv/linear weights and biases uniform on ``[-1/sqrt(fan_in),
1/sqrt(fan_in)]``, BatchNorm weight 1 and bias 0). Both accept ``channels_last`` models
(``model.to(memory_format=torch.channels_last)``).
"""
from __future__ import annotations

import functools

import torch
from torch import nn
from torch.nn import functional as F

from .channel_alignment import stage_channels
from .models import IMAGE_MODELS, _member_generators, _uniform
from .validation import ConfigError, one_of, positive_int

VISION_MODELS = IMAGE_MODELS


# ----------------------------------------------------------------------------- plain models
class PreActBlock(nn.Module):
    """Pre-activation basic block (He et al. 2016b), as in Kuang Liu's / Nakkiran et al.'s code."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
        out = self.conv2(F.relu(self.bn2(self.conv1(out))))
        return out + shortcut


class PreActResNet18(nn.Module):
    """Nakkiran et al.'s ``make_resnet18k(k, num_classes)``: PreAct ResNet-18, widths ``[k, 2k, 4k, 8k]``."""

    def __init__(self, k: int = 64, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, k, 3, 1, 1, bias=False)
        widths, cin = [k, 2 * k, 4 * k, 8 * k], k
        for s, (w, stride) in enumerate(zip(widths, (1, 2, 2, 2)), start=1):
            setattr(self, f"layer{s}", nn.Sequential(PreActBlock(cin, w, stride), PreActBlock(w, w, 1)))
            cin = w
        self.linear = nn.Linear(8 * k, num_classes)

    def forward(self, x):
        out = self.layer4(self.layer3(self.layer2(self.layer1(self.conv1(x)))))
        return self.linear(F.avg_pool2d(out, 4).flatten(1))


class FiveLayerCNN(nn.Module):
    """Nakkiran et al.'s ``make_cnn(c=k, num_classes)`` (their ``nn.Sequential``, with named layers)."""

    def __init__(self, k: int = 64, num_classes: int = 10):
        super().__init__()
        widths = [3, k, 2 * k, 4 * k, 8 * k]
        for i in range(4):
            setattr(self, f"conv{i}", nn.Conv2d(widths[i], widths[i + 1], 3, 1, 1, bias=True))
            setattr(self, f"bn{i}", nn.BatchNorm2d(widths[i + 1]))
        self.linear = nn.Linear(8 * k, num_classes)

    def forward(self, x):
        for i in range(4):
            x = F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))
            if i > 0:
                x = F.max_pool2d(x, 2)
        return self.linear(F.max_pool2d(x, 4).flatten(1))


# ----------------------------------------------------------------------------- ensemble layers
class _GConv(nn.Module):
    """``members`` independent ``Conv2d(cin, cout, kernel)`` as one convolution with ``groups = members``."""

    def __init__(self, members, cin, cout, kernel, stride=1, padding=0, bias=False):
        super().__init__()
        self.members, self.cin, self.cout, self.kernel = members, cin, cout, kernel
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(torch.empty(members * cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.empty(members * cout)) if bias else None

    @torch.no_grad()
    def init_member(self, i: int, gen: torch.Generator) -> None:
        fan, rows = self.cin * self.kernel**2, slice(i * self.cout, (i + 1) * self.cout)
        self.weight[rows] = _uniform(self.weight[rows].shape, fan, gen)
        if self.bias is not None:
            self.bias[rows] = _uniform((self.cout,), fan, gen)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, groups=self.members)


class _GBatchNorm(nn.Module):
    """BatchNorm2d over ``members * c`` channels (= per-member BatchNorm2d(c)), momentum 0.1, eps 1e-5.

    Functional, without ``num_batches_tracked`` (a 0-d buffer that cannot be split by member;
    ``nn.BatchNorm2d`` only reads it when ``momentum=None``).
    """

    def __init__(self, members, c, momentum=0.1, eps=1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(members * c))
        self.bias = nn.Parameter(torch.zeros(members * c))
        self.register_buffer("running_mean", torch.zeros(members * c))
        self.register_buffer("running_var", torch.ones(members * c))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, self.momentum, self.eps)


class _GLinear(nn.Module):
    """``members`` independent ``Linear(fin, cout)``: ``(batch, members * fin)`` -> ``(members, batch, cout)``."""

    def __init__(self, members, fin, cout):
        super().__init__()
        self.members, self.fin, self.cout = members, fin, cout
        self.weight = nn.Parameter(torch.empty(members * cout, fin))
        self.bias = nn.Parameter(torch.empty(members * cout))

    @torch.no_grad()
    def init_member(self, i: int, gen: torch.Generator) -> None:
        rows = slice(i * self.cout, (i + 1) * self.cout)
        self.weight[rows] = _uniform((self.cout, self.fin), self.fin, gen)
        self.bias[rows] = _uniform((self.cout,), self.fin, gen)

    def forward(self, h):
        m = self.members
        h = h.reshape(h.shape[0], m, self.fin).transpose(0, 1)  # (members, batch, fin)
        w = self.weight.view(m, self.cout, self.fin).transpose(1, 2)
        return torch.baddbmm(self.bias.view(m, 1, self.cout), h, w)


class _Ensemble(nn.Module):
    """Shared plumbing: per-member init, and ``(members, batch, C, H, W)`` -> ``(batch, members * C, H, W)``."""

    def _init_members(self, seeds) -> None:
        for i, gen in enumerate(_member_generators(seeds)):
            for mod in self.modules():  # registration order: fixed, so member i depends on seeds[i] only
                if hasattr(mod, "init_member"):
                    mod.init_member(i, gen)

    def _stack(self, x: torch.Tensor) -> torch.Tensor:
        m, b, c, h, w = x.shape
        if m != self.members:
            raise ConfigError(f"input has {m} members along dim 0 but the ensemble has {self.members}")
        fmt = (torch.channels_last if self.stem.weight.is_contiguous(memory_format=torch.channels_last)
               else torch.contiguous_format)
        return x.transpose(0, 1).reshape(b, m * c, h, w).contiguous(memory_format=fmt)


class _EnsPreActBlock(nn.Module):
    def __init__(self, m, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = _GBatchNorm(m, in_planes)
        self.conv1 = _GConv(m, in_planes, planes, 3, stride, 1)
        self.bn2 = _GBatchNorm(m, planes)
        self.conv2 = _GConv(m, planes, planes, 3, 1, 1)
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(_GConv(m, in_planes, planes, 1, stride, 0))

    forward = PreActBlock.forward


class EnsemblePreActResNet18(_Ensemble):
    """``len(seeds)`` :class:`PreActResNet18` (width ``k``) as one grouped-convolution network; ``channels``
    (default ``[k, 2k, 4k, 8k]``) sets each member's stage channels (:mod:`ddlib.channel_alignment`), kept as
    the attribute ``channels``."""

    def __init__(self, k: int, num_classes: int, seeds, channels=None):
        super().__init__()
        m = self.members = len(seeds)
        widths = self.channels = channels or stage_channels(k)
        self.conv1 = _GConv(m, 3, widths[0], 3, 1, 1)
        cin = widths[0]
        for s, (w, stride) in enumerate(zip(widths, (1, 2, 2, 2)), start=1):
            setattr(self, f"layer{s}", nn.Sequential(_EnsPreActBlock(m, cin, w, stride), _EnsPreActBlock(m, w, w, 1)))
            cin = w
        self.linear = _GLinear(m, widths[3], num_classes)
        self._init_members(seeds)

    @property
    def stem(self):
        return self.conv1

    def forward(self, x):
        out = self.layer4(self.layer3(self.layer2(self.layer1(self.conv1(self._stack(x))))))
        return self.linear(F.avg_pool2d(out, 4).flatten(1))


class EnsembleFiveLayerCNN(_Ensemble):
    """``len(seeds)`` :class:`FiveLayerCNN` (width ``k``) as one grouped-convolution network; ``channels`` as
    :class:`EnsemblePreActResNet18`'s."""

    def __init__(self, k: int, num_classes: int, seeds, channels=None):
        super().__init__()
        m = self.members = len(seeds)
        self.channels = channels or stage_channels(k)
        widths = [3, *self.channels]
        for i in range(4):
            setattr(self, f"conv{i}", _GConv(m, widths[i], widths[i + 1], 3, 1, 1, bias=True))
            setattr(self, f"bn{i}", _GBatchNorm(m, widths[i + 1]))
        self.linear = _GLinear(m, widths[4], num_classes)
        self._init_members(seeds)

    @property
    def stem(self):
        return self.conv0

    def forward(self, x):
        x = self._stack(x)
        for i in range(4):
            x = F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))
            if i > 0:
                x = F.max_pool2d(x, 2)
        return self.linear(F.max_pool2d(x, 4).flatten(1))


# ----------------------------------------------------------------------------- builders
def _check(name: str, k: int, num_classes: int) -> None:
    one_of("model", name, VISION_MODELS)
    positive_int("k", k)
    positive_int("num_classes", num_classes)


def plain_vision_model(name: str, k: int, num_classes: int = 10) -> nn.Module:
    """A single :class:`PreActResNet18` or :class:`FiveLayerCNN` (PyTorch's global-RNG default init)."""
    _check(name, k, num_classes)
    return (PreActResNet18 if name == "resnet18" else FiveLayerCNN)(k, num_classes)


@torch.no_grad()
def stage_shapes(name: str, k: int) -> list[tuple[int, int, int]]:
    """``(channels, height, width)`` of each stage's output for one 32x32 CIFAR image: the four residual
    stages of the ResNet, or the four convolution blocks of the CNN (before their pooling), read from a
    forward pass of :func:`plain_vision_model` with hooks."""
    with torch.random.fork_rng():  # building the model draws its initial weights: leave the caller's RNG alone
        model = plain_vision_model(name, k)
    shapes = []
    stages = ("layer1", "layer2", "layer3", "layer4") if name == "resnet18" else ("bn0", "bn1", "bn2", "bn3")
    hooks = [getattr(model, stage).register_forward_hook(lambda m, i, out: shapes.append(tuple(out.shape[1:])))
             for stage in stages]
    model.eval()(torch.zeros(1, 3, 32, 32))
    for hook in hooks:
        hook.remove()
    return shapes


def build_vision_model(name: str, k: int, num_classes: int, seeds, channels=None) -> nn.Module:
    """An ensemble of ``len(seeds)`` models of family ``name`` at width ``k``, member i seeded by ``seeds[i]``.

    ``channels``: each member's four stage channel counts, at least ``[k, 2k, 4k, 8k]`` (the default). Wider
    layers are initialised as layers of their own size; :func:`ddlib.width_batching.build_for_widths` zero-pads
    width-``k`` models into them instead (:mod:`ddlib.channel_alignment`)."""
    _check(name, k, num_classes)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("seeds must name at least one member")
    if channels is not None:
        channels = [int(c) for c in channels]
        natural = stage_channels(k)
        if len(channels) != len(natural) or any(c < n for c, n in zip(channels, natural)):
            raise ConfigError(f"channels must be {len(natural)} stage channel counts, each at least width {k}'s "
                              f"{natural}; got {channels}")
    return (EnsemblePreActResNet18 if name == "resnet18" else EnsembleFiveLayerCNN)(k, num_classes, seeds, channels)


def count_vision_params(name: str, k: int, num_classes: int = 10) -> int:
    """Trainable parameters of *one* model (built on the ``meta`` device: no memory, no time)."""
    with torch.device("meta"):
        model = plain_vision_model(name, k, num_classes)
    return sum(p.numel() for p in model.parameters())


@functools.lru_cache(maxsize=None)
def vision_forward_flops(name: str, k: int, num_classes: int = 10, image_size: int = 32,
                         channels: tuple[int, ...] | None = None) -> int:
    """Forward FLOPs of one model on one image (2 per multiply-add of convs and the linear layer);
    ``channels``: its stage channels where they are not ``[k, 2k, 4k, 8k]`` (:mod:`ddlib.channel_alignment`'s
    zero-padded stages, whose zeros are computed like any other channel).

    Counted by ``torch.utils.flop_counter`` on the ``meta`` device, on a one-member ensemble
    (:func:`build_vision_model`: the plain model's convolutions and linear layer, the same count);
    BatchNorm, ReLU and pooling are not counted (they are memory-bound). Training costs about 3x this
    (forward + backward). Cached: the reports count the same widths many times.
    """
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = build_vision_model(name, k, num_classes, [0], channels)
        x = torch.empty(1, 1, 3, image_size, image_size)
    with FlopCounterMode(display=False) as counter:
        model(x)
    return int(counter.get_total_flops())
