#!/usr/bin/env bash
# End-to-end DiT benchmark on the GPU machine: configure and build svdit-bench with CUDA, check the runtime's
# sparse path against the CPU reference (svdit bench e2e --verify), then time one whole Wan2.1 forward dense vs
# with a synthetic mixed plan at the real sizes. Logs go to $OUT (the device tool's return folder) when set,
# else to <build-dir>/logs. Exits non-zero when a step fails.
#
#   scripts/gpu-bench-e2e.sh                       1.3B at 832×480, 81 frames
#   scripts/gpu-bench-e2e.sh --with-14b            ... then 14B at 1280×720 (needs ~35 GB of GPU memory)
#   options: --build-dir DIR (build-e2e)  --bench-args "..." (extra svdit bench e2e options)
#            --time-limit S (skip the 14B run when less than S seconds of the budget are left; default 480)
#            --skip-build
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
START=$(date +%s)

BUILD_DIR=build-e2e
WITH_14B=0
BENCH_ARGS=""
TIME_LIMIT=480
SKIP_BUILD=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --with-14b) WITH_14B=1; shift ;;
    --bench-args) BENCH_ARGS=$2; shift 2 ;;
    --time-limit) TIME_LIMIT=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "gpu-bench-e2e: unknown option $1" >&2; exit 2 ;;
  esac
done

LOG_DIR=${OUT:-$ROOT/$BUILD_DIR/logs}
mkdir -p "$LOG_DIR"
LOG=$LOG_DIR/bench-e2e.log
STATUS=0
step() { echo; echo "=== gpu-bench-e2e: $* ($(date -u +%H:%M:%S), +$(( $(date +%s) - START )) s)"; }
fail() { echo "gpu-bench-e2e: FAILED: $*"; STATUS=1; }

{
step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty')"

if [[ $SKIP_BUILD == 0 ]]; then
  step "configure"
  TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  GEN=()
  if command -v ninja >/dev/null; then GEN=(-G Ninja); fi
  # Only what svdit-bench needs: no tests, no analyzer; Hopper code only (the H100 is sm_90).
  cmake -S . -B "$BUILD_DIR" "${GEN[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
    -DSVDIT_TORCH=ON -DSVDIT_CUDA=ON -DSVDIT_ANALYZER=OFF -DSVDIT_TESTS=OFF \
    -DSVDIT_CUDA_ARCHITECTURES=90a \
    -DHDF5_PREFER_PARALLEL=OFF \
    -DCMAKE_INCLUDE_PATH=/usr/include/hdf5/serial \
    -DCMAKE_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/hdf5/serial 2>&1 | grep -E "svdit:|Error|error" 
  [[ ${PIPESTATUS[0]} == 0 ]] || { fail "configure"; exit 1; }

  step "build svdit-bench"
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target svdit-bench > "$LOG_DIR/build.log" 2>&1
  if [[ $? != 0 ]]; then grep -E "error|FAILED" "$LOG_DIR/build.log" | head -40; fail "build"; exit 1; fi
  grep -cE "warning" "$LOG_DIR/build.log" | sed 's/^/warnings in the build: /'
fi
BENCH=$BUILD_DIR/bin/svdit-bench

step "verify: the runtime's sparse path on the GPU against the CPU reference"
"$BENCH" e2e --verify --device cuda || fail "verify"

step "Wan2.1-1.3B, 832×480, 81 frames"
# shellcheck disable=SC2086
"$BENCH" e2e --model 1.3B --device cuda --warmup 2 --reps 5 --write-plan "$LOG_DIR/plan-1.3b-480p.json" $BENCH_ARGS ||
  fail "1.3B"

if [[ $WITH_14B == 1 ]]; then
  LEFT=$(( TIME_LIMIT - ($(date +%s) - START) ))
  if (( LEFT < 150 )); then
    echo "gpu-bench-e2e: 14B skipped: ${LEFT} s of the ${TIME_LIMIT} s budget left"
  else
    step "Wan2.1-14B, 1280×720, 81 frames (time limit ${LEFT} s)"
    # shellcheck disable=SC2086
    timeout "$LEFT" "$BENCH" e2e --model 14B --device cuda --warmup 1 --reps 2 $BENCH_ARGS || fail "14B"
  fi
fi

echo
if [[ $STATUS == 0 ]]; then echo "gpu-bench-e2e: OK (+$(( $(date +%s) - START )) s, log $LOG)"; else echo "gpu-bench-e2e: FAILED (log $LOG)"; fi
exit $STATUS
} 2>&1 | tee "$LOG"
exit "${PIPESTATUS[0]}"
