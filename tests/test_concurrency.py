"""Groups trained at once in threads (``ddlib.concurrency``): same results as one after another, really at
once, and the process-wide settings they share stay right."""
from __future__ import annotations

import threading
import time

import pytest
import torch

from ddlib import ResultStore, concurrency, devices, runner
from ddlib.concurrency import resolve_concurrent_groups as concurrent_groups, stream_executor
from ddlib.devices import cudnn_benchmark
from ddlib.validation import ConfigError

from test_store import _configs


def test_the_setting_defaults_to_one_and_names_itself_when_wrong(monkeypatch):
    monkeypatch.delenv("DDLIB_CONCURRENT_GROUPS", raising=False)
    assert concurrent_groups() == 1
    assert concurrent_groups(3) == 3
    monkeypatch.setenv("DDLIB_CONCURRENT_GROUPS", " 4 ")
    assert concurrent_groups() == 4
    for bad in ("0", "-2", "two", "1.5", "\u00b2"):
        monkeypatch.setenv("DDLIB_CONCURRENT_GROUPS", bad)
        with pytest.raises(ConfigError, match=f"DDLIB_CONCURRENT_GROUPS must be a positive integer.*'{bad}'"):
            concurrent_groups()
    with pytest.raises(ConfigError, match="concurrent_groups must be a positive integer"):
        concurrent_groups(0)


def test_groups_train_at_once_and_store_what_one_at_a_time_stores(results_dir, tmp_path, monkeypatch):
    """Two groups (widths 2 and 4, no width batching) meet at a barrier inside training: had they run one
    after another, the first would wait there alone and the barrier would break. Each way starts from an
    empty data cache, so the two threads also make their data at once (the generator uses global state)."""
    met = threading.Barrier(2, timeout=60)
    threads = set()
    plain = runner.train_group

    def train_group_meeting(group, *args):
        threads.add(threading.current_thread().name)
        met.wait()
        return plain(group, *args)

    monkeypatch.setattr(runner, "train_group", train_group_meeting)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "cache-together"))
    together = runner.run_configs(_configs(widths=(2, 4), seeds=(0, 1)), progress=False, width_batch=0,
                                  concurrent_groups=2)
    monkeypatch.setattr(runner, "train_group", plain)
    monkeypatch.setenv("DDLIB_CACHE", str(tmp_path / "cache-alone"))
    alone = runner.run_configs(_configs(widths=(2, 4), seeds=(0, 1)), store=ResultStore(tmp_path / "alone"),
                               progress=False, width_batch=0, concurrent_groups=1)
    assert len(threads) == 2 and all(name.startswith("ddlib-stream") for name in threads)
    assert (together.computed, together.reused) == (4, 0)
    store_together, store_alone = ResultStore(), ResultStore(tmp_path / "alone")
    for cfg in _configs(widths=(2, 4), seeds=(0, 1)):  # the weights too, bit for bit (one torch thread, conftest)
        for key, value in store_together.load_weights(cfg).items():
            assert torch.equal(value, store_alone.load_weights(cfg)[key]), key
    for a, b in zip(together.records, alone.records):
        assert a["hash"] == b["hash"]
        assert a["metrics"]["test_error"] == b["metrics"]["test_error"]
        assert a["metrics"]["group_final_loss"] == b["metrics"]["group_final_loss"]


def test_compiling_is_refused_with_groups_at_once(results_dir, monkeypatch):
    monkeypatch.setenv("DDLIB_COMPILE", "default")
    with pytest.raises(ConfigError, match="concurrent_groups=2 cannot be combined with torch.compile"):
        runner.run_configs(_configs(), progress=False, concurrent_groups=2)


def test_the_env_setting_reaches_the_sweep(results_dir, monkeypatch):
    monkeypatch.setenv("DDLIB_CONCURRENT_GROUPS", "many")
    with pytest.raises(ConfigError, match="DDLIB_CONCURRENT_GROUPS"):
        runner.run_configs(_configs(), progress=False)


@pytest.mark.parametrize("before", [False, True])
def test_overlapping_autotuning_blocks_restore_the_process_setting_only_at_the_end(before):
    """Threads leave in any order: the first to leave must not reset the flag under the other's loop."""
    torch.backends.cudnn.benchmark = before
    try:
        first, second = cudnn_benchmark(True), cudnn_benchmark(True)
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert torch.backends.cudnn.benchmark is True  # the second loop is still running
        second.__exit__(None, None, None)
        assert torch.backends.cudnn.benchmark is before
    finally:
        torch.backends.cudnn.benchmark = False
        devices._AUTOTUNE["open"] = []  # a failed assertion must not leave blocks open for later tests


def test_a_nested_block_hands_back_its_outer_blocks_value():
    torch.backends.cudnn.benchmark = False
    try:
        with cudnn_benchmark(True):
            with cudnn_benchmark(False):
                assert torch.backends.cudnn.benchmark is False
            assert torch.backends.cudnn.benchmark is True
        assert torch.backends.cudnn.benchmark is False
    finally:
        torch.backends.cudnn.benchmark = False
        devices._AUTOTUNE["open"] = []


def test_stream_executor_threads_are_named_and_sized():
    meet = threading.Barrier(3, timeout=30)  # three tasks that wait for each other need three threads

    def name(_):
        meet.wait()
        return threading.current_thread().name

    with stream_executor(3, torch.device("cpu")) as pool:
        names = set(pool.map(name, range(3)))
    assert len(names) == 3 and all(n.startswith("ddlib-stream") for n in names)
    with pytest.raises(ConfigError, match="workers must be a positive integer"):
        stream_executor(0, torch.device("cpu"))
    with pytest.raises(ConfigError, match="workers must be at most 32"):
        stream_executor(33, torch.device("cpu"))
    with pytest.raises(ConfigError, match="groups at once run on a CPU or a CUDA device; got 'mps'"):
        stream_executor(2, torch.device("mps"))


class _FakeStream:
    """Stands in for ``torch.cuda.Stream``: handles drawn in turn from a pool of ``pool`` (PyTorch's is 32)."""

    drawn = 0
    pool = 32

    def __init__(self, device=None, priority=0):
        self.priority = priority
        _FakeStream.drawn += 1
        self.cuda_stream = _FakeStream.drawn % _FakeStream.pool


def test_each_worker_thread_gets_a_stream_of_its_own(monkeypatch):
    """Sharing a stream with another thread would let one thread's capture record the other's kernels."""
    current = {}
    monkeypatch.setattr(torch.cuda, "Stream", _FakeStream)
    monkeypatch.setattr(torch.cuda, "set_stream", lambda s: current.__setitem__(threading.current_thread().name, s))
    meet = threading.Barrier(4, timeout=30)
    with stream_executor(4, torch.device("cuda")) as pool:
        list(pool.map(lambda _: meet.wait(), range(4)))
    assert len(current) == 4 and len({s.cuda_stream for s in current.values()}) == 4
    assert all(s.priority == -1 for s in current.values())  # the high-priority pool, which nothing else draws from
    _FakeStream.pool = 3  # a pool that repeats itself within one executor is refused
    try:
        with pytest.raises(ConfigError, match="fewer than 4 distinct CUDA streams"):
            concurrency.worker_streams(4, torch.device("cuda"))
    finally:
        _FakeStream.pool = 32


def test_compiling_is_refused_in_a_worker_thread_given_as_executor(results_dir, monkeypatch):
    monkeypatch.setenv("DDLIB_COMPILE", "default")
    with stream_executor(2, torch.device("cpu")) as pool:
        with pytest.raises(ConfigError, match="training in a thread of ddlib.concurrency.stream_executor cannot be "
                                              "combined with torch.compile"):
            runner.run_configs(_configs(), progress=False, executor=pool)


def test_a_failed_group_cancels_the_groups_not_yet_started(results_dir, monkeypatch):
    """Two workers, four groups: the first is slow, the second fails at once. The failure must be seen when it
    happens (not after the slow first group), so the last group never starts."""
    started, naps = [], {2: 3.0, 6: 1.0, 8: 0.0}

    def train_group(group, *args):
        width = group[0].width
        started.append(width)
        if width == 4:
            raise RuntimeError("out of memory, say")
        time.sleep(naps[width])
        return []

    monkeypatch.setattr(runner, "train_group", train_group)
    with pytest.raises(RuntimeError, match="out of memory, say"):
        runner.run_configs(_configs(widths=(2, 4, 6, 8)), progress=False, width_batch=0, concurrent_groups=2)
    assert 4 in started and 8 not in started
