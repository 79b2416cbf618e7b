"""The GPU check logs in words (ddlib.gpu_checks): the committed logs and synthetic ones."""
import pandas as pd

from ddlib import gpu_checks, gpu_report


def test_capturable_adam_sentence_follows_the_newest_check_log(tmp_path):
    assert gpu_checks.capturable_adam_sentence(tmp_path).startswith("No GPU run of")
    committed = gpu_checks.capturable_adam_sentence()  # the H200's 2026-12-04 log, not the 2026-11-26 one
    assert "cuda-graph-check-h200-2026-12-04.log" in committed
    assert "3.8e-02 (resnet18), 5.2e-02 (cnn5), 4.6e-05 (mlp)" in committed and "accounts for the whole" in committed
    older = (gpu_report.RESULTS / "cuda-graph-check-h200-2026-11-26.log").read_text()  # before the capturable pair
    (tmp_path / "cuda-graph-check-0.log").write_text(older)
    assert "has not run on a GPU yet" in gpu_checks.capturable_adam_sentence(tmp_path)
    (tmp_path / "cuda-graph-check-0.log").unlink()
    # the newest by the date in the name, whatever the card before it
    (tmp_path / "cuda-graph-check-h200-2026-01-02.log").write_text(older)
    (tmp_path / "cuda-graph-check-h100-2026-01-03.log").write_text(older)  # the name sorts first, the date last
    assert "cuda-graph-check-h100-2026-01-03.log" in gpu_checks.capturable_adam_sentence(tmp_path)
    for f in tmp_path.glob("cuda-graph-check-*.log"):
        f.unlink()
    line = ("[1] {m} w4: eager/eager 0.00e+00  graph/graph 0.00e+00  graph/eager 2.00e-02  "
            "graph/eager-capturable-Adam {c}  losses eager 2.3 graph 2.3 (first 2.3 / 2.3)  capture fallbacks 0\n")
    (tmp_path / "cuda-graph-check-a.log").write_text(line.format(m="resnet18", c="0.00e+00")
                                                     + line.format(m="mlp", c="0.00e+00"))
    text = gpu_checks.capturable_adam_sentence(tmp_path)
    assert "differ by 2.0e-02 (resnet18), 2.0e-02 (mlp)" in text and "accounts for the whole difference" in text
    (tmp_path / "cuda-graph-check-b.log").write_text(line.format(m="resnet18", c="1.00e-03"))  # newer by name
    text = gpu_checks.capturable_adam_sentence(tmp_path)
    assert "capturable Adam they differ by 1.0e-03 (resnet18)" in text and "does not account" in text


def _cifar_check_log(resumed="True", syncs="[0, 0, 0, 1]", reloaded="0.892", loop=""):
    return ("device: NVIDIA H100 80GB HBM3 | torch 2.9.0 | 2031-01-02\n"
            "[1] sweep: runs: 2 computed, 0 reused in 1.0s\n"
            "    cnn5 w4 s0: train 0.9 test 0.892 reloaded test 0.892 params 6666 device cuda channels_last True\n"
            f"    resnet18 w2 s0: train 0.9 test 0.892 reloaded test {reloaded} params 11332 device cuda channels_last True\n"
            f"[2] two uninterrupted runs identical: True; resumed (from step 10) identical: {resumed}\n"
            f"[3] sync warnings per step (steps 1..4): {syncs}; first messages: []\n"
            "[4] DDLIB_COMPILE=1: 30 steps in 3.0s, losses [2.8, 2.3]\n"
            f"[5] resnet18 k=64 members=1 compile=False: 300.0 steps/s -> one paper width (1.56M steps) ~1.4 h{loop}\n")


def test_cifar_check_summary_reads_the_newest_log_and_says_what_failed(tmp_path):
    """Each part of the check in words, one list item each, its failures named; images/s = steps/s x 128, set against the fused-Adam
    benchmark's graphed, uncompiled, fused one-model row of the same card at k = 64."""
    assert gpu_checks.cifar_check_summary(tmp_path) == "No GPU run of `benchmarks/cifar_gpu_check.py` is stored."
    committed = gpu_checks.cifar_check_summary(fused_runs=gpu_report.load_benchmarks(
        gpu_report.RESULTS / "fused-adam"))  # the H200's 2026-12-04 run
    assert committed.startswith("On NVIDIA H200 on 2026-12-04 (`cifar-gpu-check-h200-2026-12-04.log`)")
    assert "give every stored test error" in committed and "was bit-identical to an uninterrupted one" in committed
    assert "45,286 images/s (53,440 compiled), 1.01 times what the throughput benchmark measured" in committed
    (tmp_path / "cifar-gpu-check-h100-2031-01-02.log").write_text(_cifar_check_log(loop=" | loop: cuda graph, X"))
    fused = pd.DataFrame([{"device": "NVIDIA H100 80GB HBM3", "k": 64, "members": 1, "cuda_graph": True,
                           "fused_optimizer": True, "ours_images_per_s": 48000.0, "date": "2031-01-01", "file": "f.csv"}])
    text = gpu_checks.cifar_check_summary(tmp_path, fused)
    assert "a sweep of 2 runs (cnn5, resnet18) on tiny random" in text
    assert "in a 5-step cnn5 run with cuDNN's autotuning off (steps 1 to 4 observed), no step synchronised" in text
    assert "defaults on CUDA (cuda graph, X) on random" in text  # the loop as the run logged it
    assert ("38,400 images/s, 0.80 times what the throughput benchmark measured for the same loop (its fused-Adam run, "
            "not the foreach rows of the table below: 48,000") in text
    assert text.endswith("2031-01-01).")
    items = text.split("\n\n", 1)[1].split("\n")  # the heading line, then one list item per check
    assert [item.split("**")[1] for item in items] == ["Store", "Determinism and resume", "Host waits", "Compiled",
                                                        "Speed"]
    assert all(item.startswith("- **") and item.endswith(".") for item in items)
    for other in (fused.assign(device="NVIDIA H200"), fused.assign(fused_optimizer=False), fused.assign(batch_size=64)):
        assert gpu_checks.cifar_check_summary(tmp_path, other).endswith("38,400 images/s.")
    (tmp_path / "cifar-gpu-check-h100-2031-01-04.log").write_text("[1] sweep: cut short\n")  # no header: not a run
    assert "in a 5-step cnn5 run" in gpu_checks.cifar_check_summary(tmp_path)
    hundred = str([0] * 99 + [1] + [0] * 49 + [1])  # steps 100 and 150 (the last) read the loss back
    (tmp_path / "cifar-gpu-check-h100-2031-01-03.log").write_text(_cifar_check_log(syncs=hundred))
    assert "151-step cnn5 run with cuDNN's autotuning off (steps 1 to 150 observed), no step synchronised" in (
        gpu_checks.cifar_check_summary(tmp_path))
    (tmp_path / "cifar-gpu-check-h100-2031-01-03.log").write_text(
        _cifar_check_log(resumed="False", syncs="[0, 2, 0, 1]", reloaded="0.5"))  # every failure
    text = gpu_checks.cifar_check_summary(tmp_path)
    assert "do not give every stored test error" in text and "was not bit-identical" in text
    assert "steps 2 synchronised the host with the device where the loop reads no loss" in text
    assert "this run did not log them" in text  # no loop in its [5] line
    (tmp_path / "cifar-gpu-check-h100-2031-01-03.log").write_text("device: NVIDIA H100 | torch 2 | 2031-01-03\n")
    assert "holds no result of its checks" in gpu_checks.cifar_check_summary(tmp_path)
