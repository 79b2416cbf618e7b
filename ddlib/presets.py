"""Chapter parameters: presets (``smoke``, ``default``, ``paper``) filled in under overrides.

A chapter's ``parameters`` cell sets every knob to ``None`` except ``preset``; papermill (or
``python -m ddlib run``) overrides any of them. :func:`resolve` starts from the preset's values,
applies every override that is not ``None``, coerces strings that papermill's ``-p`` produces
(``"[1, 2]"``, ``"1,2"``, ``"true"``) to the preset's type, and NumPy scalars, arrays, ranges, sets and
generators to plain numbers and lists, treats a list of numbers as the set of settings it
is (sorted, no repeats), and runs the chapter's validator
*before* anything is computed, so a bad value fails in seconds with a message naming it.

papermill only warns about a ``-p`` name the parameters cell does not have, and runs on with the
preset's value; a chapter's own resolve cell (``check_injected=True``) refuses such a name too
(:func:`papermill_injected_names`), so a typo (``-p width 4``) cannot silently run the whole preset.

:func:`changed_parameters` and :func:`results_folder` name the folder of a chapter's tables: the
preset's name, or the name and a hash of what differs from it.
"""
from __future__ import annotations

import ast
import difflib
import hashlib
import json
from collections.abc import Iterator
from typing import Callable

import numpy as np

from .validation import ConfigError, one_of

PRESET_NAMES = ("smoke", "default", "paper")


def _coerce(name: str, value, like):
    """Turn a string from the command line into the type of the preset's value ``like``."""
    if not isinstance(value, str) or isinstance(like, str) or like is None:
        if isinstance(like, (list, tuple)) and isinstance(value, (int, float)) and not isinstance(value, bool):
            return [value]
        return value
    text = value.strip()
    if isinstance(like, (list, tuple)) and not text.startswith("["):
        text = "[" + text + "]"
    if isinstance(like, bool):
        low = text.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if isinstance(like, (list, tuple)) and all(isinstance(v, str) for v in like):
            return [w.strip() for w in text.strip("[]").split(",") if w.strip()]  # hard_pool,direct
        raise ConfigError(f"{name}: cannot read {value!r} as a {type(like).__name__}") from None


def _plain(value):
    """Python's own types for what a notebook naturally passes: a NumPy scalar as its Python number
    (``np.int64(4)`` is ``4``), a NumPy array, ``range``, set or generator as a list of such, so that the
    validators see a value they can judge and one setting has one results folder however it was written."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):  # no order of its own: sorted, so one set is one setting
        return sorted((_plain(v) for v in value), key=lambda v: (isinstance(v, str), v))
    if isinstance(value, (range, Iterator)):
        return [_plain(v) for v in value]
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _floats_like(value, like):
    """Integers where the preset holds floats become floats (``label_noise=0`` is ``0.0``; ``rf_ratios=[1, 2]``
    is ``[1.0, 2.0]``), so one setting has one value, and one results folder, however it was typed."""
    if isinstance(like, float) and _is_int(value):
        return float(value)
    if isinstance(like, (list, tuple)) and like and all(isinstance(v, float) for v in like) and isinstance(value, list):
        return [float(v) if _is_int(v) else v for v in value]
    return value


def _as_set_if_numbers(value):
    """A list (or tuple) of numbers as a sorted list without repeats: every such parameter (widths, seeds, rates,
    sizes) is a set of settings to run, so ``[64, 4]`` and ``[4, 64, 4]`` are ``[4, 64]`` and name one results
    folder; other values as they are (tuples as lists)."""
    if not isinstance(value, (list, tuple)):
        return value
    if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return list(dict.fromkeys(sorted(value, key=lambda v: (v, isinstance(v, float)))))  # 4 before 4.0
    return list(value)


def _did_you_mean(unknown: list[str], known) -> str:
    close = {k: difflib.get_close_matches(k, list(known), n=1) for k in unknown}
    hints = [f"{c[0]!r} for {k!r}" for k, c in close.items() if c]
    return f" (did you mean {', '.join(hints)}?)" if hints else ""


#: papermill's injected cell starts with this comment (``papermill.translators.PythonTranslator.codify``).
PAPERMILL_HEADER = "# Parameters"
#: names papermill itself injects (``--inject-paths``), not the chapter's parameters
PAPERMILL_OWN_PREFIX = "PAPERMILL_"


def papermill_injected_names(history: list[str] | None = None) -> list[str]:
    """The names papermill assigned in this kernel: the assignments of the latest executed cell whose first
    line is :data:`PAPERMILL_HEADER`, read from IPython's input history ``In`` (or ``history``), less
    papermill's own (``PAPERMILL_INPUT_PATH``, ... from ``--inject-paths``); ``[]`` outside IPython or where
    papermill injected nothing."""
    if history is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return []
        shell = get_ipython()
        history = list(shell.user_ns.get("In", [])) if shell is not None else []
    for source in reversed(history):
        if source.strip().split("\n", 1)[0].strip() == PAPERMILL_HEADER:
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            return [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name) and not t.id.startswith(PAPERMILL_OWN_PREFIX)]
    return []


#: parameters that say where a run is computed, not what: left out of :func:`changed_parameters`
WHERE_NOT_WHAT = ("device",)


def changed_parameters(base: dict, params: dict) -> dict:
    """The entries of ``params`` that differ from the preset ``base`` (``preset`` and :data:`WHERE_NOT_WHAT`
    aside; entries ``base`` lacks count as changed), lists of numbers as the sets they are."""
    return {k: _as_set_if_numbers(v) for k, v in params.items() if k != "preset" and k not in WHERE_NOT_WHAT
            and (k not in base or _as_set_if_numbers(v) != _as_set_if_numbers(base[k]))}


def results_folder(preset: str, changed: dict) -> str:
    """The folder of a chapter's tables under ``results/<chapter>/``: the preset's name where no parameter
    differs from the preset, else the name and the first 8 hex digits of the SHA-256 of the changed
    parameters (``"default-1f0c9a2b"``), so that a run with overrides never overwrites the preset's tables."""
    if not changed:
        return preset
    digest = hashlib.sha256(json.dumps(changed, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{preset}-{digest}"


def resolve(chapter: str, presets: dict[str, dict], preset: str, overrides: dict,
            validate: Callable[[dict], None] | None = None, check_injected: bool = False) -> dict:
    """Merge ``overrides`` (``None`` = not given) into ``presets[preset]`` and validate the result.

    Raises :class:`ConfigError` for an unknown preset, an unknown parameter name (with
    ``check_injected``, which only a chapter's own resolve cell passes, also one that papermill injected
    into this kernel), or any value the chapter's ``validate`` refuses.
    """
    one_of("preset", preset, [p for p in PRESET_NAMES if p in presets])
    base = presets[preset]
    injected = papermill_injected_names() if check_injected else []
    unknown = sorted({k for k in [*overrides, *injected] if k not in base and k != "preset"})
    if unknown:
        known = f"known: {sorted(base)}" if base else "it takes no parameter but `preset`"
        raise ConfigError(f"unknown parameter(s) {unknown} for chapter {chapter!r}{_did_you_mean(unknown, base)}; "
                          f"{known}")
    params = dict(base)
    for k, v in overrides.items():
        if v is not None:
            params[k] = _floats_like(_coerce(k, _plain(v), base[k]), base[k])
    for k, v in params.items():
        params[k] = _as_set_if_numbers(v)
    params["preset"] = preset
    if validate is not None:
        validate(params)
    return params
