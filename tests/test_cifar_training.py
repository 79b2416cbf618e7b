"""CIFAR through the whole training path on the CPU: data split and noise, the pool, training with
augmentation, stored records and reloaded weights. Tiny CIFAR files in the real on-disk format
(written by ``test_cifar.make_tiny_cifar``, read by the unmodified torchvision classes)."""
import numpy as np
import pytest
import torch

from ddlib import (ConfigError, DataConfig, ResultStore, RunConfig, TrainConfig, build_model, count_params,
                   load_data, load_pool, load_trained_model, run_configs, runner)
from ddlib.cifar import CIFAR_MEAN_STD
from ddlib.models import member_state
from ddlib.train import Targets, error_rate, predict_logits, train_ensemble

from test_cifar import make_tiny_cifar

PER_FILE = 20  # CIFAR-10: 5 train files -> 100 train images, 1 test file -> 20 test images


@pytest.fixture
def cifar_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    written = make_tiny_cifar(root, "cifar10", monkeypatch, per_file=PER_FILE)
    monkeypatch.setenv("DDLIB_DATA", str(root))
    monkeypatch.delenv("DDLIB_POOL_NPZ", raising=False)
    monkeypatch.delenv("DDLIB_DOWNLOAD", raising=False)
    return root, written


def _as_images(rows):
    return torch.from_numpy(rows.reshape(-1, 3, 32, 32))


def test_load_data_splits_and_corrupts_cifar(cifar_root):
    _, written = cifar_root
    train_x, train_y = _as_images(written["train"][0]), torch.from_numpy(written["train"][1])
    cfg = DataConfig(dataset="cifar10", n_train=60, n_test=15, label_noise=0.2, data_seed=3)
    d = load_data(cfg)
    assert d.x_train.dtype == torch.uint8 and d.x_train.shape == (60, 3, 32, 32)
    assert d.input_shape == (3, 32, 32) and d.num_classes == 10
    # the labeled set is 60 distinct training images with their own labels
    match = (d.x_train.reshape(60, 1, -1) == train_x.reshape(1, 100, -1)).all(-1)
    assert torch.equal(match.sum(1), torch.ones(60, dtype=torch.long))
    which = match.float().argmax(1)
    assert len(set(which.tolist())) == 60 and torch.equal(d.y_train_clean, train_y[which])
    assert int((d.y_train != d.y_train_clean).sum()) == 12  # exactly 20% of the labels changed
    assert torch.equal(d.x_test, _as_images(written["test"][0])[:15])  # test: first n_test, clean
    assert d.y_test.tolist() == written["test"][1][:15].tolist()
    again = load_data(cfg)
    assert torch.equal(again.x_train, d.x_train) and torch.equal(again.y_train, d.y_train)
    other = load_data(DataConfig(dataset="cifar10", n_train=60, n_test=15, label_noise=0.2, data_seed=4))
    assert not torch.equal(other.x_train, d.x_train)
    # the pool: the rest of the same permutation, disjoint from the labeled set, nested in its size
    x_pool, y_pool = load_pool(cfg, 30)
    pm = (x_pool.reshape(30, 1, -1) == train_x.reshape(1, 100, -1)).all(-1).float().argmax(1)
    assert not set(pm.tolist()) & set(which.tolist()) and len(set(pm.tolist())) == 30
    assert torch.equal(y_pool, train_y[pm])
    assert torch.equal(load_pool(cfg, 10)[0], x_pool[:10])
    with pytest.raises(ConfigError, match="more than the 100 images"):
        load_pool(cfg, 41)


def test_pool_from_npz_files(cifar_root, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    parts = [rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for n in (6, 5)]
    paths = []
    for i, x in enumerate(parts):
        paths.append(tmp_path / f"cifar5m_part{i}.npz")
        np.savez(paths[-1], X=x, Y=np.arange(len(x)) % 10)
    monkeypatch.setenv("DDLIB_POOL_NPZ", ",".join(map(str, paths)))
    x, y = load_pool(DataConfig(dataset="cifar10", n_train=60, n_test=15), 8)
    assert x.shape == (8, 3, 32, 32) and np.array_equal(x.numpy(), np.concatenate(parts)[:8].transpose(0, 3, 1, 2))
    assert y.tolist() == [0, 1, 2, 3, 4, 5, 0, 1]


def test_missing_cifar_files_say_where_and_how_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("DDLIB_DATA", str(tmp_path / "empty"))
    monkeypatch.delenv("DDLIB_DOWNLOAD", raising=False)
    with pytest.raises(ConfigError) as err:
        load_data(DataConfig(dataset="cifar10", n_train=10, n_test=10))
    assert str(tmp_path / "empty" / "cifar-10-batches-py") in str(err.value)
    assert "DDLIB_DOWNLOAD=1" in str(err.value)


def test_config_refuses_mismatches():
    with pytest.raises(ConfigError, match="n_train must be at most 50000"):
        DataConfig(dataset="cifar10", n_train=50001)
    with pytest.raises(ConfigError, match="does not run on dataset 'cifar10'"):
        RunConfig(data=DataConfig(dataset="cifar10", n_train=10, n_test=10), model="cnn1d")


def _cifar_configs(model, width):
    data = DataConfig(dataset="cifar10", n_train=40, n_test=20, label_noise=0.15)
    return [RunConfig(data=data, model=model, width=width, train=TrainConfig(steps=6, batch_size=8),
                      init_seed=s, order_seed=s) for s in (0, 1)]


@pytest.mark.parametrize("model,width", [("cnn5", 2), ("resnet18", 1)])
def test_tiny_cifar_sweep_through_run_configs(cifar_root, results_dir, model, width):
    cfgs = _cifar_configs(model, width)
    out = run_configs(cfgs, device="cpu", progress=False)
    assert (out.computed, out.reused) == (2, 0)
    store = ResultStore()
    data = load_data(cfgs[0].data)
    for cfg, rec in zip(cfgs, out.records):
        m = rec["metrics"]
        assert 0 <= m["train_error"] <= 1 and 0 <= m["test_error"] <= 1 and 0 <= m["train_error_clean"] <= 1
        assert m["params"] == count_params(model, width, (3, 32, 32), 10) and m["n_fit"] == 40
        reloaded = load_trained_model(cfg, store)
        logits = predict_logits(reloaded, data.x_test, 1, mean_std=CIFAR_MEAN_STD["cifar10"])[0]
        assert logits.shape == (20, 10)
        assert error_rate(logits, data.y_test).item() == pytest.approx(m["test_error"], abs=1e-9)
        torch.testing.assert_close(predict_logits(reloaded, data.x_test, 1, mean_std="cifar10")[0], logits)
        assert not torch.allclose(predict_logits(reloaded, data.x_test, 1, mean_std="cifar100")[0], logits)
        with pytest.raises(ConfigError, match="uint8 images need mean_std"):  # no silent CIFAR-10 default
            predict_logits(reloaded, data.x_test, 1)
    assert run_configs(cfgs, device="cpu", progress=False).reused == 2


def test_channel_aligned_sweep_stores_the_unpadded_runs(cifar_root, tmp_path, monkeypatch):
    """$DDLIB_CHANNEL_ALIGN=8 trains ResNet-18-3 (stages 3, 6, 12, 24) in stages of 8, 8, 16, 24 channels,
    zero-padded: the stored runs have the same hashes, the unpadded model's weight shapes and (float32, 6 steps)
    the same weights and predictions up to rounding as without it; the provenance says which; a bad value fails
    before training. (The ResNet, because its convolutions have no bias: the CNN's biases before BatchNorm have
    a gradient of 0 up to rounding, which Adam scales up to steps of the learning rate, so there two float32 runs
    differing only in summation order drift apart by about the learning rate; the float64 test in
    test_width_batching.py shows the padding itself exact.)"""
    cfgs = _cifar_configs("resnet18", 3)
    plain, aligned = ResultStore(tmp_path / "plain"), ResultStore(tmp_path / "aligned")
    trained, original = [], runner.train_ensemble  # the stage channels of each model the runner trains

    def spy(model, *args, **kwargs):
        trained.append(model.channels)
        return original(model, *args, **kwargs)

    monkeypatch.setattr(runner, "train_ensemble", spy)
    monkeypatch.delenv("DDLIB_CHANNEL_ALIGN", raising=False)
    alone = run_configs(cfgs, store=plain, device="cpu", progress=False)
    monkeypatch.setenv("DDLIB_CHANNEL_ALIGN", "8")
    padded = run_configs(cfgs, store=aligned, device="cpu", progress=False)
    assert trained == [[3, 6, 12, 24], [8, 8, 16, 24]]
    eight = run_configs(_cifar_configs("resnet18", 8), store=aligned, device="cpu", progress=False)
    assert trained[-1] == [8, 16, 32, 64] and eight.records[0]["provenance"]["channel_align"] == 1  # nothing padded
    data = load_data(cfgs[0].data)
    for cfg, a, b in zip(cfgs, padded.records, alone.records):
        assert a["hash"] == b["hash"]
        assert (a["provenance"]["channel_align"], b["provenance"]["channel_align"]) == (8, 1)
        wa, wb = aligned.load_weights(cfg), plain.load_weights(cfg)
        assert {k: v.shape for k, v in wa.items()} == {k: v.shape for k, v in wb.items()}
        for key in wb:
            torch.testing.assert_close(wa[key], wb[key], rtol=1e-4, atol=1e-5, msg=key)
        logits = predict_logits(load_trained_model(cfg, aligned), data.x_test, 1, mean_std="cifar10")[0]
        assert error_rate(logits, data.y_test).item() == pytest.approx(a["metrics"]["test_error"], abs=1e-9)
        torch.testing.assert_close(logits, predict_logits(load_trained_model(cfg, plain), data.x_test, 1,
                                                          mean_std="cifar10")[0], rtol=1e-3, atol=1e-4)
    monkeypatch.setenv("DDLIB_CHANNEL_ALIGN", "-2")
    with pytest.raises(ConfigError, match="DDLIB_CHANNEL_ALIGN must be a positive integer"):
        run_configs(_cifar_configs("cnn5", 5), store=aligned, device="cpu", progress=False)
    assert not any(aligned.has(c) for c in _cifar_configs("cnn5", 5))


def test_a_checkpoint_resumes_only_under_the_channel_alignment_it_was_written_with(cifar_root, results_dir,
                                                                                 monkeypatch):
    """A group killed after its 4th step under DDLIB_CHANNEL_ALIGN=8 resumes from its step-4 checkpoint under 8; run without
    the setting it starts afresh (the padded tensors would not load into the unpadded model), with a warning."""
    from test_checkpoint import Interrupted, _stop_after

    cfgs = _cifar_configs("resnet18", 3)
    original = runner.train_ensemble
    monkeypatch.setenv("DDLIB_CHECKPOINT_EVERY", "2")
    monkeypatch.setenv("DDLIB_CHANNEL_ALIGN", "8")

    def killed(store):
        monkeypatch.setattr(runner, "train_ensemble", lambda *a, **k: original(*a, **k, on_step=_stop_after(3)))
        with pytest.raises(Interrupted):
            run_configs(cfgs, store=store, device="cpu", progress=False)
        monkeypatch.setattr(runner, "train_ensemble", original)
        assert store.checkpoint_path(cfgs).is_file()
        return store

    resumed = run_configs(cfgs, store=killed(ResultStore(results_dir / "a")), device="cpu", progress=False)
    assert [r["provenance"]["resumed_from_step"] for r in resumed.records] == [4, 4]  # of 6 steps
    other = killed(ResultStore(results_dir / "b"))
    monkeypatch.delenv("DDLIB_CHANNEL_ALIGN")
    with pytest.warns(UserWarning, match="belongs to another run"):
        fresh = run_configs(cfgs, store=other, device="cpu", progress=False)
    assert all("resumed_from_step" not in r["provenance"] for r in fresh.records)
    assert fresh.records[0]["provenance"]["channel_align"] == 1


def test_cifar100_has_100_classes(tmp_path, monkeypatch):
    make_tiny_cifar(tmp_path, "cifar100", monkeypatch, per_file=30)
    monkeypatch.setenv("DDLIB_DATA", str(tmp_path))
    d = load_data(DataConfig(dataset="cifar100", n_train=20, n_test=10, label_noise=0.5))
    assert d.num_classes == 100 and d.y_train.max() < 100 and int((d.y_train != d.y_train_clean).sum()) == 10


def test_batched_training_equals_separate_training_for_images():
    """Through the training loop (augmentation included), members [1, 2] trained together equal each
    trained alone: every member has its own batch order and its own augmentation generator.
    Float64, as in test_vision_models (cnn5's conv biases have zero true gradient)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8, generator=gen)
    y = torch.randint(0, 10, (32,), generator=gen)
    cfg = TrainConfig(steps=5, batch_size=8)

    def train(seeds):
        model = build_model("cnn5", 1, (3, 32, 32), 10, seeds=seeds).to(torch.float64)
        train_ensemble(model, x, Targets(hard=y.expand(len(seeds), -1)), cfg, order_seeds=seeds, mean_std="cifar10")
        return model

    together = train([1, 2])
    for i, seed in enumerate([1, 2]):
        alone = train([seed])
        for k, v in member_state(alone, 0).items():
            torch.testing.assert_close(member_state(together, i)[k], v, rtol=1e-7, atol=1e-9, msg=k)


def test_cifar_validation_is_held_out_of_the_training_split(cifar_root):
    """The validation images are the last of the split's permutation: none is labeled or in the pool, and their
    labels are corrupted at the training set's rate."""
    from ddlib.data import load_validation

    _, written = cifar_root
    train_x, train_y = _as_images(written["train"][0]), torch.from_numpy(written["train"][1])
    cfg = DataConfig(dataset="cifar10", n_train=60, n_test=15, label_noise=0.2, data_seed=3)
    x, y, y_clean = load_validation(cfg, 10)
    which = (x.reshape(10, 1, -1) == train_x.reshape(1, 100, -1)).all(-1).float().argmax(1)
    labeled = (load_data(cfg).x_train.reshape(60, 1, -1) == train_x.reshape(1, 100, -1)).all(-1).float().argmax(1)
    pooled = (load_pool(cfg, 30)[0].reshape(30, 1, -1) == train_x.reshape(1, 100, -1)).all(-1).float().argmax(1)
    assert len(set(which.tolist())) == 10 and not set(which.tolist()) & (set(labeled.tolist()) | set(pooled.tolist()))
    assert torch.equal(y_clean, train_y[which]) and int((y != y_clean).sum()) == 2
    with pytest.raises(ConfigError, match=r"n_train \+ val_size \(101\) is more than the 100 images"):
        load_validation(cfg, 41)
