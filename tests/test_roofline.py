"""The roofline count of the training step (ddlib.roofline), its appendix report (ddlib.roofline_report) and the
GPU profile script that the report reads (benchmarks/kernel_profile.py)."""
import re
import subprocess
import sys

import pandas as pd
import pytest
import torch

from conftest import REPO, cited_names
from ddlib import gpu_report, roofline, roofline_report
from ddlib.roofline import H100_SXM, Hardware, OpCost
from ddlib.validation import ConfigError


def test_a_bf16_matrix_product_counts_its_flops_and_its_three_tensors_and_views_count_nothing():
    a = torch.ones(8, 16, dtype=torch.bfloat16)
    b = torch.ones(16, 4, dtype=torch.bfloat16)
    ops = roofline.record_ops(lambda: a.view(2, 64).view(8, 16) @ b.t().t())
    assert [op.name for op in ops] == ["aten.mm.default"]
    assert ops[0].flops == 2 * 8 * 16 * 4
    assert ops[0].bytes == 2 * (8 * 16 + 16 * 4 + 8 * 4)


def test_allocations_and_scalar_reads_are_not_operations():
    x = torch.ones(3)
    ops = roofline.record_ops(lambda: (torch.empty(5), x.sum().item()))
    assert [op.name for op in ops] == ["aten.sum.default"]


def test_the_step_time_sums_each_operations_own_roofline():
    hw = Hardware("toy", peak_tflops=1.0, memory_tb_s=1.0, l2_mb=0.0)  # 1e12 FLOP/s, 1e12 B/s
    compute_bound, memory_bound = OpCost("a", flops=4e9, bytes=1e9), OpCost("b", flops=1e9, bytes=3e9)
    assert compute_bound.seconds(hw) == pytest.approx(4e-3)
    assert memory_bound.seconds(hw) == pytest.approx(3e-3)
    # not max(total FLOPs, total bytes) = 5 ms: the two operations run one after the other
    assert roofline.step_seconds([compute_bound, memory_bound], hw) == pytest.approx(7e-3)
    assert roofline.step_seconds([compute_bound, memory_bound], hw, floor=5e-3) == pytest.approx(10e-3)


@pytest.mark.parametrize("model, k, batch", [("resnet18", 5, 128), ("cnn5", 5, 128), ("resnet18", 64, 4)])
def test_the_quadratic_fit_gives_a_direct_trace_at_another_width_exactly(model, k, batch):
    assert roofline.step_costs(model, k, batch) == roofline.trace_training_step(model, k, batch)


def test_the_trace_runs_adam_in_the_capturable_form_of_the_cuda_graph():
    names = [op.name for op in roofline.step_costs("cnn5", 2)]
    # bias corrections from step counts kept as tensors: the capturable form's, absent from the other
    assert "aten._foreach_pow.ScalarAndTensor" in names and "aten._foreach_reciprocal_.default" in names


def test_adams_fused_form_is_two_operations_with_less_traffic_and_the_rest_of_the_step_unchanged():
    foreach, fused = (roofline.step_costs("cnn5", 3, fused_adam=f) for f in (False, True))
    adam = [[op for op in costs if roofline.kind(op) == "Adam"] for costs in (foreach, fused)]
    # the step count's increment and the one fused kernel (a capturable step keeps its count on the device)
    assert [op.name for op in adam[1]] == ["aten._foreach_add_.Scalar", "aten._fused_adam_.default"]
    assert sum(op.bytes for op in adam[1]) < sum(op.bytes for op in adam[0]) / 2
    assert [op for op in foreach if roofline.kind(op) != "Adam"] == [op for op in fused if roofline.kind(op) != "Adam"]
    assert roofline.mfu_bound("cnn5", 3, fused_adam=True) > roofline.mfu_bound("cnn5", 3)


def test_the_trace_holds_one_forward_and_one_backward_pass_in_bf16():
    costs = roofline.step_costs("resnet18", 4)
    flops = sum(op.flops for op in costs)
    model = roofline.model_flops_per_step("resnet18", 4)
    # 3 x forward, less the stem's input gradient (the images need none)
    assert 0.97 * model < flops <= model
    # the stem convolution at k = 1: images (128, 3, 32, 32), weight (1, 3, 3, 3) and output (128, 1, 32, 32),
    # all bf16 as under CUDA autocast (float32 would double it)
    stem = next(op for op in roofline.step_costs("resnet18", 1) if op.name == "aten.convolution.default")
    assert stem.bytes == 2 * (128 * 3 * 32 * 32 + 3 * 3 * 3 + 128 * 32 * 32)


def test_the_mfu_bound_lies_above_the_measured_mfu_and_below_one():
    runs = gpu_report.current_runs(gpu_report.load_benchmarks())
    one = runs[(runs["members"] == 1) & (runs["k"] == 64)].iloc[0]
    bound = roofline.mfu_bound("resnet18", 64, roofline_report.card(one["device"]))
    assert one["ours_mfu"] < bound < 1


def test_the_sweep_adds_its_widths_and_the_floor_splits_a_step_evenly():
    one, two = (roofline.sweep_hours("cnn5", [k], 1e6) for k in (1, 2))
    assert roofline.sweep_hours("cnn5", [1, 2], 1e6) == pytest.approx(one + two)
    ops = len(roofline.step_costs("cnn5", 3))
    assert roofline.per_op_floor(1e-3, "cnn5", 3) == pytest.approx(1e-3 / ops)


@pytest.mark.parametrize("call, named", [
    (lambda: roofline.step_costs("resnet18", 0), "k"),
    (lambda: roofline.step_costs("vgg", 4), "model"),
    (lambda: roofline.trace_training_step("cnn5", 2, batch=0), "batch"),
    (lambda: roofline.step_seconds([], floor=-1.0), "floor"),
    (lambda: roofline.sweep_hours("cnn5", [1], 0), "images_per_width"),
])
def test_bad_parameters_fail_naming_them(call, named):
    with pytest.raises(ConfigError, match=named):
        call()


def test_cards_are_recognised_by_name_and_other_parts_are_not():
    assert roofline_report.card("NVIDIA H100 80GB HBM3") is H100_SXM
    assert roofline_report.card("NVIDIA H200").memory_tb_s == 4.8
    assert roofline_report.card("NVIDIA H100 PCIe") is None and roofline_report.card("NVIDIA H100 NVL") is None
    assert roofline_report.card("cpu (2 threads)") is None


def test_the_report_sets_the_roofline_against_the_measured_run():
    runs = gpu_report.load_benchmarks()
    current = gpu_report.current_runs(runs)
    table = roofline_report.roofline_table(current)
    measured = current[current["members"] == 1].sort_values("k")
    assert list(table.index) == list(measured["k"])
    assert (table["roofline ms"] < table["measured ms"]).all()
    assert (table["roofline MFU %"] > table["measured MFU %"]).all()
    # the latency model is calibrated at the smallest width, where it equals the measurement
    assert table["roofline + latency ms"].iloc[0] == pytest.approx(table["measured ms"].iloc[0], abs=1e-3)
    numbers = roofline_report.roofline_numbers(current, {"gpu_sweep_hours": 73.0, "gpu_sweep_hours_wide": 60.0})
    assert numbers["roof_sweep_hours"] < numbers["roof_sweep_hours_latency"]
    assert numbers["roof_ms"] == pytest.approx(numbers["roof_products_ms"] + numbers["roof_rest_ms"])
    assert "73" in numbers["roof_sweep_sentence"] and f"{numbers['roof_mfu']:.1%}" in numbers["roof_sentence"]
    # groups at once can at best bring the wide widths to their roofline
    assert numbers["roof_sweep_hours_wide"] < numbers["roof_sweep_hours"]
    assert f"at most about {60.0 / numbers['roof_sweep_hours_wide']:.1f} times" in numbers["roof_groups_sentence"]
    assert roofline_report.roofline_numbers(current)["roof_groups_sentence"] == ""
    assert "15 operations fewer" in numbers["roof_fused_sentence"]  # 17 of the capturable foreach form, 2 fused


def test_a_fused_adam_run_is_set_against_the_same_sessions_default_loop_and_never_cited_as_it():
    runs = gpu_report.load_benchmarks()
    current = gpu_report.current_runs(runs)
    one = current[current["members"] == 1]
    fused = one.assign(fused_optimizer=True, ours_images_per_s=one["ours_images_per_s"] * 1.25, file="f.csv")
    table = roofline_report.fused_adam_comparison(current, fused)
    assert list(table.index) == list(one["k"]) and (table["fused / foreach"] == 1.25).all()
    sentence = roofline_report.roofline_numbers(current, None, fused)["roof_fused_sentence"]
    assert "1.25 times the foreach loop's images per second" in sentence
    assert "so it is the library's default on CUDA" in sentence
    fused_h, foreach_h = map(float, re.search(r"about (\d+) GPU-hours with the fused form against (\d+)", sentence).groups())
    assert abs(fused_h - foreach_h / 1.25) <= 1  # every width 1.25 times as fast: the sweep takes 1 / 1.25 the time
    slower = fused.assign(ours_images_per_s=one["ours_images_per_s"] * 0.9)
    assert "should be revisited" in roofline_report.roofline_numbers(current, None, slower)["roof_fused_sentence"]
    # another day's (or card's) default loop is no comparison
    assert roofline_report.fused_adam_comparison(current, fused.assign(date="2099-01-01")).empty
    assert "No GPU run of it" in roofline_report.roofline_numbers(current)["roof_fused_sentence"]
    other_day = roofline_report.roofline_numbers(current, None, fused.assign(date="2099-01-01"))["roof_fused_sentence"]
    assert "was not measured next to the cited foreach loop" in other_day
    # a fused run copied among the throughput CSVs does not become the run the appendix cites
    mixed = pd.concat([runs, fused.assign(date="2099-01-01", baseline_workers=8)], ignore_index=True)
    assert list(gpu_report.current_runs(mixed).index) == list(current.index)


def test_the_report_says_so_when_no_card_of_known_peak_was_measured():
    cpu = gpu_report.current_runs(gpu_report.load_benchmarks(gpu_report.CPU_RESULTS))
    assert roofline_report.roofline_table(cpu).empty
    assert "not set against a measurement" in roofline_report.roofline_numbers(cpu)["roof_sentence"]
    assert roofline_report.roofline_table(pd.DataFrame()).empty
    # whatever run is current, the appendix finds every roofline name it cites
    cited = {name for name in cited_names("full-scale") if name.startswith("roof_")}
    assert cited and cited <= set(roofline_report.NO_CARD)
    assert cited <= set(roofline_report.roofline_numbers(gpu_report.current_runs(gpu_report.load_benchmarks())))


def test_every_operation_of_the_step_has_a_kind_and_the_kinds_add_up_to_the_step():
    costs = roofline.step_costs("resnet18", 8)
    by_kind = roofline.seconds_by_kind(costs)
    assert by_kind["convolutions and matrix products"] == pytest.approx(
        roofline.step_seconds([op for op in costs if op.flops > 0]))
    assert sum(by_kind.values()) == pytest.approx(roofline.step_seconds(costs))
    assert by_kind["other"] < 0.05 * sum(by_kind.values())  # the named kinds are nearly all of it
    names = {op.name for op in costs if roofline.kind(op) == "Adam"}
    assert names and all("_foreach_" in n for n in names)


def test_the_kernel_profile_script_writes_what_the_appendix_reads(tmp_path):
    csv = tmp_path / "profile.csv"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "kernel_profile.py"), "--k", "1", "2", "--steps", "2",
                    "--warmup", "2", "--batch-size", "8", "--threads", "2", "--csv", str(csv)],
                   check=True, cwd=REPO, capture_output=True)
    runs = gpu_report.load_benchmarks(tmp_path)
    kinds = [label for label, _ in roofline.KINDS] + ["other"]
    assert sorted(zip(runs["k"], runs["kind"])) == sorted((k, kind) for k in (1, 2) for kind in kinds)
    conv = runs[runs["kind"] == kinds[0]]
    assert (conv["measured_ms"] > 0).all() and runs["roofline_ms"].isna().all()  # no roofline off CUDA
    # the profiled operations fall in their kinds: over both widths the convolutions take more of a CPU step than
    # "other" (where they would land if mapped wrongly); summed, as one step's timing on a shared CPU can spike
    total = runs.groupby("kind")["measured_ms"].sum()
    assert total[kinds[0]] > total["other"] and (runs["step_wall_ms"] > 0).all()
    # a CPU profile is not cited as the GPU's
    assert "none exists yet" in roofline_report.kernel_profile_sentence(runs)
    gpu = runs.assign(device="NVIDIA H100 80GB HBM3", roofline_ms=runs["measured_ms"] / 4, efficiency=0.25)
    gpu.loc[gpu["kind"] == "ReLU", "efficiency"] = 0.1
    gpu.loc[gpu["kind"] == "ReLU", "roofline_ms"] = gpu["roofline_ms"].max()  # not below the 1% the sentence skips
    assert list(roofline_report.kernel_profile_table(gpu).columns[:3]) == [
        "k = 1: measured ms", "k = 1: roofline ms", "k = 1: efficiency"]
    assert "roofline time): ReLU at 10% of it" in roofline_report.kernel_profile_sentence(gpu)
    assert "known kind" not in roofline_report.kernel_profile_sentence(gpu)  # no unattributed row: nothing to say
    # the unattributed kernel time (a CUDA-only row, with no roofline) is said, and shown as a dash in the table
    lost = gpu[gpu["kind"] == kinds[0]].assign(kind="unattributed", roofline_ms=None, efficiency=None,
                                                measured_ms=0.5 * gpu["step_kernel_ms"].iloc[0])
    with_lost = pd.concat([gpu, lost], ignore_index=True)
    k0 = int(with_lost["k"].iloc[0])
    said = roofline_report.kernel_profile_sentence(with_lost)
    assert "the profiler attributed" in said and "(50%) of that kernel time to no known kind of operation" in said
    assert said.endswith("which kinds it belongs to was not traced.")
    assert roofline_report.kernel_profile_table(with_lost).loc["unattributed", f"k = {k0}: efficiency"] == "—"


def test_the_kernel_profile_script_refuses_bad_arguments():
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "kernel_profile.py"), "--steps", "0"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 2 and "--steps must be >= 1; got 0" in out.stderr


def test_an_expanded_tensor_counts_its_stored_elements_and_a_copy_does_not_read_its_destination():
    row = torch.ones(1, 4)
    dest = torch.empty(3, 4)
    ops = roofline.record_ops(lambda: dest.copy_(row.expand(3, 4)))
    assert [op.name for op in ops] == ["aten.copy_.default"]
    assert ops[0].bytes == 4 * (4 + 12)  # the row read once (stride 0 along the copies), the destination written


def test_in_place_operations_count_their_writes_and_a_repeated_argument_is_read_once():
    a, g = torch.ones(10), torch.ones(10)
    (mul,) = roofline.record_ops(lambda: torch._foreach_mul_([a], 2.0))
    assert mul.bytes == 2 * 40  # read and written, though it returns nothing
    (addcmul,) = roofline.record_ops(lambda: torch._foreach_addcmul_([a], [g], [g]))
    assert addcmul.bytes == 40 + 40 + 40  # a and g read once each, a written
    (add,) = roofline.record_ops(lambda: a.add_(g))
    assert add.bytes == 3 * 40  # a returned and written: counted once


def test_fusion_drops_values_used_only_inside_a_run_and_keeps_what_later_operations_or_later_steps_read():
    x, w = torch.ones(4, 8), torch.ones(8, 8)
    param, grad = torch.zeros(8), torch.ones(8)

    def step():
        h = x @ w  # a matrix product: never fused
        y = torch.relu(h)  # read only by the addition below: stays inside the fused run
        z = y + h  # read by the next product: written
        param.add_(grad)  # a pre-existing tensor updated in place: outlives the step, written
        return z @ w

    plain = roofline.record_ops(step)
    fused = roofline.record_ops(step, fuse_pointwise=True)
    assert [op.name for op in fused] == ["aten.mm.default", roofline.FUSED_NAME, "aten.mm.default"]
    assert fused[0] == plain[0] and fused[2] == plain[-1]
    act = 4 * 32  # one 4 x 8 float32 activation
    # h read once (relu and add both read it), z written; param and grad read, param written: y never moves
    assert fused[1].bytes == 2 * act + 3 * 4 * 8
    assert sum(op.bytes for op in plain[1:-1]) == 2 * act + 3 * act + 3 * 4 * 8
    assert roofline.kind(fused[1]) == roofline.FUSED_KIND


def test_a_fused_run_writes_a_value_that_later_operations_read():
    x, w = torch.ones(4, 8), torch.ones(8, 8)

    def step():
        y = torch.relu(x @ w)
        z = y + 1.0  # the same run as the relu: it reads y inside the run
        return z @ w, y @ w  # ... and a later product reads y too

    fused = roofline.record_ops(step, fuse_pointwise=True)
    assert [op.name for op in fused] == ["aten.mm.default", roofline.FUSED_NAME, "aten.mm.default", "aten.mm.default"]
    assert fused[1].bytes == 3 * 4 * 32  # x @ w read; y and z both written


@pytest.mark.parametrize("model", ["resnet18", "cnn5"])
def test_the_fused_count_fits_exactly_keeps_the_products_and_moves_fewer_bytes(model):
    fused = roofline.step_costs(model, 5, 8, fuse_pointwise=True)
    assert fused == roofline.trace_training_step(model, 5, 8, fuse_pointwise=True)
    plain = roofline.step_costs(model, 5, 8)
    assert [op for op in fused if op.flops] == [op for op in plain if op.flops]
    assert not {roofline.kind(op) for op in fused} & set(roofline.FUSABLE)
    assert sum(op.bytes for op in fused) < sum(op.bytes for op in plain)
    assert roofline.mfu_bound(model, 5, batch=8, fuse_pointwise=True) > roofline.mfu_bound(model, 5, batch=8)


def test_the_fusion_sentence_names_the_levers_the_target_needs(monkeypatch):
    current = gpu_report.current_runs(gpu_report.load_benchmarks())
    k = int(current[current["members"] == 1]["k"].max())
    hw = roofline_report.card(current.iloc[0]["device"])  # the cited run's card
    alone, both = (roofline.mfu_bound("resnet18", k, hw, fused_adam=f, fuse_pointwise=True) for f in (False, True))
    assert roofline.mfu_bound("resnet18", k, hw, fused_adam=True) < alone < both

    def sentence(target):
        monkeypatch.setitem(gpu_report.TARGETS, "mfu_k64", target)
        return roofline_report.roofline_numbers(current)["roof_fusion_sentence"]

    assert f"roofline MFU of {alone:.1%}, or" in sentence(0.40) and f"ms and {both:.1%} with Adam's" in sentence(0.40)
    assert "within the card's reach with the fused passes alone, but then the kernels would have to run at 99%" in sentence(
        0.99 * alone)
    assert "needs both fusions, the passes' and Adam's, and even then the kernels would have to run at 99%" in sentence(
        0.99 * both)
    assert "even both fusions stay below the" in sentence(both + 0.01)
    dispatched = roofline.mfu_bound("resnet18", k, hw)
    assert ("within this card's reach even as dispatched, but then the kernels would have to run at 99%"
            in sentence(0.99 * dispatched))
    assert "fused passes alone" not in sentence(0.99 * dispatched)
    table = roofline_report.fusion_table(current)
    assert list(table.index) == ["as dispatched", "passes ideally fused"]
    assert table.loc["passes ideally fused", "foreach Adam: MFU %"] == round(100 * alone, 1)
    assert table.loc["passes ideally fused", "fused Adam: MFU %"] == round(100 * both, 1)
    assert (table["fused Adam: ms"] < table["foreach Adam: ms"]).all()
    assert roofline_report.fusion_table(pd.DataFrame()).empty
    # how close to the roofline the measured step runs: roofline over measured time at the widest width
    table = roofline_report.roofline_table(current)
    now = table["roofline ms"].iloc[-1] / table["measured ms"].iloc[-1]
    assert f"where the measured step runs at {now:.0%} of it" in sentence(0.40)


def test_writes_into_part_of_a_storage_and_into_fresh_allocations_are_counted_whatever_the_addresses():
    w = torch.ones(8, 8)

    def halves():
        buf = torch.empty(8, 8)
        buf[:4].copy_(torch.relu(w[:4] @ w))  # two writes, each into half of one storage, inside one run
        buf[4:].copy_(torch.relu(w[4:] @ w))
        return buf @ w

    fused = [op for op in roofline.record_ops(halves, fuse_pointwise=True) if op.name == roofline.FUSED_NAME]
    # each run: the product's half read and its half of buf written (the relu's output stays inside the run);
    # the first half is written though the second write makes a new version of buf before anything reads it
    assert [op.bytes for op in fused] == [2 * 4 * 32, 2 * 4 * 32]

    def fresh():  # a fresh buffer filled in place and never read again: dead, wherever the allocator puts it
        for _ in range(3):
            torch.empty(4, 8).copy_(torch.relu(w[:4] @ w))

    runs = [op.bytes for op in roofline.record_ops(fresh, fuse_pointwise=True) if op.name == roofline.FUSED_NAME]
    assert runs == [4 * 32] * 3  # the product read; nothing written


def test_batch_norm_in_training_writes_its_running_statistics():
    bn = torch.nn.BatchNorm2d(4)
    x = torch.ones(2, 4, 3, 3)
    (train,) = [op for op in roofline.record_ops(lambda: bn(x)) if "batch_norm" in op.name]
    bn.eval()
    (infer,) = roofline.record_ops(lambda: bn(x))
    # both read the input, weight, bias and running statistics and write the output; training also writes the
    # saved mean and inverse standard deviation, and the running mean and variance (4 float32 values each)
    assert train.bytes - infer.bytes == 2 * 16 + 2 * 16


def test_the_roofline_sentence_gives_the_targets_card_where_the_run_was_on_another():
    runs = gpu_report.load_benchmarks()
    current = gpu_report.current_runs(runs)
    sentence = roofline_report.roofline_numbers(current)["roof_sentence"]
    on_h100 = [roofline.mfu_bound("resnet18", 64, H100_SXM, 128, **kw) for kw in
               ({}, dict(fused_adam=True), dict(fuse_pointwise=True), dict(fused_adam=True, fuse_pointwise=True))]
    assert "H200" in current["device"].iloc[0] and "The targets are set for an H100 SXM5 80GB" in sentence
    assert f"gives {on_h100[0]:.1%} as dispatched, {on_h100[1]:.1%} with Adam's fused form" in sentence
    needed = next(i for i, v in enumerate(on_h100) if v >= 0.40)  # 3: both fusions, by the committed count
    assert sentence.endswith(["as dispatched", "only with Adam's fused form", "only with the passes ideally fused",
                              "only with both"][needed] + ".")
    import dataclasses

    measured = roofline_report._measured(current)
    assert roofline_report._target_card_sentence(measured, 64) != ""
    assert roofline_report._target_card_sentence(dataclasses.replace(measured, hw=H100_SXM), 64) == ""  # the targets' card

