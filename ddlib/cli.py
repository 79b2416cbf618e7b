"""``python -m ddlib run CHAPTER --preset NAME [-p NAME VALUE]...``

Validates the parameters with the chapter's own checks (so bad input fails before a kernel
starts), then executes ``book/CHAPTER.ipynb`` with papermill, streaming the notebook's output,
keeps the executed notebook under ``runs/`` and ends with ``runs: N computed, M reused``, every distinct run
the chapter asked for counted once (a chapter that trains nothing prints ``runs: none (this chapter trains
nothing)``).
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from pathlib import Path

from .chapters import CHAPTERS, chapter_module
from .cifar import CIFAR_DATASETS, require_files
from .paths import REPO_ROOT, data_dir, download_allowed, results_root
from .runner import CHAPTER_TOTAL
from .store import ResultStore
from .validation import ConfigError

#: The kernel logs only what stops it: not its TCP notice at start, nor the traceback of a reply it could not
#: send when Ctrl-C shuts it down mid-cell (the cell's own output and errors still come through papermill).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
SUMMARY = re.compile(r"(" + re.escape(CHAPTER_TOTAL) + r" )?runs: (\d+) computed, (\d+) reused")



def _parse_value(text: str):
    """Like papermill's ``-p``: ints, floats, booleans and None are converted, the rest kept as text."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def runs_summary(nb) -> str:
    """One ``runs: N computed, M reused`` line for the executed notebook: its chapter total (the last line
    that starts with :data:`~ddlib.runner.CHAPTER_TOTAL`, every distinct run once) where it prints one, else
    the sum of its ``runs:`` lines (a run two sweeps share then counts in each)."""
    found = [m.groups() for cell in nb.cells for out in cell.get("outputs", [])
             for m in SUMMARY.finditer(out["text"] if isinstance(out.get("text"), str) else "")]
    totals = [(int(c), int(r)) for mark, c, r in found if mark]
    counts = totals[-1:] or [(int(c), int(r)) for _, c, r in found]
    if not counts:
        return "runs: none (this chapter trains nothing)"
    return f"runs: {sum(c for c, _ in counts)} computed, {sum(r for _, r in counts)} reused"


def _allows(module, preset: str, name: str, value) -> bool:
    try:
        module.resolve_params(preset, **{name: value})
        return True
    except ConfigError:
        return False


def _require_cifar_unless_all_stored(module, params: dict) -> None:
    """Missing CIFAR files (downloads off) fail fast too, unless every run the chapter asks for is already
    stored (``module.planned_configs``), so that nothing would read them: stored GPU runs rebuild a chapter
    anywhere."""
    try:
        require_files(params["dataset"], data_dir(), download_allowed())
    except ConfigError:
        store = ResultStore()
        planned = getattr(module, "planned_configs", None)
        if planned is None or not all(store.has(c) for c in planned(params, store)):
            raise


def run_chapter(chapter: str, preset: str, overrides: dict, out_dir: Path | None = None) -> Path:
    """Execute one chapter with papermill and return the path of the executed notebook."""
    import papermill

    module = chapter_module(chapter)
    params = module.resolve_params(preset, **overrides)  # fail fast, before any kernel starts
    for name, value in overrides.items():  # None means "not given" to the chapter: it would run the preset's value
        if value is None and params.get(name) is not None:
            empty = " ('[]' for none)" if isinstance(params[name], list) and _allows(module, preset, name, []) else ""
            raise ConfigError(f"-p {name} None would keep the preset's value {params[name]!r} (None means 'not "
                              f"given'); give {name} a value{empty}")
    if params.get("dataset", "mnist1d") in CIFAR_DATASETS:
        _require_cifar_unless_all_stored(module, params)
    out_dir = Path(out_dir or REPO_ROOT / "runs")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{chapter}-{preset}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
    nb = papermill.execute_notebook(
        str(REPO_ROOT / "book" / f"{chapter}.ipynb"), str(out), parameters={"preset": preset, **overrides},
        cwd=str(REPO_ROOT / "book"), log_output=True, progress_bar=False, kernel_name="python3",
        extra_arguments=KERNEL_ARGUMENTS)
    print(runs_summary(nb))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ddlib", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute a chapter with papermill")
    run.add_argument("chapter", help=f"one of {', '.join(CHAPTERS)}")
    run.add_argument("--preset", default="default", help="smoke, default or paper (default: default)")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="override a parameter of the chapter (repeatable)")
    run.add_argument("--out-dir", default=None, help="where to keep the executed notebook (default: runs/)")
    args = parser.parse_args(argv)
    overrides = {name: _parse_value(value) for name, value in args.parameter}
    try:
        out = run_chapter(args.chapter, args.preset, overrides, args.out_dir)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C reaches the kernel too, and the client shuts it down: nbclient's pending cell then fails with
        # DeadKernelError in a task nobody awaits any more, which asyncio would print as "Task exception was never
        # retrieved" with a traceback when the task is collected (seen once in CI). The interrupt is reported below.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        print(f"interrupted: every run that had finished is stored in {results_root() / 'store'}; the same "
              f"command resumes from there and recomputes none of them", file=sys.stderr)
        return 130  # the shell's code for a run stopped by SIGINT (128 + 2)
    print(f"executed notebook: {out}")
    return 0
