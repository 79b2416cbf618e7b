"""Students that share their inputs but differ in method train as one ensemble, each with its own loss."""
import torch

from ddlib import DataConfig, ResultStore, RunConfig, TrainConfig, run_configs
from ddlib.distill import student_config
from ddlib.losses import cross_entropy, kd_loss, kd_loss_per_member
from ddlib.runner import _groups


def test_per_member_kd_loss_is_each_members_own_loss():
    gen = torch.Generator().manual_seed(0)
    s, t = torch.randn(3, 5, 4, generator=gen), torch.randn(3, 5, 4, generator=gen)
    y = torch.randint(0, 4, (3, 5), generator=gen)
    alpha, temperature = torch.tensor([0.0, 0.3, 1.0]), torch.tensor([1.0, 2.0, 4.0])
    together = kd_loss_per_member(s, t, y, temperature, alpha)
    alone = [cross_entropy(s[:1], y[:1]), kd_loss(s[1:2], t[1:2], y[1:2], 2.0, 0.3), kd_loss(s[2:], t[2:], None, 4.0, 1.0)]
    torch.testing.assert_close(together, sum(alone))
    # the gradient reaching member i depends on member i's weights only
    s.requires_grad_(True)
    (grad,) = torch.autograd.grad(kd_loss_per_member(s, t, y, temperature, alpha), s)
    (grad0,) = torch.autograd.grad(cross_entropy(s[:1], y[:1]), s)
    torch.testing.assert_close(grad[0], grad0[0])


def _students():
    data = DataConfig(n_train=120, n_test=200, label_noise=0.2)
    teacher = RunConfig(data=data, model="mlp", width=32, train=TrainConfig(steps=60, batch_size=40))
    pool = [student_config(teacher, m, model="mlp", width=8, pool_size=300) for m in ("hard_pool", "soft_kd_pool")]
    labeled = [student_config(teacher, m, model="mlp", width=8) for m in ("hard_labeled", "soft_kd_labeled")]
    return teacher, pool, labeled


def test_students_sharing_inputs_form_one_group():
    _, pool, labeled = _students()
    groups = _groups(pool + labeled)
    assert sorted(sorted(c.targets.method for c in g) for g in groups) == [
        ["hard_labeled", "soft_kd_labeled"], ["hard_pool", "soft_kd_pool"]]


def test_mixed_method_group_trains_each_student_as_alone(results_dir, tmp_path):
    """hard_labeled and soft_kd_labeled (and hard_pool with soft_kd_pool) trained as one ensemble store the
    same students as each trained in a group of its own."""
    teacher, pool, labeled = _students()
    together_store, alone_store = ResultStore(tmp_path / "together"), ResultStore(tmp_path / "alone")
    run_configs([teacher], store=together_store, progress=False)
    run_configs([teacher], store=alone_store, progress=False)
    together = run_configs(pool + labeled, store=together_store, progress=False)
    assert all(r["provenance"]["group_size"] == 2 for r in together.records)
    for cfg, record in zip(pool + labeled, together.records):
        alone = run_configs([cfg], store=alone_store, progress=False).records[0]
        assert alone["provenance"]["group_size"] == 1
        for key in ("train_error", "test_error", "agreement", "teacher_test_error"):
            assert abs(record["metrics"][key] - alone["metrics"][key]) <= 0.01, (cfg.targets.method, key)
        wa, wb = together_store.load_weights(cfg), alone_store.load_weights(cfg)
        for key in wb:
            torch.testing.assert_close(wa[key], wb[key], rtol=1e-3, atol=1e-4, msg=f"{cfg.targets.method} {key}")


def test_method_batching_can_be_switched_off(results_dir, tmp_path, monkeypatch):
    import pytest

    from ddlib.runner import method_batching
    from ddlib.validation import ConfigError

    teacher, pool, labeled = _students()
    assert len(_groups(pool + labeled, method_batch=False)) == 4  # one group per method
    monkeypatch.setenv("DDLIB_METHOD_BATCH", "off")
    assert method_batching() is False and method_batching(True) is True
    store = ResultStore(tmp_path / "separate")
    out = run_configs([teacher] + pool, store=store, progress=False)
    assert [r["provenance"]["group_size"] for r in out.records] == [1, 1, 1]
    monkeypatch.setenv("DDLIB_METHOD_BATCH", "sometimes")
    with pytest.raises(ConfigError, match="DDLIB_METHOD_BATCH must be auto, on or off"):
        run_configs(pool, store=store, progress=False)
    monkeypatch.delenv("DDLIB_METHOD_BATCH")
    assert method_batching() is True


def test_students_of_one_method_at_different_temperatures_each_keep_their_own(results_dir, tmp_path):
    """Two soft_kd_labeled students at (T=1, alpha=0.9) and (T=8, alpha=0.1) share one ensemble (same inputs), and
    each must train with its own T and alpha: the same weights as trained alone."""
    teacher, _, _ = _students()
    students = [student_config(teacher, "soft_kd_labeled", model="mlp", width=8, temperature=t, alpha=a)
                for t, a in ((1.0, 0.9), (8.0, 0.1))]
    assert len(_groups(students)) == 1
    together_store, alone_store = ResultStore(tmp_path / "together"), ResultStore(tmp_path / "alone")
    for store in (together_store, alone_store):
        run_configs([teacher], store=store, progress=False)
    run_configs(students, store=together_store, progress=False)
    for cfg in students:
        run_configs([cfg], store=alone_store, progress=False)
        wa, wb = together_store.load_weights(cfg), alone_store.load_weights(cfg)
        for key in wb:
            torch.testing.assert_close(wa[key], wb[key], rtol=1e-3, atol=1e-4, msg=f"T={cfg.targets.temperature} {key}")


def test_student_configs_carry_their_seed_offset_temperature_and_alpha():
    """Distilled students start from the teacher's seed + STUDENT_SEED_OFFSET, `direct` from the teacher's own;
    each soft student keeps the temperature and alpha it was given; a pool of exactly one batch is allowed."""
    from ddlib.distill import STUDENT_SEED_OFFSET

    teacher, pool, labeled = _students()
    teacher = RunConfig(**{**teacher.__dict__, "init_seed": 3, "order_seed": 3})
    direct = student_config(teacher, "direct", model="mlp", width=8)
    assert (direct.init_seed, direct.order_seed) == (3, 3)
    for method in ("hard_pool", "soft_kd_pool", "hard_labeled", "soft_kd_labeled", "oracle_pool"):
        s = student_config(teacher, method, model="mlp", width=8, pool_size=300)
        assert (s.init_seed, s.order_seed) == (3 + STUDENT_SEED_OFFSET,) * 2, method
    soft = student_config(teacher, "soft_kd_labeled", model="mlp", width=8, temperature=2.5, alpha=0.3)
    assert (soft.targets.temperature, soft.targets.alpha) == (2.5, 0.3)
    assert student_config(teacher, "soft_kd_pool", model="mlp", width=8, pool_size=300,
                          temperature=2.5).targets.temperature == 2.5
    one_batch = student_config(teacher, "hard_pool", model="mlp", width=8, pool_size=teacher.train.batch_size)
    assert one_batch.targets.pool_size == teacher.train.batch_size


def test_kd_loss_of_several_members_is_the_sum_of_each_members_loss():
    gen = torch.Generator().manual_seed(1)
    s, t = torch.randn(3, 5, 4, generator=gen), torch.randn(3, 5, 4, generator=gen)
    y = torch.randint(0, 4, (3, 5), generator=gen)
    for labels in (y, None):
        together = kd_loss(s, t, labels, 2.0, 0.3)
        alone = sum(kd_loss(s[i:i + 1], t[i:i + 1], None if labels is None else labels[i:i + 1], 2.0, 0.3)
                    for i in range(3))
        torch.testing.assert_close(together, alone)


def test_group_targets_give_each_method_its_own_labels_and_teacher(results_dir, tmp_path):
    """hard_pool fits its teacher's argmax on the pool; soft_kd_pool gets the soft term alone (alpha 1), never
    the pool's true labels; students of two teachers in one group each get their own teacher's labels, and
    report their own teacher's test error."""
    from ddlib import load_data
    from ddlib.distill import hard_labels
    from ddlib.runner import _targets_for_group, load_trained_model

    teacher, pool, _ = _students()
    other = RunConfig(**{**teacher.__dict__, "width": 4})
    store = ResultStore(tmp_path / "store")
    teachers = run_configs([teacher, other], store=store, progress=False).records
    data = load_data(teacher.data)
    x, targets, fit, _ = _targets_for_group(pool, data, store, "cpu")
    assert targets.alpha.tolist() == [0.0, 1.0]  # hard_pool: labels only; soft_kd_pool: soft term only
    want = hard_labels(load_trained_model(teacher, store, "cpu"), x)
    assert torch.equal(fit[0], want) and torch.equal(targets.hard[0], want)
    _, soft_only, _, _ = _targets_for_group(pool[1:], data, store, "cpu")
    assert soft_only.hard is None and soft_only.teacher_logits is not None
    two = [student_config(t, "hard_pool", model="mlp", width=8, pool_size=300) for t in (teacher, other)]
    assert len(_groups(two)) == 1
    _, _, fit_two, _ = _targets_for_group(two, data, store, "cpu")
    for i, t in enumerate((teacher, other)):
        assert torch.equal(fit_two[i], hard_labels(load_trained_model(t, store, "cpu"), x))
    assert not torch.equal(fit_two[0], fit_two[1])
    students = run_configs(two, store=store, progress=False).records
    assert [r["metrics"]["teacher_test_error"] for r in students] == [r["metrics"]["test_error"] for r in teachers]


def test_hard_labels_normalise_images_with_the_datasets_mean_and_std():
    """On uint8 images the teacher sees (x / 255 - mean) / std of the dataset it names, in chunks; the argmax of
    its logits on exactly that input is the label."""
    import pytest

    from ddlib import build_model
    from ddlib.cifar import CIFAR_MEAN_STD
    from ddlib.distill import hard_labels
    from ddlib.validation import ConfigError

    model = build_model("cnn5", 2, (3, 32, 32), 100, [0]).eval()
    x = torch.randint(0, 256, (37, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    for name in ("cifar10", "cifar100"):
        mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in CIFAR_MEAN_STD[name])
        with torch.no_grad():
            want = model(((x.float() / 255 - mean) / std).unsqueeze(0))[0].argmax(-1)
        assert torch.equal(hard_labels(model, x, chunk=8, mean_std=name), want)
    with pytest.raises(ConfigError, match="mean_std"):
        hard_labels(model, x)
