"""Chapter parameters: presets (``smoke``, ``default``, ``paper``) filled in under overrides.

A chapter's ``parameters`` cell sets every knob to ``None`` except ``preset``; papermill (or
``python -m ddlib run``) overrides any of them. :func:`resolve` starts from the preset's values,
applies every override that is not ``None``, coerces strings that papermill's ``-p`` produces
(``"[1, 2]"``, ``"1,2"``, ``"true"``) to the preset's type, and runs the chapter's validator
*before* anything is computed, so a bad value fails in seconds with a message naming it.

papermill only warns about a ``-p`` name the parameters cell does not have, and runs on with the
preset's value; :func:`resolve` refuses such a name too (:func:`papermill_injected_names`), so a typo
(``-p width 4``) cannot silently run the whole preset.
"""
from __future__ import annotations

import ast
import hashlib
import json
from typing import Callable

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


#: papermill's injected cell starts with this comment (``papermill.translators.PythonTranslator.codify``).
PAPERMILL_HEADER = "# Parameters"


def papermill_injected_names(history: list[str] | None = None) -> list[str]:
    """The names papermill assigned in this kernel: the assignments of the latest executed cell that starts
    with :data:`PAPERMILL_HEADER`, read from IPython's input history ``In`` (or ``history``); ``[]`` outside
    IPython or where papermill injected nothing."""
    if history is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return []
        shell = get_ipython()
        history = list(shell.user_ns.get("In", [])) if shell is not None else []
    for source in reversed(history):
        if source.lstrip().startswith(PAPERMILL_HEADER):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            return [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name)]
    return []


def results_folder(preset: str, changed: dict) -> str:
    """The folder of a chapter's tables under ``results/<chapter>/``: the preset's name where no parameter
    differs from the preset, else the name and the first 8 hex digits of the SHA-256 of the changed
    parameters (``"default-1f0c9a2b"``), so that a run with overrides never overwrites the preset's tables."""
    if not changed:
        return preset
    digest = hashlib.sha256(json.dumps(changed, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{preset}-{digest}"


def resolve(chapter: str, presets: dict[str, dict], preset: str, overrides: dict,
            validate: Callable[[dict], None] | None = None) -> dict:
    """Merge ``overrides`` (``None`` = not given) into ``presets[preset]`` and validate the result.

    Raises :class:`ConfigError` for an unknown preset, an unknown parameter name, or any value
    the chapter's ``validate`` refuses.
    """
    one_of("preset", preset, [p for p in PRESET_NAMES if p in presets])
    base = presets[preset]
    unknown = sorted({k for k in [*overrides, *papermill_injected_names()] if k not in base and k != "preset"})
    if unknown:
        raise ConfigError(f"unknown parameter(s) {unknown} for chapter {chapter!r}; known: {sorted(base)}")
    params = dict(base)
    for k, v in overrides.items():
        if v is not None:
            params[k] = _coerce(k, v, base[k])
    for k, v in params.items():
        if isinstance(v, tuple):
            params[k] = list(v)
    params["preset"] = preset
    params["results_folder"] = results_folder(preset, {k: v for k, v in params.items() if k in base and
                                                       v != (list(base[k]) if isinstance(base[k], tuple) else base[k])})
    if validate is not None:
        validate(params)
    return params
