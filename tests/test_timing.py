"""The benchmarks' timing helpers (``benchmarks/timing.py``): runs at once neither hang nor hide errors."""
import sys

import pytest
import torch

from conftest import REPO
from ddlib.concurrency import stream_executor
from ddlib.models import build_model
from ddlib.validation import ConfigError

sys.path.insert(0, str(REPO / "benchmarks"))
import timing  # noqa: E402


def _runs(n, width=4):
    return [(build_model("mlp", width, (6,), 3, [i]), [i]) for i in range(n)]


X, Y = torch.randn(32, 6, generator=torch.Generator().manual_seed(0)), torch.randint(0, 3, (32,))
KW = dict(steps=3, warmup=2, batch_size=8, lr=1e-3)


def test_runs_at_once_report_how_they_ran_and_take_positive_time():
    outcomes = []
    with stream_executor(2, torch.device("cpu")) as pool:
        seconds = timing.timed_together(_runs(2), X, Y, pool, outcomes=outcomes, **KW)
    assert seconds > 0 and [o["step_loop"] for o in outcomes] == ["eager", "eager"]


def test_a_failing_run_raises_its_own_error_at_once():
    runs = _runs(1) + [(build_model("mlp", 4, (5,), 3, [1]), [1])]  # wrong input size: fails in its first step
    with stream_executor(2, torch.device("cpu")) as pool:
        with pytest.raises(RuntimeError, match="Expected size for first two dimensions of batch2 tensor"):
            timing.timed_together(runs, X, Y, pool, **KW)


def test_too_few_workers_are_refused_rather_than_waited_for():
    with stream_executor(1, torch.device("cpu")) as pool:
        with pytest.raises(ConfigError, match="a worker per run: 2 runs, 1 workers"):
            timing.timed_together(_runs(2), X, Y, pool, **KW)
