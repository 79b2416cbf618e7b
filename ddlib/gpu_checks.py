"""What the GPU check scripts' logs say, in words for the full-scale appendix: the newest
``cuda-graph-check-*.log`` (``benchmarks/cuda_graph_check.py``: graphed against eager training) and the newest
``cifar-gpu-check-*.log`` (``benchmarks/cifar_gpu_check.py``: the CIFAR training path on a GPU), each chosen by
the date in its name. The benchmark CSVs are :mod:`ddlib.gpu_report`'s."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .gpu_report import RESULTS, _compile_mode, _cuda_graph, _device_words, _fused_adam
from .train import LOSS_READ_EVERY

_CHECK_LINE = re.compile(r"^\[1\] (\S+) w\d+: .*graph/eager (\S+)(?:  graph/eager-capturable-Adam (\S+))?")


def _dated_name(path: Path) -> tuple[str, str]:
    """Sort key: the date in a file's name (``...-2026-12-04.log``; none sorts first), then the name."""
    found = re.search(r"\d{4}-\d{2}-\d{2}", path.name)
    return (found.group() if found else "", path.name)


def capturable_adam_sentence(folder: Path | str = RESULTS) -> str:
    """What the newest ``cuda-graph-check-*.log`` in ``folder`` (by the date in its name) says of graph against eager training: the
    relative parameter difference per model to the ordinary eager loop and, once the script has run with
    it, to an eager loop with Adam's capturable form (the graph's optimiser), which isolates the optimiser."""
    logs = sorted(Path(folder).glob("cuda-graph-check-*.log"), key=_dated_name)
    rows = [m.groups() for m in map(_CHECK_LINE.match, logs[-1].read_text().splitlines() if logs else []) if m]
    if not rows:
        return "No GPU run of `benchmarks/cuda_graph_check.py` is stored."
    plain = ", ".join(f"{float(d):.1e} ({name})" for name, d, _ in rows)
    text = (f"After the check's short bf16 runs (`{logs[-1].name}`), the graphed and eager parameters differ by "
            f"{plain} relative to their size.")
    if any(c is None for _, _, c in rows):
        return text + (" The script now also trains eagerly with the capturable Adam, which should match the graph "
                       "bit for bit; that comparison has not run on a GPU yet.")
    capturable = [float(c) for _, _, c in rows]
    verdict = ("so the capturable Adam accounts for the whole difference" if max(capturable) == 0
               else "so the capturable Adam does not account for the whole difference")
    return text + (" Against an eager loop with the capturable Adam they differ by "
                   + ", ".join(f"{c:.1e} ({name})" for (name, _, _), c in zip(rows, capturable)) + f", {verdict}.")


#: The batch of ``benchmarks/cifar_gpu_check.py``'s throughput step [5], which prints steps per second.
CIFAR_CHECK_BATCH = 128


def cifar_check_summary(folder: Path | str = RESULTS, fused_runs: pd.DataFrame | None = None) -> str:
    """What the newest ``cifar-gpu-check-*.log`` in ``folder`` (``benchmarks/cifar_gpu_check.py``, by the date in
    its name) says of the CIFAR path on a GPU, as a line naming the card and log and then a Markdown list, one
    labelled item per check the log holds: its sweep's reloaded errors against the stored ones, resume
    bit-identity, host-device synchronisations per step against the loss reads the loop makes (step 0, every
    :data:`LOSS_READ_EVERY`, the last), the compiled run's losses, and ResNet-18's images/s at k = 64 with the
    library's defaults, against ``fused_runs``' graphed, uncompiled one-model row of that card at k = 64 (the
    throughput benchmark's same loop) where there is one."""
    logs = [(p, p.read_text().splitlines()) for p in sorted(Path(folder).glob("cifar-gpu-check-*.log"), key=_dated_name)]
    logs = [(p, lines, m) for p, lines in logs for m in [next(filter(None, map(_CIFAR_HEADER.match, lines)), None)] if m]
    if not logs:  # a log without its header line (a run cut short at the start) does not count
        return "No GPU run of `benchmarks/cifar_gpu_check.py` is stored."
    path, lines, header = logs[-1]
    device, date = header.group(1), header.group(2)
    runs = [m.groups() for m in map(_CIFAR_RUN.match, lines) if m]
    resume = next((m.groups() for m in map(_CIFAR_RESUME.match, lines) if m), None)
    syncs = next((m.group(1) for m in map(_CIFAR_SYNCS.match, lines) if m), None)
    compiled = next((m.groups() for m in map(_CIFAR_COMPILE.match, lines) if m), None)
    speeds = {(int(k), int(m), c == "True"): (float(r) * CIFAR_CHECK_BATCH, loop)
              for k, m, c, r, loop in (m.groups() for m in map(_CIFAR_SPEED.match, lines) if m)}
    parts = []  # (label, what the check found), one list item each
    if runs:
        reloaded_ok = all(test == reloaded for _, test, reloaded, _ in runs)
        nhwc = all(cl == "True" for *_, cl in runs)
        parts.append(("Store", f"a sweep of {len(runs)} runs ({', '.join(sorted({r[0] for r in runs}))}) on tiny random "
                      f"CIFAR-format files read through `torchvision.datasets`, whose weights, reloaded from the store, "
                      f"{'give every' if reloaded_ok else 'do not give every'} stored test error"
                      + ("" if nhwc else " (not every model channels-last)")))
    if resume:
        parts.append(("Determinism and resume",
                      f"two runs with deterministic cuDNN {'were' if resume[0] == 'True' else 'were not'} "
                      f"bit-identical, and a run resumed from its step-{resume[1]} checkpoint "
                      f"{'was' if resume[2] == 'True' else 'was not'} bit-identical to an uninterrupted one"))
    if syncs is not None:
        counts = [int(c) for c in syncs.strip("[]").split(",") if c.strip()]
        last = len(counts)  # the list covers steps 1..last
        extra = [s for s, c in enumerate(counts, start=1) if c and not (s % LOSS_READ_EVERY == 0 or s == last)]
        seen = (f"in a {last + 1}-step cnn5 run with cuDNN's autotuning off (steps 1 to {last} observed), ")
        parts.append(("Host waits", seen + ("no step synchronised the host with the device except where the loop "
                                            "reads the loss back (the last step)" if not extra else
                                            f"steps {', '.join(map(str, extra))} synchronised the host with the "
                                            f"device where the loop reads no loss")))
    if compiled:
        parts.append(("Compiled", f"`DDLIB_COMPILE=1` trained (loss {float(compiled[0]):.2f} to "
                                  f"{float(compiled[1]):.2f} in 30 steps)"))
    (plain, loop), faster = speeds.get((64, 1, False), (None, None)), speeds.get((64, 1, True), (None, None))[0]
    if plain:
        how = (f"({loop})" if loop else "(the whole step as a CUDA graph and Adam's fused form; "
               "this run did not log them)")
        speed = (f"`train_ensemble` with the library's defaults on CUDA {how} on random CIFAR-shaped images "
                 f"trained ResNet-18 at $k = 64$ at {plain:,.0f} images/s" + (f" ({faster:,.0f} compiled)" if faster else ""))
        row = None
        if fused_runs is not None and not fused_runs.empty:
            same = fused_runs[(fused_runs["device"] == device) & (fused_runs["k"] == 64) & (fused_runs["members"] == 1)
                              & _cuda_graph(fused_runs) & _fused_adam(fused_runs) & (_compile_mode(fused_runs) == "off")]
            if "batch_size" in same:
                same = same[same["batch_size"] == CIFAR_CHECK_BATCH]
            row = None if same.empty else same.sort_values(["date", "file"]).iloc[-1]
        parts.append(("Speed", speed + ("" if row is None else
                      f", {plain / row['ours_images_per_s']:.2f} times what the throughput benchmark measured for "
                      f"the same loop (its fused-Adam run, not the foreach rows of the table below: "
                      f"{row['ours_images_per_s']:,.0f} images/s, {row['date']})")))
    if not parts:
        return f"The newest log of `benchmarks/cifar_gpu_check.py` (`{path.name}`) holds no result of its checks."
    return (f"On {_device_words(device)} on {date} (`{path.name}`), `benchmarks/cifar_gpu_check.py` checked this "
            f"path:\n\n" + "\n".join(f"- **{label}**: {what}." for label, what in parts))


_CIFAR_HEADER = re.compile(r"^device: (.+?) \| torch \S+ \| (\d{4}-\d{2}-\d{2})")
_CIFAR_RUN = re.compile(r"^\s+(\S+) w\d+ s\d+: train \S+ test (\S+) reloaded test (\S+) .*channels_last (\S+)")
_CIFAR_RESUME = re.compile(r"^\[2\] two uninterrupted runs identical: (\S+); resumed \(from step (\d+)\) identical: (\S+)")
_CIFAR_SYNCS = re.compile(r"^\[3\] sync warnings per step \(steps 1\.\.\d+\): (\[[^\]]*\])")
_CIFAR_COMPILE = re.compile(r"^\[4\] DDLIB_COMPILE=1: .*losses \[(\S+), (\S+)\]")
_CIFAR_SPEED = re.compile(r"^\[5\] \S+ k=(\d+) members=(\d+) compile=(\S+): (\S+) steps/s(?:.*\| loop: (.+))?")
