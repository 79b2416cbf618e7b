"""Method batching: the distillation chapter's students, grouped by their targets vs by their inputs.

Students that train on the same inputs (the labeled set, or the same pool) but differ in their
targets (method, teacher, temperature, alpha) can share one ensemble, each member with its own loss
(:func:`ddlib.losses.kd_loss_per_member`); ``run_configs(method_batch=False)`` (or
``DDLIB_METHOD_BATCH=0``) groups only students with identical targets, which in this chapter, where
each student seed distils its own teacher, is one student per ensemble. This script trains the chapter's
teachers once (untimed), then times the chapter's main student sweep (every method and teacher, the
largest pool; not the pool-size study) both ways, each into its own copy of the teachers' store, in
one process (data, training, evaluation, storing), and prints ``ratio = separate / batched``::

    PYTHONPATH=. python benchmarks/method_batching.py --preset default \
        --csv benchmarks/results/method-batching/cpu-distillation.csv
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ddlib import ResultStore, records_frame, run_configs  # noqa: E402
from ddlib.chapters import distillation  # noqa: E402
from ddlib.chapters import double_descent as dd  # noqa: E402
from ddlib.devices import resolve_device  # noqa: E402
from timing import device_name  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="default", help="the distillation chapter's preset")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--csv", default=None, help="also write the result (with date and device) to this CSV")
    args = p.parse_args(argv)
    params = distillation.resolve_params(args.preset, device=args.device)
    device = device_name(resolve_device(args.device))
    with tempfile.TemporaryDirectory() as root:
        teachers = ResultStore(Path(root) / "teachers")
        sweep = records_frame(run_configs(dd.sweep_configs(params), store=teachers, device=args.device,
                                          progress=False).records)
        width = distillation.plan_students(params, sweep, teachers)["width"]
        students = distillation.student_configs(params, width, params["teacher_widths"], [params["pool_size"]],
                                                params["methods"])
        print(f"device: {device} | torch {torch.__version__} | distillation {args.preset}: {len(students)} students "
              f"of width {width}, methods {', '.join(params['methods'])}", flush=True)
        seconds, computed, groups = {}, {}, {}
        for batched in (False, True):
            store = Path(root) / f"students-{batched}"
            shutil.copytree(teachers.root, store)
            started = time.perf_counter()
            out = run_configs(students, store=ResultStore(store), device=args.device, progress=False,
                              method_batch=batched)
            seconds[batched], computed[batched] = time.perf_counter() - started, out.computed
            trained = {r["hash"]: r for r in out.records if r["hash"] in out.computed_hashes}.values()
            groups[batched] = round(sum(1 / r["provenance"]["group_size"] for r in trained))
            print(f"method_batch={batched}: {seconds[batched]:.1f} s in {groups[batched]} ensembles ({out.summary()})",
                  flush=True)
    ratio = seconds[False] / seconds[True]
    print(f"ratio (separate / batched): {ratio:.2f}")
    if args.csv:
        import pandas as pd

        pd.DataFrame([{"date": time.strftime("%Y-%m-%d"), "device": device, "torch": torch.__version__,
                       "sweep": f"distillation {args.preset} students", "runs": computed[True],
                       "separate_s": seconds[False], "batched_s": seconds[True], "ratio": ratio,
                       "groups_separate": groups[False], "groups_batched": groups[True]}]).to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
