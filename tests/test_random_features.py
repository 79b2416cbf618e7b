"""Closed-form least squares, the Belkin-Hsu-Xu risk, and the random-features chapter."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO

from ddlib.chapters import random_features as rf
from ddlib.random_features import (RandomReLUFeatures, belkin_hsu_xu_risk, block_metrics, classification_error,
                                   fit_ridge_path, gram_solve, min_norm_solve, onehot_mse, simulate_linear_risk)
from ddlib.validation import ConfigError


@pytest.mark.parametrize("n,p", [(30, 10), (30, 29), (20, 20), (10, 25), (15, 60)])
def test_min_norm_matches_numpy_lstsq(n, p):
    rng = np.random.default_rng(n * 100 + p)
    x, y = rng.standard_normal((n, p)), rng.standard_normal((n, 3))
    expected = np.linalg.lstsq(x, y, rcond=None)[0]  # the min-norm least-squares solution
    got = min_norm_solve(x, y).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(min_norm_solve(x, y[:, 0]).numpy(), expected[:, 0], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("n,p", [(30, 10), (10, 25)])
def test_ridge_matches_closed_form(n, p):
    rng = np.random.default_rng(7 + p)
    x, y = rng.standard_normal((n, p)), rng.standard_normal((n, 2))
    for lam in (1e-3, 0.5, 10.0):
        expected = np.linalg.solve(x.T @ x + lam * np.eye(p), x.T @ y)
        np.testing.assert_allclose(min_norm_solve(x, y, ridge=lam).numpy(), expected, rtol=1e-8, atol=1e-10)


def test_batched_solve_and_singular_fallback():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 12, 5))
    y = rng.standard_normal((4, 12))
    got = min_norm_solve(x, y).numpy()
    for b in range(4):
        np.testing.assert_allclose(got[b], np.linalg.lstsq(x[b], y[b], rcond=None)[0], rtol=1e-8)
    # An exactly singular Gram matrix (Cholesky and LU fail): the eigen fall-back returns the
    # min-norm solution of the Gram system, as numpy's pinv would.
    gram = torch.diag(torch.tensor([2.0, 0.0, 1.0], dtype=torch.float64))
    gram[0, 2] = gram[2, 0] = 0.5
    rhs = torch.tensor([[1.0], [0.0], [2.0]], dtype=torch.float64)
    sol = gram_solve(gram, rhs)
    np.testing.assert_allclose(sol.numpy(), np.linalg.pinv(gram.numpy()) @ rhs.numpy(), atol=1e-10)
    # A rank-deficient wide design: X^T z is the same for every solution z of the Gram system,
    # so the min-norm solution comes out even though X X^T is singular.
    x = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 9))
    y = x @ rng.standard_normal(9)
    np.testing.assert_allclose(min_norm_solve(x, y).numpy(), np.linalg.lstsq(x, y, rcond=None)[0], atol=1e-6)


def test_fit_ridge_path_drops_dead_features_exactly():
    rng = np.random.default_rng(5)
    phi = np.abs(rng.standard_normal((20, 8)))
    phi[:, [2, 5]] = 0.0  # two features that never fire on the training set
    y = rng.standard_normal((20, 3))
    theta0, theta1 = fit_ridge_path(torch.from_numpy(phi), y, [0.0, 0.3])
    np.testing.assert_allclose(theta0.numpy(), np.linalg.lstsq(phi, y, rcond=None)[0], atol=1e-9)
    expected = np.linalg.solve(phi.T @ phi + 0.3 * np.eye(8), phi.T @ y)
    np.testing.assert_allclose(theta1.numpy(), expected, atol=1e-9)
    # Over-parameterised side, through the n x n Gram matrix.
    wide = np.abs(rng.standard_normal((6, 15)))
    (theta,) = fit_ridge_path(torch.from_numpy(wide), y[:6], [0.0])
    np.testing.assert_allclose(theta.numpy(), np.linalg.lstsq(wide, y[:6], rcond=None)[0], atol=1e-9)


def test_random_features_and_metrics():
    feats = RandomReLUFeatures(4, 7, seed=[0, 7])
    again = RandomReLUFeatures(4, 7, seed=[0, 7])
    x = np.random.default_rng(0).standard_normal((9, 4))
    assert torch.equal(feats(x), again(x))
    assert feats(x).shape == (9, 7) and bool((feats(x) >= 0).all())
    theta = torch.randn(7, 3, dtype=torch.float64)
    np.testing.assert_allclose(feats.predict(x, theta, chunk=2).numpy(), (feats(x) @ theta).numpy())
    out = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    labels = np.array([0, 0, 0])
    assert classification_error(out, labels) == pytest.approx(1 / 3)
    assert onehot_mse(out, labels) == pytest.approx((1 + 2 + 0) / 3)
    err, mse = block_metrics(torch.cat([out, out.flip(1)], 1), labels, 2)
    assert err[0] == pytest.approx(1 / 3) and err[1] == pytest.approx(2 / 3)
    assert mse[0] == pytest.approx(1.0)


def test_belkin_hsu_xu_formula_special_values():
    beta = np.ones(50) / np.sqrt(50)
    risk = belkin_hsu_xu_risk(10, [0, 5, 9, 10, 11, 12, 50], beta, sigma=0.5)
    assert risk[0] == pytest.approx(1 + 0.25)  # p = 0: null model
    assert risk[1] == pytest.approx((45 / 50 + 0.25) * (1 + 5 / 4))
    assert np.isinf(risk[2:5]).all()
    assert risk[6] == pytest.approx(1 - 10 / 50 + 0.25 * (1 + 10 / 39))


@pytest.mark.parametrize("p", [5, 10, 40, 80])
@pytest.mark.parametrize("full", [False, True])
def test_simulation_matches_theory_away_from_peak(p, full):
    n, d, sigma = 20, 100, 0.3
    beta = np.arange(1, d + 1) ** -0.5
    beta /= np.linalg.norm(beta)
    risks = simulate_linear_risk(n, p, beta, sigma, trials=800, seed=p, full=full)
    mean, se = risks.mean(), risks.std(ddof=1) / np.sqrt(len(risks))
    theory = belkin_hsu_xu_risk(n, p, beta, sigma)[0]
    assert abs(mean - theory) < 4 * se, (mean, se, theory)


@pytest.mark.parametrize("name,value,fragment", [
    ("n_train", 0, "n_train"),
    ("label_noise", 1.0, "label_noise"),
    ("rf_ratios", [], "rf_ratios"),
    ("rf_ratios", [1.0, -2.0], "rf_ratios"),
    ("ridges", [0.0], "ridges"),
    ("pool_sizes", [100, 0], "pool_sizes"),
    ("lin_d", 30, "lin_d"),
    ("lin_trials", 1, "lin_trials"),
    ("student_ratio", 0, "student_ratio"),
    ("lin_beta_decays", [-1.0], "lin_beta_decays"),
    ("seed", -1, "seed"),
    ("peak_student_ratios", [0.5, 0.0], "peak_student_ratios"),
])
def test_resolve_params_refuses_bad_values(name, value, fragment):
    with pytest.raises(ConfigError, match=fragment):
        rf.resolve_params("smoke", **{name: value})


def test_resolve_params_presets_and_unknown():
    for preset in rf.PRESETS:
        params = rf.resolve_params(preset)
        assert params["preset"] == preset
    assert rf.resolve_params("default", n_train="300")["n_train"] == 300
    assert rf.resolve_params("default", pool_sizes="100,200")["pool_sizes"] == [100, 200]
    with pytest.raises(ConfigError, match="preset"):
        rf.resolve_params("huge")
    with pytest.raises(ConfigError, match="unknown parameter"):
        rf.resolve_params("smoke", width=3)


def test_chapter_smoke_notebook(results_dir, tmp_path):
    from conftest import cited_names, execute_chapter, glued_names, output_mime_types

    executed = execute_chapter("random-features", tmp_path / "random-features.ipynb", preset="smoke")
    assert "image/png" in output_mime_types(executed)
    assert cited_names("random-features") <= glued_names(executed)  # every number the prose cites was glued
    table = results_dir / "random-features" / "smoke" / "results.csv"
    assert table.exists()
    import pandas as pd

    frame = pd.read_csv(table)
    assert set(frame.study) == {"linear", "ridge", "distillation", "student-peak"}


def test_each_students_peak_is_at_its_own_width_not_at_n():
    """The student-peak study on real features: every student width's test MSE peaks at P = M, not at P = n, which
    every student is also fitted at; the M = n student at P = n is study 3's hard-label student of the widest
    teacher; the sentence's three verdicts follow the peaks."""
    from ddlib.chapters import student_peak

    params = rf.resolve_params("smoke", peak_student_ratios=[0.5, 1.0, 2.0, 0.504])  # 0.504 rounds to M = 50 again
    data = rf.load_mnist1d(params)
    frame = student_peak.run_student_peak(params, data)
    assert sorted(frame["M"].unique()) == [50, 100, 200]  # widths that round alike are one student
    assert frame["N"].unique().tolist() == [max(rf.widths(100, params["teacher_ratios"]))]  # the widest teacher
    assert ((frame["pool_size"] == 100).groupby(frame["M"]).sum() == 1).all()  # every student is fitted at P = n
    peaks = frame.loc[frame.groupby("M")["test_mse"].idxmax()]
    assert (peaks["pool_size"] == peaks["M"]).all()
    study3 = rf.run_distillation(params, data)
    same = study3[(study3["role"] == "student-hard") & (study3["pool_size"] == 100)
                  & (study3["N"] == frame["N"].iloc[0])].iloc[0]
    mine = frame[(frame["M"] == 100) & (frame["pool_size"] == 100)].iloc[0]
    assert mine["test_error"] == same["test_error"]  # study 3 solves every teacher's targets at once: MSE to rounding
    assert mine["test_mse"] == pytest.approx(same["test_mse"], rel=1e-9)
    said = student_peak.peak_numbers(frame)
    assert said["peak_follows_student"]
    assert "at $P/M$ = 1, 1 and 1, that is at $P/n$ = 0.5, 1 and 2; their test error there is" in said["peak_sentence"]
    assert said["peak_sentence"].endswith("not the labeled set's size $n$, so a pool's size is to be read against the "
                                          "student's $M$.")
    moved = frame.assign(test_mse=frame["test_mse"].where(frame["pool_size"] != 100, 1e9))  # every peak at P = n
    text = student_peak.peak_numbers(moved)
    assert not text["peak_follows_student"] and text["peak_sentence"].endswith("do not all sit at $P = M$ in this run.")
    alone = student_peak.peak_numbers(frame[frame["M"] == 100])  # M = n only: nothing told apart
    assert not alone["peak_follows_student"] and alone["peak_sentence"].endswith("cannot tell $P/M$ from $P/n$.")
    # a student wider than study 3's pool allows gets a draw of its own; study 3's pool is left as it is
    wide = rf.resolve_params("smoke", pool_sizes=[100], peak_student_ratios=[4.0])
    wide_data = rf.load_mnist1d(wide)
    assert len(wide_data["x_pool"]) == 100 and student_peak.run_student_peak(wide, wide_data)["pool_size"].max() == 800


WIDTHS = (50, 100, 200)  # synthetic teacher widths for n = 100; the middle one is at the MSE peak
TEACHER = (0.70, 0.89, 0.69)  # errors spread over 20.0 points: "follows" means within 5.0 points


def _study3(teacher, soft, hard=None, small=(0.9, 0.9, 0.9), mse=(400.0, 1.2), pools=(100, 800), m=100, tuned=None):
    """distillation_numbers of a synthetic study 3: the teachers of ``WIDTHS`` err ``teacher``; the student (``M = m``)
    errs ``small`` on the smallest pool and ``soft`` / ``hard`` on the largest; ``mse`` is the (soft, hard) student MSE
    distilled from the peaked teacher."""
    hard = soft if hard is None else hard
    rows = [dict(role="teacher", N=n, test_error=e, test_mse=900.0 if n == 100 else 1.0)
            for n, e in zip(WIDTHS, teacher)]
    rows += [dict(role="student-labels", N=n, M=m, test_error=0.895, test_mse=5.0) for n in WIDTHS]
    if tuned is not None:  # (error, ridge) of the labeled student with its oracle ridge
        rows += [dict(role="student-labels-tuned", N=n, M=m, test_error=tuned[0], test_mse=0.9, ridge=tuned[1])
                 for n in WIDTHS]
    for kind, errs, peak_mse in (("soft", soft, mse[0]), ("hard", hard, mse[1])):
        for pool, es in ((pools[0], small), (pools[1], errs)):
            rows += [dict(role=f"student-{kind}", N=n, M=m, pool_size=pool, test_error=e,
                          test_mse=peak_mse if n == 100 else 1.0) for n, e in zip(WIDTHS, es)]
    return rf.distillation_numbers(pd.DataFrame(rows), {"n_train": 100, "n_test": 500, "pool_sizes": list(pools)})


def test_small_pool_bullet_follows_its_numbers():
    """The closed-form chapter's small-pool bullet and its 'Second, ...' sentence are chosen by its own numbers
    (the large-pool students err as their teachers)."""
    spread = [0.70, 0.891, 0.692]
    as_bad = _study3(spread, spread, small=[0.888, 0.91, 0.90])
    assert as_bad["small_pool_head"] == "**A pool of the student's own size does not help.**"
    assert as_bad["small_pool_fit"].startswith("the student is again square")
    assert as_bad["small_pool_tail"] == (
        "Whatever the teacher, with soft or hard targets, it stays within 1.5 points of the same student fitted to "
        "the labels (89.5%); its error spans 2.2 points across teachers whose own errors span 19.9 points: the "
        "student's own peak dominates and little of the teacher shows through.")
    assert as_bad["small_pool_second"] == (
        "what makes a pool large is, by the algebra, its size against the student's $M$ features, not the labeled "
        "set's: the student's own peak is at $P = M$ whatever the teacher's $N$, which is why a pool of the student's "
        "own size ($P/M$ = 1) leaves distillation as bad as training on the labels, whatever the teacher (above). With "
        "$M = n$ here, this run alone does not tell $P/M$ from $P/n$; students of other widths, below, do.")
    helps = _study3(spread, spread, small=[0.80, 0.91, 0.90])
    assert helps["small_pool_head"] == "**A pool of the student's own size helps with some teachers.**"
    assert "9.5 points better than the same student fitted to the labels" in helps["small_pool_tail"]
    assert helps["small_pool_second"].startswith("a pool need not be far larger than the student here: even with a "
                                                 "pool of the student's own size ($P/M$ = 1), distillation beats")
    worse = _study3(spread, spread, small=[0.89, 0.95, 0.90], pools=(50, 800))
    assert worse["small_pool_head"] == "**The smallest pool does not help.**"
    assert "square" not in worse["small_pool_fit"] and worse["pool_small_over_m_text"] == "0.5"
    assert "5.5 points worse" in worse["small_pool_tail"] and "(up to 5.5 points worse, above)" in worse["small_pool_second"]
    assert "does not tell $P/M$ from $P/n$" in worse["small_pool_second"]  # M = n = 100 here too
    other_m = _study3(spread, spread, small=[0.888, 0.91, 0.90], m=200, pools=(200, 3200))
    assert other_m["small_pool_second"].endswith("whatever the teacher (above).")  # M = 2n: the run separates them
    flat = [0.89, 0.90, 0.895]
    level = _study3(flat, flat, small=flat)  # teachers no more spread than the students
    assert "little of the teacher shows through" not in level["small_pool_tail"]


def test_large_pool_bullet_follows_its_numbers():
    tracks = _study3(TEACHER, [0.71, 0.88, 0.70], [0.72, 0.89, 0.70])
    assert tracks["large_pool_head"] == ("**A large pool removes the student's peak and the student inherits the "
                                         "teacher's double descent.**")
    assert tracks["large_pool_fit"].startswith("the student has fewer features than pool points and is far from")
    assert tracks["teacher_err_spread_points"] == "20.0 points"
    assert tracks["large_pool_follow"] == ("both are within a quarter of that spread (5% and 10% of it): the student "
                                           "follows the teacher's curve")  # 1 and 2 points of 20
    off = _study3(TEACHER, [0.80, 0.89, 0.85])  # 16 points from the widest teacher
    assert off["large_pool_head"] == ("**A large pool takes the student off its own threshold, but the student does "
                                      "not follow the teacher's curve.**")
    assert off["large_pool_follow"].startswith("neither is within a quarter of that spread")
    mixed = _study3(TEACHER, [0.71, 0.88, 0.70], [0.80, 0.89, 0.85])
    assert mixed["large_pool_head"] == ("**A large pool removes the student's peak and the student follows the "
                                        "teacher's curve with soft targets, not with hard labels.**")
    assert mixed["large_pool_follow"] == ("only the soft-target student's is within a quarter of that spread (5% and "
                                          "80% of it), so only it follows the teacher's curve")
    flat = _study3((0.70, 0.75, 0.74), (0.70, 0.75, 0.74))  # the teacher at its peak is not clearly above the widest
    assert flat["large_pool_head"].endswith("and the student follows the teacher's curve.**")
    assert _study3(TEACHER, [0.75, 0.89, 0.69])["large_pool_follow"].startswith("both")  # 5.0 points: a quarter
    over = _study3(TEACHER, [0.751, 0.89, 0.69], TEACHER)  # 5.1 points with soft targets
    assert over["large_pool_follow"].startswith("only the hard-label")
    near = _study3(TEACHER, [0.71, 0.88, 0.70], pools=(100, 150))
    assert near["large_pool_fit"] == ("the student has fewer features than pool points but is still near its own "
                                      "threshold $P = M$")
    square = _study3(TEACHER, [0.71, 0.88, 0.70], pools=(50, 100))
    assert square["large_pool_head"].startswith("**Even the largest pool leaves the student interpolating the "
                                                "teacher's outputs, but the student inherits")
    assert square["large_pool_fit"].startswith("the student is square")
    assert "removes" not in _study3(TEACHER, [0.80, 0.89, 0.85], pools=(50, 100))["large_pool_head"]


def test_hard_label_bullet_follows_its_numbers():
    soft = [0.71, 0.88, 0.70]
    close = _study3(TEACHER, soft, [0.72, 0.89, 0.70])
    assert close["hard_labels_head"] == "**Hard labels tame the scale, not the error.**"
    assert close["hard_labels_error"].startswith("their errors differ by only 1.0 points, as the teacher's arg-max")
    lower = _study3(TEACHER, soft, [0.72, 0.84, 0.70])
    assert lower["hard_labels_head"] == "**Hard labels tame the scale and lower the error.**"
    assert lower["hard_labels_error"] == "hard labels also lower the error, by 4.0 points"
    higher = _study3(TEACHER, soft, [0.72, 0.90, 0.70])  # 2.0 points as printed: no longer "nearly the same"
    assert higher["hard_labels_head"] == "**Hard labels tame the scale but raise the error.**"
    assert higher["hard_labels_error"] == "hard labels also raise the error, by 2.0 points"
    same = _study3(TEACHER, soft, [0.72, 0.88, 0.70])["hard_labels_error"]
    assert same.startswith("their errors are the same, as the teacher")
    assert _study3(TEACHER, soft, mse=(5.0, 1.2))["hard_labels_head"] == (
        "**Hard labels shrink the scale less than 10-fold, and not the error.**")
    assert _study3(TEACHER, soft, mse=(1.0, 1.2))["hard_labels_head"] == (
        "**Hard labels do not shrink the scale or change the error.**")


def test_student_improvement_follows_its_numbers():
    worse = _study3(TEACHER, [0.71, 0.88, 0.70], [0.72, 0.89, 0.70])
    assert worse["student_improves"] == "the student does not *improve* on the teacher"
    assert worse["soft_large_mean_gap_vs_teacher"] == "0.3 points above the teacher's"
    slight = _study3(TEACHER, [e - 0.005 for e in TEACHER], [e + 0.01 for e in TEACHER])
    assert slight["student_improves"] == "the student does not *improve* on the teacher by much"
    better = _study3(TEACHER, [e - 0.005 for e in TEACHER], [e - 0.03 for e in TEACHER])
    assert better["student_improves"] == "the student does *improve* on the teacher, by up to 3.0 points on average"
    assert better["hard_large_mean_gap_vs_teacher"] == "3.0 points below the teacher's"


def test_peak_teacher_sentence_follows_its_numbers():
    soft, hard = [0.71, 0.88, 0.70], [0.72, 0.89, 0.70]
    stuck = _study3(TEACHER, soft, hard, small=(0.89,) * 3)["peak_teacher_third"]
    assert stuck.startswith("the student cannot escape a teacher at its peak: with the largest pool its error distilled "
                            "from that teacher is still 18.0 points (soft) and 19.0 points (hard) above its error "
                            "distilled from the widest teacher, and the largest pool does only 1.0 points better there "
                            "than the smallest (the better of soft and hard targets). The remedy is a better teacher")
    assert stuck.endswith("not a bigger pool.")
    no_better = _study3(TEACHER, soft, hard, small=(0.8,) * 3)["peak_teacher_third"]
    assert "does no better there than the smallest" in no_better
    helps = _study3(TEACHER, soft, hard, small=(0.95,) * 3)["peak_teacher_third"]
    assert "though the pool matters" in helps and "up to 7.0 points better than the smallest" in helps
    assert "not a bigger pool" not in helps
    escapes = _study3(TEACHER, [0.71, 0.71, 0.70], hard)["peak_teacher_third"]
    assert escapes == ("with the largest pool and soft targets, the student is not clearly worse distilled from a "
                       "teacher at its peak than from the widest one: distilled from that teacher, the soft-target "
                       "student's error is 1.0 points above its error distilled from the widest teacher and the "
                       "hard-label student's 19.0 points above its error distilled from the widest teacher.")
    assert "either kind" in _study3(TEACHER, [0.71, 0.71, 0.70])["peak_teacher_third"]


def test_the_improvement_comes_with_the_test_errors_standard_error():
    out = _study3(TEACHER, [0.71, 0.88, 0.70])
    level = sum(TEACHER) / len(TEACHER)  # 76%: a binomial standard error of 1.9 points over 500 test points
    assert out["test_err_se_points"] == f"{100 * (level * (1 - level) / 500) ** 0.5:.1f} points" == "1.9 points"


def test_the_labeled_students_tuned_ridge_and_the_widest_teacher_are_said_by_their_numbers():
    """The labeled-set student with its oracle ridge against the widest teacher's large-pool hard-label student
    (0.70 here); the widest teacher's gap to each student, beside one test error's standard error."""
    beaten = _study3(TEACHER, [0.71, 0.88, 0.70], tuned=(0.75, 1e-4))["tuned_labels_sentence"]
    assert "$\\lambda$ = 0.0001 of those in Section 2), the same student fitted to the labeled set gets 75.0%: " in beaten
    assert "the hard-label student beats it by 5.0 points. So" in beaten and "keeps part of it." in beaten
    close = _study3(TEACHER, [0.71, 0.88, 0.70], tuned=(0.69, 1e-3))["tuned_labels_sentence"]
    assert "gets 69.0%: 1.0 points better than the hard-label student, less than the 2.0 points" in close
    assert close.endswith("a tuned ridge removes it.")
    assert _study3(TEACHER, [0.71, 0.88, 0.70])["tuned_labels_sentence"] == ""  # no tuned row: nothing said
    gap = _study3(TEACHER, [0.71, 0.88, 0.716], [0.72, 0.89, 0.69])["widest_gap_sentence"]
    assert gap == ("From the widest teacher (69.0%), the paper's regime, the soft-target student is 2.6 points above "
                   "it and the hard-label student is level with it (one test error's standard error is about 1.9 "
                   "points).")


def test_the_tuned_ridge_at_the_edge_of_its_grid_is_said_to_be_so():
    """An oracle ridge that is the strongest tried is the best of the grid, not an optimum: counted per metric."""
    rows = []
    for n in (50, 100):
        for lam, err, mse in ((0.0, 0.9, 9.0), (1e-3, 0.8, 0.9), (1e-1, 0.7 if n == 50 else 0.85, 0.8)):
            rows += [dict(labels=labels, N=n, ridge=lam, repeat=0, test_error=err, test_mse=mse)
                     for labels in ("noisy", "clean")]
    note = rf.tuned_edge_note(pd.DataFrame(rows), {"ridges": [1e-3, 1e-1]})
    assert note == (" The tuned ridge is the strongest tried ($\\lambda$ = 0.1) for the error at 2 of the 4 (labels, "
                    "width) cases and for the MSE at 4 of the 4 (labels, width) cases: there the tuned curve is the best "
                    "of the ridges tried, not necessarily the best ridge.")
    assert rf.tuned_edge_note(pd.DataFrame(rows), {"ridges": [1e-3, 1e-1, 1.0]}) == ""  # a stronger one tried


def test_peak_heights_are_said_as_orders_of_magnitude():
    """Single draws at an exactly square fit have an infinite expected MSE: only their order is quoted."""
    from ddlib.chapters.student_peak import _orders

    assert _orders(pd.Series([357.0, 351_836.0])) == "$10^{2}$ to $10^{5}$"
    assert _orders(pd.Series([500.0, 900.0])) == "$10^{2}$"


def test_ridge_bullets_are_chosen_by_their_numbers():
    """Study 2's heads follow its numbers: the clean peak, the MSE's slower second descent, and the ridge."""
    base = dict(clean_peak_err=0.89, clean_smallest_err=0.74, clean_widest_err=0.61, noisy_smallest_err=0.765,
                noisy_widest_err=0.692, noisy_smallest_mse=0.898, noisy_widest_mse=1.192, noisy_peak_mse=4000.0,
                noisy_ridge_hi_max_mse=0.9, noisy_tuned_max_rise_err=0.009)
    w = rf.ridge_words(base)
    assert (w["clean_peak_head"], w["clean_peak_tail"]) == ("**Clean labels peak too**",
                                                            "Label noise is not needed for the peak.")
    assert w["mse_bullet"] == ("**The second descent is slower for the MSE than for the error.** At the widest width "
                               "the min-norm error (69.2%) is 7.3 points below the narrowest model's, and the "
                               "min-norm MSE (1.192) is still above the narrowest model's (0.898).")
    assert w["ridge_head"] == "**Ridge shrinks the peak, and a tuned ridge removes it.**"
    assert w["tuned_shape"].endswith("monotone curve:") and w["tuned_holds"].endswith("too.")
    flat = rf.ridge_words({**base, "clean_peak_err": 0.75})  # 1.0 point above the narrowest: no clean peak
    assert flat["clean_peak_head"] == "**Clean labels barely peak**" and "less than 2.0 points" in flat["clean_peak_tail"]
    below = rf.ridge_words({**base, "noisy_widest_mse": 0.8})
    assert below["mse_bullet"].startswith("**At the widest width** the min-norm error (69.2%) is 7.3 points below")
    assert "MSE (0.800) is below the narrowest model's (0.898)" in below["mse_bullet"]
    rises = rf.ridge_words({**base, "noisy_tuned_max_rise_err": 0.03})
    assert rises["ridge_head"] == "**Ridge shrinks the peak; a tuned ridge does not remove it.**"
    assert rises["tuned_shape"] == "The tuned ridge still rises somewhere:" and "does not hold" in rises["tuned_holds"]
    assert rf.ridge_words({**base, "noisy_ridge_hi_max_mse": 5000.0})["ridge_head"] == "**Ridge does not shrink the peak here.**"


def test_equal_weights_wins_over_the_null_model_at_p_equal_d_in_every_preset():
    """The chapter's fixed words 'more features than samples wins ... below the null model's' need the exact risk at
    p = D (equal weights) to be below the null risk ||beta||^2 + sigma^2 = 1 + sigma^2, and to be the lowest risk of
    every p (over all integer p but the divergent |p - n| <= 1)."""
    import numpy as np

    from ddlib.chapters import random_features as rf

    for preset in rf.PRESETS:
        p = rf.resolve_params(preset)
        n, d, sigma = p["lin_n"], p["lin_d"], p["lin_sigma"]
        beta = rf.linear_beta(d, p["lin_beta_decays"][0])
        risks = belkin_hsu_xu_risk(n, np.arange(1, d + 1), beta, sigma)
        assert risks[-1] < 1 + sigma ** 2, preset
        assert risks[-1] == np.nanmin(risks[np.isfinite(risks)]), preset


# ---------------------------------------------------------------- the page's notation and conventions

PAGE = " ".join((REPO / "book" / "random-features.md").read_text(encoding="utf-8").split())


def test_the_chapters_lambda_is_per_sample_and_the_library_gets_n_lambda():
    """One lambda on the whole page: the fit minimises (1/n)||X theta - Y||^2 + lambda ||theta||^2, which the library's
    solvers (plain sum, argument ``ridge``) give for ridge = n lambda; the page says so, and the chapter's own fits
    are that model."""
    rng = np.random.default_rng(11)
    lam = 0.01
    for n, p in ((30, 10), (12, 40)):
        x, y = rng.standard_normal((n, p)), rng.standard_normal((n, 3))
        ridge = rf.library_ridge(lam, n)
        assert ridge == pytest.approx(n * lam)
        (theta,) = fit_ridge_path(torch.from_numpy(x), y, [ridge])
        # the chapter's objective is stationary there: (2/n) X^T (X theta - Y) + 2 lambda theta = 0
        grad = 2 / n * x.T @ (x @ theta.numpy() - y) + 2 * lam * theta.numpy()
        np.testing.assert_allclose(grad, 0.0, atol=1e-10)
        np.testing.assert_allclose(min_norm_solve(x, y, ridge=ridge).numpy(), theta.numpy(), atol=1e-10)
    # the page's formulas and words
    assert "(X^\\top X + n\\lambda I_p)^{-1} X^\\top Y" in PAGE
    assert "X^\\top (X X^\\top + n\\lambda I_n)^{-1} Y" in PAGE
    assert "+ \\lambda I_" not in PAGE  # no formula with the library's unscaled penalty under the chapter's name
    assert PAGE.count("\\tfrac{1}{n}\\|") == 2  # the opening fit and Section 2's, both per sample
    assert ("So to fit this chapter's model of strength $\\lambda$ on $n$ samples, call them with `ridge=n * lam`"
            in PAGE)
    assert "the fit of the opening formula with $X = \\Phi$ (the library's `ridge` is $n\\lambda$)" in PAGE
    # the chapter's study 2 computes that model: one width, one ridge, against numpy's solve with n lambda
    params = rf.resolve_params("smoke", rf_ratios=[0.3], ridges=[1e-3])
    data = rf.load_mnist1d(params)
    frame = rf.run_ridge(params, data)
    n, (width,) = params["n_train"], rf.widths(params["n_train"], params["rf_ratios"])
    feats = RandomReLUFeatures(data["x_train"].shape[1], width, [params["seed"], width, 0], rf.BIAS_STD)
    phi = feats(data["x_train"]).numpy()
    live = (phi != 0).any(0)
    y = np.eye(10)[data["y_noisy"]]
    theta = np.zeros((width, 10))
    theta[live] = np.linalg.solve(phi[:, live].T @ phi[:, live] + n * 1e-3 * np.eye(live.sum()), phi[:, live].T @ y)
    err = classification_error(feats.predict(data["x_test"], torch.from_numpy(theta)), data["y_test"])
    said = frame[(frame.labels == "noisy") & (frame.ridge == 1e-3)].test_error.iloc[0]
    assert said == pytest.approx(err)


def test_the_page_defines_clear_and_differences_as_printed_before_using_them():
    """'Clear' is defined on the page, from ddlib.prose.CLEAR (glued, not typed), before any section uses it, and the
    page says once that differences of error rates are those of the printed values."""
    from ddlib.prose import CLEAR, points

    assert rf.prose_conventions() == {"clear_points": points(CLEAR)}
    definition = "Such a difference counts as *clear* when it is at least {glue:md}`clear_points`"
    assert definition in PAGE and PAGE.index(definition) < PAGE.index("## 1. Linear regression")
    assert ("Error rates are rounded as printed (per cent, one decimal) before any two of them are compared or "
            "subtracted: a difference in *points* is the difference of the rounded values") in PAGE
    assert "**rf.prose_conventions())" in PAGE  # glued by the chapter's first cell
    assert points(CLEAR) not in PAGE and "2 points" not in PAGE  # the margin is never typed


def _ridge_frame(noisy_tuned):
    """Study 2's rows for widths 50, 100, 200 (n = 100): min-norm and one ridge (1e-3), noisy and clean labels; the
    noisy ridge fit errs ``noisy_tuned`` (so the tuned curve is it)."""
    rows = []
    for labels in ("noisy", "clean"):
        for N, mn, tuned in zip((50, 100, 200), (0.7, 0.9, 0.6), noisy_tuned if labels == "noisy" else (.5, .5, .5)):
            rows += [dict(labels=labels, N=N, ridge=0.0, repeat=0, test_error=mn, test_mse=2.0),
                     dict(labels=labels, N=N, ridge=1e-3, repeat=0, test_error=tuned, test_mse=0.9)]
    return pd.DataFrame(rows)


def test_the_tuned_curves_largest_rise_is_a_difference_of_printed_errors():
    """'never rises by more than X points from one width to the next' holds of the errors as printed: 50.04% to
    50.98% is printed 50.0% to 51.0%, a rise of 1.0 points (0.94 unrounded)."""
    params = {"n_train": 100, "n_test": 500, "rf_repeats": 1, "ridges": [1e-3]}
    out = rf.ridge_numbers(_ridge_frame((0.5004, 0.5098, 0.50)), params)
    assert out["noisy_tuned_max_rise_err_points"] == "1.0 points"
    same = rf.ridge_numbers(_ridge_frame((0.5000, 0.5094, 0.50)), params)  # 50.0% to 50.9%
    assert same["noisy_tuned_max_rise_err_points"] == "0.9 points"
    falling = rf.ridge_numbers(_ridge_frame((0.52, 0.51, 0.50)), params)
    assert falling["noisy_tuned_max_rise_err"] == 0.0 and falling["ridge_head"].endswith("a tuned ridge removes it.**")


def test_the_largest_student_teacher_distance_is_the_widest_gap_when_it_is_there():
    """The largest distance between student and teacher error is taken over differences of printed errors and names
    its widths, so it cannot disagree with the widest teacher's gap said later (71.84% against 69.18%: 71.8 - 69.2
    = 2.6 points, not the unrounded 2.66); a student whose error prints as the teacher's does not beat it."""
    teacher = (0.70, 0.89, 0.6918)  # widths 50, 100, 200 for n = 100: N/n = 0.5, 1 and 2
    out = _study3(teacher, [0.71, 0.88, 0.7184])
    assert out["soft_large_max_abs_gap_points"] == "2.6 points" and out["soft_large_max_abs_gap_at"] == "2"
    assert "the soft-target student is 2.6 points above it" in out["widest_gap_sentence"]
    tie = _study3(teacher, [0.674, 0.88, 0.7184])  # 67.4 - 70.0 = -2.6 at N/n = 0.5 as well
    assert tie["soft_large_max_abs_gap_points"] == "2.6 points" and tie["soft_large_max_abs_gap_at"] == "0.5 and 2"
    level = _study3(teacher, [0.6996, 0.88, 0.7184])  # 70.0% against 70.0%: level, not better
    assert level["soft_large_beats_teacher"] == 1  # only at N/n = 1 (88.0% against 89.0%)
    assert ("(soft, at $N/n$ = {glue:md}`soft_large_max_abs_gap_at`) and {glue:md}`hard_large_max_abs_gap_points` "
            "(hard, at $N/n$ = {glue:md}`hard_large_max_abs_gap_at`)") in PAGE
