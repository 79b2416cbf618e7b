"""Device-side speed switches: cuDNN autotuning (``ddlib.devices``) and the switch words they share."""
from __future__ import annotations

import pytest
import torch

from ddlib import TrainConfig, train
from ddlib.devices import cudnn_benchmark, resolve_cudnn_benchmark
from ddlib.models import build_model
from ddlib.validation import ConfigError

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_cudnn_benchmark_defaults_on_for_cuda_only(monkeypatch):
    monkeypatch.delenv("DDLIB_CUDNN_BENCHMARK", raising=False)
    assert resolve_cudnn_benchmark(None, CUDA) is True
    assert resolve_cudnn_benchmark(None, CPU) is False
    assert resolve_cudnn_benchmark("off", CUDA) is False
    assert resolve_cudnn_benchmark(False, CUDA) is False
    monkeypatch.setenv("DDLIB_CUDNN_BENCHMARK", "0")
    assert resolve_cudnn_benchmark(None, CUDA) is False
    monkeypatch.setenv("DDLIB_CUDNN_BENCHMARK", "Yes")
    assert resolve_cudnn_benchmark(None, CPU) is True


def test_bad_switch_words_name_the_setting(monkeypatch):
    monkeypatch.setenv("DDLIB_CUDNN_BENCHMARK", "fastest")
    with pytest.raises(ConfigError, match="DDLIB_CUDNN_BENCHMARK must be auto, on or off.*'fastest'"):
        resolve_cudnn_benchmark(None, CUDA)
    with pytest.raises(ConfigError, match="cudnn_benchmark must be auto, on or off"):
        resolve_cudnn_benchmark("maybe", CUDA)


@pytest.mark.parametrize("before", [False, True])
def test_the_flag_is_set_only_inside_and_restored(before):
    torch.backends.cudnn.benchmark = before
    try:
        for enabled in (True, False):  # off means off, whatever the process had set
            with cudnn_benchmark(enabled):
                assert torch.backends.cudnn.benchmark is enabled
            assert torch.backends.cudnn.benchmark is before
        with pytest.raises(RuntimeError), cudnn_benchmark(not before):
            raise RuntimeError("a failed step")
        assert torch.backends.cudnn.benchmark is before
    finally:
        torch.backends.cudnn.benchmark = False


@pytest.mark.parametrize("word, expected", [("on", True), ("off", False)])
def test_train_ensemble_trains_under_the_switch(monkeypatch, word, expected):
    monkeypatch.setenv("DDLIB_CUDNN_BENCHMARK", word)
    seen, outcome = [], {}
    torch.backends.cudnn.benchmark = not expected  # the process's own setting must not win
    train.train_ensemble(build_model("mlp", 4, (6,), 2, [0]), torch.randn(16, 6),
                         train.Targets(hard=torch.zeros(1, 16, dtype=torch.long)),
                         TrainConfig(steps=3, batch_size=8), [0],
                         on_step=lambda step: seen.append(torch.backends.cudnn.benchmark), outcome=outcome)
    assert seen == [expected] * 3 and torch.backends.cudnn.benchmark is (not expected)
    torch.backends.cudnn.benchmark = False
    assert outcome == {"step_loop": "eager", "cudnn_benchmark": expected, "compile_mode": "off",
                       "fused_optimizer": False}
