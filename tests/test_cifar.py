"""CIFAR loading through the real torchvision classes, the .npz pool, and batched augmentation.

The CIFAR tests write tiny files in CIFAR's own on-disk layout (pickled dicts with ``data``
(n, 3072) uint8 rows in CHW order and ``labels`` / ``fine_labels``) and load them through the
unmodified ``torchvision.datasets.CIFAR10`` / ``CIFAR100``. torchvision checks each file's md5
against the real archive's; the test (and only the test) points those md5 lists at the tiny
files' own md5s with ``monkeypatch``, so the real integrity check still runs. Nothing downloads.
"""
import hashlib
import os
import pickle

import numpy as np
import pytest
import torch
from torchvision import datasets

from ddlib.cifar import CIFAR_MEAN_STD, augment, augment_members, load_cifar, load_npz_pool, normalize
from ddlib.validation import ConfigError

MEAN, STD = CIFAR_MEAN_STD["cifar10"]


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _write(path, obj):
    path.write_bytes(pickle.dumps(obj, protocol=2))


def _images(n, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)


def make_tiny_cifar(root, name, monkeypatch, per_file=3):
    """Write a tiny ``name`` dataset under ``root``; return {split: (data rows, labels)}."""
    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    folder = root / cls.base_folder
    folder.mkdir(parents=True)
    label_key = "labels" if name == "cifar10" else "fine_labels"
    classes = 10 if name == "cifar10" else 100
    written = {"train": ([], []), "test": ([], [])}
    lists = {}
    for split, files in (("train", cls.train_list), ("test", cls.test_list)):
        lists[split] = []
        for j, (fname, _) in enumerate(files):
            data = _images(per_file, seed=100 * (split == "test") + j)
            labels = [(7 * j + i) % classes for i in range(per_file)]
            entry = {"data": data, label_key: labels}
            if name == "cifar100":
                entry["coarse_labels"] = [lab // 5 for lab in labels]
            _write(folder / fname, entry)
            written[split][0].append(data)
            written[split][1].extend(labels)
            lists[split].append([fname, _md5(folder / fname)])
    meta_key = cls.meta["key"]
    _write(folder / cls.meta["filename"], {meta_key: [f"class{i}" for i in range(classes)]})
    monkeypatch.setattr(cls, "train_list", lists["train"])
    monkeypatch.setattr(cls, "test_list", lists["test"])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": _md5(folder / cls.meta["filename"])})
    return {s: (np.concatenate(d), np.array(lab)) for s, (d, lab) in written.items()}


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_load_cifar_through_torchvision(tmp_path, monkeypatch, name):
    written = make_tiny_cifar(tmp_path, name, monkeypatch)
    for split, train in (("train", True), ("test", False)):
        x, y = load_cifar(name, tmp_path, train=train)
        rows, labels = written[split]
        assert x.dtype == torch.uint8 and x.shape == (len(rows), 3, 32, 32) and x.is_contiguous()
        assert y.dtype == torch.int64 and y.tolist() == labels.tolist()
        assert np.array_equal(x.numpy().reshape(len(rows), 3072), rows)  # CHW rows, as on disk
    assert len(load_cifar(name, tmp_path, train=True)[0]) == (15 if name == "cifar10" else 3)


def test_a_split_is_read_once_while_its_files_are_unchanged(tmp_path, monkeypatch):
    import ddlib.cifar as cifar

    make_tiny_cifar(tmp_path, "cifar10", monkeypatch)
    reads = []
    read = cifar._read_split
    monkeypatch.setattr(cifar, "_read_split", lambda *a: reads.append(a[2]) or read(*a))
    x, _ = load_cifar("cifar10", tmp_path, train=True)
    x.zero_()  # the caller's copy, not the cached split
    again, _ = load_cifar("cifar10", tmp_path, train=True)
    assert reads == [True] and again.any()
    load_cifar("cifar10", tmp_path, train=False)
    assert reads == [True, False]
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    os.utime(batch, ns=(batch.stat().st_atime_ns, batch.stat().st_mtime_ns + 10**9))  # the files changed
    load_cifar("cifar10", tmp_path, train=True)
    assert reads == [True, False, True]


def test_missing_files_raise_clear_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_cifar("cifar10", tmp_path / "nowhere", train=True)
    msg = str(err.value)
    assert str(tmp_path / "nowhere" / "cifar-10-batches-py") in msg and "download=True" in msg
    with pytest.raises(ConfigError, match="dataset must be one of"):
        load_cifar("svhn", tmp_path, train=True)


def test_corrupted_files_raise_clear_error(tmp_path, monkeypatch):
    make_tiny_cifar(tmp_path, "cifar10", monkeypatch)
    monkeypatch.undo()  # the real md5s: the tiny files now fail torchvision's integrity check
    with pytest.raises(ConfigError, match="corrupted"):
        load_cifar("cifar10", tmp_path, train=False)


def test_npz_pool(tmp_path):
    rng = np.random.default_rng(0)
    xs = [rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for n in (5, 4)]
    ys = [rng.integers(0, 10, n) for n in (5, 4)]
    paths = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        paths.append(tmp_path / f"cifar5m_part{i}.npz")
        np.savez(paths[-1], X=x, Y=y)
    images, labels = load_npz_pool(paths)
    assert images.dtype == torch.uint8 and images.shape == (9, 3, 32, 32)
    assert np.array_equal(images.numpy(), np.concatenate(xs).transpose(0, 3, 1, 2))
    assert labels.dtype == torch.int64 and labels.tolist() == np.concatenate(ys).tolist()
    images, labels = load_npz_pool(paths, max_images=7)
    assert images.shape[0] == 7 and labels.shape == (7,)
    np.savez(tmp_path / "unlabeled.npz", X=xs[0])
    images, labels = load_npz_pool(str(tmp_path / "unlabeled.npz"))
    assert images.shape == (5, 3, 32, 32) and labels is None
    np.savez(tmp_path / "bad.npz", images=xs[0])
    with pytest.raises(ConfigError, match="no array 'X'"):
        load_npz_pool([tmp_path / "bad.npz"])
    with pytest.raises(ConfigError, match="not found"):
        load_npz_pool([tmp_path / "missing.npz"])
    np.savez(tmp_path / "float.npz", X=xs[0].astype(np.float32))
    with pytest.raises(ConfigError, match="uint8"):
        load_npz_pool([tmp_path / "float.npz"])


def _unnormalize(out):
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return torch.round((out * std + mean) * 255).to(torch.int64)


def test_normalize_makes_its_constants_once_per_device():
    """The per-channel scale and shift are built (and, on a GPU, copied to it) once, not at every batch."""
    import ddlib.cifar as cifar

    x = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    normalize(x)
    before = cifar._affine.cache_info()
    for _ in range(3):
        normalize(x)
    after = cifar._affine.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 3


def test_normalize_values():
    x = torch.tensor([0, 128, 255], dtype=torch.uint8).view(1, 3, 1, 1).expand(2, 3, 4, 4)
    out = normalize(x)
    expect = torch.tensor([(v / 255 - m) / s for v, m, s in zip((0, 128, 255), MEAN, STD)])
    torch.testing.assert_close(out[:, :, 2, 3], expect.expand(2, 3))
    assert normalize(x, dtype=torch.bfloat16).dtype == torch.bfloat16
    m100, s100 = CIFAR_MEAN_STD["cifar100"]
    torch.testing.assert_close(normalize(x, m100, s100)[0, 0, 0, 0], torch.tensor(-m100[0] / s100[0]))
    # with no crop and no flip, augment is normalisation alone
    img = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
    torch.testing.assert_close(augment(img, torch.Generator(), padding=0, flip=False), normalize(img))


def test_augment_shapes_and_determinism():
    x = torch.randint(0, 256, (2, 6, 3, 32, 32), dtype=torch.uint8)
    a = augment(x, torch.Generator().manual_seed(5))
    assert a.shape == x.shape and a.dtype == torch.float32
    torch.testing.assert_close(a, augment(x, torch.Generator().manual_seed(5)), rtol=0, atol=0)
    assert not torch.equal(a, augment(x, torch.Generator().manual_seed(6)))
    assert augment(x[0], torch.Generator().manual_seed(5), dtype=torch.bfloat16).dtype == torch.bfloat16


def test_augment_is_crop_with_padding_and_flip():
    """Images whose pixels carry their own coordinates show each output's crop offset and flip."""
    n, p = 4000, 4
    rows = torch.arange(1, 33).view(32, 1).expand(32, 32)
    cols = torch.arange(1, 33).view(1, 32).expand(32, 32)
    img = torch.stack([rows, cols, torch.full((32, 32), 255)]).to(torch.uint8)
    out = _unnormalize(augment(img.expand(n, 3, 32, 32), torch.Generator().manual_seed(0), padding=p))
    inside = out[:, 2] == 255
    assert torch.all(out[:, :2][~inside.unsqueeze(1).expand(n, 2, 32, 32)] == 0)  # zero padding
    i = torch.arange(32).view(1, 32, 1)
    j = torch.arange(32).view(1, 1, 32)
    big = 1000

    def const(v):  # (value per image if v is constant over the image's inside pixels, else -1)
        lo = torch.where(inside, v, big).amin((1, 2))
        hi = torch.where(inside, v, -big).amax((1, 2))
        return torch.where(lo == hi, lo, -1)

    dy = const(out[:, 0] - 1 - i + p)
    dx_plain = const(out[:, 1] - 1 - j + p)
    dx_flip = const(out[:, 1] - 1 - (31 - j) + p)
    flipped = dx_flip >= 0
    assert torch.all((dx_plain >= 0) ^ flipped)  # every image is exactly a crop, flipped or not
    dx = torch.where(flipped, dx_flip, dx_plain)
    for d in (dy, dx):
        assert d.min() == 0 and d.max() == 2 * p  # offsets stay within the padding, and reach it
        counts = torch.bincount(d, minlength=2 * p + 1).float() / n
        assert torch.all((counts - 1 / (2 * p + 1)).abs() < 0.03)  # uniform over {0..2p}
    assert abs(flipped.float().mean().item() - 0.5) < 0.04  # flips ~half the time (sd 0.008)


def test_augment_on_generator_device_is_reproducible_across_batch_shapes():
    x = torch.randint(0, 256, (2, 3, 3, 32, 32), dtype=torch.uint8)
    a = augment(x, torch.Generator().manual_seed(1))
    b = augment(x.reshape(6, 3, 32, 32), torch.Generator().manual_seed(1))
    torch.testing.assert_close(a.reshape(6, 3, 32, 32), b, rtol=0, atol=0)


def test_augment_members_equals_each_member_augmented_alone():
    """One batched crop/flip for all members, each with its own generator, is bit-identical to
    augmenting every member's batch on its own; a generator count that does not match is refused."""
    x = torch.randint(0, 256, (3, 5, 3, 32, 32), dtype=torch.uint8)  # each member its own images
    seeds = [3, 4, 5]
    together = augment_members(x, [torch.Generator().manual_seed(s) for s in seeds])
    alone = torch.stack([augment(x[i], torch.Generator().manual_seed(s)) for i, s in enumerate(seeds)])
    torch.testing.assert_close(together, alone, rtol=0, atol=0)
    same = x[:1].expand(3, 5, 3, 32, 32)  # the same images: members differ by their draws alone
    out = augment_members(same, [torch.Generator().manual_seed(s) for s in seeds])
    assert not torch.equal(out[0], out[1])
    with pytest.raises(ConfigError, match="one generator per member"):
        augment_members(x, [torch.Generator()])
