"""Fail-fast parameter checks with messages that name the parameter and what is allowed.

Every public entry point of ``ddlib`` validates its inputs with these helpers *before* any data
is generated or any model trained, so a typo costs a second, not a sweep.
"""
from __future__ import annotations

import math
from typing import Iterable


class ConfigError(ValueError):
    """A parameter has a value that is not allowed. The message names both."""


def numpy_hint(value) -> str:
    """Why a NumPy scalar is refused where a Python number is asked for, and what to pass instead."""
    if type(value).__module__ == "numpy":
        return " (a NumPy scalar: pass a Python number, int(x) or float(x); a chapter's parameters convert it)"
    return ""


def positive_int(name: str, value) -> int:
    """Return ``value`` if it is an integer > 0, else raise :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer (> 0); got {value!r}{numpy_hint(value)}")
    return value


def non_negative_int(name: str, value) -> int:
    """Return ``value`` if it is an integer >= 0, else raise :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be a non-negative integer (>= 0); got {value!r}{numpy_hint(value)}")
    return value


def non_negative_int_text(name: str, text: str, meaning: str) -> int:
    """``text`` (an environment variable's value, say) read as an integer >= 0, or a :class:`ConfigError`
    naming ``name`` and what the number means."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"{name} must be an integer >= 0 ({meaning}); got {text!r}")
    return value


def positive_float(name: str, value) -> float:
    """Return ``value`` as float if it is a number > 0, else raise :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ConfigError(f"{name} must be a finite number > 0; got {value!r}{numpy_hint(value)}")
    return float(value)


def non_negative_float(name: str, value) -> float:
    """Return ``value`` as float if it is a finite number >= 0, else raise :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ConfigError(f"{name} must be a finite number >= 0; got {value!r}{numpy_hint(value)}")
    return float(value)


def in_unit_interval(name: str, value, *, closed_right: bool) -> float:
    """Check ``value`` in [0, 1) (``closed_right=False``) or [0, 1] (``closed_right=True``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        ok = 0 <= value <= 1 if closed_right else 0 <= value < 1
    if not ok:
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ConfigError(f"{name} must be a number in {interval}; got {value!r}{numpy_hint(value)}")
    return float(value)


def one_of(name: str, value, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise naming the allowed values."""
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def list_of(name: str, values, what: str, check_entry) -> list:
    """``values`` as a list if it is a list (or tuple) whose every entry passes ``check_entry`` (which raises a
    :class:`ConfigError` naming the entry), else a :class:`ConfigError` saying ``name`` must be a list of ``what``."""
    if not isinstance(values, (list, tuple)):
        raise ConfigError(f"{name} must be a list of {what}; got {values!r}")
    for value in values:
        check_entry(value)
    return list(values)


def non_empty_ints(name: str, values, *, positive: bool) -> tuple[int, ...]:
    """Check a non-empty list of integers (each > 0 when ``positive``, else >= 0)."""
    if isinstance(values, (int, str)) or not hasattr(values, "__iter__"):
        raise ConfigError(f"{name} must be a non-empty list of integers; got {values!r}")
    values = tuple(values)
    if not values:
        raise ConfigError(f"{name} must be a non-empty list of integers; got an empty list")
    check = positive_int if positive else non_negative_int
    for v in values:
        check(f"each entry of {name}", v)
    return values
