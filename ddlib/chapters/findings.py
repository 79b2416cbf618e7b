"""The book's findings on claims C1-C4 in one place: the two training chapters' verdicts, gathered from their runs.

Each training chapter answers the claims section by section, in one setting after another (another label-noise
rate, another draw of the data, another learning rate). This page sets those answers side by side, one table per
claim, and words each from its numbers as the chapters do (:data:`ddlib.prose.CLEAR`, differences of the printed
errors). It trains nothing of its own: :func:`gather` asks the chapters' own functions for their runs, which come from
the results store where the chapters ran first (and are trained where they did not, exactly as the chapters would).

- **C1** (:func:`c1_sentence`, the double-descent chapter's side-by-side table): in how many sweeps the width of
  highest test error near the interpolation threshold is a clear peak, and in how many the widest model, which fits
  its noisy labels, has the lowest test error (or ties it).
- **C2 and C3** (:func:`widest_rows`, :func:`widest_table`, :func:`c2_c3_sentence`): the widest teacher's
  ``hard_pool`` student against its teachers, ``direct`` and ``soft_kd_labeled``, in every setting the distillation
  chapter runs that comparison in.
- **C4** (:func:`c4_rows`, :func:`c4_table`, :func:`c4_sentence`): how the student follows its teachers across teacher
  widths, whether the teachers have a clear peak to follow, and what a larger pool does.
"""
from __future__ import annotations

import pandas as pd

from ..presets import resolve
from ..config import config_hash
from ..prose import CLEAR, join, plural, points, shown_difference
from . import anchor, direct_lengths, rate_curves, teacher_peak, widest_variants
from . import distillation as kd
from . import double_descent as dd
from .sweep_overview import overview_rows, overview_table

CHAPTER = "findings"

#: The page runs each training chapter at the same preset; it takes no other parameter (the chapters take them).
PRESETS = {name: {} for name in kd.PRESETS}


def resolve_params(preset: str = "default", check_injected: bool = False, **overrides) -> dict:
    """``{"preset": preset}``, the preset checked (:func:`ddlib.presets.resolve`): any other parameter is refused, as
    this page only gathers what the chapters ran at that preset."""
    return resolve(CHAPTER, PRESETS, preset, overrides, None, check_injected)


def planned_configs(p: dict, store=None) -> list:
    """Every run the page reads: the two chapters' (:func:`ddlib.chapters.double_descent.planned_configs`,
    :func:`ddlib.chapters.distillation.planned_configs`) at its preset but the published anchor's, which no claim's
    table reads; trains nothing."""
    dp = dd.resolve_params(p["preset"])
    anchored = {config_hash(c) for _, _, c in anchor.plan(dp)}
    return ([c for c in dd.planned_configs(dp, store) if config_hash(c) not in anchored]
            + kd.planned_configs(kd.resolve_params(p["preset"]), store))


def gather(p: dict, **kwargs) -> dict:
    """Run (or reuse) what the verdicts read, through the chapters' own functions at preset ``p["preset"]``: the
    double-descent sweep and its studies' summaries (``sweeps``: :func:`ddlib.chapters.sweep_overview.overview_rows`),
    and the distillation chapter's frame, summary, student width and every study that repeats its comparison. Returns
    a dict of them, with ``outcome``, every run counted once."""
    dp, q = dd.resolve_params(p["preset"]), kd.resolve_params(p["preset"])
    frame, outcome = dd.run(dp, **kwargs)
    studies = {}
    for name, run in (("noise", dd.run_noise_study), ("epochs", dd.run_epochs_study), ("draws", dd.run_redraws),
                      ("lrs", dd.run_lr_study)):
        frames, more = run(dp, **kwargs)
        studies[name] = {key: dd.summarize(f) for key, f in frames.items()}
        outcome = outcome.merge(more)
    sweeps = overview_rows(dd.summarize(frame), studies["noise"], studies["epochs"], studies["draws"], studies["lrs"])
    kframe, teachers, more = kd.run(q, **kwargs)
    outcome = outcome.merge(more)
    summary, width = kd.summarize(kframe, teachers, q), teachers["student_width"]
    draws, more = widest_variants.run_redraws(q, width, **kwargs)
    outcome = outcome.merge(more)
    rates, more = widest_variants.run_lr_study(q, width, **kwargs)
    outcome = outcome.merge(more)
    rule_widths, rule_frames, more = widest_variants.run_rule_widths(q, width, **kwargs)
    outcome = outcome.merge(more)
    curves, more = rate_curves.run_curves(q, width, rule_widths, **kwargs)
    outcome = outcome.merge(more)
    lengths, more = direct_lengths.run_lengths(q, width, **kwargs)
    outcome = outcome.merge(more)
    peaked, more = teacher_peak.run_study(q, width, **kwargs)
    outcome = outcome.merge(more)
    stopped = direct_lengths.numbers(lengths, kframe, summary, q) if lengths is not None else None
    return dict(params=q, sweeps=sweeps, frame=kframe, summary=summary, width=width, draws=draws, rates=rates,
                rule_widths=rule_widths, rule_frames=rule_frames, curves=curves, stopped=stopped, peaked=peaked,
                outcome=outcome)


# --- C1 -------------------------------------------------------------------------------------------------------------

def c1_sentence(sweeps: dict[str, dict]) -> str:
    """Over the double-descent chapter's sweeps (:func:`ddlib.chapters.sweep_overview.overview_rows`): how many have a
    clear peak (:func:`ddlib.chapters.double_descent.clear_peak`) and which, how many reach the interpolation
    threshold, and in how many the widest model fits its noisy labels and has the lowest test error, or ties it as
    printed (``best_widths``)."""
    n = len(sweeps)
    clear = [label for label, s in sweeps.items() if s["clear_peak"]]
    reach = [label for label, s in sweeps.items() if s["threshold_width"] is not None]
    best = [label for label, s in sweeps.items() if s["widest_width"] in s["best_widths"]
            and s["widest_train_error"] <= s["interpolation_tol"]]
    peaks = (f"a clear peak (at least {points(CLEAR)} above the best narrower width and above the widest) in "
             f"{len(clear)} of the {n} sweeps" + (f" ({join(clear)})" if clear else ""))
    fits = (f"the widest model fits its noisy labels and has the lowest test error of its sweep, or ties it as "
            f"printed, in {len(best)} of the {n}")
    return (f"The networks reach the interpolation threshold in {len(reach)} of the {n} sweeps; test error has "
            f"{peaks}; {fits}. The second half of C1, a very wide model that interpolates noisy labels and still "
            f"does better than narrower ones, is what the distillation chapter builds on: "
            + ("it holds in every sweep here." if len(best) == n else
               f"it holds in {len(best)} of them here, not in {join([s for s in sweeps if s not in best])}."))


def c1_table(sweeps: dict[str, dict]) -> pd.DataFrame:
    """The double-descent chapter's side-by-side table (:func:`ddlib.chapters.sweep_overview.overview_table`)."""
    return overview_table(sweeps)


# --- C2 and C3 ------------------------------------------------------------------------------------------------------

def widest_rows(g: dict) -> dict[str, dict]:
    """``{setting: numbers}``: the widest teacher's comparison (:func:`ddlib.chapters.widest_variants.numbers`) in the
    chapter's own runs and in each study that repeats it (other draws, other learning rates with the chapter's
    student width and with the rule's), each setting labelled by what it changes and its student width ("width")."""
    q, width = g["params"], g["width"]
    rows = {f"the chapter's: lr {q['lr']:g}, width {width}": widest_variants.numbers(g["frame"], q)}
    rows.update({f"draw {r}, width {width}": widest_variants.numbers(f, q) for r, f in sorted(g["draws"].items())})
    for lr, f in sorted(g["rates"].items()):
        rows[f"lr {lr:g}, width {width}"] = widest_variants.numbers(f, q)
        if lr in g["rule_frames"]:
            rows[f"lr {lr:g}, width {g['rule_widths'][lr]} (the rule's)"] = widest_variants.numbers(g["rule_frames"][lr], q)
    return rows


def _gap(a: float, b: float) -> float:
    """``a - b`` as printed, in points (one decimal)."""
    return round(100 * shown_difference(a, b), 1)


def widest_table(rows: dict[str, dict]) -> pd.DataFrame:
    """One column per setting (:func:`widest_rows`), one row for each of: the mean test errors (per cent) of the widest
    teacher, its ``hard_pool`` student, ``direct`` and ``soft_kd_labeled``, the student's distance to its teachers and
    its gains over the two baselines (points, as printed), and on how many seeds it beats each baseline."""
    table = pd.DataFrame({
        "teacher (%)": [round(100 * n["teacher"], 1) for n in rows.values()],
        "hard_pool (%)": [round(100 * n["hard_pool"], 1) for n in rows.values()],
        "direct (%)": [round(100 * n["direct"], 1) for n in rows.values()],
        "soft_kd_labeled (%)": [round(100 * n["soft_kd_labeled"], 1) for n in rows.values()],
        "hard_pool - teacher (points)": [_gap(n["hard_pool"], n["teacher"]) for n in rows.values()],
        "gain over direct (points)": [_gap(n["direct"], n["hard_pool"]) for n in rows.values()],
        "gain over soft_kd_labeled (points)": [_gap(n["soft_kd_labeled"], n["hard_pool"]) for n in rows.values()],
        "seeds beating direct / soft_kd_labeled": [
            f"{n['seeds_beating_direct']} of {n['seeds_compared_direct']} / "
            f"{n['seeds_beating_soft_kd_labeled']} of {n['seeds_compared_soft_kd_labeled']}" for n in rows.values()],
    }, index=list(rows)).T  # one column per setting, as the distillation chapter's tables have
    table.columns.name = "setting"
    return table


def c2_c3_sentence(rows: dict[str, dict], stopped: dict | None) -> str:
    """Over the settings of :func:`widest_rows`: in how many the student is close to its teachers (less than
    :data:`ddlib.chapters.distillation.CLOSE_TO_TEACHER`, C2) and clearly better than them (by at least ``CLEAR``), and
    in how many it beats ``direct`` and ``soft_kd_labeled`` by at least ``CLEAR`` (C3), with the smallest such gain;
    then the early-stopped ``direct`` of the chapter's rate (``stopped``: :func:`ddlib.chapters.direct_lengths.numbers`)."""
    n = len(rows)
    gaps = {label: shown_difference(r["hard_pool"], r["teacher"]) for label, r in rows.items()}
    close = [label for label, gap in gaps.items() if abs(gap) < kd.CLOSE_TO_TEACHER]
    better = [label for label, gap in gaps.items() if gap <= -CLEAR]
    c2 = (f"In {len(close)} of the {n} settings the widest teacher's `hard_pool` student is within "
          f"{points(kd.CLOSE_TO_TEACHER)} of its teachers (C2), and in {len(better)} it is at least {points(CLEAR)} "
          f"better than them" + (f": {'; '.join(better)}" if better else "") + ".")
    said = []
    for m in ("direct", "soft_kd_labeled"):
        gains = {label: shown_difference(r[m], r["hard_pool"]) for label, r in rows.items() if r[m] == r[m]}
        if not gains:
            continue
        beats = [label for label, g in gains.items() if g >= CLEAR]
        seeds = sum(r[f"seeds_beating_{m}"] for r in rows.values())
        compared = sum(r[f"seeds_compared_{m}"] for r in rows.values())
        said.append(f"`{m}` in {len(beats)} of the {len(gains)} (its smallest gain {points(min(gains.values()))}; "
                    f"lower error on {seeds} of the {compared} seed-paired comparisons)")
    c3 = f" It beats {' and '.join(said)}, by at least {points(CLEAR)} (C3)." if said else ""
    if stopped is not None:
        gain = shown_difference(stopped["stopped"], stopped["hard_pool"])
        versus = (f"still beats it by {points(gain)}" if gain >= CLEAR else f"is {points(-gain)} worse than it"
                  if gain <= -CLEAR else f"is within the {points(CLEAR)} counted as clear of it")
        c3 += (f" Stopped early on the validation set (at {stopped['chosen']} epochs), `direct` ends at "
               f"{stopped['stopped']:.1%} at the chapter's rate, and the student {versus}.")
    return c2 + c3


# --- C4 -------------------------------------------------------------------------------------------------------------

def _distilled(frame: pd.DataFrame, p: dict, widths: list[int]) -> pd.DataFrame:
    """The teachers and main-pool ``hard_pool`` students of ``frame`` at the distilled teacher ``widths`` only."""
    keep = frame["teacher_width"].isin(widths) & frame["method"].isin(["teacher", "hard_pool"])
    return frame[keep & frame["pool_size"].isin([0, p["pool_size"]])]


def c4_rows(g: dict) -> dict[str, dict]:
    """``{setting: numbers}`` of how the ``hard_pool`` student follows its teachers across teacher widths: at the
    chapter's rate and at each other rate (over the widths distilled there), and at each label-noise rate of the peaked
    teachers' study (every width of its sweep). Each is :func:`ddlib.chapters.teacher_peak.numbers` (the teachers'
    curve read by the double-descent chapter's rule: the width of highest error near the threshold, ``peak_width``,
    against the best narrower one, ``narrow_width``, ``teacher_bump`` and ``student_bump`` the teachers' and the
    students' error there minus at the narrower width, ``clear_peak``, and the ``correlation`` of the two curves),
    with ``pool``: the widest teacher's student on the smallest and the largest pool of the pool-size study
    (``(error, error, size, size)``, ``None`` where none ran)."""
    q, width = g["params"], g["width"]
    settings = [(f"the chapter's: lr {q['lr']:g}, width {width}", g["frame"], q)]
    for lr, f in sorted(g["curves"].items()):
        w = rate_curves.curve_width(width, g["rule_widths"], lr)
        settings.append((f"lr {lr:g}, width {w}", f, rate_curves.rate_params(q, lr, width, g["rule_widths"])))
    rows = {}
    for label, frame, params in settings:
        widths = sorted(set(params["teacher_widths"]))
        n = teacher_peak.numbers(_distilled(frame, params, widths), params, params["label_noise"])
        curve = rate_curves.curve_numbers(frame, params, widths)["pool_curve"]
        ends = (curve[min(curve)], curve[max(curve)], min(curve), max(curve)) if len(curve) > 1 else None
        rows[label] = dict(n, pool=ends if ends and ends[0] == ends[0] and ends[1] == ends[1] else None)
    for rate, frame in sorted(g["peaked"].items()):
        rows[f"{100 * rate:g}% label noise, width {width}"] = dict(teacher_peak.numbers(frame, q, rate), pool=None)
    return rows


def _bump(r: dict, key: str) -> str:
    """The teachers' (``key`` = ``teacher_bump``) or students' (``student_bump``) error at the peak width minus at the
    best narrower width, in points as printed, signed; blank where the curve has no narrower width."""
    return "" if r.get(key) is None else f"{100 * r[key]:+.1f}"


def c4_table(rows: dict[str, dict]) -> pd.DataFrame:
    """One row per setting (:func:`c4_rows`)."""
    def pool(r):
        small, large, n_small, n_large = r["pool"]
        return f"{100 * small:.1f} on {n_small:,}, {100 * large:.1f} on {n_large:,}"
    table = pd.DataFrame({
        "teacher widths": [f"{r['n_widths']} ({min(r['teacher']):.0f} to {max(r['teacher']):.0f})" for r in rows.values()],
        "correlation": [round(r["correlation"], 2) for r in rows.values()],
        "teachers' peak (width) over best narrower (width)": [
            f"{r['peak_width']} over {r['narrow_width']}" if r.get("narrow_width") is not None else "no narrower width"
            for r in rows.values()],
        "teachers there (points)": [_bump(r, "teacher_bump") for r in rows.values()],
        "students there (points)": [_bump(r, "student_bump") for r in rows.values()],
        "clear peak": ["yes" if r["clear_peak"] else "no" for r in rows.values()],
        "widest teacher's student by pool size (%)": [pool(r) if r["pool"] else "not run" for r in rows.values()],
    }, index=list(rows))
    table.index.name = "setting"
    return table


def c4_sentence(rows: dict[str, dict]) -> str:
    """Where the teachers' curve has a clear peak (:func:`c4_rows`), whether the students rise there too (by at least
    ``CLEAR``, as printed); where it has none, that a high correlation only says a better teacher makes a better
    student; and in how many settings a larger pool helps the widest teacher's student (by at least
    :data:`ddlib.chapters.distillation.MARGIN`)."""
    peaked = {label: r for label, r in rows.items() if r["clear_peak"]}
    followed = [label for label, r in peaked.items() if r["student_bump"] >= CLEAR]
    flat = [label for label in rows if label not in peaked]
    said = []
    if peaked:
        one = len(peaked) == 1
        said.append(f"The teachers' curve has a clear peak in {plural(len(peaked), 'setting')} ({'; '.join(peaked)}). "
                    + (f"There the students of the peak's teachers are at least {points(CLEAR)} worse than those of the "
                       f"best narrower teacher{'' if one else ' in every one of them'}: the students inherit the peak."
                       if len(followed) == len(peaked) else
                       f"The students of the peak's teachers are at least {points(CLEAR)} worse than those of the best "
                       f"narrower teacher in {len(followed)} of them: the students do not always inherit the peak."))
    if flat:
        which = (("the other setting" if len(flat) == 1 else f"the other {len(flat)} settings") if peaked else
                 ("its one setting" if len(flat) == 1 else f"all {len(flat)} settings"))
        said.append(f"In {which} the teachers' curve has no clear peak, so a high correlation there says only that a "
                    f"better teacher makes a better student.")
    pools = {label: r["pool"] for label, r in rows.items() if r["pool"]}
    helps = [label for label, (small, large, _, _) in pools.items() if shown_difference(small, large) >= kd.MARGIN]
    if pools:
        where = ("the one setting" if len(pools) == 1 else f"{len(helps)} of the {len(pools)} settings")
        verb = "lowers" if len(pools) > 1 or helps else "does not lower"
        said.append(f"A larger pool, at the same number of steps, {verb} the widest teacher's student's error in "
                    f"{where} where the pool size was varied.")
    return " ".join(said)
