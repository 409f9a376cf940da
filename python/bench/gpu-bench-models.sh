#!/usr/bin/env bash
# Issue #13's GPU table on the GPU machine: for each model, one whole DiT forward in svdit's runtime (svdit bench
# e2e: dense vs a synthetic plan of mean block density ≈ 0.25, self-attention share) and the dense forward of the
# same model in diffusers (python/bench/diffusers_forward.py: released config, random bf16 weights, SDPA), on the
# same GPU in the same run. diffusers is not installed there: its wheels travel in .whl/ (device README, "Notes").
#
#   python/bench/gpu-bench-models.sh                      all four models, as many as --budget allows
#   python/bench/gpu-bench-models.sh --skip-build          the follow-up call on the warm machine: finished
#                                                          units (result files in --results) are skipped
# options:
#   --models "M ..."   hunyuan-video cogvideox1.5-5b 1.3B 14B (the default, in this order)
#   --results DIR      result files; one per unit (svdit-M.log, diffusers-M.json, diffusers-b2-M.json); a unit whose
#                      file exists is skipped (default build-gpu-models/results: kept on a warm machine)
#   --budget S         seconds for this call (default 560; the device tool's limit is 600): a unit starts only when
#                      its estimate fits in what is left (else it waits for the next call, later smaller units still
#                      run) and runs under `timeout` of what is left; the script ends cleanly (exit 3: units left)
#   --skip-build       no configure/build of svdit-bench (built anyway when the binary is missing)
#   --build-dir DIR    (default build-gpu-models)   --bin DIR: svdit-bench's folder (default BUILD_DIR/bin)
#   --only svdit|diffusers   one side only          --no-b2: skip CogVideoX's diffusers B = 2 run (the issue's figure)
#   --redo             ignore existing result files  --tiny: CPU dry run (tiny configs of each family, fp32, cpu)
#   --restore TGZ      unpack an earlier call's results.tgz into --results first (a fresh machine: carry it along)
# Logs: $OUT/models.log, $OUT/results.tgz (the results folder), $OUT/table.md (python/bench/models_table.py); the
# table is printed at the end. Exit 0: every requested unit done; 1: a unit failed; 3: stopped by --budget.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
START=$(date +%s)

MODELS="hunyuan-video cogvideox1.5-5b 1.3B 14B"
RESULTS=""
BUDGET=560
SKIP_BUILD=0
BUILD_DIR=build-gpu-models
BIN=""
ONLY=both
B2=1
REDO=0
TINY=0
RESTORE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --models) MODELS=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --budget) BUDGET=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --no-b2) B2=0; shift ;;
    --redo) REDO=1; shift ;;
    --tiny) TINY=1; shift ;;
    --restore) RESTORE=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "gpu-bench-models: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$ONLY" in both|svdit|diffusers) ;; *) echo "gpu-bench-models: --only: expected svdit or diffusers" >&2; exit 2 ;; esac
for m in $MODELS; do
  case "$m" in hunyuan-video|cogvideox1.5-5b|1.3B|14B) ;;
    *) echo "gpu-bench-models: --models: unknown model $m (expected hunyuan-video cogvideox1.5-5b 1.3B 14B)" >&2; exit 2 ;;
  esac
done
[[ $BUDGET =~ ^[0-9]+$ ]] || { echo "gpu-bench-models: --budget: expected seconds" >&2; exit 2; }
RESULTS=${RESULTS:-$BUILD_DIR/results}
BIN=${BIN:-$BUILD_DIR/bin}
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
if [[ -n $RESTORE ]]; then
  # results.tgz holds the folder results/ (its name): its files go into $RESULTS, none that exist overwritten.
  tar -xzf "$RESTORE" -C "$RESULTS" --strip-components=1 --skip-old-files ||
    { echo "gpu-bench-models: --restore: cannot unpack $RESTORE" >&2; exit 2; }
fi
LOG_DIR=${OUT:-$RESULTS/logs}
mkdir -p "$LOG_DIR"
if [[ $TINY == 1 ]]; then DEVICE=cpu; DTYPE=fp32; else DEVICE=cuda; DTYPE=bf16; fi

elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
step() { echo; echo "=== gpu-bench-models: $* ($(date -u +%H:%M:%S), +$(elapsed) s)"; }

# Per model: the synthetic mix (svdit's default for Wan2.1; for the two with text in self-attention the dense heads'
# weight set so the mean block density is 0.25 at their layouts: the default mix gives 0.235 for HunyuanVideo and
# 0.295 for CogVideoX1.5), warm-up and timed forwards (one HunyuanVideo forward is 20-40 s), and each unit's
# estimated seconds (process start, random weights on the GPU, the forwards; H100/H200, generous).
mix_of() {
  case $1 in
    hunyuan-video) echo "window=5,temporal=4,stripe=3,skip=1,dense=3.32" ;;
    cogvideox1.5-5b) echo "window=5,temporal=4,stripe=3,skip=1,dense=2.04" ;;
    *) echo "window=5,temporal=4,stripe=3,skip=1,dense=3" ;;
  esac
}
reps_of() {  # side model -> "warmup reps"
  case "$1:$2" in
    svdit:hunyuan-video|*:14B) echo "1 2" ;;
    diffusers:hunyuan-video) echo "1 1" ;;  # ~32 s a forward; the issue has its H200 figure already
    *:cogvideox1.5-5b) echo "1 3" ;;
    *) echo "2 5" ;;
  esac
}
estimate_of() {  # unit model -> seconds (about 1.3x what H100/H200 should take)
  [[ $TINY == 1 ]] && { echo 30; return; }
  case "$1:$2" in
    svdit:hunyuan-video) echo 220 ;; diffusers:hunyuan-video) echo 160 ;;
    svdit:cogvideox1.5-5b) echo 60 ;; diffusers:cogvideox1.5-5b) echo 50 ;; diffusers-b2:cogvideox1.5-5b) echo 70 ;;
    svdit:14B) echo 130 ;; diffusers:14B) echo 110 ;;
    *) echo 40 ;;
  esac
}

STATUS=0
STOPPED=0
{
step "machine"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty')"
echo "models: $MODELS  results: $RESULTS  budget: $BUDGET s  device: $DEVICE $DTYPE"

if [[ $ONLY != svdit ]]; then
  if [[ -d .whl ]] && compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl ||
      { echo "gpu-bench-models: FAILED: installing .whl/"; exit 1; }
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  fi
  python3 -c 'import torch, diffusers; print("torch", torch.__version__, "cuda", torch.version.cuda, "diffusers", diffusers.__version__)' ||
    { echo "gpu-bench-models: FAILED: diffusers cannot be imported (bring its wheels in .whl/)"; exit 1; }
fi

BENCH=$BIN/svdit-bench
if [[ $ONLY != diffusers ]]; then
  if [[ $SKIP_BUILD == 1 && ! -x $BENCH ]]; then
    echo "gpu-bench-models: --skip-build, but $BENCH is missing (a fresh machine?): building"
    SKIP_BUILD=0
  fi
  if [[ $SKIP_BUILD == 0 && $TINY == 0 ]]; then
    step "configure + build svdit-bench (CUDA, sm_90a) in $BUILD_DIR"
    TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
    GEN=()
    if command -v ninja >/dev/null; then GEN=(-G Ninja); fi
    cmake -S . -B "$BUILD_DIR" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
      -DSVDIT_TORCH=ON -DSVDIT_CUDA=ON -DSVDIT_ANALYZER=OFF -DSVDIT_TESTS=OFF -DSVDIT_CUDA_ARCHITECTURES=90a \
      -DHDF5_PREFER_PARALLEL=OFF -DCMAKE_INCLUDE_PATH=/usr/include/hdf5/serial \
      -DCMAKE_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/hdf5/serial > "$RESULTS/configure.log" 2>&1 ||
      { tail -30 "$RESULTS/configure.log"; echo "gpu-bench-models: FAILED: configure"; exit 1; }
    grep "svdit:" "$RESULTS/configure.log"
    cmake --build "$BUILD_DIR" -j "$(nproc)" --target svdit-bench > "$RESULTS/build.log" 2>&1 ||
      { grep -E "error|FAILED" "$RESULTS/build.log" | head -30; echo "gpu-bench-models: FAILED: build"; exit 1; }
    echo "built $BENCH (+$(elapsed) s)"
  fi
  [[ -x $BENCH ]] || { echo "gpu-bench-models: FAILED: no $BENCH"; exit 1; }
fi

# One unit: skipped when its result file exists; else run when its estimate fits the budget left, under timeout,
# its output in a temporary log renamed to the result (svdit) or beside the JSON the tool writes (diffusers).
run_unit() {  # unit model result-file command...
  local unit=$1 model=$2 result=$3
  shift 3
  if [[ -e $result && $REDO == 0 ]]; then
    echo "--- $unit $model: done before ($(basename "$result")), skipped"
    return 0
  fi
  local need left_s
  need=$(estimate_of "$unit" "$model")
  left_s=$(left)
  if (( left_s < need )); then
    echo "--- $unit $model: needs ~${need} s, ${left_s} s of the budget left: deferred to the next call"
    STOPPED=1
    return 0
  fi
  step "$unit $model (estimate ${need} s, ${left_s} s left)"
  echo "+ $*"
  local tmp=$RESULTS/.$unit-$model.log.tmp
  PYTHONUNBUFFERED=1 timeout --kill-after=10 "$left_s" "$@" 2>&1 | tee "$tmp"
  local rc=${PIPESTATUS[0]}
  if [[ $rc == 0 ]]; then
    if [[ $result == *.log ]]; then mv "$tmp" "$result"; else mv "$tmp" "${result%.json}.log"; fi
    echo "--- $unit $model: OK (+$(elapsed) s)"
  elif [[ $rc == 124 || $rc == 137 ]]; then
    rm -f "$result"
    echo "--- $unit $model: stopped at the budget (timeout after ${left_s} s); run again"
    STOPPED=1
  else
    rm -f "$result"
    mv "$tmp" "$RESULTS/$unit-$model.failed.log"
    echo "--- $unit $model: FAILED (exit $rc; log $unit-$model.failed.log)"
    STATUS=1
  fi
}

TINY_ARGS=()
[[ $TINY == 1 ]] && TINY_ARGS=(--tiny)
for model in $MODELS; do
  if [[ $ONLY != diffusers ]]; then
    read -r WARMUP REPS <<< "$(reps_of svdit "$model")"
    [[ $TINY == 1 ]] && { WARMUP=0; REPS=1; }
    MODEL_ARG=$model
    SIZE_ARGS=()
    if [[ $TINY == 1 ]]; then
      # The same tiny model for svdit: its diffusers config.json, and the tiny video.
      MODEL_ARG=$RESULTS/tiny-$model.json
      read -r F H W < <(python3 python/bench/diffusers_forward.py --model "$model" --tiny --shapes-only \
        --write-config "$MODEL_ARG" --json "$RESULTS/.tiny-$model-shapes.json" >/dev/null &&
        python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["video"]; print(v["frames"], v["height"], v["width"])' \
          "$RESULTS/.tiny-$model-shapes.json")
      SIZE_ARGS=(--frames "$F" --height "$H" --width "$W" --block-size 64 --dtype fp32)
    fi
    run_unit svdit "$model" "$RESULTS/svdit-$model.log" \
      "$BENCH" e2e --model "$MODEL_ARG" --device "$DEVICE" "${SIZE_ARGS[@]}" --mix "$(mix_of "$model")" \
      --warmup "$WARMUP" --reps "$REPS" --write-plan "$RESULTS/plan-$model.json"
  fi
  if [[ $ONLY != svdit ]]; then
    read -r WARMUP REPS <<< "$(reps_of diffusers "$model")"
    [[ $TINY == 1 ]] && { WARMUP=0; REPS=1; }
    run_unit diffusers "$model" "$RESULTS/diffusers-$model.json" \
      python3 python/bench/diffusers_forward.py --model "$model" --device "$DEVICE" --dtype "$DTYPE" \
      --warmup "$WARMUP" --reps "$REPS" --json "$RESULTS/diffusers-$model.json" "${TINY_ARGS[@]}"
    if [[ $model == cogvideox1.5-5b && $B2 == 1 ]]; then
      run_unit diffusers-b2 "$model" "$RESULTS/diffusers-b2-$model.json" \
        python3 python/bench/diffusers_forward.py --model "$model" --batch 2 --device "$DEVICE" --dtype "$DTYPE" \
        --warmup "$WARMUP" --reps "$REPS" --json "$RESULTS/diffusers-b2-$model.json" "${TINY_ARGS[@]}"
    fi
  fi
done

step "table"
python3 python/bench/models_table.py --results "$RESULTS" --models "$MODELS" | tee "$LOG_DIR/table.md"
if [[ -n ${OUT:-} ]]; then
  tar -czf "$OUT/results.tgz" -C "$(dirname "$RESULTS")" "$(basename "$RESULTS")" 2>/dev/null || true
fi
echo
if [[ $STATUS != 0 ]]; then
  echo "gpu-bench-models: FAILED: a unit failed (+$(elapsed) s)"
elif [[ $STOPPED == 1 ]]; then
  echo "gpu-bench-models: INCOMPLETE: stopped by the budget (+$(elapsed) s); run again with --skip-build on the warm machine"
else
  echo "gpu-bench-models: OK, every unit done (+$(elapsed) s)"
fi
if [[ $STATUS != 0 ]]; then exit 1; elif [[ $STOPPED == 1 ]]; then exit 3; else exit 0; fi
} 2>&1 | tee "$LOG_DIR/models.log"
exit "${PIPESTATUS[0]}"
