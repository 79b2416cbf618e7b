"""Bad input is refused before any training, naming the parameter, on every path."""
import json
import os
import re
import subprocess
import sys

import papermill
import pytest

from ddlib import ConfigError, presets
from ddlib.book import table_folder, write_table
from ddlib.cli import runs_summary
from ddlib.paths import results_root
from ddlib.presets import papermill_injected_names, results_folder
from ddlib.runner import SweepOutcome
from ddlib.chapters import chapter_module, double_descent as dd, distillation as kd

from conftest import REPO, execute_chapter

BAD_DD = [
    (dict(widths=[4, 0]), "each entry of widths must be a positive integer"),
    (dict(widths=[-8]), "each entry of widths must be a positive integer"),
    (dict(label_noise=1.0), r"label_noise must be a number in \[0, 1\)"),
    (dict(label_noise=-0.2), r"label_noise must be a number in \[0, 1\)"),
    (dict(model="vit"), "model must be one of"),
    (dict(device="tpu"), "device must be one of 'auto', 'cpu', 'cuda', 'mps'"),
    (dict(dataset="imagenet"), "dataset must be one of"),
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(n_train=10, batch_size=50), "batch_size"),
]


def test_unknown_preset_and_parameter():
    with pytest.raises(ConfigError, match="preset must be one of 'smoke', 'default', 'paper'; got 'huge'"):
        dd.resolve_params("huge")
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['witdhs'\] .*did you mean 'widths' for 'witdhs'"):
        dd.resolve_params("smoke", witdhs=[1])
    with pytest.raises(ConfigError, match=r"did you mean 'pool_size' for 'pool_sizes'"):  # the old name
        kd.resolve_params("smoke", pool_sizes=[1000])
    with pytest.raises(ConfigError, match="chapter must be one of"):
        chapter_module("nope")


def test_paper_preset_needs_a_gpu_unless_the_device_is_explicit(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr("torch.backends.mps.is_available", lambda: False)
    with pytest.raises(ConfigError, match="preset 'paper' is sized for a GPU.*device='cpu'"):
        dd.resolve_params("paper")
    p = dd.resolve_params("paper", device="cpu")  # explicit: allowed (and the paper's setting)
    assert (p["dataset"], p["model"], p["widths"], p["label_noise"], p["lr"], p["batch_size"], p["epochs"]) == \
        ("cifar10", "resnet18", list(range(1, 65)), 0.15, 1e-4, 128, 4000)
    assert dd.steps_for(p) == 4000 * (50000 // 128)
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert dd.resolve_params("paper")["device"] == "auto"  # with a GPU, no refusal


@pytest.mark.parametrize("overrides,message", [
    (dict(dataset="cifar10"), "model 'mlp' does not run on dataset 'cifar10'.*'resnet18', 'cnn5'"),
    (dict(model="resnet18"), "model 'resnet18' does not run on dataset 'mnist1d'.*'mlp', 'cnn1d'"),
    (dict(dataset="cifar100", model="cnn5", n_train=60000), "n_train must be at most 50000 for cifar100"),
    (dict(dataset="cifar10", model="cnn5", n_test=20000), "n_test must be at most 10000"),
])
def test_double_descent_refuses_dataset_model_mismatch_and_sizes(overrides, message):
    with pytest.raises(ConfigError, match=message):
        dd.resolve_params("smoke", **overrides)


BAD_KD = [
    (dict(temperature=0), "temperature must be a finite number > 0"),
    (dict(temperature=-1.0), "temperature must be a finite number > 0"),
    (dict(alpha=1.5), r"alpha must be a number in \[0, 1\]"),
    (dict(alpha=-0.1), r"alpha must be a number in \[0, 1\]"),
    (dict(pool_size=10), "pool_size and each entry of pool_study_sizes must be at least batch_size"),
    (dict(student_width=0), "student_width must be a positive integer or .peak."),
    (dict(student_steps_factor=0), "student_steps_factor must be a positive integer"),
    (dict(seeds=[0, 1000], student_seeds=[0]), "each entry of seeds must be below 1000 in this chapter"),
    (dict(methods=["hard_pool", "magic"]), "each entry of methods must be one of"),
    (dict(methods=["direct", "soft_kd_pool"]), "methods must include 'hard_pool'"),
]


@pytest.mark.parametrize("chapter,overrides,message",
                         [(dd, o, m) for o, m in BAD_DD] + [(kd, o, m) for o, m in BAD_KD])
def test_chapter_refuses(chapter, overrides, message):
    with pytest.raises(ConfigError, match=message):
        chapter.resolve_params("smoke", **overrides)


def test_more_refusals():
    with pytest.raises(ConfigError, match="temperature must be a finite number > 0"):
        kd.resolve_params("smoke", temperature=float("inf"))
    with pytest.raises(ConfigError, match="optimizer must be one of 'adam', 'sgd'"):
        dd.resolve_params("smoke", optimizer="sgdx")
    with pytest.raises(ConfigError, match="noise_seed must be a non-negative integer"):
        dd.resolve_params("smoke", noise_seed=-1)
    with pytest.raises(ConfigError, match="pool_seed"):
        kd.resolve_params("smoke", pool_seed=0)  # would reuse the labeled draw (data_seed 0)
    with pytest.raises(ConfigError, match="student_model must be one of"):
        kd.resolve_params("smoke", student_model="transformer")
    with pytest.raises(ConfigError, match="teacher_widths must be a subset of widths"):
        kd.resolve_params("smoke", teacher_widths=[5])
    from ddlib.chapters import random_features as rf

    with pytest.raises(ConfigError, match="pool_seed must differ from data_seed"):
        rf.resolve_params("smoke", pool_seed=rf.resolve_params("smoke")["data_seed"])


def test_numpy_values_ranges_sets_and_generators_are_the_plain_setting():
    """What a notebook naturally passes is the same setting, one results folder, as the plain list: a generator
    is not used up by the validator, a set or range is not hashed as its repr, a NumPy scalar is its number."""
    import numpy as np

    plain = dd.resolve_params("smoke", widths=[4, 64], label_noise=0.1)
    for widths in ((w for w in [64, 4]), {64, 4}, range(4, 65, 60), np.array([4, 64]), [np.int64(4), np.int64(64)]):
        p = dd.resolve_params("smoke", widths=widths, label_noise=np.float64(0.1))
        assert p["widths"] == [4, 64] and all(type(w) is int for w in p["widths"]), widths
        assert dd.sweep_configs(p) == dd.sweep_configs(plain)
    assert dd.resolve_params("smoke", label_noise=np.float32(0.25))["label_noise"] == 0.25
    methods = {"soft_kd_pool", "direct", "hard_pool"}  # a set of words: sorted, the same in every process
    assert kd.resolve_params("smoke", methods=methods)["methods"] == ["direct", "hard_pool", "soft_kd_pool"]
    assert type(dd.resolve_params("smoke", epochs=np.int64(50))["epochs"]) is int
    with pytest.raises(ConfigError, match="widths must be a non-empty list of integers; got an empty list"):
        dd.resolve_params("smoke", widths=(w for w in []))


def test_int_and_float_spellings_hash_alike():
    from ddlib import DataConfig, RunConfig, TrainConfig, config_hash

    a = RunConfig(data=DataConfig(label_noise=0), train=TrainConfig(lr=1, steps=10))
    b = RunConfig(data=DataConfig(label_noise=0.0), train=TrainConfig(lr=1.0, steps=10))
    assert config_hash(a) == config_hash(b)


def test_command_line_strings_are_coerced():
    p = dd.resolve_params("smoke", widths="[2, 8]", seeds="0,1", label_noise="0.3")
    assert p["widths"] == [2, 8] and p["seeds"] == [0, 1] and p["label_noise"] == 0.3
    assert kd.resolve_params("smoke", methods="hard_pool,direct")["methods"] == ["hard_pool", "direct"]


def test_papermill_refuses_before_training(results_dir, tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="label_noise must be a number in"):
        execute_chapter("double-descent", tmp_path / "bad.ipynb", preset="smoke", label_noise=1.5)
    assert not (results_dir / "store").exists()  # nothing was trained


def test_cli_refuses_none_where_it_would_silently_mean_the_preset(monkeypatch, tmp_path):
    from ddlib import cli

    with pytest.raises(ConfigError, match=r"-p noise_study None would keep the preset's value \[0.4\].*'\[\]'"):
        cli.run_chapter("double-descent", "smoke", {"noise_study": None}, tmp_path)
    with pytest.raises(ConfigError, match=r"give widths a value$"):  # no '[]' hint: widths may not be empty
        cli.run_chapter("double-descent", "smoke", {"widths": None}, tmp_path)
    started = []
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: started.append(k["parameters"]) or
                        __import__("nbformat").v4.new_notebook())
    cli.run_chapter("distillation", "smoke", {"student_model": None}, tmp_path)  # the preset's value is None
    assert started == [{"preset": "smoke", "student_model": None}]


def test_cli_refuses_before_starting_a_kernel(results_dir):
    out = subprocess.run([sys.executable, "-m", "ddlib", "run", "double-descent", "--preset", "smoke",
                          "-p", "widths", "[4, -1]"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 2
    assert "each entry of widths must be a positive integer" in out.stderr
    out = subprocess.run([sys.executable, "-m", "ddlib", "run", "double-descent", "--preset", "giant"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 2 and "preset must be one of" in out.stderr


def test_cli_runs_a_chapter_and_reports_counts(results_dir, tmp_path):
    args = [sys.executable, "-m", "ddlib", "run", "double-descent", "--preset", "smoke", "-p", "label_noise", "0.1",
            "-p", "noise_study", "[0.1, 0.4]", "--out-dir", str(tmp_path)]
    first = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    # the sweep (widths 4, 64; one seed: 2 runs), the label-noise study at 0.1 (the same 2 runs, reused) and
    # 0.4 (2 more), the longer training (2 more), the other draw of the data (2 more), the published anchor (2
    # sizes x 2 recipes for the book's CNN, 1 for theirs) and the learning-rate study (2 more): 15 distinct runs, each
    # counted once (summing the lines would say 15 computed, 2 reused)
    assert first.stdout.splitlines()[-2] == "runs: 15 computed, 0 reused"
    second = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert second.stdout.splitlines()[-2] == "runs: 0 computed, 15 reused"
    assert len(list(tmp_path.glob("double-descent-smoke-*.ipynb"))) >= 1


def test_papermill_refuses_a_parameter_the_chapter_does_not_have(results_dir, tmp_path):
    # papermill itself only warns and would run the whole preset with its own widths
    with pytest.raises(papermill.PapermillExecutionError, match=r"unknown parameter\(s\) \['width'\]"):
        execute_chapter("double-descent", tmp_path / "typo.ipynb", preset="smoke", width=4)
    assert not (results_dir / "store").exists()  # nothing was trained


def test_papermill_injected_names_reads_the_latest_injected_cell():
    history = ["", "# Parameters\npreset = \"smoke\"\nwidth = 4\n", "x = 1", "# Parameters\nseeds = [0]\n", "y = 2"]
    assert papermill_injected_names(history) == ["seeds"]
    assert papermill_injected_names(["preset = 'smoke'", "width = 4"]) == []  # nothing papermill injected
    assert papermill_injected_names(["# Parameters\nwidth = (\n"]) == []  # unparsable: left to the kernel
    assert papermill_injected_names(["# Parameters for my experiment\nmy_lr = 0.01\n"]) == []  # a user's comment
    # papermill --inject-paths adds its own names, which are no chapter's parameters
    assert papermill_injected_names(["# Parameters\nwidths = [4]\nPAPERMILL_INPUT_PATH = \"a.ipynb\"\n"]) == ["widths"]
    assert papermill_injected_names() == []  # outside IPython


def test_only_the_chapters_own_resolve_cell_checks_injected_names(monkeypatch):
    # a kernel in which papermill injected another chapter's (or a user notebook's) parameters
    monkeypatch.setattr(presets, "papermill_injected_names", lambda history=None: ["student_width", "out_dir"])
    assert dd.resolve_params("smoke")["preset"] == "smoke"
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['out_dir', 'student_width'\]"):
        dd.resolve_params("smoke", check_injected=True)
    monkeypatch.setattr(presets, "papermill_injected_names", lambda history=None: ["student_width"])
    assert kd.resolve_params("smoke", check_injected=True)["preset"] == "smoke"  # the distillation chapter's own


def test_results_folder_is_the_preset_unless_a_parameter_differs():
    def folder(**overrides):
        return table_folder("double-descent", dd.resolve_params("smoke", **overrides))
    assert folder() == "smoke"
    smoke = dd.PRESETS["smoke"]
    # overrides equal to the preset's values change nothing, however they are typed; nor does the device
    assert folder(widths=list(smoke["widths"]), seeds=",".join(map(str, smoke["seeds"])), device="cpu") == "smoke"
    # a list of numbers is a set of settings: order and repeats change nothing either
    assert list(smoke["widths"]) == [4, 64] and folder(widths=[64, 4, 4]) == "smoke"
    assert dd.resolve_params("smoke", widths="64, 8, 4")["widths"] == [4, 8, 64]
    assert dd.resolve_params("smoke", widths=[4.0, 4])["widths"] == [4]  # the integer kept, whatever the order
    a, b, c, d = folder(label_noise=0.1), folder(label_noise="0.1"), folder(label_noise=0.3), folder(label_noise=0)
    assert a == b == results_folder("smoke", {"label_noise": 0.1}) and re.fullmatch(r"smoke-[0-9a-f]{8}", a)
    assert c != a and d == folder(label_noise=0.0) == folder(label_noise="0")  # 0 and 0.0: one setting, one folder
    params = dd.resolve_params("smoke")
    params["widths"] = [8]  # edited after resolving: the tables must not land in the preset's folder
    assert table_folder("double-descent", params) == results_folder("smoke", {"widths": [8]})
    params["widths"] = [64, 4]
    assert table_folder("double-descent", params) == "smoke"
    assert table_folder("double-descent", dict(params, widths=[8, 4])) == \
        table_folder("double-descent", dict(params, widths=[4, 8, 4]))


def test_write_table_writes_the_parameters_beside_the_table(results_dir):
    import pandas as pd

    params = dd.resolve_params("smoke", label_noise=0.3)
    path = write_table(pd.DataFrame({"x": [1]}), "double-descent", params, "results-noise-0.3.csv")
    assert path == results_dir / "double-descent" / table_folder("double-descent", params) / "results-noise-0.3.csv"
    assert json.loads((path.parent / "results-noise-0.3-parameters.json").read_text()) == json.loads(
        json.dumps(params, default=str))
    # a study beside a sweep: its own parameters, the sweep's folder
    beside = write_table(pd.DataFrame({"x": [1]}), "double-descent", dict(params, label_noise=0.5), "b.csv",
                         folder_params=params)
    assert beside.parent == path.parent and json.loads((path.parent / "b-parameters.json").read_text())["label_noise"] == 0.5


def test_cli_refuses_missing_cifar_files_before_starting_a_kernel(tmp_path):
    env = dict(os.environ, DDLIB_DATA=str(tmp_path), DDLIB_DOWNLOAD="0")
    out = subprocess.run([sys.executable, "-m", "ddlib", "run", "double-descent", "--preset", "smoke",
                          "-p", "dataset", "cifar10", "-p", "model", "cnn5", "--out-dir", str(tmp_path)],
                         capture_output=True, text=True, cwd=REPO, timeout=120, env=env)
    assert out.returncode == 2 and str(tmp_path / "cifar-10-batches-py") in out.stderr
    assert not list(tmp_path.glob("*.ipynb"))  # no notebook was started


def test_cli_needs_no_cifar_files_where_every_run_is_stored(results_dir, tmp_path, monkeypatch):
    import nbformat
    import torch

    from ddlib import ResultStore, cli

    monkeypatch.setenv("DDLIB_DATA", str(tmp_path / "no-cifar-here"))
    monkeypatch.setenv("DDLIB_DOWNLOAD", "0")
    overrides = {"dataset": "cifar10", "model": "cnn5"}
    planned = dd.planned_configs(dd.resolve_params("smoke", **overrides))
    # widths 4 and 64, one seed, at 20% noise, at the study's 40%, trained for 40 epochs, on the other draw and at
    # learning rate 0.01 (no anchor: it is for MNIST-1D)
    assert len(planned) == 10
    store = ResultStore()
    for cfg in planned[:-1]:
        store.save(cfg, {"test_error": 0.5}, {"w": torch.zeros(1)}, {"device": "gpu elsewhere"})
    with pytest.raises(ConfigError, match="cifar10 files not found"):  # one run left to train: the files are needed
        cli.run_chapter("double-descent", "smoke", overrides, tmp_path)
    store.save(planned[-1], {"test_error": 0.5}, {"w": torch.zeros(1)}, {"device": "gpu elsewhere"})
    started = []
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: started.append(1) or nbformat.v4.new_notebook())
    cli.run_chapter("double-descent", "smoke", overrides, tmp_path)  # every run stored: nothing would read them
    assert started == [1]


def test_runs_summary_takes_the_chapter_total_else_sums_every_sweep():
    import nbformat

    def nb(*texts):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=t) for t in texts])])
    sweeps = ("runs: 2 computed, 1 reused\n", "study: runs: 3 computed, 0 reused\n")
    assert runs_summary(nb(*sweeps)) == "runs: 5 computed, 1 reused"
    total = SweepOutcome(computed=4, reused=2).chapter_summary() + "\n"
    assert runs_summary(nb(*sweeps, total)) == "runs: 4 computed, 2 reused"
    assert runs_summary(nb("no sweeps here\n")) == "runs: none (this chapter trains nothing)"


def test_cli_interrupted_says_how_to_resume(monkeypatch, capsys):
    from ddlib import cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "run_chapter", interrupted)
    assert cli.main(["run", "double-descent", "--preset", "smoke"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "resumes" in err and "Traceback" not in err
    assert str(results_root() / "store") in err  # the store actually used, not a generic path


def test_ctrl_c_mid_training_stops_the_cli_with_one_line_and_no_kernel_traceback(results_dir, tmp_path):
    """A real SIGINT to the CLI's process group while the kernel trains: exit 130, the resume line, and none of the
    kernel's ZMQ traceback from replying on a socket its shutdown closed."""
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "ddlib", "run", "double-descent", "--preset", "smoke",
                             "-p", "epochs", "100000", "-p", "widths", "[4]", "--out-dir", str(tmp_path)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = ""
    while "member(s)" not in seen:  # training has started (tqdm's progress line)
        chunk = proc.stderr.read(1)
        assert chunk, "the CLI ended before training started"
        seen += chunk
    os.killpg(proc.pid, signal.SIGINT)
    out, rest = proc.communicate(timeout=120)
    err = seen + rest
    assert proc.returncode == 130
    assert "interrupted: every run that had finished is stored" in err
    assert "Traceback" not in err and "ZMQError" not in err
