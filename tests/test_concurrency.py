"""Groups trained at once in threads (``ddlib.concurrency``): same results as one after another, really at
once, and the process-wide settings they share stay right."""
from __future__ import annotations

import threading

import pytest
import torch

from ddlib import ResultStore, runner
from ddlib.concurrency import concurrent_groups, stream_executor
from ddlib.devices import cudnn_benchmark
from ddlib.validation import ConfigError

from test_store import _configs


def test_the_setting_defaults_to_one_and_names_itself_when_wrong(monkeypatch):
    monkeypatch.delenv("DDLIB_CONCURRENT_GROUPS", raising=False)
    assert concurrent_groups() == 1
    assert concurrent_groups(3) == 3
    monkeypatch.setenv("DDLIB_CONCURRENT_GROUPS", " 4 ")
    assert concurrent_groups() == 4
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv("DDLIB_CONCURRENT_GROUPS", bad)
        with pytest.raises(ConfigError, match=f"DDLIB_CONCURRENT_GROUPS must be a positive integer.*'{bad}'"):
            concurrent_groups()
    with pytest.raises(ConfigError, match="concurrent_groups must be a positive integer"):
        concurrent_groups(0)


def test_groups_train_at_once_and_store_what_one_at_a_time_stores(results_dir, tmp_path, monkeypatch):
    """Two groups (widths 2 and 4, no width batching) meet at a barrier inside training: had they run one
    after another, the first would wait there alone and the barrier would break."""
    met = threading.Barrier(2, timeout=60)
    threads = set()
    plain = runner.train_group

    def train_group_meeting(group, *args):
        threads.add(threading.current_thread().name)
        met.wait()
        return plain(group, *args)

    monkeypatch.setattr(runner, "train_group", train_group_meeting)
    together = runner.run_configs(_configs(widths=(2, 4), seeds=(0, 1)), progress=False, width_batch=0,
                                  concurrent_groups=2)
    monkeypatch.setattr(runner, "train_group", plain)
    alone = runner.run_configs(_configs(widths=(2, 4), seeds=(0, 1)), store=ResultStore(tmp_path / "alone"),
                               progress=False, width_batch=0, concurrent_groups=1)
    assert len(threads) == 2 and all(name.startswith("ddlib-stream") for name in threads)
    assert (together.computed, together.reused) == (4, 0)
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


def test_stream_executor_threads_are_named_and_sized():
    with stream_executor(3, torch.device("cpu")) as pool:
        names = set(pool.map(lambda _: threading.current_thread().name, range(30)))
    assert names and len(names) <= 3 and all(n.startswith("ddlib-stream") for n in names)
    with pytest.raises(ConfigError, match="workers must be a positive integer"):
        stream_executor(0, torch.device("cpu"))
