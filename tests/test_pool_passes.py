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


def test_ladder_trains_every_pool_and_direct_at_every_level_from_the_labeled_sets_to_the_largest_pools():
    p = _params()
    grid = [(pool, level) for pool in (1000, 5000, 25000) for level in (1000, 5000, 25000)]
    assert pool_passes.ladder(p) == grid and pool_passes.direct_levels(p) == [1000, 5000, 25000]
    # a labeled set smaller than every pool adds its own level: `direct`'s passes
    small = dict(p, n_train=500, pool_study_sizes=[1000, 4000])
    assert pool_passes.ladder(small) == [(pool, level) for pool in (1000, 4000) for level in (500, 1000, 4000)]
    assert pool_passes.direct_levels(small) == [500, 1000, 4000]
    # never more passes than `direct` makes: a pool smaller than the labeled set sets no level for the others
    # (and `direct` is not trained at it), though it is trained for its own passes and at every level above
    tiny = dict(p, pool_study_sizes=[500, 25000])
    assert pool_passes.ladder(tiny) == [(500, 500), (500, 1000), (500, 25000), (25000, 1000), (25000, 25000)]
    assert pool_passes.direct_levels(tiny) == [1000, 25000]


def test_study_configs_match_passes_and_reuse_the_student_width_studys_runs():
    p = _params()
    q, teachers, students = pool_passes.study_configs(p, 0.4, 16)
    assert q["label_noise"] == 0.4 and pool_passes.study_rates(p) == [0.2, 0.4]  # each of student_sweep_noise
    direct = [c for c in students if c.targets.method == "labels"]
    hard = [c for c in students if c.targets.method == "hard_pool"]
    assert len(direct) == 3 * 3 and len(hard) == 9 * 3 and {c.width for c in students} == {16}
    steps = direct[0].train.steps
    assert steps == 300 * 7 * 2  # the chapter's student steps
    # `direct` stopped after as few passes over its 1,000 labeled inputs as the 5,000 and 25,000 pools get
    assert sorted({c.train.steps for c in direct}) == [168, 840, 4200]
    passes = {(c.targets.pool_size, c.train.steps * 128 / c.targets.pool_size) for c in hard}
    assert passes == {(pool, x) for pool in (1000, 5000, 25000) for x in (537.6, 107.52, 21.504)}
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


def _frame(direct: float, grid: dict, seeds=(0, 1, 2), why="peak", direct_at: dict | None = None) -> pd.DataFrame:
    """``direct`` at 4,200 steps (537.6 passes over 1,000 inputs) and, where ``direct_at`` (``{steps: (test,
    train)}``) says, stopped after fewer; ``grid``: ``{(pool, steps): (test, train)}`` for ``hard_pool``; per-seed
    jitter of +-0.1 points, opposite for the two methods."""
    rows = []
    for s in seeds:
        jitter = 0.001 * (s - 1)
        rows.append(dict(method="teacher", teacher_width=64, student_width=None, pool_size=0, seed=s, test_error=0.68,
                         train_error=0.0, steps=2100, passes=2100 * 128 / 1000, level=0))
        for steps, (test, train) in {4200: (direct, 0.0), **(direct_at or {})}.items():
            rows.append(dict(method="direct", teacher_width=None, student_width=16, pool_size=0, seed=s,
                             test_error=test + jitter, train_error=train, steps=steps, passes=steps * 128 / 1000,
                             level=round(1000 * 4200 / steps)))
        for (pool, steps), (test, train) in grid.items():
            rows.append(dict(method="hard_pool", teacher_width=64, student_width=16, pool_size=pool, seed=s,
                             test_error=test - jitter, train_error=train, steps=steps, passes=steps * 128 / pool,
                             level=round(pool * 4200 / steps)))
    return pd.DataFrame(rows).assign(why=why)


def _grid(at_equal: float, train_equal: float = 0.2) -> dict:
    return {(1000, 4200): (0.80, 0.0), (5000, 4200): (0.72, 0.3), (5000, 21000): (0.74, 0.1),
            (25000, 4200): (0.69, 0.45), (25000, 21000): (0.69, 0.35), (25000, 105000): (at_equal, train_equal)}


def test_numbers_read_the_largest_pool_at_the_chapters_steps_and_at_directs_passes():
    n = pool_passes.numbers(_frame(0.73, _grid(0.70)), _params(), 0.4)
    assert n["width"] == 16 and n["rate"] == 0.4 and n["largest"] == 25000 and n["n_seeds"] == 3
    assert n["direct"]["test"] == pytest.approx(0.73) and n["direct"]["passes"] == pytest.approx(537.6)
    assert sorted(n["grid"][25000]) == [1000, 5000, 25000]  # keyed by level, not by a rounded float
    assert n["grid"][25000][1000]["steps"] == 105000 and n["grid"][25000][1000]["test"] == pytest.approx(0.70)
    assert n["gain_base"] == pytest.approx(0.04) and n["gain_equal"] == pytest.approx(0.03)
    assert {pool: d["diff"] for pool, d in n["equal"].items()} == pytest.approx({1000: 0.07, 5000: 0.01, 25000: -0.03})
    # per seed the pool is 0.1 points lower and `direct` 0.1 points higher for each seed above 1: paired SD 0.2
    assert n["equal"][25000]["lower"] == 3 and n["equal"][25000]["se"] == pytest.approx(0.002 / 3 ** 0.5)
    assert set(n["longer"]) == {5000, 25000}
    assert n["longer"][25000]["first"]["passes"] == pytest.approx(21.504) and n["longer"][25000]["change"]["diff"] == (
        pytest.approx(0.01))
    assert n["teacher_gaps"] == pytest.approx({25000: 0.01, 5000: 0.01, 1000: 0.02})
    assert pool_passes.kind(n) == "held"
    table = pool_passes.table(n)
    assert list(table.columns) == ["21.5", "108", "538"]
    assert table.loc["hard_pool, 25,000 inputs"].tolist() == [69.0, 69.0, 70.0]
    assert table.loc["direct, 1,000 noisy labels"].tolist() == ["", "", 73.0]


def test_levels_match_even_where_rounded_steps_make_the_passes_differ():
    """With 700 labeled inputs the pool's steps are rounded, so its passes are not exactly `direct`'s; the level
    still pairs them."""
    p = dict(_params(), n_train=700)
    frame = _frame(0.73, {(25000, 4200): (0.69, 0.45), (25000, 150000): (0.70, 0.2)})
    frame.loc[frame["method"] == "direct", "level"] = 700
    frame.loc[frame["method"] == "hard_pool", "level"] = frame["pool_size"] * 4200 // frame["steps"]
    frame.loc[frame["steps"] == 150000, "level"] = 700
    frame.loc[frame["steps"] == 150000, "passes"] = 150000 * 128 / 25000  # 768.0 against direct's 537.6 * 1000/700
    n = pool_passes.numbers(frame, p, 0.4)
    assert "gain_equal" in n and set(n["equal"]) == {25000}


def test_sentence_says_whether_the_gain_survives_as_many_passes_as_direct():
    p = _params()
    held = pool_passes.sentence(pool_passes.numbers(_frame(0.73, _grid(0.70)), p, 0.4))
    assert held.startswith("At label noise 40%, students of width 16 (`direct`'s clear peak in the study above) learn "
                           "from the widest teacher (width 64, 68.0% test error), on 3 seeds. `direct` makes 538 "
                           "passes over the 1,000 labeled inputs in the chapter's 4,200 steps and ends at 73.0% test "
                           "error (0.0% on its noisy labels).")
    assert ("- **As many passes as `direct`** (538): `hard_pool`'s error falls as the pool grows: 80.0% on 1,000 "
            "inputs (7.0 points above `direct`, higher on 3 of 3 seeds, SE 0.1 points), 74.0% on 5,000 inputs (1.0 "
            "points above `direct`, higher on 3 of 3 seeds, SE 0.1 points) and 70.0% on 25,000 inputs (3.0 points "
            "below `direct`, lower on 3 of 3 seeds, SE 0.1 points).") in held
    assert ("- **Longer**: on 25,000 inputs, from 21.5 to 538 passes (4,200 to 105,000 steps), test error 69.0% to "
            "70.0% (+1.0 points, higher on 3 of 3 seeds, SE 0.0 points) while the error on its labels goes from 45.0% "
            "to 20.0%; on 5,000 inputs, from 108 to 538 passes (4,200 to 21,000 steps), test error 72.0% to 74.0% "
            "(+2.0 points, higher on 3 of 3 seeds, SE 0.0 points) while the error on its labels goes from 30.0% to "
            "10.0%.") in held
    assert held.endswith("At `direct`'s peak width, the 25,000-input pool's students are 4.0 points below `direct` at "
                         "the chapter's steps and 3.0 points below it with as many passes, and they do not fit the "
                         "teacher's labels (20.0% train error on them). Fewer passes do not explain the gain, which "
                         "comes with the pool's size at this width and rate. On 1,000 pool inputs (as many as the "
                         "labeled set, with as many passes) the students of the teacher's labels are 7.0 points above "
                         "`direct`: what helps is the pool's many inputs, not the teacher's labels as such.")
    most = pool_passes.sentence(pool_passes.numbers(_frame(0.73, _grid(0.72, 0.0)), p, 0.4))
    assert ("1.0 points below it with as many passes, and they fit the teacher's labels (0.0% train error on them). "
            "Most of the gain came from going over the pool fewer times, not from its size. On 1,000 pool inputs (as "
            "many as the labeled set, with as many passes) the students of the teacher's labels are 7.0 points above "
            "`direct`.") in most  # no reading of the same-size pool where the gain does not hold
    lost = pool_passes.sentence(pool_passes.numbers(_frame(0.73, _grid(0.76)), p, 0.4))
    assert "`hard_pool` is at 80.0% on 1,000 inputs" in lost  # 80.0%, 74.0%, 76.0%: not falling with every larger pool
    assert "3.0 points above it with as many passes" in lost and "The longer training loses the gain" in lost
    none = pool_passes.sentence(pool_passes.numbers(_frame(0.70, _grid(0.70)), p, 0.4))
    assert ("the 25,000-input pool's students are 1.0 points below `direct`: no clear gain here for the passes to "
            "explain. With as many passes as `direct` they are level with it") in none
    bump = pool_passes.sentence(pool_passes.numbers(_frame(0.73, _grid(0.70), why="bump"), p, 0.4))
    assert "(the highest bump of `direct`'s curve in the study above, not a clear peak)" in bump
    assert "\n\nAt this width, the 25,000-input pool's students" in bump  # not "at `direct`'s peak width"


def test_kind_weighs_the_gain_kept_against_the_gain_at_the_chapters_steps():
    def kind(base, equal):
        return pool_passes.kind(dict(gain_base=base, gain_equal=equal))
    assert kind(0.06, 0.021) == "part"  # clear at equal passes, but less than half of 6 points kept
    assert kind(0.021, 0.019) == "little"  # nearly all kept, though under CLEAR
    assert kind(0.06, 0.01) == "most" and kind(0.06, -0.03) == "lost" and kind(0.04, 0.03) == "held"
    assert kind(0.01, 0.03) == "none" and pool_passes.kind({"gain_base": 0.05}) == "unmatched"


def test_students_near_their_teacher_are_said_to_be():
    grid = {(1000, 4200): (0.80, 0.0), (25000, 4200): (0.685, 0.45), (25000, 105000): (0.684, 0.3)}
    text = pool_passes.sentence(pool_passes.numbers(_frame(0.73, grid), _params(), 0.4))
    assert ("At every number of passes they are within 0.5 points of their teacher (68.0%): the gain is the distance "
            "from `direct` down to the teacher's error.") in text


def test_without_a_pool_as_large_as_the_labeled_set_the_passes_are_not_matched():
    """A 500-input pool makes more passes than `direct` in the chapter's steps, so there are no fewer passes to
    separate, even though the ladder trains it at `direct`'s passes (in fewer steps)."""
    frame = _frame(0.73, {(500, 4200): (0.75, 0.1), (500, 2100): (0.74, 0.2)})
    n = pool_passes.numbers(frame, _params(), 0.4)
    assert n["equal"] and "gain_equal" not in n and "gain_short" not in n
    assert pool_passes.short_sentence(n) == "" and pool_passes.kind(n) == "unmatched"
    assert pool_passes.sentence(n).endswith("No pool here is at least as large as the labeled set, so none makes "
                                            "fewer passes than `direct`'s 538 in the chapter's steps: there are no "
                                            "fewer passes for this run to separate from the pool's size.")


def test_short_sentence_for_the_findings_page():
    n = pool_passes.numbers(_frame(0.73, _grid(0.70)), _params(), 0.4)
    assert pool_passes.short_sentence(n) == (
        "At width 16 and 40% noise, the 25,000-input pool's students trained for as many passes as `direct` (538) are "
        "3.0 points below `direct`, against 4.0 points below `direct` at the chapter's steps (21.5 passes); fewer "
        "passes do not explain the gain, which comes with the pool's size at this width and rate.")
    assert pool_passes.short_sentence(None) == ""


def test_summary_says_each_rate_then_the_scope_once():
    p = _params()
    ns = {rate: pool_passes.numbers(_frame(0.73, _grid(0.70)), p, rate) for rate in (0.2, 0.4)}
    text = pool_passes.summary_line(ns)
    assert text.startswith("At label noise 20%, students of width 16") and "\n\nAt label noise 40%, students" in text
    assert text.endswith("\n\nAt each rate this is one width, one teacher and one draw of the data; the standard "
                         "errors cover the seeds only.")
    table = pool_passes.tables(ns)
    assert list(table.index.names) == ["label noise", "student"]
    assert table.loc[("40%", "direct, 1,000 noisy labels")].tolist() == ["", "", 73.0]


def test_study_is_off_without_student_sweep_noise():
    p = dict(_params(), student_sweep_noise=[])
    assert pool_passes.study_rates(p) == [] and pool_passes.planned_configs(p, None) == []
    assert pool_passes.run_study(p, {})[0] == {}
    assert pool_passes.all_numbers({}, p) == {} and pool_passes.tables({}) is None
    assert pool_passes.summary_line({}) == "No such study was run here (`student_sweep_noise` is empty)."


def test_plot_colours_pools_as_the_student_width_figure_does():
    """``direct`` and the main pool keep the student-width figure's first two colours, the smallest pool its third;
    the ticks are the passes as printed."""
    import seaborn as sns
    from matplotlib.colors import to_rgb

    from ddlib import book

    fig = pool_passes.plot(_frame(0.73, _grid(0.70)), _params(), 0.4)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["direct (1,000 noisy labels)", "hard_pool (25,000 teacher labels)",
                      "hard_pool (1,000 teacher labels)", "hard_pool (5,000 teacher labels)", "the widest teacher"]
    palette = sns.color_palette(book.PALETTE, 5)
    colours = [to_rgb(h.get_color()) for h in fig.legends[0].legend_handles[:4]]
    assert colours == [to_rgb(palette[i]) for i in (0, 1, 2, 4)]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["21.5", "108", "538"]



def test_step_levels_read_every_ladder_run_back_exactly():
    """Each run's level is read back from its pool and steps through the ladder, not by dividing and rounding: with
    a labeled set of 700 the steps are rounded, and every pair still maps back to its own level."""
    p = dict(_params(), n_train=700, pool_study_sizes=[1000, 5000, 25000])
    q, _, students = pool_passes.study_configs(p, 0.4, 16)
    base = students[0].train.steps  # `direct`'s: 300 epochs of 5 full batches of 128, twice
    levels = pool_passes.step_levels(p, base)
    assert base == 3000 and levels[(0, base)] == 700
    assert {(pool, level) for (pool, _), level in levels.items() if pool} == set(pool_passes.ladder(p))
    assert (1000, 4286) in levels  # 3000 x 1000 / 700 = 4285.7, rounded
    hard = [c for c in students if c.targets.method == "hard_pool"]
    assert sorted(levels[c.targets.pool_size, c.train.steps] for c in hard) == sorted(
        level for _, level in pool_passes.ladder(p) for _ in p["student_seeds"])


def test_direct_stopped_after_as_few_passes_as_the_largest_pool():
    """`direct` at the 25,000-input pool's 21.5 passes (168 steps): its change from its own passes, each pool there
    against it; and, of its shorter runs, the one closest to the largest pool's students at the same passes, and
    whether stopping that early does as well as the pool."""
    p = _params()
    grid = {**_grid(0.70), (1000, 168): (0.78, 0.4)}
    n = pool_passes.numbers(_frame(0.73, grid, direct_at={840: (0.73, 0.3), 168: (0.72, 0.5)}), p, 0.4)
    assert n["short"]["level"] == 25000 and n["short"]["cell"]["steps"] == 168
    assert n["short"]["change"]["diff"] == pytest.approx(-0.01) and n["short"]["change"]["lower"] == 3
    assert {pool: d["diff"] for pool, d in n["short"]["pools"].items()} == pytest.approx({1000: 0.06, 25000: -0.03})
    # 4 points above the pool at 108 passes, 3 at 21.5: the closest is 21.5
    assert n["closest"]["level"] == 25000 and n["gain_short"] == pytest.approx(0.03)
    assert n["gain_equal"] == pytest.approx(0.03)
    assert pool_passes.table(n).loc["direct, 1,000 noisy labels"].tolist() == [72.0, 73.0, 73.0]
    text = pool_passes.sentence(n)
    assert ("- **As few passes as the 25,000-input pool** (21.5): `direct`, stopped after 168 steps, ends at 72.0% "
            "test error (-1.0 points against its 538 passes, lower on 3 of 3 seeds, SE 0.0 points) with 50.0% on its "
            "noisy labels; `hard_pool` is at 78.0% on 1,000 inputs (6.0 points above `direct`, higher on 3 of 3 "
            "seeds, SE 0.1 points) and 69.0% on 25,000 inputs (3.0 points below `direct`, lower on 3 of 3 seeds, SE "
            "0.1 points).") in text
    assert (" Trained for as many passes as the 25,000-input pool's students but fewer than its own, `direct` comes "
            "closest to them at 21.5 passes (168 steps against their 4,200; picked on the test set, which favours "
            "`direct`), where it is 3.0 points above them (higher on 3 of 3 seeds, SE 0.1 points); stopping it early "
            "does not close the gap.") in text
    assert pool_passes.short_sentence(n).endswith("Stopped early, `direct` comes closest to them at 21.5 passes, 3.0 "
                                                  "points above them.")
    middle = pool_passes.numbers(_frame(0.73, grid, direct_at={840: (0.70, 0.3), 168: (0.72, 0.5)}), p, 0.4)
    assert middle["closest"]["level"] == 5000 and ("comes closest to them at 108 passes (840 steps against their "
                                                   "21,000;") in pool_passes.sentence(middle)
    assert "where it is 1.0 points above them (higher on 3 of 3 seeds, SE 0.1 points); stopping it that early does " \
        "about as well as the pool, so early stopping is a remedy too." in pool_passes.sentence(middle)
    # stopping that early does as well as the pool, or better
    same = pool_passes.numbers(_frame(0.73, grid, direct_at={168: (0.695, 0.5)}), p, 0.4)
    assert same["gain_short"] == pytest.approx(0.005)
    assert (" Trained for only the 25,000-input pool's 21.5 passes (168 steps against their 4,200), `direct` is 0.5 "
            "points above those students (higher on 3 of 3 seeds, SE 0.1 points); stopping it that early does about "
            "as well as the pool, so early stopping is a remedy too.") in pool_passes.sentence(same)
    # where the longer-trained pool loses the gain but `direct` stopped as early stays above: both are needed
    both = pool_passes.numbers(_frame(0.73, {**_grid(0.76), (1000, 168): (0.78, 0.4)}, direct_at={168: (0.72, 0.5)}),
                               p, 0.4)
    assert pool_passes.kind(both) == "lost" and ("stopping it early does not close the gap, so the gain needs both the "
                                                 "pool and the few passes over it.") in pool_passes.sentence(both)
    # no gap at the chapter's steps: stopping `direct` that early only makes it worse
    worse = pool_passes.numbers(_frame(0.695, grid, direct_at={168: (0.72, 0.5)}), p, 0.4)
    assert pool_passes.kind(worse) == "none" and "`direct` is 3.0 points above those students (higher on 3 of 3 " \
        "seeds, SE 0.1 points); stopping it that early makes it worse." in pool_passes.sentence(worse)
    better = pool_passes.sentence(pool_passes.numbers(_frame(0.73, grid, direct_at={168: (0.66, 0.5)}), p, 0.4))
    assert "`direct` is 3.0 points below those students (lower on 3 of 3 seeds, SE 0.1 points); stopped that early, " \
        "it does better than the pool." in better
    # without `direct` stopped early there is nothing to say of it
    plain = pool_passes.numbers(_frame(0.73, _grid(0.70)), p, 0.4)
    assert "short" not in plain and "gain_short" not in plain and "Stopped after" not in pool_passes.sentence(plain)
