"""The channel-alignment measurement in words (ddlib.alignment_report), on synthetic benchmark rows."""
import pandas as pd
import pytest

from ddlib import alignment_report, gpu_report, sweep_cost
from ddlib.vision_models import vision_forward_flops

CARD = "NVIDIA H100 80GB HBM3"
SPEEDS = {16: 60000.0, 17: 36000.0, 24: 54000.0, 32: 48000.0, 61: 24000.0, 64: 30000.0}
NUMBERS = {"gpu_sweep_hours_small": 5.0, "gpu_device": CARD, "gpu_sweep_k_max": 64, "gpu_sweep_hours": 60.0}


def _rows(speeds=SPEEDS, **changed):
    base = dict(date="2031-01-01", device=CARD, model="resnet18", members=1, cuda_graph=True, compile_mode="off",
                fused_optimizer=False, timed_steps=200, sweep_k_max=64, sweep_epochs=4000, sweep_train_size=50000,
                sweep_seeds=1, file="a.csv")
    return pd.DataFrame([{**base, **changed, "k": k, "ours_images_per_s": v} for k, v in speeds.items()])


def test_unmeasured_is_said_and_the_committed_folder_reads():
    assert alignment_report.alignment_sentence(pd.DataFrame(), NUMBERS).startswith("Not measured yet")
    assert alignment_report.alignment_table(pd.DataFrame()).empty
    committed = gpu_report.load_benchmarks(alignment_report.CHANNEL_ALIGNMENT_RESULTS)
    said = alignment_report.alignment_sentence(committed, NUMBERS)  # whatever is committed, it reads
    assert said.startswith("Not measured yet") == alignment_report.alignment_rows(committed).empty


def test_unaligned_widths_are_set_against_the_aligned_widths_of_the_same_run():
    """17 lies between 16 and 24 (log-log); 61 between 32 and 64; the aligned widths get no ratio."""
    table = alignment_report.alignment_table(_rows())
    aligned = {16: 60000.0, 24: 54000.0, 32: 48000.0, 64: 30000.0}
    flops = {k: 1.0 for k in range(1, 65)}
    for k in (17, 61):
        expected = SPEEDS[k] * sweep_cost.seconds_per_image(aligned, flops, k)
        assert table.loc[k, "against aligned neighbours"] == pytest.approx(expected, abs=0.005)
    assert table.loc[[16, 24, 32, 64], "against aligned neighbours"].isna().all()
    assert table["multiple of 8"].tolist() == [True, False, True, True, False, True]
    text = alignment_report.alignment_sentence(_rows(), NUMBERS)
    low, high = sorted(table["against aligned neighbours"].dropna())
    assert f"the widths that are not multiples of 8 (17, 61) trained {low:.2f}–{high:.2f} times the rate" in text
    assert "between the aligned widths of the same run (16, 24, 32, 64)" in text


def test_the_sweep_is_projected_again_per_kind_of_width():
    """Widths up to 16 as the throughput run projects them; each wider width from measured widths of its own kind."""
    flops = {k: float(vision_forward_flops("resnet18", k, 10)) for k in range(1, 65)}
    images = 4000 * 50000

    def hours(measured, widths):
        return sweep_cost.projected_hours(measured, flops, widths, images)

    aligned = [k for k in range(17, 65) if k % 8 == 0]
    odd = [k for k in range(17, 65) if k % 8]
    expected = 5.0 + hours({24: 54000.0, 32: 48000.0, 64: 30000.0}, aligned) + hours({17: 36000.0, 61: 24000.0}, odd)
    text = alignment_report.alignment_sentence(_rows(), NUMBERS)
    assert f"would take about {expected:.0f} GPU-hours, against 60 interpolated" in text
    all_interpolated = 5.0 + hours({16: 60000.0, 64: 30000.0}, range(17, 65))
    assert expected > all_interpolated  # the slow unaligned widths cost more than the interpolation says
    faster = alignment_report.alignment_sentence(_rows({**SPEEDS, 17: 54000.0, 61: 30000.0}), NUMBERS)
    assert f"about {expected:.0f} GPU-hours" not in faster


def test_only_the_projections_loop_counts_and_gaps_are_named():
    for other in (dict(cuda_graph=False), dict(compile_mode="max-autotune"), dict(fused_optimizer=True),
                  dict(members=8), dict(device="cpu (2 threads)")):
        assert alignment_report.alignment_sentence(_rows(**other), NUMBERS).startswith("Not measured yet")
    elsewhere = alignment_report.alignment_sentence(_rows(), dict(NUMBERS, gpu_device="NVIDIA H200"))
    assert "measured on another card" in elsewhere and "GPU-hours" not in elsewhere
    one_aligned = alignment_report.alignment_sentence(_rows({16: 60000.0, 17: 36000.0}), NUMBERS)
    assert "fewer than two widths that are multiples of 8" in one_aligned
    no_wide_odd = alignment_report.alignment_sentence(_rows({12: 50000.0, 16: 60000.0, 24: 54000.0, 64: 30000.0}), NUMBERS)
    assert "No unaligned width above 16 was measured" in no_wide_odd


def test_the_prose_names_the_loops_widths_from_the_cited_run():
    current = pd.DataFrame({"members": [1, 1, 1, 1, 8], "k": [1, 4, 16, 64, 32]})
    assert alignment_report.loop_widths_words(current) == {"alignment_loop_widths": "1, 4, 16, 64",
                                                           "alignment_loop_aligned": "16 and 64"}
    committed = alignment_report.loop_widths_words(gpu_report.current_runs(gpu_report.load_benchmarks()))
    assert committed["alignment_loop_widths"] == "1, 4, 16, 64"


def _with_padded(padded_speeds, align=8):
    """The loop's rows (channel_align 1) and, from the same run, rows padded to multiples of ``align``."""
    return pd.concat([_rows(channel_align=1), _rows(padded_speeds, channel_align=align)], ignore_index=True)


def test_padded_widths_are_set_against_themselves_and_the_sweep_is_projected_with_them():
    """Padded rows (17 and 61 at multiples of 8) do not enter the unpadded ratios; each is set against its own
    unpadded rate, and the third projection takes the padded rates for the unaligned widths above 16."""
    runs = _with_padded({17: 45000.0, 61: 27000.0})
    unpadded = alignment_report.alignment_table(_rows())
    table = alignment_report.alignment_table(runs)
    assert table["against aligned neighbours"].equals(unpadded["against aligned neighbours"])
    assert table.loc[17, "padded / unpadded"] == 1.25 and table.loc[61, "padded / unpadded"] == 1.12
    assert table.loc[[16, 24, 32, 64], "padded images/s"].isna().all()
    flops = {k: float(vision_forward_flops("resnet18", k, 10)) for k in range(1, 65)}
    aligned = [k for k in range(17, 65) if k % 8 == 0]
    odd = [k for k in range(17, 65) if k % 8]

    def hours(measured, widths):
        return sweep_cost.projected_hours(measured, flops, widths, 4000 * 50000)

    plain = 5.0 + hours({24: 54000.0, 32: 48000.0, 64: 30000.0}, aligned) + hours({17: 36000.0, 61: 24000.0}, odd)
    padded = 5.0 + hours({24: 54000.0, 32: 48000.0, 64: 30000.0}, aligned) + hours({17: 45000.0, 61: 27000.0}, odd)
    text = alignment_report.alignment_sentence(runs, NUMBERS)
    assert f"would take about {plain:.0f} GPU-hours, against 60" in text  # the unpadded projection is unchanged
    assert "widths 17, 61 trained 1.12–1.25 times their unpadded rate" in text
    assert f"would take about {padded:.0f} GPU-hours ({padded / plain:.2f} times the {plain:.0f} unpadded)" in text


def test_padding_not_timed_or_to_another_multiple_is_said():
    assert "was not timed in this run" in alignment_report.alignment_sentence(_rows(channel_align=1), NUMBERS)
    other = alignment_report.alignment_sentence(_with_padded({17: 45000.0, 61: 27000.0}, align=4), NUMBERS)
    assert "was not timed in this run" in other and "unpadded rate" not in other
    assert alignment_report.padded_rows(_with_padded({17: 45000.0}, align=4)).empty


def test_padded_ratios_are_said_where_the_sweep_is_not_projected_again():
    text = alignment_report.alignment_sentence(_with_padded({17: 45000.0, 61: 27000.0}),
                                               dict(NUMBERS, gpu_device="NVIDIA H200"))
    assert "measured on another card" in text and "trained 1.12–1.25 times their unpadded rate" in text
    assert "GPU-hours" not in text


def test_the_padding_cost_in_words_is_the_counted_ratio():
    from ddlib.channel_alignment import padded_flops_ratio

    words = alignment_report.padding_cost_words(dict(gpu_sweep_k_max=24))["alignment_padding_cost"]
    ratios = {k: padded_flops_ratio("resnet18", k) for k in range(17, 24)}
    assert words == (f"at the unaligned widths from 17 to 24 that is {ratios[17]:.2f} times the FLOPs at $k = 17$, "
                     f"down to {min(ratios.values()):.2f} at $k = {min(ratios, key=ratios.get)}$")


def test_padded_rows_are_not_the_throughput_rows_the_appendix_cites():
    runs = _with_padded({17: 45000.0, 61: 27000.0}).assign(baseline_workers=8)
    cited = gpu_report.current_runs(runs)
    assert len(cited) == len(SPEEDS) and (cited["channel_align"] == 1).all()
