import warnings

import pytest
import torch

from ddlib import DataConfig, RunConfig, TrainConfig, build_model, load_data
from ddlib.config import TargetConfig
from ddlib.losses import kd_loss
from ddlib.train import (Targets, compiled, predict_logits, resolve_compile_mode, resolve_fused_optimizer,
                         train_ensemble)
from ddlib.validation import ConfigError


def _tiny_data():
    return load_data(DataConfig(n_train=200, n_test=200, label_noise=0.1))


def test_loss_goes_down(results_dir):
    d = _tiny_data()
    model = build_model("mlp", 32, d.input_shape, 10, seeds=[0])
    losses = train_ensemble(model, d.x_train, Targets(hard=d.y_train[None]), TrainConfig(steps=300, batch_size=50),
                            order_seeds=[0])
    assert losses[-1] < 0.5 * losses[0]


def _train(seeds, steps=60):
    d = _tiny_data()
    model = build_model("cnn1d", 4, d.input_shape, 10, seeds=seeds)
    train_ensemble(model, d.x_train, Targets(hard=d.y_train.expand(len(seeds), -1)),
                   TrainConfig(steps=steps, batch_size=40), order_seeds=seeds)
    return model


def test_same_seeds_give_identical_models(results_dir):
    a, b = _train([1, 2]), _train([1, 2])
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
    c = _train([1, 3])
    assert torch.equal(a.conv_w[0][:1], c.conv_w[0][:1])  # member 1 (seed 1) is the same
    assert not torch.equal(a.conv_w[0][1:], c.conv_w[0][1:])  # member 2 differs with its seed


def test_fused_optimizer_is_a_switch_that_fails_naming_itself(monkeypatch):
    monkeypatch.delenv("DDLIB_FUSED_OPTIMIZER", raising=False)
    cuda, cpu = torch.device("cuda"), torch.device("cpu")  # a device here is only a name: nothing runs on it
    assert resolve_fused_optimizer(None, cuda) is True  # auto: on for CUDA, where an H200 measured it faster
    assert resolve_fused_optimizer(None, cpu) is False and resolve_fused_optimizer() is False
    assert resolve_fused_optimizer(None, cuda, "sgd") is False  # SGD's fused form: only when asked for
    monkeypatch.setenv("DDLIB_FUSED_OPTIMIZER", "off")
    assert resolve_fused_optimizer(None, cuda) is False
    monkeypatch.setenv("DDLIB_FUSED_OPTIMIZER", "on")
    assert resolve_fused_optimizer(None, cpu) is True and resolve_fused_optimizer(False, cuda) is False
    monkeypatch.setenv("DDLIB_FUSED_OPTIMIZER", "fast")
    with pytest.raises(ConfigError, match="DDLIB_FUSED_OPTIMIZER must be auto, on or off"):
        resolve_fused_optimizer()
    with pytest.raises(ConfigError, match="fused_optimizer must be"):
        resolve_fused_optimizer("fast")


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_the_fused_optimizer_trains_the_same_models_within_rounding(results_dir, optimizer, monkeypatch):
    """The switch reaches the optimizer that trains (recorded from make_optimizer: on a CPU the two forms may
    agree bit for bit, so equal weights alone would not show it), and both forms train the same models."""
    from ddlib import train as train_module

    made = []
    make = train_module.make_optimizer
    monkeypatch.setattr(train_module, "make_optimizer", lambda *a, **kw: made.append(make(*a, **kw)) or made[-1])
    d = _tiny_data()
    models, outcomes = [], []
    for fused in (False, True):
        outcome = {}
        model = build_model("cnn1d", 4, d.input_shape, 10, seeds=[1, 2]).double()
        train_ensemble(model, d.x_train.double(), Targets(hard=d.y_train.expand(2, -1)),
                       TrainConfig(steps=40, batch_size=40, optimizer=optimizer, lr=1e-2 if optimizer == "sgd" else 1e-3),
                       order_seeds=[1, 2], fused_optimizer=fused, outcome=outcome)
        models.append(model)
        outcomes.append(outcome["fused_optimizer"])
    assert outcomes == [False, True]
    assert [(o.defaults.get("fused"), o.defaults.get("foreach")) for o in made] == [(None, True), (True, None)]
    start = build_model("cnn1d", 4, d.input_shape, 10, seeds=[1, 2]).double()
    for (name, a), b, s0 in zip(models[0].state_dict().items(), models[1].state_dict().values(),
                                start.state_dict().values()):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10, msg=name)  # float64: rounding only
    assert any(not torch.equal(a, s0) for a, s0 in zip(models[1].state_dict().values(), start.state_dict().values()))


@pytest.mark.parametrize("saved, resumed", [(False, True), (True, False)])
def test_a_run_resumed_with_the_other_optimizer_form_takes_its_state(tmp_path, results_dir, saved, resumed):
    """A checkpoint written with one form (foreach or fused) and resumed with the other runs the resuming
    run's form (the loaded state must not keep the saving run's setting) and ends where an uninterrupted
    run of that form ends."""
    from ddlib.checkpoint import Checkpointing

    class Stop(Exception):
        pass

    d = _tiny_data()

    def run(fused, checkpoint=None, stop=None):
        model = build_model("mlp", 8, d.input_shape, 10, seeds=[0]).double()

        def hook(step):
            if step + 1 == stop:
                raise Stop

        outcome = {}
        train_ensemble(model, d.x_train.double(), Targets(hard=d.y_train[None]), TrainConfig(steps=30, batch_size=20),
                       order_seeds=[0], checkpoint=checkpoint, on_step=hook, fused_optimizer=fused, outcome=outcome)
        return model, outcome

    with pytest.raises(Stop):
        run(saved, Checkpointing(tmp_path / "ck.pt", 10, "k"), stop=15)
    after, outcome = run(resumed, Checkpointing(tmp_path / "ck.pt", 10, "k"))
    whole, _ = run(resumed)
    assert outcome["fused_optimizer"] is resumed
    for a, b in zip(after.state_dict().values(), whole.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


def test_batched_training_equals_separate_training(results_dir):
    together = _train([1, 2])
    for i, seed in enumerate([1, 2]):
        alone = _train([seed])
        x = torch.randn(1, 7, 40)
        torch.testing.assert_close(together(x.expand(2, 7, 40))[i], alone(x)[0], rtol=1e-4, atol=1e-4)


def test_kd_loss_matches_hand_computation():
    s = torch.tensor([[[1.0, 0.0, -1.0]]])
    t = torch.tensor([[[0.0, 2.0, 0.0]]])
    y = torch.tensor([[0]])
    T = 2.0
    p_t = torch.softmax(t[0, 0] / T, -1)
    log_p_s = torch.log_softmax(s[0, 0] / T, -1)
    kl = float((p_t * (p_t.log() - log_p_s)).sum())
    ce = float(-torch.log_softmax(s[0, 0], -1)[0])
    assert abs(float(kd_loss(s, t, y, T, alpha=1.0)) - T**2 * kl) < 1e-6
    assert abs(float(kd_loss(s, t, y, T, alpha=0.0)) - ce) < 1e-6
    assert abs(float(kd_loss(s, t, y, T, alpha=0.3)) - (0.7 * ce + 0.3 * T**2 * kl)) < 1e-6
    assert abs(float(kd_loss(s, t, None, T, alpha=0.3)) - T**2 * kl) < 1e-6  # pool: soft term only


def test_config_hash_is_stable_and_sensitive():
    from ddlib import config_hash

    a = RunConfig(width=8)
    assert config_hash(a) == config_hash(RunConfig(width=8))
    assert config_hash(a) != config_hash(RunConfig(width=9))
    assert config_hash(a) != config_hash(RunConfig(width=8, data=DataConfig(label_noise=0.1)))
    assert config_hash(a) != config_hash(RunConfig(width=8, targets=TargetConfig(method="oracle_pool", pool_size=200)))


def test_config_hash_changes_with_every_field_and_the_library_version(monkeypatch):
    """Each field of every config, nested teacher included, is in the hash: one changed value at a time."""
    import dataclasses

    import ddlib
    from ddlib import config_hash

    teacher = RunConfig(width=8)
    changed = {"data": dict(n_train=999, n_test=999, label_noise=0.1, noise_seed=1, data_seed=1),
               "train": dict(optimizer="sgd", lr=0.01, batch_size=64, steps=10, weight_decay=0.1),
               "run": dict(model="cnn1d", width=9, init_seed=1, order_seed=1)}
    assert set(changed["data"]) | {"dataset"} == {f.name for f in dataclasses.fields(DataConfig)}
    cifar = RunConfig(model="cnn5", width=2, data=DataConfig(dataset="cifar10"))
    assert config_hash(cifar) != config_hash(dataclasses.replace(cifar, data=DataConfig(dataset="cifar100")))
    assert set(changed["train"]) == {f.name for f in dataclasses.fields(TrainConfig)}
    assert set(changed["run"]) | {"data", "train", "targets"} == {f.name for f in dataclasses.fields(RunConfig)}
    base = config_hash(teacher)
    for name, value in changed["data"].items():
        assert config_hash(dataclasses.replace(teacher, data=dataclasses.replace(teacher.data, **{name: value}))) != base
    for name, value in changed["train"].items():
        assert config_hash(dataclasses.replace(teacher, train=dataclasses.replace(teacher.train, **{name: value}))) != base
    for name, value in changed["run"].items():
        assert config_hash(dataclasses.replace(teacher, **{name: value})) != base
    soft = RunConfig(width=4, targets=TargetConfig(method="soft_kd_pool", teacher=teacher, pool_size=200))
    variants = [TargetConfig(method="soft_kd_pool", teacher=RunConfig(width=9), pool_size=200),
                TargetConfig(method="soft_kd_pool", teacher=teacher, pool_size=300),
                TargetConfig(method="soft_kd_pool", teacher=teacher, pool_size=200, pool_seed=2000),
                TargetConfig(method="soft_kd_pool", teacher=teacher, pool_size=200, temperature=2.0),
                TargetConfig(method="hard_pool", teacher=teacher, pool_size=200)]
    hashes = {config_hash(dataclasses.replace(soft, targets=t)) for t in variants}
    assert len(hashes) == len(variants) and config_hash(soft) not in hashes
    labeled = RunConfig(width=4, targets=TargetConfig(method="soft_kd_labeled", teacher=teacher))
    assert config_hash(labeled) != config_hash(dataclasses.replace(
        labeled, targets=TargetConfig(method="soft_kd_labeled", teacher=teacher, alpha=0.5)))
    monkeypatch.setattr(ddlib, "__version__", "9.9.9")
    assert config_hash(teacher) != base


def test_configs_refuse_what_would_fail_later_or_train_one_model_under_two_hashes():
    from ddlib import TrainConfig
    from ddlib.distill import student_config

    for bad in (float("inf"), float("nan"), -1.0, "0"):
        with pytest.raises(ConfigError, match="weight_decay must be a finite number >= 0"):
            TrainConfig(weight_decay=bad)
    small = TrainConfig(batch_size=50, steps=5)
    teacher = RunConfig(data=DataConfig(n_train=200, n_test=100), width=3, train=small)
    # a field the method does not use would only change the hash
    for method, fields, name in (("labels", dict(teacher=teacher), "teacher"), ("labels", dict(pool_size=100), "pool_size"),
                                 ("hard_pool", dict(teacher=teacher, pool_size=100, temperature=2.0), "temperature"),
                                 ("soft_kd_pool", dict(teacher=teacher, pool_size=100, alpha=0.5), "alpha"),
                                 ("oracle_pool", dict(pool_size=100, teacher=teacher), "teacher")):
        with pytest.raises(ConfigError, match=f"{name} is not used by method '{method}' and must keep its default"):
            TargetConfig(method=method, **fields)
    TargetConfig(method="soft_kd_labeled", teacher=teacher, temperature=2.0, alpha=0.5)  # both used there
    with pytest.raises(ConfigError, match=r"teacher is not used by method 'labels' .*got a RunConfig \(hash [0-9a-f]+\)$"):
        TargetConfig(method="labels", teacher=teacher)  # named by its hash, not its whole repr
    with pytest.raises(ConfigError, match="teacher must be a ddlib.RunConfig or None; got str"):
        TargetConfig(method="hard_pool", teacher="t", pool_size=100)
    # nested settings of the wrong type fail when the config is built, naming the field
    for field_name, value in (("data", {"n_train": 200}), ("train", {"lr": 1e-3}), ("targets", "labels")):
        with pytest.raises(ConfigError, match=f"{field_name} must be a ddlib.* got (dict|str)"):
            RunConfig(**{field_name: value})
    with pytest.raises(ConfigError, match="teacher must be a ddlib.RunConfig; got dict"):
        student_config({"width": 4}, "hard_pool", model="mlp", width=4, pool_size=100)
    # batches larger than what the run trains on are refused before anything trains, naming the size
    with pytest.raises(ConfigError, match=r"batch_size \(128\) must not exceed n_train \(100\)"):
        RunConfig(data=DataConfig(n_train=100))
    with pytest.raises(ConfigError, match=r"pool_size \(10\) must be at least one batch \(batch_size=50\)"):
        student_config(teacher, "oracle_pool", model="mlp", width=4, pool_size=10)
    with pytest.raises(ConfigError, match=r"batch_size \(50\) must not exceed pool_size \(10\)"):
        RunConfig(data=teacher.data, train=small, targets=TargetConfig(method="oracle_pool", pool_size=10))


def test_a_diverged_group_is_refused_and_nothing_of_it_is_stored(results_dir, monkeypatch):
    from ddlib import TrainConfig, run_configs
    from ddlib.runner import TrainingDiverged
    from ddlib.store import ResultStore

    monkeypatch.setenv("DDLIB_CHECKPOINT_EVERY", "1")  # a checkpoint after every step: it must not outlive the refusal
    data = DataConfig(n_train=200, n_test=100)
    cfgs = [RunConfig(data=data, width=3, init_seed=s, order_seed=s, train=TrainConfig(lr=1e30, batch_size=50, steps=3))
            for s in (0, 1)]
    with pytest.raises(TrainingDiverged, match=r"training diverged .* lr=1e\+30.* nothing of the group was stored"):
        run_configs(cfgs, progress=False)
    assert not any(ResultStore().has(c) for c in cfgs)
    assert not ResultStore().checkpoint_path(cfgs).exists()  # a rerun must not resume the diverged weights
    ok = RunConfig(data=data, width=3, train=TrainConfig(batch_size=50, steps=3))
    assert run_configs([ok], progress=False).computed == 1  # a sane run still trains and is stored


def test_predict_logits_and_load_pool_refuse_wrong_arguments():
    from ddlib import load_data, load_pool
    from ddlib.models import build_model

    model = build_model("mlp", 3, (40,), 10, [0])
    x = torch.zeros(5, 40)
    assert predict_logits(model, x, members=1).shape == (1, 5, 10)
    for members in (2, 0, True):
        with pytest.raises(ConfigError, match=r"members must be the model's number of members \(1\)"):
            predict_logits(model, x, members=members)
    data = DataConfig(n_train=200, n_test=100)
    with pytest.raises(ConfigError, match="cfg must be a ddlib.DataConfig .*got LabeledData"):
        load_pool(load_data(data), 100)


def test_user_pool_files_enter_the_hash_of_cifar_pool_runs(tmp_path, monkeypatch):
    from ddlib import config_hash

    cifar = RunConfig(data=DataConfig(dataset="cifar10", n_train=100, n_test=100), model="cnn5", width=2,
                      targets=TargetConfig(method="oracle_pool", pool_size=200))
    mnist = RunConfig(width=2, targets=TargetConfig(method="oracle_pool", pool_size=200))
    before = config_hash(cifar), config_hash(mnist)
    (tmp_path / "part0.npz").write_bytes(b"x" * 10)
    monkeypatch.setenv("DDLIB_POOL_NPZ", str(tmp_path / "part0.npz"))
    assert config_hash(cifar) != before[0]
    assert config_hash(mnist) == before[1]


def test_compile_mode_from_argument_or_environment(monkeypatch):
    monkeypatch.delenv("DDLIB_COMPILE", raising=False)
    assert resolve_compile_mode() == "off"
    for raw, mode in (("1", "default"), ("yes", "default"), ("0", "off"), ("Reduce-Overhead", "reduce-overhead")):
        monkeypatch.setenv("DDLIB_COMPILE", raw)
        assert resolve_compile_mode() == mode
    assert resolve_compile_mode("off") == "off"  # an explicit argument wins over the environment
    monkeypatch.setenv("DDLIB_COMPILE", "fast")
    with pytest.raises(ConfigError, match="DDLIB_COMPILE must be one of off, default, reduce-overhead"):
        resolve_compile_mode()
    with pytest.raises(ConfigError, match="compile_mode must be one of"):
        resolve_compile_mode("turbo")


def test_compile_modes_reach_torch_compile(monkeypatch):
    """"off" compiles nothing; "default" is torch.compile's own default (mode None); other modes pass
    through; earlier compiled code is reset first (else widths past the recompile limit run eagerly)."""
    calls, resets = [], []
    monkeypatch.setattr(torch, "compile", lambda model, mode=None: calls.append(mode) or model)
    monkeypatch.setattr(torch.compiler, "reset", lambda: resets.append(True))
    model = torch.nn.Linear(2, 2)
    assert compiled(model, "off") is model and calls == [] and resets == []
    for mode, expected in (("default", None), ("reduce-overhead", "reduce-overhead"), ("max-autotune", "max-autotune"),
                           ("max-autotune-no-cudagraphs", "max-autotune-no-cudagraphs")):
        compiled(model, mode)
        assert calls[-1] == expected
    assert len(resets) == 4


def test_compiling_on_one_cpu_thread_warns(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda model, mode=None: model)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        for model in (torch.nn.Conv2d(2, 2, 3), build_model("resnet18", 1, (3, 32, 32), 10, [0, 1])):
            with pytest.warns(UserWarning, match="one CPU thread.*heap corruption"):
                compiled(model, "default")
        torch.set_num_threads(2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compiled(torch.nn.Conv2d(2, 2, 3), "default")
            torch.set_num_threads(1)
            compiled(build_model("mlp", 4, (6,), 2, [0, 1]), "default")  # the crash was seen with convolutions only
    finally:
        torch.set_num_threads(threads)


def test_compiled_training_matches_eager(results_dir):
    """torch.compile (CPU here, through the C++ compiler; "reduce-overhead" records no CUDA graphs on a
    CPU) trains the same model as eager mode."""
    x, y = torch.randn(64, 1, 40, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 10

    def train(mode):
        model = build_model("mlp", 8, (1, 40), 10, seeds=[0, 1])
        losses = train_ensemble(model, x, Targets(hard=y.expand(2, -1)), TrainConfig(steps=5, batch_size=16),
                                order_seeds=[0, 1], compile_mode=mode)
        return model, losses

    (eager, l_eager), (comp, l_comp) = train("off"), train("reduce-overhead")
    assert l_eager == pytest.approx(l_comp, rel=1e-5)
    for (name, a), b in zip(eager.state_dict().items(), comp.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
