#!/usr/bin/env bash
# The GPU checks still open for the full-scale issue, as one script for one device session: at most
# 7 minutes on an H100/H200 (each step has its own timeout; the CSVs are written after every
# measurement, so a step cut short keeps what it measured). Run it with a timeout of ~7.5 minutes:
#
#   1. eager: one model and 8 seeds grouped against the same DataLoader baseline, in ONE run, for
#      k = 1, 4, 16, 64 (200 timed steps each, so the baseline's prefetched batches do not flatter it);
#   2. torch.compile(mode="reduce-overhead") (CUDA graphs), the lever for the per-step launch
#      overhead that bounds one model at k <= 16: k = 16, one model and 8 seeds, with the baseline
#      (compiling costs about a minute per model, so one width);
#   3. width batching: ResNet-18 at k = 1..4, 1..8 and 1..16 (one seed each, as the paper preset),
#      one ensemble per width against all widths zero-padded into one (benchmarks/width_batching.py).
#
# Results land in $OUT (default benchmarks/results/new). Copy its throughput CSVs (and logs) into
# benchmarks/results/ and $OUT/width-batching/* into benchmarks/results/width-batching/: the appendix cites the newest eager run and lists compiled runs apart
# (ddlib.gpu_report.current_runs). Nothing here downloads: the data are synthetic CIFAR-shaped images.
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/results/new}
mkdir -p "$OUT/width-batching"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/device.txt"
timeout 150 python3 benchmarks/train_throughput.py --k 1 4 16 64 --members 1 8 --steps 200 \
    --csv "$OUT/gpu-resnet18-eager.csv" 2>&1 | tee "$OUT/gpu-resnet18-eager.log"
echo "eager: exit $?"
timeout 165 python3 benchmarks/train_throughput.py --k 16 --members 1 8 --steps 200 --warmup 10 \
    --compile-mode reduce-overhead \
    --csv "$OUT/gpu-resnet18-reduce-overhead.csv" 2>&1 | tee "$OUT/gpu-resnet18-reduce-overhead.log"
echo "reduce-overhead: exit $?"
timeout 90 python3 benchmarks/width_batching.py --model resnet18 --widths 1,2,3,4 1,2,3,4,5,6,7,8 \
    "$(seq -s, 1 16)" --seeds 1 --steps 100 --lr 1e-4 \
    --csv "$OUT/width-batching/gpu-resnet18.csv" 2>&1 | tee "$OUT/width-batching/gpu-resnet18.log"
echo "width batching: exit $?"
