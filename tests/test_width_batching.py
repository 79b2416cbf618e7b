"""Several widths as one zero-padded ensemble (ddlib.width_batching) train exactly the lone models."""
import pytest
import torch

from ddlib import DataConfig, ResultStore, RunConfig, TrainConfig, run_configs
from ddlib.config import config_hash
from ddlib.models import build_model, member_state
from ddlib.runner import _groups
from ddlib.train import Targets, predict_logits, train_ensemble
from ddlib.validation import ConfigError
from ddlib.width_batching import CPU_WIDTH_BATCH, GPU_WIDTH_BATCH, build_for_widths, width_batch_limit

WIDTHS, SEEDS = [1, 3, 2], [5, 6, 7]
SHAPES = {"mlp": (40,), "cnn1d": (40,), "cnn1d_gk": (40,), "cnn5": (3, 32, 32), "resnet18": (3, 32, 32)}


def _data(name):
    gen = torch.Generator().manual_seed(0)
    if name in ("cnn5", "resnet18"):
        x = torch.randint(0, 256, (24, 3, 32, 32), dtype=torch.uint8, generator=gen)  # images: augmented
    else:
        x = torch.randn(24, 40, generator=gen, dtype=torch.float64)
    return x, torch.randint(0, 10, (24,), generator=gen)


def _train(model, name, seeds, cfg=TrainConfig(steps=4, batch_size=8)):
    x, y = _data(name)
    train_ensemble(model, x, Targets(hard=y.expand(len(seeds), -1)), cfg, seeds, mean_std="cifar10")
    return model


ADAM, SGD = TrainConfig(steps=4, batch_size=8), TrainConfig(optimizer="sgd", lr=0.05, weight_decay=0.01, steps=4,
                                                            batch_size=8)


@pytest.mark.parametrize("name,cfg,widths,seeds,align", [
    ("mlp", ADAM, WIDTHS, SEEDS, 1), ("cnn1d", ADAM, WIDTHS, SEEDS, 1), ("cnn5", ADAM, WIDTHS, SEEDS, 1),
    ("cnn1d_gk", ADAM, WIDTHS, SEEDS, 1),  # kernels 5, 3, 3: each layer padded by its own kernel
    ("resnet18", ADAM, WIDTHS, SEEDS, 1), ("cnn1d", SGD, WIDTHS, SEEDS, 1), ("cnn5", SGD, WIDTHS, SEEDS, 1),
    # channel alignment (ddlib.channel_alignment): one width, or several, with stages rounded up to multiples of 8
    ("resnet18", ADAM, [3], [5], 8), ("cnn5", ADAM, [3, 3], [5, 6], 8), ("resnet18", ADAM, WIDTHS, SEEDS, 8),
    ("cnn5", SGD, WIDTHS, SEEDS, 8)])
def test_padded_members_train_exactly_like_lone_models(name, cfg, widths, seeds, align):
    """Float64: each member of a zero-padded ensemble (widths [1, 3, 2] padded to 3; with ``align`` 8 also each
    stage rounded up to a multiple of 8 channels), trained together (Adam, or SGD with momentum and weight
    decay), equals its lone model trained alone, in its weights and in its eval-mode predictions (BatchNorm
    running statistics), and every padded entry is still exactly zero."""
    together = build_for_widths(name, widths, SHAPES[name], 10, seeds, channel_align=align).to(torch.float64)
    if align > 1:  # the convolutions really were padded: every stage's channel count is a multiple of 8
        convs = [t for key, t in together.state_dict().items() if t.dim() == 4]
        assert all(t.shape[0] // len(seeds) % align == 0 for t in convs)
    together = _train(together, name, seeds, cfg)
    assert together.member_widths == widths
    states = [member_state(together, i) for i in range(len(widths))]
    x = _data(name)[0][:10]
    logits = predict_logits(together, x, len(widths), mean_std="cifar10")
    for i, (width, seed, state) in enumerate(zip(widths, seeds, states)):
        alone = _train(build_model(name, width, SHAPES[name], 10, [seed]).to(torch.float64), name, [seed], cfg)
        for key, value in member_state(alone, 0).items():
            assert state[key].shape == value.shape, key
            torch.testing.assert_close(state[key], value, rtol=1e-7, atol=1e-9, msg=key)
        # predict_logits returns float32: float64 logits equal to ~1e-16 may still round to neighbouring float32
        # values, so allow two float32 ulps (2 x 2^-23 relative); a wrong member or padding is off by far more
        torch.testing.assert_close(logits[i], predict_logits(alone, x, 1, mean_std="cifar10")[0], rtol=2.4e-7,
                                   atol=1e-9)
    for key, tensor in together.state_dict().items():  # the rest of each tensor is padding: all zero
        outside = tensor.abs().sum() - sum(s[key].abs().sum() for s in states)
        assert abs(float(outside)) < 1e-9, key


def test_padded_forward_equals_lone_forward():
    x = torch.randn(1, 6, 40).expand(3, 6, 40)
    together = build_for_widths("cnn1d", WIDTHS, (40,), 10, SEEDS)
    out = together(x)
    for i, (width, seed) in enumerate(zip(WIDTHS, SEEDS)):
        torch.testing.assert_close(out[i], build_model("cnn1d", width, (40,), 10, [seed])(x[:1])[0])


def test_one_width_is_a_plain_ensemble_and_bad_lengths_fail():
    assert not hasattr(build_for_widths("mlp", [4, 4], (40,), 10, [0, 1]), "member_widths")
    # nothing to align: a multiple of 8 (every stage already is), or a family without stages
    assert not hasattr(build_for_widths("resnet18", [8, 8], SHAPES["resnet18"], 10, [0, 1], 8), "member_widths")
    assert not hasattr(build_for_widths("cnn1d", [3, 3], (40,), 10, [0, 1], 8), "member_widths")
    with pytest.raises(ConfigError, match="channel_align must be a positive integer"):
        build_for_widths("cnn5", [3], SHAPES["cnn5"], 10, [0], 0)
    with pytest.raises(ConfigError, match="one entry per member"):
        build_for_widths("mlp", [4, 8], (40,), 10, [0])


def test_width_batch_limit_from_argument_environment_and_device(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.delenv("DDLIB_WIDTH_BATCH", raising=False)
    assert width_batch_limit(cpu) == CPU_WIDTH_BATCH and width_batch_limit(cuda) == GPU_WIDTH_BATCH
    assert width_batch_limit(cuda, 8) == 8
    monkeypatch.setenv("DDLIB_WIDTH_BATCH", "off")
    assert width_batch_limit(cpu) == 0
    monkeypatch.setenv("DDLIB_WIDTH_BATCH", "24")
    assert width_batch_limit(cuda) == 24
    monkeypatch.setenv("DDLIB_WIDTH_BATCH", "-3")
    with pytest.raises(ConfigError, match="DDLIB_WIDTH_BATCH must be an integer >= 0"):
        width_batch_limit(cpu)
    with pytest.raises(ConfigError, match="width_batch must be"):
        width_batch_limit(cpu, "wide")


def _sweep_configs():
    data = DataConfig(n_train=120, n_test=200, label_noise=0.2)
    train = TrainConfig(steps=40, batch_size=40)
    return [RunConfig(data=data, model="cnn1d", width=w, train=train, init_seed=s, order_seed=s)
            for w in (8, 2, 32, 4) for s in (0, 1)]


def test_grouping_pads_only_widths_up_to_the_limit():
    groups = _groups(_sweep_configs(), width_batch=8)
    assert sorted([c.width for c in g] for g in groups) == [[2, 2, 4, 4, 8, 8], [32, 32]]
    assert len(_groups(_sweep_configs(), width_batch=0)) == 4


def test_width_batched_sweep_stores_the_same_runs(results_dir, tmp_path):
    """The same sweep with and without width batching stores the same weights and test errors."""
    configs = _sweep_configs()
    batched = run_configs(configs, store=ResultStore(tmp_path / "batched"), progress=False, width_batch=8)
    alone = run_configs(configs, store=ResultStore(tmp_path / "alone"), progress=False, width_batch=0)
    for cfg, a, b in zip(configs, batched.records, alone.records):
        assert a["hash"] == b["hash"] == config_hash(cfg)
        assert a["provenance"]["group_size"] == (6 if cfg.width <= 8 else 2)
        assert b["provenance"]["group_size"] == 2
        assert a["metrics"]["params"] == b["metrics"]["params"]
        assert abs(a["metrics"]["test_error"] - b["metrics"]["test_error"]) <= 0.01
        wa, wb = ResultStore(tmp_path / "batched").load_weights(cfg), ResultStore(tmp_path / "alone").load_weights(cfg)
        for key in wb:
            torch.testing.assert_close(wa[key], wb[key], rtol=1e-3, atol=1e-4, msg=key)
