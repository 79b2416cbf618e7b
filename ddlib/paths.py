"""Where things live on disk: the results root and the data cache.

* results: ``$DDLIB_RESULTS`` if set, else ``results/`` at the repository root;
* data cache: ``$DDLIB_CACHE`` if set, else ``.cache/`` at the repository root;
* datasets read from files (CIFAR): ``$DDLIB_DATA`` if set, else ``<data cache>/data``;
  downloading them is allowed only when ``$DDLIB_DOWNLOAD=1``;
* an unlabeled CIFAR pool from ``.npz`` files (CIFAR-5m form): ``$DDLIB_POOL_NPZ``, comma-separated.

None of these is part of a run's config hash: where the files live does not change a result.
"""
from __future__ import annotations

import os
from pathlib import Path

from .validation import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent


def results_root() -> Path:
    """The root folder of stored runs and chapter tables."""
    return Path(os.environ.get("DDLIB_RESULTS") or REPO_ROOT / "results")


def cache_dir() -> Path:
    """The folder for generated or downloaded data."""
    return Path(os.environ.get("DDLIB_CACHE") or REPO_ROOT / ".cache")


def data_dir() -> Path:
    """The folder holding dataset files (``cifar-10-batches-py/``, ``cifar-100-python/``)."""
    return Path(os.environ.get("DDLIB_DATA") or cache_dir() / "data").expanduser()


#: How ``$DDLIB_*`` switches are spelled on and off (case-insensitive; unset is off).
ON_WORDS = ("1", "true", "yes", "on")
OFF_WORDS = ("", "0", "false", "no", "off")


def env_word(name: str) -> str:
    """``$name``, stripped and lower-cased ("" when unset)."""
    return os.environ.get(name, "").strip().lower()


def switch_setting(value: str | bool | None, param: str, env: str) -> tuple[str, str]:
    """A speed switch's setting and the name to blame in an error: ``value`` when given (``True``/``False``
    or a word; the error then names ``param``), else ``$env``. Returns ``(name, word)`` with ``word`` one of
    ``auto`` (unset or empty), ``on`` (an ON word) or ``off`` (an OFF word); anything else fails."""
    if value is not None:
        name = param
        raw = ("on" if value else "off") if isinstance(value, bool) else str(value).strip().lower()
    else:
        name, raw = env, env_word(env)
    if not raw or raw == "auto":
        return name, "auto"
    if raw in ON_WORDS or raw in OFF_WORDS:
        return name, "on" if raw in ON_WORDS else "off"
    raise ConfigError(f"{name} must be auto, on or off (or 1/0, true/false); got {raw!r}")


def download_allowed() -> bool:
    """Whether missing dataset files may be downloaded (``$DDLIB_DOWNLOAD=1``)."""
    return env_word("DDLIB_DOWNLOAD") in ON_WORDS


def pool_npz_files() -> list[Path]:
    """The ``.npz`` files named (comma-separated) by ``$DDLIB_POOL_NPZ``; empty when unset."""
    return [Path(p.strip()).expanduser() for p in os.environ.get("DDLIB_POOL_NPZ", "").split(",") if p.strip()]
