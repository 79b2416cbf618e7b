"""Stage channels rounded up to a multiple (ddlib.channel_alignment): the widths, the setting, the FLOPs it costs.
That a padded model trains exactly its unpadded one is tested in test_width_batching.py (float64) and, through
the runner, in test_cifar_training.py."""
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from ddlib.channel_alignment import (DEFAULT_CHANNEL_ALIGN, channel_align_setting, is_aligned, padded_flops_ratio,
                                     pads, stage_channels)
from ddlib.validation import ConfigError
from ddlib.vision_models import build_vision_model, plain_vision_model, vision_forward_flops


def plain_forward_flops(name, k):
    """The plain (single-model) network's forward FLOPs on one image, counted as vision_forward_flops counts."""
    with torch.device("meta"):
        model, x = plain_vision_model(name, k), torch.empty(1, 3, 32, 32)
    with FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


def test_stage_channels_round_each_stage_up():
    assert stage_channels(17) == [17, 34, 68, 136]
    assert stage_channels(17, 8) == [24, 40, 72, 136]
    assert stage_channels(3, 8) == [8, 8, 16, 24]
    assert stage_channels(20, 8) == [24, 40, 80, 160]
    assert [k for k in range(1, 65) if is_aligned(k)] == [8, 16, 24, 32, 40, 48, 56, 64]
    assert pads("resnet18", 17, 8) and pads("cnn5", 2, 8)
    assert not pads("resnet18", 24, 8) and not pads("resnet18", 17, 1) and not pads("cnn1d", 17, 8)


def test_setting_from_argument_and_environment(monkeypatch):
    monkeypatch.delenv("DDLIB_CHANNEL_ALIGN", raising=False)
    assert channel_align_setting() == DEFAULT_CHANNEL_ALIGN == 1
    assert channel_align_setting(8) == 8 and channel_align_setting("off") == 1 and channel_align_setting(0) == 1
    monkeypatch.setenv("DDLIB_CHANNEL_ALIGN", " 8 ")
    assert channel_align_setting() == 8
    for bad in ("-8", "eight", "2.5", "+8", "1_0"):
        monkeypatch.setenv("DDLIB_CHANNEL_ALIGN", bad)
        with pytest.raises(ConfigError, match="DDLIB_CHANNEL_ALIGN must be a positive integer"):
            channel_align_setting()
    with pytest.raises(ConfigError, match="channel_align must be a positive integer"):
        channel_align_setting(-1)


def test_wider_stages_than_the_width_allows_are_refused():
    with pytest.raises(ConfigError, match=r"each at least width 17's \[17, 34, 68, 136\]"):
        build_vision_model("resnet18", 17, 10, [0], [16, 40, 72, 136])
    with pytest.raises(ConfigError, match="must be 4 stage channel counts"):
        build_vision_model("cnn5", 17, 10, [0], [24, 40, 72])


def _cnn5_forward_flops(channels, classes=10):
    """Nakkiran's 5-layer CNN by hand: 3x3 convolutions at 32, 32, 16 and 8 pixels a side (a 2x2 max-pool after
    the 2nd, 3rd and 4th), 2 FLOPs per multiply-add, then the linear layer."""
    sides, cin, total = (32, 32, 16, 8), 3, 0
    for c, side in zip(channels, sides):
        total += 2 * 9 * cin * c * side * side
        cin = c
    return total + 2 * cin * classes


def _resnet18_forward_flops(channels, classes=10):
    """PreAct ResNet-18 by hand: a 3x3 stem; per stage two blocks of two 3x3 convolutions, the first block of
    stages 2-4 with stride 2 and a 1x1 shortcut; then the linear layer (2 FLOPs per multiply-add)."""
    total, cin, side = 2 * 9 * 3 * channels[0] * 32 * 32, channels[0], 32
    for width, stride in zip(channels, (1, 2, 2, 2)):
        side //= stride
        total += 2 * 9 * (cin * width + 3 * width * width) * side * side
        if stride != 1 or cin != width:
            total += 2 * cin * width * side * side
        cin = width
    return total + 2 * cin * classes


@pytest.mark.parametrize("k", [3, 17, 61])
@pytest.mark.parametrize("name,by_hand", [("cnn5", _cnn5_forward_flops), ("resnet18", _resnet18_forward_flops)])
def test_padding_costs_the_flops_of_the_wider_model(name, by_hand, k):
    expected = by_hand(stage_channels(k, 8)) / by_hand(stage_channels(k))
    assert padded_flops_ratio(name, k) == pytest.approx(expected, rel=1e-12) and expected > 1
    assert vision_forward_flops(name, k) == by_hand(stage_channels(k)) == plain_forward_flops(name, k)
    assert vision_forward_flops(name, k, channels=tuple(stage_channels(k, 8))) == by_hand(stage_channels(k, 8))
    assert padded_flops_ratio(name, 16) == 1.0
