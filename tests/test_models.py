import pytest
import torch

from ddlib import ConfigError, build_model, count_params
from ddlib.models import member_state, stack_states


def test_mlp_parameter_count_formula():
    for h in (1, 7, 64):
        assert count_params("mlp", h, (40,), 10) == (40 + 1) * h + (h + 1) * 10


@pytest.mark.parametrize("name", ["mlp", "cnn1d", "cnn1d_gk"])
def test_parameter_counts_grow_with_width(name):
    counts = [count_params(name, w, (40,), 10) for w in (1, 2, 4, 8, 16)]
    assert all(a < b for a, b in zip(counts, counts[1:]))


@pytest.mark.parametrize("name", ["mlp", "cnn1d", "cnn1d_gk"])
def test_ensemble_members_equal_lone_models(name):
    x = torch.randn(2, 5, 40)
    together = build_model(name, 6, (40,), 10, seeds=[3, 9])
    out = together(x)
    assert out.shape == (2, 5, 10)
    for i, seed in enumerate([3, 9]):
        alone = build_model(name, 6, (40,), 10, seeds=[seed])
        torch.testing.assert_close(out[i : i + 1], alone(x[i : i + 1]), rtol=1e-5, atol=1e-6)
        for k, v in member_state(together, i).items():
            torch.testing.assert_close(v, alone.state_dict()[k])


@pytest.mark.parametrize("name, kernels, padding, count", [
    ("cnn1d", (5, 5, 5), 2, lambda w: 6 * w + 2 * (5 * w * w + w) + (5 * w + 1) * 10),
    ("cnn1d_gk", (5, 3, 3), 1, lambda w: 6 * w + 2 * (3 * w * w + w) + (5 * w + 1) * 10)])
def test_the_1d_cnns_are_the_conv1d_stacks_they_describe(name, kernels, padding, count):
    """Each 1-D CNN computes what ``torch.nn.Conv1d`` layers of its kernels (stride 2, its padding), ReLU and a
    linear layer on the channel-major flattened features compute with the same weights; ``cnn1d_gk`` is Greydanus &
    Kobak's ``ConvBase`` (5,210 parameters at their 25 channels)."""
    from torch import nn

    width = 6
    model = build_model(name, width, (40,), 10, seeds=[3]).double()
    convs = [nn.Conv1d(1 if i == 0 else width, width, k, 2, padding).double() for i, k in enumerate(kernels)]
    for i, conv in enumerate(convs):  # the ensemble's im2col kernel, rows tap * channels + channel
        conv.weight.data = model.conv_w[i][0].view(kernels[i], -1, width).permute(2, 1, 0).clone()
        conv.bias.data = model.conv_b[i][0, 0].clone()
    linear = nn.Linear(width * 5, 10).double()
    linear.weight.data, linear.bias.data = model.lin_w[0].T.clone(), model.lin_b[0, 0].clone()
    reference = nn.Sequential(*[m for c in convs for m in (c, nn.ReLU())], nn.Flatten(), linear)
    x = torch.randn(7, 40, dtype=torch.double)
    torch.testing.assert_close(model(x[None])[0], reference(x[:, None, :]))
    assert count_params(name, width, (40,), 10) == count(width)
    assert count_params("cnn1d_gk", 25, (40,), 10) == 5210


def test_kernel_words_read_the_classes_kernels():
    from ddlib.models import kernel_words

    assert kernel_words("cnn1d") == "kernel 5 in every layer"
    assert kernel_words("cnn1d_gk") == "kernels 5, 3 and 3"


def test_member_state_round_trip():
    a = build_model("cnn1d", 4, (40,), 10, seeds=[1, 2])
    b = build_model("cnn1d", 4, (40,), 10, seeds=[5, 6])
    stack_states(b, [member_state(a, 1), member_state(a, 0)])
    x = torch.randn(1, 3, 40).expand(2, 3, 40)
    ya, yb = a(x), b(x)
    torch.testing.assert_close(yb[0], ya[1])
    torch.testing.assert_close(yb[1], ya[0])


@pytest.mark.parametrize("width", [0, -3, 2.5])
def test_bad_width_refused(width):
    with pytest.raises(ConfigError, match="width must be a positive integer"):
        build_model("mlp", width, (40,), 10, seeds=[0])


def test_unknown_model_refused():
    with pytest.raises(ConfigError, match="model must be one of 'mlp', 'cnn1d'"):
        build_model("transformer", 8, (40,), 10, seeds=[0])
