#!/usr/bin/env bash
# Trains the demo model on the GPU machine (docs/DEMO_MODEL.md): configure and build svdit-train-demo (a CUDA
# build: only there does svdit_torch link torch_cuda, without which LibTorch sees no GPU), train for the time left in the call, and copy the results to $OUT (the
# device tool's return folder; at most 8 files of ≤ 16 MiB): model.safetensors, config.json, train_log.csv,
# summary.json, loss_curve.png, samples.png, ground_truth.png, train.log. The checkpoint stays in the run folder
# (--resume continues from it while the machine is warm).
#
#   scripts/train-demo.sh                     build, train until --deadline seconds after the start, copy results
#   scripts/train-demo.sh --resume            continue the previous run's checkpoint (same machine, same options)
#   options: --deadline S (total seconds this script may take, build included; default 560)
#            --minutes M (cap the training run itself)   --build-dir DIR (build-train)
#            --schedule-minutes M (first run only: the learning-rate schedule spans M minutes of training, this run
#                                  and the --resume runs after it; each run still stops at its own deadline)
#            --run-dir DIR (<build-dir>/run)   --extra "..." (more svdit train-demo options)
#   Across several device calls (the machine keeps files outside the carried paths while warm; issue the next call
#   at once), e.g. 15 minutes of training in two calls, the checkpoint in a fixed folder:
#     scripts/train-demo.sh --run-dir /tmp/demo-train --deadline 500 --schedule-minutes 14.5
#     scripts/train-demo.sh --run-dir /tmp/demo-train --deadline 500 --resume
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)

BUILD_DIR=build-train
RUN_DIR=""
DEADLINE=560
MINUTES=""
SCHEDULE=""
RESUME=0
EXTRA=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --run-dir) RUN_DIR=$2; shift 2 ;;
    --deadline) DEADLINE=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --schedule-minutes) SCHEDULE=$2; shift 2 ;;
    --resume) RESUME=1; shift ;;
    --extra) EXTRA=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "train-demo: unknown option $1" >&2; exit 2 ;;
  esac
done
RUN_DIR=${RUN_DIR:-$BUILD_DIR/run}
LOG_DIR=${OUT:-$RUN_DIR}
mkdir -p "$LOG_DIR" "$RUN_DIR"
LOG=$LOG_DIR/train.log
step() { echo "=== train-demo: $* ($(date -u +%H:%M:%S), +$(( $(date +%s) - START )) s)"; }

{
step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
echo "cores: $(nproc)  commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty')"

step "configure and build"
if [[ ! -f $BUILD_DIR/build.ninja && ! -f $BUILD_DIR/Makefile ]]; then
  TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  GEN=()
  command -v ninja >/dev/null && GEN=(-G Ninja)
  cmake -S . -B "$BUILD_DIR" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
    -DSVDIT_TORCH=ON -DSVDIT_CUDA=ON -DSVDIT_CUDA_ARCHITECTURES=90a -DSVDIT_ANALYZER=OFF -DSVDIT_TESTS=OFF \
    -DHDF5_PREFER_PARALLEL=OFF -DCMAKE_INCLUDE_PATH=/usr/include/hdf5/serial \
    -DCMAKE_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/hdf5/serial 2>&1 | grep -E "svdit:|Error|error"
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target svdit-train-demo 2>&1 | grep -E "error|FAILED|Linking" | head -60
[[ -x $BUILD_DIR/bin/svdit-train-demo ]] || { echo "train-demo: FAILED: build"; exit 1; }

ELAPSED=$(( $(date +%s) - START ))
LEFT_MIN=$(python3 -c "print(max(0.5, ($DEADLINE - $ELAPSED - 10) / 60))")
if [[ -n $MINUTES ]]; then LEFT_MIN=$(python3 -c "print(min($MINUTES, $LEFT_MIN))"); fi
step "train for $LEFT_MIN minutes"
ARGS=(--out "$RUN_DIR" --minutes "$LEFT_MIN" --device cuda)
[[ $RESUME == 1 ]] && ARGS+=(--resume)
[[ -n $SCHEDULE ]] && ARGS+=(--schedule-minutes "$(python3 -c "print(max($SCHEDULE, $LEFT_MIN))")")
eval "EXTRA_ARR=($EXTRA)"
"$BUILD_DIR/bin/svdit-train-demo" "${ARGS[@]}" "${EXTRA_ARR[@]}"
STATUS=$?
step "done (status $STATUS)"
exit $STATUS
} 2>&1 | tee "$LOG"
STATUS=${PIPESTATUS[0]}

if [[ -n ${OUT:-} ]]; then
  for f in model.safetensors config.json train_log.csv summary.json loss_curve.png samples.png ground_truth.png; do
    [[ -f $RUN_DIR/$f ]] && cp "$RUN_DIR/$f" "$OUT/"
  done
fi
exit "$STATUS"
