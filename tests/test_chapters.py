"""Every chapter at its smoke preset through papermill; every notebook pair in sync and clean."""
import glob
import os

import jupytext
import pandas as pd
import pytest
from jupytext.compare import compare_notebooks

from conftest import REPO, cited_names, execute_chapter, glued_names, output_mime_types
from ddlib.chapters import CHAPTERS

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
    table = pd.read_csv(results_dir / "double-descent" / "smoke" / "results.csv")
    assert {"width", "params", "seed", "train_error", "test_error"} <= set(table.columns)
    assert sorted(table["width"].unique()) == [4, 64]
    assert table["test_error"].between(0, 1).all() and table["train_error"].between(0, 1).all()
    assert (table["label_noise"] == 0.1).all()  # the override reached the runs


def test_distillation_smoke_reuses_teachers(results_dir, tmp_path):
    execute_chapter("double-descent", tmp_path / "dd.ipynb", preset="smoke")
    nb = execute_chapter("distillation", tmp_path / "kd.ipynb", preset="smoke")
    assert "image/png" in output_mime_types(nb)
    assert cited_names("distillation") <= glued_names(nb)  # every number the prose cites was glued
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    # the two teachers of the double-descent chapter (widths 4, 64; one seed) are reused, not retrained;
    # the 11 students are new
    assert "runs: 11 computed, 2 reused" in text
    table = pd.read_csv(results_dir / "distillation" / "smoke" / "results.csv")
    assert {"method", "teacher_width", "student_width", "pool_size", "seed", "test_error", "agreement"} <= set(table.columns)
    assert set(table["method"]) == {"teacher", "direct", "hard_labeled", "hard_pool", "soft_kd_labeled",
                                    "soft_kd_pool", "oracle_pool"}
    stored = list((results_dir / "store").glob("*.json"))
    # 2 teachers + direct + (4 teacher methods x 2 teachers) + oracle + the pool study's extra smaller pool
    assert len(stored) == len(set(table["hash"])) == 13


def test_appendix_executes_and_cites_the_benchmarks(tmp_path):
    nb = execute_chapter("full-scale", tmp_path / "fs.ipynb")
    assert "gpu_mfu_k64" in glued_names(nb)  # glued from benchmarks/results
    assert cited_names("full-scale") <= glued_names(nb)


def test_pool_study_names_its_second_teacher_truthfully():
    """Where no teacher width lies below the peak (tiny settings), the prose must not call the
    second studied teacher 'narrower than the peak'."""
    from ddlib.chapters.distillation import narrow_study_label

    below = narrow_study_label({"study_teachers": [12, 64], "peak_width": 16, "study_narrow_is_narrower": True})
    assert below == "the best teacher narrower than the peak (width 12, peak at 16)"
    at_peak = narrow_study_label({"study_teachers": [4, 8], "peak_width": 4, "study_narrow_is_narrower": False})
    assert "narrower than the peak" not in at_peak and "no teacher width lies below the peak at 4" in at_peak


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
             best_narrower_width=12, widest_width=64, seed_spread=0.01)
    return {**s, **kw}


def test_double_descent_verdict_follows_the_numbers():
    from ddlib.chapters.double_descent import verdict

    plateau = verdict(_dd_summary())
    assert plateau.startswith("**This run shows the second descent but no clear peak:**")
    assert "5.7 points better than width 16" in plateau and "(width 24)" in plateau and "0.4 points above" in plateau
    assert verdict(_dd_summary(peak_over_narrower=0.05)).startswith("**This run shows double descent:**")
    assert verdict(_dd_summary(peak_over_widest=0.0)).startswith("**This run does not show double descent:**")


def test_distillation_verdict_counts_the_other_teachers():
    from ddlib.chapters.distillation import verdict

    s = dict(student_minus_teacher_widest=-0.003, gain_over_direct=0.086, gain_over_soft_kd_labeled=0.04,
             other_teachers=3, other_beats_direct=2, other_beats_soft_kd_labeled=0, tracking_correlation=0.93,
             n_teacher_widths=4, pool_largest_widest=0.54, pool_smallest_widest=0.66, pool_largest_narrow=0.62,
             pool_smallest_narrow=0.68)
    text = verdict(s)
    assert "beats `direct` by 8.6 points" in text and "beats `soft_kd_labeled` by 4.0 points" in text
    assert "at 2 and `soft_kd_labeled` at 0 of them" in text and "only with a wide enough teacher" in text
    assert "0.3 points below its teacher" in text and "from few points" in text
    assert "for every teacher" in verdict({**s, "other_beats_soft_kd_labeled": 3})


def test_method_table_has_one_row_per_distilled_teacher():
    from ddlib.chapters.distillation import method_table

    rows = [("teacher", 2.0, 0, 0.7), ("teacher", 4.0, 0, 0.6), ("hard_pool", 4.0, 100, 0.5),
            ("hard_pool", 4.0, 10, 0.9), ("direct", None, 0, 0.65), ("oracle_pool", None, 100, 0.1)]
    frame = pd.DataFrame(rows, columns=["method", "teacher_width", "pool_size", "test_error"])
    table = method_table(frame, {"pool_sizes": [100], "teacher_widths": [4]})
    assert list(table.index) == [4] and list(table.columns[:2]) == ["teacher", "direct"]
    assert table.loc[4].to_dict() == {"teacher": 0.6, "direct": 0.65, "hard_pool": 0.5, "oracle_pool": 0.1}


def test_numpy_scalars_are_glued_as_python_numbers(monkeypatch):
    import myst_nb
    import numpy as np

    import ddlib.book

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.update({name: value}))
    ddlib.book.glue_numbers(ratio=np.float64(105.7), count=np.int64(3), plain=0.5)
    assert type(glued["ratio"]) is float and type(glued["count"]) is int and glued["plain"] == 0.5
