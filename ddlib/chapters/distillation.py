"""Chapter "Hard-label distillation": every baseline, the teacher-width sweep, the pool-size study.

Teachers are the double-descent chapter's models (the same configs, so they are reused from the
store). Students have one fixed architecture; by default (``student_width="peak"``) the width that the
double-descent chapter's rule singles out, of highest error near the interpolation threshold for
models trained on the labeled set (:func:`ddlib.chapters.double_descent.summarize`), applied to the
sweep's errors on a validation set, not the test set (:mod:`ddlib.chapters.width_choice`). Where that
width is a clear peak, training on the labeled set does worse there than on either side (Cotter et
al. 2021 argue that a student trained on a large teacher-labeled pool escapes that peak because its
training set is large); :func:`student_choice` says what it is in a given run.

Each student seed distils the teacher of the same seed, so wherever a student is compared with a
teacher (:func:`summarize`, :func:`method_table`, :func:`plot_methods`) the teachers are averaged over
the student seeds only (:func:`paired`), not over every seed of the double-descent sweep.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import pandas as pd

from .. import book
from ..config import POOL_METHODS, TEACHER_METHODS, check_model_for_dataset
from ..data import CIFAR_TRAIN_SIZE, DATASET_SHAPES, DEFAULT_POOL_SEED, check_pool_seeds
from ..distill import STUDENT_METHODS, STUDENT_SEED_OFFSET, student_config
from ..models import MODELS
from ..paths import pool_npz_files
from ..presets import resolve
from ..prose import CLEAR, join, plural, points, relation, shown_difference
from ..runner import SweepOutcome, records_frame, run_configs
from ..store import ResultStore
from ..validation import (ConfigError, in_unit_interval, list_of, non_empty_ints, non_negative_int, one_of,
                          positive_float, positive_int)
from . import double_descent as dd
from . import width_choice

CHAPTER = "distillation"

_DISTILL = dict(student_model=None, student_width="peak", temperature=4.0, alpha=0.9, pool_seed=DEFAULT_POOL_SEED,
                methods=list(STUDENT_METHODS))
PRESETS = {
    "smoke": dict(dd.SWEEP_PRESETS["smoke"], **_DISTILL, teacher_widths=[4, 64], student_seeds=[0], student_steps_factor=1,
                  pool_size=1000, pool_study_sizes=[200, 1000], val_size=500, redraw_seeds=[1], peak_study_noise=[0.4],
                  student_sweep_noise=[0.4],
                  direct_epochs=[5, 10, 20], lr_study=list(dd.LR_STUDY["smoke"])),
    # teachers: a subset of the double-descent widths (narrow, best narrow, peak, widest), to fit the
    # book's CPU budget; students: all five seeds (with two, seed noise was as large as some gains), each
    # trained for twice the teachers' steps.
    "default": dict(dd.SWEEP_PRESETS["default"], **_DISTILL, teacher_widths=[4, 12, 16, 64], student_seeds=[0, 1, 2, 3, 4],
                    student_steps_factor=2, pool_size=25000, pool_study_sizes=[1000, 5000, 25000], val_size=5000,
                    # the double-descent chapter's noise study has its clearest peak at 40% noise: students of
                    # every width of that sweep test whether a student inherits a teacher's peak (C4)
                    redraw_seeds=[1], peak_study_noise=[0.4],
                    # and students of every width of the sweep, of the labeled set and of the widest teacher's pool
                    # labels, at the chapter's rate and at that one: does the pool remove the student's own peak
                    # (C2's explanation)?
                    student_sweep_noise=[0.2, 0.4],
                    # `direct` at each length, the length chosen on the validation set: early stopping (C3)
                    direct_epochs=[25, 50, 100, 200, 300, 600],
                    # the widest teacher's comparison again at the double-descent chapter's other learning rates
                    lr_study=list(dd.LR_STUDY["default"])),
    "paper": dict(dd.SWEEP_PRESETS["paper"], **_DISTILL, teacher_widths=[1, 2, 4, 8, 12, 16, 24, 32, 48, 64],
                  student_seeds=[0], student_steps_factor=1, pool_size=5000000,
                  pool_study_sizes=[50000, 500000, 5000000], val_size=0,  # the labeled set is all of the split
                  redraw_seeds=[], peak_study_noise=[], student_sweep_noise=[], direct_epochs=[], lr_study=list(dd.LR_STUDY["paper"])),
}


def validate(p: dict) -> None:
    dd.validate(p)
    if p["student_model"] is not None:
        one_of("student_model", p["student_model"], MODELS)
        check_model_for_dataset(p["dataset"], p["student_model"])
    if p["student_width"] != "peak":
        if isinstance(p["student_width"], bool) or not isinstance(p["student_width"], int) or p["student_width"] <= 0:
            raise ConfigError(f"student_width must be a positive integer or 'peak'; got {p['student_width']!r}")
    for name, full in (("teacher_widths", "widths"), ("student_seeds", "seeds")):
        values = non_empty_ints(name, p[name], positive=name == "teacher_widths")
        missing = sorted(set(values) - set(p[full]))
        if missing:
            raise ConfigError(f"{name} must be a subset of {full} {p[full]} (the double-descent sweep); "
                              f"not in it: {missing}")
    if max(p["seeds"]) >= STUDENT_SEED_OFFSET:  # a student's seed s + offset would be another teacher's seed
        raise ConfigError(f"each entry of seeds must be below {STUDENT_SEED_OFFSET} in this chapter (students start "
                          f"from seed + {STUDENT_SEED_OFFSET}); got {max(p['seeds'])}")
    positive_int("student_steps_factor", p["student_steps_factor"])
    positive_float("temperature", p["temperature"])
    in_unit_interval("alpha", p["alpha"], closed_right=True)
    non_negative_int("pool_seed", p["pool_seed"])
    sizes = [positive_int("pool_size", p["pool_size"]), *non_empty_ints("pool_study_sizes", p["pool_study_sizes"],
                                                                        positive=True)]
    for size in sizes:
        if size < p["batch_size"]:
            raise ConfigError(f"pool_size and each entry of pool_study_sizes must be at least batch_size "
                              f"({p['batch_size']}); got {size}")
    val = non_negative_int("val_size", p["val_size"])
    chance = 1 - 1 / DATASET_SHAPES[p["dataset"]][1]
    if val and p["label_noise"] >= chance:
        raise ConfigError(f"val_size must be 0 when label_noise is at least {chance:g} (1 - 1/classes): labels that "
                          f"noisy rank models backwards on a validation set; got label_noise {p['label_noise']:g}")
    if p["dataset"] == "mnist1d":
        check_pool_seeds(dd.data_config(p), max(sizes), p["pool_seed"], validation=val > 0)
        for _, q in dd.redraw_params(p):  # the other draws use the same pool
            check_pool_seeds(dd.data_config(q), p["pool_size"], p["pool_seed"])
    elif not pool_npz_files() and p["n_train"] + max(sizes) + val > CIFAR_TRAIN_SIZE:
        hint = ", or val_size to 0 to choose on the test set" if val else ""
        raise ConfigError(f"n_train + the largest pool size + val_size must be at most {CIFAR_TRAIN_SIZE} for "
                          f"{p['dataset']} (the pool and the validation set are the rest of its training split); set "
                          f"$DDLIB_POOL_NPZ for a larger pool{hint}")
    elif p["n_train"] + val > CIFAR_TRAIN_SIZE:
        raise ConfigError(f"n_train + val_size must be at most {CIFAR_TRAIN_SIZE} for {p['dataset']} (the validation "
                          f"set is held out of its training split); got {p['n_train']} + {val}; val_size 0 chooses "
                          f"on the test set")
    if not isinstance(p["methods"], (list, tuple)) or not p["methods"]:
        raise ConfigError(f"methods must be a non-empty list of {list(STUDENT_METHODS)}; got {p['methods']!r}")
    for m in p["methods"]:
        one_of("each entry of methods", m, STUDENT_METHODS)
    list_of("peak_study_noise", p["peak_study_noise"], "label-noise rates, each in [0, 1) (empty: no such study)",
            lambda rate: in_unit_interval("each entry of peak_study_noise", rate, closed_right=False))
    list_of("student_sweep_noise", p["student_sweep_noise"], "label-noise rates, each in [0, 1) (empty: no such study)",
            lambda rate: in_unit_interval("each entry of student_sweep_noise", rate, closed_right=False))
    list_of("direct_epochs", p["direct_epochs"], "positive epoch counts (empty: no such study)",
            lambda epochs: positive_int("each entry of direct_epochs", epochs))
    if "hard_pool" not in p["methods"]:
        raise ConfigError(f"methods must include 'hard_pool' (the paper's method, which every comparison of this "
                          f"chapter is made against); got {list(p['methods'])!r}")


def resolve_params(preset: str = "default", check_injected: bool = False, **overrides) -> dict:
    """The chapter's parameters: ``PRESETS[preset]`` with every non-``None`` override, validated
    (``check_injected``: the chapter's own resolve cell; :func:`ddlib.presets.resolve`)."""
    return resolve(CHAPTER, PRESETS, preset, overrides, validate, check_injected)


def student_width(p: dict, teacher_summary: dict) -> int:
    """The fixed student width: given, or the teachers' width of highest error near the interpolation threshold
    on the set the choices are made on (``chosen_width``: :func:`ddlib.chapters.width_choice.choose`)."""
    return teacher_summary["chosen_width"] if p["student_width"] == "peak" else p["student_width"]


def student_configs(p: dict, width: int, teacher_widths, pool_sizes, methods) -> list:
    """Students of every method x teacher width x pool size x student seed (teacher-free methods once).

    Every student, ``direct`` included, trains for ``student_steps_factor`` times the teachers'
    steps: equal compute for every method (with a factor of 1, ``direct`` is the
    double-descent run itself and is reused).
    """
    model = p["student_model"] or p["model"]
    out = []
    for method in methods:
        for tw in (teacher_widths if method in TEACHER_METHODS else teacher_widths[:1]):
            for pool in (pool_sizes if method in POOL_METHODS else [0]):
                for s in p["student_seeds"]:
                    cfg = student_config(dd.run_config(p, tw, s), method, model=model, width=width,
                                         pool_size=pool, pool_seed=p["pool_seed"],
                                         temperature=p["temperature"], alpha=p["alpha"])
                    steps = cfg.train.steps * p["student_steps_factor"]  # the same for every method
                    out.append(dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, steps=steps)))
    return out


def run(p: dict, **kwargs) -> tuple[pd.DataFrame, dict, SweepOutcome]:
    """Teachers (reused), then every student; write ``results/distillation/<folder>/results.csv``
    (:func:`ddlib.book.table_folder`).

    Returns ``(frame, teacher_summary, outcome)``: the per-run frame (one row per teacher and per
    student run: method, teacher width, pool size, seed, test error, ...; :func:`method_table` turns it
    into the chapter's table of means), the teachers' double-descent summary with the student width
    and the pool study's teachers added, and the run counts.
    """
    teacher_outcome = run_configs(dd.sweep_configs(p), device=p["device"], **kwargs)
    teachers = records_frame(teacher_outcome.records)
    plan = plan_students(p, teachers, kwargs.get("store"))
    if plan["validation"] is not None:
        book.write_table(plan["validation"], CHAPTER, p, "validation.csv")
    teacher_summary = plan["teacher_summary"]
    outcome = run_configs(plan["main"] + plan["study"], device=p["device"], **kwargs)
    frame = runs_frame(teachers, outcome)
    outcome = teacher_outcome.merge(outcome)  # `direct` students are teachers too: count them once
    book.write_table(frame, CHAPTER, p)
    teacher_summary.update(student_width=plan["width"], study_teachers=plan["study_teachers"],
                           study_narrow_is_narrower=plan["narrow_is_narrower"])
    return frame, teacher_summary, outcome


def runs_frame(teachers: pd.DataFrame, students: SweepOutcome) -> pd.DataFrame:
    """The chapter's per-run frame: one row per teacher (``teachers``: :func:`ddlib.runner.records_frame` of the
    sweep, as method ``teacher``) and per student run of ``students``, with ``method`` (``direct`` for a student of
    the labeled set), ``teacher_width``, ``student_width``, ``pool_size``, ``seed`` (the teacher seed a student
    belongs to), ``test_error``, ``agreement``, ``train_error`` and ``hash``."""
    rows = records_frame(students.records).drop_duplicates("hash")
    rows["method"] = rows["method"].replace({"labels": "direct"})
    rows["seed"] = rows["seed"] % STUDENT_SEED_OFFSET  # the teacher seed the student belongs to
    rows["student_width"] = rows["width"]
    teacher_rows = teachers.assign(method="teacher", teacher_width=teachers["width"], student_width=None,
                                   pool_size=0, agreement=1.0)
    cols = ["method", "teacher_width", "student_width", "pool_size", "seed", "test_error", "agreement",
            "train_error", "hash"]
    return pd.concat([teacher_rows[cols], rows.reindex(columns=cols)], ignore_index=True)


def run_studies(p: dict, studies: list[tuple], table: str, **kwargs) -> tuple[dict, SweepOutcome]:
    """Run (or reuse) each ``(key, q, teachers, students)`` of ``studies`` (another draw, another noise rate, another
    learning rate: their parameters ``q`` and configs); each one's frame (:func:`runs_frame`) is written to
    ``table.format(key)`` beside the chapter's table, with ``q`` beside it. Returns ``{key: frame}`` and all their runs
    as one outcome."""
    frames, outcome = {}, SweepOutcome()
    for key, q, teachers, students in studies:
        teacher_outcome = run_configs(teachers, device=p["device"], **kwargs)
        student_outcome = run_configs(students, device=p["device"], **kwargs)
        frames[key] = runs_frame(records_frame(teacher_outcome.records), student_outcome)
        book.write_table(frames[key], CHAPTER, q, table.format(key), folder_params=p)
        outcome = outcome.merge(teacher_outcome).merge(student_outcome)
    return frames, outcome


def plan_students(p: dict, teachers: pd.DataFrame, store: ResultStore | None = None) -> dict:
    """What the students are, given the teachers' frame (all of them in ``store``): the choices
    (:func:`ddlib.chapters.width_choice.choose`, on the validation set), the student width (:func:`student_width`),
    the main comparison's configs, the pool study's two teachers (the best one narrower than the chosen width, and
    the widest) and its configs. ``teacher_summary`` is the test errors' summary, with the choices added."""
    teacher_summary = dd.summarize(teachers)
    choice = width_choice.choose(p, teachers, store)
    teacher_summary.update(chosen_on=choice["chosen_on"], chosen_width=choice["summary"]["peak_width"],
                           selection=choice["selection"])
    width = student_width(p, teacher_summary)
    best_narrow, narrow_is_narrower = width_choice.best_narrower(p["teacher_widths"], teacher_summary["chosen_width"],
                                                                 choice["selection"])
    study_teachers = [best_narrow, max(p["teacher_widths"])]
    return dict(teacher_summary=teacher_summary, width=width, study_teachers=study_teachers,
                narrow_is_narrower=narrow_is_narrower, validation=choice["frame"],
                main=student_configs(p, width, p["teacher_widths"], [p["pool_size"]], p["methods"]),
                study=student_configs(p, width, study_teachers, p["pool_study_sizes"], ["hard_pool"]))


def planned_configs(p: dict, store: ResultStore | None = None) -> list:
    """Every run the chapter would ask for: the teachers and, once every teacher is in ``store`` (default
    :class:`~ddlib.store.ResultStore`), the students it would then pick (which depend on the teachers' errors) and
    the other draws' and other learning rates' runs (:mod:`ddlib.chapters.widest_variants`: at another rate also that
    rate's whole sweep, for the rule's width there, and that width's students; :mod:`ddlib.chapters.rate_curves`: every
    teacher width's students at that rate), the peaked teachers' study
    (:mod:`ddlib.chapters.teacher_peak`), students of every width (:mod:`ddlib.chapters.student_widths`), once their
    ``direct`` runs are stored the pool's size against passes (:mod:`ddlib.chapters.pool_passes`), and ``direct`` at
    other lengths (:mod:`ddlib.chapters.direct_lengths`); trains nothing."""
    from . import pool_passes  # these modules build on this one
    from .direct_lengths import length_configs
    from .rate_curves import curve_configs
    from .student_widths import study_configs as student_width_configs
    from .teacher_peak import study_configs
    from .widest_variants import lr_configs, redraw_configs, rule_sweep_configs, rule_width_configs, rule_widths

    store = store or ResultStore()
    teachers = dd.sweep_configs(p)
    if not all(store.has(c) for c in teachers):
        return teachers
    plan = plan_students(p, records_frame([store.load(c) for c in teachers]), store)
    # the rule's width at each other learning rate reads that rate's whole sweep: its runs, then its students
    rate_sweeps, widths = rule_sweep_configs(p), rule_widths(p, store)
    variants = (redraw_configs(p, plan["width"]) + lr_configs(p, plan["width"])
                + rule_width_configs(p, plan["width"], widths) + curve_configs(p, plan["width"], widths))
    redraws = rate_sweeps + [c for _, _, t, st in variants for c in t + st]
    peaked = [c for _, _, t, st in study_configs(p, plan["width"]) + student_width_configs(p) for c in t + st]
    return (teachers + plan["main"] + plan["study"] + redraws + peaked + pool_passes.planned_configs(p, store)
            + length_configs(p, plan["width"]))


def paired(frame: pd.DataFrame, p: dict) -> pd.DataFrame:
    """``frame`` with teacher rows kept only for the student seeds (``p["student_seeds"]``).

    Student seed ``s`` distils the teacher of seed ``s``, so a teacher mean compared with a student
    mean is taken over the same seeds. Without ``student_seeds`` (or a ``seed`` column) ``frame`` is
    returned as it is.
    """
    seeds = p.get("student_seeds")
    if seeds is None or "seed" not in frame:
        return frame
    return frame[(frame["method"] != "teacher") | frame["seed"].isin(seeds)]


def errors_by_seed(frame: pd.DataFrame, method: str, tw: int | None = None, pool_size: int = 0) -> pd.Series:
    """Test error of ``method``'s runs by ``seed`` (the teacher seed a student belongs to), of teacher width ``tw``
    where given and pool size ``pool_size``."""
    f = frame[(frame["method"] == method) & (frame["pool_size"] == pool_size)]
    if tw is not None:
        f = f[f["teacher_width"] == tw]
    return f.groupby("seed")["test_error"].mean()


def standard_error(values: pd.Series) -> float:
    """The standard error of the mean of ``values`` (seed-paired differences, say): ``std / sqrt(n)`` with the
    sample standard deviation; ``nan`` below two values."""
    return float(values.std(ddof=1) / len(values) ** 0.5) if len(values) > 1 else float("nan")


def _seed_by_seed(frame: pd.DataFrame, widest: int, pool: int) -> dict:
    """On how many student seeds the widest teacher's ``hard_pool`` student (on the main pool) has a lower test
    error than ``direct`` and than ``soft_kd_labeled`` of the same teacher seed (the seed-paired count; a seed
    without both students is not counted), how many seeds were compared, and the seed-paired gains' mean
    (``gain_mean_<name>``, the other's error minus ``hard_pool``'s) and standard error (``gain_se_<name>``:
    :func:`standard_error` of the n paired gains)."""
    hp = errors_by_seed(frame, "hard_pool", widest, pool)
    out = {}
    for name, other in (("direct", errors_by_seed(frame, "direct")),
                        ("soft_kd_labeled", errors_by_seed(frame, "soft_kd_labeled", widest))):
        both = pd.concat([hp, other], axis=1, keys=["hard_pool", "other"]).dropna()
        out[f"seeds_beating_{name}"] = int((both["hard_pool"] < both["other"]).sum())
        out[f"seeds_compared_{name}"] = len(both)
        gains = both["other"] - both["hard_pool"]
        out[f"gain_mean_{name}"] = float(gains.mean()) if len(gains) else float("nan")
        out[f"gain_se_{name}"] = standard_error(gains)
    return out


def mean_error(frame: pd.DataFrame, method: str, tw: int | None = None, pool_size: int | None = None) -> float:
    """Mean test error of ``method``'s rows of ``frame``, of teacher width ``tw`` (ignored for ``direct`` and
    ``oracle_pool``, which have no teacher) and pool size ``pool_size`` where given; ``nan`` where there are none
    (a method not among ``methods``)."""
    f = frame[frame["method"] == method]
    if tw is not None and method not in ("direct", "oracle_pool"):
        f = f[f["teacher_width"] == tw]
    if pool_size is not None:
        f = f[f["pool_size"] == pool_size]
    return float(f["test_error"].mean()) if len(f) else float("nan")


def summarize(frame: pd.DataFrame, teacher_summary: dict, p: dict) -> dict:
    """Means over seeds of the comparisons the chapter's prose cites.

    Teacher means are over the student seeds only (:func:`paired`). Gains are differences of mean
    test errors (``gain_over_direct = direct - hard_pool_widest``, in percentage points when printed).
    """
    frame = paired(frame, p)
    pool = p["pool_size"]
    widest = max(p["teacher_widths"])
    mean = functools.partial(mean_error, frame)

    out = {"pool_size": pool, "student_width_used": teacher_summary["student_width"], "widest_teacher": widest,
           "teacher_widest": mean("teacher", widest), "direct": mean("direct"),
           "oracle_pool": mean("oracle_pool", pool_size=pool)}
    for m in TEACHER_METHODS:
        out[f"{m}_widest"] = mean(m, widest, pool if m in POOL_METHODS else 0)
    out["gain_over_direct"] = out["direct"] - out["hard_pool_widest"]
    out["gain_over_soft_kd_labeled"] = out["soft_kd_labeled_widest"] - out["hard_pool_widest"]
    hp = frame[(frame["method"] == "hard_pool") & (frame["pool_size"] == pool)]
    by_teacher = hp.groupby("teacher_width")["test_error"].mean()
    others = [tw for tw in p["teacher_widths"] if tw != widest]
    beats = lambda m, tw: shown_difference(mean(m, tw, 0 if m != "direct" else None),  # noqa: E731
                                           mean("hard_pool", tw, pool)) >= CLEAR
    out.update(other_teachers=len(others), n_teacher_widths=len(p["teacher_widths"]),
               other_beats_direct=sum(beats("direct", tw) for tw in others),
               other_beats_soft_kd_labeled=sum(beats("soft_kd_labeled", tw) for tw in others))
    out.update(_seed_by_seed(frame, widest, pool))
    soft_lead = {tw: shown_difference(mean("hard_pool", tw, pool), mean("soft_kd_labeled", tw, 0)) for tw in others}
    out["soft_kd_labeled_wins"] = [(int(tw), lead) for tw, lead in soft_lead.items() if lead >= MARGIN]
    width = teacher_summary["student_width"]
    same_model = p["student_model"] in (None, p["model"])
    out["same_width_teacher"] = mean("teacher", width) if width in p["widths"] and same_model else float("nan")
    out["gain_over_same_width_teacher"] = out["same_width_teacher"] - out["hard_pool_widest"]
    out["best_hard_pool_teacher"] = int(by_teacher.idxmin()) if len(by_teacher) else None
    out["best_hard_pool_error"] = float(by_teacher.min()) if len(by_teacher) else float("nan")
    out["agreement_widest"] = float(hp[hp["teacher_width"] == widest]["agreement"].mean())
    study = frame[(frame["method"] == "hard_pool") & frame["pool_size"].isin(p["pool_study_sizes"])]
    for name, tw in (("widest", widest), ("narrow", teacher_summary["study_teachers"][0])):
        curve = study[study["teacher_width"] == tw].groupby("pool_size")["test_error"].mean().sort_index()
        out[f"pool_smallest_{name}"] = float(curve.iloc[0])
        out[f"pool_largest_{name}"] = float(curve.iloc[-1])
    for name, size in (("smallest", min(p["pool_study_sizes"])), ("largest", max(p["pool_study_sizes"]))):
        rows = study[(study["teacher_width"] == widest) & (study["pool_size"] == size)]
        out[f"pool_{name}_train_error_widest"] = float(rows["train_error"].mean())
    out.update(tracking(frame, pool))
    widest_train = frame[(frame["method"] == "teacher") & (frame["teacher_width"] == widest)]["train_error"]
    out["widest_teacher_interpolates"] = bool(widest_train.mean() <= dd.INTERPOLATION_TOL)
    out["widest_teacher_fits_exactly"] = bool(len(widest_train) and widest_train.max() == 0)
    out["n_student_seeds"] = len(p["student_seeds"])
    out["n_labeled"] = int(p["n_train"])
    out["label_noise"] = float(p["label_noise"])
    out["pool_words"] = pool_words(p)
    out["pool_like_test"] = p["dataset"] == "mnist1d" or not pool_npz_files()  # not said of .npz images
    out["student_seed_offset"] = STUDENT_SEED_OFFSET
    out["narrow_study_teacher"] = teacher_summary["study_teachers"][0]
    out["narrow_study_label"] = narrow_study_label(teacher_summary)
    out["student_choice"] = student_choice(teacher_summary, p)
    out["width_choice_note"] = width_choice.note(teacher_summary, p)
    out["n_seeds_words"] = plural(len(p["student_seeds"]), "seed")
    main_hp = hp[hp["teacher_width"] == widest]
    out["hard_pool_train_error_widest"] = float(main_hp["train_error"].mean())
    out["student_steps"] = int(p["student_steps_factor"] * dd.steps_for(p))
    out["pool_passes"] = float(out["student_steps"] * p["batch_size"] / pool)
    out["pool_study_passes"] = {int(n): float(out["student_steps"] * p["batch_size"] / n)
                                for n in sorted(p["pool_study_sizes"])}
    out["teacher_widths_words"] = join(sorted(p["teacher_widths"]))
    out["pool_study_smallest"] = int(min(p["pool_study_sizes"]))
    out["pool_study_largest"] = int(max(p["pool_study_sizes"]))
    for name, (a, b) in dict(gain_over_direct=("direct", "hard_pool_widest"),
                             gain_over_soft_kd_labeled=("soft_kd_labeled_widest", "hard_pool_widest"),
                             gain_over_same_width_teacher=("same_width_teacher", "hard_pool_widest")).items():
        out[f"{name}_points"] = points(shown_difference(out[a], out[b]))
    out["steps_factor"] = p["student_steps_factor"]
    out["verdict"] = verdict(out)
    out["method_bullets"] = method_bullets(out, p)
    out["same_width_sentence"] = same_width_sentence(out)
    out["null_pair_sentence"] = null_pair_sentence(out)
    out["best_teacher_sentence"] = best_teacher_sentence(out)
    out["small_pool_sentence"] = small_pool_sentence(out)
    out["pool_passes_sentence"] = pool_passes_sentence(out)
    return out


def tracking(frame: pd.DataFrame, pool: int) -> dict:
    """How the ``hard_pool`` student (pool size ``pool``) follows its teacher across the distilled teacher widths of
    ``frame`` (claim C4): ``tracking_correlation``, the Pearson correlation of the two mean test errors by teacher
    width (``nan`` below three widths), and ``teacher_curve_only_falls``, whether the teacher's mean error is never
    higher at a wider distilled teacher, as printed (then the curve has no peak over those widths)."""
    hp = frame[(frame["method"] == "hard_pool") & (frame["pool_size"] == pool)]
    student = hp.groupby("teacher_width")["test_error"].mean()
    teacher = frame[frame["method"] == "teacher"].groupby("teacher_width")["test_error"].mean()
    both = pd.concat([teacher, student], axis=1, keys=["teacher", "student"]).dropna()
    return dict(tracking_correlation=float(both["teacher"].corr(both["student"])) if len(both) > 2 else float("nan"),
                teacher_curve_only_falls=bool(all(shown_difference(a, b) >= 0 for a, b in
                                                  zip(both["teacher"], both["teacher"].iloc[1:]))))


#: Two errors less than this (half a point, as printed) apart are "on par"; a gain of at least this but less
#: than :data:`ddlib.prose.CLEAR` is "only ... better" (a gain counts as "beats" from ``CLEAR`` on).
MARGIN = 0.005
#: A student less than this (5 points, as printed) from its teacher's error is "close to the teacher" (C2).
CLOSE_TO_TEACHER = 0.05
#: A student that gives its teacher's label on fewer test inputs than this is said not to be close to the teacher
#: in its predictions, however close its error.
AGREES = 0.9


def pool_words(p: dict) -> str:
    """How the unlabeled pool is drawn (:func:`ddlib.data.load_pool`), in words for the prose."""
    if p["dataset"] == "mnist1d":
        return (f"fresh draws of the same MNIST-1D generator (seeds from `pool_seed` = {p['pool_seed']} on): drawn "
                f"like the test set, disjoint from the labeled and test sets, and a smaller pool is a prefix of a "
                f"larger one")
    return ("the rest of the CIFAR training split after the labeled set (its labels unused except by `oracle_pool`), "
            "or the first images of the `.npz` files that `$DDLIB_POOL_NPZ` names; a smaller pool is a prefix of a "
            "larger one")


def narrow_study_label(teacher_summary: dict) -> str:
    """Words for the pool study's second teacher: the best one narrower than ``chosen_width`` (the
    double-descent rule's width on the set the choices are made on, named as such, since with a student width
    given by hand nothing else in the chapter names it; on the test set it is called "the peak" only where it
    is a clear one), or, where no teacher width is below it (tiny settings), the narrowest, said as such."""
    s = teacher_summary
    width, peak, on = s["study_teachers"][0], s["chosen_width"], width_choice.chosen_on_words(s)
    if s["chosen_on"] == "test":
        name = f"the peak at width {peak}" if s.get("clear_peak") else f"width {peak}"
    else:
        name = f"width {peak}, the width the double-descent rule singles out on {on}"
    if s["study_narrow_is_narrower"]:
        return f"the best teacher narrower than {name} (width {width}, best by the sweep's mean error on {on})"
    return f"the narrowest teacher (width {width}; no teacher width lies below {name}, in this run)"


def _higher_words(above: list, peak: int) -> str:
    """Which widths have a higher mean test error than ``peak`` (``above``), and what that makes ``peak``.

    Only widths narrower than the window :func:`ddlib.chapters.double_descent.summarize` searches can be
    narrower than ``peak`` and above it (narrow, under-fitting ones)."""
    if not above:
        return " No width has a higher test error: it is the worst case for training on the labeled data."
    narrower, wider = [w for w in above if w < peak], [w for w in above if w > peak]
    names = []
    if narrower:
        many = len(narrower) > 1
        names.append(f"the narrower width{'s' if many else ''} {join(narrower)}")
    if wider:
        names.append(f"the wider width{'s' if len(wider) > 1 else ''} {join(wider)}")
    said = " and ".join(names)
    return (f" {said[0].upper()}{said[1:]} {'has' if len(above) == 1 else 'have'} a higher test error still, so "
            f"width {peak} is not the worst case for training on the labeled data here.")


def student_choice(teacher_summary: dict, p: dict) -> str:
    """What the student's width is in this run, given by hand, or, where it is chosen (``"peak"``), what the rule
    singles out on the teachers' test errors and whether that is a clear peak of their double-descent curve
    (:func:`ddlib.chapters.double_descent.clear_peak`); :func:`ddlib.chapters.width_choice.note` then says which
    width the validation set chose. It is called the worst case for training on the labeled data only where no
    width has a higher mean test error (``widths_above_peak`` is empty)."""
    s, width = teacher_summary, p["student_width"]
    peak = s["peak_width"]
    if p["student_width"] != "peak" and width == peak:
        return (f"In this run the student width is set to {width} by hand, which is also the width the "
                f"double-descent chapter singles out: {dd.peak_words(s)}.")
    if p["student_width"] != "peak":
        return (f"In this run the student width is set to {width} instead; the double-descent chapter singles out "
                f"{dd.peak_words(s)}.")
    if s["threshold_width"] is None:
        return (f"In this run no teacher width interpolates its labels, so there is no threshold; on the test errors "
                f"the rule singles out {dd.peak_words(s)}.")
    v, rise = s["best_narrower_width"], s["peak_over_narrower"]
    higher = _higher_words(s.get("widths_above_peak", []), peak)
    sweep = "In the double-descent sweep's test errors (means over all its seeds)"
    if s["clear_peak"]:
        return (f"{sweep}, the width singled out is {peak}, a clear peak: its test error is {points(rise)} above width {v}'s "
                f"and {points(s['peak_over_widest'])} above the widest width's.{higher}")
    if v is None:
        vs = "no narrower width was trained"
    else:
        narrower = f"width {v}'s, the best narrower one"
        vs = f"its test error is {'only ' if 0 < rise < CLEAR else ''}{relation(rise, narrower)}"
        if rise >= CLEAR:  # not a clear peak because test error does not clearly fall past it
            vs += f", but {_fall_after(s)}"
    return f"{sweep}, the width singled out is {peak}, which is not a clear peak (see that chapter's verdict): {vs}.{higher}"


def _fall_after(s: dict) -> str:
    """How far the widest width's test error is below the width singled out (``peak_over_widest``, as
    printed), where that is less than :data:`ddlib.prose.CLEAR`."""
    fall = s["peak_over_widest"]
    if fall != fall:  # nan: the width singled out is the widest
        return "no wider width was trained"
    return f"the widest width's is {'only ' if fall > 0 else ''}{relation(-fall, 'it')}"


def _error_gap(shown: float) -> str:
    """A small difference of printed errors (this one's minus the other's) in words, without a sign to decode:
    ``"0.4 points lower error"``, ``"0.3 points higher error"``, ``"the same error as printed"``."""
    return "the same error as printed" if shown == 0 else f"{points(abs(shown))} {'lower' if shown < 0 else 'higher'} error"


def _compare(shown: float, other: str) -> str:
    """``hard_pool`` against ``other``: ``shown`` (other's error minus hard_pool's, the difference of the
    printed errors, :func:`shown_difference`) chooses the words and is printed (callers leave out a method that
    was not run)."""
    if shown >= CLEAR:
        return f"beats {other} by {points(shown)}"
    if shown >= MARGIN:
        return (f"is only {points(shown)} better than {other}, less than the {points(CLEAR)} counted here "
                f"as clear")
    if shown > -MARGIN:
        return f"is on par with {other} ({_error_gap(-shown)})"
    return f"is {points(-shown)} worse than {other}"


def _c3_scope(s: dict) -> str:
    """For which teachers ``hard_pool`` beats ``soft_kd_labeled`` by at least :data:`ddlib.prose.CLEAR` (as
    printed): the widest one (``soft_kd_labeled_widest``) and how many of the others
    (``other_beats_soft_kd_labeled``)."""
    widest = shown_difference(s["soft_kd_labeled_widest"], s["hard_pool_widest"]) >= CLEAR
    others, n = s["other_beats_soft_kd_labeled"], s["other_teachers"]
    if widest:
        return "for every teacher" if others == n else "only with a wide enough teacher"
    return "with some teachers but not the widest" if others else "with no teacher"


def _seed_words(s: dict) -> str:
    """The seed-paired counts of :func:`_seed_by_seed` in words: how consistent the widest teacher's gains are, with
    the paired gains' standard error where there are at least two (their mean is the difference of the means the
    verdict prints, so it is not printed again)."""
    n_d, n_s = s.get("seeds_compared_direct", 0), s.get("seeds_compared_soft_kd_labeled", 0)
    if max(n_d, n_s) < 2:  # one seed: the count only repeats the means
        return ""

    compared = [(name, n) for name, n in (("direct", n_d), ("soft_kd_labeled", n_s)) if n]
    with_se = {name for name, _ in compared if not math.isnan(s.get(f"gain_se_{name}", math.nan))}

    def spread(name):
        return f" (standard error of the gain {points(s[f'gain_se_{name}'])})" if name in with_se else ""
    said = [f"than `{name}` on {s[f'seeds_beating_{name}']} of {plural(n, 'seed')}{spread(name)}" for name, n in compared]
    return (" Seed by seed (each student against the other student of the same teacher seed), its `hard_pool` "
            f"student has a lower error {' and '.join(said)}.")


def _soft_wins_words(s: dict) -> str:
    """Where ``soft_kd_labeled`` has the lower mean error than ``hard_pool`` (by at least :data:`MARGIN`, as
    printed) among the teachers other than the widest, said as such: the reverse of claim C3."""
    wins = s.get("soft_kd_labeled_wins") or []
    if not wins:
        return ""
    where = join([f"{tw} (by {points(gap)})" for tw, gap in wins])
    teachers = "teacher of width" if len(wins) == 1 else "teachers of widths"
    small = [tw for tw, gap in wins if gap < CLEAR]
    note = ("" if not small else
            f", by less than the {points(CLEAR)} counted as clear" if len(small) == len(wins) else
            f", from {join(small)} by less than the {points(CLEAR)} counted as clear")
    return f" The other way round, `soft_kd_labeled` has the lower error from the {teachers} {where}{note}."


def _pool_or_hard_labels(s: dict) -> str:
    """``hard_pool`` against ``soft_kd_pool`` from the widest teacher (soft targets on the same pool): where the
    two are less than :data:`ddlib.prose.CLEAR` apart (as printed) but ``hard_pool`` clearly beats
    ``soft_kd_labeled``, the gain comes from the pool, not from the hard labels."""
    hp = s["hard_pool_widest"]
    vs_soft = shown_difference(s["soft_kd_pool_widest"], hp)
    if vs_soft != vs_soft:  # soft_kd_pool not run
        return ""
    said = _compare(vs_soft, "`soft_kd_pool`")
    if vs_soft >= CLEAR:
        return f"On the same pool, `hard_pool` also {said}, so the hard labels add to the pool."
    if vs_soft <= -CLEAR:
        return f"On the same pool, `hard_pool` {said}: soft targets do better there."
    text = f"With soft targets on the same pool, the student does as well: `hard_pool` {said}"
    if shown_difference(s["soft_kd_labeled_widest"], hp) >= CLEAR:
        return f"{text}, so its gain over `soft_kd_labeled` comes from the pool, not from the hard labels."
    return f"{text}."


def verdict(s: dict) -> str:
    """Sentences, chosen by the numbers, on claims C2-C4 for this run.

    C2 compares ``hard_pool_widest`` with ``teacher_widest``, both means over the student seeds; the
    student is "close to the teacher" when they differ by less than :data:`CLOSE_TO_TEACHER`. Where ``direct``
    is at least :data:`ddlib.prose.CLEAR` above the teacher, it also says which fraction of that gap the student
    closes, ``(direct - hard_pool) / (direct - teacher)``, and how often it agrees with the teacher
    (``agreement_widest``). C3 adds the seed-paired counts (:func:`_seed_by_seed`) and the other teachers where
    ``soft_kd_labeled`` has the lower error; it compares ``hard_pool`` only with the baselines that ran (``methods``)
    and says which did not. The C3 paragraph and the C2/C4 one are separated by a blank line. Every comparison is
    made on the difference of the printed errors (:func:`shown_difference`).
    """
    hp = s["hard_pool_widest"]
    baselines = {"direct": s["direct"], "soft_kd_labeled": s["soft_kd_labeled_widest"]}
    ran = [name for name, error in baselines.items() if error == error]  # a baseline not in `methods` is nan
    if ran:
        c3 = ("From the widest teacher, `hard_pool` "
              + " and ".join(_compare(shown_difference(baselines[name], hp), f"`{name}`") for name in ran)
              + " (C3)." + _seed_words(s))
        if len(ran) == 1:
            missing = next(name for name in baselines if name not in ran)
            c3 += f" Claim C3 is only partly tested here: `{missing}` is not among `methods`."
    else:
        c3 = "Neither `direct` nor `soft_kd_labeled` is among `methods`, so nothing here tests claim C3."
    if s["other_teachers"] and len(ran) == 2:
        if s["other_teachers"] == 1:
            beats = [name for name, key in (("`direct`", "other_beats_direct"),
                                            ("`soft_kd_labeled`", "other_beats_soft_kd_labeled")) if s[key]]
            verb = f"it beats {' and '.join(beats)}" if beats else "it beats neither `direct` nor `soft_kd_labeled`"
            c3 += (f" From the other teacher width {verb} (by at least {points(CLEAR)}): the claim holds here "
                   f"{_c3_scope(s)}.")
        else:
            c3 += (f" From the other {plural(s['other_teachers'], 'teacher width')} it beats `direct` at "
                   f"{s['other_beats_direct']} and `soft_kd_labeled` at {s['other_beats_soft_kd_labeled']} of them "
                   f"(by at least {points(CLEAR)}): the claim holds here {_c3_scope(s)}.")
    c3 += _soft_wins_words(s) + " " + _pool_or_hard_labels(s)
    teacher = s["teacher_widest"]
    gap = shown_difference(hp, teacher)
    n = s["n_student_seeds"]
    close = "yes" if abs(gap) < CLOSE_TO_TEACHER else "no"
    c2 = (f"On the same {plural(n, 'seed')}, the widest teacher's `hard_pool` student ends at {hp:.1%} against its "
          f"teachers' {teacher:.1%}, {relation(gap, 'them')} (C2, close to the teacher: {close}).")
    span = shown_difference(s["direct"], teacher)
    if span >= CLEAR:  # a gap from `direct` down to the teacher worth sharing out
        closed = shown_difference(s["direct"], hp) / span
        if 0 < closed <= 1:
            c2 += f" That closes {closed:.0%} of the {points(span)} between `direct` and the teacher."
        elif closed > 1:
            c2 += (f" That closes all of the {points(span)} between `direct` and the teacher, and goes "
                   f"{points(-gap)} past the teacher.")
    agreement = s["agreement_widest"]
    c2 += (f" Close in error is not the same as close in predictions: the student gives the teacher's label on "
           f"{agreement:.1%} of the test inputs." if agreement < AGREES else
           f" It gives the teacher's label on {agreement:.1%} of the test inputs.")
    r = s["tracking_correlation"]
    pool_helps = all(shown_difference(s[f"pool_smallest_{k}"], s[f"pool_largest_{k}"]) >= MARGIN
                     for k in ("widest", "narrow"))
    if r == r:  # a correlation needs at least 3 teacher widths (nan otherwise)
        link = "it tracks the teacher curve" if round(r, 2) >= 0.7 else "a loose link at best"
        if s.get("teacher_curve_only_falls"):
            link += (", which only falls over the distilled widths: a shared trend, not a shared peak" if round(r, 2) >= 0.7
                     else "")
        tracks = (f"Across the {s['n_teacher_widths']} teacher widths the `hard_pool` student's error follows the "
                  f"teacher's with correlation {r:.2f} ({link}{'; from few points' if s['n_teacher_widths'] < 6 else ''})")
    else:
        tracks = f"With {s['n_teacher_widths']} teacher widths there are too few for a correlation with the teacher curve"
    c4 = (f"{tracks}, and a larger pool, at the same number of steps, "
          f"{'helps both studied teachers' if pool_helps else 'does not always help'} (C4).")
    return "\n\n".join([c3, c2 + " " + c4])


def method_bullets(s: dict, p: dict) -> str:
    """The widest teacher's students, one MyST bullet per method run (``p["methods"]``), with ``hard_pool``'s gains
    over ``direct`` and ``soft_kd_labeled`` (as printed, :func:`summarize`) beside theirs."""
    ran = set(p["methods"])
    items = [f"`hard_pool` (the paper's method): {s['hard_pool_widest']:.1%}"]
    if "direct" in ran:
        items.append(f"`direct` (the same student on the noisy labeled set): {s['direct']:.1%}, so hard-label "
                     f"distillation on the pool gains {s['gain_over_direct_points']}")
    if "soft_kd_labeled" in ran:
        items.append(f"`soft_kd_labeled`: {s['soft_kd_labeled_widest']:.1%}, a gain of "
                     f"{s['gain_over_soft_kd_labeled_points']} for `hard_pool`")
    rest = [f"`{m}`: {s[f'{m}_widest']:.1%}" for m in ("soft_kd_pool", "hard_labeled") if m in ran]
    if rest:
        items.append("; ".join(rest))
    if "oracle_pool" in ran:
        items.append(f"`oracle_pool` (true labels on the pool, a reference): {s['oracle_pool']:.1%}")
    return "\n".join(f"- {item}{';' if i < len(items) - 1 else '.'}" for i, item in enumerate(items))


def null_pair_sentence(s: dict) -> str:
    """A difference only the seeds make: where every widest teacher (of the student seeds) gets all its noisy training
    labels right (``widest_teacher_fits_exactly``), its hard labels on the labeled set are those labels, so
    ``hard_labeled`` from it is ``direct`` (same labels, width, loss and steps) with other seeds; the gap between their
    means, as printed, is seed noise and is set against :data:`ddlib.prose.CLEAR`. ``""`` where it does not apply."""
    hl, direct = s["hard_labeled_widest"], s["direct"]
    if not s.get("widest_teacher_fits_exactly") or hl != hl or direct != direct:
        return ""
    gap = abs(shown_difference(hl, direct))
    size = (f"less than the {points(CLEAR)} counted here as clear" if gap < CLEAR else
            f"as large as the {points(CLEAR)} counted here as clear, so that margin is too small for these seeds")
    return (f"A check on seed noise comes with the runs: the widest teachers get every one of their noisy training "
            f"labels right (their stored train error is 0.0%), so their hard labels on the labeled set are its noisy "
            f"labels and `hard_labeled` from them is `direct` with other seeds. The two differ by {points(gap)} "
            f"({hl:.1%} against {direct:.1%}), {size}: one example of what the seeds alone do to a mean of "
            f"{s['n_seeds_words']}.")


def pool_passes_sentence(s: dict) -> str:
    """What the pool-size study changes besides the pool: every student takes the same number of steps, so a
    smaller pool is passed over more often (``pool_study_passes``: steps x batch / pool size), and the widest
    teacher's students' train errors on their teacher's labels at the smallest and largest pools say how far
    each fits them; where the larger pool's is the higher (as printed), a larger pool also means less
    memorisation, and the sentence says the study cannot separate the two. Empty with one pool size."""
    passes = s["pool_study_passes"]
    if len(passes) < 2:
        return ""
    (small, many), (large, few) = min(passes.items()), max(passes.items())
    small_fit, large_fit = s["pool_smallest_train_error_widest"], s["pool_largest_train_error_widest"]
    text = (f"Every pool size gets the same {s['student_steps']:,} steps, so the study changes how often the "
            f"student passes over its pool along with the pool's size: {many:,.1f} passes over {small:,} inputs, "
            f"where the widest teacher's student ends with train error {small_fit:.1%} on its teacher's labels, "
            f"down to {few:,.1f} passes over {large:,} inputs (train error {large_fit:.1%}).")
    if shown_difference(large_fit, small_fit) > 0:
        return text + (" A larger pool here also means less memorisation of the teacher's labels, mistakes "
                       "included; the study does not separate the two.")
    return text


def same_width_sentence(s: dict) -> str:
    """``direct`` against the teacher of the student's own width, as printed. Both are the same model on the
    same labels from the same seed (:data:`ddlib.distill.STUDENT_SEED_OFFSET` leaves ``direct``'s seed alone);
    ``direct`` only trains ``student_steps_factor`` times as long, so the difference is what the extra steps
    do, on these seeds. Where they cost ``direct``, it also says what ``hard_pool`` gains over that teacher.
    Empty where there is no such teacher (the student's width or model is not the sweep's) or ``direct`` trains
    no longer than it."""
    teacher, direct = s["same_width_teacher"], s["direct"]
    if teacher != teacher or direct != direct or s["steps_factor"] == 1:
        return ""
    longer = shown_difference(direct, teacher)  # what the longer schedule costs direct, as printed
    head = (f"`direct` trains the same model on the same labels from the same seed as the teacher of its width, "
            f"with {s['steps_factor']} times as many steps. That teacher has {teacher:.1%} test error against "
            f"`direct`'s {direct:.1%}")
    seeds = f"on these {plural(s['n_student_seeds'], 'seed')}"
    if abs(longer) < MARGIN:
        return f"{head}: the extra steps change little {seeds}."
    if longer < 0:
        return f"{head}: the extra steps help `direct` by {points(-longer)} {seeds}."
    return (f"{head}: the extra steps cost `direct` {points(longer)} {seeds}, so measured against that teacher "
            f"`hard_pool` gains {s['gain_over_same_width_teacher_points']} rather than {s['gain_over_direct_points']}.")


def best_teacher_sentence(s: dict) -> str:
    """Which teacher width gives the best ``hard_pool`` student, and whether it is the widest one; the
    widest teacher's student is "on par" with the best when their printed errors are less than
    :data:`MARGIN` apart."""
    best, widest = s["best_hard_pool_teacher"], s["widest_teacher"]
    head = (f"The best `hard_pool` student comes from the teacher of width {best} "
            f"({s['best_hard_pool_error']:.1%})")
    fits = ", which fits its noisy labels" if s["widest_teacher_interpolates"] else ""
    if best == widest:
        return f"{head}: the widest teacher{fits}, as the paper's story has it."
    behind = shown_difference(s["hard_pool_widest"], s["best_hard_pool_error"])
    if behind < MARGIN:
        level = "the same error as printed" if behind == 0 else f"only {points(behind)} behind"
        return (f"{head}, and the student of the widest teacher (width {widest}{fits}) is on par with it at "
                f"{s['hard_pool_widest']:.1%} ({level}): the paper's story, that the most over-parameterised teacher "
                f"is the one to distil, holds here to within {points(MARGIN)}.")
    return (f"{head}, not from the widest teacher (width {widest}, {s['hard_pool_widest']:.1%}): here the "
            f"paper's story, that the most over-parameterised teacher is the one to distil, does not hold.")


def small_pool_sentence(s: dict) -> str:
    """The smallest pool of the pool study against ``direct``, for both studied teachers (empty where ``direct``
    was not run).

    Compares ``pool_smallest_<teacher>`` with ``direct`` (differences of the printed errors,
    :func:`shown_difference`); a student at least :data:`MARGIN` worse than ``direct`` is "worse", at least
    :data:`MARGIN` better "better", "on par" otherwise. Where the widest teacher's student is worse and that
    teacher errs on more of the test set than ``label_noise``, it says why: the pool, drawn like the test set,
    carries more wrong labels than the labeled set (said as an "if" for a pool of ``.npz`` images,
    ``pool_like_test`` false, which may come from elsewhere, as CIFAR-5m's generated images do).
    """
    if s["direct"] != s["direct"]:
        return ""  # `direct` not run: nothing to set the pool study against
    size, n = s["pool_study_smallest"], s["n_labeled"]
    than = ", as many as the labeled set" if size == n else (", fewer than the labeled set" if size < n else "")
    parts, kinds = [], []
    for name, label in (("widest", f"the widest teacher (width {s['widest_teacher']})"),
                        ("narrow", f"the width-{s['narrow_study_teacher']} teacher")):
        shown = shown_difference(s[f"pool_smallest_{name}"], s["direct"])
        kind = "worse" if shown >= MARGIN else ("better" if shown <= -MARGIN else "on par")
        parts.append((kind, f"on par ({_error_gap(shown)})" if kind == "on par" else points(abs(shown)),
                      label))
        kinds.append(kind)
    if kinds[0] == kinds[1] != "on par":
        said = " and ".join(f"by {amount} with {label}" for _, amount, label in parts)
        text = (f"With the smallest pool ({size:,} inputs{than}), `hard_pool` is {kinds[0]} than `direct` "
                f"({s['direct']:.1%}) with both studied teachers: {said}.")
    else:
        said = " and ".join(f"{amount if kind == 'on par' else f'{amount} {kind}'} with {label}"
                            for kind, amount, label in parts)
        text = f"With the smallest pool ({size:,} inputs{than}), `hard_pool` against `direct` ({s['direct']:.1%}) is {said}."
    if kinds[0] == "worse" and s["teacher_widest"] > s["label_noise"]:
        drawn = ("The pool is drawn like the test set, so" if s.get("pool_like_test", True) else
                 "If the `.npz` pool is drawn like the test set (nothing here checks that it is),")
        text += (f" {drawn} the widest teacher's labels on it are wrong about as "
                 f"often as it errs on the test set ({s['teacher_widest']:.1%}), against {s['label_noise']:.0%} of "
                 f"the labeled set's labels: a pool that small is a noisier training set than the labeled one.")
    return text


def method_table(frame: pd.DataFrame, p: dict) -> pd.DataFrame:
    """Mean test error (over seeds, in per cent with one decimal) per method (rows) and distilled
    teacher width (columns, ``"width 4"``, ...), at the main pool size; ``teacher`` is the teacher itself, over the
    student seeds (:func:`paired`). ``direct`` and ``oracle_pool`` use no teacher, so they repeat in
    every column."""
    pool = p["pool_size"]
    frame = paired(frame, p)
    f = frame[frame["pool_size"].isin([0, pool])]
    table = (f[f["teacher_width"].isin(p["teacher_widths"])]
             .pivot_table(index="teacher_width", columns="method", values="test_error", aggfunc="mean"))
    for method in ("direct", "oracle_pool"):
        rows = f[f["method"] == method]
        if len(rows):
            table[method] = rows["test_error"].mean()
    table.index = table.index.astype(int)
    first = [c for c in ("teacher", "direct") if c in table]
    table = (100 * table[first + [c for c in table if c not in first]]).round(1).T
    table.columns = [f"width {w}" for w in table.columns]  # wider than bare numbers, so the columns breathe
    table.index.name, table.columns.name = "method", "teacher"
    return table


def method_pool(method: str, p: dict) -> int:
    """The pool size of ``method``'s main runs: ``p["pool_size"]`` for a pool method, 0 for the rest."""
    return p["pool_size"] if method in POOL_METHODS else 0


def gains_over_direct(frame: pd.DataFrame, p: dict) -> pd.DataFrame:
    """For each teacher method and teacher width: the gain over ``direct``, ``direct``'s test error minus the
    student's on the same seed, as its mean (``gain``), :func:`standard_error` (``se``) and number of seeds (``n``).
    A positive gain means the student beats the student trained on the labeled data alone. ``direct`` of seed ``s``
    starts from seed ``s`` and a distilled student from ``s`` + 1000, so the two share no randomness and the pairing
    removes no noise: ``se`` is the standard error of a difference of two independent errors."""
    direct = errors_by_seed(frame, "direct")
    rows = []
    for method in TEACHER_METHODS:
        for tw in sorted(frame.loc[frame["method"] == method, "teacher_width"].dropna().unique()):
            both = pd.concat([direct, errors_by_seed(frame, method, int(tw), method_pool(method, p))],
                             axis=1, keys=["direct", "student"]).dropna()
            gains = both["direct"] - both["student"]
            if len(gains):
                rows.append(dict(method=method, teacher_width=int(tw), gain=float(gains.mean()),
                                 se=standard_error(gains), n=len(gains)))
    return pd.DataFrame(rows, columns=["method", "teacher_width", "gain", "se", "n"])


def teacher_seeds_words(p: dict) -> str:
    """Which of the teachers' seeds the chapter's teacher means are over: the students' seeds (each student seed
    distils the teacher of the same seed), said to be all of the double-descent sweep's where they are."""
    students, sweep = set(p["student_seeds"]), set(p["seeds"])
    these = "these seeds" if len(students) > 1 else "this seed"
    if students != sweep:
        return f"{these} only (the double-descent chapter averages them over all {len(sweep)})"
    return f"{these}, " + (f"all {len(sweep)} of the double-descent chapter's" if len(sweep) > 1
                           else "the double-descent chapter's only one")


def plot_methods(frame: pd.DataFrame, p: dict, setting: str = ""):
    """Two panels against teacher width (log axis), one above the other. Top: each method's test error and the teacher's (over the
    student seeds, :func:`paired`), mean ± standard error over seeds, the curves nudged sideways so that their bars
    do not hide each other, ``direct`` as a dashed line over its own ± standard error. Bottom: each method's
    gain over ``direct`` (:func:`gains_over_direct`), mean ± standard error; above zero the student beats
    ``direct``. With one seed there are no bars. ``setting`` ends the title (" at learning rate 0.01", say)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    pool = p["pool_size"]
    frame = paired(frame, p)
    curves = ["teacher", *[m for m in TEACHER_METHODS
                           if ((frame["method"] == m) & (frame["pool_size"] == method_pool(m, p))).any()]]
    colors = dict(zip(["teacher", *TEACHER_METHODS], sns.color_palette(book.PALETTE)))
    markers = dict(zip(["teacher", *TEACHER_METHODS], "osD^v"))
    nudge = {m: 2 ** (0.045 * (i - (len(curves) - 1) / 2)) for i, m in enumerate(curves)}  # x factor, log axis
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 8.6), sharex=True)
    for m in curves:
        f = frame[(frame["method"] == m) & (frame["pool_size"] == method_pool(m, p))]
        by_width = f.groupby("teacher_width")["test_error"]
        mean, se = by_width.mean(), by_width.sem().fillna(0.0)
        top.errorbar(mean.index * nudge[m], mean, yerr=se, color=colors[m], marker=markers[m], ms=5, lw=1.6,
                      capsize=2.5, label=m)
    direct = frame.loc[frame["method"] == "direct", "test_error"]
    if len(direct):
        top.axhline(direct.mean(), color="black", ls="--", lw=1.2, label="direct (no teacher)")
        se = standard_error(direct)
        if se == se:  # not nan: two seeds or more
            top.axhspan(direct.mean() - se, direct.mean() + se, color="black", alpha=0.08, lw=0)
    oracle = frame.loc[(frame["method"] == "oracle_pool") & (frame["pool_size"] == pool), "test_error"]
    if len(oracle):  # far below the rest: written, not drawn, so the curves keep their scale
        top.text(0.01, 0.02, f"oracle_pool (true pool labels, no teacher): {oracle.mean():.1%}",
                  transform=top.transAxes, fontsize=8, color="grey")
    top.set_ylabel("test error")
    top.set_title("Test error")
    gains = gains_over_direct(frame, p)
    for m, g in gains.groupby("method", sort=False):
        bottom.errorbar(g["teacher_width"] * nudge[m], g["gain"], yerr=g["se"].fillna(0.0), color=colors[m],
                       marker=markers[m], ms=5, lw=1.6, capsize=2.5)
    bottom.axhline(0.0, color="black", ls="--", lw=1.2)
    bottom.set_ylabel("gain over direct (percentage points)")
    bottom.set_title("Gain over direct")
    bottom.yaxis.set_major_formatter(lambda v, _: "0" if abs(v) < 1e-9 else f"{100 * v:+g}")
    widths = frame.loc[frame["method"].isin(curves), "teacher_width"].dropna()
    bottom.set_xscale("log", base=2)
    book.label_log_axis(bottom, widths)
    bottom.set_xlabel("teacher width (log scale)")
    book.percent_axis(top)
    students = sorted({int(w) for w in frame["student_width"].dropna()}) if "student_width" in frame else []
    distilled = sorted({int(w) for w in frame.loc[frame["method"].isin(TEACHER_METHODS), "teacher_width"].dropna()})
    fig.suptitle(f"Students of teachers of width {join(distilled)}, by method"
                 + (f" (students of width {students[0]})" if len(students) == 1 else "") + setting, fontweight="bold")
    handles, labels = top.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("direct"))  # direct last, as in the prose
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    # below the axes, where it cannot cover a curve
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize="small", frameon=False)
    return fig


def plot_pool_sizes(frame: pd.DataFrame, teacher_summary: dict, pool_study_sizes):
    """``hard_pool`` student error against pool size, for the two studied teachers (see :func:`run`), with each
    teacher's own test error (dotted, in its student's colour) and ``direct``'s (dashed) as horizontal lines,
    all means over the students' seeds; bars are one standard error of the mean over seeds."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    tws = teacher_summary["study_teachers"]
    f = frame[(frame["method"] == "hard_pool") & frame["teacher_width"].isin(tws)
              & frame["pool_size"].isin(pool_study_sizes)].copy()
    f["teacher"] = "hard_pool, teacher width " + f["teacher_width"].astype(int).astype(str)
    fig, ax = plt.subplots(figsize=(6.5, 4.9))
    sns.lineplot(data=f, x="pool_size", y="test_error", hue="teacher", marker="o", errorbar="se", err_style="bars",
                 ax=ax)
    colors = {line.get_label(): line.get_color() for line in ax.get_lines()}
    seeds = set(f["seed"])  # the teachers of the students' own seeds, as in the prose
    for tw in tws:
        own = frame[(frame["method"] == "teacher") & (frame["teacher_width"] == tw) & frame["seed"].isin(seeds)]
        if len(own):
            ax.axhline(own["test_error"].mean(), ls=":", lw=1.2, color=colors.get(f"hard_pool, teacher width {tw}", "0.3"),
                       label=f"teacher of width {tw} itself")
    direct = frame[(frame["method"] == "direct") & frame["seed"].isin(seeds)]
    if len(direct):
        ax.axhline(direct["test_error"].mean(), ls="--", lw=1.2, color="0.35", label="direct (no teacher, no pool)")
    ax.set_xscale("log")
    book.label_log_axis(ax, pool_study_sizes)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="small")
    ax.set_xlabel("unlabeled pool size (log scale)")
    ax.set_ylabel("test error")
    book.percent_axis(ax)
    ax.set_title("hard_pool student against the size of the unlabeled pool")
    fig.tight_layout()
    return fig
