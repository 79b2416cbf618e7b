"""The book's findings on claims C1-C4 in one place: the two training chapters' verdicts, gathered from their runs.

Each training chapter answers the claims section by section, in one setting after another (another label-noise
rate, another draw of the data, another learning rate). This page sets those answers side by side, one table per
claim, and words each from its numbers as the chapters do (:data:`ddlib.prose.CLEAR`, differences of the printed
errors). It trains nothing of its own: :func:`gather` asks the chapters' own functions for their runs, which come from
the results store where the chapters ran first (and are trained where they did not, exactly as the chapters would).

- **C1** (:func:`c1_sentence`, beside the double-descent chapter's side-by-side table,
  :func:`ddlib.chapters.sweep_overview.overview_table`): in how many sweeps the width of
  highest test error near the interpolation threshold is a clear peak, and in how many the widest model, which fits
  its noisy labels, has the lowest test error (or ties it).
- **C2 and C3** (:func:`widest_rows`, :func:`widest_table`, :func:`c2_c3_sentence`): the widest teacher's
  ``hard_pool`` student against its teachers, ``direct`` and ``soft_kd_labeled``, in every setting the distillation
  chapter runs that comparison in.
- **C4** (:func:`c4_rows`, :func:`c4_table`, :func:`c4_sentence`): how the student follows its teachers across teacher
  widths, whether the teachers have a clear peak to follow, and what a larger pool does.

The page's last section gives the closed-form chapter's answers (:mod:`ddlib.chapters.closed_form_findings`).
"""
from __future__ import annotations

import pandas as pd

from ..presets import resolve
from ..config import config_hash
from ..prose import CLEAR, join, points, shown_difference
from . import anchor, direct_lengths, pool_passes, rate_curves, student_widths, teacher_peak, widest_variants
from . import distillation as kd
from . import double_descent as dd
from .sweep_overview import overview_rows

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
    and the distillation chapter's frame, student width, early-stopped ``direct`` and every study that repeats its comparison. Returns
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
    student_sweeps, more = student_widths.run_study(q, **kwargs)
    outcome = outcome.merge(more)
    passes, more = pool_passes.run_study(q, student_sweeps, **kwargs)
    outcome = outcome.merge(more)
    stopped = direct_lengths.numbers(lengths, kframe, summary, q) if lengths is not None else None
    return dict(params=q, sweeps=sweeps, frame=kframe, width=width, draws=draws, rates=rates,
                rule_widths=rule_widths, rule_frames=rule_frames, curves=curves, stopped=stopped, peaked=peaked,
                student_sweeps=student_sweeps, passes=passes, outcome=outcome)


# --- C1 -------------------------------------------------------------------------------------------------------------

def _of(k: int, n: int, things: str) -> str:
    """"k of the n things", or "the one thing" / "no thing" where n is 1."""
    if n == 1:
        return f"{'the one' if k else 'no'} {things.rstrip('s')}"
    return f"{k} of the {n} {things}"


def c1_sentence(sweeps: dict[str, dict]) -> str:
    """Over the double-descent chapter's sweeps (:func:`ddlib.chapters.sweep_overview.overview_rows`): how many reach
    the interpolation threshold, how many have a clear peak (:func:`ddlib.chapters.double_descent.clear_peak`) and
    which, and, for C1's second half, in how many the widest model fits its training labels and is not beaten by a
    narrower width (``best_widths``, ties as printed included), and in how many it beats every narrower width by at
    least :data:`ddlib.prose.CLEAR` (``runner_up_test_error``, the second-best width's error)."""
    n = len(sweeps)
    clear = [label for label, s in sweeps.items() if s["clear_peak"]]
    reach = [label for label, s in sweeps.items() if s["threshold_width"] is not None]
    unbeaten = [label for label, s in sweeps.items() if s["widest_width"] in s["best_widths"]
                and s["widest_train_error"] <= s["interpolation_tol"]]
    clearly = [label for label in unbeaten if _widest_lead(sweeps[label]) >= CLEAR]
    peaks = (f"a clear peak (at least {points(CLEAR)} above the best narrower width and above the widest) in "
             f"{_of(len(clear), n, 'sweeps')}" + (f": {join(clear)}" if clear else ""))
    tied = [label for label in unbeaten if label not in clearly]
    return (f"The networks reach the interpolation threshold in {_of(len(reach), n, 'sweeps')}, and test error has "
            f"{peaks}. For C1's second half, the widest model fits its training labels and no narrower width has a "
            f"lower test error in {_of(len(unbeaten), n, 'sweeps')}; it beats every narrower width by at least "
            f"{points(CLEAR)} in {len(clearly)} of them"
            + (f", and only ties or leads by less in {join(tied)}" if tied else "") + ".")


def _widest_lead(s: dict) -> float:
    """How far the widest width's mean test error is below the next-best width's, as printed (``0`` where it ties)."""
    return shown_difference(s["runner_up_test_error"], s["widest_test_error"])


# --- C2 and C3 ------------------------------------------------------------------------------------------------------

def widest_rows(g: dict) -> dict[str, dict]:
    """``{setting: numbers}``: the widest teacher's comparison (:func:`ddlib.chapters.widest_variants.numbers`, and
    ``soft_kd_pool``'s mean error beside it) in the chapter's own runs and in each study that repeats the whole of it
    (other draws, other learning rates with the chapter's student width and with the rule's), each setting labelled by
    what it changes and its student width."""
    q, width = g["params"], g["width"]
    frames = {f"the chapter's: lr {q['lr']:g}, width {width}": g["frame"]}
    frames.update({f"draw {r}, width {width}": f for r, f in sorted(g["draws"].items())})
    for lr, f in sorted(g["rates"].items()):
        frames[f"lr {lr:g}, width {width}"] = f
        if lr in g["rule_frames"]:
            frames[f"lr {lr:g}, width {g['rule_widths'][lr]} (the rule's)"] = g["rule_frames"][lr]
    widest = max(q["teacher_widths"])
    return {label: dict(widest_variants.numbers(f, q), soft_kd_pool=kd.mean_error(
        kd.paired(f, q), "soft_kd_pool", widest, q["pool_size"])) for label, f in frames.items()}


def _gap(a: float, b: float) -> float:
    """``a - b`` as printed, in points (one decimal)."""
    return round(100 * shown_difference(a, b), 1)


def widest_table(rows: dict[str, dict]) -> pd.DataFrame:
    """One column per setting (:func:`widest_rows`), one row for each of: the mean test errors (per cent) of the widest
    teacher, its ``hard_pool`` student and the other students, the student's distance to its teachers and its gains
    over ``direct`` and ``soft_kd_labeled`` (points, as printed), and on how many seeds it beats each of those two,
    with the standard error of the seed-paired gain."""
    def seeds(n, m):
        se = n[f"gain_se_{m}"]
        return (f"{n[f'seeds_beating_{m}']} of {n[f'seeds_compared_{m}']}"
                + (f" (SE {100 * se:.1f})" if se == se else ""))
    table = pd.DataFrame({
        "teacher (%)": [round(100 * n["teacher"], 1) for n in rows.values()],
        "hard_pool (%)": [round(100 * n["hard_pool"], 1) for n in rows.values()],
        "soft_kd_pool (%)": [round(100 * n["soft_kd_pool"], 1) for n in rows.values()],
        "direct (%)": [round(100 * n["direct"], 1) for n in rows.values()],
        "soft_kd_labeled (%)": [round(100 * n["soft_kd_labeled"], 1) for n in rows.values()],
        "hard_pool - teacher (points)": [_gap(n["hard_pool"], n["teacher"]) for n in rows.values()],
        "gain over direct (points)": [_gap(n["direct"], n["hard_pool"]) for n in rows.values()],
        "gain over soft_kd_labeled (points)": [_gap(n["soft_kd_labeled"], n["hard_pool"]) for n in rows.values()],
        "seeds beating direct (SE of gain)": [seeds(n, "direct") for n in rows.values()],
        "seeds beating soft_kd_labeled (SE of gain)": [seeds(n, "soft_kd_labeled") for n in rows.values()],
    }, index=list(rows)).T  # one column per setting, as the distillation chapter's tables have
    table.columns.name = "setting"
    return table


def c2_c3_sentence(rows: dict[str, dict], stopped: dict | None) -> str:
    """Over the settings of :func:`widest_rows` (where the student ran): C2, in how many the student is close to its
    teachers (less than :data:`ddlib.chapters.distillation.CLOSE_TO_TEACHER`) and clearly better than them (by at
    least ``CLEAR``); C3, in how many it beats ``direct`` and ``soft_kd_labeled`` by at least ``CLEAR``, naming the
    settings where it does not, and whether it beat them on every seed; whether soft targets on the same pool do as
    well (the gain then comes from the pool); then the early-stopped ``direct`` of the chapter's rate (``stopped``:
    :func:`ddlib.chapters.direct_lengths.numbers`). Settings at one learning rate share their teachers."""
    rows = {label: r for label, r in rows.items() if r["hard_pool"] == r["hard_pool"]}
    n = len(rows)
    if not n:
        return "No setting here has a `hard_pool` student, so C2 and C3 are not tested."
    gaps = {label: shown_difference(r["hard_pool"], r["teacher"]) for label, r in rows.items()}
    close = [label for label, gap in gaps.items() if abs(gap) < kd.CLOSE_TO_TEACHER]
    better = [label for label, gap in gaps.items() if gap <= -CLEAR]
    c2 = (f"C2: the widest teacher's `hard_pool` student is within {points(kd.CLOSE_TO_TEACHER)} of its teachers in "
          f"{_of(len(close), n, 'settings')}, and at least {points(CLEAR)} better than them in {len(better)}"
          + (f": {'; '.join(better)}" if better else "") + ".")
    said, every_seed = [], True
    for m in ("direct", "soft_kd_labeled"):
        gains = {label: shown_difference(r[m], r["hard_pool"]) for label, r in rows.items() if r[m] == r[m]}
        if not gains:
            continue
        short = [label for label, g in gains.items() if g < CLEAR]
        said.append(f"`{m}` in {_of(len(gains) - len(short), len(gains), 'settings')}"
                    + (f" (not in {join(f'{label}, where it gains {points(gains[label])}' for label in short)})"
                       if short else ""))
        every_seed &= all(rows[label][f"seeds_beating_{m}"] == rows[label][f"seeds_compared_{m}"] for label in gains)
    c3 = ""
    if said:
        c3 = (f" C3: it beats {' and '.join(said)}, by at least {points(CLEAR)}"
              + (", and it has the lower error on every seed of every setting" if every_seed else "") + ".")
    pooled = [label for label, r in rows.items() if r["soft_kd_pool"] == r["soft_kd_pool"]]
    if pooled:
        level = [label for label in pooled if abs(shown_difference(rows[label]["soft_kd_pool"],
                                                                   rows[label]["hard_pool"])) < CLEAR]
        c3 += (f" Soft targets on the same pool (`soft_kd_pool`) come within {points(CLEAR)} of it in "
               f"{_of(len(level), len(pooled), 'settings')}"
               + (": there the gain over `soft_kd_labeled` comes from the pool, not from the hard labels."
                  if level else "."))
    if stopped is not None:
        gain = shown_difference(stopped["stopped"], stopped["hard_pool"])
        versus = (f"still beats it by {points(gain)}" if gain >= CLEAR else f"is {points(-gain)} worse than it"
                  if gain <= -CLEAR else f"is within the {points(CLEAR)} counted as clear of it")
        c3 += (f" Stopped early on the validation set (at {stopped['chosen']} epochs), `direct` ends at "
               f"{stopped['stopped']:.1%} at the chapter's rate, and the student {versus}.")
    return c2 + c3


def student_widths_sentence(g: dict) -> str:
    """The distillation chapter's students of every width (:mod:`ddlib.chapters.student_widths`), one line per
    label-noise rate (:func:`ddlib.chapters.student_widths.short_sentence`), or that the study is off; then the
    pool's size against passes (:func:`ddlib.chapters.pool_passes.short_sentence`) where it ran."""
    q = g["params"]
    if not g["student_sweeps"]:
        return "That study is not run at this preset (its `student_sweep_noise` is empty)."
    numbers = [student_widths.numbers(frame, q, rate) for rate, frame in g["student_sweeps"].items()]
    text = " ".join(student_widths.short_sentence(n) for n in numbers)
    lines = [pool_passes.short_sentence(n) for n in pool_passes.all_numbers(g["passes"], q).values()]
    separated = " ".join(line for line in lines if line)
    if not separated:
        return text
    passes = numbers[0]["passes"]  # the same at every rate
    return (f"{text} The {q['pool_size']:,}-input pool's students there also make fewer passes over it "
            f"({passes['hard_pool']:.1f}) than `direct` over the labeled set ({passes['direct']:.0f}); the "
            f"distillation chapter's {{ref}}`study of pool size against passes <kd-pool-passes>` separates the two. "
            f"{separated}")


# --- C4 -------------------------------------------------------------------------------------------------------------

def c4_rows(g: dict) -> dict[str, dict]:
    """``{setting: numbers}`` of how the ``hard_pool`` student follows its teachers across teacher widths: at the
    chapter's rate and at each other rate, and at each label-noise rate of the peaked teachers' study. Each is
    :func:`ddlib.chapters.teacher_peak.numbers` on the setting's teachers (its whole sweep, read by the double-descent
    chapter's rule: the width of highest error near the threshold, ``peak_width``, against the best narrower one,
    ``narrow_width``; its ``compared`` says whether their students, and the widest teacher's, were distilled: only
    then are ``student_bump`` and the students' inheritance read) and main-pool students, with ``distilled`` (the
    teacher widths with students) and ``pool``: the widest teacher's student on the smallest and the largest pool of the pool-size study
    (``(error, error, size, size)``, ``None`` where none ran)."""
    q, width = g["params"], g["width"]
    settings = [(f"the chapter's: lr {q['lr']:g}, width {width}", g["frame"], q)]
    for lr, f in sorted(g["curves"].items()):
        w = rate_curves.curve_width(width, g["rule_widths"], lr)
        settings.append((f"lr {lr:g}, width {w}", f, rate_curves.rate_params(q, lr, width, g["rule_widths"])))
    settings += [(f"{100 * rate:g}% label noise, width {width}", f, dict(q, label_noise=rate))
                 for rate, f in sorted(g["peaked"].items())]
    rows = {}
    for label, frame, params in settings:
        keep = (frame["method"] == "teacher") | ((frame["method"] == "hard_pool")
                                                 & (frame["pool_size"] == params["pool_size"]))
        n = teacher_peak.numbers(frame[keep], params, params["label_noise"])
        distilled = sorted(int(w) for w in n["student"])
        curve = rate_curves.pool_curve(kd.paired(frame, params), params, distilled[-1]) if distilled else {}
        ends = (curve[min(curve)], curve[max(curve)], min(curve), max(curve)) if len(curve) > 1 else None
        rows[label] = dict(n, distilled=distilled,
                           pool=ends if ends and ends[0] == ends[0] and ends[1] == ends[1] else None)
    return rows


def c4_table(rows: dict[str, dict]) -> pd.DataFrame:
    """One column per setting (:func:`c4_rows`), as in the C2 and C3 table."""
    def widths(r):
        d = r["distilled"]
        return f"{len(d)} ({d[0]} to {d[-1]})" if len(d) > 1 else (f"1 ({d[0]})" if d else "none")

    def bump(r, key):
        return f"{100 * r[key]:+.1f}" if r.get(key) is not None and (key == "teacher_bump" or r["compared"]) else "–"

    def pool(r):
        small, large, n_small, n_large = r["pool"]
        return f"{100 * small:.1f} on {n_small:,}, {100 * large:.1f} on {n_large:,}"
    table = pd.DataFrame({
        "distilled teacher widths": [widths(r) for r in rows.values()],
        "correlation, teacher and student": [f"{r['correlation']:.2f}" if r["correlation"] == r["correlation"]
                                             else "– (fewer than 3 widths)" for r in rows.values()],
        "highest near threshold over best narrower (widths)": [
            f"{r['peak_width']} over {r['narrow_width']}" if r["narrow_width"] is not None else "no narrower width"
            for r in rows.values()],
        "teachers there (points)": [bump(r, "teacher_bump") for r in rows.values()],
        "students there (points)": [bump(r, "student_bump") for r in rows.values()],
        "clear peak": ["yes" if r["clear_peak"] else "no" for r in rows.values()],
        "widest teacher's student by pool size (%)": [pool(r) if r["pool"] else "not run" for r in rows.values()],
    }, index=list(rows)).T
    table.columns.name = "setting"
    return table


def c4_sentence(rows: dict[str, dict]) -> str:
    """Where the teachers' curve has a clear peak (:func:`c4_rows`), how the students follow it
    (:func:`ddlib.chapters.teacher_peak.inheritance`, with the seed-paired standard error of their rise); where it
    has none, that the correlation, whatever its value, only says a better teacher makes a better student; and in
    how many settings a larger pool lowers the error of the widest teacher's student (by at least
    :data:`ddlib.chapters.distillation.MARGIN`)."""
    said = []
    for label, r in rows.items():
        if not r["clear_peak"]:
            continue
        if not r["compared"]:
            said.append(f"At {label}, the teachers' curve has a clear peak (width {r['peak_width']} over "
                        f"{r['narrow_width']}), but not both of those widths were distilled, so no students compare.")
            continue
        kind = teacher_peak.inheritance(r)
        rise = (f"the students of the peak's teachers are {points(r['student_bump'])} "
                f"{'worse' if r['student_bump'] > 0 else 'better'} than those of the best narrower teacher"
                + (f" (standard error of the seed-paired difference {points(r['bump_se'])}; higher on "
                   f"{r['bump_positive']} of {len(r['bump_seeds'])} seeds)" if len(r["bump_seeds"]) > 1 else ""))
        words = {"inherits": "they inherit the peak, coming back down at the widest teacher",
                 "no fall": "they rise with it but do not come back down, so that is not the teacher's peak",
                 "part": f"they keep part of it, less than the {points(CLEAR)} counted as clear",
                 "none": "they do not inherit it"}[kind]
        said.append(f"At {label}, the teachers' curve has a clear peak ({points(r['teacher_bump'])}): {rise}, so "
                    f"{words}.")
    flat = [label for label, r in rows.items() if not r["clear_peak"]]
    if flat:
        said.append(f"In {'the other' if said else 'every'} setting{'s' if len(flat) > 1 else ''} "
                    f"({'; '.join(flat)}) the teachers' curve has no clear peak, so the correlation there, whatever "
                    f"its value, says only that a better teacher makes a better student.")
    pools = {label: r["pool"] for label, r in rows.items() if r["pool"]}
    if pools:
        helps = [label for label, (small, large, _, _) in pools.items() if shown_difference(small, large) >= kd.MARGIN]
        said.append(f"A larger pool, at the same number of steps, lowers the error of the widest teacher's student (by "
                    f"at least {points(kd.MARGIN)}) in {_of(len(helps), len(pools), 'settings')} where the pool size "
                    f"was varied.")
    return " ".join(said)
