"""The pool's size against passes over it (ddlib.chapters.pool_passes): the ladder of runs, the width it picks, and
what its sentence says for each outcome, on frames made by hand."""
import pandas as pd
import pytest

from ddlib import config_hash
from ddlib.chapters import distillation as kd, pool_passes, student_widths


def _params() -> dict:
    return dict(kd.resolve_params("smoke"), model="cnn1d", student_seeds=[0, 1, 2], pool_size=25000,
                pool_study_sizes=[1000, 5000, 25000], n_train=1000, widths=[4, 8, 16, 24, 64], epochs=300,
                batch_size=128, student_steps_factor=2, student_sweep_noise=[0.2, 0.4])


def test_ladder_trains_every_pool_for_each_smaller_pools_passes_and_directs():
    p = _params()
    assert pool_passes.ladder(p) == [(1000, 1000), (5000, 1000), (5000, 5000), (25000, 1000), (25000, 5000),
                                     (25000, 25000)]
    # a labeled set smaller than every pool adds its own level: `direct`'s passes
    assert pool_passes.ladder(dict(p, n_train=500, pool_study_sizes=[1000, 4000])) == [
        (1000, 500), (1000, 1000), (4000, 500), (4000, 1000), (4000, 4000)]


def test_study_configs_match_passes_and_reuse_the_student_width_studys_runs():
    p = _params()
    q, teachers, students = pool_passes.study_configs(p, 16)
    assert q["label_noise"] == 0.4  # the highest rate of student_sweep_noise
    direct = [c for c in students if c.targets.method == "labels"]
    hard = [c for c in students if c.targets.method == "hard_pool"]
    assert len(direct) == 3 and len(hard) == 6 * 3 and {c.width for c in students} == {16}
    steps = direct[0].train.steps
    assert steps == 300 * 7 * 2  # the chapter's student steps
    passes = {(c.targets.pool_size, c.train.steps * 128 / c.targets.pool_size) for c in hard}
    assert passes == {(1000, 537.6), (5000, 537.6), (5000, 107.52), (25000, 537.6), (25000, 107.52),
                      (25000, 21.504)}
    # the runs at the chapter's steps on the two pools of the student-width study, and its `direct`, are that
    # study's own (the same hashes: reused from the store, not trained again)
    (_, _, sw_teachers, sw_students), = [s for s in student_widths.study_configs(p) if s[0] == 0.4]
    ours = {config_hash(c) for c in teachers + students}
    theirs = {config_hash(c) for c in sw_teachers + sw_students if c.width in (16, 64)}
    assert len(ours & theirs) == 3 + 3 + 3 * 2  # teachers, `direct`, the two pools at the chapter's steps


def test_study_width_is_directs_peak_else_its_bump_else_the_widest():
    widths = [4, 8, 16, 24, 64]
    assert pool_passes.study_width({4: 0.70, 8: 0.71, 16: 0.74, 24: 0.72, 64: 0.69}, widths) == (16, "peak")
    assert pool_passes.study_width({4: 0.70, 8: 0.705, 16: 0.71, 24: 0.70, 64: 0.69}, widths) == (16, "bump")
    assert pool_passes.study_width({4: 0.70, 64: 0.69}, [4, 64]) == (64, "widest")


def _frame(direct: float, grid: dict, seeds=(0, 1, 2), why="peak") -> pd.DataFrame:
    """``direct`` at 4,200 steps (537.6 passes over 1,000 inputs); ``grid``: ``{(pool, steps): (test, train)}``
    for ``hard_pool``; per-seed jitter of +-0.1 points, opposite for the two methods."""
    rows = []
    for s in seeds:
        jitter = 0.001 * (s - 1)
        rows.append(dict(method="teacher", teacher_width=64, student_width=None, pool_size=0, seed=s, test_error=0.68,
                         train_error=0.0, steps=2100, passes=2100 * 128 / 1000))
        rows.append(dict(method="direct", teacher_width=None, student_width=16, pool_size=0, seed=s,
                         test_error=direct + jitter, train_error=0.0, steps=4200, passes=537.6))
        for (pool, steps), (test, train) in grid.items():
            rows.append(dict(method="hard_pool", teacher_width=64, student_width=16, pool_size=pool, seed=s,
                             test_error=test - jitter, train_error=train, steps=steps, passes=steps * 128 / pool))
    return pd.DataFrame(rows).assign(why=why)


def _grid(at_equal: float, train_equal: float = 0.2) -> dict:
    return {(1000, 4200): (0.80, 0.0), (5000, 4200): (0.72, 0.3), (5000, 21000): (0.74, 0.1),
            (25000, 4200): (0.69, 0.45), (25000, 21000): (0.69, 0.35), (25000, 105000): (at_equal, train_equal)}


def test_numbers_read_the_largest_pool_at_the_chapters_steps_and_at_directs_passes():
    n = pool_passes.numbers(_frame(0.73, _grid(0.70)), _params())
    assert n["width"] == 16 and n["rate"] == 0.4 and n["largest"] == 25000 and n["base_passes"] == 21.5
    assert n["gain_base"] == pytest.approx(0.04) and n["gain_equal"] == pytest.approx(0.03)
    assert n["equal"] == pytest.approx({1000: 0.80, 5000: 0.74, 25000: 0.70})
    assert n["equal_beating"] == 3 and n["equal_se"] == pytest.approx(0.002 / 3 ** 0.5)
    assert n["grid"][25000][537.6] == pytest.approx((0.70, 0.2, 105000))
    table = pool_passes.table(n)
    assert list(table.columns) == ["21.5", "108", "538"]
    assert table.loc["hard_pool, 25,000 inputs"].tolist() == [69.0, 69.0, 70.0]
    assert table.loc["direct, 1,000 noisy labels"].tolist() == ["", "", 73.0]


def test_sentence_says_whether_the_gain_survives_as_many_passes_as_direct():
    p = _params()
    held = pool_passes.sentence(pool_passes.numbers(_frame(0.73, _grid(0.70)), p))
    assert held.startswith("At label noise 40%, students of width 16 (`direct`'s clear peak in the study above) learn "
                           "from the widest teacher (width 64, 68.0% test error), on 3 seeds. `direct` makes 538 "
                           "passes over the 1,000 labeled inputs in the chapter's 4,200 steps and ends at 73.0% test "
                           "error (0.0% on its noisy labels).")
    assert ("- **As many passes as `direct`** (538), `hard_pool` is, falling with every larger pool: on 1,000 inputs "
            "80.0%, 7.0 points above `direct`; on 5,000 inputs 74.0%, 1.0 points above `direct`; on 25,000 inputs "
            "70.0%, 3.0 points below `direct` (the 25,000-input pool lower on 3 of 3 seeds, standard error of the "
            "seed-paired gain 0.1 points).") in held
    assert ("- **Longer on the 25,000-input pool**: 21.5 passes (4,200 steps), 69.0% test error and 45.0% on its "
            "labels; 108 passes (21,000 steps), 69.0% test error and 35.0% on its labels; 538 passes (105,000 steps), "
            "70.0% test error and 20.0% on its labels.") in held
    assert held.endswith("At the chapter's steps the 25,000-input pool's students are 4.0 points below `direct`; with "
                         "as many passes as `direct` they are 3.0 points below `direct`, and they still do not fit the "
                         "teacher's labels (20.0% train error on them). The fewer passes do not explain the gain: "
                         "trained as long over its labels as `direct` over its own, the student of the large pool "
                         "still escapes `direct`'s peak, as the paper's explanation by the pool's size has it.")
    shrunk = pool_passes.sentence(pool_passes.numbers(_frame(0.73, _grid(0.72, 0.0)), p))
    assert ("they are 1.0 points below `direct`, and they now fit the teacher's labels (0.0% train error on them). "
            "Within 2.0 points of `direct` at equal passes: most of the gain") in shrunk
    lost = pool_passes.sentence(pool_passes.numbers(_frame(0.73, _grid(0.76)), p))
    assert "`hard_pool` is: on 1,000 inputs" in lost  # 80.0%, 74.0%, 76.0%: not falling with every larger pool
    assert lost.endswith("Worse than `direct` at equal passes: the gain at the chapter's steps came from going over "
                         "the pool fewer times, and the longer training loses it.")
    none = pool_passes.sentence(pool_passes.numbers(_frame(0.70, _grid(0.70)), p))
    assert ("are 1.0 points below `direct` at this width, less than 2.0 points: no clear gain here for the passes to "
            "explain; at `direct`'s passes they are level with `direct`") in none
    worse = pool_passes.sentence(pool_passes.numbers(_frame(0.68, _grid(0.70)), p))
    assert "are 1.0 points above `direct` at this width: no gain here for the passes to explain;" in worse
    bump = pool_passes.sentence(pool_passes.numbers(_frame(0.73, _grid(0.70), why="bump"), p))
    assert "(the highest bump of `direct`'s curve in the study above, not a clear peak)" in bump


def test_without_a_pool_as_large_as_the_labeled_set_the_passes_are_not_matched():
    grid = {(500, 4200): (0.75, 0.1)}
    n = pool_passes.numbers(_frame(0.73, grid), _params())
    assert "gain_equal" not in n and pool_passes.short_sentence(n) == ""
    assert pool_passes.sentence(n).endswith("No pool here is trained for `direct`'s 538 passes (none is at least as "
                                            "large as the labeled set), so this run cannot separate the pool's size "
                                            "from the passes.")


def test_short_sentence_for_the_findings_page():
    n = pool_passes.numbers(_frame(0.73, _grid(0.70)), _params())
    assert pool_passes.short_sentence(n) == (
        "At width 16 and 40% noise, the 25,000-input pool's student trained for as many passes as `direct` (538) is "
        "3.0 points below `direct`, against 4.0 points below `direct` at the chapter's steps (21.5 passes).")


def test_study_is_off_without_student_sweep_noise():
    p = dict(_params(), student_sweep_noise=[])
    assert pool_passes.study_rate(p) is None and pool_passes.planned_configs(p, None) == []
    assert pool_passes.run_study(p, {})[0] is None
    assert pool_passes.numbers(None, p) is None and pool_passes.table(None) is None
    assert pool_passes.summary_line(None) == "No such study was run here (`student_sweep_noise` is empty)."
