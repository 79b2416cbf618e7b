"""What every chapter shares: the figure style, where its tables go, gluing numbers.

* :func:`use_style` sets the one seaborn style of the book.
* :func:`chapter_results_dir` is ``<results root>/<chapter>/<folder>/``; :func:`table_folder` is that
  folder for some parameters: the preset's name, or the name and a hash of what differs from the preset
  (:func:`ddlib.presets.results_folder`).
* :func:`write_table` writes a chapter's tidy table there as ``results.csv`` (atomically), with the
  parameters that made it beside it (``results-parameters.json``).
* :func:`glue_numbers` glues named numbers into the page (``{glue:text}`name:.1%``` in prose);
  outside a notebook build it is harmless.
* :func:`label_log_axis` labels a log-scale x axis with the values a chapter swept.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .paths import results_root
from .presets import changed_parameters, results_folder
from .storage import atomic_write_text

PALETTE = "colorblind"


def label_log_axis(ax, values) -> None:
    """Ticks of a log-scale x axis at exactly ``values`` (widths, pool sizes), labelled as plain integers."""
    ticks = sorted({int(v) for v in values})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()


def percent_axis(ax) -> None:
    """The y axis of an error rate (a fraction) labelled in per cent, as the prose and tables print errors."""
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))


def test_and_train_panels(students, x: str, order: list, teacher_error: float, xlabel: str, title: str,
                          ticks: tuple[list, list[str]], colours: list[int] | None = None):
    """Two panels of students' errors against ``x`` (a column of ``students``, on a log scale with ``ticks``:
    positions and their labels): test error (left, with ``teacher_error`` dashed as "the widest teacher") and error
    on each student's own training labels (right), one line per value of the ``student`` column in ``order`` (in the
    book's palette, or its colours at positions ``colours``), mean and standard error over the rows of each point
    (the seeds); the legend below both. Returns the figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    colours = colours or list(range(len(order)))
    palette = [sns.color_palette(PALETTE, max(colours) + 1)[i] for i in colours]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharex=True)
    for ax, metric, label in ((axes[0], "test_error", "test error (clean labels)"),
                              (axes[1], "train_error", "train error (on its own training labels)")):
        sns.lineplot(data=students, x=x, y=metric, hue="student", style="student", markers=True, dashes=False,
                     errorbar="se", err_style="bars", ax=ax, legend=ax is axes[0], hue_order=order, style_order=order,
                     palette=palette, markersize=8)
        ax.set_xscale("log")
        ax.set_xticks(*ticks)
        ax.minorticks_off()
        ax.margins(x=0.08, y=0.08)
        ax.set_xlabel(f"{xlabel} (log scale)")
        ax.set_ylabel(label)
        percent_axis(ax)
    axes[0].axhline(teacher_error, color="black", ls="--", lw=1.2, label="the widest teacher")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].legend().remove()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), fontsize="small", frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.1 if len(labels) <= 3 else 0.14, 1, 1))
    return fig


def use_style() -> None:
    """The book's figure style: seaborn ``whitegrid``, colour-blind palette, readable sizes."""
    import matplotlib
    import seaborn as sns

    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    matplotlib.rcParams.update({"figure.figsize": (7.5, 4.2), "figure.dpi": 110, "savefig.dpi": 150,
                                "axes.titleweight": "bold"})


def chapter_results_dir(chapter: str, folder: str) -> Path:
    """``<results root>/<chapter>/<folder>/``, created if missing."""
    path = results_root() / chapter / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def table_folder(chapter: str, params: dict) -> str:
    """The folder of the tables ``params`` make: worked out from ``params`` as they are when written (not as
    resolved), against the preset they name, so a dict edited after ``resolve_params`` cannot write over the
    preset's tables."""
    from .chapters import chapter_module  # the chapters import this module

    base = chapter_module(chapter).PRESETS[params["preset"]]
    return results_folder(params["preset"], changed_parameters(base, params))


def write_table(frame, chapter: str, params: dict, name: str = "results.csv", folder_params: dict | None = None
                ) -> Path:
    """Write ``frame`` as CSV to the chapter's :func:`table_folder` for ``folder_params`` (default ``params``;
    a study beside a sweep passes the sweep's, so its tables sit with the sweep's), and ``params`` beside it as
    ``<name's stem>-parameters.json``; return the CSV's path."""
    folder = chapter_results_dir(chapter, table_folder(chapter, folder_params or params))
    path = folder / name
    atomic_write_text(folder / f"{path.stem}-parameters.json", json.dumps(params, indent=1, sort_keys=True, default=str))
    atomic_write_text(path, frame.to_csv(index=False))
    return path


def with_dashes(table, formats: dict[str, str] | None = None):
    """``table`` for display, each missing value shown as a dash (not measured, or no such number) instead of
    pandas' ``<NA>`` or ``NaN``, and the columns named in ``formats`` formatted by theirs (``{"ratio": "{:.2f}"}``:
    ``1.20``, not ``1.2``); ``None`` for an empty table (nothing to show)."""
    import pandas as pd

    if table.empty:
        return None
    formats = formats or {}
    out = table.astype(object)
    for column in out:
        fmt = formats.get(column, "{}")
        out[column] = [("—" if pd.isna(v) else fmt.format(v)) for v in out[column]]
    return out


def glue_numbers(**numbers) -> None:
    """Glue each value under its name for the prose (no display in the cell output).

    Numbers are cited with ``{glue:text}`name:.1%``; strings are glued as Markdown, cited with
    ``{glue:md}`name``` (so they appear without quotes). NumPy scalars (what pandas hands back) are glued
    as Python numbers: myst-nb formats a glued value from its text form, and ``np.float64(1.5)`` is not
    a number to it.
    """
    try:
        from IPython.display import Markdown
        from myst_nb import glue
    except ImportError:  # pragma: no cover - myst-nb is part of the book's requirements
        return
    for name, value in numbers.items():
        glue(name, Markdown(value) if isinstance(value, str) else _plain(value), display=False)


def _plain(value):
    """A NumPy scalar as the Python number it holds; anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value
