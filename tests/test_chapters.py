"""Every chapter at its smoke preset through papermill; every notebook pair in sync and clean."""
import dataclasses
import glob
import json
import os
from html import unescape

import jupytext
import pandas as pd
import pytest
from jupytext.compare import compare_notebooks

from conftest import REPO, cited_names, execute_chapter, glued_names, glued_value, output_mime_types
from ddlib import ConfigError, config_hash
from ddlib.chapters import CHAPTERS, distillation as kd

NOTEBOOKS = sorted(glob.glob(str(REPO / "book" / "*.md")))
NOTEBOOKS = [p for p in NOTEBOOKS if "jupytext:" in open(p, encoding="utf-8").read(400)]


def test_every_chapter_is_paired_and_in_the_toc():
    names = {os.path.basename(p)[:-3] for p in NOTEBOOKS}
    assert set(CHAPTERS) | {"full-scale"} <= names
    toc = (REPO / "_toc.yml").read_text()
    for name in names:
        assert f"book/{name}" in toc


@pytest.mark.parametrize("md", NOTEBOOKS, ids=os.path.basename)
def test_pair_in_sync_and_committed_without_outputs(md):
    ipynb = md[:-3] + ".ipynb"
    assert os.path.exists(ipynb), f"{ipynb} missing: run `jupytext --sync {md}`"
    nb = jupytext.read(ipynb)
    compare_notebooks(nb, jupytext.read(md), fmt="md:myst")  # raises with a diff when out of sync
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{ipynb} carries outputs"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    if os.path.basename(md)[:-3] in CHAPTERS:  # experiment chapters take a preset
        assert 'preset = "default"' in tagged[0].source


def test_double_descent_smoke_through_papermill(results_dir, tmp_path):
    nb = execute_chapter("double-descent", tmp_path / "dd.ipynb", preset="smoke", label_noise=0.1)
    assert "image/png" in output_mime_types(nb)
    assert cited_names("double-descent") <= glued_names(nb)  # every number the prose cites was glued
    # an override puts the tables in a folder of their own (the preset's name and a hash of the override)
    assert not (results_dir / "double-descent" / "smoke").exists()
    (folder,) = (results_dir / "double-descent").glob("smoke-*")
    assert json.loads((folder / "results-parameters.json").read_text())["label_noise"] == 0.1
    table = pd.read_csv(folder / "results.csv")
    assert {"width", "params", "seed", "train_error", "test_error"} <= set(table.columns)
    assert sorted(table["width"].unique()) == [4, 64]
    assert table["test_error"].between(0, 1).all() and table["train_error"].between(0, 1).all()
    assert (table["label_noise"] == 0.1).all()  # the override reached the runs
    noisier = pd.read_csv(folder / "results-noise-0.4.csv")
    assert json.loads((folder / "results-noise-0.4-parameters.json").read_text())["label_noise"] == 0.4
    assert (noisier["label_noise"] == 0.4).all() and sorted(noisier["width"].unique()) == [4, 64]
    # the other draw of the data: the same sweep with data_seed = noise_seed = 1, its runs other runs than the main's
    redrawn = pd.read_csv(folder / "results-draw-1.csv")
    assert json.loads((folder / "results-draw-1-parameters.json").read_text())["data_seed"] == 1
    assert sorted(redrawn["width"].unique()) == [4, 64] and not set(redrawn["hash"]) & set(table["hash"])
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "other draws: runs: 2 computed, 0 reused" in text and "whole chapter, each run once: runs: 15 computed" in text
    # the published anchor: clean labels, width 25, the book's CNN with both recipes on 4,000 samples and on smoke's
    # 200, and their CNN in the published setting
    anchored = pd.read_csv(folder / "results-anchor.csv")
    assert sorted(zip(anchored["n_train"], anchored["recipe"], anchored["model"])) == [
        (200, "chapter", "cnn1d"), (200, "published", "cnn1d"), (4000, "chapter", "cnn1d"),
        (4000, "published", "cnn1d"), (4000, "published", "cnn1d_gk")]
    assert glued_value(nb, "anchor_sentence").startswith(
        "In the published setting (trained for 100 steps here instead of the published 8,000), Greydanus & Kobak's CNN")
    # longer training: the same sweep for epochs_study's 40 epochs (smoke's sweep trains 20)
    longer = pd.read_csv(folder / "results-epochs-40.csv")
    assert json.loads((folder / "results-epochs-40-parameters.json").read_text())["epochs"] == 40
    assert sorted(longer["width"].unique()) == [4, 64] and not set(longer["hash"]) & set(table["hash"])
    assert glued_value(nb, "epochs_study_sentence").startswith("Trained for 40 epochs instead of 20, the same rule")
    assert glued_value(nb, "redraw_sentence").startswith("With another draw of the data (`data_seed` = `noise_seed` = 1")
    # the published learning rate: the same sweep at lr_study's 0.01 (smoke's sweep trains at 0.001)
    faster = pd.read_csv(folder / "results-lr-0.01.csv")
    assert json.loads((folder / "results-lr-0.01-parameters.json").read_text())["lr"] == 0.01
    assert sorted(faster["width"].unique()) == [4, 64] and not set(faster["hash"]) & set(table["hash"])
    assert glued_value(nb, "lr_study_sentence").startswith("At learning rate 0.01 instead of 0.001, the same rule")
    # the sweeps side by side: one table row per sweep, and the two training changes compared
    html = unescape("".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", [])))
    for row in ("the chapter's sweep", "40% label noise", "40 epochs", "draw 1", "learning rate 0.01"):
        assert f"<th>{row}</th>" in html
    knobs = glued_value(nb, "training_knobs_sentence")
    assert "at 40 epochs" in knobs and "at learning rate 0.01" in knobs


def test_distillation_smoke_reuses_teachers(results_dir, tmp_path, monkeypatch):
    execute_chapter("double-descent", tmp_path / "dd.ipynb", preset="smoke")
    nb = execute_chapter("distillation", tmp_path / "kd.ipynb", preset="smoke")
    assert "image/png" in output_mime_types(nb)
    assert cited_names("distillation") <= glued_names(nb)  # every number the prose cites was glued
    assert glued_value(nb, "kd_pool_like_test") == "True"  # an MNIST-1D pool is drawn like the test set
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    # the two teachers of the double-descent chapter (widths 4, 64; one seed) are reused, not retrained;
    # the 11 students are new
    assert "runs: 11 computed, 2 reused" in text
    table = pd.read_csv(results_dir / "distillation" / "smoke" / "results.csv")
    # the widest teacher's comparison on the other draw: its teacher reused from the double-descent chapter's redraw,
    # and so is `direct` (with a steps factor of 1 it is that sweep's width-4 model); the other 5 students are new
    assert "other draws: runs: 5 computed, 2 reused" in text
    # the peaked teachers' study: its teachers are the double-descent chapter's noise study (40%), and so is its
    # `direct` (the width-4 model again); its 2 `hard_pool` students are new
    assert "peaked teachers' study: runs: 2 computed, 2 reused" in text
    # students of every width (4 and 64) at 40%: the teacher, both width-4 students and (a steps factor of 1) the
    # width-64 `direct` are the peaked teachers' study's runs; the width-64 `hard_pool` and both on the pool-size
    # study's smallest pool (200) are new
    assert "students of every width: runs: 3 computed, 3 reused" in text
    # the pool's size against passes, at smoke's widest width (two widths have no peak): the teacher (also `direct`),
    # and `hard_pool` on both pools at the chapter's steps are the line above's; the 1,000-input pool trained for
    # `direct`'s 20 passes (5 times the steps), and `direct` and the 200-input pool stopped after the 1,000-input
    # pool's 4 passes (a fifth of the steps) are new
    assert "the pool's size against passes: runs: 3 computed, 3 reused" in text
    # `direct` at 5, 10 and 20 epochs: the last is the sweep's width-4 model again (a steps factor of 1)
    assert "direct at other lengths: runs: 2 computed, 1 reused" in text
    # the widest teacher's comparison at learning rate 0.01: its teacher and `direct` are the double-descent chapter's
    # learning-rate study's two runs, its 5 other students new
    assert "other learning rates: runs: 5 computed, 2 reused" in text
    # the rule applied to the learning-rate study's whole sweep (the double-descent chapter's two runs, reused) picks
    # another width there (smoke's student width is 4): that width's 5 students are new
    assert "the rule's width at those rates: runs: 5 computed, 2 reused" in text
    # every teacher width at that rate with students of the rule's width: the width-4 teacher's 4 students are new, and
    # so is the widest teacher's `hard_pool` on the pool study's smaller pool; the widest teacher's 4, `direct` and
    # `oracle_pool` are the line above's, and the teachers are the rate's sweep (with a steps factor of 1, `direct` of
    # the widest width is that sweep's widest model: 7 distinct runs)
    assert "every teacher width at those rates: runs: 5 computed, 7 reused" in text
    assert "whole chapter, each run once: runs: 41 computed, 8 reused" in text
    ruling = glued_value(nb, "kd_rule_width_sentence")
    assert ruling.startswith("At learning rate 0.01 the chapter's rule, applied to that rate's sweep on the validation "
                             "set, picks width") and ", not 4. With students of width" in ruling
    rated = pd.read_csv(results_dir / "distillation" / "smoke" / "results-lr-0.01.csv")
    assert json.loads((results_dir / "distillation" / "smoke" / "results-lr-0.01-parameters.json").read_text())["lr"] == 0.01
    assert set(rated["method"]) == set(table["method"]) and not set(rated["hash"]) & set(table["hash"])
    assert glued_value(nb, "kd_lr_sentence").startswith("At learning rate 0.01 for teachers and students alike (instead "
                                                        "of 0.001; the same pool, student width, 4, and steps)")
    lengths = pd.read_csv(results_dir / "distillation" / "smoke" / "results-direct-epochs.csv")
    assert sorted(lengths["epochs"]) == [5, 10, 20] and lengths["val_error"].between(0, 1).all()
    assert glued_value(nb, "kd_direct_stopped_sentence").startswith("Trained for 5, 10 and 20 epochs (1 seed each)")
    peaked = pd.read_csv(results_dir / "distillation" / "smoke" / "results-peak-noise-0.4.csv")
    assert set(peaked["method"]) == {"teacher", "hard_pool", "direct"} and set(peaked["teacher_width"].dropna()) == {4, 64}
    assert json.loads((results_dir / "distillation" / "smoke" / "results-peak-noise-0.4-parameters.json")
                      .read_text())["label_noise"] == 0.4
    # smoke's two teacher widths leave no width narrower than the peak: the sentence says the run cannot test C4 here
    assert "cannot test whether the student inherits one" in glued_value(nb, "kd_peak_study_sentence")
    drawn = pd.read_csv(results_dir / "distillation" / "smoke" / "results-draw-1.csv")
    drawn_params = json.loads((results_dir / "distillation" / "smoke" / "results-draw-1-parameters.json").read_text())
    assert drawn_params["data_seed"] == drawn_params["noise_seed"] == 1  # the draw's own parameters
    assert set(drawn["method"]) == set(table["method"]) and set(drawn["teacher_width"].dropna()) == {64}
    assert not set(drawn["hash"]) & set(table["hash"])
    assert glued_value(nb, "kd_redraw_sentence").startswith("On another draw of the data (`data_seed` = `noise_seed` = 1")
    # what the CLI checks before a kernel starts is every run the chapter then asked for
    # (the rule's width at 0.01 reads that rate's whole sweep, the double-descent chapter's learning-rate study)
    (ruled_path,) = (results_dir / "distillation" / "smoke").glob("results-lr-0.01-width-*.csv")
    ruled = pd.read_csv(ruled_path)
    assert set(ruled["student_width"].dropna()) == {int(ruled_path.stem.split("-")[-1])} != {4}
    rate_sweep = pd.read_csv(results_dir / "double-descent" / "smoke" / "results-lr-0.01.csv")
    curve = pd.read_csv(results_dir / "distillation" / "smoke" / "results-lr-0.01-teachers.csv")
    assert set(curve["student_width"].dropna()) == set(ruled["student_width"].dropna())
    assert set(curve.loc[curve["method"] == "hard_pool", "teacher_width"]) == {4, 64}
    rule_width = int(ruled_path.stem.split("-")[-1])
    curved = glued_value(nb, "kd_rate_curve_sentence")
    assert curved.startswith(
        f"At learning rate 0.01, with students of width {rule_width} (the width the rule picks there), the teachers of "
        f"widths 4 and 64 are distilled (every method, 1 seed). Their `hard_pool` students, claim by claim, with the "
        f"chapter's rate in brackets (0.001: students of width 4, teachers of widths 4 and 64):\n\n- C2:")
    assert ("- C4: its error cannot be correlated with its teacher's here: there are fewer than three teacher widths. "
            "A larger pool, at the same number of steps,") in curved
    assert " on 200 inputs to " in curved and " on 1,000 (0.001: from " in curved  # the pool-size study at 0.01
    swept = pd.read_csv(results_dir / "distillation" / "smoke" / "results-student-widths-noise-0.4.csv")
    assert set(swept["method"]) == {"teacher", "direct", "hard_pool"}
    assert set(swept["student_width"].dropna()) == {4, 64} and set(swept["teacher_width"].dropna()) == {64}
    assert set(swept.loc[swept["method"] == "hard_pool", "pool_size"]) == {200, 1000}
    widths_text = glued_value(nb, "kd_student_widths_sentence")
    assert widths_text.startswith("At label noise 40% (1 student seed, every student trained for 80 steps: 20 passes "
                                  "over the 200 labeled inputs, 4.0 over the 1,000 pool inputs):")
    assert ("- **`hard_pool` on 200 pool inputs** (the same teacher; 20 passes, as many as `direct` makes over"
            in widths_text)
    passes = pd.read_csv(results_dir / "distillation" / "smoke" / "results-pool-passes-noise-0.4.csv")
    assert sorted(zip(passes["method"], passes["pool_size"], passes["steps"])) == [
        ("direct", 0, 16), ("direct", 0, 80), ("hard_pool", 200, 16), ("hard_pool", 200, 80), ("hard_pool", 1000, 80),
        ("hard_pool", 1000, 400), ("teacher", 0, 80)]
    assert set(passes.loc[passes["method"] == "hard_pool", "passes"]) == {20.0, 4.0}
    assert glued_value(nb, "kd_passes_study_sentence").startswith(
        "At label noise 40%, students of width 64 (the widest width: `direct`'s curve above has too few widths for a "
        "peak) learn from the widest teacher (width 64,")
    assert ({config_hash(c) for c in kd.planned_configs(kd.resolve_params("smoke"))}
            == set(table["hash"]) | set(drawn["hash"]) | set(peaked["hash"]) | set(rated["hash"]) | set(swept["hash"])
            | set(passes["hash"])
            | set(ruled["hash"]) | set(rate_sweep["hash"]) | set(curve["hash"])
            | set(pd.read_csv(results_dir / "distillation" / "smoke" / "results-direct-epochs.csv")["hash"]))
    assert {"method", "teacher_width", "student_width", "pool_size", "seed", "test_error", "agreement"} <= set(table.columns)
    assert set(table["method"]) == {"teacher", "direct", "hard_labeled", "hard_pool", "soft_kd_labeled",
                                    "soft_kd_pool", "oracle_pool"}
    stored = list((results_dir / "store").glob("*.json"))
    # 2 teachers + direct + (4 teacher methods x 2 teachers) + oracle + the pool study's extra smaller pool; the
    # double-descent chapter's label-noise study (2 widths, 1 seed) is the peaked teachers' study's teachers, and its
    # other draw's two runs are the teacher and `direct` of this chapter's draw-1 table; its longer training's two
    # runs are its own; `direct` at 5 and 10 epochs are two more; its published anchor's five runs are its own too; its
    # learning-rate study's two runs are the teacher and `direct` of this chapter's lr-0.01 table; the rule's width at
    # that rate adds its 5 students, and every teacher width there and the smaller pool 5 more; students of every
    # width three; the pool's size against passes three
    assert (len(stored) == len(set(table["hash"]) | set(drawn["hash"]) | set(peaked["hash"]) | set(rated["hash"])
                              | set(ruled["hash"]) | set(curve["hash"]) | set(swept["hash"]) | set(passes["hash"]))
            + 2 + 2 + 5 == 56)
    # the summary's derived lists, against the table read directly (all reused: nothing trains here)
    params = kd.resolve_params("smoke")
    frame, teachers, _ = kd.run(params, progress=False)
    s = kd.summarize(frame, teachers, params)
    means = table[table["pool_size"].isin([0, params["pool_size"]])].groupby(["method", "teacher_width"])["test_error"].mean()
    lead = {tw: round(100 * means["hard_pool", tw], 1) - round(100 * means["soft_kd_labeled", tw], 1)
            for tw in params["teacher_widths"] if tw != max(params["teacher_widths"])}
    assert [tw for tw, _ in s["soft_kd_labeled_wins"]] == [tw for tw, d in lead.items() if d >= 0.5 - 1e-9]
    steps = s["student_steps"]
    assert s["pool_study_passes"] == {n: steps * params["batch_size"] / n for n in params["pool_study_sizes"]}
    study = table[(table["method"] == "hard_pool") & (table["teacher_width"] == max(params["teacher_widths"]))]
    assert s["pool_smallest_train_error_widest"] == pytest.approx(
        study[study["pool_size"] == min(params["pool_study_sizes"])]["train_error"].mean())
    # the student's width was chosen on the validation set: one row per sweep run, each the error of the stored
    # model on load_validation's set, kept in the store so that a rebuild needs no data
    from ddlib import ResultStore, load_trained_model, predict_logits
    from ddlib.chapters import double_descent as dd, width_choice
    from ddlib.data import load_validation

    val = pd.read_csv(results_dir / "distillation" / "smoke" / "validation.csv")
    assert sorted(zip(val["width"], val["seed"])) == [(4, 0), (64, 0)] and teachers["chosen_on"] == "validation"
    x, y, _ = load_validation(dd.data_config(params), params["val_size"])
    widest = dd.run_config(params, 64, 0)
    wrong = (predict_logits(load_trained_model(widest), x, members=1)[0].argmax(1) != y).float().mean()
    assert val.loc[val["width"] == 64, "val_error"].item() == pytest.approx(float(wrong))
    assert width_choice.cached_errors_path(ResultStore(), widest, params["val_size"]).exists()
    import ddlib.chapters.width_choice as wc

    def no_data(*a, **k):
        raise AssertionError("the validation set was loaded although every run's errors are kept")
    real_loader = wc.load_validation
    monkeypatch.setattr(wc, "load_validation", no_data)
    assert width_choice.validation_frame(params).equals(val)
    # a run stored again under the same hash (retrained) is evaluated again, not read from the cache: its record
    # carries the new weights' digest
    store = ResultStore()
    record = store.load(widest)
    state = {k: v + 1e-3 if v.is_floating_point() else v for k, v in store.load_weights(widest).items()}
    store.save(widest, record["metrics"], state, record["provenance"])
    assert store.load(widest)["weights_sha256"] != record["weights_sha256"]
    with pytest.raises(AssertionError, match="the validation set was loaded"):
        width_choice.validation_frame(params)
    # a record written before records carried the digest: the weights file itself is hashed (with a digest in the
    # record, a weights file replaced without its record would not be noticed: the record is what the store trusts)
    monkeypatch.setattr(wc, "load_validation", real_loader)
    width_choice.validation_frame(params)  # caches the errors of the weights now stored
    legacy = {k: v for k, v in store.load(widest).items() if k != "weights_sha256"}
    store._paths(widest)[0].write_text(json.dumps(legacy), encoding="utf-8")
    monkeypatch.setattr(wc, "load_validation", no_data)
    assert width_choice.validation_frame(params).equals(val)  # same weights, same digest: read from the cache
    import torch

    weights = store.weights_path(widest)
    torch.save(dict(torch.load(weights, weights_only=True), note="copied from elsewhere"), weights)
    with pytest.raises(AssertionError, match="the validation set was loaded"):
        width_choice.validation_frame(params)


def test_appendix_executes_and_cites_the_benchmarks(tmp_path):
    nb = execute_chapter("full-scale", tmp_path / "fs.ipynb")
    assert "gpu_mfu_k64" in glued_names(nb)  # glued from benchmarks/results
    assert cited_names("full-scale") <= glued_names(nb)


def test_pool_study_names_its_second_teacher_truthfully():
    """Where no teacher width lies below the peak (tiny settings), the prose must not call the
    second studied teacher 'narrower than the peak'."""
    from ddlib.chapters.distillation import narrow_study_label

    def label(**kw):
        return narrow_study_label({"study_teachers": [12, 64], "peak_width": 16, "chosen_width": 16,
                                   "study_narrow_is_narrower": True, "clear_peak": False, "chosen_on": "validation", **kw})

    # chosen on the validation set: the width is named as the rule's width there (nothing else names it where
    # the student's width was given by hand), never "the peak", which is said of test errors
    assert label(clear_peak=True) == ("the best teacher narrower than width 16, the width the double-descent rule "
                                      "singles out on the validation set (width 12, best by the sweep's mean error on "
                                      "the validation set)")
    on_test = label(chosen_on="test")
    assert on_test == "the best teacher narrower than width 16 (width 12, best by the sweep's mean error on the test set)"  # not a clear peak: never called one
    clear = label(chosen_on="test", clear_peak=True)
    assert clear == "the best teacher narrower than the peak at width 16 (width 12, best by the sweep's mean error on the test set)"
    at_peak = label(study_teachers=[4, 8], peak_width=4, chosen_width=4, study_narrow_is_narrower=False,
                    clear_peak=True, chosen_on="test")
    assert "narrower than the peak" not in at_peak and "no teacher width lies below the peak at width 4" in at_peak


def test_mathjax_is_served_from_the_book():
    """Maths must render with no network: the configured MathJax is a file the build copies."""
    import yaml

    sphinx = yaml.safe_load((REPO / "_config.yml").read_text())["sphinx"]["config"]
    path = sphinx["mathjax_path"]
    assert not path.startswith(("http:", "https:", "//")), path
    assert any((REPO / static / path).is_file() for static in sphinx["html_static_path"])
    assert "book/_static" in yaml.safe_load((REPO / "_config.yml").read_text())["exclude_patterns"]


def _dd_summary(**kw):
    s = dict(peak_over_narrower=0.004, peak_over_widest=0.057, peak_width=16, threshold_width=24,
             best_narrower_width=12, widest_width=64, seed_spread=0.01, best_width=64, widest_train_error=0.0,
             interpolation_tol=0.01)
    return {**s, **kw}


def test_double_descent_verdict_follows_the_numbers():
    from ddlib.chapters.double_descent import verdict

    plateau = verdict(_dd_summary())
    assert plateau.startswith("**This run shows no clear peak; test error falls past the interpolation threshold.**")
    # a rise that prints as zero, at a width past where the search starts, is the same answer, and a plateau
    level = verdict(_dd_summary(peak_over_narrower=0.0, window_start=12))
    assert level.startswith("**This run shows no clear peak; test error falls past the interpolation threshold.**")
    assert "width 16, but it is no higher than width 12, the best narrower one (level with it)" in level
    assert "Test error plateaus near the threshold" in level and "where the search starts" not in level
    # the threshold at the narrowest width trained: nothing narrower to compare with, and no "width None"
    first = verdict(_dd_summary(peak_width=24, window_start=24, best_narrower_width=None,
                                peak_over_narrower=float("nan")))
    assert "no narrower width was trained" in first and "None" not in first
    assert ("Near the interpolation threshold (width 24), the highest test error is at width 16, but it is only "
            "0.4 points above width 12, the best narrower one, within the spread between seeds (1.0 points).") in plateau
    assert "The widest model (width 64), which fits its noisy training labels, is 5.7 points better than width 16." in plateau
    assert "the peak" not in plateau  # no clear peak: never called one
    assert "has the lowest test error of the sweep" in plateau
    assert "has the lowest test error of the sweep" not in verdict(_dd_summary(best_width=32))
    assert "less than the 2.0 points counted here as clear" in verdict(_dd_summary(peak_over_narrower=0.015))
    assert "no higher than width 12, the best narrower one (0.3 points below it)" in verdict(
        _dd_summary(peak_over_narrower=-0.003, peak_over_widest=0.01))
    peaked = verdict(_dd_summary(peak_over_narrower=0.05))
    assert peaked.startswith("**This run shows double descent.** Test error peaks at width 16")
    assert "it is 5.0 points above width 12" in peaked and "5.7 points better than the peak" in peaked
    flat = verdict(_dd_summary(peak_over_widest=0.0))
    assert flat.startswith("**This run does not show double descent.**")
    assert "is level with width 16: test error does not come back down." in flat and "only 0.0" not in flat
    assert "is only 1.0 points better than width 16: test error does not clearly come back down." in verdict(
        _dd_summary(peak_over_widest=0.01))
    assert "1.0 points worse than width 16" in verdict(_dd_summary(peak_over_widest=-0.01))
    none = verdict(_dd_summary(threshold_width=None, widest_train_error=0.2))
    assert none.startswith("**This run does not reach the interpolation threshold.**") and "which fits its" not in none


def test_double_descent_summary_words_follow_the_curve():
    from ddlib.chapters.double_descent import summarize

    def frame(train, test):
        return pd.DataFrame(dict(width=[2, 4, 8, 16, 32], seed=0, params=[1, 2, 3, 4, 5], train_error=train,
                                 test_error=test))

    peaked = summarize(frame([0.5, 0.3, 0.0, 0.0, 0.0], [0.60, 0.55, 0.65, 0.58, 0.50]))
    assert peaked["clear_peak"] and peaked["peak_status"] == "a clear peak" and peaked["peak_width"] == 8
    assert peaked["best_narrower_item"] == "55.0% at width 4, the best width narrower than width 8"
    assert peaked["peak_detail"] == "3 parameters"  # one seed: no per-seed errors
    two = pd.concat([frame([0.5, 0.3, 0.0, 0.0, 0.0], [0.60, 0.55, 0.65, 0.58, 0.50]),
                     frame([0.5, 0.3, 0.0, 0.0, 0.0], [0.60, 0.45, 0.61, 0.58, 0.50]).assign(seed=1)])
    two = summarize(two.sample(frac=1, random_state=0))  # the seeds are listed in order, whatever the row order
    assert two["best_narrower_item"] == "50.0% at width 4 (seeds 0, 1: 55.0%, 45.0%), the best width narrower than width 8"
    assert two["peak_detail"] == "3 parameters; seeds 0, 1: 65.0%, 61.0%"
    assert peaked["widest_fit"] == "fits its noisy training labels (train error 0.0%)"
    assert (peaked["window_start"], peaked["window_stop"], peaked["widths_above_peak"]) == (4, 16, [])
    assert peaked["window_rule"] == ("from the first descent's minimum, the best width narrower than the threshold "
                                     "(here width 4), up to one width past the threshold (here width 16)")
    assert peaked["clear_points"] == "2.0 points"
    assert peaked["verdict"].startswith("**This run shows double descent.** Test error peaks at width 8")
    # the window keeps the under-fitting width 2 out: width 4 is the highest in it, width 2 is above it
    plateau = summarize(frame([0.5, 0.3, 0.0, 0.0, 0.0], [0.70, 0.60, 0.59, 0.58, 0.50]))
    assert plateau["peak_width"] == 4 and not plateau["clear_peak"] and plateau["widths_above_peak"] == [2]
    assert plateau["peak_status"] == "not a clear peak"
    flat = summarize(frame([0.5, 0.4, 0.3, 0.2, 0.1], [0.60, 0.55, 0.56, 0.58, 0.50]))
    assert not flat["clear_peak"] and flat["threshold_width"] is None
    assert flat["window_rule"].startswith("and as no width reaches the threshold, the widest width stands in for it")
    assert flat["widest_fit"] == "does not fit its noisy training labels (train error 10.0%)"
    assert "the peak" not in flat["verdict"]


def test_double_descent_plot_labels_the_dotted_line():
    import matplotlib

    matplotlib.use("Agg")
    from ddlib.chapters.double_descent import plot

    frame = pd.DataFrame(dict(width=[4, 16, 64], seed=0, test_error=[0.6, 0.7, 0.5], train_error=[0.5, 0.1, 0.0]))
    labels = plot(frame, {"threshold_width": 64, "peak_width": 16, "clear_peak": False}).axes[0].get_legend_handles_labels()[1]
    assert "highest test error near the threshold (width 16)" in labels
    fig = plot(frame, {"threshold_width": 64, "peak_width": 16, "clear_peak": True})
    assert "peak (width 16)" in fig.axes[0].get_legend_handles_labels()[1]
    assert_legend_outside(fig)


def assert_legend_outside(fig):
    """Every legend of ``fig`` lies outside (here: below) every axes, where it cannot cover a curve."""
    fig.canvas.draw()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
    assert legends
    for legend in legends:
        box = legend.get_window_extent()
        assert all(box.y1 <= ax.get_window_extent().y0 + 1 for ax in fig.axes), "a legend overlaps an axes"


def _kd_summary(**kw):
    s = dict(hard_pool_widest=0.54005, teacher_widest=0.5364, n_student_seeds=2,
             direct=0.6261, soft_kd_labeled_widest=0.5799,
             other_teachers=3, other_beats_direct=2, other_beats_soft_kd_labeled=0, tracking_correlation=0.93,
             n_teacher_widths=4, pool_largest_widest=0.54, pool_smallest_widest=0.66255, pool_largest_narrow=0.62,
             pool_smallest_narrow=0.6783, best_hard_pool_teacher=64, best_hard_pool_error=0.54005, widest_teacher=64,
             widest_teacher_interpolates=True, pool_study_smallest=1000, n_labeled=1000, narrow_study_teacher=12,
             soft_kd_pool_widest=0.5420, label_noise=0.2, teacher_curve_only_falls=False, agreement_widest=0.641,
             seeds_beating_direct=2, seeds_compared_direct=2, seeds_beating_soft_kd_labeled=2,
             seeds_compared_soft_kd_labeled=2, soft_kd_labeled_wins=[], student_steps=4200,
             pool_study_passes={1000: 537.6, 25000: 21.504}, pool_smallest_train_error_widest=0.0,
             pool_largest_train_error_widest=0.335)
    s.update(kw)
    return s


def test_distillation_verdict_counts_the_other_teachers():
    from ddlib.chapters.distillation import verdict

    s = _kd_summary()
    text = verdict(s)
    assert "beats `direct` by 8.6 points" in text and "beats `soft_kd_labeled` by 4.0 points" in text
    assert "From the other 3 teacher widths it beats" in text and "(s)" not in text
    one = {**s, "other_teachers": 1, "other_beats_direct": 1, "other_beats_soft_kd_labeled": 0}
    assert "From the other teacher width it beats `direct` (by at least" in verdict(one)
    assert "of them" not in verdict(one)  # no count over a single teacher
    assert "it beats neither `direct` nor `soft_kd_labeled`" in verdict({**one, "other_beats_direct": 0})
    assert "at 2 and `soft_kd_labeled` at 0 of them" in text and "only with a wide enough teacher" in text
    assert "(it tracks the teacher curve; from few points)" in text
    assert "for every teacher" in verdict({**s, "other_beats_soft_kd_labeled": 3})
    # a curve that only falls over the distilled widths: the correlation shows a trend, not a peak
    assert ("(it tracks the teacher curve, which only falls over the distilled widths: a shared trend, not a shared peak; "
            "from few points)") in verdict({**s, "teacher_curve_only_falls": True})


def test_distillation_verdict_says_whether_the_pool_or_the_hard_labels_make_the_gain():
    """hard_pool against soft_kd_pool (soft targets on the same pool), from the widest teacher, as printed."""
    from ddlib.chapters.distillation import verdict

    tie = verdict(_kd_summary())  # 54.2% against 54.0%, while soft_kd_labeled is 4.0 points behind
    assert ("With soft targets on the same pool, the student does as well: `hard_pool` is on par with `soft_kd_pool` "
            "(0.2 points lower error), so its gain over `soft_kd_labeled` comes from the pool, not from the hard labels.") in tie
    hard = verdict(_kd_summary(soft_kd_pool_widest=0.5700))
    assert "On the same pool, `hard_pool` also beats `soft_kd_pool` by 3.0 points, so the hard labels add" in hard
    soft = verdict(_kd_summary(soft_kd_pool_widest=0.5100))
    assert "`hard_pool` is 3.0 points worse than `soft_kd_pool`: soft targets do better there." in soft
    no_gain = verdict(_kd_summary(soft_kd_labeled_widest=0.545))  # hard_pool no longer clearly beats soft_kd_labeled
    assert "(0.2 points lower error)." in no_gain and "comes from the pool" not in no_gain


def test_distillation_verdict_compares_student_and_teacher_as_printed():
    """C2: the gap said is the difference of the two errors printed beside it (54.0% - 53.6% = 0.4), and
    its sign follows the numbers."""
    from ddlib.chapters.distillation import verdict
    from ddlib.prose import shown_difference

    text = verdict(_kd_summary())
    assert ("On the same 2 seeds, the widest teacher's `hard_pool` student ends at 54.0% against its teachers' 53.6%, "
            "0.4 points above them") in text
    assert "close to the teacher: yes" in text
    # unrounded 0.34 points, printed 54.4% and 54.0%: said as 0.4
    below = verdict(_kd_summary(hard_pool_widest=0.5401, teacher_widest=0.5435))
    assert "the widest teacher's `hard_pool` student ends at 54.0% against its teachers' 54.4%, 0.4 points below them" in below
    assert abs(shown_difference(0.5401, 0.5435) - (-0.004)) < 1e-12
    far = verdict(_kd_summary(hard_pool_widest=0.60))
    assert "6.4 points above them" in far and "close to the teacher: no" in far


def test_distillation_verdict_counts_seeds_says_where_soft_wins_and_how_much_of_the_gap_closes():
    """The seed-paired counts, the teachers where soft_kd_labeled is ahead (the reverse of C3), the fraction of the
    direct-to-teacher gap the student closes (as printed: (62.6 - 54.0) / (62.6 - 53.6)) and its agreement."""
    from ddlib.chapters.distillation import verdict

    text = verdict(_kd_summary(seeds_beating_soft_kd_labeled=3, seeds_compared_soft_kd_labeled=5,
                               seeds_beating_direct=5, seeds_compared_direct=5))
    assert ("its `hard_pool` student has a lower error than `direct` on 5 of 5 seeds and than `soft_kd_labeled` on 3 "
            "of 5 seeds.") in text  # no paired gains in the summary: counts only
    paired_gains = verdict(_kd_summary(seeds_beating_direct=5, seeds_compared_direct=5, gain_mean_direct=0.072,
                                       gain_se_direct=0.004, seeds_beating_soft_kd_labeled=3,
                                       seeds_compared_soft_kd_labeled=5, gain_mean_soft_kd_labeled=0.01,
                                       gain_se_soft_kd_labeled=0.012))
    assert ("its `hard_pool` student has a lower error than `direct` on 5 of 5 seeds (standard error of the gain 0.4 "
            "points) and than `soft_kd_labeled` on 3 of 5 seeds (standard error of the gain 1.2 points).") in paired_gains
    assert "The other way round" not in text
    assert ("`soft_kd_labeled` has the lower error from the teachers of widths 4 (by 2.3 points) and 12 (by 1.9 "
            "points), from 12 by less than the 2.0 points counted as clear.") in verdict(
        _kd_summary(soft_kd_labeled_wins=[(4, 0.023), (12, 0.019)]))
    assert "from the teacher of width 4 (by 2.3 points)." in verdict(_kd_summary(soft_kd_labeled_wins=[(4, 0.023)]))
    assert "That closes 96% of the 9.0 points between `direct` and the teacher." in text
    assert "the student gives the teacher's label on 64.1% of the test inputs." in text
    assert "That closes" not in verdict(_kd_summary(direct=0.55))  # direct within 2 points of the teacher
    past = verdict(_kd_summary(hard_pool_widest=0.52))  # better than its teacher (53.6%)
    assert "That closes all of the 9.0 points between `direct` and the teacher, and goes 1.6 points past the teacher." in past
    assert "That closes" not in verdict(_kd_summary(hard_pool_widest=0.63))  # worse than direct: nothing closed
    agrees = verdict(_kd_summary(agreement_widest=0.95))
    assert "It gives the teacher's label on 95.0% of the test inputs." in agrees and "Close in error" not in agrees
    assert "Seed by seed" not in verdict(_kd_summary(seeds_compared_direct=1, seeds_compared_soft_kd_labeled=1))
    small = verdict(_kd_summary(soft_kd_labeled_wins=[(4, 0.032), (12, 0.009), (16, 0.01)]))
    assert ("from the teachers of widths 4 (by 3.2 points), 12 (by 0.9 points) and 16 (by 1.0 points), from 12 and "
            "16 by less than the 2.0 points counted as clear.") in small
    assert "(by 0.9 points), by less than the 2.0 points counted as clear." in verdict(
        _kd_summary(soft_kd_labeled_wins=[(12, 0.009)]))
    assert "a larger pool, at the same number of steps, helps both studied teachers (C4)" in text
    c3, c2_c4 = text.split("\n\n")
    assert "(C3)" in c3 and "(C2" in c2_c4 and "(C4)" in c2_c4


def test_seed_by_seed_pairs_students_of_the_same_teacher_seed():
    """The widest teacher's hard_pool student on the main pool, against direct and soft_kd_labeled of the same seed;
    a narrower teacher's students, another pool's, and a seed without a partner are not counted."""
    import pandas as pd
    from ddlib.chapters.distillation import _seed_by_seed

    rows = [("hard_pool", 64, 25000, 0, .50), ("hard_pool", 64, 25000, 1, .60), ("hard_pool", 64, 25000, 2, .40),
            ("direct", None, 0, 0, .55), ("direct", None, 0, 1, .55),  # seed 2 has no direct
            ("soft_kd_labeled", 64, 0, 0, .45), ("soft_kd_labeled", 64, 0, 1, .65), ("soft_kd_labeled", 64, 0, 2, .45),
            ("soft_kd_labeled", 4, 0, 0, .99), ("hard_pool", 64, 1000, 1, .01), ("hard_pool", 4, 25000, 0, .01),
            ("hard_pool", 64, 25000, 3, .50), ("soft_kd_labeled", 64, 0, 3, .50)]  # seed 3: a tie is no win
    frame = pd.DataFrame(rows, columns=["method", "teacher_width", "pool_size", "seed", "test_error"])
    counts = _seed_by_seed(frame, 64, 25000)
    assert {k: v for k, v in counts.items() if k.startswith("seeds_")} == {
        "seeds_beating_direct": 1, "seeds_compared_direct": 2, "seeds_beating_soft_kd_labeled": 2,
        "seeds_compared_soft_kd_labeled": 4}
    # the paired gains (other minus hard_pool): direct 0.05, -0.05; soft_kd_labeled -0.05, 0.05, 0.05, 0.0
    assert counts["gain_mean_direct"] == pytest.approx(0.0) and counts["gain_se_direct"] == pytest.approx(0.05)
    assert counts["gain_mean_soft_kd_labeled"] == pytest.approx(0.0125)
    assert counts["gain_se_soft_kd_labeled"] == pytest.approx(pd.Series([-.05, .05, .05, 0]).std() / 2)


def test_pool_passes_sentence_names_what_the_pool_study_changes_besides_the_pool():
    from ddlib.chapters.distillation import pool_passes_sentence

    assert pool_passes_sentence(_kd_summary()) == (
        "Every pool size gets the same 4,200 steps, so the study changes how often the student passes over its pool "
        "along with the pool's size: 537.6 passes over 1,000 inputs, where the widest teacher's student ends with "
        "train error 0.0% on its teacher's labels, down to 21.5 passes over 25,000 inputs (train error 33.5%). A "
        "larger pool here also means less memorisation of the teacher's labels, mistakes included; the study does not "
        "separate the two.")
    assert pool_passes_sentence(_kd_summary(pool_study_passes={1000: 537.6})) == ""
    fits_both = pool_passes_sentence(_kd_summary(pool_largest_train_error_widest=0.0))  # no less memorisation
    assert fits_both.endswith("(train error 0.0%).") and "memorisation" not in fits_both


def test_distillation_small_pool_sentence_follows_the_numbers():
    from ddlib.chapters.distillation import small_pool_sentence

    worse = small_pool_sentence(_kd_summary())
    assert worse.startswith("With the smallest pool (1,000 inputs, as many as the labeled set), `hard_pool` is worse "
                            "than `direct` (62.6%) with both studied teachers: by 3.7 points with the widest teacher "
                            "(width 64) and by 5.2 points with the width-12 teacher.")
    # the closed-form chapter's small pool is that chapter's to state (from its own numbers), not asserted here
    assert worse.endswith("The pool is drawn like the test set, so the widest teacher's labels on it are wrong about "
                          "as often as it errs on the test set (53.6%), against 20% of the labeled set's labels: a "
                          "pool that small is a noisier training set than the labeled one.")
    assert "noisier" not in small_pool_sentence(_kd_summary(label_noise=0.6))  # a teacher less wrong than the labels
    npz = small_pool_sentence(_kd_summary(pool_like_test=False))  # CIFAR-5m-like images: no claim, an "if"
    assert "If the `.npz` pool is drawn like the test set (nothing here checks that it is), the widest" in npz
    assert "closed-form chapter" not in worse
    mixed = small_pool_sentence(_kd_summary(pool_smallest_widest=0.60, pool_study_smallest=500))
    assert "(500 inputs, fewer than the labeled set)" in mixed
    assert "is 2.6 points better with the widest teacher (width 64) and 5.2 points worse with the width-12" in mixed
    par = small_pool_sentence(_kd_summary(pool_smallest_widest=0.628))
    assert "is on par (0.2 points higher error) with the widest teacher" in par
    assert "is worse than" not in mixed and "closed-form chapter" not in mixed


def test_same_width_sentence_says_what_the_extra_steps_do_to_direct():
    from ddlib.chapters.distillation import same_width_sentence

    s = _kd_summary(same_width_teacher=0.605, steps_factor=2, gain_over_same_width_teacher_points="6.5 points",
                    gain_over_direct_points="8.6 points")
    assert same_width_sentence(s) == (
        "`direct` trains the same model on the same labels from the same seed as the teacher of its width, with 2 "
        "times as many steps. That teacher has 60.5% test error against `direct`'s 62.6%: the extra steps cost `direct` "
        "2.1 points on these 2 seeds, so measured against that teacher `hard_pool` gains 6.5 points rather than 8.6 "
        "points.")
    assert "help `direct` by 1.6 points on these 2 seeds." in same_width_sentence({**s, "same_width_teacher": 0.642})
    assert "change little" in same_width_sentence({**s, "same_width_teacher": 0.628})
    assert same_width_sentence({**s, "steps_factor": 1}) == ""  # direct is then the teacher itself
    assert same_width_sentence({**s, "same_width_teacher": float("nan")}) == ""  # no teacher of that width


def test_distillation_best_teacher_sentence():
    from ddlib.chapters.distillation import best_teacher_sentence

    widest = best_teacher_sentence(_kd_summary())
    assert widest == ("The best `hard_pool` student comes from the teacher of width 64 (54.0%): the widest teacher, "
                      "which fits its noisy labels, as the paper's story has it.")
    narrow = best_teacher_sentence(_kd_summary(best_hard_pool_teacher=16, best_hard_pool_error=0.53))
    assert "width 16 (53.0%), not from the widest teacher (width 64, 54.0%)" in narrow and "does not hold" in narrow


def test_method_table_has_one_row_per_distilled_teacher():
    from ddlib.chapters.distillation import method_table

    rows = [("teacher", 2.0, 0, 0.7), ("teacher", 4.0, 0, 0.6), ("hard_pool", 4.0, 100, 0.5),
            ("hard_pool", 4.0, 10, 0.9), ("direct", None, 0, 0.65), ("oracle_pool", None, 100, 0.1)]
    frame = pd.DataFrame(rows, columns=["method", "teacher_width", "pool_size", "test_error"])
    table = method_table(frame, {"pool_size": 100, "teacher_widths": [4]})
    # methods as rows (so the table stays narrow), teacher widths as columns, per cent
    assert list(table.columns) == ["width 4"] and list(table.index[:2]) == ["teacher", "direct"]
    assert table["width 4"].to_dict() == {"teacher": 60.0, "direct": 65.0, "hard_pool": 50.0, "oracle_pool": 10.0}


def test_teachers_are_averaged_over_the_student_seeds():
    """Student seed s distils teacher seed s: a teacher seed no student used must not enter a comparison."""
    from ddlib.chapters.distillation import method_table, paired

    rows = [("teacher", 4.0, 0, 0, 0.6), ("teacher", 4.0, 0, 1, 0.5), ("teacher", 4.0, 0, 2, 0.9),
            ("hard_pool", 4.0, 100, 0, 0.5), ("hard_pool", 4.0, 100, 1, 0.6)]
    frame = pd.DataFrame(rows, columns=["method", "teacher_width", "pool_size", "seed", "test_error"])
    p = {"pool_size": 100, "teacher_widths": [4], "student_seeds": [0, 1]}
    assert sorted(paired(frame, p)["seed"]) == [0, 0, 1, 1]
    assert method_table(frame, p)["width 4"].to_dict() == {"teacher": 55.0, "hard_pool": 55.0}


def test_random_features_noise_sentence_follows_the_numbers():
    from ddlib.chapters.random_features import noise_effect_sentence

    def frame(clean, noisy):
        rows = [dict(ridge=0.0, N=N, labels=lab, test_error=e) for lab, errs in (("clean", clean), ("noisy", noisy))
                for N, e in zip((50, 100, 200), errs)]
        return pd.DataFrame(rows)

    params = {"n_train": 100}
    peak_equal = noise_effect_sentence(frame([0.7, 0.89, 0.6], [0.75, 0.891, 0.68]), params)
    # the rule ("raised": by 2 points or more) is said, and how far the two differ where it is not
    assert peak_equal.startswith("Label noise raises the min-norm error by 2.0 points or more at 2 of the 3 widths "
                                 "(by 5.0 to 8.0 points; at the widest width, 68.0% with noisy labels against 60.0%")
    assert "; by less than that around the peak, at $N/n$ = 1: at most 0.1 points (at the peak, $N/n$ = 1," in peak_equal
    assert "near the chance level of 90%" in peak_equal and "*N*" not in peak_equal
    lower = noise_effect_sentence(frame([0.7, 0.89, 0.6], [0.75, 0.87, 0.68]), params)
    assert "at $N/n$ = 1 it lowers the error instead, by at most 2.0 points" in lower
    everywhere = noise_effect_sentence(frame([0.7, 0.8, 0.6], [0.75, 0.89, 0.68]), params)
    assert everywhere.startswith("Label noise raises the min-norm error by 2.0 points or more at every width (by 5.0 "
                                 "to 9.0 points")
    nowhere = noise_effect_sentence(frame([0.7, 0.8, 0.6], [0.71, 0.8, 0.6]), params)
    assert nowhere == "Label noise raises the min-norm error by less than 2.0 points at every width (by at most 1.0 points)."


def test_random_features_gaps_are_points():
    import numpy as np

    from ddlib.chapters.random_features import distillation_numbers

    rows = [dict(role="teacher", N=n, test_error=e, test_mse=1.0) for n, e in ((50, 0.6), (100, 0.9))]
    rows += [dict(role="student-labels", N=n, M=100, test_error=0.9, test_mse=5.0) for n in (50, 100)]
    rows += [dict(role=f"student-{k}", N=n, M=100, pool_size=P, test_error=e + d, test_mse=1.0)
             for k in ("soft", "hard") for P, d in ((100, 0.105), (800, -0.0056)) for n, e in ((50, 0.6), (100, 0.9))]
    out = distillation_numbers(pd.DataFrame(rows), {"n_train": 100, "n_test": 500, "pool_sizes": [100, 800]})
    assert np.isclose(out["soft_small_mean_gap"], 0.105)
    assert out["soft_small_mean_gap_words"] == "10.5 points worse"
    assert out["soft_large_mean_gap_vs_teacher"] == "0.6 points below the teacher's"  # one decimal, as everywhere
    assert out["hard_small_max_abs_gap_points"] == "10.5 points"


def test_random_features_results_path_is_relative_to_the_repository(tmp_path, monkeypatch):
    import pandas as pd_

    from ddlib.chapters import random_features as rf

    monkeypatch.delenv("DDLIB_RESULTS", raising=False)
    monkeypatch.setattr(rf, "write_table", lambda table, chapter, params: REPO / "results" / chapter / params["preset"] / "results.csv")
    assert str(rf.write_results({"preset": "smoke"}, pd_.DataFrame({"study": ["x"]}))) == \
        "results/random-features/smoke/results.csv"
    monkeypatch.setattr(rf, "write_table", lambda table, chapter, params: tmp_path / "r.csv")
    assert rf.write_results({"preset": "smoke"}, pd_.DataFrame({"study": ["x"]})) == tmp_path / "r.csv"


def test_numpy_scalars_are_glued_as_python_numbers(monkeypatch):
    import myst_nb
    import numpy as np

    import ddlib.book

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.update({name: value}))
    ddlib.book.glue_numbers(ratio=np.float64(105.7), count=np.int64(3), plain=0.5)
    assert type(glued["ratio"]) is float and type(glued["count"]) is int and glued["plain"] == 0.5


def _teacher_summary(**kw):
    s = dict(peak_width=16, threshold_width=24, clear_peak=False, best_narrower_width=12, peak_test_error=0.601,
             best_narrower_test_error=0.597, widest_test_error=0.544, peak_over_narrower=0.004,
             peak_over_widest=0.057, widths_above_peak=[2, 4, 8], widest_width=64, chosen_width=16,
             chosen_on="validation")
    return {**s, **kw}


def test_student_choice_says_whether_the_width_is_a_clear_peak():
    """The student's width is called a peak, or the worst case for training on the labeled data, only where
    the runs make it one."""
    from ddlib.chapters.distillation import student_choice

    plateau = student_choice(_teacher_summary(), {"student_width": "peak"})
    assert "the width singled out is 16, which is not a clear peak" in plateau
    assert "only 0.4 points above width 12's, the best narrower one" in plateau
    assert ("The narrower widths 2, 4 and 8 have a higher test error still, "
            "so width 16 is not the worst case for training on the labeled data here.") in plateau
    one = student_choice(_teacher_summary(widths_above_peak=[2]), {"student_width": "peak"})
    assert "The narrower width 2 has a higher test error still" in one
    clear = student_choice(_teacher_summary(clear_peak=True, peak_test_error=0.65, peak_over_narrower=0.053, peak_over_widest=0.106,
                                            widths_above_peak=[]), {"student_width": "peak"})
    assert "a clear peak: its test error is 5.3 points above width 12's and 10.6 points above the widest" in clear
    assert "it is the worst case for training on the labeled data" in clear and "not the worst" not in clear
    given = student_choice(_teacher_summary(), {"student_width": 12})
    assert given.startswith("In this run the student width is set to 12 instead")
    assert "width 16, the width of highest test error near the interpolation threshold (not a clear peak" in given


def test_distillation_plot_keeps_its_legend_off_the_curves():
    import matplotlib

    matplotlib.use("Agg")
    from ddlib.chapters.distillation import plot_methods, plot_pool_sizes

    rows = [(m, tw, pool, s, e) for s in (0, 1) for tw in (4, 64)
            for m, pool, e in (("teacher", 0, 0.6), ("hard_pool", 100, 0.55), ("soft_kd_labeled", 0, 0.58))]
    rows += [("direct", None, 0, s, 0.62) for s in (0, 1)] + [("oracle_pool", None, 100, s, 0.1) for s in (0, 1)]
    frame = pd.DataFrame(rows, columns=["method", "teacher_width", "pool_size", "seed", "test_error"])
    p = {"pool_size": 100, "teacher_widths": [4, 64], "student_seeds": [0, 1]}
    fig = plot_methods(frame.assign(teacher_width=frame["teacher_width"].where(frame["method"] != "teacher", 8)), p)
    assert_legend_outside(fig)
    # the title names the teachers that have students, not every width of the teacher curve (here width 8)
    assert fig._suptitle.get_text() == "Students of teachers of width 4 and 64, by method"
    study = frame.assign(pool_size=frame["pool_size"].replace({0: 50}))
    assert_legend_outside(plot_pool_sizes(study, {"study_teachers": [4, 64]}, [50, 100]))


def test_teacher_seeds_words_say_whether_the_teachers_are_averaged_over_all_the_sweeps_seeds():
    assert kd.teacher_seeds_words({"student_seeds": [0, 1, 2], "seeds": [0, 1, 2]}) == (
        "these seeds, all 3 of the double-descent chapter's")
    assert kd.teacher_seeds_words({"student_seeds": [0, 1], "seeds": [0, 1, 2]}) == (
        "these seeds only (the double-descent chapter averages them over all 3)")
    assert kd.teacher_seeds_words({"student_seeds": [0], "seeds": [0]}) == "this seed, the double-descent chapter's only one"
    assert kd.teacher_seeds_words({"student_seeds": [0], "seeds": [0, 1]}) == (
        "this seed only (the double-descent chapter averages them over all 2)")


def test_the_width_length_note_says_when_direct_is_past_the_threshold_the_width_was_chosen_near():
    from ddlib.chapters import direct_lengths

    def frame(direct_train, sweep_train):
        rows = [dict(method="direct", student_width=16, teacher_width=None, seed=s, train_error=direct_train)
                for s in (0, 1)]
        rows += [dict(method="teacher", student_width=None, teacher_width=w, seed=s, train_error=sweep_train)
                 for w in (16, 64) for s in (0, 1)]
        return pd.DataFrame(rows)

    p = {"epochs": 300, "student_steps_factor": 2}
    past = direct_lengths.fit_at_length_note(frame(0.0, 0.137), p)
    assert past.startswith("The rule reads the sweep's models, trained for 300 epochs; every student trains 2 times as "
                           "many steps, so `direct` (width 16) trains for 600 epochs, and its train error on the noisy "
                           "labels is 0.0%, against 13.7% for the sweep's model of width 16. At `direct`'s length "
                           "width 16 fits its noisy labels, so there it is at or past its interpolation threshold")
    assert "holds for the teachers' training, not for `direct`'s." in past
    # both fit, or neither: the numbers alone, no claim about the threshold
    for d, t in ((0.0, 0.0), (0.05, 0.137)):
        assert "past its interpolation threshold" not in direct_lengths.fit_at_length_note(frame(d, t), p)
    # a width set by hand: no rule, no reason to qualify
    by_hand = direct_lengths.fit_at_length_note(frame(0.0, 0.137), dict(p, student_width=16))
    assert by_hand.startswith("The student's width is set by hand here.") and "past its" not in by_hand
    assert direct_lengths.fit_at_length_note(frame(0.0, 0.137), dict(p, student_steps_factor=1)).startswith(
        "`direct` trains as long as the sweep's models")
    assert "was not run here" in direct_lengths.fit_at_length_note(frame(0.0, 0.1).query("method != 'direct'"), p)


def test_gains_over_direct_are_paired_by_seed_on_the_main_pool():
    """The bottom panel's gain is direct's error minus the student's on the same seed (a constant gain has no
    spread), a pool method is read on the main pool only, a seed without its direct run is left out."""
    from ddlib.chapters.distillation import gains_over_direct

    rows = [("direct", None, 0, s, 0.60 + 0.05 * s) for s in (0, 1, 2)]
    rows += [("hard_pool", 64, 100, s, 0.55 + 0.05 * s) for s in (0, 1, 2, 3)]  # 5 points better on every seed
    rows += [("hard_pool", 64, 50, s, 0.90) for s in (0, 1, 2)]  # the pool-size study's smaller pool
    rows += [("hard_labeled", 64, 0, s, e) for s, e in ((0, 0.58), (1, 0.66), (2, 0.72))]
    frame = pd.DataFrame(rows, columns=["method", "teacher_width", "pool_size", "seed", "test_error"])
    g = gains_over_direct(frame, {"pool_size": 100}).set_index("method")
    assert g.loc["hard_pool", "gain"] == pytest.approx(0.05) and g.loc["hard_pool", "se"] == pytest.approx(0.0)
    assert g.loc["hard_pool", "n"] == 3
    assert g.loc["hard_labeled", "gain"] == pytest.approx((0.02 - 0.01 - 0.02) / 3)
    assert g.loc["hard_labeled", "se"] == pytest.approx(pd.Series([0.02, -0.01, -0.02]).std() / 3 ** 0.5)


def test_anchor_runs_the_published_setting_and_words_follow_the_numbers():
    """The anchor's runs are the published CNN's setting (clean labels, width 25, Adam at 1e-2, batch 100) for their
    CNN and the book's, and the book's CNN with the chapter's recipe too; its sentence calls the published error
    matched only within two points, and says what the book's kernels change."""
    from ddlib.chapters import anchor, double_descent as dd

    p = dd.resolve_params("default")
    plan = anchor.plan(p)
    assert len(plan) == 5 * 5 and {c.data.label_noise for _, _, c in plan} == {0.0}
    published = [c for n, r, c in plan if r == "published" and n == 4000]
    assert {(c.model, c.width, c.train.lr, c.train.batch_size, c.train.steps, c.data.n_train) for c in published} == {
        (m, 25, 1e-2, 100, 8000, 4000) for m in ("cnn1d", "cnn1d_gk")}
    # their CNN runs in the published setting only
    assert {(n, r) for n, r, c in plan if c.model == "cnn1d_gk"} == {(4000, "published")}
    chapter = [c for n, r, c in plan if r == "chapter" and n == 1000]
    assert {(c.model, c.train.lr, c.train.batch_size, c.train.steps) for c in chapter} == {("cnn1d", 1e-3, 128, 300 * 7)}

    def frame(theirs, ours=0.073):
        rows = [(4000, "published", "cnn1d_gk", theirs), (4000, "published", "cnn1d", ours),
                (4000, "chapter", "cnn1d", 0.16), (1000, "published", "cnn1d", 0.35), (1000, "chapter", "cnn1d", 0.42)]
        return pd.DataFrame([dict(n_train=n, recipe=r, model=m, seed=s, test_error=e) for n, r, m, e in rows
                             for s in (0, 1)])

    close = anchor.sentence(frame(0.065), p)
    assert close.startswith("In the published setting, Greydanus & Kobak's CNN (`cnn1d_gk`) reaches 6.5% test error "
                            "over 2 seeds, close to the published 6% (0.5 points above it), and the book's (`cnn1d`, "
                            "kernel 5 in every layer) 7.3%, 0.8 points above theirs.")
    assert "the data generator and the training code are not what makes the chapter's errors high" in close
    assert "The book's kernels change little here." in close
    assert "the book's CNN on the same 4,000 samples ends at 16.0%, 8.7 points above the published recipe" in close
    assert ("with the published recipe, going from 4,000 samples to 1,000 costs 27.7 points, more than the chapter's "
            "recipe costs on 4,000 (8.7 points), before any label noise.") in close
    assert "The book's kernels cost 3.0 points here." in anchor.sentence(frame(0.065, ours=0.095), p)
    assert "The book's kernels gain 2.5 points here." in anchor.sentence(frame(0.098), p)
    bigger = anchor.sentence(frame(0.065).replace({1000: 8000}), dict(p, n_train=8000))
    assert "On the chapter's 8,000 clean samples the published recipe gives 35.0% and the chapter's 42.0%. " in bigger
    assert anchor.table(frame(0.065).iloc[:0]).empty and anchor.plan(dict(p, anchor_seeds=[])) == []
    assert anchor.table(frame(0.065)).loc[(4000, "published", "cnn1d_gk"), "test error, mean (%)"] == 6.5
    far = anchor.sentence(frame(0.10), p)
    assert "clearly above the published 6% (4.0 points above it)" in far
    assert "does not come close to their number" in far and "not what makes" not in far
    assert close.endswith("it was not tuned. The next section runs the sweep again at the published learning rate, 0.01.")
    cifar = dd.resolve_params("paper", anchor_seeds=[0], device="cpu")
    assert anchor.plan(cifar) == [] and anchor.sentence(frame(0.073), cifar).startswith("The anchor is for MNIST-1D")


def test_random_features_ratios_and_setting_as_printed():
    import numpy as np

    from ddlib.chapters.random_features import feature_setting, ratio

    assert f"{ratio(5000 / 500):g}" == "10" and f"{ratio(475 / 500):g}" == "0.95" and f"{ratio(1):g}" == "1"
    setting = feature_setting({"num_classes": 10, "x_train": np.zeros((3, 40))})
    assert setting["rf_input_dim"] == 40 and setting["rf_classes"] == 10 and abs(setting["chance_error"] - 0.9) < 1e-12


def test_random_features_plots_keep_their_legends_off_the_curves():
    import matplotlib

    matplotlib.use("Agg")
    from ddlib.chapters import random_features as rf

    params = rf.resolve_params("smoke", lin_trials=2)
    assert_legend_outside(rf.plot_linear(rf.run_linear(params), params))
    rows = [dict(labels=lab, N=N, N_over_n=N / 100, ridge=lam, repeat=0, test_error=0.5, test_mse=1.0)
            for lab in ("noisy", "clean") for N in (50, 100, 200) for lam in [0.0] + params["ridges"]]
    assert_legend_outside(rf.plot_ridge(pd.DataFrame(rows), params))


@pytest.mark.parametrize("chapter", ["intro", "double-descent", "distillation", "random-features"])
def test_prose_has_no_machine_plurals_or_title_only_links(chapter):
    """No "(s)" in the prose, and links to the intro and the appendix carry their own text (a bare
    {doc}`intro` reads as the book's title in the middle of a sentence)."""
    import re

    text = (REPO / "book" / f"{chapter}.md").read_text(encoding="utf-8")
    assert "(s)" not in text
    assert not re.findall(r"\{doc\}`(intro|full-scale)`", text)


def test_every_figure_has_a_caption_and_a_name_of_its_own():
    """Each code cell that draws a figure (calls a ``plot`` function) carries a myst-nb caption, so the built book
    numbers it and says what it shows; the names that prose cites with {numref} are unique across the book."""
    import re

    names = []
    for chapter in ["double-descent", "distillation", "random-features", "full-scale"]:
        nb = jupytext.read(REPO / "book" / f"{chapter}.md")
        drawing = [c for c in nb.cells if c.cell_type == "code" and re.search(r"\.plot(_\w+)?\(", c.source)]
        assert drawing, chapter
        for cell in drawing:
            figure = cell.metadata.get("mystnb", {}).get("figure", {})
            assert len(figure.get("caption", "")) > 40, (chapter, cell.source)
            names += [figure["name"]] if "name" in figure else []
    assert len(names) == len(set(names)) and len(names) >= 10


# ---------------------------------------------------------------- the words follow the numbers, in every branch


def _dd_frame(curve, seeds=(0, 1), jitter=0.002):
    """A double-descent results frame from ``{width: (train error, test error)}``, seeds a little apart."""
    rows = [dict(width=w, seed=s, train_error=tr, test_error=te + (s - 0.5) * jitter, params=w * 100)
            for w, (tr, te) in curve.items() for s in seeds]
    return pd.DataFrame(rows)


#: a large rise above the best narrower width (15 points) but no clear fall to the widest (1 point)
_BIG_RISE_NO_FALL = {1: (.5, .40), 2: (.3, .30), 4: (.1, .35), 8: (0, .45), 64: (0, .44)}
#: test error keeps falling through the threshold (width 4)
_MONOTONE = {1: (.5, .50), 2: (.3, .30), 4: (0, .25), 8: (0, .20), 64: (0, .10)}


def test_student_choice_says_only_for_a_small_rise():
    """A width that is not a clear peak because test error does not come back down is not said to be
    'only' 15 points above the best narrower width: the widest width is only 1 point below it."""
    from ddlib.chapters.distillation import student_choice
    from ddlib.chapters.double_descent import summarize

    s = summarize(_dd_frame(_BIG_RISE_NO_FALL))
    assert s["peak_width"] == 8 and not s["clear_peak"]
    text = student_choice(s, {"student_width": "peak"})
    assert ("which is not a clear peak (see that chapter's verdict): its test error is 15.0 points above width 2's, "
            "the best narrower one, but the widest width's is only 1.0 points below it.") in text
    assert "only 15.0" not in text
    worse = student_choice(_teacher_summary(peak_test_error=0.65, best_narrower_test_error=0.60, widest_test_error=0.66,
                                            peak_over_narrower=0.05, peak_over_widest=-0.01, widths_above_peak=[]),
                           {"student_width": "peak"})
    assert "5.0 points above width 12's, the best narrower one, but the widest width's is 1.0 points above it" in worse
    small = student_choice(_teacher_summary(), {"student_width": "peak"})
    assert "only 0.4 points above width 12's" in small  # a rise under 2 points is still 'only'


def test_double_descent_verdict_without_a_rise_claims_no_plateau():
    """Test error that keeps falling through the threshold is said to, not called a plateau."""
    from ddlib.chapters.double_descent import summarize

    s = summarize(_dd_frame(_MONOTONE))
    assert s["peak_over_narrower"] < 0 and s["peak_over_widest"] >= 0.02
    v = s["verdict"]
    assert v.startswith("**This run shows no clear peak; test error falls past the interpolation threshold.**")
    assert ("no width has a higher test error than width 2, the best width narrower than the threshold, where the "
            "search starts; width 1, narrower still, is 20.0 points higher.") in v
    assert "plateau" not in v and "second descent" not in v and "the peak" not in v
    assert "has the lowest test error of the sweep" in v  # the widest width is the best and interpolates


def test_double_descent_verdict_states_a_clear_rise_without_but():
    from ddlib.chapters.double_descent import summarize

    v = summarize(_dd_frame(_BIG_RISE_NO_FALL))["verdict"]
    assert v.startswith("**This run does not show double descent.**")
    assert "the highest test error is at width 8: it is 15.0 points above width 2, the best narrower one." in v
    assert ", but it is 15.0" not in v
    assert "is only 1.0 points better than width 8: test error does not clearly come back down." in v


def test_best_teacher_on_par_is_not_a_failure_of_the_story():
    from ddlib.chapters.distillation import best_teacher_sentence

    tie = best_teacher_sentence(_kd_summary(best_hard_pool_teacher=16, best_hard_pool_error=0.4001,
                                            hard_pool_widest=0.4003))
    assert "does not hold" not in tie and "not from the widest teacher" not in tie
    assert ("the student of the widest teacher (width 64, which fits its noisy labels) is on par with it at 40.0% "
            "(the same error as printed)") in tie
    assert "holds here to within 0.5 points" in tie
    close = best_teacher_sentence(_kd_summary(best_hard_pool_teacher=16, best_hard_pool_error=0.4001,
                                              hard_pool_widest=0.4043))
    assert "on par with it at 40.4% (only 0.4 points behind)" in close
    far = best_teacher_sentence(_kd_summary(best_hard_pool_teacher=16, best_hard_pool_error=0.4001,
                                            hard_pool_widest=0.4053))
    assert "not from the widest teacher (width 64, 40.5%)" in far and "does not hold" in far


def test_one_seed_has_no_spread_between_seeds():
    """With one seed per width (the smoke and paper presets) there is no spread: no 'nan points', no NaN
    standard-deviation columns."""
    from ddlib.chapters.double_descent import summarize, width_table

    one = _dd_frame(_MONOTONE, seeds=(0,))
    s = summarize(one)
    assert "nan" not in s["seed_noise_words"]
    assert s["seed_noise_words"] == ("so there is no spread between seeds to tell a difference from seed noise with "
                                     "(and no band around the curves)")
    table = width_table(one)
    assert not table.isna().any().any() and not any("std" in c for c in table.columns)
    assert list(table.columns) == ["parameters", "train error (%)", "test error (%)"]
    many = summarize(_dd_frame(_MONOTONE))
    assert many["seed_noise_words"] == ("so differences smaller than the spread between seeds (the standard deviation "
                                        "over seeds, 0.1 points averaged over widths; the table gives each width's) "
                                        "are within seed noise (the figure's band spans the lowest to the highest "
                                        "seed)")
    assert "test error, std (%)" in width_table(_dd_frame(_MONOTONE)).columns


def test_words_are_chosen_on_the_printed_differences():
    """A printed tie reads +0.0 (never -0.0); a difference printed as 2.0 points is a clear one (not 'only 2.0
    points better', not 'less than the 2.0 points'); a gap printed as 5.0 points is not 'close' (under 5)."""
    from ddlib.chapters import distillation as ds
    from ddlib.chapters.double_descent import summarize
    from ddlib.prose import shown_difference

    def c3(direct, hp):
        return ds.verdict(_kd_summary(direct=direct, hard_pool_widest=hp))

    assert "`hard_pool` is on par with `direct` (the same error as printed)" in c3(0.54, 0.54)
    assert "`hard_pool` is on par with `direct` (the same error as printed)" in c3(0.5404, 0.54)
    assert "`hard_pool` is on par with `direct` (0.3 points higher error)" in c3(0.54, 0.543)
    assert "`hard_pool` beats `direct` by 2.0 points" in c3(0.4149, 0.395)
    assert "`hard_pool` is only 0.5 points better than `direct`" in c3(0.4049, 0.40)
    assert "-0.0" not in c3(0.54, 0.54)
    assert shown_difference(0.453, 0.433) == 0.02  # 45.3 - 43.3 is 1.9999999999999957 in floats
    c2 = ds.verdict(_kd_summary(hard_pool_widest=0.5864, teacher_widest=0.5364))
    assert "5.0 points above them (C2, close to the teacher: no)" in c2
    par = ds.small_pool_sentence(_kd_summary(pool_smallest_widest=0.6261, pool_smallest_narrow=0.62605))
    assert "on par (the same error as printed) with the widest teacher" in par and "-0.0" not in par
    assert "a larger pool, at the same number of steps, helps both studied teachers" in ds.verdict(_kd_summary())
    # 66.3% -> 65.9%: 0.4 points, under the half point that counts
    assert "a larger pool, at the same number of steps, does not always help" in ds.verdict(_kd_summary(pool_largest_widest=0.6590))
    # double descent: a rise printed as 2.0 points (45.3% against 43.3%, unrounded 1.96) makes a clear peak
    s = summarize(_dd_frame({2: (.3, .433), 4: (0, .4526), 8: (0, .40)}, seeds=(0,)))
    assert s["peak_over_narrower"] == 0.02 and s["clear_peak"]
    assert "it is 2.0 points above width 2, the best narrower one" in s["verdict"]
    assert "less than the 2.0 points" not in s["verdict"]


def test_random_features_noise_sentence_edge_cases():
    from ddlib.chapters.random_features import noise_effect_sentence

    Ns = [10, 50, 95, 100, 105, 200, 1000]

    def frame(noisy, clean):
        rows = [dict(N=N, labels=lab, ridge=0.0, test_error=e) for lab, errs in (("noisy", noisy), ("clean", clean))
                for N, e in zip(Ns, errs)]
        return pd.DataFrame(rows)

    params = {"n_train": 100}
    same = noise_effect_sentence(frame([.5, .6, .88, .9, .88, .6, .4], [.4, .5, .87, .89, .87, .5, .3]), params)
    assert "at 4 of the 7 widths (by 10.0 points;" in same and "10.0 to 10.0" not in same
    zero = noise_effect_sentence(frame([.5] * 7, [.5] * 7), params)
    assert zero == ("Label noise does not change the min-norm error at any width: the noisy-label and clean-label "
                    "errors print the same at every width.")
    flat_peak = noise_effect_sentence(frame([.5, .6, .85, .9, .85, .6, .4], [.4, .5, .8, .9, .8, .5, .3]), params)
    assert "around the peak, at $N/n$ = 1 it does not change the error (the two print the same)" in flat_peak
    assert "at most 0.0 points" not in flat_peak
    # near chance: within 5 points either side of 90%; 96% is 6 points above it
    above = noise_effect_sentence(frame([.5, .6, .85, .96, .85, .6, .4], [.4, .5, .8, .955, .8, .5, .3]), params)
    assert "at the peak, $N/n$ = 1, 96.0% with noisy labels and 95.5% with clean ones)" in above
    assert "near the chance level" not in above
    near = noise_effect_sentence(frame([.5, .6, .85, .94, .85, .6, .4], [.4, .5, .8, .935, .8, .5, .3]), params)
    assert "both near the chance level of 90%" in near


def test_student_width_given_equal_to_the_singled_out_width():
    from ddlib.chapters.distillation import student_choice

    same = student_choice(_teacher_summary(), {"student_width": 16})
    assert same.startswith("In this run the student width is set to 16 by hand, which is also the width the "
                           "double-descent chapter singles out: width 16,")
    assert "instead" not in same
    assert "set to 12 instead" in student_choice(_teacher_summary(), {"student_width": 12})


def test_widths_above_the_peak_can_be_wider_ones():
    """``widths_above_peak`` holds every width above the peak width's error, wider ones beyond the search
    window included, and the summary's documentation says so."""
    from ddlib.chapters.distillation import student_choice
    from ddlib.chapters.double_descent import summarize

    s = summarize(_dd_frame({2: (.3, .40), 4: (0, .42), 8: (0, .41), 16: (0, .45), 64: (0, .30)}))
    assert s["window_stop"] == 8 and s["peak_width"] == 4 and s["widths_above_peak"] == [16]
    assert "The wider width 16 has a higher test error still" in student_choice(s, {"student_width": "peak"})
    doc = " ".join(summarize.__doc__.split())
    assert "wider widths beyond it" in doc


def test_distillation_c3_scope_follows_the_widest_teacher_too():
    """'only with a wide enough teacher' needs the widest teacher's student to beat `soft_kd_labeled`."""
    from ddlib.chapters.distillation import verdict

    assert "the claim holds here only with a wide enough teacher" in verdict(_kd_summary())
    assert "the claim holds here for every teacher" in verdict(_kd_summary(other_beats_soft_kd_labeled=3))
    lost = _kd_summary(soft_kd_labeled_widest=0.5140)
    assert "is 2.6 points worse than `soft_kd_labeled`" in verdict(lost)
    assert "the claim holds here with no teacher" in verdict(lost) and "wide enough" not in verdict(lost)
    assert "with some teachers but not the widest" in verdict({**lost, "other_beats_soft_kd_labeled": 1})


def test_prose_helpers_choose_words_on_printed_values():
    """The shared prose helpers: differences as printed, relations on the printed side, lists and counts."""
    from ddlib.prose import join, plural, points, relation, shown_difference, signed_points

    assert shown_difference(0.5401, 0.5435) == -0.004 and points(0.057) == "5.7 points"
    assert relation(0.0004, "it") == "level with it" and relation(-0.0034, "them") == "0.3 points below them"
    assert signed_points(-0.0004) == "+0.0 points"
    assert join([4]) == "4" and join([1, 2, 4]) == "1, 2 and 4"
    assert plural(1, "seed") == "1 seed" and plural(2, "process", "processes") == "2 processes"
    assert plural(0, "seed") == "0 seeds" and plural(3, "feature draw") == "3 feature draws"


#: a clear peak at the threshold (width 8) that the widest width does not come down below the best narrow one
_PEAK_WIDEST_NOT_BEST = {1: (.5, .40), 2: (.3, .30), 4: (.1, .33), 8: (0, .36), 64: (0, .33)}


def test_the_noise_study_sentence_compares_the_rule_and_says_whether_the_widest_stays_best():
    from ddlib.chapters.double_descent import noise_study_sentence, summarize

    base, noisy = summarize(_dd_frame(_MONOTONE)), summarize(_dd_frame(_PEAK_WIDEST_NOT_BEST))
    text = noise_study_sentence(base, {0.4: noisy}, 0.2)
    assert text.startswith("With 40% of the labels mislabeled instead of 20%, the same rule finds that this run shows "
                           "double descent. Near the threshold (width 8 is the first to fit the noisy labels), width "
                           "8's test error is 6.0 points above width 2's, the best narrower one; at 20% (width 4 is "
                           "the first to fit the noisy labels), width 2's test error is")  # the main sweep's own rise
    assert "The spread between seeds is 0.1 points at 40% and 0.1 points at 20%." in text
    lone = summarize(_dd_frame(_PEAK_WIDEST_NOT_BEST, seeds=(0,)))
    lone_base = summarize(_dd_frame(_MONOTONE, seeds=(0,)))
    assert "spread between seeds" not in noise_study_sentence(lone_base, {0.4: lone}, 0.2)  # one seed: no spread
    assert text.endswith("The widest model (33.0%, against 10.0% at 20%) is no longer the best of the sweep: width 2's is 3.0 points lower.")
    again = noise_study_sentence(noisy, {0.3: base}, 0.4)
    assert again.endswith("The widest model (10.0%, against 33.0% at 40%) is again the best of the sweep.")
    barely = summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 64: (0, .299)}))  # 0.1 points ahead of width 2: not clear
    assert noise_study_sentence(base, {0.4: barely}, 0.2).endswith(
        "The widest model (29.9%, against 10.0% at 20%) is again the best of the sweep, but only 0.1 points ahead of width 2 (30.0%), "
        "less than the 2.0 points counted as clear.")
    near = summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 64: (0, .305)}))  # 0.5 points behind the best: not clear
    assert noise_study_sentence(base, {0.4: near}, 0.2).endswith(
        "The widest model (30.5%, against 10.0% at 20%) is no longer the best of the sweep, but only 0.5 points behind width 2 (30.0%), "
        "less than the 2.0 points counted as clear.")
    tied = summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 64: (0, .3004)}))  # 0.0 points ahead as printed
    assert noise_study_sentence(base, {0.4: tied}, 0.2).endswith(
        "The widest model (30.0%, against 10.0% at 20%) ties with width 2 (30.0%) as printed: at 40% label noise, "
        "fitting every training label buys nothing over width 2.")
    ahead = summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 64: (0, .2996)}))  # best, but 0.0 points ahead as printed
    assert noise_study_sentence(base, {0.4: ahead}, 0.2).endswith("ties with width 2 (30.0%) as printed: at 40% "
                                                                  "label noise, fitting every training label buys "
                                                                  "nothing over width 2.")
    unfit = summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 64: (0.3, .3004)}))  # the widest no longer fits
    assert noise_study_sentence(base, {0.0: unfit}, 0.2).endswith(
        "ties with width 2 (30.0%) as printed: with clean labels, the widest width buys nothing over width 2.")
    clean = noise_study_sentence(noisy, {0.0: base}, 0.4)
    assert clean.startswith("With clean labels (none mislabeled) instead of 40%, the same rule finds that")
    assert "(width 4 is the first to fit the clean labels)" in clean and "first to fit the noisy labels" in clean
    assert noisy["verdict"] == f"**{noisy['verdict_head']}** " + noisy["verdict"].split("** ", 1)[1]
    assert noise_study_sentence(base, {}, 0.2).startswith("No other label-noise rate was run here (`noise_study` is empty")


def test_the_pool_is_described_by_how_it_is_drawn():
    from ddlib.chapters import distillation as kd

    assert "`pool_seed` = 1000" in kd.pool_words(kd.PRESETS["default"])
    assert "`$DDLIB_POOL_NPZ`" in kd.pool_words(kd.PRESETS["paper"])


def test_the_noise_study_is_validated_and_left_out_of_the_paper_preset_and_the_distillation_chapter():
    from ddlib.chapters import distillation as ds
    from ddlib.chapters import double_descent as dd
    from ddlib.validation import ConfigError

    assert dd.resolve_params("smoke", noise_study="0.3,0.5")["noise_study"] == [0.3, 0.5]
    with pytest.raises(ConfigError, match="noise_study must be a number in \\[0, 1\\); got 1.0"):
        dd.resolve_params("smoke", noise_study=[1.0])
    # the main rate is the main sweep: not run again as part of the study
    assert [rate for rate, _ in dd._noise_study_params(dd.resolve_params("smoke", noise_study=[0.0, 0.2]))] == [0.0]
    assert dd.PRESETS["paper"]["noise_study"] == [] and dd.run_noise_study(dd.PRESETS["paper"])[0] == {}
    assert all("noise_study" not in p for p in ds.PRESETS.values())


def _sweep_frame(test: dict, seeds=range(5)):
    """Records of a sweep whose mean train error reaches 0 at width 24, with the test errors ``test`` by width."""
    train = {2: .69, 4: .6, 8: .45, 12: .33, 16: .14, 24: 0, 32: 0, 64: 0}
    return pd.DataFrame([dict(width=w, seed=s, params=100 * w, train_error=train[w], test_error=e, hash=f"{w}-{s}")
                         for w, e in test.items() for s in seeds])


def test_student_width_and_study_teacher_are_chosen_on_the_validation_set(monkeypatch):
    """The rule runs on the validation errors: where they single out another width than the test errors, the
    students get the validation set's width and the pool study's narrower teacher is the best on it; with
    ``val_size`` 0 both fall back to the test errors, and the note says so."""
    from ddlib.chapters import width_choice

    test = {2: .70, 4: .64, 8: .61, 12: .59, 16: .60, 24: .58, 32: .57, 64: .55}  # rule: width 16
    val = {2: .75, 4: .70, 8: .65, 12: .67, 16: .66, 24: .65, 32: .64, 64: .62}  # rule: width 12
    monkeypatch.setattr(width_choice, "validation_frame", lambda p, store=None: _sweep_frame(val).rename(
        columns={"test_error": "val_error"})[["width", "seed", "val_error"]])
    p = kd.resolve_params("default")
    plan = kd.plan_students(p, _sweep_frame(test))
    s = plan["teacher_summary"]
    assert s["peak_width"] == 16 and s["chosen_width"] == 12 and plan["width"] == 12
    assert {c.width for c in plan["main"] + plan["study"]} == {12}
    assert plan["study_teachers"] == [4, 64]  # narrower than 12: only 4 among teacher widths 4, 12, 16, 64
    note = width_choice.note(s, p)
    assert "5,000 held-out inputs with 20% of their labels wrong" in note and "It singles out width 12;" in note
    assert "the test errors would have singled out width 16 instead" in note
    assert "8 (65.0%), 12 (67.0%), 16 (66.0%)" in note
    assert width_choice.note(s, dict(p, student_width=12)) == ""
    on_test = kd.plan_students(dict(p, val_size=0), _sweep_frame(test))
    assert on_test["width"] == 16 and on_test["study_teachers"] == [12, 64] and on_test["validation"] is None
    assert "test errors, the same test set the students are scored on" in width_choice.note(
        on_test["teacher_summary"], dict(p, val_size=0))


def test_val_size_is_checked(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="val_size must be a non-negative integer"):
        kd.resolve_params("smoke", val_size=-1)
    # noisy validation labels rank models as clean ones only below 1 - 1/classes of noise
    with pytest.raises(ConfigError, match=r"val_size must be 0 when label_noise is at least 0.9 \(1 - 1/classes\)"):
        kd.resolve_params("smoke", label_noise=0.9)
    assert kd.resolve_params("smoke", label_noise=0.9, val_size=0)["val_size"] == 0
    monkeypatch.delenv("DDLIB_POOL_NPZ", raising=False)
    cifar = dict(dataset="cifar10", model="cnn5", n_train=20000, pool_size=25000, pool_study_sizes=[25000])
    with pytest.raises(ConfigError, match=r"n_train \+ the largest pool size \+ val_size must be at most 50000.*"
                                          r"or val_size to 0 to choose on the test set"):
        kd.resolve_params("smoke", **cifar, val_size=5001)
    assert kd.resolve_params("smoke", **cifar, val_size=5000)["val_size"] == 5000
    # with a pool from .npz files only the labeled and validation sets come from the split
    monkeypatch.setenv("DDLIB_POOL_NPZ", str(tmp_path / "part0.npz"))
    assert kd.resolve_params("smoke", **cifar, val_size=30000)["val_size"] == 30000
    with pytest.raises(ConfigError, match=r"n_train \+ val_size must be at most 50000 for cifar10 .*got 20000 \+ 30001"):
        kd.resolve_params("smoke", **cifar, val_size=30001)
    assert kd.PRESETS["paper"]["val_size"] == 0  # its labeled set is the whole training split


def test_the_redraw_sentence_compares_another_draw_of_the_data():
    from ddlib.chapters.double_descent import redraw_sentence, summarize

    base, other = summarize(_dd_frame(_MONOTONE)), summarize(_dd_frame(_PEAK_WIDEST_NOT_BEST))
    p = {"dataset": "mnist1d", "label_noise": 0.2, "data_seed": 0, "noise_seed": 0}
    text = redraw_sentence(base, {1: other}, p)
    assert text.startswith("With another draw of the data (`data_seed` = `noise_seed` = 1: another labeled set, other "
                           "wrong labels and another test set) instead of the chapter's (0 and 0), the same rule finds "
                           "that this run shows double descent. Near the threshold (width 8 is the first to fit the "
                           "noisy labels), width 8's test error is 6.0 points above width 2's, the best narrower one; "
                           "in the chapter's draw (width 4 is the first to fit the noisy labels), width 2's")
    assert "The spread between seeds is 0.1 points in draw 1 and 0.1 points in the chapter's draw." in text
    assert text.endswith("The widest model (33.0%, against 10.0% in the chapter's draw) is no longer the best of the "
                         "sweep: width 2's is 3.0 points lower.")
    tied = summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 64: (0, .3004)}))
    assert redraw_sentence(base, {1: tied}, p).endswith("as printed: in draw 1, fitting every training label buys "
                                                        "nothing over width 2.")
    assert "and the same test set)" in redraw_sentence(base, {1: other}, dict(p, dataset="cifar10"))
    assert len(redraw_sentence(base, {1: other, 2: base}, p).split("\n\n")) == 2  # a paragraph per draw
    assert redraw_sentence(base, {}, p).startswith("No other draw of the data was run here (`redraw_seeds` is empty, or")
    # a redraw whose data seed is the chapter's keeps the inputs and the test set: only the wrong labels change
    assert "= 0: the same labeled inputs and test set, other wrong labels) instead of the chapter's (0 and 1)" in \
        redraw_sentence(base, {0: other}, dict(p, noise_seed=1))


def test_redraws_skip_the_chapters_own_draw_and_are_validated():
    from ddlib.chapters import double_descent as dd

    p = dd.resolve_params("smoke", redraw_seeds=[0, 1, 2])
    assert [(r, q["data_seed"], q["noise_seed"]) for r, q in dd.redraw_params(p)] == [(1, 1, 1), (2, 2, 2)]
    # with noise_seed 1 the chapter's own draw is (0, 1): every redraw (r, r) is another one
    assert [r for r, _ in dd.redraw_params(dict(p, noise_seed=1))] == [0, 1, 2]
    assert [r for r, _ in dd.redraw_params(dict(p, data_seed=2, noise_seed=2))] == [0, 1]
    # main, the 40% study, the 40-epoch study, two draws, the 0.01 learning rate; 2 widths x 1 seed each; the anchor's
    # 2 sizes x 2 recipes for the book's CNN, and their CNN in the published setting
    assert len(dd.planned_configs(p)) == 2 * (1 + 1 + 1 + 2 + 1) + 4 + 1
    with pytest.raises(ConfigError, match="each entry of redraw_seeds must be a non-negative integer"):
        dd.resolve_params("smoke", redraw_seeds=[-1])
    assert dd.PRESETS["paper"]["redraw_seeds"] == [] and dd.run_redraws(dd.PRESETS["paper"])[0] == {}
    # the distillation chapter repeats its widest teacher's comparison on the same draws
    assert all(kd.PRESETS[name]["redraw_seeds"] == dd.PRESETS[name]["redraw_seeds"] for name in kd.PRESETS)


def test_the_distillation_redraw_sentence_reads_its_own_draw():
    """The other draw's paragraph quotes that draw's means and seed counts, beside the chapter's own gains."""
    from ddlib.chapters import widest_variants as kdr

    p = dict(kd.resolve_params("default"), student_seeds=[0, 1])
    rows = [("teacher", 64, 0, s, e) for s, e in ((0, .54), (1, .55))]
    rows += [("hard_pool", 64, 25000, s, e) for s, e in ((0, .55), (1, .57))]
    rows += [("direct", None, 0, s, e) for s, e in ((0, .62), (1, .61))]
    rows += [("soft_kd_labeled", 64, 0, s, e) for s, e in ((0, .58), (1, .56))]
    frame = pd.DataFrame(rows, columns=["method", "teacher_width", "pool_size", "seed", "test_error"])
    main = {"direct": .617, "hard_pool_widest": .545, "soft_kd_labeled_widest": .573}
    text = kdr.redraw_sentence(main, {1: frame}, p, 16)
    assert text.startswith("On another draw of the data (`data_seed` = `noise_seed` = 1: another labeled set, other wrong "
                           "labels and another test set; the same pool and the same student width, 16), the widest "
                           "teacher's "
                           "`hard_pool` student ends at 56.0% against its teachers' 54.5%, 1.5 points above them (C2).")
    assert ("It beats `direct` (61.5%) by 5.5 points and is only 1.0 points better than `soft_kd_labeled` (57.0%), "
            "less than the 2.0 points counted here as clear (C3).") in text
    # paired gains: direct .07 and .04 (mean 5.5, SE 1.5 points), soft_kd_labeled .03 and -.01 (mean 1.0, SE 2.0)
    assert ("lower error than `direct` on 2 of 2 seeds (standard error of the gain 1.5 points) and than "
            "`soft_kd_labeled` on 1 of 2 seeds (standard error of the gain 2.0 points).") in text
    assert text.endswith("In the chapter's draw it beats `direct` by 7.2 points and beats `soft_kd_labeled` by 2.8 "
                         "points.")
    assert kdr.redraw_sentence(main, {}, p, 16).startswith("No other draw of the data was run here")


def test_the_distillation_lr_study_reruns_the_widest_comparison_at_the_double_descent_rates(tmp_path):
    """Teachers and students change rate together; the rest is the main comparison's; the paragraph and the table
    read the rate's own runs beside the chapter's."""
    from ddlib.chapters import double_descent as dd
    from ddlib.chapters import widest_variants as kdv

    assert all(kd.PRESETS[name]["lr_study"] == dd.PRESETS[name]["lr_study"] for name in kd.PRESETS)
    p = dict(kd.resolve_params("smoke"), student_seeds=[0])
    ((rate, q, teachers, students),) = kdv.lr_configs(p, 16)
    assert rate == 0.01 and {c.train.lr for c in teachers + students} == {0.01}
    same_rate = {c.train.lr for _, _, t, st in kdv.variant_configs(p, 16, [(p["lr"], p)]) for c in t + st}
    assert same_rate == {p["lr"]}  # the builder changes nothing but what q changes
    assert {c.width for c in students} == {16} and {c.width for c in teachers} == {max(p["teacher_widths"])}
    rows = [("teacher", 64, 0, s, e) for s, e in ((0, .50), (1, .51))]
    rows += [("hard_pool", 64, 25000, s, e) for s, e in ((0, .47), (1, .48))]
    rows += [("direct", None, 0, s, e) for s, e in ((0, .60), (1, .61))]
    rows += [("soft_kd_labeled", 64, 0, s, e) for s, e in ((0, .60), (1, .60))]
    frame = pd.DataFrame(rows, columns=["method", "teacher_width", "pool_size", "seed", "test_error"])
    p = dict(kd.resolve_params("default"), student_seeds=[0, 1])
    main = {"direct": .617, "hard_pool_widest": .545, "soft_kd_labeled_widest": .573, "teacher_widest": .545}
    text = kdv.lr_sentence(main, {0.01: frame}, p, 16)
    assert text.startswith("At learning rate 0.01 for teachers and students alike (instead of 0.001; the same pool, "
                           "student width, 16, and steps), the widest teacher's `hard_pool` student ends at 47.5% "
                           "against its teachers' 50.5%, 3.0 points below them (C2: better than the teachers it "
                           "learned from). It beats `direct` (60.5%) by 13.0 points")
    # the seed-paired counts: hard_pool below direct and soft_kd_labeled on both seeds
    assert "lower error than `direct` on 2 of 2 seeds" in text and "than `soft_kd_labeled` on 2 of 2 seeds" in text
    # the gain over soft_kd_labeled grew partly because soft_kd_labeled got worse (57.3% to 60.0%)
    assert text.endswith("At 0.001 it beats `direct` by 7.2 points and beats `soft_kd_labeled` by 2.8 points. From 0.001 "
                         "to this rate, the teacher moves from 54.5% to 50.5%, `hard_pool` moves from 54.5% to 47.5%, "
                         "`direct` moves from 61.7% to 60.5% and `soft_kd_labeled` moves from 57.3% to 60.0%. "
                         "`soft_kd_labeled` is worse at this rate, so part of the gain over it is its own loss.")
    assert kdv.lr_sentence(main, {}, p, 16).startswith("No other learning rate was run here")
    main_frame = frame.assign(test_error=frame["test_error"] + 0.05)
    table = kdv.lr_table(main_frame, {0.01: frame}, p)
    assert list(table.columns) == ["0.001 (the chapter's)", "0.01"] and table.columns.name == "learning rate"
    assert table.loc["hard_pool", "0.01"] == 47.5 and table.loc["hard_pool", "0.001 (the chapter's)"] == 52.5
    # the rule's own width at that rate: students of width 8, set against the same rate's students of width 16
    narrow = frame.assign(test_error=frame["test_error"].where(frame["method"] == "teacher", frame["test_error"] + .01))
    text = kdv.rule_width_sentence({0.01: frame}, {0.01: narrow}, {0.01: 8}, p, 16)
    assert text.startswith("At learning rate 0.01 the chapter's rule, applied to that rate's sweep on the validation set, "
                           "picks width 8, not 16. With students of width 8 (the same pool and steps), the widest "
                           "teacher's `hard_pool` student ends at 48.5% against its teachers' 50.5%, 2.0 points below "
                           "them (C2: better than the teachers it learned from).")
    assert text.endswith("With students of width 16 at that rate it beats `direct` by 13.0 points and beats "
                         "`soft_kd_labeled` by 12.5 points.")
    assert kdv.rule_width_sentence({0.01: frame}, {}, {0.01: 16}, p, 16).endswith("picks width 16 too, the width used above.")
    assert kdv.rule_width_sentence({0.01: frame}, {}, {0.01: 8}, p, 16).endswith(
        "picks width 8, not 16, but that comparison was not run here.")
    assert "sweep on the test set, picks width 8" in kdv.rule_width_sentence({0.01: frame}, {0.01: narrow}, {0.01: 8},
                                                                              dict(p, val_size=0), 16)
    assert "is not all stored" in kdv.rule_width_sentence({0.01: frame}, {}, {0.01: None}, p, 16)
    assert "set by hand" in kdv.rule_width_sentence({}, {}, {}, dict(p, student_width=16), 16)
    table = kdv.lr_table(main_frame, {0.01: frame}, p, {0.01: narrow}, {0.01: 8})
    assert list(table.columns) == ["0.001 (the chapter's)", "0.01", "0.01, students of width 8"]
    assert table.loc["hard_pool", "0.01, students of width 8"] == 48.5
    # the rule needs that rate's whole sweep stored; a width set by hand asks for none
    from ddlib.store import ResultStore

    assert kdv.rule_widths(p, ResultStore(tmp_path)) == {0.01: None} and kdv.rule_widths(dict(p, student_width=16)) == {}
    # the sweep the rule reads: every width and seed at that rate, none for a width set by hand
    sweep = kdv.rule_sweep_configs(p)
    assert {(c.width, c.init_seed, c.train.lr) for c in sweep} == {(w, s, 0.01) for w in p["widths"] for s in p["seeds"]}
    assert kdv.rule_sweep_configs(dict(p, student_width=16)) == []
    # the table reads the width from the students where it is not given
    assert "0.01, students of width 8" in kdv.lr_table(main_frame, {0.01: frame}, p,
                                                       {0.01: narrow.assign(student_width=8)}).columns
    assert kdv.rule_width_configs(p, 16, {0.01: None}) == [] and kdv.rule_width_configs(p, 16, {0.01: 16}) == []
    ((_, q, _, students),) = kdv.rule_width_configs(p, 16, {0.01: 8})
    assert q["lr"] == 0.01 and {c.width for c in students} == {8} and {c.train.lr for c in students} == {0.01}


def _curve_frame(errors: dict, seeds=(0, 1)) -> pd.DataFrame:
    """A per-run frame (as :func:`ddlib.chapters.distillation.runs_frame`'s) from ``{(method, teacher width): mean}``,
    each seed's error the mean -/+ half a point."""
    rows = []
    for (method, tw), e in errors.items():
        pool = 25000 if method in ("hard_pool", "soft_kd_pool", "oracle_pool") else 0
        rows += [(method, tw, pool, s, e + (0.005 if s else -0.005)) for s in seeds]
    return pd.DataFrame(rows, columns=["method", "teacher_width", "pool_size", "seed", "test_error"])


def test_the_comparison_across_teacher_widths_runs_again_at_another_rate_with_the_rules_width():
    """At another learning rate every teacher width of the chapter and the rule's width there are distilled by
    students of the rule's width; the paragraph reads that rate's runs beside the chapter's."""
    from ddlib.chapters import rate_curves as rc

    p = dict(kd.resolve_params("default"), student_seeds=[0, 1])
    assert rc.teacher_widths_at(p, 8) == [4, 8, 12, 16, 64] and rc.teacher_widths_at(p, 5) == [4, 12, 16, 64]
    ((rate, q, teachers, students),) = rc.curve_configs(p, 16, {0.01: 8})
    assert rate == q["lr"] == 0.01 and {c.train.lr for c in teachers + students} == {0.01}
    assert {(c.width, c.init_seed) for c in teachers} == {(w, s) for w in p["widths"] for s in p["seeds"]}
    assert {c.width for c in students} == {8}
    by_method = {}
    for c in students:
        teacher = c.targets.teacher
        by_method.setdefault(c.targets.method, set()).add(teacher.width if teacher else None)
    assert all(by_method[m] == {4, 8, 12, 16, 64} for m in kd.TEACHER_METHODS)
    # 4 teacher methods x 5 teachers, direct and oracle_pool; the widest teacher's hard_pool on each of the 3 pools of
    # the pool-size study (the largest one the main pool again); 2 seeds
    assert len(students) == (4 * 5 + 2 + 3) * 2 and len({config_hash(c) for c in students}) == (4 * 5 + 2 + 2) * 2
    assert {c.targets.pool_size for c in students if c.targets.method == "hard_pool" and c.targets.teacher.width == 64
            } == set(p["pool_study_sizes"])
    assert rc.curve_configs(p, 16, {0.01: None}) == []  # the rule's width not known yet: nothing to run
    # a width set by hand: the chapter's width at that rate too
    ((_, _, _, hand),) = rc.curve_configs(dict(p, student_width=16), 16, {})
    assert {c.width for c in hand} == {16}
    main = _curve_frame({("teacher", 4): .64, ("teacher", 12): .59, ("teacher", 16): .60, ("teacher", 64): .545,
                         ("hard_pool", 4): .63, ("hard_pool", 12): .60, ("hard_pool", 16): .59, ("hard_pool", 64): .545,
                         ("direct", None): .617, ("soft_kd_labeled", 4): .60, ("soft_kd_labeled", 12): .59,
                         ("soft_kd_labeled", 16): .58, ("soft_kd_labeled", 64): .573})
    rate = _curve_frame({("teacher", 4): .63, ("teacher", 8): .64, ("teacher", 12): .63, ("teacher", 16): .60,
                         ("teacher", 64): .50, ("hard_pool", 4): .62, ("hard_pool", 8): .64, ("hard_pool", 12): .615,
                         ("hard_pool", 16): .57, ("hard_pool", 64): .47, ("direct", None): .657,
                         **{("soft_kd_labeled", tw): .626 for tw in (4, 8, 12, 16, 64)}})
    n = rc.curve_numbers(rate, rc.rate_params(p, 0.01, 16, {0.01: 8}), [4, 8, 12, 16, 64])
    assert n["beats"] == {"direct": [4, 12, 16, 64], "soft_kd_labeled": [16, 64]}
    assert n["below_teacher"] == [16, 64] and (n["best"], n["best_error"]) == (64, pytest.approx(.47))
    text = rc.curve_sentence(main, {0.01: rate}, {0.01: 8}, p, 16)
    r = pd.Series([.63, .64, .63, .60, .50]).corr(pd.Series([.62, .64, .615, .57, .47]))
    r0 = pd.Series([.64, .59, .60, .545]).corr(pd.Series([.63, .60, .59, .545]))
    r1 = pd.Series([.63, .64, .63, .60]).corr(pd.Series([.62, .64, .615, .57]))
    assert text == (
        "At learning rate 0.01, with students of width 8 (the width the rule picks there), the teachers of widths 4, "
        "8, 12, 16 and 64 are distilled (every method, 2 seeds). Their `hard_pool` students, claim by claim, with the "
        "chapter's rate in brackets (0.001: students of width 16, teachers of widths 4, 12, 16 and 64):\n\n"
        "- C2: the student is within 5.0 points of the teachers it learned from at 5 of the 5 (widths 4, 8, 12, 16 and "
        "64; 0.001: 4 of the 4), and at least 2.0 points better than them at 2 of the 5 (widths 16 and 64; 0.001: 0 "
        "of the 4). The best `hard_pool` student comes from the teacher of width 64 (47.0%, the widest; 0.001: width "
        "64).\n"
        "- C3: it beats `direct` from 4 of the 5 (widths 4, 12, 16 and 64; 0.001: 2 of the 4) and `soft_kd_labeled` "
        "from 2 of the 5 (widths 16 and 64; 0.001: 1 of the 4), each by at least 2.0 points. The other way round, "
        "`soft_kd_labeled` has the lower error from the teacher of width 8 (by 1.4 points), by less than the 2.0 "
        "points counted as clear.\n"
        f"- C4: its error follows its teacher's with correlation {r:.2f} over 5 teacher widths, {r1:.2f} without the "
        f"widest teacher (0.001: {r0:.2f} over 4). Where the teacher curve goes up, from width 4 to 8 the teachers' "
        "error rises by 1.0 points and the students' rises by 2.0 points; no such rise is as large as the 2.0 points "
        "counted as clear, so these teachers have no clear peak for a student to inherit, and the correlation says "
        "only that a better teacher makes a better student.")
    # a clear rise of the teachers: whether the students rise clearly with it
    peaked = rate.assign(test_error=rate["test_error"].where(
        (rate["method"] != "teacher") | (rate["teacher_width"] != 8), .66))
    assert rc.curve_sentence(main, {0.01: peaked}, {0.01: 8}, p, 16).endswith(
        "from width 4 to 8 the teachers' error rises by 3.0 points and the students' rises by 2.0 points. The students "
        "rise by at least 2.0 points too on 1 of the teachers' 1 clear rise (from width 4 to 8).")
    # C4's other half: the widest teacher's student on the pool-size study's smallest and largest pools
    small = pd.DataFrame([("hard_pool", 64, 1000, s, e) for s, e in ((0, .59), (1, .61))], columns=rate.columns)
    before = pd.DataFrame([("hard_pool", 64, 1000, s, e) for s, e in ((0, .66), (1, .666))], columns=rate.columns)
    pooled = rc.curve_sentence(pd.concat([main, before]), {0.01: pd.concat([rate, small])}, {0.01: 8}, p, 16)
    assert pooled.endswith("A larger pool, at the same number of steps, helps: the widest teacher's student goes from "
                           "60.0% on 1,000 inputs to 47.0% on 25,000 (0.001: from 66.3% to 54.5%).")
    # one teacher width, no `hard_pool`, rates whose width is not known
    one = rc.curve_sentence(main, {0.01: rate}, {0.01: 64}, dict(p, teacher_widths=[64]), 64)
    assert "at the one (width 64; 0.001: 1 of the 1)" in one and "fewer than three teacher widths" in one
    assert rc.curve_sentence(main, {0.01: rate}, {0.01: 8}, dict(p, methods=["direct"]), 16).startswith(
        "`hard_pool` is not among `methods`")
    assert rc.curve_sentence(main, {}, {0.01: None}, p, 16).startswith("The rule's width at the other learning rates is not known")
    assert "(the rule's width there, as at the chapter's rate)" in rc.curve_sentence(main, {0.01: rate}, {0.01: 16}, p, 16)
    assert "(set by hand)" in rc.curve_sentence(main, {0.01: rate}, {}, dict(p, student_width=16), 16)
    assert rc.curve_sentence(main, {}, {}, dict(p, lr_study=[]), 16).startswith("No other learning rate was run here")
    # the teacher curve never rising over the distilled widths: a shared trend, said as such
    falling = rate.assign(test_error=rate["test_error"].where(
        (rate["method"] != "teacher") | (rate["teacher_width"] != 8), rate["test_error"] - .01))
    flat = rc.curve_sentence(main, {0.01: falling}, {0.01: 8}, p, 16)
    assert "over 4): the teachers' error never rises with width over these widths, so that is a shared trend" in flat
    assert "Where the teachers' error rises" not in flat
    table = rc.curve_table({0.01: rate}, {0.01: 8}, p, 16)
    assert list(table.columns.get_level_values(0).unique()) == ["0.01, students of width 8"]
    assert table.loc["hard_pool", ("0.01, students of width 8", "width 8")] == 64.0
    assert rc.curve_table({}, {}, p, 16) is None


def test_the_distillation_redraw_sentence_compares_only_the_methods_run():
    from ddlib.chapters import widest_variants as kdr

    p = dict(kd.resolve_params("default"), student_seeds=[0], methods=["direct", "hard_pool"])
    frame = pd.DataFrame([("teacher", 64, 0, 0, .54), ("hard_pool", 64, 25000, 0, .55), ("direct", None, 0, 0, .62)],
                         columns=["method", "teacher_width", "pool_size", "seed", "test_error"])
    main = {"direct": .617, "hard_pool_widest": .545, "soft_kd_labeled_widest": float("nan")}
    text = kdr.redraw_sentence(main, {1: frame}, p, 16)
    assert text.endswith("It beats `direct` (62.0%) by 7.0 points (C3). In the chapter's draw it beats `direct` by 7.2 "
                         "points.")
    assert "soft_kd_labeled" not in text


def test_distillation_with_some_methods_prints_no_missing_numbers(results_dir, tmp_path):
    """A `methods` list without the baselines runs, and its prose leaves out what was not run instead of printing
    nan for it."""
    nb = execute_chapter("distillation", tmp_path / "kd.ipynb", preset="smoke", methods=["direct", "hard_pool"])
    glued = {name: glued_value(nb, name) for name in glued_names(nb)}
    said = {name: text for name, text in glued.items() if name in cited_names("distillation")}
    assert not [name for name, text in said.items() if "nan" in str(text)]
    assert glued["kd_method_bullets"].count("\n- ") == 1 and "`soft_kd_labeled`" not in glued["kd_method_bullets"]
    assert "Claim C3 is only partly tested here: `soft_kd_labeled` is not among `methods`." in glued["kd_verdict"]


def test_the_verdict_tests_c3_only_against_the_baselines_that_ran():
    """With a baseline left out of `methods` (nan in the summary) the verdict compares `hard_pool` with the one that
    ran and says C3 is only partly tested; with neither, it says nothing tests C3; never "nan"."""
    s = dict(hard_pool_widest=.545, direct=.617, soft_kd_labeled_widest=float("nan"), soft_kd_pool_widest=float("nan"),
             teacher_widest=.545, seeds_beating_direct=5, seeds_compared_direct=5, seeds_beating_soft_kd_labeled=0,
             seeds_compared_soft_kd_labeled=0, other_teachers=3, other_beats_direct=2, other_beats_soft_kd_labeled=0,
             soft_kd_labeled_wins=[], n_student_seeds=5, agreement_widest=.64, tracking_correlation=.99,
             n_teacher_widths=4, teacher_curve_only_falls=False, pool_smallest_widest=.6, pool_largest_widest=.545,
             pool_smallest_narrow=.62, pool_largest_narrow=.58)
    text = kd.verdict(s)
    assert text.startswith("From the widest teacher, `hard_pool` beats `direct` by 7.2 points (C3). Seed by seed")
    assert "Claim C3 is only partly tested here: `soft_kd_labeled` is not among `methods`." in text
    assert "From the other" not in text and "nan" not in text
    neither = kd.verdict(dict(s, direct=float("nan"), seeds_compared_direct=0))
    assert neither.startswith("Neither `direct` nor `soft_kd_labeled` is among `methods`, so nothing here tests claim C3.")
    assert "nan" not in neither
    soft_only = kd.verdict(dict(s, direct=float("nan"), seeds_compared_direct=0, soft_kd_labeled_widest=.573))
    assert soft_only.startswith("From the widest teacher, `hard_pool` beats `soft_kd_labeled` by 2.8 points (C3).")
    assert "`direct` is not among `methods`" in soft_only
    s_subset = dict(s, same_width_teacher=.59, steps_factor=2, direct=float("nan"))
    assert kd.same_width_sentence(s_subset) == ""


def _peaked_frame(student_bump_by_seed):
    """Teachers of widths 4..64 (5 seeds) with a clear peak at 24 (threshold 24, best narrower 8), and `hard_pool`
    students 6 points below their teachers, plus ``student_bump_by_seed[s]`` at the peak width (minus the teachers'
    own 4-point bump there)."""
    teacher = {4: 0.70, 8: 0.66, 16: 0.68, 24: 0.70, 64: 0.66}
    train = {4: 0.7, 8: 0.5, 16: 0.2, 24: 0.0, 64: 0.0}
    rows = []
    for s, bump in enumerate(student_bump_by_seed):
        for w, e in teacher.items():
            jitter = 0.001 * (s - 2)
            rows.append(dict(method="teacher", teacher_width=w, seed=s, test_error=e + jitter, train_error=train[w]))
            student = teacher[8] - 0.06 + (bump if w == 24 else e - teacher[8] if w != 24 else 0)
            rows.append(dict(method="hard_pool", teacher_width=w, seed=s, test_error=student + jitter, train_error=0.3,
                             agreement=0.8))
        rows.append(dict(method="direct", teacher_width=None, seed=s, test_error=0.69, train_error=0.0))
    return pd.DataFrame(rows)


def test_peaked_teacher_study_says_whether_the_student_inherits_the_peak():
    from ddlib.chapters import teacher_peak

    p = dict(student_seeds=[0, 1, 2, 3, 4], peak_study_noise=[0.4])
    n = teacher_peak.numbers(_peaked_frame([0.03, 0.04, 0.05, 0.04, 0.04]), p, 0.4)
    assert (n["peak_width"], n["narrow_width"], n["clear_peak"]) == (24, 8, True)
    assert n["teacher_bump"] == pytest.approx(0.04) and n["student_bump"] == pytest.approx(0.04)
    assert n["bump_mean"] == pytest.approx(0.04) and n["bump_se"] == pytest.approx(0.00707107 / 5 ** 0.5)
    text = teacher_peak.sentence(n, 16, 25000)
    assert "width 24's teachers are at 70.0%, 4.0 points above width 8's (66.0%)" in text
    assert "(standard error of the seed-paired difference 0.3 points; higher on 5 of 5 seeds)" in text
    assert "The student inherits the teacher's peak" in text and "standard errors from zero" not in text
    assert "The peak teachers' students give their teacher's label on 80.0% of the test inputs." in text
    noisy = teacher_peak.numbers(_peaked_frame([0.08, -0.02, 0.10, -0.01, 0.05]), p, 0.4)  # mean 4.0, SE 2.4
    assert "though the rise is only 1.7 standard errors from zero" in teacher_peak.sentence(noisy, 16, 25000)
    rising = _peaked_frame([0.04] * 5)  # the widest teachers' students no lower than the peak's: no peak
    rising.loc[(rising["method"] == "hard_pool") & (rising["teacher_width"] == 64), "test_error"] = 0.645
    says = teacher_peak.sentence(teacher_peak.numbers(rising, p, 0.4), 16, 25000)
    assert "rise with the teachers but do not come back down" in says and "inherits" not in says
    assert "`direct` at this noise rate ends at 69.0%: the students of width 24's teachers are 5.0 points below it" in text
    partial = teacher_peak.sentence(teacher_peak.numbers(_peaked_frame([0.01] * 5), p, 0.4), 16, 25000)
    assert "keeps part of the teacher's peak (1.0 points of its 4.0 points)" in partial
    flat = teacher_peak.sentence(teacher_peak.numbers(_peaked_frame([-0.01, 0.0, -0.02, 0.01, -0.01]), p, 0.4), 16, 25000)
    assert "does not inherit the teacher's peak" in flat and "higher on 1 of 5 seeds" in flat
    # no clear teacher peak: nothing to inherit, and the sentence says so instead of a verdict
    frame = _peaked_frame([0.04] * 5)
    teachers = frame["method"] == "teacher"
    frame.loc[teachers & (frame["teacher_width"] == 24), "test_error"] -= 0.03  # 67%, 1 point above width 8's
    frame.loc[teachers & (frame["teacher_width"] == 16), "test_error"] -= 0.015
    lower = teacher_peak.sentence(teacher_peak.numbers(frame, p, 0.4), 16, 25000)
    assert "no clear peak" in lower and "cannot test whether a student inherits one" in lower and "inherits the" not in lower


def test_peaked_teacher_numbers_compare_students_only_where_the_peak_widths_were_distilled():
    """A teacher curve read over its whole sweep can single out a width that was not distilled: its teachers' rise is
    still measured, the students' is not, and the sentence says so instead of failing."""
    from ddlib.chapters import teacher_peak

    p = dict(student_seeds=[0, 1, 2, 3, 4], peak_study_noise=[0.4])
    frame = _peaked_frame([0.04] * 5)
    n = teacher_peak.numbers(frame, p, 0.4)
    assert n["compared"] and "student_bump" in n
    undistilled = frame[(frame["method"] != "hard_pool") | (frame["teacher_width"] != 8)]  # width 8: the narrower
    n = teacher_peak.numbers(undistilled, p, 0.4)
    assert not n["compared"] and "student_bump" not in n and n["teacher_bump"] == pytest.approx(0.04)
    assert teacher_peak.sentence(n, 16, 25000).endswith("but not both of those widths and the widest were distilled, "
                                                        "so the students are not compared.")


def _student_widths_frame(direct: dict, hard: dict, hard_train: dict, seeds=(0, 1, 2, 3, 4), small=None,
                          small_train=None) -> pd.DataFrame:
    """Students of every width (4 to 64) by hand: ``direct`` interpolates its labels from width 16 on; the widest
    teacher at 68%; per-seed jitter of +-0.2 points; ``small``: ``hard_pool`` on a pool of 1,000 too."""
    direct_train = {4: 0.6, 8: 0.4, 16: 0.0, 24: 0.0, 64: 0.0}
    rows = []
    for s in seeds:
        jitter = 0.001 * (s - 2)
        rows.append(dict(method="teacher", teacher_width=64, student_width=None, pool_size=0, seed=s, test_error=0.68,
                         train_error=0.0))
        for w in direct:
            rows.append(dict(method="direct", teacher_width=None, student_width=w, pool_size=0, seed=s,
                             test_error=direct[w] + jitter, train_error=direct_train[w]))
            rows.append(dict(method="hard_pool", teacher_width=64, student_width=w, pool_size=25000, seed=s,
                             test_error=hard[w] - jitter, train_error=hard_train[w]))
            if small is not None:
                rows.append(dict(method="hard_pool", teacher_width=64, student_width=w, pool_size=1000, seed=s,
                                 test_error=small[w] - jitter, train_error=small_train[w]))
    return pd.DataFrame(rows)


_PEAKED_DIRECT = {4: 0.70, 8: 0.71, 16: 0.74, 24: 0.72, 64: 0.69}
_FLAT_HARD = {4: 0.74, 8: 0.71, 16: 0.69, 24: 0.685, 64: 0.688}
_POOL_UNFITTED = {4: 0.75, 8: 0.55, 16: 0.42, 24: 0.34, 64: 0.17}


def _widths_params() -> dict:
    return dict(kd.resolve_params("smoke"), model="cnn1d", student_seeds=[0, 1, 2, 3, 4], pool_size=25000,
                pool_study_sizes=[1000, 5000, 25000], n_train=1000, widths=[4, 8, 16, 24, 64], epochs=300,
                batch_size=128, student_steps_factor=2)


def test_students_of_every_width_read_both_curves_by_the_same_peak_test():
    from ddlib.chapters import student_widths

    p = _widths_params()
    n = student_widths.numbers(_student_widths_frame(_PEAKED_DIRECT, _FLAT_HARD, _POOL_UNFITTED), p, 0.4)
    assert n["peaks"]["direct"]["width"] == 16 and n["peaks"]["direct"]["clear"]
    assert not n["peaks"]["hard_pool"]["clear"] and n["fits"] == {"direct": [16, 24, 64], "hard_pool": []}
    assert n["beats"] == [16, 24] and n["worse"] == [4]
    assert n["peak_gain_se"] == pytest.approx(0.002 * 2 ** 0.5 / 5 ** 0.5 * (2.5 / 2) ** 0.5)
    assert n["peak_seeds_beating"] == 5 and n["params"][64] == 44682  # cnn1d of width 64, as the store says
    # 300 epochs of 7 full batches of 128 (the last, partial one dropped), twice the teachers' steps
    assert n["steps"] == 300 * 7 * 2 and n["passes"] == {"direct": 4200 * 128 / 1000, "hard_pool": 4200 * 128 / 25000}
    text = student_widths.sentence(n)
    assert text.startswith("At label noise 40% (5 student seeds, every student trained for 4,200 steps: 538 passes "
                           "over the 1,000 labeled inputs, 21.5 over the 25,000 pool inputs):\n\n- **`direct`** (the "
                           "noisy labeled set) has a clear peak at width 16 (74.0%, 4.0 points above width 4 and 5.0 "
                           "points above the widest); the students fit their noisy labels from width 16 on.\n")
    assert ("The teacher, width 64, has 68.0% test error, so presumably about that share of its pool labels is wrong, "
            "against 40% of the labeled set's: its labels are wrong more often, but they are a function of the input, "
            "not random. The curve has no clear peak: it is lowest at width 24 (68.5%), and the widest is at 68.8%; no "
            "width fits the pool labels (the lowest train error is 17.0%, at width 64, 44,682 parameters). Its "
            "width-64 students are 0.8 points above the teacher.") in text
    assert ("`hard_pool` beats `direct` by at least 2.0 points at 2 of the 5 widths (widths 16 and 24), and `direct` "
            "is at least that much better at width 4. At `direct`'s peak, width 16, `hard_pool` is 69.0%, 5.0 points "
            "below `direct`") in text and "lower on 5 of 5 seeds" in text
    assert "`hard_pool`'s best, width 24 (68.5%), is 0.5 points below `direct`'s best, width 64 (69.0%)." in text
    assert text.endswith("Trained on the labeled set, the student peaks at width 16, the width at which `direct`'s "
                         "students first fit their noisy labels. On the teacher's labels for the pool it has no clear "
                         "peak, and no width fits those labels in these steps: what the paper's explanation predicts. "
                         "(At the same steps the larger pool is also fewer passes over its labels, 21.5 against 538; "
                         "this run does not separate the two, the {ref}`next section <kd-pool-passes>` does, at one "
                         "width.) The students of width 64 have the teacher's own "
                         "architecture, so they could fit its labels exactly; in these steps they do not. Distillation "
                         "removes the peak rather than beating a well-chosen width: `hard_pool`'s best is within 2.0 "
                         "points of `direct`'s best.")
    assert student_widths.short_sentence(n) == (
        "At label noise 40%, students of every width trained on the labeled set (`direct`) have a clear peak at width "
        "16, and those taught on the pool (`hard_pool`) have no clear peak; no width fits the pool's labels in 4,200 "
        "steps. `hard_pool` beats `direct` by at least 2.0 points at 2 of the 5 widths (widths 16 and 24) and is that "
        "much worse at width 4.")


def _widths_text(direct=_PEAKED_DIRECT, hard=_FLAT_HARD, hard_train=_POOL_UNFITTED, seeds=(0, 1, 2, 3, 4),
                 **direct_train) -> str:
    from ddlib.chapters import student_widths

    frame = _student_widths_frame(direct, hard, hard_train, seeds)
    for w, e in direct_train.items():
        frame.loc[(frame["method"] == "direct") & (frame["student_width"] == int(w[1:])), "train_error"] = e
    return student_widths.sentence(student_widths.numbers(frame, _widths_params(), 0.4))


_SMALL_POOL = {4: 0.79, 8: 0.775, 16: 0.76, 24: 0.76, 64: 0.745}
_SMALL_FITTED = {4: 0.58, 8: 0.33, 16: 0.0, 24: 0.0, 64: 0.0}


def test_students_on_the_small_pool_tell_the_teachers_labels_from_the_pools_size():
    from ddlib.chapters import student_widths

    p = _widths_params()
    frame = _student_widths_frame(_PEAKED_DIRECT, _FLAT_HARD, _POOL_UNFITTED, small=_SMALL_POOL,
                                  small_train=_SMALL_FITTED)
    n = student_widths.numbers(frame, p, 0.4)
    assert n["small_pool"] == 1000 and n["fits"]["small_pool"] == [16, 24, 64] and not n["peaks"]["small_pool"]["clear"]
    assert n["passes"]["small_pool"] == n["passes"]["direct"]  # as many inputs as the labeled set, the same steps
    text = student_widths.sentence(n)
    assert ("- **`hard_pool` on 1,000 pool inputs** (the same teacher; 538 passes, as many as `direct` makes over the "
            "labeled set) has no clear peak: it is lowest at the widest width (74.5%); the students fit their pool "
            "labels from width 16 on.") in text
    assert ("On a pool of 1,000 inputs (as many as the labeled set, with as many passes as `direct`), the curve has no "
            "clear peak, though the students fit their pool labels from width 16 on. At every width the 25,000-input "
            "pool's students are 5.0 to 7.5 points better than the 1,000-input pool's, which are 2.0 to 9.0 points "
            "worse than `direct`. So the large pool keeping the student from fitting its labels is not what spares it "
            "the peak here: on teacher labels it does fit, its curve has no peak either.") in text
    flat_direct = {4: 0.70, 8: 0.70, 16: 0.705, 24: 0.70, 64: 0.69}  # no peak to remove: the levels are still said
    flat = student_widths.sentence(student_widths.numbers(_student_widths_frame(
        flat_direct, _FLAT_HARD, _POOL_UNFITTED, small=_SMALL_POOL, small_train=_SMALL_FITTED), p, 0.4))
    assert ("cannot show a pool removing one. On a pool of 1,000 inputs (as many as the labeled set, with as many "
            "passes as `direct`), the curve has no clear peak, though") in flat and "(At the same steps" in flat
    assert "spares it" not in flat
    assert flat.endswith("Distillation does not beat a well-chosen width: `hard_pool`'s best is within 2.0 points of "
                         "`direct`'s best.")
    flat_n = student_widths.numbers(_student_widths_frame(flat_direct, _FLAT_HARD, _POOL_UNFITTED, small=_SMALL_POOL,
                                                          small_train=_SMALL_FITTED), p, 0.4)
    assert student_widths.short_sentence(flat_n).startswith("At label noise 40%, neither the students of the labeled "
                                                            "set (`direct`) nor those of the pool (`hard_pool`) have")
    assert student_widths.short_sentence(n).endswith(
        "On 1,000 pool inputs the students fit their teacher labels from width 16 on, with no clear peak, but with a "
        "higher error than `direct` at every width.")
    peaked_small = {**_SMALL_POOL, 16: 0.80}
    frame = _student_widths_frame(_PEAKED_DIRECT, _FLAT_HARD, _POOL_UNFITTED, small=peaked_small,
                                  small_train=_SMALL_FITTED)
    peaked_text = student_widths.sentence(student_widths.numbers(frame, p, 0.4))
    assert "On a pool of 1,000 inputs (as many as the labeled set, with as many passes as `direct`), the teacher's " \
           "labels give a clear peak, at width 16." in peaked_text and "spares it" not in peaked_text
    # the plot has the small pool's curve, labelled by its size
    fig = student_widths.plot(frame, p, 0.4)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "direct (1,000 noisy labels)", "hard_pool (25,000 teacher labels)", "hard_pool (1,000 teacher labels)",
        "the widest teacher"]


def test_students_of_every_width_verdicts_follow_the_curves():
    fitted = _widths_text(hard_train={**_POOL_UNFITTED, 24: 0.0, 64: 0.0})  # wide students fit the pool's labels
    assert "the students fit their pool labels from width 24 on" in fitted
    assert ("On the teacher's labels for the pool it has no clear peak, though its students fit those labels at widths "
            "24 and 64.") in fitted
    assert "teacher's own architecture" not in fitted
    kept = _widths_text(hard={w: e - 0.01 for w, e in _PEAKED_DIRECT.items()})
    assert "On the teacher's labels for the pool it peaks too, at width 16." in kept and "at 0 of the 5 widths." in kept
    assert kept.endswith("Distillation does not beat a well-chosen width: `hard_pool`'s best is within 2.0 points of "
                         "`direct`'s best.")
    worse = _widths_text(hard={w: e + 0.03 for w, e in _FLAT_HARD.items()})
    assert worse.endswith("Distillation's best width is 2.5 points worse than `direct`'s best.")
    better = _widths_text(hard={w: e - 0.03 for w, e in _FLAT_HARD.items()})
    assert better.endswith("Distillation also beats `direct`'s best width, by 3.5 points.")
    none = _widths_text(direct={4: 0.70, 8: 0.70, 16: 0.705, 24: 0.70, 64: 0.69}, seeds=(0,))
    assert ("Without a clear peak in `direct`'s curve at this rate, this run cannot show a pool removing one. (At the "
            "same steps") in none and "standard error" not in none and "1 student seed" in none
    assert none.endswith("Distillation does not beat a well-chosen width: `hard_pool`'s best is within 2.0 points of "
                         "`direct`'s best.")
    assert "no clear peak: it is lowest at the widest width (68.8%)" in none
    # a wider width that stops fitting its labels, and a peak before the threshold: neither is called "from ... on"
    # or "where its students first fit their labels"
    gap = _widths_text(w24=0.2)
    assert "the students fit their noisy labels at widths 16 and 64 only" in gap
    early = _widths_text(direct={**_PEAKED_DIRECT, 8: 0.76})
    assert "peaks at width 8." in early and "first fit" not in early
    unfit = _widths_text(w16=0.3, w24=0.3, w64=0.3)
    assert "no width fits the noisy labels (the lowest train error is 30.0%, at width 16, 3,498 parameters)" in unfit
    assert "peaks at width 16." in unfit


def test_student_sweep_noise_is_checked_and_planned():
    from ddlib.chapters import student_widths

    off = kd.resolve_params("smoke", student_sweep_noise=[])
    assert student_widths.study_configs(off) == [] and "is empty" in student_widths.sentences({}, off)
    ((rate, q, teachers, students),) = student_widths.study_configs(kd.resolve_params("smoke"))
    assert rate == 0.4 and q["label_noise"] == 0.4 and [t.width for t in teachers] == [64]
    # hard_pool on the main pool and on the pool-size study's smallest (200): as many passes as `direct` (200 inputs)
    assert sorted((c.width, c.targets.method, c.targets.pool_size) for c in students) == [
        (4, "hard_pool", 200), (4, "hard_pool", 1000), (4, "labels", 0),
        (64, "hard_pool", 200), (64, "hard_pool", 1000), (64, "labels", 0)]
    assert student_widths.small_pool_size(kd.resolve_params("smoke", pool_study_sizes=[1000])) is None
    assert {c.targets.teacher.width for c in students if c.targets.method == "hard_pool"} == {64}
    for bad in (1.0, -0.1, "0.4", True):
        with pytest.raises(ConfigError, match=r"each entry of student_sweep_noise must be a number in \[0, 1\)"):
            kd.resolve_params("smoke", student_sweep_noise=[bad])


def test_peak_study_noise_is_checked():
    from ddlib.chapters import teacher_peak

    off = kd.resolve_params("smoke", peak_study_noise=[])
    assert teacher_peak.study_configs(off, 4) == [] and "no such study" in teacher_peak.sentences({}, off, 4).lower()
    assert [r for r, _, _, _ in teacher_peak.study_configs(kd.resolve_params("smoke", peak_study_noise=[0.0, 0.4]), 4)] == [0.0, 0.4]
    assert kd.resolve_params("smoke", peak_study_noise=0.4)["peak_study_noise"] == [0.4]  # one rate, as a list
    for bad in (1.0, -0.1, "0.4", True):
        with pytest.raises(ConfigError, match=r"each entry of peak_study_noise must be a number in \[0, 1\)"):
            kd.resolve_params("smoke", peak_study_noise=[bad])


def test_null_pair_sentence_only_where_the_widest_teacher_fits_every_label():
    """hard_labeled from a teacher that gets every noisy training label right is direct with other seeds: their gap is
    seed noise, set against the 2-point margin; without an exact fit (or either method) nothing is said."""
    s = _kd_summary(widest_teacher_fits_exactly=True, hard_labeled_widest=0.607, direct=0.617, n_seeds_words="5 seeds")
    text = kd.null_pair_sentence(s)
    assert "The two differ by 1.0 points (60.7% against 61.7%), less than the 2.0 points counted here as clear" in text
    assert "what the seeds alone do to a mean of 5 seeds" in text
    assert "so that margin is too small" in kd.null_pair_sentence(dict(s, hard_labeled_widest=0.645))
    assert kd.null_pair_sentence(dict(s, widest_teacher_fits_exactly=False)) == ""  # one label wrong: other labels
    assert kd.null_pair_sentence(dict(s, hard_labeled_widest=float("nan"))) == ""  # not among methods


def test_the_epochs_study_is_validated_and_worded_like_the_other_studies():
    from ddlib.chapters import double_descent as dd

    assert dd.resolve_params("smoke", epochs_study="60,80")["epochs_study"] == [60, 80]
    for bad in ([0], [-5], [2.5]):
        with pytest.raises(ConfigError, match="each entry of epochs_study must be a positive integer"):
            dd.resolve_params("smoke", epochs_study=bad)
    # the chapter's own length is its main sweep, not run again
    assert [n for n, _ in dd._epochs_study_params(dd.resolve_params("smoke", epochs_study=[20, 40]))] == [40]
    assert all(q["epochs"] == n and q["label_noise"] == 0.2
               for n, q in dd._epochs_study_params(dd.resolve_params("smoke", epochs_study=[40, 80])))
    assert dd.PRESETS["paper"]["epochs_study"] == [] and dd.run_epochs_study(dd.PRESETS["paper"])[0] == {}
    p = dd.resolve_params("default")
    base = dd.summarize(_dd_frame(_PEAK_WIDEST_NOT_BEST))
    text = dd.epochs_study_sentence(base, {1200: base}, p)
    assert text.startswith("Trained for 1,200 epochs instead of 300, the same rule finds that")
    assert "at 300 (" in text and "first to fit the noisy labels" in text
    assert dd.epochs_study_sentence(base, {}, p).startswith("No other training length was run here")
    # longer training that lets narrower widths fit: where the threshold moves, and nothing said of a regulariser
    earlier = dd.summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 4: (0, .33)}))
    moved = dd.epochs_study_sentence(base, {1200: earlier}, p)
    assert moved.endswith("At 1,200 epochs, narrower networks fit their noisy labels: the threshold moves from width 8 "
                          "down to width 4 (in the terms of Nakkiran et al. 2019, the training's effective model "
                          "complexity, the most samples it fits, grows).")
    assert "regulariser" not in moved


def test_the_learning_rate_study_changes_the_step_size_alone_and_is_worded_like_the_other_studies():
    from ddlib.chapters import anchor, double_descent as dd

    assert dd.resolve_params("smoke", lr_study="0.003,0.01")["lr_study"] == [0.003, 0.01]
    for bad in ([0], [-0.01], ["fast"]):
        with pytest.raises(ConfigError, match=r"each entry of lr_study must be a finite number > 0"):
            dd.resolve_params("smoke", lr_study=bad)
    # the chapter's own rate is its main sweep, not run again; every other setting is the main sweep's
    p = dd.resolve_params("smoke", lr_study=[0.001, 0.01])
    ((lr, q),) = dd.lr_study_params(p)
    assert lr == 0.01 and {k for k in p if p[k] != q[k]} == {"lr"}
    assert {c.train.lr for c in dd.sweep_configs(q)} == {0.01}
    assert {dataclasses.replace(c, train=dataclasses.replace(c.train, lr=p["lr"])) for c in dd.sweep_configs(q)} == set(
        dd.sweep_configs(p))
    assert dd.PRESETS["paper"]["lr_study"] == [] and dd.run_lr_study(dd.PRESETS["paper"])[0] == {}
    # default's study is the published anchor's rate
    assert dd.PRESETS["default"]["lr_study"] == [anchor.PUBLISHED["lr"]]
    p = dd.resolve_params("default")
    base, faster = dd.summarize(_dd_frame(_MONOTONE)), dd.summarize(_dd_frame(_PEAK_WIDEST_NOT_BEST))
    text = dd.lr_study_sentence(base, {0.01: faster}, p)
    # the study's sweep first (a peak at width 8), the chapter's second (width 4 the first to fit)
    assert text.startswith("At learning rate 0.01 instead of 0.001, the same rule finds that this run shows double "
                           "descent. Near the threshold (width 8 is the first to fit the noisy labels), width 8's test "
                           "error is 6.0 points above width 2's, the best narrower one; at 0.001 (width 4 is the first "
                           "to fit the noisy labels)")
    assert text.endswith("The widest model (33.0%, against 10.0% at 0.001) is no longer the best of the sweep: width "
                         "2's is 3.0 points lower. At learning rate 0.01, only wider networks fit their noisy labels: "
                         "the threshold moves from width 4 up to width 8. The larger rate keeps networks from fitting "
                         "wrong labels here, as a regulariser would.")
    assert dd.lr_study_sentence(base, {}, p).startswith("No other learning rate was run here")
    # the anchor's last sentence says what the next section runs
    assert anchor._next_section(p) == "The next section runs the sweep again at the published learning rate, 0.01."
    assert "asks for none here" in anchor._next_section(dict(p, lr=0.01))  # the study's rate is the sweep's own
    assert "the published one not among them" in anchor._next_section(dict(p, lr_study=[0.003]))


def test_threshold_move_says_whether_training_changes_which_widths_fit_their_noisy_labels():
    from ddlib.chapters import double_descent as dd
    from ddlib.chapters.double_descent import summarize, threshold_move

    at_24 = summarize(_dd_frame({8: (.4, .5), 16: (.1, .6), 24: (0, .55), 64: (0, .5)}))
    at_16 = summarize(_dd_frame({8: (.4, .5), 16: (0, .6), 24: (0, .55), 64: (0, .5)}))
    never = summarize(_dd_frame({8: (.4, .5), 16: (.3, .6), 24: (.2, .55), 64: (.1, .5)}))
    assert threshold_move(at_24, at_16, "at rate b", "at rate a").startswith(
        "At rate b, narrower networks fit their noisy labels: the threshold moves from width 24 down to width 16 (in "
        "the terms of Nakkiran et al. 2019")
    assert threshold_move(at_16, at_24, "at rate b", "at rate a") == (
        "At rate b, only wider networks fit their noisy labels: the threshold moves from width 16 up to width 24.")
    assert threshold_move(at_16, never, "at rate b", "at rate a") == (
        "At rate b, no width fits its noisy labels, where width 16 does at rate a.")
    assert threshold_move(never, at_16, "at rate b", "at rate a") == (
        "At rate b, width 16 fits its noisy labels, where no width does at rate a.")
    assert threshold_move(never, never, "at rate b", "at rate a") == "No width fits its noisy labels at rate b or at rate a."
    assert threshold_move(at_16, at_16, "at rate b", "at rate a").startswith("The threshold stays at width 16")
    # the learning-rate study answers its question only for a larger rate whose threshold moved
    answer = dd._regulariser_answer
    assert answer(at_24, at_16, larger=True) == " The larger rate does not keep networks from fitting wrong labels here."
    assert "as a regulariser would" in answer(at_16, at_24, True) and "as a regulariser would" in answer(at_16, never, True)
    assert answer(at_24, at_16, False) == answer(at_16, at_16, True) == answer(never, at_16, True) == ""


def test_the_overview_table_has_a_row_per_sweep_read_by_the_chapters_rule():
    from ddlib.chapters import double_descent as dd, sweep_overview as so

    base = dd.summarize(_dd_frame(_PEAK_WIDEST_NOT_BEST))
    tied = dd.summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 2: (.3, .33)}))  # width 2 ties with the widest
    unfit = dd.summarize(_dd_frame({w: (.2, te) for w, (_, te) in _PEAK_WIDEST_NOT_BEST.items()}))
    rows = so.overview_rows(base, {0.4: tied, 0.0: base}, {1200: unfit}, {1: base}, {0.01: base})
    assert list(rows) == ["the chapter's sweep", "0% label noise", "40% label noise", "1,200 epochs", "draw 1",
                          "learning rate 0.01"]
    # rates that print alike at whole per cent keep rows of their own
    assert list(so.overview_rows(base, {0.12: base, 0.125: base}, {}, {}, {}))[1:] == ["12% label noise",
                                                                                     "12.5% label noise"]
    table = so.overview_table(rows)
    first = table.iloc[0]
    assert (first["threshold (width)"], first["highest near it (width)"], first["clear peak"]) == (8, 8, "yes")
    assert (first["above best narrower (points)"], first["widest model, test error (%)"]) == (6.0, 33.0)
    assert first["best width"] == "2"
    assert table.loc["40% label noise", "best width"] == "2, 4 and 64"  # all three print 33.0%
    assert table.loc["0% label noise", "seed spread (points)"] == 0.1
    assert pd.isna(table.loc["1,200 epochs", "threshold (width)"])  # no width fits: blank, not a width


def test_the_training_knobs_sentence_sets_the_threshold_move_beside_the_widest_model():
    from ddlib.chapters import double_descent as dd, sweep_overview as so

    base = dd.summarize(_dd_frame(_PEAK_WIDEST_NOT_BEST))  # threshold at width 8, widest 33.0%
    earlier = dd.summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 4: (0, .34)}))  # threshold 4, widest unchanged
    earlier_lower = dd.summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 4: (0, .34), 64: (0, .29)}))
    slightly = dd.summarize(_dd_frame({**_PEAK_WIDEST_NOT_BEST, 4: (0, .35), 64: (0, .34)}))
    text = so.training_knobs_sentence(base, {1200: earlier}, {0.01: earlier_lower})
    assert text == ("Changing the training length and changing the learning rate move the interpolation threshold "
                    "alike: from width 8 in the chapter's sweep to width 4 at 1,200 epochs and at learning rate 0.01. "
                    "The widest model's test error, 33.0% in the chapter's sweep, is 33.0% at 1,200 epochs (level with "
                    "the chapter's) and 29.0% at learning rate 0.01 (4.0 points below the chapter's). The same move of the "
                    "threshold comes with different widest models: where the threshold lies does not, alone, tell how "
                    "good the widest model is.")
    # a change under the margin is said as such, and counts as no change: both alike, so no closing sentence
    alike = so.training_knobs_sentence(base, {1200: slightly}, {0.01: earlier})
    assert "34.0% at 1,200 epochs (1.0 points above the chapter's, less than the 2.0 points counted as clear)" in alike
    assert "same move" not in alike
    # thresholds that go different ways are listed, not called alike, and nothing is concluded
    apart = so.training_knobs_sentence(base, {1200: base}, {0.01: earlier_lower})
    assert apart.startswith("The interpolation threshold, at width 8 in the chapter's sweep, is at width 8 at 1,200 "
                            "epochs and width 4 at learning rate 0.01.")
    assert "same move" not in apart
    assert so.training_knobs_sentence(base, {}, {0.01: earlier}).startswith("Only one of the two training changes")
    assert so.training_knobs_sentence(base, {}, {}).startswith("Neither training change")  # the paper preset


@pytest.mark.parametrize("plot, other, names", [
    ("plot_lr", 0.01, ["learning rate 0.001", "learning rate 0.01"]), ("plot_epochs", 1200, ["300 epochs", "1,200 epochs"])])
def test_the_training_knob_figures_draw_train_error_dashed_and_name_only_curves_in_their_legends(plot, other, names):
    from ddlib.chapters import double_descent as dd

    p = dd.resolve_params("default")
    base, changed = (_dd_frame(c).assign(label_noise=0.2) for c in (_MONOTONE, _PEAK_WIDEST_NOT_BEST))
    fig = getattr(dd, plot)(base, {other: changed}, p)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == names + ["test (clean labels)", "train (noisy labels)"]
    # a solid test curve and a dashed train curve per sweep, the train curve of the chapter's at its train errors
    styles = {(ln.get_color(), ln.get_linestyle()) for ln in ax.get_lines() if len(ln.get_xdata()) == len(_MONOTONE)}
    assert {style for _, style in styles} == {"-", "--"} and len(styles) == 4
    train = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--" and len(ln.get_xdata()) == len(_MONOTONE)]
    assert sorted(tuple(ln.get_ydata()) for ln in train)[0] == tuple(tr for tr, _ in _MONOTONE.values())


def test_direct_stopped_early_is_chosen_on_the_validation_set_and_compared_seed_by_seed():
    from ddlib.chapters import direct_lengths

    p = dict(kd.resolve_params("default"), student_seeds=[0, 1])
    # validation picks 100 epochs; the test set alone would have picked 50
    lengths = pd.DataFrame([dict(epochs=e, seed=s, train_error=t, val_error=v, test_error=x + 0.01 * s)
                            for e, t, v, x in ((50, .5, .70, .58), (100, .3, .66, .60), (600, 0, .68, .62))
                            for s in (0, 1)])
    chapter = pd.DataFrame([dict(method="hard_pool", teacher_width=64, pool_size=25000, seed=s, test_error=e)
                            for s, e in ((0, .55), (1, .54))]
                           + [dict(method="hard_pool", teacher_width=4, pool_size=25000, seed=0, test_error=.9)])
    summary = dict(direct=.625, hard_pool_widest=.545, student_steps=4200)
    n = direct_lengths.numbers(lengths, chapter, summary, p)
    assert (n["chosen"], n["chosen_on"], n["stopped"]) == (100, "validation", pytest.approx(.605))
    assert n["seeds_beating"] == 2 and n["gain_se"] == pytest.approx(abs((.60 - .55) - (.61 - .54)) / 2)
    text = direct_lengths.sentence(n)
    assert text.startswith("Trained for 50, 100 and 600 epochs (2 seeds each), `direct` has its lowest mean error on "
                           "the validation set's noisy labels at 100 epochs, where its test error is 60.5%.")
    assert "The chapter's `direct` (600 epochs, every student's steps) is at 62.5%: stopping early saves it 2.0 points." in text
    assert "`hard_pool` student (54.5%) beats `direct` stopped early by 6.0 points (lower on 2 of 2 seeds" in text
    on_test = direct_lengths.numbers(lengths.drop(columns="val_error"), chapter, summary, p)
    assert on_test["chosen"] == 50 and "the test set picks the length" in direct_lengths.sentence(on_test)
    assert "stopping early does not help it" in direct_lengths.sentence(dict(n, direct=.60))
    assert "stopping early does not apply" in direct_lengths.sentence(dict(n, chosen=600))
    assert "The chapter's `direct`" not in direct_lengths.sentence(dict(n, direct=float("nan")))  # not among methods
    assert list(direct_lengths.lengths_table(n).index) == ["50", "100 (chosen)", "600"]
    assert "tie" not in text
    tie = lengths.assign(val_error=lengths["val_error"].where(lengths["epochs"] != 600, .6604))
    assert ("at 100 epochs (as printed, 600 epochs tie with it there; the unrounded means decide), where"
            in direct_lengths.sentence(direct_lengths.numbers(tie, chapter, summary, p)))


def test_direct_epochs_is_checked_and_planned():
    from ddlib.chapters import direct_lengths

    assert kd.resolve_params("smoke", direct_epochs=10)["direct_epochs"] == [10]
    for bad in ([0], [-1], [1.5]):
        with pytest.raises(ConfigError, match="each entry of direct_epochs must be a positive integer"):
            kd.resolve_params("smoke", direct_epochs=bad)
    p = kd.resolve_params("smoke")
    configs = direct_lengths.length_configs(p, 4)
    assert [c.train.steps for c in configs] == [e * (p["n_train"] // p["batch_size"]) for e in p["direct_epochs"]]
    assert all(c.width == 4 and c.init_seed == 0 and c.targets.teacher is None for c in configs)
    assert direct_lengths.length_configs(kd.resolve_params("smoke", direct_epochs=[]), 4) == []
    assert kd.resolve_params("smoke", direct_epochs=[10, 5, 5])["direct_epochs"] == [5, 10]  # a set of lengths
    # the chapter's `direct` (student steps = factor x the sweep's) is the run of direct_epochs at that length
    d = kd.resolve_params("default")
    chapter_direct = {config_hash(c) for c in kd.student_configs(d, 16, [64], [0], ["direct"])}
    assert config_hash(direct_lengths.length_configs(dict(d, direct_epochs=[600]), 16)[0]) in chapter_direct
    # with another student model, `direct` at every length is that model
    assert {c.model for c in direct_lengths.length_configs(dict(p, student_model="cnn1d"), 4)} == {"cnn1d"}
