"""One module per book chapter: its presets, its parameter checks, and its experiment.

Each module defines ``CHAPTER`` (the notebook's name under ``book/``), ``PRESETS`` (``smoke``,
``default``, ``paper`` → parameter values) and ``resolve_params(preset, check_injected=False,
**overrides)``, which returns the validated parameters or raises :class:`ddlib.ConfigError`. The
notebook and ``python -m ddlib run`` both call it, so bad input is refused the same way on both
paths; the notebook's resolve cell passes ``check_injected=True``, so that a ``-p`` name papermill
injected and the chapter lacks is refused too.
"""
from __future__ import annotations

import importlib

from ..validation import one_of

#: chapter name (``book/<name>.md``) -> module in this package
CHAPTERS = {
    "double-descent": "double_descent",
    "distillation": "distillation",
    "random-features": "random_features",
    "findings": "findings",
}


def chapter_module(name: str):
    """The module of chapter ``name``; raises :class:`ddlib.ConfigError` for an unknown one."""
    one_of("chapter", name, CHAPTERS)
    return importlib.import_module(f"{__name__}.{CHAPTERS[name]}")
