"""Where things live on disk: the results root and the data cache.

* results: ``$DDLIB_RESULTS`` if set, else ``results/`` at the repository root;
* data cache: ``$DDLIB_CACHE`` if set, else ``.cache/`` at the repository root.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def results_root() -> Path:
    """The root folder of stored runs and chapter tables."""
    return Path(os.environ.get("DDLIB_RESULTS") or REPO_ROOT / "results")


def cache_dir() -> Path:
    """The folder for generated or downloaded data."""
    return Path(os.environ.get("DDLIB_CACHE") or REPO_ROOT / ".cache")
