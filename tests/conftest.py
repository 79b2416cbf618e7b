"""Shared fixtures: an isolated results folder, and running a chapter notebook through papermill."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
torch.set_num_threads(1)  # tiny models: one thread is fastest, and tests may share the machine


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    """Point ``$DDLIB_RESULTS`` at a fresh folder (kernels started by papermill inherit it)."""
    path = tmp_path / "results"
    monkeypatch.setenv("DDLIB_RESULTS", str(path))
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return path


def execute_chapter(name: str, out_path: Path, **parameters):
    """Execute ``book/<name>.md`` with papermill (as a user would the paired .ipynb); return the notebook."""
    import jupytext
    import papermill

    return papermill.execute_notebook(
        jupytext.read(REPO / "book" / f"{name}.md"), str(out_path), parameters=parameters,
        kernel_name="python3", cwd=str(REPO / "book"), progress_bar=False)


def output_mime_types(nb) -> set[str]:
    """Every MIME type in the notebook's display outputs."""
    return {mime for cell in nb.cells for out in cell.get("outputs", []) for mime in out.get("data", {})}


def glued_names(nb) -> set[str]:
    """Names glued by myst-nb in an executed notebook."""
    return {out.get("metadata", {}).get("scrapbook", {}).get("name") for cell in nb.cells
            for out in cell.get("outputs", [])} - {None}


def glued_value(nb, name: str) -> str:
    """The text form of what an executed notebook glued under ``name`` (myst-nb stores it under its
    ``mime_prefix``, e.g. ``application/papermill.record/text/plain``): the markdown of glued markdown, else the
    plain text (a number's repr)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            record = out.get("metadata", {}).get("scrapbook", {})
            if record.get("name") == name:
                prefix = record.get("mime_prefix", "")
                return out["data"].get(prefix + "text/markdown") or out["data"].get(prefix + "text/plain")
    raise KeyError(name)


def cited_names(chapter: str) -> set[str]:
    """Names the chapter's prose cites, inline with ``{glue:...}`name``` or as a block with ``:::{glue:md} name``."""
    import re

    text = (REPO / "book" / f"{chapter}.md").read_text(encoding="utf-8")
    inline = {m.split(":")[0] for m in re.findall(r"\{glue:\w+\}`([^`]+)`", text)}
    return inline | set(re.findall(r"^:::\{glue:\w+\} (\S+)", text, flags=re.M))
