#!/usr/bin/env bash
# The GPU checks of the full-scale issue, as one script for one device session. Each step has its own
# timeout (together 9 minutes; steps 1-3 took 3 minutes on an H200 on 2026-11-26); the CSVs are written
# after every measurement, so a step cut short keeps what it measured. Run it with a timeout of ~9.5 minutes:
#
#   1. the whole-step CUDA graph (ddlib.cuda_graph) against the eager loop: same weights within
#      rounding, resume from a checkpoint, a tiny sweep with the library's defaults
#      (benchmarks/cuda_graph_check.py);
#   2. throughput: eager and graphed, one model and 8 seeds grouped, against the same DataLoader
#      baseline, in ONE run, for k = 1, 4, 16, 64 (200 timed steps each, so the baseline's
#      prefetched batches do not flatter it);
#   3. width batching with the library's defaults (graph on): ResNet-18 at k = 1..4, 1..8 and
#      1..16 (one seed each, as the paper preset), one ensemble per width against all widths
#      zero-padded into one (benchmarks/width_batching.py);
#   4. the book's chapters, when the mnist1d package is there (below);
#   5. with what is left of $BUDGET seconds (default 540): the MFU attempt at k = 64, the graphed loop
#      with torch.compile's kernel search (max-autotune-no-cudagraphs), one model and 8 seeds, no
#      baseline (its CSV rows carry their compile mode; the appendix's compile note reads them).
#
# Results land in $OUT (default benchmarks/results/new). Copy the throughput CSV and log into
# benchmarks/results/ and $OUT/width-batching/* into benchmarks/results/width-batching/ (add the card
# to the names); the appendix cites the newest run (ddlib.gpu_report). Nothing here downloads: the
# data are synthetic CIFAR-shaped images.
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/results/new}
mkdir -p "$OUT/width-batching"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader | tee "$OUT/device.txt"
timeout 100 python3 benchmarks/cuda_graph_check.py 2>&1 | tee "$OUT/cuda-graph-check.log"
echo "cuda graph check: exit $?"
timeout 240 python3 benchmarks/train_throughput.py --k 1 4 16 64 --members 1 8 --cuda-graph off on --steps 200 \
    --csv "$OUT/gpu-resnet18.csv" 2>&1 | tee "$OUT/gpu-resnet18.log"
echo "throughput: exit $?"
timeout 90 python3 benchmarks/width_batching.py --model resnet18 --widths 1,2,3,4 1,2,3,4,5,6,7,8 \
    "$(seq -s, 1 16)" --seeds 1 --steps 100 --lr 1e-4 \
    --csv "$OUT/width-batching/gpu-resnet18.csv" 2>&1 | tee "$OUT/width-batching/gpu-resnet18.log"
echo "width batching: exit $?"
# 4. the book's chapters with the library's defaults (needs the mnist1d package, which the device image
#    lacks: carry its wheel, e.g. `pip download --no-deps -d .whl mnist1d` here, `carry: [".whl"]`, and
#    `pip install --no-index --no-deps --target /tmp/site .whl/*.whl; export PYTHONPATH=/tmp/site` there).
if python3 -c "import mnist1d" 2>/dev/null; then
    mkdir -p "$OUT/chapters"
    timeout 90 python3 benchmarks/gpu_chapters.py --csv "$OUT/chapters/gpu.csv" > "$OUT/chapters/gpu.log" 2>&1
    echo "chapters: exit $?"
else
    echo "chapters: skipped (no mnist1d package)"
fi
# 5. the MFU attempt, only with the time left (a compile with kernel search takes minutes).
left=$(( ${BUDGET:-540} - SECONDS ))
if (( left > 90 )); then
    timeout "$left" python3 benchmarks/train_throughput.py --k 64 --members 1 8 --cuda-graph on \
        --compile-mode max-autotune-no-cudagraphs --steps 200 --warmup 10 --skip-baseline \
        --csv "$OUT/gpu-resnet18-autotune.csv" 2>&1 | tee "$OUT/gpu-resnet18-autotune.log"
    echo "MFU attempt (max-autotune-no-cudagraphs): exit $? after ${left} s allowed"
else
    echo "MFU attempt: skipped (${left} s left of ${BUDGET:-540})"
fi
