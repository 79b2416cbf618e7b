import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ddlib import DataConfig, ResultStore, RunConfig, TrainConfig, records_frame, run_configs
from ddlib.storage import atomic_write_bytes

from conftest import REPO


def _configs(widths=(2, 4), seeds=(0,), steps=40):
    data = DataConfig(n_train=100, n_test=100, label_noise=0.2)
    return [RunConfig(data=data, model="mlp", width=w, train=TrainConfig(steps=steps, batch_size=25),
                      init_seed=s, order_seed=s) for w in widths for s in seeds]


def test_store_round_trip(results_dir):
    store = ResultStore(results_dir / "store")
    cfg = _configs()[0]
    assert not store.has(cfg)
    rec = store.save(cfg, {"test_error": 0.25}, {"w": __import__("torch").ones(2)}, {"device": "cpu"})
    assert store.has(cfg)
    assert store.load(cfg) == json.loads(json.dumps(rec))
    assert store.load_weights(cfg)["w"].tolist() == [1.0, 1.0]


def test_a_run_counts_as_stored_only_once_its_record_is_written(results_dir, monkeypatch):
    """Weights first, record last: a save that fails after the weights leaves the run not stored (it trains
    again), and a group's checkpoint has one path whatever the order of its configs."""
    import torch

    from ddlib import store as store_module

    store = ResultStore(results_dir / "store")
    cfg = _configs()[0]

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_module, "atomic_write_bytes", fail)  # the weights fail: no record may follow
    with pytest.raises(OSError, match="disk full"):
        store.save(cfg, {"test_error": 0.25}, {"w": torch.ones(2)}, {"device": "cpu"})
    assert not store.has(cfg) and not list(store.root.rglob("*.json"))
    monkeypatch.setattr(store_module, "atomic_write_bytes", atomic_write_bytes)
    monkeypatch.setattr(store_module, "atomic_write_text", fail)  # the weights written, the record not
    with pytest.raises(OSError, match="disk full"):
        store.save(cfg, {"test_error": 0.25}, {"w": torch.ones(2)}, {"device": "cpu"})
    assert not store.has(cfg) and list(store.root.rglob("*.pt"))
    group = _configs(widths=(2, 4, 8))
    assert store.checkpoint_path(group) == store.checkpoint_path(group[::-1]) != store.checkpoint_path(group[:2])


def test_load_trained_model_gives_back_the_stored_test_error(results_dir):
    import ddlib

    cfg = _configs()[0]
    with pytest.raises(ddlib.ConfigError, match=r"is not stored in .*ddlib.run_configs\(\[cfg\]\)"):
        ddlib.load_trained_model(cfg)
    record = run_configs([cfg], progress=False).records[0]
    model = ddlib.load_trained_model(cfg)  # the default store: the one run_configs used
    data = ddlib.load_data(cfg.data)
    logits = ddlib.predict_logits(model, data.x_test, members=1)[0]
    assert logits.shape == (100, 10)
    error = (logits.argmax(1) != data.y_test).float().mean().item()
    assert error == pytest.approx(record["metrics"]["test_error"])


def test_atomic_write_leaves_old_file_or_nothing(tmp_path):
    path = tmp_path / "a.bin"
    atomic_write_bytes(path, b"old")


    with pytest.raises(TypeError):
        atomic_write_bytes(path, None)  # fails mid-write
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]  # no temporary file left behind


def test_rerun_reuses_every_stored_run(results_dir):
    first = run_configs(_configs(seeds=(0, 1)), progress=False)
    assert (first.computed, first.reused) == (4, 0)
    again = run_configs(_configs(seeds=(0, 1, 2)), progress=False)
    assert (again.computed, again.reused) == (2, 4)
    assert again.summary() == "runs: 2 computed, 4 reused"
    # the stored records come back unchanged
    assert [r["metrics"] for r in again.records[:2]] == [r["metrics"] for r in first.records[:2]]


SWEEP = """
import sys
from ddlib import DataConfig, RunConfig, TrainConfig, run_configs
data = DataConfig(n_train=100, n_test=100, label_noise=0.2)
cfgs = [RunConfig(data=data, model="mlp", width=w, train=TrainConfig(steps=400, batch_size=25))
        for w in (2, 3, 4, 5, 6, 7, 8, 9)]
out = run_configs(cfgs, progress=False)
print(out.summary())
"""


def test_sweep_killed_with_sigkill_resumes(results_dir, tmp_path):
    # one group per width (no width batching), so the kill lands between stored groups
    env = dict(os.environ, DDLIB_RESULTS=str(results_dir), PYTHONPATH=str(REPO), DDLIB_WIDTH_BATCH="0")
    proc = subprocess.Popen([sys.executable, "-c", SWEEP], env=env, stdout=subprocess.PIPE, text=True)
    store = results_dir / "store"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(store.glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list(store.glob("*.json")))
    assert 2 <= done < 8, "the sweep should have been killed part-way"
    out = subprocess.run([sys.executable, "-c", SWEEP], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith(f"runs: {8 - done} computed, {done} reused")
    resumed = records_frame([json.loads(p.read_text()) for p in sorted(store.glob("*.json"))])
    # an uninterrupted sweep elsewhere gives the same table
    env2 = dict(env, DDLIB_RESULTS=str(tmp_path / "fresh"))
    subprocess.run([sys.executable, "-c", SWEEP], env=env2, capture_output=True, check=True)
    fresh = records_frame([json.loads(p.read_text()) for p in sorted((tmp_path / "fresh/store").glob("*.json"))])
    cols = ["hash", "width", "train_error", "test_error"]
    assert resumed[cols].equals(fresh[cols])


def test_runs_through_an_executor_and_load_as_a_tidy_frame(results_dir, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from ddlib import tidy_frame

    with ThreadPoolExecutor(max_workers=2) as pool:
        via_pool = run_configs(_configs(widths=(2, 4, 6)), executor=pool, progress=False, width_batch=0)
    assert (via_pool.computed, via_pool.reused) == (3, 0)
    in_process = run_configs(_configs(widths=(2, 4, 6)), store=ResultStore(tmp_path / "other"), progress=False,
                             width_batch=0)
    assert [r["metrics"]["test_error"] for r in via_pool.records] == [r["metrics"]["test_error"] for r in in_process.records]
    tidy = tidy_frame(via_pool.records)
    assert set(tidy["metric"]) >= {"train_error", "test_error", "params"}
    assert len(tidy[tidy["metric"] == "test_error"]) == 3  # one row per run and metric
