"""Chapter parameters: presets (``smoke``, ``default``, ``paper``) filled in under overrides.

A chapter's ``parameters`` cell sets every knob to ``None`` except ``preset``; papermill (or
``python -m ddlib run``) overrides any of them. :func:`resolve` starts from the preset's values,
applies every override that is not ``None``, coerces strings that papermill's ``-p`` produces
(``"[1, 2]"``, ``"1,2"``, ``"true"``) to the preset's type, and runs the chapter's validator
*before* anything is computed, so a bad value fails in a second with a message naming it.
"""
from __future__ import annotations

import ast
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


def resolve(chapter: str, presets: dict[str, dict], preset: str, overrides: dict,
            validate: Callable[[dict], None] | None = None) -> dict:
    """Merge ``overrides`` (``None`` = not given) into ``presets[preset]`` and validate the result.

    Raises :class:`ConfigError` for an unknown preset, an unknown parameter name, or any value
    the chapter's ``validate`` refuses.
    """
    one_of("preset", preset, [p for p in PRESET_NAMES if p in presets])
    base = presets[preset]
    unknown = sorted(k for k in overrides if k not in base)
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
    if validate is not None:
        validate(params)
    return params
