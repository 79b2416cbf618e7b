"""Claim C4 against a teacher curve with a peak: students of every width of the double-descent chapter's sweep at the
label-noise rates of ``peak_study_noise``.

Where the chapter's own teachers (its label noise) show no clear peak near the interpolation threshold, a
correlation between student and teacher errors over their widths says only that a better teacher gives a better
student. Nakkiran et al. (2019) find the peak higher at more label noise, and the double-descent chapter's noise
study (``noise_study``) runs the sweep at other rates. Here every width of that sweep teaches a ``hard_pool``
student of the chapter's width, on the chapter's pool, seeds and steps, and ``direct`` trains that student on the
same noisy labeled set; only the label noise differs from the chapter's main comparison. The teachers are that
study's runs (reused from the store where the double-descent chapter ran first).

Does the student inherit the teacher's peak? Cotter et al. (2021) argue that a large teacher-labeled pool lets the
*student* escape its own overfitting, but a student fitted closely to a teacher's labels may copy the
teacher's errors, and with them its peak; :func:`sentence` says which it does, from the peak
teacher's student against the student of the best narrower teacher (the teachers' own rule,
:func:`ddlib.chapters.double_descent.summarize`, on their test errors: this study describes, it chooses nothing).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import book
from ..prose import CLEAR, plural, points, relation, shown_difference
from ..runner import SweepOutcome
from . import distillation as kd
from . import double_descent as dd

#: The students of this study: the paper's method and, where ``methods`` has it, the no-teacher baseline.
STUDY_METHODS = ("hard_pool", "direct")


def study_params(p: dict) -> list[tuple[float, dict]]:
    """``(rate, parameters)`` for each label-noise rate of ``p["peak_study_noise"]``: the chapter's parameters at that
    rate (none where the list is empty)."""
    return [(float(rate), dict(p, label_noise=float(rate))) for rate in p.get("peak_study_noise", [])]


def study_configs(p: dict, width: int) -> list[tuple[float, dict, list, list]]:
    """``(rate, q, teachers, students)`` for each rate of the study: its parameters ``q``, every width of the sweep at
    that rate on the student seeds, and their students of width ``width``."""
    methods = [m for m in STUDY_METHODS if m in p["methods"]]
    return [(rate, q, [dd.run_config(q, w, s) for w in q["widths"] for s in p["student_seeds"]],
             kd.student_configs(q, width, q["widths"], [p["pool_size"]], methods)) for rate, q in study_params(p)]


def run_study(p: dict, width: int, **kwargs) -> tuple[dict[float, pd.DataFrame], SweepOutcome]:
    """Run (or reuse) :func:`study_configs`; each rate's frame (rows as :func:`ddlib.chapters.distillation.run`'s) is
    written to ``results-peak-noise-<rate>.csv`` beside the chapter's table, with its parameters beside it
    (:func:`ddlib.chapters.distillation.run_studies`). Returns ``{rate: frame}`` (empty where the study is off) and
    all the runs as one outcome."""
    return kd.run_studies(p, study_configs(p, width), "results-peak-noise-{:g}.csv", **kwargs)


def sentences(frames: dict[float, pd.DataFrame], p: dict, width: int) -> str:
    """:func:`sentence` for every rate of the study, one paragraph each (or why there is none)."""
    if not frames:
        return "No such study was run here (`peak_study_noise` is empty)."
    return "\n\n".join(sentence(numbers(frame, p, rate), width, p["pool_size"]) for rate, frame in frames.items())


def numbers(frame: pd.DataFrame, p: dict, rate: float) -> dict:
    """What :func:`sentence` says, from the study's ``frame`` at label-noise rate ``rate``.

    The teachers' curve is summarised by :func:`ddlib.chapters.double_descent.summarize` (over the student seeds):
    ``peak_width`` and ``best_narrower_width``. ``teacher_bump`` and ``student_bump`` are the error at the peak
    width's teacher minus the error at the best narrower width's, for the teachers and for their ``hard_pool``
    students (as printed, :func:`ddlib.prose.shown_difference`). ``bump_seeds``: per student seed, the student bump
    of that seed (its peak teacher's student minus its narrower teacher's student); ``bump_mean`` and ``bump_se``
    their mean and standard error (``std / sqrt(n)``, ``nan`` for one seed), ``bump_positive`` how many are above
    zero. ``student_peak_over_widest``: the peak width's students minus the widest teacher's (as printed), so that
    a student curve that keeps rising past the peak is not called a peak. ``agreement_at_peak``: how often the peak
    teachers' students give their teacher's label on the test inputs. ``correlation``: Pearson's r between teacher
    and student mean errors over the teacher widths (``nan`` below three widths). ``compared``: whether the peak's,
    the best narrower and the widest teachers all have students; the student numbers are there only where they do
    (the teachers' curve may have widths that were not distilled)."""
    teachers = frame[(frame["method"] == "teacher") & frame["seed"].isin(p["student_seeds"])]
    curve = dd.summarize(teachers.assign(width=teachers["teacher_width"], params=0))
    students = frame[frame["method"] == "hard_pool"]
    t_mean = teachers.groupby("teacher_width")["test_error"].mean()
    s_mean = students.groupby("teacher_width")["test_error"].mean()
    peak, narrow = curve["peak_width"], curve["best_narrower_width"]
    out = dict(rate=float(rate), peak_width=peak, narrow_width=narrow, clear_peak=curve["clear_peak"],
               widest=int(t_mean.index.max()), teacher=t_mean.to_dict(), student=s_mean.to_dict(),
               n_seeds=int(students["seed"].nunique()), n_widths=len(t_mean),
               direct=kd.mean_error(frame, "direct"))
    both = pd.concat([t_mean, s_mean], axis=1, keys=["t", "s"]).dropna()
    out["correlation"] = float(np.corrcoef(both["t"], both["s"])[0, 1]) if len(both) >= 3 else float("nan")
    out["compared"] = narrow is not None and {peak, narrow, out["widest"]} <= set(s_mean.index)
    if narrow is None:
        return out
    out["teacher_bump"] = shown_difference(t_mean[peak], t_mean[narrow])
    if not out["compared"]:  # the peak's, the narrower or the widest teachers were not all distilled
        return out
    by_seed = students.pivot_table(index="seed", columns="teacher_width", values="test_error")
    bumps = (by_seed[peak] - by_seed[narrow]).dropna()
    at_peak = students[students["teacher_width"] == peak]
    out.update(student_bump=shown_difference(s_mean[peak], s_mean[narrow]),
               student_peak_over_widest=shown_difference(s_mean[peak], s_mean[out["widest"]]),
               agreement_at_peak=float(at_peak["agreement"].mean()) if "agreement" in at_peak else float("nan"),
               bump_seeds=bumps.tolist(), bump_mean=float(bumps.mean()), bump_positive=int((bumps > 0).sum()),
               bump_se=kd.standard_error(bumps))
    return out


def inheritance(n: dict) -> str:
    """How the students follow the teachers' peak (:func:`numbers`, at the peak width against the best narrower one,
    differences as printed): ``"inherits"`` where their error rises by at least :data:`ddlib.prose.CLEAR` too and
    comes back down by at least that much at the widest teacher (or the peak is the widest); ``"no fall"`` where it
    rises that much but does not come back down; ``"part"`` where it rises by less; ``"none"`` where it does not
    rise."""
    sb = n["student_bump"]
    if sb >= CLEAR:
        return "inherits" if n["student_peak_over_widest"] >= CLEAR or n["peak_width"] == n["widest"] else "no fall"
    return "part" if sb > 0 else "none"


def sentence(n: dict, width: int, pool_size: int) -> str:
    """The study in words: the teachers' peak (or its absence), the students' errors at the peak and the best narrower
    teacher width, the seed-paired bump with its standard error, the correlation over widths, and what that says of
    claim C4. Words that call a difference clear use :data:`ddlib.prose.CLEAR` on the printed errors."""
    t, s, peak, narrow = n["teacher"], n["student"], n["peak_width"], n["narrow_width"]
    head = (f"At label noise {n['rate']:.0%} (the chapter's {plural(n['n_seeds'], 'student seed')}, pool of "
            f"{pool_size:,} and student width {width})")
    if narrow is None:
        return (f"{head}, the teachers' highest error near the interpolation threshold is at their narrowest width "
                f"({peak}), so there is no narrower teacher to hold a peak against and this run cannot test whether "
                f"the student inherits one.")
    if not n["compared"]:
        return (f"{head}, the teachers' highest error near the interpolation threshold is at width {peak}, against "
                f"width {narrow}, but not both of those widths and the widest were distilled, so the students are not "
                f"compared.")
    tb, sb = n["teacher_bump"], n["student_bump"]
    narrower = f"width {narrow}'s"
    text = (f"{head}, the teachers' curve has {'a clear peak' if n['clear_peak'] else 'no clear peak'}: width "
            f"{peak}'s teachers are at {t[peak]:.1%}, {relation(tb, f'{narrower} ({t[narrow]:.1%})')}. Their "
            f"`hard_pool` students end at {s[peak]:.1%} and {s[narrow]:.1%}: the students of width {peak}'s teachers "
            f"are {relation(sb, narrower)}")
    if len(n["bump_seeds"]) > 1:
        text += (f" (standard error of the seed-paired difference {points(n['bump_se'])}; higher on "
                 f"{n['bump_positive']} of {len(n['bump_seeds'])} seeds)")
    text += "."
    r = n["correlation"]
    if r == r:
        text += (f" Over all {n['n_widths']} teacher widths the students' errors follow the teachers' with "
                 f"correlation {r:.2f}.")
    if not n["clear_peak"]:
        return text + " Without a clear teacher peak at this rate either, this run cannot test whether a student inherits one."
    kind = inheritance(n)
    if kind == "inherits":
        verdict = (" The student inherits the teacher's peak, so C4's \"tracks the teacher's double-descent curve\" "
                   "holds here, peak included")
        se = n["bump_se"]
        if se == se and n["bump_mean"] < 2 * se:
            verdict += f", though the rise is only {n['bump_mean'] / se:.1f} standard errors from zero"
        agreement = n["agreement_at_peak"]
        verdict += (f". The peak teachers' students give their teacher's label on {agreement:.1%} of the test inputs."
                    if agreement == agreement else ".")
    elif kind == "no fall":
        verdict = (f" The students rise with the teachers but do not come back down: the widest teachers' students "
                   f"are only {points(n['student_peak_over_widest'])} below the peak teachers', less than the "
                   f"{points(CLEAR)} counted here as clear, so this is not the teacher's peak.")
    elif kind == "part":
        verdict = (f" The student keeps part of the teacher's peak ({points(sb)} of its {points(tb)}), less than the "
                   f"{points(CLEAR)} counted here as clear.")
    else:
        verdict = (" The student does not inherit the teacher's peak: distilled on the pool, the peak teachers' "
                   "labels teach as well as the narrower teachers'.")
    direct = n["direct"]
    if direct == direct:
        verdict += (f" `direct` at this noise rate ends at {direct:.1%}: the students of width {peak}'s teachers are "
                    f"{relation(shown_difference(s[peak], direct), 'it')}, those of the widest teachers "
                    f"{relation(shown_difference(s[n['widest']], direct), 'it')}.")
    return text + verdict


def plot(frame: pd.DataFrame, p: dict, width: int, rate: float):
    """Teacher and ``hard_pool`` student test error (per cent, mean ± standard error over the student seeds) against
    teacher width at label-noise rate ``rate``, ``direct`` as a dashed line."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    f = frame[frame["method"].isin(["teacher", "hard_pool"]) & frame["seed"].isin(p["student_seeds"])]
    f = f.assign(curve=f["method"].map({"teacher": "teacher", "hard_pool": f"hard_pool student (width {width})"}))
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    sns.lineplot(data=f, x="teacher_width", y="test_error", hue="curve", style="curve", markers=True, dashes=False,
                 errorbar="se", err_style="bars", ax=ax)
    direct = frame.loc[frame["method"] == "direct", "test_error"]
    if len(direct):
        ax.axhline(direct.mean(), color="black", ls="--", lw=1.2, label=f"direct (width {width}, no teacher)")
    ax.set_xscale("log", base=2)
    book.label_log_axis(ax, f["teacher_width"])
    book.percent_axis(ax)
    ax.set_xlabel("teacher width (log scale)")
    ax.set_ylabel("test error (clean labels)")
    ax.set_title(f"Students of teachers trained at {rate:.0%} label noise")
    ax.legend(title=None, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize="small")
    fig.tight_layout()
    return fig
