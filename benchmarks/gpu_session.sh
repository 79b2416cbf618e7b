#!/usr/bin/env bash
# The GPU checks of the full-scale issue, as one script for one device session, most informative first.
# Every step runs only if enough of $BUDGET seconds (default 540) is left, under a timeout that fits in
# what is left; the CSVs are written after every measurement, so a step cut short keeps what it measured.
# Run it with a timeout of ~9.5 minutes:
#
#   1. the whole-step CUDA graph (ddlib.cuda_graph) against the eager loop: same weights within
#      rounding (against eager with the capturable Adam: bit for bit on the H200, 2026-12-04), resume from a
#      checkpoint, a tiny sweep with the library's defaults (benchmarks/cuda_graph_check.py);
#   2. groups at once (ddlib.concurrency; with its capture guard, measured on the H200 on 2026-12-04): ResNet-18 widths above 16,
#      one after another against each on its own CUDA stream, 4 and 8 groups, with the aggregate MFU
#      at k = 61..64 (benchmarks/concurrent_groups.py); 200 timed steps on 50,000 images, as the throughput
#      step times its loop (on 2026-12-04 this setting and 100 steps on 1,000 images both trained one model
#      0.69-0.82 times as fast per step as the throughput loop interpolated to those widths: step 2b asks why);
#   2b. channel alignment: the graphed one-model loop (Adam's foreach form, as step 3) at widths whose stage channels
#      (w, 2w, 4w, 8w) are not all multiples of 8 beside the aligned 16, 24, 32 and 64, 200 timed steps each: on
#      2026-12-04 groups one after another at such widths trained 0.69-0.82 times what the throughput loop,
#      interpolated between k = 16 and 64, predicts, in either setting (100 steps on 1,000 images, 200 on 50,000);
#      tensor-core convolutions in 16-bit precision want channel counts divisible by 8 (NVIDIA's convolution
#      performance guide), so this tells whether the sweep projection is low for unaligned widths; each unaligned
#      width is timed a second time with its stages rounded up to multiples of 8, zero-padded
#      (--channel-align 1 8; ddlib.channel_alignment, $DDLIB_CHANNEL_ALIGN), which tells whether padding pays;
#   3. throughput: eager and graphed, one model and 8 seeds grouped, against the same DataLoader
#      baseline, in ONE run, for k = 1, 4, 16, 64 (200 timed steps each, so the baseline's
#      prefetched batches do not flatter it), with Adam's foreach form (DDLIB_FUSED_OPTIMIZER=off: the form
#      of every earlier run of this step, which the appendix cites);
#   3b. Adam's fused form (DDLIB_FUSED_OPTIMIZER=on, the library's default on CUDA since the H200 measured it
#      faster on 2026-12-04): the graphed loop, one model, k = 1, 16, 64, against step 3's rows of the same
#      session (the appendix's roofline section reads $OUT/fused-adam/ once copied to
#      benchmarks/results/fused-adam/);
#   4. the book's chapters, when the mnist1d package is there (below);
#   5. where a step's device time goes, per kind of operation, against its roofline (ddlib.roofline):
#      ResNet-18 at k = 16, 17 (channels not multiples of 8: which kinds of kernel slow down) and 64, eager steps
#      under torch.profiler (benchmarks/kernel_profile.py);
#   6. width batching with the library's defaults (graph on): ResNet-18 at k = 1..4, 1..8 and
#      1..16 (one seed each, as the paper preset), one ensemble per width against all widths
#      zero-padded into one (benchmarks/width_batching.py);
#   7. the CIFAR training path on the device (benchmarks/cifar_gpu_check.py): a tiny sweep on CIFAR-format
#      files through torchvision's class, checkpoint/resume bit-identity, host syncs per step, DDLIB_COMPILE=1;
#   8. the MFU attempt at k = 64: the graphed loop with torch.compile ($MFU_MODE, default
#      max-autotune-no-cudagraphs: its kernel search) and Adam's fused form, the two levers the roofline count
#      says the 40% target needs (ddlib.roofline.fused), $MFU_MEMBERS (default "1 8") seeds, no baseline (its CSV
#      rows carry their compile mode and Adam's form; the appendix's compile note reads them).
#
# $STEPS picks steps by key (default all, in this order): aligned graph groups throughput fused chapters profile widths
# cifar mfu. Their order in $STEPS does not matter, only which are named.
#
# Steps 2, 2b, 3 and 6 pin Adam's foreach form (DDLIB_FUSED_OPTIMIZER=off), as their committed runs and the
# appendix's sweep projection use it; step 4 runs the library's defaults (fused Adam on CUDA).
#
# Results land in $OUT (default benchmarks/results/new). Copy $OUT/channel-alignment/* into
# benchmarks/results/channel-alignment/, the throughput CSV and log into
# benchmarks/results/, $OUT/width-batching/* into benchmarks/results/width-batching/ and
# $OUT/concurrent-groups/* into benchmarks/results/concurrent-groups/, $OUT/kernel-profile/* into
# benchmarks/results/kernel-profile/ and $OUT/fused-adam/* into benchmarks/results/fused-adam/ (add the card
# to the names); the
# appendix cites the newest run (ddlib.gpu_report). With $RESULTS_TAR set, everything in $OUT is also packed
# into that one archive after every step (the device tool returns at most 8 files, and this writes more).
# Nothing here downloads: the data are synthetic CIFAR-shaped images.
set -u -o pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/results/new}
ALL_STEPS="aligned graph groups throughput fused chapters profile widths cifar mfu"
for key in ${STEPS:-}; do  # a mistyped key would otherwise run nothing and still spend the device's time
    if [[ " $ALL_STEPS " != *" $key "* ]]; then
        echo "STEPS: unknown step '$key'; the steps are: $ALL_STEPS (space-separated)" >&2
        exit 2
    fi
done
mkdir -p "$OUT/width-batching" "$OUT/concurrent-groups" "$OUT/channel-alignment" "$OUT/kernel-profile" "$OUT/fused-adam"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader | tee "$OUT/device.txt"
# step KEY NAME SECONDS LOG COMMAND...: unless $STEPS leaves KEY out, run COMMAND (its output also into LOG) under a timeout of SECONDS, or of what
# is left of the budget if less (killed 10 s after the TERM if it ignores it); skipped when less than
# $MIN_LEFT seconds (default 60) are left. The allowances add up to more than the budget on purpose:
# later steps get what the earlier ones left.
step() {
    local key=$1 name=$2 want=$3 log=$4 left=$(( ${BUDGET:-540} - SECONDS ))
    shift 4
    if [[ " ${STEPS:-$ALL_STEPS} " != *" $key "* ]]; then
        return
    fi
    if (( left < ${MIN_LEFT:-60} )); then
        echo "$name: skipped (${left} s left of ${BUDGET:-540})"
        return
    fi
    timeout -k 10 $(( want < left ? want : left )) "$@" 2>&1 | tee "$log"
    echo "$name: exit ${PIPESTATUS[0]} ($(( ${BUDGET:-540} - SECONDS )) s left)"
    if [[ -n ${RESULTS_TAR:-} ]]; then tar czf "$RESULTS_TAR" -C "$OUT" .; fi
}
# step 2b first: the open question (is the sweep projection low for unaligned widths, and does padding pay?)
DDLIB_FUSED_OPTIMIZER=off step aligned "channel alignment" 180 "$OUT/channel-alignment/gpu-resnet18.log" python3 benchmarks/train_throughput.py \
    --k 16 17 20 24 29 31 32 57 61 63 64 --members 1 --cuda-graph on --channel-align 1 8 --steps 200 --skip-baseline \
    --csv "$OUT/channel-alignment/gpu-resnet18.csv"
step graph "cuda graph check" 90 "$OUT/cuda-graph-check.log" python3 benchmarks/cuda_graph_check.py
DDLIB_FUSED_OPTIMIZER=off step groups "groups at once" 180 "$OUT/concurrent-groups/gpu-resnet18.log" python3 benchmarks/concurrent_groups.py \
    --widths 17,18,19,20 29,30,31,32 61,62,63,64 57,58,59,60,61,62,63,64 --steps 200 --n-train 50000 \
    --csv "$OUT/concurrent-groups/gpu-resnet18.csv"
DDLIB_FUSED_OPTIMIZER=off step throughput "throughput" 200 "$OUT/gpu-resnet18.log" python3 benchmarks/train_throughput.py --k 1 4 16 64 --members 1 8 \
    --cuda-graph off on --steps 200 --csv "$OUT/gpu-resnet18.csv"
DDLIB_FUSED_OPTIMIZER=on step fused "fused Adam" 60 "$OUT/fused-adam/gpu-resnet18.log" python3 benchmarks/train_throughput.py \
    --k 1 16 64 --members 1 --cuda-graph on --steps 200 --skip-baseline --csv "$OUT/fused-adam/gpu-resnet18.csv"
# 4. the book's chapters with the library's defaults (needs the mnist1d package, which the device image
#    lacks: carry its wheel, e.g. `pip download --no-deps -d .whl mnist1d` here, `carry: [".whl"]`, and
#    `pip install --no-index --no-deps --target /tmp/site .whl/*.whl; export PYTHONPATH=/tmp/site` there).
if python3 -c "import mnist1d" 2>/dev/null; then
    mkdir -p "$OUT/chapters"
    step chapters "chapters" 60 "$OUT/chapters/gpu.log" python3 benchmarks/gpu_chapters.py --csv "$OUT/chapters/gpu.csv"
elif [[ " ${STEPS:-$ALL_STEPS} " == *" chapters "* ]]; then
    echo "chapters: skipped (no mnist1d package)"
fi
step profile "kernel profile" 80 "$OUT/kernel-profile/gpu-resnet18.log" python3 benchmarks/kernel_profile.py --k 16 17 64 \
    --csv "$OUT/kernel-profile/gpu-resnet18.csv"
DDLIB_FUSED_OPTIMIZER=off step widths "width batching" 90 "$OUT/width-batching/gpu-resnet18.log" python3 benchmarks/width_batching.py --model resnet18 \
    --widths 1,2,3,4 1,2,3,4,5,6,7,8 "$(seq -s, 1 16)" --seeds 1 --steps 100 --lr 1e-4 \
    --csv "$OUT/width-batching/gpu-resnet18.csv"
step cifar "CIFAR path" 240 "$OUT/cifar-gpu-check.log" python3 benchmarks/cifar_gpu_check.py
MFU_MODE=${MFU_MODE:-max-autotune-no-cudagraphs}
DDLIB_FUSED_OPTIMIZER=on MIN_LEFT=90 step mfu "MFU attempt ($MFU_MODE, fused Adam)" 600 "$OUT/gpu-resnet18-compiled-fused.log" \
    python3 benchmarks/train_throughput.py --k 64 --members ${MFU_MEMBERS:-1 8} --cuda-graph on --compile-mode "$MFU_MODE" \
    --steps 200 --warmup 10 --skip-baseline --csv "$OUT/gpu-resnet18-compiled-fused.csv"
