"""The double-descent chapter's sweeps side by side: one table row per sweep, and the two training changes compared.

Every study of the chapter runs the same width sweep with one setting changed (the label-noise rate, the training
length, the draw of the data, the learning rate). Each section compares its sweep with the chapter's; this module
puts them all in one table (:func:`overview_table`, from :func:`overview_rows`) and says in words how the two
changes of *training* (more epochs, another learning rate) compare with each other (:func:`training_knobs_sentence`):
both can move the interpolation threshold, and the question is whether they then do the same to the widest model.
"""
from __future__ import annotations

import pandas as pd

from ..prose import CLEAR, join, points, relation, shown_difference


def overview_rows(base: dict, noise: dict, epochs: dict, draws: dict, lrs: dict) -> dict[str, dict]:
    """``{row label: summary}`` (summaries from :func:`double_descent.summarize`), the chapter's sweep first and then
    each sweep of the label-noise, training-length, redraw and learning-rate studies (keyed by rate, epoch count,
    draw seed and rate, as the chapter's ``run_*`` functions return them), each label naming what it changes ("draw 1":
    ``data_seed = noise_seed = 1``)."""
    rows = {"the chapter's sweep": base}
    rows.update({f"{100 * level:g}% label noise": s for level, s in sorted(noise.items())})
    rows.update({f"{n:,} epochs": s for n, s in sorted(epochs.items())})
    rows.update({f"draw {r}": s for r, s in sorted(draws.items())})
    rows.update({f"learning rate {lr:g}": s for lr, s in sorted(lrs.items())})
    return rows


def overview_table(rows: dict[str, dict]) -> pd.DataFrame:
    """One row per sweep (:func:`overview_rows`): its interpolation threshold (the first width that fits its
    training labels, blank where none does), the width of highest test error near it and how far that is above the
    best narrower width (in points, as the sections print it), whether the chapter's rule calls it a clear peak, the
    widest model's test error, the best width (every one that ties as printed), and the spread between
    seeds (the standard deviation over seeds, averaged over widths)."""
    table = pd.DataFrame({
        "threshold (width)": [s["threshold_width"] for s in rows.values()],
        "highest near it (width)": [s["peak_width"] for s in rows.values()],
        "above best narrower (points)": [round(100 * s["peak_over_narrower"], 1) for s in rows.values()],
        "clear peak": ["yes" if s["clear_peak"] else "no" for s in rows.values()],
        "widest model, test error (%)": [round(100 * s["widest_test_error"], 1) for s in rows.values()],
        "best width": [join(s["best_widths"]) for s in rows.values()],
        "seed spread (points)": [round(100 * s["seed_spread"], 1) for s in rows.values()],
    }, index=list(rows))
    table["threshold (width)"] = table["threshold (width)"].astype("Int64")
    return table


def training_knobs_sentence(base: dict, epochs: dict[int, dict], lrs: dict[float, dict]) -> str:
    """How the training-length study (``epochs``, by epoch count) and the learning-rate study (``lrs``, by rate)
    compare, each sweep's summary against the chapter's (``base``): where each moves the interpolation threshold, and
    how each changes the widest model's test error (:func:`ddlib.prose.relation`), a change of at least :data:`CLEAR`
    (as printed) counted as one. Where every change moves the threshold to the same width but not every one changes
    the widest model alike, the paragraph ends by saying that the threshold's move alone does not tell how the widest
    model does."""
    if not epochs and not lrs:
        return "Neither training change (another length, another learning rate) was run here."
    if not epochs or not lrs:
        return ("Only one of the two training changes (another length, another learning rate) was run here, so they "
                "are not compared.")
    changes = ([(f"at {n:,} epochs", s) for n, s in sorted(epochs.items())]
               + [(f"at learning rate {lr:g}", s) for lr, s in sorted(lrs.items())])
    t0 = base["threshold_width"]

    def where(s: dict) -> str:
        return "no width" if s["threshold_width"] is None else f"width {s['threshold_width']}"

    thresholds = {s["threshold_width"] for _, s in changes}
    moved_alike = len(thresholds) == 1 and t0 not in thresholds
    if moved_alike:
        moved = (f"Changing the training length and changing the learning rate move the interpolation threshold "
                 f"alike: from {where(base)} in the chapter's sweep to {where(changes[0][1])} "
                 f"{join([at for at, _ in changes])}.")
    else:
        moved = (f"The interpolation threshold, at {where(base)} in the chapter's sweep, is at "
                 f"{join([f'{where(s)} {at}' for at, s in changes])}.")

    def widest(at: str, s: dict) -> tuple[str, str]:
        change = shown_difference(s["widest_test_error"], base["widest_test_error"])
        kind = "lower" if change <= -CLEAR else "higher" if change >= CLEAR else "level"
        small = f", less than the {points(CLEAR)} counted as clear" if kind == "level" and change != 0 else ""
        against = relation(change, "the chapter's")
        return kind, f"{s['widest_test_error']:.1%} {at} ({against}{small})"

    kinds, said = zip(*[widest(at, s) for at, s in changes])
    text = (f"{moved} The widest model's test error, {base['widest_test_error']:.1%} in the chapter's sweep, is "
            f"{join(said)}.")
    if moved_alike and len(set(kinds)) > 1:
        text += (" The same move of the threshold comes with different widest models: where the threshold lies "
                 "does not, alone, tell how good the widest model is.")
    return text
