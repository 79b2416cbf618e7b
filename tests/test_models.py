import pytest
import torch

from ddlib import ConfigError, build_model, count_params
from ddlib.models import member_state, stack_states


def test_mlp_parameter_count_formula():
    for h in (1, 7, 64):
        assert count_params("mlp", h, (40,), 10) == (40 + 1) * h + (h + 1) * 10


@pytest.mark.parametrize("name", ["mlp", "cnn1d"])
def test_parameter_counts_grow_with_width(name):
    counts = [count_params(name, w, (40,), 10) for w in (1, 2, 4, 8, 16)]
    assert all(a < b for a, b in zip(counts, counts[1:]))


@pytest.mark.parametrize("name", ["mlp", "cnn1d"])
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
