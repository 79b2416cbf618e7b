"""The findings page: the training chapters' verdicts gathered claim by claim, each sentence worded from its table."""
import pytest

from conftest import cited_names, execute_chapter, glued_names, glued_value
from ddlib import ConfigError, config_hash
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
    assert glued_value(nb, "findings_c2_c3").startswith("In ")


def test_findings_takes_only_a_preset():
    assert findings.resolve_params("smoke") == {"preset": "smoke"}
    with pytest.raises(ConfigError, match="preset"):
        findings.resolve_params("huge")
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['label_noise'\] for chapter 'findings'"):
        findings.resolve_params("smoke", label_noise=0.1)


def _sweep(clear: bool, threshold, widest_best: bool, fits: bool = True) -> dict:
    return dict(clear_peak=clear, threshold_width=threshold, widest_width=64,
                best_widths=[64] if widest_best else [8], widest_train_error=0.0 if fits else 0.3,
                interpolation_tol=0.01)


def test_c1_sentence_counts_clear_peaks_and_widest_models():
    sweeps = {"the chapter's sweep": _sweep(False, 24, True), "40% label noise": _sweep(True, 24, True),
              "draw 1": _sweep(False, None, False, fits=False)}
    text = findings.c1_sentence(sweeps)
    assert text == ("The networks reach the interpolation threshold in 2 of the 3 sweeps; test error has a clear peak "
                    "(at least 2.0 points above the best narrower width and above the widest) in 1 of the 3 sweeps "
                    "(40% label noise); the widest model fits its noisy labels and has the lowest test error of its "
                    "sweep, or ties it as printed, in 2 of the 3. The second half of C1, a very wide model that "
                    "interpolates noisy labels and still does better than narrower ones, is what the distillation "
                    "chapter builds on: it holds in 2 of them here, not in draw 1.")
    assert findings.c1_sentence({"a": _sweep(False, 24, True)}).endswith("it holds in every sweep here.")


def _widest(teacher, hard_pool, direct, soft, beating=(5, 5)) -> dict:
    return dict(teacher=teacher, hard_pool=hard_pool, direct=direct, soft_kd_labeled=soft,
                seeds_beating_direct=beating[0], seeds_compared_direct=5,
                seeds_beating_soft_kd_labeled=beating[1], seeds_compared_soft_kd_labeled=5)


def test_c2_c3_table_and_sentence_read_the_printed_errors():
    rows = {"the chapter's: lr 0.001, width 16": _widest(.545, .545, .617, .573),
            "lr 0.01, width 16": _widest(.501, .474, .601, .602, beating=(5, 4))}
    table = findings.widest_table(rows)
    assert table.loc["hard_pool - teacher (points)", "lr 0.01, width 16"] == -2.7
    assert table.loc["gain over soft_kd_labeled (points)", "the chapter's: lr 0.001, width 16"] == 2.8
    assert table.loc["seeds beating direct / soft_kd_labeled", "lr 0.01, width 16"] == "5 of 5 / 4 of 5"
    stopped = dict(stopped=.592, hard_pool=.545, chosen=200)
    text = findings.c2_c3_sentence(rows, stopped)
    assert text == ("In 2 of the 2 settings the widest teacher's `hard_pool` student is within 5.0 points of its "
                    "teachers (C2), and in 1 it is at least 2.0 points better than them: lr 0.01, width 16. It beats "
                    "`direct` in 2 of the 2 (its smallest gain 7.2 points; lower error on 10 of the 10 seed-paired "
                    "comparisons) and `soft_kd_labeled` in 2 of the 2 (its smallest gain 2.8 points; lower error on 9 "
                    "of the 10 seed-paired comparisons), by at least 2.0 points (C3). Stopped early on the validation "
                    "set (at 200 epochs), `direct` ends at 59.2% at the chapter's rate, and the student still beats it "
                    "by 4.7 points.")
    assert findings.c2_c3_sentence(rows, dict(stopped, stopped=.55)).endswith(
        "the student is within the 2.0 points counted as clear of it.")
    assert findings.c2_c3_sentence(rows, dict(stopped, stopped=.52)).endswith("the student is 2.5 points worse than it.")


def _following(clear: bool, student_bump: float, pool=None) -> dict:
    return dict(n_widths=4, teacher={4: .6, 64: .5}, correlation=0.9, peak_width=16, narrow_width=12,
                teacher_bump=0.029 if clear else 0.003, student_bump=student_bump, clear_peak=clear, pool=pool)


def test_c4_says_whether_students_inherit_a_clear_peak_and_what_the_pool_does():
    rows = {"the chapter's: lr 0.001, width 16": _following(False, 0.003, (.663, .545, 1000, 25000)),
            "40% label noise, width 16": _following(True, 0.029)}
    table = findings.c4_table(rows)
    assert table.loc["40% label noise, width 16", "teachers there (points)"] == "+2.9"
    assert table.loc["40% label noise, width 16", "widest teacher's student by pool size (%)"] == "not run"
    assert table.loc["the chapter's: lr 0.001, width 16", "widest teacher's student by pool size (%)"] == (
        "66.3 on 1,000, 54.5 on 25,000")
    assert findings.c4_sentence(rows) == (
        "The teachers' curve has a clear peak in 1 setting (40% label noise, width 16). There the students of the "
        "peak's teachers are at least 2.0 points worse than those of the best narrower teacher: the students inherit "
        "the peak. In the other setting the teachers' curve has no clear peak, so a high correlation there says only "
        "that a better teacher makes a better student. A larger pool, at the same number of steps, lowers the widest "
        "teacher's student's error in the one setting where the pool size was varied.")
    rows["40% label noise, width 16"] = _following(True, 0.010)
    assert "in 0 of them: the students do not always inherit the peak" in findings.c4_sentence(rows)
