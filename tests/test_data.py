import random

import numpy as np
import pytest

from ddlib import ConfigError, DataConfig, RunConfig, TargetConfig, TrainConfig, load_data, load_pool
from ddlib import mnist1d_data
from ddlib.data import DEFAULT_POOL_SEED
from ddlib.noise import corrupt_labels


def test_generate_shapes_dtypes_and_determinism(tmp_path):
    x, y = mnist1d_data.generate(105, seed=3, cache=tmp_path)
    assert x.shape == (105, 40) and x.dtype == np.float32
    assert y.shape == (105,) and set(np.unique(y)) <= set(range(10))
    x2, y2 = mnist1d_data.generate(105, seed=3, cache=tmp_path)  # from the cache
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = mnist1d_data.generate(105, seed=4, cache=tmp_path)
    assert not np.allclose(x, x3)
    assert len(list((tmp_path / "mnist1d").glob("*.npz"))) == 2


def test_generator_leaves_global_rngs_alone(tmp_path):
    random.seed(7)
    np.random.seed(7)
    a, b = random.random(), np.random.rand()
    random.seed(7)
    np.random.seed(7)
    mnist1d_data.generate(20, seed=11, cache=tmp_path)
    assert (random.random(), np.random.rand()) == (a, b)


@pytest.mark.parametrize("rate", [0.0, 0.15, 0.2, 0.5])
def test_noise_fraction_is_exact_and_changes_to_another_class(rate):
    y = np.arange(1000) % 10
    noisy = corrupt_labels(y, rate, 10, seed=1)
    changed = noisy != y
    assert changed.sum() == round(rate * 1000)
    assert noisy.min() >= 0 and noisy.max() < 10
    # the new classes are spread over the other nine classes, not a fixed shift
    if rate >= 0.2:
        shifts = (noisy[changed] - y[changed]) % 10
        assert set(shifts) == set(range(1, 10))


def test_noise_has_its_own_seed():
    y = np.arange(500) % 10
    assert np.array_equal(corrupt_labels(y, 0.2, 10, 3), corrupt_labels(y, 0.2, 10, 3))
    assert not np.array_equal(corrupt_labels(y, 0.2, 10, 3), corrupt_labels(y, 0.2, 10, 4))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_noise_rate_outside_unit_interval_is_refused(rate):
    with pytest.raises(ConfigError, match=r"label_noise must be a number in \[0, 1\)"):
        corrupt_labels(np.zeros(10, dtype=int), rate, 10, 0)
    with pytest.raises(ConfigError, match="label_noise"):
        DataConfig(label_noise=rate)


def test_load_data_noisy_train_clean_test(results_dir):
    cfg = DataConfig(n_train=200, n_test=300, label_noise=0.25)
    d = load_data(cfg)
    assert d.x_train.shape == (200, 40) and d.x_test.shape == (300, 40)
    assert d.input_shape == (40,) and d.num_classes == 10
    assert (d.y_train != d.y_train_clean).sum().item() == 50
    # the test set is its own draw and carries the generator's labels, untouched by noise
    _, y_test = mnist1d_data.generate(300, 0 + 500)
    _, y_train = mnist1d_data.generate(200, 0)
    np.testing.assert_array_equal(d.y_test.numpy(), y_test)
    np.testing.assert_array_equal(d.y_train_clean.numpy(), y_train)
    # changing n_test leaves the training set alone
    other = load_data(DataConfig(n_train=200, n_test=100, label_noise=0.25))
    assert np.array_equal(other.x_train.numpy(), d.x_train.numpy())


def test_pool_is_a_separate_draw(results_dir):
    d = load_data(DataConfig(n_train=100, n_test=100, label_noise=0.0))
    xp, yp = load_pool(DataConfig(n_train=100, n_test=100), 150)
    assert xp.shape == (150, 40) and yp.shape == (150,)
    # no pool input coincides with a labeled or test input
    both = np.concatenate([d.x_train.numpy(), d.x_test.numpy()])
    assert not (np.abs(xp.numpy()[:, None, :] - both[None]).sum(-1) < 1e-6).any()


def test_smaller_pools_are_prefixes_of_larger_ones(results_dir):
    cfg = DataConfig(n_train=100, n_test=100)
    small, _ = load_pool(cfg, 300)
    large, _ = load_pool(cfg, 6000)  # two generator chunks
    assert large.shape == (6000, 40)
    assert np.array_equal(large[:300].numpy(), small.numpy())


def test_pool_seeds_may_not_repeat_the_labeled_or_test_draw():
    with pytest.raises(ConfigError, match="pool_seed 0 with pool size 100 uses generator seeds 0..0"):
        load_pool(DataConfig(n_train=100, n_test=100), 100, pool_seed=0)
    with pytest.raises(ConfigError, match="the test draw"):
        load_pool(DataConfig(n_train=100, n_test=100), 12000, pool_seed=498)
    # a student config is refused when it is built, before its teacher trains
    data = DataConfig(n_train=100, n_test=100, data_seed=500)
    teacher = RunConfig(data=data, width=4, train=TrainConfig(batch_size=50))
    with pytest.raises(ConfigError, match="pool_seed 1000 with pool size 200 .*the test draw"):
        RunConfig(data=data, width=4, train=teacher.train,
                  targets=TargetConfig(method="hard_pool", teacher=teacher, pool_size=200))


def test_load_pool_and_a_student_draw_the_same_pool_by_default(results_dir):
    # the pool a user loads is the one a pool student trains on (one default seed, whatever data_seed is)
    cfg = DataConfig(n_train=100, n_test=100, data_seed=3)
    assert TargetConfig().pool_seed == DEFAULT_POOL_SEED
    assert np.array_equal(load_pool(cfg, 50)[0].numpy(), load_pool(cfg, 50, pool_seed=TargetConfig().pool_seed)[0].numpy())
    assert not np.array_equal(load_pool(cfg, 50)[0].numpy(), load_pool(cfg, 50, pool_seed=1003)[0].numpy())


def test_mnist1d_made_in_two_threads_at_once_equals_made_alone(tmp_path):
    """The generator reseeds NumPy's global random state: two threads generating at once (groups trained
    at once, ddlib.concurrency) must not draw from each other's stream."""
    import threading

    from ddlib.mnist1d_data import generate

    alone = [generate(400, seed, cache=tmp_path / f"alone{seed}") for seed in (0, 1)]
    meet, together = threading.Barrier(2, timeout=60), {}

    def make(seed):
        meet.wait()
        together[seed] = generate(400, seed, cache=tmp_path / f"together{seed}")

    threads = [threading.Thread(target=make, args=(seed,)) for seed in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed in (0, 1):
        assert (together[seed][0] == alone[seed][0]).all() and (together[seed][1] == alone[seed][1]).all()


def test_noise_rounds_the_count_and_draws_from_the_noise_seed_alone(results_dir):
    """round(r n) labels change, not floor(r n) (0.29 x 100 is 28.999... in floating point); the noise seed, not
    the data seed, picks them: two noise seeds give one clean labeled set and two different noisy ones."""
    labels = np.arange(100) % 10
    assert (corrupt_labels(labels, 0.29, 10, 0) != labels).sum() == 29
    assert (corrupt_labels(labels, 0.57, 10, 0) != labels).sum() == 57
    a, b = (load_data(DataConfig(n_train=100, n_test=100, noise_seed=s)) for s in (0, 1))
    assert np.array_equal(a.y_train_clean.numpy(), b.y_train_clean.numpy())
    assert np.array_equal(a.x_train.numpy(), b.x_train.numpy())
    assert not np.array_equal(a.y_train.numpy(), b.y_train.numpy())
    other_data = load_data(DataConfig(n_train=100, n_test=100, noise_seed=0, data_seed=1))  # same noise seed
    assert not np.array_equal(other_data.y_train_clean.numpy(), a.y_train_clean.numpy())
    flipped = lambda d: (d.y_train != d.y_train_clean).numpy()  # noqa: E731
    assert np.array_equal(flipped(other_data), flipped(a))  # the same positions: chosen by the noise seed


def test_the_mnist1d_pool_keeps_each_input_with_its_own_label(results_dir):
    """The pool is the first inputs of its generator draw with their own labels (what oracle_pool trains on)."""
    from ddlib.data import POOL_CHUNK

    xp, yp = load_pool(DataConfig(n_train=100, n_test=100), 150)
    x, y = mnist1d_data.generate(POOL_CHUNK, DEFAULT_POOL_SEED)
    assert np.array_equal(xp.numpy(), x[:150]) and np.array_equal(yp.numpy(), y[:150])


def test_validation_set_is_its_own_noisy_draw(results_dir):
    """The validation set is disjoint from the labeled, test and pool draws, deterministic, and labeled as noisily
    as the training set: a model that predicts every true label is wrong on exactly the corrupted share."""
    import torch

    from ddlib.data import load_validation

    cfg = DataConfig(n_train=100, n_test=100, label_noise=0.3)
    x, y, y_clean = load_validation(cfg, 200)
    assert x.shape == (200, 40) and y.dtype == y_clean.dtype == torch.int64
    np.testing.assert_array_equal(y_clean.numpy(), mnist1d_data.generate(200, 700)[1])  # seed data_seed + 700
    assert int((y != y_clean).sum()) == 60  # exactly 30% wrong
    d = load_data(cfg)
    xp, _ = load_pool(cfg, 150)
    others = np.concatenate([d.x_train.numpy(), d.x_test.numpy(), xp.numpy()])
    assert not (np.abs(x.numpy()[:, None, :] - others[None]).sum(-1) < 1e-6).any()
    x2, y2, _ = load_validation(cfg, 200)
    assert np.array_equal(x2.numpy(), x.numpy()) and np.array_equal(y2.numpy(), y.numpy())
    # its wrong labels are a draw of their own (noise seed noise_seed + 700), not the training set's seed replayed
    np.testing.assert_array_equal(y.numpy(), corrupt_labels(y_clean.numpy(), 0.3, 10, 0 + 700))
    assert not np.array_equal(y.numpy(), corrupt_labels(y_clean.numpy(), 0.3, 10, 0))
    with pytest.raises(ConfigError, match="val_size must be a positive integer"):
        load_validation(cfg, 0)
    # a pool may not repeat the validation draw where one is used with it; elsewhere that draw is no one's
    from ddlib.data import check_pool_seeds

    with pytest.raises(ConfigError, match=r"the validation draw \(data_seed \+ 700\) \(700\)"):
        check_pool_seeds(cfg, 100, 700, validation=True)
    check_pool_seeds(cfg, 100, 700)
    assert load_pool(cfg, 100, pool_seed=700)[0].shape == (100, 40)
