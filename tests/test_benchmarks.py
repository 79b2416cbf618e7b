"""The throughput benchmark runs end to end at a tiny size, and the appendix's reader understands
what it writes (a schema drift between the two would break the book only on the next GPU run)."""
import os
import subprocess
import sys

from conftest import REPO
from ddlib import alignment_report, gpu_report


def test_throughput_script_writes_what_the_appendix_reads(tmp_path):
    csv = tmp_path / "run.csv"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "train_throughput.py"), "--k", "1", "2",
                    "--members", "1", "2", "--steps", "2", "--warmup", "1", "--batch-size", "8",
                    "--num-workers", "0", "--n-images", "64", "--sweep-k-max", "2", "--threads", "1",
                    "--csv", str(csv)], check=True, cwd=REPO, capture_output=True)
    runs = gpu_report.load_benchmarks(tmp_path)
    assert sorted(zip(runs["members"], runs["k"])) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    # one baseline per width, shared by every ensemble size (measured once, in the same run)
    assert runs.groupby("k")["baseline_images_per_s"].nunique().eq(1).all()
    assert (runs["ratio"] == runs["ours_images_per_s"] / runs["baseline_images_per_s"]).all()
    assert runs["projected_sweep_hours_ours"].notna().all() and runs["timed_steps"].eq(2).all()
    numbers = gpu_report.cpu_numbers(runs)
    assert numbers["cpu_members"] == 2 and numbers["cpu_widths"] == "1, 2" and numbers["cpu_steps"] == 2


def test_throughput_script_times_padded_widths_once_each(tmp_path):
    """--channel-align 1 8: width 2 twice (stages 2, 4, 8, 16 and 8, 8, 8, 16), width 8 once (padding changes
    nothing); each variant's sweep projection is written, and the padded row is the alignment report's."""
    csv = tmp_path / "aligned.csv"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "train_throughput.py"), "--k", "2", "8",
                    "--members", "1", "--channel-align", "1", "8", "--skip-baseline", "--steps", "1", "--warmup", "1",
                    "--batch-size", "4", "--n-images", "16", "--sweep-k-max", "8", "--threads", "1",
                    "--csv", str(csv)], check=True, cwd=REPO, capture_output=True)
    runs = gpu_report.load_benchmarks(tmp_path)
    assert sorted(zip(runs["k"], runs["channel_align"], runs["channels"])) == [
        (2, 1, "2 4 8 16"), (2, 8, "8 8 8 16"), (8, 1, "8 16 32 64")]  # the channels of the model that trained
    assert runs["projected_sweep_hours_ours"].notna().all()
    assert runs.groupby("channel_align")["projected_sweep_hours_ours"].nunique().eq(1).all()
    gpu = runs.assign(device="NVIDIA H200", cuda_graph=True)  # as the GPU step writes it
    assert alignment_report.padded_rows(gpu)["k"].tolist() == [2]
    assert sorted(alignment_report.alignment_rows(gpu)["k"]) == [2, 8]


def test_throughput_script_refuses_bad_arguments():
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "train_throughput.py"), "--warmup", "0"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 2 and "--warmup must be >= 1; got 0" in out.stderr


def test_width_batching_script_times_both_ways_and_writes_its_csv(tmp_path):
    csv = tmp_path / "wb.csv"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "width_batching.py"), "--model", "mlp",
                    "--widths", "2,4", "1,2,8", "--seeds", "2", "--steps", "2", "--warmup", "1", "--batch-size", "16",
                    "--n-train", "64", "--threads", "1", "--csv", str(csv)], check=True, cwd=REPO, capture_output=True)
    runs = gpu_report.load_benchmarks(tmp_path)
    assert list(runs["widths"]) == ["2,4", "1,2,8"] and list(runs["members"]) == [4, 6]
    assert (runs["ratio"] == runs["separate_s"] / runs["padded_s"]).all()
    # mlp parameters (40 + 1) w + (w + 1) 10: padding widths 1, 2, 8 (2 seeds each) to 8
    params = {w: 41 * w + (w + 1) * 10 for w in (1, 2, 8)}
    assert abs(runs["padding_overhead"].iloc[1] - 3 * params[8] / sum(params.values())) < 1e-12


def test_width_batching_script_refuses_a_set_of_one_width():
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "width_batching.py"), "--widths", "4"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 2 and "at least two distinct widths" in out.stderr


def test_chapter_sweep_timing_writes_what_the_appendix_reads(tmp_path, results_dir):
    csv = tmp_path / "sweep.csv"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "width_batching.py"), "--chapter-sweep",
                    "--chapter-preset", "smoke", "--width-batch", "64", "--threads", "1", "--csv", str(csv)],
                   check=True, cwd=REPO, capture_output=True)
    runs = gpu_report.load_benchmarks(tmp_path)
    assert runs["runs"].tolist() == [2] and runs["width_batch"].tolist() == [64]  # smoke: widths 4 and 64, one seed
    assert runs["ratio"].iloc[0] == runs["unbatched_s"].iloc[0] / runs["batched_s"].iloc[0]
    assert "(2 runs, timing" in gpu_report.chapter_sweep_sentence(runs)
    assert not list(results_dir.glob("**/*.json"))  # timed in temporary stores only


def test_concurrent_groups_script_times_both_ways_and_writes_what_the_appendix_reads(tmp_path):
    csv = tmp_path / "cg.csv"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "concurrent_groups.py"), "--model", "mlp",
                    "--widths", "2,4", "3,3,3", "--seeds", "2", "--steps", "3", "--warmup", "1", "--batch-size", "16",
                    "--n-train", "64", "--csv", str(csv)], check=True, cwd=REPO, capture_output=True)
    runs = gpu_report.load_benchmarks(tmp_path)
    assert list(runs["widths"]) == ["2,4", "3,3,3"] and list(runs["groups"]) == [2, 3]
    assert (runs["ratio"] == runs["alone_s"] / runs["together_s"]).all()
    assert (runs["images_per_s_together"] == 3 * 16 * 2 * runs["groups"] / runs["together_s"]).all()
    assert "No GPU run" in gpu_report.concurrent_groups_sentence(runs, {})


def test_concurrent_groups_script_refuses_a_set_of_one_group():
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "concurrent_groups.py"), "--widths", "4"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 2 and "at least two widths" in out.stderr


def test_concurrent_chapter_sweep_timing_writes_what_the_appendix_reads(tmp_path, results_dir):
    csv = tmp_path / "sweep.csv"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "concurrent_groups.py"), "--chapter-sweep",
                    "--chapter-preset", "smoke", "--csv", str(csv)], check=True, cwd=REPO, capture_output=True)
    runs = gpu_report.load_benchmarks(tmp_path)
    assert runs["runs"].tolist() == [2] and runs["workers"].tolist() == [2]
    assert runs["ratio"].iloc[0] == runs["one_at_a_time_s"].iloc[0] / runs["at_once_s"].iloc[0]
    assert "2 groups at once took" in gpu_report.concurrent_chapter_sentence(runs)
    assert not list(results_dir.glob("**/*.json"))  # timed in temporary stores only


def test_every_benchmark_script_finds_the_repositorys_ddlib_without_an_install(tmp_path):
    """The device machines run the scripts with a Python that has no ddlib installed (a session lost its CIFAR
    check to that): importing each script must put the repository on ``sys.path`` itself. A stand-in ``ddlib``
    that refuses to import comes first on the path, as an uninstalled one would be missing."""
    stub = tmp_path / "stub" / "ddlib"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('the stand-in ddlib: the script did not put the repo first')\n")
    scripts = sorted(p for p in (REPO / "benchmarks").glob("*.py") if p.name != "timing.py")
    driver = f"""
import runpy, sys
base = list(sys.path)
failed = []
for script in {[str(p) for p in scripts]!r}:
    sys.path[:] = [{str(REPO / "benchmarks")!r}] + base  # as `python benchmarks/X.py` puts the script's folder first
    for name in [m for m in sys.modules if m == "ddlib" or m.startswith(("ddlib.", "test_", "conftest"))]:
        del sys.modules[name]
    try:
        runpy.run_path(script, run_name="imported_by_the_test")  # module level only: main() does not run
    except ImportError as err:
        failed.append(f"{{script}}: {{err}}")
print("FAILED" if failed else "OK", *failed, sep="\\n")
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(tmp_path / "stub")}
    out = subprocess.run([sys.executable, "-c", driver], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "OK", out.stdout
    assert len(scripts) >= 10  # every script was tried
