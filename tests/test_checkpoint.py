"""Periodic checkpoints: a run interrupted part-way and resumed ends bit-identical to an uninterrupted one."""
import pytest
import torch

from ddlib import DataConfig, ResultStore, RunConfig, TrainConfig, build_model, load_data, run_configs
from ddlib import runner
from ddlib.checkpoint import DEFAULT_EVERY, Checkpointing, checkpoint_every_from_env
from ddlib.train import Targets, train_ensemble
from ddlib.validation import ConfigError


class Interrupted(Exception):
    """Stands in for a kill: raised by the test hook after a given step."""


def _stop_after(step):
    def hook(s):
        if s == step:
            raise Interrupted(s)
    return hook


def _assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def _mnist_run(ckpt=None, on_step=None, seeds=(1, 2), steps=300):
    d = load_data(DataConfig(n_train=200, n_test=200, label_noise=0.1))
    model = build_model("cnn1d", 4, d.input_shape, 10, seeds=list(seeds))
    losses = train_ensemble(model, d.x_train, Targets(hard=d.y_train.expand(len(seeds), -1)),
                            TrainConfig(steps=steps, batch_size=40), order_seeds=list(seeds),
                            checkpoint=ckpt, on_step=on_step)
    return model, losses


def test_interrupted_run_resumes_bit_identical(tmp_path):
    plain, plain_losses = _mnist_run()
    ckpt = Checkpointing(tmp_path / "ck.pt", every=50, key="run")
    with pytest.raises(Interrupted):
        _mnist_run(ckpt, on_step=_stop_after(120))  # checkpoints after steps 50 and 100, killed at 121
    assert torch.load(tmp_path / "ck.pt", weights_only=True)["step"] == 100
    resume = Checkpointing(tmp_path / "ck.pt", every=50, key="run")
    resumed, losses = _mnist_run(resume)
    assert resume.resumed_from == 100  # it did resume (a fresh run with the same seeds would also match)
    _assert_same_state(resumed, plain)
    assert losses == plain_losses


def test_image_run_resumes_bit_identical(tmp_path):
    """uint8 images: the device augmentation generators are restored too (cnn5, width 1, CPU)."""
    x = torch.randint(0, 256, (48, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (48,), generator=torch.Generator().manual_seed(1))

    def run(ckpt=None, on_step=None):
        model = build_model("cnn5", 1, (3, 32, 32), 10, seeds=[0, 5])
        train_ensemble(model, x, Targets(hard=y.expand(2, -1)), TrainConfig(steps=14, batch_size=16),
                       order_seeds=[0, 5], checkpoint=ckpt, on_step=on_step, mean_std="cifar10")
        return model

    plain = run()
    with pytest.raises(Interrupted):
        run(Checkpointing(tmp_path / "img.pt", every=4, key="k"), on_step=_stop_after(9))  # saved at 8
    ckpt = Checkpointing(tmp_path / "img.pt", every=4, key="k")
    _assert_same_state(run(ckpt), plain)
    assert ckpt.resumed_from == 8


def test_checkpoint_of_another_run_is_ignored(tmp_path):
    ckpt = Checkpointing(tmp_path / "ck.pt", every=50, key="a")
    with pytest.raises(Interrupted):
        _mnist_run(ckpt, on_step=_stop_after(60), steps=120)
    other = Checkpointing(tmp_path / "ck.pt", every=50, key="b")
    with pytest.warns(UserWarning, match="another run"):
        _mnist_run(other, steps=120)
    assert other.resumed_from == 0


def test_checkpoints_fall_due_every_interval_but_never_after_the_last_step():
    c = Checkpointing("x", every=50)
    assert [d for d in range(1, 301) if c.due(d, 300)] == [50, 100, 150, 200, 250]


def test_checkpoint_interval_from_env(monkeypatch):
    monkeypatch.delenv("DDLIB_CHECKPOINT_EVERY", raising=False)
    assert checkpoint_every_from_env() == DEFAULT_EVERY == 5000
    monkeypatch.setenv("DDLIB_CHECKPOINT_EVERY", "0")
    assert checkpoint_every_from_env() == 0
    assert not Checkpointing("x", every=0).active(10_000)
    assert not Checkpointing("x", every=1000).active(1000)  # runs no longer than the interval: never
    monkeypatch.setenv("DDLIB_CHECKPOINT_EVERY", "-5")
    with pytest.raises(ConfigError, match="DDLIB_CHECKPOINT_EVERY"):
        checkpoint_every_from_env()


def _cfgs():
    """Two runs of different widths: on a CPU one zero-padded group (ddlib.width_batching), checkpointed as one."""
    data = DataConfig(n_train=200, n_test=200, label_noise=0.1)
    return [RunConfig(data=data, model="mlp", width=w, train=TrainConfig(steps=300, batch_size=40),
                      init_seed=s, order_seed=s) for s, w in ((0, 2), (1, 4))]


def test_run_configs_resumes_a_killed_group(results_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DDLIB_CHECKPOINT_EVERY", "50")
    store = ResultStore(results_dir / "store")
    original = runner.train_ensemble
    monkeypatch.setattr(runner, "train_ensemble",
                        lambda *a, **k: original(*a, **k, on_step=_stop_after(120)))
    with pytest.raises(Interrupted):
        run_configs(_cfgs(), store=store, device="cpu", progress=False)
    assert [p.name for p in (store.root / "checkpoints").iterdir()] == [store.checkpoint_path(_cfgs()).name]
    assert not list(store.root.glob("*.json"))
    monkeypatch.setattr(runner, "train_ensemble", original)
    out = run_configs(_cfgs(), store=store, device="cpu", progress=False)
    assert out.computed == 2
    assert all(r["provenance"]["resumed_from_step"] == 100 for r in out.records)
    assert not list((store.root / "checkpoints").iterdir())  # removed once the group is stored
    monkeypatch.setenv("DDLIB_CHECKPOINT_EVERY", "0")
    fresh_store = ResultStore(tmp_path / "fresh")
    fresh = run_configs(_cfgs(), store=fresh_store, device="cpu", progress=False)
    assert "resumed_from_step" not in fresh.records[0]["provenance"]
    assert fresh.records[0]["provenance"]["step_loop"] == "eager"  # how the steps ran on this CPU
    for cfg, a, b in zip(_cfgs(), out.records, fresh.records):
        assert a["metrics"] == b["metrics"]
        wa, wb = store.load_weights(cfg), fresh_store.load_weights(cfg)
        assert all(torch.equal(wa[k], wb[k]) for k in wb)
