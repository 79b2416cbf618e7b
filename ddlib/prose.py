"""Words chosen on printed numbers: the helpers every chapter's generated prose shares.

A chapter prints error rates in per cent with one decimal (``{:.1%}``) and says how two of them
compare ("5.7 points below", "level with", "a clear peak"). So that the words always agree with the
numbers printed beside them, every comparison is made on the difference *as printed*
(:func:`shown_difference`) and every threshold (:data:`CLEAR`) is applied to that difference.

* :func:`shown_difference`, :func:`as_shown`: differences as printed, to the tenth of a point.
* :func:`points`, :func:`signed_points`, :func:`relation`: a difference in percentage points, in words.
* :func:`plural`, :func:`join`: counts and lists in plain English.
"""
from __future__ import annotations

#: A difference of mean test errors smaller than this (2 points) is not called a peak, a descent or a clear gain.
CLEAR = 0.02


def shown_difference(a: float, b: float) -> float:
    """``a - b`` for two error rates as printed with one decimal in per cent (``{:.1%}``).

    The difference of the printed values, rounded to the tenth of a point, so that e.g. 54.0% and 53.6%
    are said to differ by 0.4 points whatever the unrounded means, and words chosen by comparing it
    with a threshold (:data:`CLEAR`, ...) agree with the difference printed; it differs from the
    unrounded ``a - b`` by at most 0.1 point.
    """
    return round(float(f"{100 * a:.1f}") - float(f"{100 * b:.1f}"), 1) / 100


def as_shown(x: float) -> float:
    """A difference ``x`` rounded as :func:`points` prints it (to the tenth of a point)."""
    return round(100 * x, 1) / 100


def points(x: float) -> str:
    """A difference of two error rates in percentage points, ``100 x`` with one decimal: ``"5.7 points"``."""
    return f"{100 * x:.1f} points"


def points_range(lo: float, hi: float) -> str:
    """Differences from ``lo`` to ``hi`` in percentage points: ``"2.6 to 7.7 points"``, or ``"10.0 points"`` where the
    two print the same."""
    return points(lo) if points(lo) == points(hi) else f"{100 * lo:.1f} to {points(hi)}"


def signed_points(x: float) -> str:
    """``x`` in points with its sign, ``"+0.4 points"``; a printed zero is ``"+0.0"``, never ``"-0.0"``."""
    return f"{as_shown(x) * 100 + 0.0:+.1f} points"


def relation(diff: float, other: str) -> str:
    """``diff`` (this error minus ``other``'s) in words: ``"5.7 points below width 16"``, ``"0.4 points above ..."``;
    a difference that prints as zero is ``"level with ..."`` (the side is chosen on the printed value)."""
    shown = round(100 * diff, 1)
    if shown == 0:
        return f"level with {other}"
    return f"{points(abs(diff))} {'above' if shown > 0 else 'below'} {other}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word`` in the right number: ``plural(1, "seed") == "1 seed"``, ``plural(3, "seed") == "3 seeds"``;
    ``many`` for an irregular plural (``plural(2, "process", "processes")``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def join(items) -> str:
    """A list in words: ``join([1]) == "1"``, ``join([1, 2, 4]) == "1, 2 and 4"``."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
