#!/usr/bin/env bash
# Profiles Wan2.1-1.3B at 480p (81 frames, 832×480: 21×30×52 = 32760 tokens) with random weights on the GPU
# machine, a few sampling steps, then runs svdit search on the profile with its CUPTI cost table. Records the wall
# time and peak host memory (/usr/bin/time -v) beside the profiler's own summary (peak CUDA memory). Logs and the
# plan go to $OUT (the device tool's return folder) when set, else to <build-dir>/logs.
#
#   scripts/gpu-profile-wan.sh                  configure + build svdit-profile and svdit-search, then profile
#   options: --build-dir DIR (build-gpu, shared with gpu-check.sh)  --skip-build
#            --profile-args "..." (extra svdit profile options; default run: 4 steps, all profiled, maps at step 0)
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
BUILD_DIR=build-gpu
SKIP_BUILD=0
PROFILE_ARGS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --profile-args) PROFILE_ARGS=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "gpu-profile-wan: unknown option $1" >&2; exit 2 ;;
  esac
done
LOG_DIR=${OUT:-$BUILD_DIR/logs}
mkdir -p "$LOG_DIR"
STATUS=0
step() { echo; echo "=== gpu-profile-wan: $* ($(date -u +%H:%M:%S), +$(( $(date +%s) - START )) s)"; }

{
step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty')  cores: $(nproc)"

if [[ $SKIP_BUILD == 0 ]]; then
  step "configure and build svdit-profile, svdit-search"
  TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  GEN=()
  command -v ninja >/dev/null && GEN=(-G Ninja)
  cmake -S . -B "$BUILD_DIR" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
    -DSVDIT_TORCH=ON -DSVDIT_CUDA=ON -DSVDIT_ANALYZER=OFF -DSVDIT_CUDA_ARCHITECTURES=90a \
    -DHDF5_PREFER_PARALLEL=OFF -DCMAKE_INCLUDE_PATH=/usr/include/hdf5/serial \
    -DCMAKE_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/hdf5/serial 2>&1 | grep -E "svdit:|Error|error"
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target svdit-profile svdit-search svdit-inspect 2>&1 | grep -E "error|FAILED" | head -40
fi
BIN=$BUILD_DIR/bin
[[ -x $BIN/svdit-profile && -x $BIN/svdit-search && -x $BIN/svdit-inspect ]] || { echo "gpu-profile-wan: FAILED: build"; exit 1; }

step "svdit profile: Wan2.1-1.3B, random weights, 832×480, 81 frames, 4 steps"
# The profile stays in the build folder (its maps exceed what the device tool returns); the plan comes back.
PROFILE=$BUILD_DIR/wan13b.h5
rm -f "$PROFILE" "$PROFILE.partial"
# shellcheck disable=SC2086
/usr/bin/time -v "$BIN/svdit-profile" --random-weights 1.3B --prompt "" --frames 81 --height 480 --width 832 \
  --steps 4 --profile-steps all --map-steps 0 --block-size 128 --device cuda \
  --out "$PROFILE" $PROFILE_ARGS 2>&1 | tr '\r' '\n' | grep -vE "^\s*$" | tail -40
[[ ${PIPESTATUS[0]} == 0 ]] || { echo "gpu-profile-wan: FAILED: profile"; STATUS=1; }
ls -la "$PROFILE" 2>&1

if [[ -f $PROFILE ]]; then
  step "svdit inspect + svdit search on the profile (CUPTI cost table)"
  "$BIN/svdit-inspect" "$PROFILE" 2>&1 | head -40
  "$BIN/svdit-search" "$PROFILE" --epsilon 0.05 --out "$LOG_DIR/wan13b-plan.json" 2>&1 | tail -30 ||
    { echo "gpu-profile-wan: FAILED: search"; STATUS=1; }
fi
step "done (status $STATUS)"
echo "$STATUS" > "$BUILD_DIR/profile-wan.status"
} 2>&1 | tee "$LOG_DIR/profile-wan.log"
exit "$(cat "$BUILD_DIR/profile-wan.status" 2>/dev/null || echo 1)"
