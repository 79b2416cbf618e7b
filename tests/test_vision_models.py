"""The CIFAR model families: sizes, and that an ensemble is exactly its members trained side by side."""
import pytest
import torch

from ddlib.losses import cross_entropy
from ddlib.validation import ConfigError
from ddlib.vision_models import (VISION_MODELS, build_vision_model, count_vision_params, plain_vision_model,
                                 vision_forward_flops)

K, CLASSES, SEEDS = 2, 10, (3, 11)
LR = 1e-3


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions run far faster single-threaded (and the CI machine is shared)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def member_slice(model, i):
    """Member ``i``'s state (``ddlib.models.member_state``'s layout: dim 0 split into ``members`` chunks)."""
    out = {}
    for name, t in model.state_dict().items():
        chunk = t.shape[0] // model.members
        out[name] = t[i * chunk:(i + 1) * chunk]
    return out


def test_resnet18_k64_is_standard_resnet18_size():
    assert count_vision_params("resnet18", 64, 10) == 11_171_146  # Nakkiran et al.'s make_resnet18k(64)
    assert abs(vision_forward_flops("resnet18", 64, 10) / 2 - 0.556e9) < 0.01e9  # ~0.56 GMACs per image


@pytest.mark.parametrize("name", VISION_MODELS)
def test_params_grow_with_k(name):
    counts = [count_vision_params(name, k, 10) for k in (1, 2, 4, 8, 16, 32, 64)]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)
    assert count_vision_params(name, 8, 100) > count_vision_params(name, 8, 10)


def test_cnn5_param_formula():
    # four 3x3 convs with bias, BN (2 per channel), linear 8k -> C
    k, c = 5, 10
    w = [3, k, 2 * k, 4 * k, 8 * k]
    expect = sum(9 * a * b + b + 2 * b for a, b in zip(w, w[1:])) + 8 * k * c + c
    assert count_vision_params("cnn5", k, c) == expect


def test_bad_parameters_raise():
    with pytest.raises(ConfigError, match="model"):
        build_vision_model("vgg", 4, 10, [0])
    with pytest.raises(ConfigError, match="k must be"):
        build_vision_model("resnet18", 0, 10, [0])
    with pytest.raises(ConfigError, match="seeds"):
        build_vision_model("cnn5", 4, 10, [])
    with pytest.raises(ConfigError, match="members"):
        build_vision_model("cnn5", 2, 10, [0, 1])(torch.zeros(3, 2, 3, 32, 32))


@pytest.mark.parametrize("name", VISION_MODELS)
def test_state_layout_matches_plain_model(name):
    ens = build_vision_model(name, K, CLASSES, SEEDS)
    plain = plain_vision_model(name, K, CLASSES)
    plain_state = {k: v for k, v in plain.state_dict().items() if not k.endswith("num_batches_tracked")}
    member = member_slice(ens, 1)
    assert member.keys() == plain_state.keys()
    for key, v in plain_state.items():
        assert member[key].shape == v.shape, key


@pytest.mark.parametrize("name", VISION_MODELS)
def test_one_member_equals_plain_model(name):
    """Member i, loaded into the plain (reference) architecture, computes the same function."""
    torch.manual_seed(0)
    ens = build_vision_model(name, K, CLASSES, SEEDS)
    plain = plain_vision_model(name, K, CLASSES)
    plain.load_state_dict(member_slice(ens, 1), strict=False)
    x = torch.randn(2, 6, 3, 32, 32)
    for train in (True, False):
        ens.train(train), plain.train(train)
        torch.testing.assert_close(ens(x)[1], plain(x[1]), rtol=1e-4, atol=1e-5)


def _step(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    logits = model(x)
    loss = cross_entropy(logits, y)  # sum over members of each member's mean CE
    opt.zero_grad()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    opt.step()
    return logits.detach(), grads


@pytest.mark.parametrize("name", VISION_MODELS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_ensemble_equals_separate_members(name, channels_last):
    """Members [s0, s1] together == two one-member ensembles with seeds s0 and s1: init, train- and
    eval-mode outputs, gradients, one Adam step and BatchNorm running statistics.

    In float64: cnn5's conv biases feed BatchNorm, so their true gradient is 0 and the computed one
    is rounding noise; in float32 that noise (~1e-9) exceeds Adam's eps and each run steps those
    biases by a random +-lr, while in float64 it is ~1e-17 and the step is negligible.
    """
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    both = build_vision_model(name, K, CLASSES, SEEDS).to(torch.float64, memory_format=fmt)
    alone = [build_vision_model(name, K, CLASSES, [s]).to(torch.float64, memory_format=fmt) for s in SEEDS]
    for i, a in enumerate(alone):
        for key, v in a.state_dict().items():
            assert torch.equal(member_slice(both, i)[key], v), key  # init depends on own seed only
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 8, 3, 32, 32, generator=gen, dtype=torch.float64)
    y = torch.randint(0, CLASSES, (2, 8), generator=gen)
    logits, grads = _step(both, x, y)
    for i, a in enumerate(alone):
        logits_i, grads_i = _step(a, x[i:i + 1], y[i:i + 1])
        torch.testing.assert_close(logits[i], logits_i[0], rtol=1e-9, atol=1e-10)
        for key, g in grads_i.items():
            chunk = grads[key].shape[0] // 2
            torch.testing.assert_close(grads[key][i * chunk:(i + 1) * chunk], g, rtol=1e-7, atol=1e-10)
        for key, v in a.state_dict().items():  # parameters after the Adam step, running stats
            torch.testing.assert_close(member_slice(both, i)[key], v, rtol=1e-9, atol=1e-10)
    both.eval()
    with torch.no_grad():
        out = both(x)
        for i, a in enumerate(alone):
            a.eval()
            torch.testing.assert_close(out[i], a(x[i:i + 1])[0], rtol=1e-9, atol=1e-10)


def test_members_see_only_their_own_inputs():
    model = build_vision_model("resnet18", K, CLASSES, SEEDS).eval()
    x = torch.randn(2, 4, 3, 32, 32)
    x2 = x.clone()
    x2[1] = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[0], model(x2)[0])
        assert not torch.allclose(model(x)[1], model(x2)[1])
