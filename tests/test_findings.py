"""The findings page: the training chapters' verdicts gathered claim by claim, each sentence worded from its table."""
import pytest

from conftest import cited_names, execute_chapter, glued_names, glued_value
from ddlib import ConfigError, config_hash
from ddlib.chapters import closed_form_findings as closed_form
from ddlib.chapters import findings


def test_findings_page_smoke_reads_every_run_of_both_chapters(results_dir, tmp_path):
    """Executed alone at `smoke`, the page trains the two chapters' runs (nothing else) and glues every sentence its
    prose cites; its tables name every setting the chapters run."""
    nb = execute_chapter("findings", tmp_path / "findings.ipynb", preset="smoke")
    assert cited_names("findings") <= glued_names(nb)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    planned = {config_hash(c) for c in findings.planned_configs(findings.resolve_params("smoke"))}
    assert f"whole chapter, each run once: runs: {len(planned)} computed, 0 reused" in text
    assert len(list((results_dir / "store").glob("*.json"))) == len(planned)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    for setting in ("the chapter's sweep", "40% label noise", "draw 1", "learning rate 0.01",  # C1
                    "the chapter's: lr 0.001, width 4", "draw 1, width 4", "lr 0.01, width 4"):  # C2 and C3
        assert setting in html
    assert glued_value(nb, "findings_c1").startswith("The networks reach the interpolation threshold in")
    assert glued_value(nb, "findings_c2_c3").startswith("C2: the widest teacher's `hard_pool` student is within")
    # smoke distils two teacher widths: no correlation, said so in the table
    assert "– (fewer than 3 widths)" in html
    # the closed-form chapter's answers, recomputed at the same preset
    for column in ("linear, a = 0 (exact risk)", "random features, tuned ridge (test error %)",
                   "teacher at its peak, N/n = 1", "the student (M = 100) fitted to the 100 labeled inputs, min-norm"):
        assert column in html
    assert glued_value(nb, "findings_closed_c1").startswith("In linear regression ($n$ = 20 samples, up to $D$ = 80")
    assert glued_value(nb, "findings_closed_c2_c4").startswith("- **C2.** From the widest teacher")
    assert glued_value(nb, "findings_student_widths").startswith("At label noise 40%, neither the students of the "
                                                                 "labeled set (`direct`) nor those of the pool")
    widths = glued_value(nb, "findings_student_widths")
    assert ("The 1,000-input pool's students there also make fewer passes over it (4.0) than `direct` over the "
            "labeled set (20); the distillation chapter's {ref}`study of pool size against passes <kd-pool-passes>` "
            "separates the two. At width 64 and 40% noise, the 1,000-input pool's students trained for as many passes "
            "as `direct` (20) are") in widths


def test_findings_takes_only_a_preset():
    assert findings.resolve_params("smoke") == {"preset": "smoke"}
    with pytest.raises(ConfigError, match="preset"):
        findings.resolve_params("huge")
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['label_noise'\] for chapter 'findings'; it takes "
                                          r"no parameter but `preset`"):
        findings.resolve_params("smoke", label_noise=0.1)


def _sweep(clear: bool, threshold, widest_best: bool, lead: float = 0.03, fits: bool = True) -> dict:
    return dict(clear_peak=clear, threshold_width=threshold, widest_width=64, best_widths=[64] if widest_best else [8],
                widest_train_error=0.0 if fits else 0.3, interpolation_tol=0.01, widest_test_error=0.50,
                runner_up_test_error=0.50 + lead)


def test_c1_sentence_counts_clear_peaks_and_tells_a_clear_lead_from_a_tie():
    sweeps = {"the chapter's sweep": _sweep(False, 24, True), "40% label noise": _sweep(True, 24, True, lead=0.0),
              "draw 1": _sweep(False, None, False, fits=False)}
    assert findings.c1_sentence(sweeps) == (
        "The networks reach the interpolation threshold in 2 of the 3 sweeps, and test error has a clear peak (at "
        "least 2.0 points above the best narrower width and above the widest) in 1 of the 3 sweeps: 40% label noise. "
        "For C1's second half, the widest model fits its training labels and no narrower width has a lower test error "
        "in 2 of the 3 sweeps; it beats every narrower width by at least 2.0 points in 1 of them, and only ties or "
        "leads by less in 40% label noise.")
    assert findings.c1_sentence({"a": _sweep(False, 24, True)}) == (
        "The networks reach the interpolation threshold in the one sweep, and test error has a clear peak (at least "
        "2.0 points above the best narrower width and above the widest) in no sweep. For C1's second half, "
        "the widest model fits its training labels and no narrower width has a lower test error in the one sweep; it "
        "beats every narrower width by at least 2.0 points in 1 of them.")


def _widest(teacher, hard_pool, direct, soft, beating=(5, 5), soft_pool=float("nan")) -> dict:
    return dict(teacher=teacher, hard_pool=hard_pool, direct=direct, soft_kd_labeled=soft, soft_kd_pool=soft_pool,
                seeds_beating_direct=beating[0], seeds_compared_direct=5, gain_se_direct=0.009,
                seeds_beating_soft_kd_labeled=beating[1], seeds_compared_soft_kd_labeled=5,
                gain_se_soft_kd_labeled=float("nan"))


def test_c2_c3_table_and_sentence_read_the_printed_errors():
    rows = {"the chapter's: lr 0.001, width 16": _widest(.545, .545, .617, .573, soft_pool=.551),
            "lr 0.01, width 16": _widest(.501, .474, .601, .485, beating=(5, 4), soft_pool=.468)}
    table = findings.widest_table(rows)
    assert list(table.columns) == list(rows) and table.columns.name == "setting"
    assert table.loc["hard_pool - teacher (points)", "lr 0.01, width 16"] == -2.7
    assert table.loc["gain over soft_kd_labeled (points)", "the chapter's: lr 0.001, width 16"] == 2.8
    assert table.loc["seeds beating direct (SE of gain)", "lr 0.01, width 16"] == "5 of 5 (SE 0.9)"
    assert table.loc["seeds beating soft_kd_labeled (SE of gain)", "lr 0.01, width 16"] == "4 of 5"  # no SE: nan
    stopped = dict(stopped=.592, hard_pool=.545, chosen=200)
    text = findings.c2_c3_sentence(rows, stopped)
    assert text == (
        "C2: the widest teacher's `hard_pool` student is within 5.0 points of its teachers in 2 of the 2 settings, and "
        "at least 2.0 points better than them in 1: lr 0.01, width 16. C3: it beats `direct` in 2 of the 2 settings "
        "and `soft_kd_labeled` in 1 of the 2 settings (not in lr 0.01, width 16, where it gains 1.1 points), by at "
        "least 2.0 points. Soft targets on the same pool (`soft_kd_pool`) come within 2.0 points of it in 2 of the 2 "
        "settings: there the gain over `soft_kd_labeled` comes from the pool, not from the hard labels. Stopped early "
        "on the validation set (at 200 epochs), `direct` ends at 59.2% at the chapter's rate, and the student still "
        "beats it by 4.7 points.")
    every = {label: dict(r, seeds_beating_soft_kd_labeled=5) for label, r in rows.items()}
    assert "by at least 2.0 points, and it has the lower error on every seed of every setting." in (
        findings.c2_c3_sentence(every, None))
    assert findings.c2_c3_sentence(rows, dict(stopped, stopped=.55)).endswith(
        "the student is within the 2.0 points counted as clear of it.")
    assert findings.c2_c3_sentence(rows, dict(stopped, stopped=.52)).endswith("the student is 2.5 points worse than it.")
    nan = {label: dict(r, hard_pool=float("nan")) for label, r in rows.items()}
    assert findings.c2_c3_sentence(nan, None).startswith("No setting here has a `hard_pool` student")


def _following(clear: bool, student_bump: float, pool=None, compared=True) -> dict:
    return dict(distilled=[4, 12, 16, 64], correlation=0.9, peak_width=16, narrow_width=12, widest=64,
                teacher_bump=0.029 if clear else 0.003, student_bump=student_bump, student_peak_over_widest=0.05,
                bump_se=0.012, bump_positive=4, bump_seeds=[.03] * 5, clear_peak=clear, compared=compared, pool=pool)


def test_c4_says_how_students_follow_a_clear_peak_and_what_the_pool_does():
    rows = {"the chapter's: lr 0.001, width 16": _following(False, 0.003, (.663, .545, 1000, 25000)),
            "40% label noise, width 16": _following(True, 0.029)}
    table = findings.c4_table(rows)
    assert table.loc["teachers there (points)", "40% label noise, width 16"] == "+2.9"
    assert table.loc["widest teacher's student by pool size (%)", "40% label noise, width 16"] == "not run"
    assert table.loc["widest teacher's student by pool size (%)", "the chapter's: lr 0.001, width 16"] == (
        "66.3 on 1,000, 54.5 on 25,000")
    assert findings.c4_sentence(rows) == (
        "At 40% label noise, width 16, the teachers' curve has a clear peak (2.9 points): the students of the peak's "
        "teachers are 2.9 points worse than those of the best narrower teacher (standard error of the seed-paired "
        "difference 1.2 points; higher on 4 of 5 seeds), so they inherit the peak, coming back down at the widest "
        "teacher. In the other setting (the chapter's: lr 0.001, width 16) the teachers' curve has no clear peak, so "
        "the correlation there, whatever its value, says only that a better teacher makes a better student. A larger "
        "pool, at the same number of steps, lowers the error of the widest teacher's student (by at least 0.5 points) "
        "in the one setting where the pool size was varied.")
    rows["40% label noise, width 16"] = _following(True, 0.010)
    assert "so they keep part of it, less than the 2.0 points counted as clear." in findings.c4_sentence(rows)
    rows["40% label noise, width 16"] = dict(_following(True, 0.029), student_peak_over_widest=0.01)
    assert "so they rise with it but do not come back down" in findings.c4_sentence(rows)
    # the peak's two widths not both distilled: no student comparison, and none in the table
    rows["40% label noise, width 16"] = _following(True, 0.029, compared=False)
    assert findings.c4_sentence(rows).startswith(
        "At 40% label noise, width 16, the teachers' curve has a clear peak (width 16 over 12), but not both of those "
        "widths were distilled, so no students compare.")
    assert findings.c4_table(rows).loc["students there (points)", "40% label noise, width 16"] == "–"


# --- in closed form -------------------------------------------------------------------------------------------------

def _closed_c1(peak_error: float, widest_error: float, tuned_rise: float, clean_peak: float = 0.85) -> dict:
    """Closed-form C1 inputs by hand: two linear curves (equal weights: the widest is best; decaying: an
    under-parameterised width is, with a second descent to p = 9 before the widest), n = 4, D = 20; one
    random-features curve with noisy labels, n = 10."""
    import pandas as pd
    linear = pd.DataFrame(
        [dict(beta_decay=0.0, p=p, theory=t) for p, t in ((1, 1.1), (2, 1.2), (6, 9.0), (9, 1.0), (20, 0.9))]
        + [dict(beta_decay=1.0, p=p, theory=t) for p, t in ((1, 0.5), (2, 0.2), (6, 3.0), (9, 0.6), (20, 0.9))])
    ridge = pd.DataFrame([dict(labels="noisy", N=N, ridge=lam, repeat=0, test_error=e)
                          for N, e0, e1 in ((5, 0.70, 0.68), (10, peak_error, 0.66), (50, widest_error, 0.60))
                          for lam, e in ((0.0, e0), (1e-3, e1))])
    ridge_numbers = dict(noisy_tuned_max_rise_err=tuned_rise, noisy_tuned_at_peak_err=0.66, clean_peak_err=clean_peak,
                         clean_peak_err_ratio=1.0, clean_smallest_err=0.70, clean_widest_err=0.55,
                         noisy_widest_err=widest_error)
    return dict(params=dict(lin_n=4, lin_d=20, lin_sigma=0.25, lin_beta_decays=[0.0, 1.0], n_train=10,
                            label_noise=0.2),
                linear_frame=linear, ridge_frame=ridge, linear=dict(lin_null_risk=1.0625), ridge=ridge_numbers)


def test_closed_form_c1_table_reads_each_curve_on_both_sides_of_its_threshold():
    table = closed_form.c1_table(_closed_c1(0.90, 0.65, 0.0))
    assert list(table.index) == list(closed_form.C1_ROWS)
    assert list(table["linear, a = 1 (exact risk)"]) == [
        "0.500 (p = 1)", "0.200 (p = 2)", "3.000 (p = 6)", "0.600 (p = 9)", "0.900 (p = 20)"]
    assert list(table["random features, min-norm (test error %)"]) == [
        "70.0 (N = 5)", "70.0 (N = 5)", "90.0 (N = 10)", "65.0 (N = 50)", "65.0 (N = 50)"]
    assert list(table["random features, tuned ridge (test error %)"])[2:] == [
        "66.0 (N = 10)", "60.0 (N = 50)", "60.0 (N = 50)"]
    narrow_only = _closed_c1(0.90, 0.65, 0.0)
    narrow_only["params"]["lin_n"] = 1  # no width below the threshold; p = 3 stands for it and is not on the grid
    assert list(closed_form.c1_table(narrow_only)["linear, a = 0 (exact risk)"])[1:3] == ["–", "–"]


def test_closed_form_c1_sentence_says_where_the_widest_model_is_not_best():
    assert closed_form.c1_sentence(_closed_c1(0.90, 0.65, 0.0)) == (
        "In linear regression ($n$ = 4 samples, up to $D$ = 20 Gaussian features, noise $\\sigma$ = 0.25; predicting "
        "zero has risk 1.062), the exact risk is infinite for $n - 1 \\le p \\le n + 1$ and falls again past it: with "
        "equal weights, the widest model ($p = D$) has the lowest risk, 0.900, 15% below predicting zero; with weights "
        "decaying as $j^{-1}$, the lowest risk is 0.200, under-parameterised at $p$ = 2; past the threshold the risk "
        "falls to 0.600 at $p$ = 9 and rises again to 0.900 at $p = D$. Double descent is a statement about the peak, "
        "not a promise that the widest model is best. With random ReLU features of MNIST-1D ($n$ = 10 samples, 20% of "
        "their labels noisy), the min-norm test error peaks clearly (90.0% at $N/n$ = 1, 20.0 points above the best "
        "narrower width and the widest, near the chance level of 90%), and the widest model has the lowest error of "
        "all widths. With clean labels it peaks too (85.0% at $N/n$ = 1), so the peak does not need label noise; at "
        "the widest width the noise costs 10.0 points (65.0% against 55.0%). A ridge tuned on the test set (an "
        "oracle) removes the peak: from one width to the next its error rises by at most 0.0 points, and at $N = n$ it "
        "is 66.0%.")
    flat = closed_form.c1_sentence(_closed_c1(0.715, 0.70, 0.0, clean_peak=0.71))
    assert ("the min-norm test error has no clear peak (its highest, 71.5% at $N/n$ = 1, is less than 2.0 points "
            "above the best narrower width or the widest), and the widest model has the lowest error of all widths. "
            "With clean labels it barely peaks (71.0% at $N/n$ = 1); at the widest width the noise costs 15.0 points "
            "(70.0% against 55.0%). A ridge tuned on the test set (an oracle) gives an essentially monotone "
            "curve") in flat
    rising = closed_form.c1_sentence(_closed_c1(0.60, 0.65, 0.03))
    assert ("the min-norm test error has no peak inside the sweep: it is highest at the narrowest width (70.0% at "
            "$N/n$ = 0.5), and the widest model (65.0%) is not the best width (60.0% at $N/n$ = 1)") in rising
    assert "A ridge tuned on the test set (an oracle) still rises somewhere" in rising
    # every decay's widest model best: no caveat
    best = _closed_c1(0.90, 0.65, 0.0)
    best["params"]["lin_beta_decays"] = [0.0]
    assert "not a promise" not in closed_form.c1_sentence(best)


@pytest.fixture(scope="module")
def closed_smoke():
    return closed_form.gather("smoke")


def test_closed_form_distillation_table_reads_each_row_from_its_number(closed_smoke):
    out = closed_smoke["distill"]
    table = closed_form.distillation_table(closed_smoke)
    assert list(table.columns) == ["teacher at its peak, N/n = 1", "widest teacher, N/n = 3"]
    keys = ["teacher", "hard_large", "soft_large", "hard_small"]
    for row, key in zip(table.index, keys):
        peak = "teacher_peak_err" if key == "teacher" else f"{key}_at_peak_err"
        widest = "teacher_widest_err" if key == "teacher" else f"{key}_widest_err"
        assert table.loc[row].tolist() == [f"{100 * out[peak]:.1f}", f"{100 * out[widest]:.1f}"], row
    assert table.index[1] == "hard-label student, P = 800 (P/M = 8)"
    assert table.iloc[4].tolist() == [f"{100 * out['student_labels_err']:.1f}"] * 2
    assert table.iloc[5].tolist() == [f"{100 * out['student_labels_tuned_err']:.1f}"] * 2
    text = closed_form.c2_c4_sentence(closed_smoke)
    assert [line[:9] for line in text.splitlines()] == ["- **C2.**", "- **C3.**", "- **C4.**"]


def _closed_out(closed, **changes) -> dict:
    return dict(closed, distill=dict(closed["distill"], **changes))


def test_closed_form_c2_and_c3_words_follow_the_numbers(closed_smoke):
    teacher = closed_smoke["distill"]["teacher_widest_err"]
    better = closed_form.c2_c4_sentence(_closed_out(closed_smoke, hard_large_widest_err=teacher - 0.03,
                                                    student_labels_err=teacher + 0.10,
                                                    student_labels_tuned_err=teacher - 0.03,
                                                    soft_large_widest_err=teacher - 0.02,
                                                    hard_small_widest_err=teacher - 0.03, hard_large_beats_teacher=0))
    assert "3.0 points below the teacher: close to it and at least 2.0 points better. Over all 3 teacher widths it " \
           "is below its teacher (as printed) at none of them." in better
    assert ("13.0 points worse than the distilled student: the distilled student beats it, but with $M = n$ that fit "
            "sits at its own interpolation peak") in better
    assert ("level with the distilled student: the distilled student does not beat it, so against the labeled set its "
            "gain is over the unregularised fit.") in better
    assert "1.0 points worse than the hard-label student, less than the 2.0 points counted as clear;" in better
    assert "The pool's size changes little (less than 0.5 points)" in better and "the same as on the largest" in better
    far = closed_form.c2_c4_sentence(_closed_out(closed_smoke, hard_large_widest_err=teacher - 0.08,
                                                 hard_small_widest_err=teacher - 0.11))
    assert "8.0 points below the teacher: more than 5.0 points better than it." in far
    assert "The larger pool does not help" in far and "3.0 points better than on the largest pool" in far
    worse = closed_form.c2_c4_sentence(_closed_out(closed_smoke, hard_large_widest_err=teacher + 0.08))
    assert "8.0 points above the teacher: not close to it." in worse
    no_tuned = dict(closed_smoke["distill"])
    del no_tuned["student_labels_tuned_err"]
    assert "ridge tuned" not in closed_form.c2_c4_sentence(dict(closed_smoke, distill=no_tuned))


def test_closed_form_c4_follows_inherits_and_pool_words(closed_smoke):
    out = closed_smoke["distill"]
    spread = out["teacher_err_spread"]
    inherited = closed_form.c2_c4_sentence(_closed_out(
        closed_smoke, teacher_peak_err=0.90, teacher_widest_err=0.70, hard_large_at_peak_err=0.88,
        soft_large_at_peak_err=0.87, hard_large_widest_err=0.72, soft_large_widest_err=0.71,
        hard_small_widest_err=0.80, soft_large_max_abs_gap=0.01, hard_large_max_abs_gap=0.02))
    assert "- **C4.** Both kinds of student follow the teachers' curve" in inherited
    assert "They inherit its peak: the hard-label student is 16.0 points worse from the teacher at" in inherited
    assert ("The larger pool helps: on a pool only as large as the student (P/M = 1) the hard-label student gets "
            "80.0% from the widest teacher, 8.0 points worse than on the largest pool (P/M = 8).") in inherited
    for changes, words in ((dict(hard_large_max_abs_gap=spread), "Only the soft-target student follows"),
                           (dict(soft_large_max_abs_gap=spread), "Only the hard-label student follows"),
                           (dict(soft_large_max_abs_gap=spread, hard_large_max_abs_gap=spread),
                            "Neither kind of student follows")):
        text = closed_form.c2_c4_sentence(_closed_out(closed_smoke, **changes))
        assert f"- **C4.** {words} the teachers' curve" in text and "inherit" not in text
