"""The appendix reads the committed GPU benchmark files; check what it cites against them."""
import pandas as pd
import pytest
import torch

from ddlib import gpu_report


def test_key_numbers_match_the_committed_benchmarks():
    runs = gpu_report.load_benchmarks()
    assert len(runs), "benchmarks/results/ holds the GPU runs the appendix cites"
    k = gpu_report.key_numbers(runs)
    cited = gpu_report.current_runs(runs)
    assert cited["file"].nunique() == 1 and cited["baseline_images_per_s"].notna().all()
    single = cited[cited["members"] == 1].set_index("k")
    assert k["gpu_mfu_k64"] == single.loc[64, "ours_mfu"]
    assert k["gpu_ratio_k64"] == single.loc[64, "ours_images_per_s"] / single.loc[64, "baseline_images_per_s"]
    small = single.loc[single.index <= 16, "ratio"]
    assert (k["gpu_ratio_min_small_k"], k["gpu_ratio_max_small_k"]) == (small.min(), small.max())
    # MFU is 3 x forward FLOPs x images/s over the peak
    row = single.loc[64]
    assert abs(row["ours_mfu"] - 3 * row["gflop_per_image"] * 1e9 * row["ours_images_per_s"] / 1e12 / row["peak_tflops"]) < 1e-6
    assert k["gpu_sweep_hours_batched_all"] == k["gpu_sweep_hours_batched"] * k["gpu_members"]
    # the split by width recomputes the script's own projection (ddlib.sweep_cost, shared with it)
    assert abs(k["gpu_sweep_hours_small"] + k["gpu_sweep_hours_wide"] - k["gpu_sweep_hours"]) < 1e-6 * k["gpu_sweep_hours"]
    assert f"widths 1 to 16 take {k['gpu_sweep_hours_small']:.0f}" in k["gpu_sweep_split_sentence"]


def test_show_is_empty_without_benchmarks(tmp_path):
    runs = gpu_report.load_benchmarks(tmp_path)
    assert isinstance(runs, pd.DataFrame) and runs.empty
    assert gpu_report.show(runs).empty


def test_grouped_ratio_prefers_the_baseline_of_its_own_run(tmp_path):
    """The first committed 8-seed run has no baseline: its ratio borrows the one-model run's (same card) and
    says so; a run that measured its own baseline (``--members 1 8``) is compared with that one."""
    import shutil

    (tmp_path / "old").mkdir()
    for name in ("gpu-resnet18-members1.csv", "gpu-resnet18-members8.csv"):
        shutil.copy(gpu_report.RESULTS / name, tmp_path / "old")
    runs = gpu_report.load_benchmarks(tmp_path / "old")
    k = gpu_report.key_numbers(runs)
    single = runs[runs["members"] == 1].set_index("k")
    grouped = runs[runs["members"] == k["gpu_members"]].set_index("k")
    small = [w for w in grouped.index if w <= 16]
    borrowed = grouped.loc[small, "ours_images_per_s"] / single.loc[small, "baseline_images_per_s"]
    assert k["gpu_ratio_batched_min_small_k"] == borrowed.min()
    assert "separate run" in k["gpu_ratio_batched_source"] and "two runs" in k["gpu_ratio_batched_verdict"]

    one_run = runs[runs["file"] == runs["file"].iloc[0]].copy()  # members 1 only, with baselines
    grouped_own = one_run.assign(members=8, ours_images_per_s=one_run["baseline_images_per_s"] * 2)
    pd.concat([one_run, grouped_own]).drop(columns="file").to_csv(tmp_path / "run.csv", index=False)
    k = gpu_report.key_numbers(gpu_report.load_benchmarks(tmp_path))
    assert k["gpu_ratio_batched_min_small_k"] == 2.0 and k["gpu_ratio_batched_max_small_k"] == 2.0
    assert k["gpu_ratio_batched_source"] == "measured in the same run"
    assert k["gpu_ratio_batched_verdict"] == "**not met**"


def test_a_newer_run_supersedes_older_ones_and_compiled_rows_stay_apart(tmp_path):
    """After a later GPU session adds an eager run (one model and 8 seeds against one baseline) and a
    compiled run, the prose cites the new eager run only, and the compiled rows in their own sentence."""
    import shutil

    for p in gpu_report.RESULTS.glob("*.csv"):
        shutil.copy(p, tmp_path)
    old = gpu_report.load_benchmarks(tmp_path)
    one = old[old["file"] == "gpu-resnet18-members1.csv"].drop(columns="file")
    new = one.assign(date="2099-01-01", baseline_workers=8, compile_mode="off")
    grouped = new.assign(members=8, ours_images_per_s=new["baseline_images_per_s"] * 5)
    pd.concat([new, grouped]).to_csv(tmp_path / "eager.csv", index=False)
    comp = grouped.assign(compile_mode="reduce-overhead", baseline_images_per_s=None, ratio=None,
                          ours_images_per_s=123456.0)
    comp[comp["k"] == 64].to_csv(tmp_path / "compiled.csv", index=False)

    runs = gpu_report.load_benchmarks(tmp_path)
    current = gpu_report.current_runs(runs)
    assert set(current["file"]) == {"eager.csv"}
    k = gpu_report.key_numbers(runs)
    assert k["gpu_date"] == "2099-01-01" and k["gpu_ratio_batched_source"] == "measured in the same run"
    assert k["gpu_ratio_batched_min_small_k"] == 5.0 and k["gpu_ratio_batched_verdict"] == "met"
    assert "`ddlib.train.train_ensemble` itself" in k["gpu_script_note"]
    assert k["gpu_script_note"].endswith("in the same run (its `DataLoader` with 8 worker processes).")
    assert "reduce-overhead" in k["gpu_compile_note"]
    assert 123456 in gpu_report.compiled_table(runs)["images/s"].tolist()
    assert "compile_mode" not in gpu_report.show(current)  # constant within the cited run


def test_notes_for_the_committed_runs(tmp_path):
    k = gpu_report.key_numbers(gpu_report.load_benchmarks())
    assert "(the whole step as a CUDA graph, Adam's foreach form;" in k["gpu_script_note"]
    assert k["gpu_compile_note"].startswith("With `torch.compile` (mode default; CUDA graph, foreach Adam; NVIDIA H100")
    assert "MFU at $k = 64$: 14.2% with one model" in k["gpu_compile_note"]  # the compiled k = 64 row of the H100 run
    import shutil

    shutil.copy(gpu_report.RESULTS / "gpu-resnet18-members1.csv", tmp_path)
    old = gpu_report.key_numbers(gpu_report.load_benchmarks(tmp_path))
    assert "earlier version of the benchmark" in old["gpu_script_note"]
    assert old["gpu_compile_note"].startswith("No run with `torch.compile`")


def test_plot_draws_one_line_per_ensemble_size_and_the_baseline():
    runs = gpu_report.current_runs(gpu_report.load_benchmarks())
    fig = gpu_report.plot(runs)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["ours, one model", "ours, 8 seeds as one grouped model",
                      "DataLoader baseline, one model"]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_width_batching_sentences_say_where_padding_stops_paying(tmp_path):
    """The prose cites the longest leading run of width sets that train faster padded and the set after
    it (a noisy set beyond the first loss does not reopen the range); a GPU run gets its own sentence."""
    row = dict(date="2026-01-01", device="cpu (2 threads)", model="cnn1d", seeds=3, timed_steps=300,
               batch_size=128, data="mnist1d")
    sets = [("2,4", 1.5, 1.4), ("2,4,8", 1.2, 2.0), ("2,4,8,16,32", 1.1, 3.2), ("2,4,8,16", 0.9, 2.4)]
    table = pd.DataFrame([dict(row, widths=w, members=3 * len(w.split(",")), separate_s=r, padded_s=1.0, ratio=r,
                               padding_overhead=o) for w, r, o in sets])
    table.to_csv(tmp_path / "cpu.csv", index=False)
    n = gpu_report.width_batching_numbers(gpu_report.load_benchmarks(tmp_path))
    assert n["wb_pays_up_to"] == 8
    assert list(gpu_report.show_width_batching(gpu_report.load_benchmarks(tmp_path)).columns) == [
        "widths", "members", "separate_s", "padded_s", "ratio", "padding_overhead"]  # settings in the prose
    assert "up to 8 into one ensemble trains them 1.20 times" in n["wb_cpu_sentence"]
    assert "best: 1.50 times, for widths 2, 4" in n["wb_cpu_sentence"]
    assert "Once width 16 joins, the padding (2.4 times the parameters)" in n["wb_cpu_sentence"]
    assert n["wb_cpu_sentence"].startswith("In short runs on a CPU (2 threads), with cnn1d on MNIST-1D, 3 seeds per width "
                                           "(the book's sweep now runs 5; not timed again)")
    assert n["wb_gpu_note"].startswith("Width batching has not been measured on a GPU")

    table.assign(ratio=0.5).to_csv(tmp_path / "cpu.csv", index=False)  # nothing pays
    n = gpu_report.width_batching_numbers(gpu_report.load_benchmarks(tmp_path))
    assert n["wb_pays_up_to"] == 0 and "does not pay even for widths 2, 4: 0.50" in n["wb_cpu_sentence"]

    gpu = dict(row, date="2026-02-01", device="NVIDIA H100 80GB HBM3", model="resnet18", seeds=1,
               widths="1,2,3,4", members=4, separate_s=2.5, padded_s=1.0, ratio=2.5, padding_overhead=2.1,
               data="synthetic")
    pd.DataFrame([gpu]).to_csv(tmp_path / "gpu.csv", index=False)
    n = gpu_report.width_batching_numbers(gpu_report.load_benchmarks(tmp_path))
    assert n["wb_gpu_note"] == ("In the GPU runs above (PreAct ResNet-18 (`resnet18`), 1 seed per width): every set "
                                "measured on a GPU pays.")
    shown_gpu = gpu_report.show_width_batching_gpu(gpu_report.load_benchmarks(tmp_path))
    assert shown_gpu.loc[("NVIDIA H100 80GB HBM3, 2026-02-01", "eager", "1–4")].tolist() == [2.5, 2.1]
    assert gpu_report.show_width_batching_gpu(gpu_report.load_benchmarks(tmp_path / "none")) is None
    pd.DataFrame([gpu, dict(gpu, widths="1,2", cuda_graph=True, ratio=0.9)]).to_csv(tmp_path / "gpu.csv", index=False)
    n = gpu_report.width_batching_numbers(gpu_report.load_benchmarks(tmp_path))
    assert n["wb_gpu_note"].endswith("not every set measured on a GPU pays, eager or graphed.")  # same card
    pd.DataFrame([gpu]).to_csv(tmp_path / "gpu.csv", index=False)
    shown = gpu_report.show_width_batching(gpu_report.load_benchmarks(tmp_path))
    assert shown["widths"].tolist() == table["widths"].tolist()  # the CPU file's rows only
    assert n["wb_pays_up_to"] == 0  # the CPU sentence still comes from the CPU file
    empty = gpu_report.width_batching_numbers(gpu_report.load_benchmarks(tmp_path / "none"))
    assert empty["wb_cpu_sentence"].startswith("No CPU run")


def test_cpu_default_is_where_the_committed_run_stops_paying():
    """``CPU_WIDTH_BATCH`` (what run_configs pads on a CPU) is the limit the committed measurement supports."""
    from ddlib.width_batching import CPU_WIDTH_BATCH

    committed = gpu_report.load_benchmarks(gpu_report.WIDTH_BATCHING_RESULTS)
    assert gpu_report.width_batching_numbers(committed)["wb_pays_up_to"] == CPU_WIDTH_BATCH


def test_chapter_sweep_sentence_reads_the_newest_file(tmp_path):
    assert gpu_report.chapter_sweep_sentence(gpu_report.load_benchmarks(tmp_path)).startswith("The whole chapter")
    row = dict(date="2026-01-01", device="cpu (2 threads)", torch="2", sweep="double-descent default", runs=24,
               width_batch=16, unbatched_s=140.0, batched_s=128.0, ratio=140 / 128)
    pd.DataFrame([row]).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame([dict(row, date="2025-01-01", ratio=9.0)]).to_csv(tmp_path / "b.csv", index=False)
    text = gpu_report.chapter_sweep_sentence(gpu_report.load_benchmarks(tmp_path))
    assert "(24 runs, as the preset was when timed; it now has 40; timing data" in text and "a CPU (2 threads), 2026-01-01" in text
    assert "took 128.0 s against 140.0 s one width per group, 1.09 times" in text


def test_sweep_verdict_is_for_the_preset_sweep_not_per_seed_hours(tmp_path):
    """Grouping 8 seeds can bring the cost *per seed* under the target while the one-seed sweep the
    preset runs is still over it: the verdict follows the one-seed sweep."""
    runs = gpu_report.load_benchmarks()
    one = runs[runs["file"] == "gpu-resnet18-members1.csv"].drop(columns="file")
    eager = one.assign(date="2099-01-01", baseline_workers=8, compile_mode="off", projected_sweep_hours_ours=100.0)
    grouped = eager.assign(members=8, projected_sweep_hours_ours=10.0)
    pd.concat([eager, grouped]).to_csv(tmp_path / "run.csv", index=False)
    k = gpu_report.key_numbers(gpu_report.load_benchmarks(tmp_path))
    assert (k["gpu_sweep_hours"], k["gpu_sweep_hours_batched"]) == (100.0, 10.0)
    assert k["gpu_sweep_verdict"] == "**not met**"


def test_show_drops_columns_a_run_did_not_measure():
    cpu = gpu_report.show(gpu_report.current_runs(gpu_report.load_benchmarks(gpu_report.CPU_RESULTS)))
    assert "ours_mfu_%" not in cpu and "ratio" in cpu  # no peak FLOP/s on a CPU, so no MFU
    gpu = gpu_report.show(gpu_report.current_runs(gpu_report.load_benchmarks()))
    assert "ours_mfu_%" in gpu


def test_cited_run_is_the_default_loop_on_the_target_card():
    """Of the committed runs of the newest date, the prose cites the default loop on CUDA (the CUDA graph,
    uncompiled, foreach Adam) of the run against the DataLoader baseline, not the same day's fused-Adam or
    compiled rows; and of two cards measured that day, the one the targets name."""
    runs = gpu_report.load_benchmarks()
    cited = gpu_report.current_runs(runs)
    newest = runs[runs["date"] == runs["date"].max()]
    assert cited["cuda_graph"].astype(bool).all() and cited["baseline_images_per_s"].notna().all()
    assert (cited["date"] == newest["date"].max()).all() and cited["file"].nunique() == 1
    assert (~newest["cuda_graph"].astype("boolean").fillna(False)).any()  # eager rows exist that date...
    assert (newest["compile_mode"].fillna("off") != "off").any()  # ...and compiled ones: the preference chose
    other_card = cited.assign(device="NVIDIA H100 80GB HBM3", file="zz-h100.csv")
    both_cards = gpu_report.current_runs(pd.concat([runs, other_card], ignore_index=True))
    assert both_cards["device"].str.contains("H100").all()


def test_graph_comparison_is_read_from_one_run(tmp_path):
    gain = {(1, 1): 4.0, (1, 16): 5.0, (1, 64): 2.5, (8, 1): 3.0, (8, 16): 2.0, (8, 64): 1.25}
    rows = [dict(date="2030-01-01", device="GPU X", compile_mode="off", baseline_workers=8, cuda_graph=g,
                 members=m, k=k, ours_images_per_s=(gain[m, k] if g else 1.0) * m * 1000, baseline_images_per_s=500.0,
                 ratio=(gain[m, k] if g else 1.0) * m * 2) for g in (False, True) for m in (1, 8) for k in (1, 16, 64)]
    pd.DataFrame(rows).to_csv(tmp_path / "both.csv", index=False)
    pd.DataFrame(rows[:3]).assign(ours_images_per_s=1.0).to_csv(tmp_path / "eager-only.csv", index=False)
    table = gpu_report.graph_comparison(gpu_report.load_benchmarks(tmp_path))
    assert len(table) == 6 and (table["device"] == "GPU X").all()
    assert table.set_index(["members", "k"])["graph_speedup"].to_dict() == gain
    assert table.loc[table["members"] == 8, "graph_ratio"].tolist() == [48.0, 32.0, 20.0]
    sentence = gpu_report.graph_numbers(gpu_report.load_benchmarks(tmp_path))["graph_sentence"]
    assert "one model 4.0–5.0 times as fast as the eager loop for $k \\le 16$ and 2.5 times at $k = 64$" in sentence
    assert "with 8 seeds grouped, 2.0–3.0 times for $k \\le 16$ and 1.25 times at $k = 64$" in sentence and "GPU X" in sentence
    assert "most (5.0 times) with one model at $k = 16$ and least (1.25 times) with 8 seeds grouped at $k = 64$" in sentence
    assert "another card" not in sentence  # the cited run is this one
    other = pd.DataFrame([dict(rows[3], date="2030-01-02", device="GPU Y", cuda_graph=True)])
    other.to_csv(tmp_path / "newer.csv", index=False)  # now the cited run, on another card
    sentence = gpu_report.graph_numbers(gpu_report.load_benchmarks(tmp_path))["graph_sentence"]
    assert "This run was on another card (GPU X) than the table above (GPU Y)" in sentence
    assert gpu_report.graph_comparison(gpu_report.load_benchmarks(tmp_path / "none")).empty


def test_gpu_width_batching_default_is_what_the_gpu_runs_support():
    """``GPU_WIDTH_BATCH``: every committed GPU set up to it trained faster padded, eager and graphed."""
    from ddlib.width_batching import GPU_WIDTH_BATCH

    runs = gpu_report.load_benchmarks(gpu_report.WIDTH_BATCHING_RESULTS)
    gpu = runs[~runs["device"].str.startswith("cpu")]
    assert gpu["cuda_graph"].astype("boolean").fillna(False).nunique() == 2  # both loops measured
    widest = gpu["widths"].map(lambda w: max(int(v) for v in w.split(",")))
    assert widest.max() == GPU_WIDTH_BATCH and (gpu["ratio"] > 1).all()
    note = gpu_report.width_batching_numbers(runs)["wb_gpu_note"]
    assert set(gpu_report.show_width_batching_gpu(runs).index.get_level_values("steps")) == {"CUDA graph", "eager"}
    assert note.endswith("every set measured on a GPU pays, eager or graphed (the eager and graphed runs were on "
                         "different cards, so they do not isolate what the graph changes).")


def test_chapter_times_compare_the_newest_gpu_and_cpu_runs(tmp_path):
    row = dict(date="2030-01-01", torch="2", chapter="double-descent", preset="default", runs_computed=24)
    pd.DataFrame([dict(row, device="GPU X", seconds=5.0)]).to_csv(tmp_path / "gpu.csv", index=False)
    pd.DataFrame([dict(row, device="cpu (2 threads)", seconds=100.0)]).to_csv(tmp_path / "cpu.csv", index=False)
    summary = "  widest_test_error={w}, peak_over_narrower={p}, seed_spread=0.02"
    (tmp_path / "gpu.log").write_text("double_descent default: 5.0 s, runs: 24 computed, 0 reused\n"
                                      + summary.format(w=0.50, p=-0.004) + "\n")
    (tmp_path / "cpu.log").write_text("double_descent default: 100.0 s, runs: 24 computed, 0 reused\n"
                                      + summary.format(w=0.53, p=0.004) + "\n")
    text = gpu_report.chapter_times_sentence(gpu_report.load_benchmarks(tmp_path), tmp_path)
    assert "took 5.0 s on GPU X" in text and "may well dominate" not in text and "100.0 s on a CPU (2 threads), 20 times as fast" in text
    assert ("differ by at most 3.0 points (double-descent chapter, the widest width's test error: 50.0% on the GPU, "
            "53.0% on the CPU)") in text
    assert "torch 2" not in text  # the same version on both: nothing to say
    assert "the benchmark's own runs (`gpu.log`, `cpu.log`), not the book build's" in text
    assert "-0.4 points on the GPU and +0.4 on the CPU" in text
    assert "on neither device does a peak stand out from seed noise in these runs" in text  # 0.4 against 2 points
    # timed when the default sweep had 24 runs (3 seeds); it now has 8 widths x 5 seeds
    assert "(24 runs, as the preset was when timed; it now has 40) took 5.0 s" in text
    assert gpu_report._preset_now("double-descent", "default", 40) == ""
    assert gpu_report._preset_now("distillation", "smoke", 13) == ""  # only the sweep's count is known beforehand
    (tmp_path / "cpu.log").write_text("double_descent default: 100.0 s, runs: 24 computed, 0 reused\n"
                                      + summary.format(w=0.53, p=0.05) + "\n")
    text = gpu_report.chapter_times_sentence(gpu_report.load_benchmarks(tmp_path), tmp_path)
    assert "only on the CPU does a peak stand out from seed noise" in text
    assert gpu_report.chapter_times_sentence(gpu_report.load_benchmarks(tmp_path / "none")).startswith("The chapters'")
    pd.DataFrame([dict(row, device="GPU X", seconds=5.0, runs_computed=40)]).to_csv(tmp_path / "gpu.csv", index=False)
    text = gpu_report.chapter_times_sentence(gpu_report.load_benchmarks(tmp_path), tmp_path)
    assert ("took 5.0 s for 40 runs on GPU X and 100.0 s for 24 runs on a CPU (2 threads): not the same sweep (the "
            "preset now has 40 runs), so not set against each other.") in text
    assert "times as fast" not in text and "differ by at most" not in text and "seed noise" not in text
    pd.DataFrame([dict(row, device="GPU X", seconds=5.0)]).to_csv(tmp_path / "gpu.csv", index=False)
    sweep = dict(date="2030-01-01", device="cpu (2 threads)", sweep="double-descent default", runs=24, width_batch=16)
    same = (pd.DataFrame([dict(sweep, batched_s=90.0, file="w.csv")]),
            pd.DataFrame([dict(sweep, one_at_a_time_s=95.0, file="c.csv")]))
    text = gpu_report.chapter_times_sentence(gpu_report.load_benchmarks(tmp_path), tmp_path, same_sweep=same)
    assert text.endswith("timed the same sweep with the same defaults at 90 s and 95 s, against 100 s here: separate "
                         "processes at different times on a shared machine, so set times against each other only "
                         "within one run.")
    elsewhere = tuple(frame.assign(device="cpu (8 threads)") for frame in same)
    assert "batching benchmarks" not in gpu_report.chapter_times_sentence(gpu_report.load_benchmarks(tmp_path),
                                                                          tmp_path, same_sweep=elsewhere)


def test_width_lists_compress_runs_and_stage_sizes_come_from_the_model():
    assert gpu_report._spaced("1,2,3,4,5,6,7,8") == "1–8"
    assert gpu_report._spaced("1,2,4,5,6,9") == "1, 2, 4–6, 9" and gpu_report._spaced("8,8") == "8, 8"
    assert gpu_report._layers_words("resnet18", 64) == "32 × 32 down to 4 × 4 pixels, 64 to 512 channels at $k = 64$"
    assert gpu_report._layers_words("cnn5", 2).startswith("32 × 32 down to") and "2 to 16 channels" in gpu_report._layers_words("cnn5", 2)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    gpu_report._layers_words("resnet18", 8)  # builds a model: must not move the caller's random state
    assert torch.equal(torch.rand(3), expected)


def test_the_compiled_table_sets_each_compiled_row_beside_the_uncompiled_one():
    runs = gpu_report.load_benchmarks()
    fused = gpu_report.load_benchmarks(gpu_report.RESULTS / "fused-adam")
    table = gpu_report.compiled_table(runs, fused)
    current = gpu_report.current_runs(runs)
    plain = current[(current["k"] == 64) & (current["members"] == 1)].iloc[0]
    # each compiled row stands beside the uncompiled row of its own card, date and switch, not the cited card's
    h100 = runs[(runs["file"] == "gpu-resnet18-graph-h100.csv") & (runs["k"] == 64) & (runs["members"] == 1)].iloc[0]
    row = table.loc[("NVIDIA H100 80GB HBM3, 2026-11-26", "default, graph, foreach Adam", 1, 64)]
    assert row["images/s"] == 42161 and row["MFU %"] == 14.2
    assert row["uncompiled, images/s"] == round(h100["ours_images_per_s"])
    assert row["compiling alone"] == round(42161 / h100["ours_images_per_s"], 2)  # foreach: against foreach
    h200 = table.loc[("NVIDIA H200, 2026-12-04", "max-autotune-no-cudagraphs, graph, fused Adam", 1, 64)]
    f64 = fused[(fused["k"] == 64) & (fused["members"] == 1)].iloc[0]
    assert h200["uncompiled, images/s"] == round(f64["ours_images_per_s"]) != round(plain["ours_images_per_s"])
    assert h200["compiling alone"] == round(53_650 / f64["ours_images_per_s"], 2)  # fused: against fused
    assert pd.isna(gpu_report.compiled_table(runs)["compiling alone"]).sum() > pd.isna(table["compiling alone"]).sum()
    note = gpu_report.key_numbers(runs, fused)["gpu_compile_note"]
    assert "(mode default; CUDA graph, foreach Adam; NVIDIA H100 80GB HBM3, 2026-11-26): compiling alone" in note
    assert (f"compiling alone trained {42161 / h100['ours_images_per_s']:.2f}–") in note
    assert "MFU at $k = 64$: 18.1% with one model, 20.1% with 8 seeds grouped, 23.1% with 16 seeds grouped" in note
    compiled = gpu_report.compiled_runs(runs)
    both = pd.concat([runs, compiled.assign(fused_optimizer=True, ours_images_per_s=50_000.0)], ignore_index=True)
    twice = gpu_report.compiled_table(both)
    assert 50_000 in twice["images/s"].tolist() and 42161 in twice["images/s"].tolist()
    assert gpu_report.compiled_table(runs[gpu_report._compile_mode(runs) == "off"]).empty


def test_the_mnist1d_benchmark_sentence_reads_its_log(tmp_path):
    log = tmp_path / "bench.log"
    log.write_text("device cpu, torch threads 1, model mlp, 1 seeds x 50 steps, batch 64\n"
                   " width  baseline s   ours s  baseline steps/s  ours steps/s  ratio\n"
                   "     4        2.00     1.00               25            50   2.00\n"
                   "    16        3.00     1.00               17            50   3.00\n")
    assert ("trains 1 seed of mlp as one ensemble against 1 plain model fed one after another by a DataLoader (50 "
            "steps each, batch 64); on a CPU (1 thread) ours ran 2.00–3.00 times the baseline's seed-steps per "
            "second at widths 4, 16") in gpu_report.mnist1d_benchmark_sentence(log)
    assert "2.26–2.68 times" in gpu_report.mnist1d_benchmark_sentence()  # the committed run
    assert "no stored run" in gpu_report.mnist1d_benchmark_sentence(tmp_path / "none.log")


def test_readable_labels_rows_and_columns_without_changing_values():
    shown = gpu_report.show(gpu_report.current_runs(gpu_report.load_benchmarks()))
    table = gpu_report.readable(shown)
    assert table.index.names == ["seeds grouped", "k"] and "ours / DataLoader" in table
    assert table["ours / DataLoader"].tolist() == shown.sort_values(["members", "k"])["ratio"].tolist()
    assert gpu_report.readable(pd.DataFrame()).empty
    widths = gpu_report.readable(gpu_report.show_width_batching(gpu_report.load_benchmarks(gpu_report.WIDTH_BATCHING_RESULTS)))
    assert "ours / DataLoader" not in widths and "speed-up, padded (one at a time / padded)" in widths


def test_committed_cuda_graph_check_supports_the_appendix():
    """What the appendix says of benchmarks/cuda_graph_check.py's GPU run: no fallback, graphed runs
    bit-identical to each other and across a resume, graphed and eager runs not bit-identical."""
    logs = sorted(gpu_report.RESULTS.glob("cuda-graph-check-*.log"))
    assert logs
    text = logs[-1].read_text()
    lines = [line for line in text.splitlines() if line.startswith("[1]")]
    assert len(lines) == 3 and all("graph/graph 0.00e+00" in line and "capture fallbacks 0" in line for line in lines)
    assert all("graph/eager 0.00e+00" not in line for line in lines)
    assert "bit-identical to uninterrupted True" in text and "device cuda" in text


def test_method_batching_sentence_reads_the_newest_file(tmp_path):
    assert gpu_report.method_batching_sentence(gpu_report.load_benchmarks(tmp_path)).startswith("Method batching has not")
    row = dict(date="2030-01-01", device="cpu (2 threads)", torch="2", sweep="distillation default students", runs=40,
               separate_s=200.0, batched_s=100.0, ratio=2.0)
    pd.DataFrame([row]).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame([dict(row, date="2029-01-01", ratio=9.0)]).to_csv(tmp_path / "b.csv", index=False)
    text = gpu_report.method_batching_sentence(gpu_report.load_benchmarks(tmp_path))
    assert ("distillation chapter's students at its `default` preset (40 runs, as the preset was when timed; it "
            "now has 90;") in text  # 18 students per seed, five seeds
    assert "as the preset was" not in gpu_report.method_batching_sentence(gpu_report.load_benchmarks(tmp_path).assign(
        runs=90))
    assert "grouping them by their inputs took 100.0 s against 200.0 s grouping them by their targets, 2.00 times" in text
    pd.DataFrame([dict(row, date="2031-01-01", groups_batched=2, groups_separate=32)]).to_csv(tmp_path / "c.csv",
                                                                                             index=False)
    text = gpu_report.method_batching_sentence(gpu_report.load_benchmarks(tmp_path))
    assert "by their inputs (2 ensembles) took 100.0 s against 200.0 s grouping them by their targets (32 ensembles)" in text


#: The throughput run's numbers the groups-at-once projection uses (hours of widths <= 16 and above, and its card).
HOURS = {"gpu_sweep_hours_small": 5.0, "gpu_sweep_hours_wide": 60.0, "gpu_device": "NVIDIA H100 80GB HBM3",
         "gpu_sweep_k_max": 64}


def _concurrent_row(device, widths, ratio, date="2026-11-27", mfu=None):
    return {"date": date, "device": device, "model": "resnet18", "seeds": 1, "batch_size": 128,
            "cuda_graph": device != "cpu (2 threads)", "widths": widths, "groups": len(widths.split(",")),
            "alone_s": 2.0 * ratio, "together_s": 2.0, "ratio": ratio, "images_per_s_together": 1000.0,
            "mfu_together": mfu, "file": f"{device[:3]}.csv"}


def test_groups_at_once_project_the_sweep_from_the_widest_sets_only():
    """The projection divides the wide widths' hours by the smallest ratio among sets whose widths are all
    above 16 (never by a small-width set's ratio), and says which side of the target it lands on."""
    rows = [_concurrent_row("NVIDIA H100 80GB HBM3", "8,16", 9.0, mfu=0.01),
            _concurrent_row("NVIDIA H100 80GB HBM3", "17,18", 3.0, mfu=0.10),
            _concurrent_row("NVIDIA H100 80GB HBM3", "61,64", 2.0, mfu=0.25)]
    text = gpu_report.concurrent_groups_sentence(pd.DataFrame(rows), HOURS)
    assert "widths 61, 64: 2.00 times as fast at once, 25.0% MFU" in text
    assert "(2.00) would bring the one-seed sweep projected above to about 35 GPU-hours" in text
    assert "still over the 24-hour target" in text and "measured only up to" not in text
    narrow_only = gpu_report.concurrent_groups_sentence(pd.DataFrame(rows[:2]), HOURS)  # no set reaches k = 64
    assert "(3.00) would bring" in narrow_only and "measured only up to width 18" in narrow_only
    rows[1]["ratio"], rows[2]["ratio"] = 6.0, 4.0  # the smallest wide-set ratio counts
    assert "about 20 GPU-hours" in gpu_report.concurrent_groups_sentence(pd.DataFrame(rows), HOURS)
    assert "GPU-hours" not in gpu_report.concurrent_groups_sentence(pd.DataFrame(rows[:1]), HOURS)
    elsewhere = gpu_report.concurrent_groups_sentence(pd.DataFrame(rows), dict(HOURS, gpu_device="NVIDIA H200"))
    assert "measured on NVIDIA H200, not on this card" in elsewhere and "GPU-hours" not in elsewhere
    rows[1]["ratio"], rows[2]["ratio"] = 0.9, 1.5
    assert "slower for some sets (smallest ratio 0.90, widths 17, 18); as every width above 16 is charged at" in \
        gpu_report.concurrent_groups_sentence(pd.DataFrame(rows), HOURS)


def test_groups_at_once_say_how_the_steps_actually_ran():
    row = _concurrent_row("NVIDIA H100 80GB HBM3", "17,18", 2.0)
    graphed = dict(row, step_loop_alone="cuda graph", step_loop_together="cuda graph")
    assert "the whole step as a CUDA graph)" in gpu_report.concurrent_groups_sentence(pd.DataFrame([graphed]), HOURS)
    fell_back = dict(graphed, step_loop_together="cuda graph; eager, capture failed")
    text = gpu_report.concurrent_groups_sentence(pd.DataFrame([fell_back]), HOURS)
    assert "not every step as a CUDA graph: cuda graph; eager, capture failed)" in text


def test_groups_at_once_without_a_gpu_run_say_so_and_show_the_cpu_run():
    runs = pd.DataFrame([_concurrent_row("cpu (2 threads)", "4,8", 1.2)])
    text = gpu_report.concurrent_groups_sentence(runs, {})
    assert text.startswith("On a CPU (2 threads) on 2026-11-27 (resnet18") and "1.20 times as fast at once" in text
    assert "No GPU run of `benchmarks/concurrent_groups.py` is committed yet" in text
    assert gpu_report.show_concurrent_groups(runs)["at once, s"].tolist() == [2.0]
    eager = runs.assign(step_loop_alone="eager", step_loop_together="eager")
    assert "(resnet18, 1 seed per group, batch 128, eager steps)" in gpu_report.concurrent_groups_sentence(eager, {})
    committed = gpu_report.load_benchmarks(gpu_report.CONCURRENT_RESULTS)
    assert len(committed) and "times as fast at once" in gpu_report.concurrent_groups_sentence(committed, {})


def test_same_setting_sentence_needs_the_same_preset_device_and_limit():
    wb = pd.DataFrame([{"date": "2026-11-26", "device": "cpu (2 threads)", "sweep": "double-descent default",
                        "runs": 24, "width_batch": 16, "batched_s": 100.0, "file": "a.csv"}])
    cg = pd.DataFrame([{"date": "2026-11-26", "device": "cpu (2 threads)", "sweep": "double-descent default",
                        "runs": 24, "width_batch": 16, "one_at_a_time_s": 110.0, "file": "b.csv"}])
    assert "took 100.0 s in the width-batching run and 110.0 s in this one, 10.0% apart" in gpu_report.same_setting_sentence(wb, cg)
    other = gpu_report.same_setting_sentence(wb.assign(runs=40, width_batch=4, date="2026-12-04"), cg)
    assert other == ""  # different settings: nothing to compare
    for changed in (dict(width_batch=0), dict(sweep="double-descent smoke"), dict(runs=40), dict(device="cpu (8 threads)")):
        assert gpu_report.same_setting_sentence(wb, cg.assign(**changed)) == ""
    assert gpu_report.same_setting_sentence(wb, cg.drop(columns="width_batch")) == ""  # written before the column


def _throughput_rows(device="NVIDIA H100 80GB HBM3", graph=True):
    """A throughput run's rows: one model at k = 16 (1000 images/s) and 64 (500), and a grouped row to ignore."""
    return pd.DataFrame([{"device": device, "model": "resnet18", "members": m, "k": k, "cuda_graph": graph,
                          "ours_images_per_s": v} for m, k, v in ((1, 16, 1000.0), (1, 64, 500.0), (8, 64, 4000.0))])


def test_groups_at_once_are_also_set_against_the_throughput_runs_one_model_loop():
    """The projection rests on the throughput run's loop, so a set's images/s at once is compared with what that
    loop trains at the same widths (equal images per width: one over the mean seconds per image), and that ratio,
    not the file's own, decides the projection."""
    throughput = _throughput_rows()
    assert gpu_report.one_model_images_per_s("16,64", throughput) == pytest.approx(2 / (1 / 1000 + 1 / 500))
    between = gpu_report.one_model_images_per_s("32", throughput)  # log-log halfway between 1000 and 500
    assert between == pytest.approx(1000 / 2 ** 0.5)
    rows = [dict(_concurrent_row("NVIDIA H100 80GB HBM3", "17,18", 3.0), images_per_s_together=3000.0),
            dict(_concurrent_row("NVIDIA H100 80GB HBM3", "64,64", 2.0), images_per_s_together=450.0)]
    runs = pd.DataFrame(rows)
    against = gpu_report.against_one_model(runs, throughput)
    assert against.iloc[1] == pytest.approx(0.9)  # 450 at once against 500 for one model: slower
    text = gpu_report.concurrent_groups_sentence(runs, HOURS, throughput)
    assert "widths 64, 64: 2.00 times as fast at once (and 0.90 times the throughput run's one-model loop)" in text
    assert "slower for some sets against the throughput run's one-model loop (smallest ratio 0.90, widths 64, 64)" in text
    rows[1]["images_per_s_together"] = 1000.0  # twice the loop at k = 64: the projection uses 2.0 from the loop
    text = gpu_report.concurrent_groups_sentence(pd.DataFrame(rows), HOURS, throughput)
    assert "ratios against the throughput run's one-model loop (2.00) would bring" in text
    assert "about 35 GPU-hours" in text
    table = gpu_report.show_concurrent_groups(pd.DataFrame(rows), throughput)
    assert table["at once / one-model loop"].tolist() == [
        round(3000 / gpu_report.one_model_images_per_s("17,18", throughput), 2), 2.0]
    for other in (_throughput_rows(device="NVIDIA H200"), _throughput_rows(graph=False)):  # not comparable
        assert gpu_report.against_one_model(pd.DataFrame(rows), other) is None
        assert "throughput run's one-model loop" not in gpu_report.concurrent_groups_sentence(
            pd.DataFrame(rows), HOURS, other)


def test_groups_at_once_say_how_their_own_one_after_another_runs_compare_with_the_loop():
    """alone images/s = images/s at once x at-once seconds / alone seconds; alone / loop = against / own ratio."""
    throughput = _throughput_rows()
    row = dict(_concurrent_row("NVIDIA H100 80GB HBM3", "64,64", 2.0), images_per_s_together=600.0, n_train=1000,
               timed_steps=100)  # alone: 600 x 2 s / 4 s = 300 images/s, 0.60 times the loop's 500
    text = gpu_report.concurrent_groups_sentence(pd.DataFrame([row]), HOURS, throughput)
    assert "(each 100 timed steps on 1,000 images) trained 300–300 images/s, 0.60–0.60 times what" in text
    assert "(and 1.20 times the throughput run's one-model loop)" in text and "about 55 GPU-hours" in text
    several = pd.DataFrame([dict(row, seeds=2)])
    assert gpu_report.against_one_model(several, throughput) is None  # the loop trains one seed
    twice = pd.concat([throughput, throughput.assign(ours_images_per_s=1.0)])  # two runs' rows at each width
    assert gpu_report.against_one_model(pd.DataFrame([row]), twice) is None
    other_batch = throughput.assign(batch_size=64)
    assert gpu_report.against_one_model(pd.DataFrame([dict(row, batch_size=128)]), other_batch) is None
    with pytest.raises(ValueError, match="no one-model row"):
        gpu_report.one_model_images_per_s("64", throughput[throughput["members"] > 1])


def test_the_compile_note_projects_the_sweep_from_one_compiled_setting():
    """The book's path: key_numbers with the fused-Adam runs. One compiled setting measured for one model at two
    widths or more projects the sweep from those rows alone."""
    runs = gpu_report.load_benchmarks()
    fused = gpu_report.load_benchmarks(gpu_report.RESULTS / "fused-adam")
    note = gpu_report.key_numbers(runs, fused)["gpu_compile_note"]
    compiled = gpu_report.compiled_runs(runs)
    one = compiled[(compiled["device"] == "NVIDIA H200") & (compiled["members"] == 1)]
    hours = gpu_report.projected_sweep_hours(one.iloc[0], dict(zip(one["k"].astype(int), one["ours_images_per_s"])))
    assert (f"Projected from these one-model rows alone ($k = 1, 4, 16, 32, 64$), the "
            f"one-seed sweep ($k = 1$ to 64, 4000 epochs) would take about {hours:.0f} GPU-hours") in note
    wide = one[one["k"] >= 16]  # no row below 16: those widths are charged at k = 16's speed
    flat = gpu_report.projected_sweep_hours(wide.iloc[0], dict(zip(wide["k"].astype(int), wide["ours_images_per_s"])))
    assert flat > hours  # k = 1 and 4 ran faster than k = 16
    assert (f"($k = 16, 32, 64$; widths below 16 at $k = 16$'s speed), the one-seed sweep ($k = 1$ to 64, 4000 epochs) would "
            f"take about {flat:.0f} GPU-hours") in gpu_report._compiled_projection(wide)
    assert note.count("Projected from") == 1  # the H100's compiled run has one width only


def test_groups_at_once_name_what_rules_a_cause_out_and_the_suspected_one_when_alone_runs_trail_the_loop():
    """Where the file's own one-after-another runs trail the interpolated loop by more than a tenth, the sentence
    names an earlier comparable file of the same card timed in another setting (with its own range) and, for widths
    that are not multiples of 8, the channel-alignment cause (pointing to the section that measures it); within a tenth either
    way, or faster than the loop, it names no cause."""
    throughput = _throughput_rows()
    row = dict(_concurrent_row("NVIDIA H100 80GB HBM3", "61,64", 2.0), images_per_s_together=600.0, n_train=50000,
               timed_steps=200, file="b.csv")  # alone: 300 images/s, 0.59 times the loop's 506 at 61 and 64
    earlier = dict(row, n_train=1000, timed_steps=100, images_per_s_together=700.0, file="a.csv")
    runs = pd.DataFrame([earlier, row])
    text = gpu_report.concurrent_groups_sentence(runs, HOURS, throughput)
    assert "(each 200 timed steps on 50,000 images) trained 300–300 images/s" in text  # the newest file's own
    assert "0.59–0.59 times what the throughput run's loop trains" in text  # 300 / one_model_images_per_s (506)
    assert "between the widths that run measured ($k = 16, 64$), so the speed-up column (at once against this file's own runs)" in text
    assert "An earlier run on the same card (a.csv: 100 timed steps on 1,000 images) gave 0.69–0.69" in text  # 350 / 506
    assert "so changing the number of steps and images did not change it" in text
    assert "A possible cause: 1 of these 2 widths is not a multiple of 8" in text
    assert "measured widths from 16 up (16, 64) are multiples of 8" in text
    fewer_steps = pd.DataFrame([dict(earlier, n_train=50000), row])  # only the steps differ
    assert "changing the number of steps did not change it" in gpu_report.concurrent_groups_sentence(
        fewer_steps, HOURS, throughput)
    for same_setting in (dict(earlier, n_train=50000, timed_steps=200), dict(earlier, model="cnn5"),
                         dict(earlier, batch_size=64), dict(earlier, cuda_graph=False)):  # not comparable
        text = gpu_report.concurrent_groups_sentence(pd.DataFrame([same_setting, row]), HOURS, throughput)
        assert "A possible cause" in text and "An earlier run" not in text
    text = gpu_report.concurrent_groups_sentence(pd.DataFrame([dict(row, widths="64,64")]), HOURS, throughput)
    assert "so the speed-up column (at once against this file's own runs)" in text and "A possible cause" not in text  # aligned widths: no suspect
    for at_once, cause in ((1000.0, False), (900.0, True), (1120.0, False), (1200.0, False)):
        # alone = at_once / 2 against the loop's 506: 0.99 (close), 0.89 (trails), 1.11 and 1.19 (faster)
        text = gpu_report.concurrent_groups_sentence(pd.DataFrame([dict(row, images_per_s_together=at_once)]), HOURS,
                                                     throughput)
        assert "times what the throughput run's loop trains" in text
        assert ("A possible cause" in text) == cause
        assert ("so the speed-up column (at once against this file's own runs)" in text) == (at_once != 1000.0)


def test_best_mfu_sentence_takes_the_best_row_of_any_setting_and_its_siblings_only():
    rows = [{"device": "NVIDIA H200", "date": "2031-01-01", "k": k, "members": m, "ours_mfu": mfu, "compile_mode": mode,
             "fused_optimizer": fused, "cuda_graph": True, "file": f"{mode}-{m}-{mfu}.csv"}
            for k, m, mfu, mode, fused in ((64, 1, 0.18, "max-autotune-no-cudagraphs", True),
                                           (64, 16, 0.23, "max-autotune-no-cudagraphs", True),
                                           (64, 16, 0.21, "max-autotune-no-cudagraphs", True),  # a later, slower file
                                           (64, 8, 0.20, "max-autotune-no-cudagraphs", True),
                                           (32, 16, 0.50, "max-autotune-no-cudagraphs", True),  # not k = 64
                                           (64, 4, 0.15, "off", False))]  # another setting
    text = gpu_report.best_mfu_sentence(pd.DataFrame(rows))
    assert text == ("The best utilisation measured at $k = 64$ in any setting is 23.0% (16 seeds grouped, `torch.compile` "
                    "mode max-autotune-no-cudagraphs, Adam's fused form, the whole step as a CUDA graph; NVIDIA H200, "
                    "2031-01-01); in that setting one model gave 18.0%, 8 seeds grouped gave 20.0%, 16 seeds grouped "
                    "gave 23.0%.")
    assert gpu_report.best_mfu_sentence(pd.DataFrame()) == ""
    assert "foreach form" in gpu_report.best_mfu_sentence(pd.DataFrame([dict(rows[5], ours_mfu=0.3)]))
    committed = gpu_report.key_numbers(gpu_report.load_benchmarks())["gpu_mfu_best_sentence"]
    assert committed.startswith("The best utilisation measured at $k = 64$ in any setting is 23.1% (16 seeds grouped")


def test_the_defaults_sweep_joins_the_padded_small_widths_and_the_fused_wide_ones_of_one_card():
    fused = gpu_report.load_benchmarks(gpu_report.RESULTS / "fused-adam")
    widths = gpu_report.load_benchmarks(gpu_report.WIDTH_BATCHING_RESULTS)
    text = gpu_report.defaults_sweep(fused, widths)[0]
    one = fused[fused["members"] == 1]
    padded = widths[(widths["device"] == "NVIDIA H200") & (widths["date"] == "2026-12-04") & (widths["members"] == 16)]
    step = float(padded["padded_s"].iloc[0]) / 100  # 100 timed steps train widths 1..16 together
    small = 4000 * 50_000 / 128 * step / 3600  # one seed: 4000 epochs of 50,000 images, batch 128
    wide = gpu_report.projected_sweep_hours(one.iloc[0], dict(zip(one["k"].astype(int), one["ours_images_per_s"])),
                                            range(17, 65))
    assert f"would take about {small:.0f} GPU-hours, and widths 17 to 64" in text
    assert f"about {wide:.0f}: about {small + wide:.0f} GPU-hours in all, still over the 24-hour target." in text
    assert f"({1e3 * step:.1f} ms a step for all 16;" in text
    assert gpu_report.defaults_sweep(fused.assign(device="GPU X"), widths)[0] == ""  # two cards: not joined
    assert gpu_report.defaults_sweep(None, widths)[0] == ""
    assert gpu_report.defaults_sweep(fused, widths[widths["members"] < 16])[0] == ""  # no 1..16 set
    quoted = gpu_report.defaults_sweep_numbers(fused, widths, {"gpu_sweep_hours": 70.2})
    assert quoted["defaults_sweep_hours"] == f"{small + wide:.0f}" and quoted["defaults_sweep_sentence"] == text
    fallback = gpu_report.defaults_sweep_numbers(None, widths, {"gpu_sweep_hours": 70.2})
    assert fallback == {"defaults_sweep_sentence": "", "defaults_sweep_hours": "70 (each width alone)"}


def test_the_data_path_note_gives_the_eager_loops_ratio():
    runs = gpu_report.load_benchmarks()
    table = gpu_report.graph_comparison(runs)
    one = table[(table["members"] == 1) & (table["k"] <= 16)]["eager_ratio"]
    note = gpu_report.data_path_note(runs)
    assert f"trained {one.min():.2f}–{one.max():.2f} times the baseline for $k \\le 16$" in note
    assert gpu_report.data_path_note(runs[gpu_report._cuda_graph(runs)]) == ""  # no eager run beside a graphed one


def test_the_wide_loop_caveat_puts_the_slower_one_after_another_rates_into_hours():
    runs = gpu_report.load_benchmarks()
    current = gpu_report.current_runs(runs)
    numbers = gpu_report.key_numbers(runs)
    concurrent = gpu_report.load_benchmarks(gpu_report.CONCURRENT_RESULTS)
    gpu = gpu_report.newest_file(concurrent, cpu=False)
    wide = gpu[gpu["widths"].map(lambda w: min(int(v) for v in w.split(",")) > 16)]
    _, vs_loop = gpu_report._alone_range(wide, gpu_report._comparable_one_model_rows(wide, current))
    hours = numbers["gpu_sweep_hours_wide"]
    text = gpu_report.wide_loop_caveat(concurrent, current, numbers, "below")
    assert f"trained {vs_loop.min():.2f}–{vs_loop.max():.2f} times as fast as the throughput run's loop" in text
    assert (f"about {hours / vs_loop.max():.0f}–{hours / vs_loop.min():.0f} GPU-hours instead of the {hours:.0f} "
            "that run projects for them") in text
    assert f"hours for widths above 16 may be low by a factor of {1 / vs_loop.max():.2f}–{1 / vs_loop.min():.2f}" in text
    assert "widths 17–20, 29–32, 57–64, below" in text
    assert "57–64, above" in gpu_report.wide_loop_caveat(concurrent, current, numbers, "above")
    assert gpu_report.wide_loop_caveat(concurrent, current, dict(numbers, gpu_device="GPU X"), "below") == ""  # another card
    fast = concurrent.assign(alone_s=concurrent["alone_s"] / 2)  # one after another as fast as the loop, or faster
    assert gpu_report.wide_loop_caveat(fast, current, numbers, "below") == ""


def test_the_projections_table_gathers_the_projections_the_prose_makes():
    from ddlib import roofline, sweep_projections
    from ddlib.roofline_report import FUSED_ADAM_RESULTS

    runs = gpu_report.load_benchmarks()
    current = gpu_report.current_runs(runs)
    fused = gpu_report.load_benchmarks(FUSED_ADAM_RESULTS)
    widths = gpu_report.load_benchmarks(gpu_report.WIDTH_BATCHING_RESULTS)
    numbers = gpu_report.key_numbers(runs, fused)
    table = sweep_projections.projections_table(current, numbers, runs, fused, widths)
    hours = table["GPU-hours"]
    assert hours["measured: each width alone, foreach Adam (the throughput run)"] == round(numbers["gpu_sweep_hours"])
    defaults = gpu_report.defaults_sweep_numbers(fused, widths, numbers)["defaults_sweep_hours"]
    assert str(hours["measured: the library's defaults (widths up to 16 padded, fused Adam)"]) == defaults
    assert hours["measured: 8 seeds grouped, per seed"] == round(numbers["gpu_sweep_hours_batched"])
    first = current.iloc[0]
    h100 = roofline.sweep_hours("resnet18", range(1, 65), gpu_report.sweep_images(first), roofline.H100_SXM)
    assert hours["counted: roofline, H100 SXM5 80GB (the targets' card)"] == round(h100)
    assert (table["under the target"] == "yes").tolist() == (hours < 24).tolist()
    assert len(table) == 8  # foreach, fused, defaults, one compiled setting, seeds, three counts
    assert sweep_projections.projections_table(current.iloc[0:0], {}, runs, fused, widths).empty


def test_the_card_note_sets_the_targets_card_beside_the_cited_one():
    runs = gpu_report.load_benchmarks()
    note = gpu_report.key_numbers(runs)["gpu_card_note"]
    assert note.startswith("The targets are set for an H100; the card above is NVIDIA H200.")
    h100 = runs[runs["device"].str.contains("H100") & (runs["k"] == 64) & (runs["members"] == 1)
                & gpu_report._cuda_graph(runs) & (gpu_report._compile_mode(runs) == "off")]
    assert f"trained {h100.sort_values(['date', 'file'])['ours_images_per_s'].iloc[-1]:,.0f} images/s against" in note
    assert gpu_report._card_note("NVIDIA H100 80GB HBM3", runs, gpu_report.current_runs(runs)) == ""


def _alignment_rows(speeds):
    """Rows of ``benchmarks/gpu_session.sh``'s aligned step (the projection's loop: one model, graphed, uncompiled,
    foreach Adam) on an H100 at the widths and images/s of ``speeds``."""
    base = dict(date="2031-01-01", device="NVIDIA H100 80GB HBM3", model="resnet18", members=1, cuda_graph=True,
                compile_mode="off", fused_optimizer=False, timed_steps=200, sweep_k_max=64, sweep_epochs=4000,
                sweep_train_size=50000, sweep_seeds=1, file="a.csv")
    return pd.DataFrame([{**base, "k": k, "ours_images_per_s": v} for k, v in speeds.items()])


def test_the_suspected_alignment_cause_says_whether_its_section_has_measured_it():
    """'The section on such widths is where that is measured' only where a GPU run of the aligned step sets some
    unaligned width against aligned ones; otherwise it says that section will measure it and no GPU run exists."""
    throughput = _throughput_rows()
    row = dict(_concurrent_row("NVIDIA H100 80GB HBM3", "61,64", 2.0), images_per_s_together=600.0, n_train=50000,
               timed_steps=200, file="b.csv")  # alone 0.59 times the loop, 61 not a multiple of 8: the cause is named
    runs = pd.DataFrame([row])
    measured = _alignment_rows({16: 60000.0, 17: 36000.0, 24: 54000.0, 64: 30000.0})
    endings = {"none": "is where it will be measured: no GPU run of it exists yet.",
               "unmeasured": "is where it is to be measured: its GPU run set no unaligned width against aligned ones.",
               "measured": "is where that is measured."}
    for alignment, status in ((pd.DataFrame(), "none"), (measured, "measured"),
                              (measured.assign(device="cpu (2 threads)"), "none"),  # a CPU run measures nothing
                              (_alignment_rows({16: 60000.0, 17: 36000.0}), "unmeasured"),  # one aligned width only
                              (_alignment_rows({16: 60000.0, 24: 54000.0}), "unmeasured")):  # no unaligned width
        assert gpu_report.alignment_status(alignment) == status
        text = gpu_report.concurrent_groups_sentence(runs, HOURS, throughput, alignment)
        assert "A possible cause: 1 of these 2 widths is not a multiple of 8" in text
        assert [s for s, ending in endings.items() if f"the section on such widths, above, {ending}" in text] == [status]
    from ddlib import alignment_report

    # the alignment section says the same of each run
    assert alignment_report.alignment_sentence(_alignment_rows({16: 60000.0, 24: 54000.0}), {}).endswith(
        "measured no width that is not a multiple of 8, so nothing is set against aligned widths.")
    assert "fewer than two widths that are multiples of 8" in alignment_report.alignment_sentence(
        _alignment_rows({16: 60000.0, 17: 36000.0}), {})
    committed = gpu_report.load_benchmarks(alignment_report.CHANNEL_ALIGNMENT_RESULTS)
    assert gpu_report.alignment_status() == gpu_report.alignment_status(committed)  # default: the committed runs
    said = alignment_report.alignment_sentence(committed, gpu_report.key_numbers(gpu_report.load_benchmarks()))
    assert (gpu_report.alignment_status(committed) == "none") is said.startswith("Not measured yet")  # sections agree


def test_the_wide_loop_caveat_is_limited_to_the_projections_it_covers():
    """The factor was measured against one loop (each width alone, foreach Adam): it is given for that loop's
    projection, the other measured (interpolated) projections are said to be open, and the roofline counts, which
    count every width, are left out; the appendix says which rows interpolate."""
    runs = gpu_report.load_benchmarks()
    current = gpu_report.current_runs(runs)
    numbers = gpu_report.key_numbers(runs)
    concurrent = gpu_report.load_benchmarks(gpu_report.CONCURRENT_RESULTS)
    for where in ("below", "above"):
        text = gpu_report.wide_loop_caveat(concurrent, current, numbers, where)
        assert "every projection's" not in text
        assert "the throughput run's loop (each width alone, Adam's foreach form)" in text
        assert "so that projection's hours for widths above 16 may be low by a factor of" in text
        assert "The factor was measured against that one loop only: any projection measured with another loop" in text
        assert f"while the roofline counts ({where}) count every width instead of interpolating" in text
    from conftest import REPO

    page = " ".join((REPO / "book" / "full-scale.md").read_text(encoding="utf-8").split())
    assert ("The measured ones interpolate between the widths measured; the counted ones count every width. "
            "{glue:md}`wide_loop_caveat_above:myst`") in page
    assert "concurrent_groups_sentence(concurrent_runs, numbers, current, alignment_runs)" in page


def test_the_graph_is_not_called_a_switch_that_leaves_results_alone():
    """Graphed and eager runs differ (capturable Adam's arithmetic, grown by training): the appendix says the graph
    changes results at the level of rounding, like the other speed switches, and that the store, whose hash leaves
    it out, may return an eager run for a graphed request."""
    from conftest import REPO

    page = " ".join((REPO / "book" / "full-scale.md").read_text(encoding="utf-8").split())
    assert "Like a change of device, the graph is therefore a speed switch" not in page
    assert ("So the graph changes a run's results, as the other speed switches do (the device, cuDNN's autotuning, "
            "padding widths together): not its recipe, but its arithmetic, at the level of floating-point rounding, "
            "which training grows to the differences above.") in page
    assert ("so the store may answer a request for a graphed run with a stored eager one, or the other way round; "
            "the run's record says which loop trained it (`step_loop`).") in page
