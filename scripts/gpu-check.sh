#!/usr/bin/env bash
# The one command for the GPU machine: configure, build, run the gpu and cpu test suites, run the kernels under
# compute-sanitizer, and optionally benchmark. Logs (at most 7 files: the device tool returns 8) go to $OUT (the device tool's return folder) when set,
# else to <build-dir>/logs. Exits non-zero if any step fails, and also when gpu tests were SKIPPED although a GPU
# is present: a skip is never a pass.
#
#   scripts/gpu-check.sh                      configure + build + ctest -L gpu + ctest -LE gpu + sanitizer
#   scripts/gpu-check.sh --bench              ... then kernels/bench/bench_sparse_attention.py (quick set)
#   scripts/gpu-check.sh --bench-only --bench-args "--shapes wan13b --reps 30"
#   options: --build-dir DIR (build-gpu)  --tests-regex RE (ctest -R)  --no-cpu-tests  --no-sanitizer
#            --targets "t1 t2" (build only these)  --bench-args "..."  --skip-build  --fresh
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD_DIR=build-gpu
RUN_BENCH=0
BENCH_ONLY=0
BENCH_ARGS=""
TESTS_REGEX=""
CPU_TESTS=1
SANITIZER=1
TARGETS=""
SKIP_BUILD=0
FRESH=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --bench) RUN_BENCH=1; shift ;;
    --bench-only) RUN_BENCH=1; BENCH_ONLY=1; shift ;;
    --bench-args) BENCH_ARGS=$2; shift 2 ;;
    --tests-regex) TESTS_REGEX=$2; shift 2 ;;
    --no-cpu-tests) CPU_TESTS=0; shift ;;
    --no-sanitizer) SANITIZER=0; shift ;;
    --targets) TARGETS=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --fresh) FRESH=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
done

LOG_DIR=${OUT:-$BUILD_DIR/logs}
mkdir -p "$LOG_DIR"
STATUS=0
step() { echo; echo "=== gpu-check: $* ($(date -u +%H:%M:%S))"; }
fail() { echo "gpu-check: FAILED: $*"; STATUS=1; }

step "machine"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1
  nvcc --version | tail -2
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'
  echo "cores: $(nproc)"
} 2>&1 | tee "$LOG_DIR/setup.log"
HAVE_GPU=0
if nvidia-smi -L >/dev/null 2>&1; then HAVE_GPU=1; fi

if [[ $SKIP_BUILD == 0 ]]; then
  step "configure"
  [[ $FRESH == 1 ]] && rm -rf "$BUILD_DIR"
  TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  GEN=()
  if command -v ninja >/dev/null; then GEN=(-G Ninja); fi
  # HDF5: Ubuntu's serial flavour lives under hdf5/serial; FindHDF5 finds it through h5cc, the hints cover the rest.
  cmake -S . -B "$BUILD_DIR" "${GEN[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
    -DSVDIT_TORCH=ON -DSVDIT_CUDA=ON -DSVDIT_ANALYZER=OFF \
    -DSVDIT_CUDA_ARCHITECTURES=90a \
    -DHDF5_PREFER_PARALLEL=OFF \
    -DCMAKE_INCLUDE_PATH=/usr/include/hdf5/serial \
    -DCMAKE_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/hdf5/serial \
    2>&1 | tee -a "$LOG_DIR/setup.log"
  [[ ${PIPESTATUS[0]} == 0 ]] || { fail "configure"; exit 1; }

  step "build"
  BUILD_TARGETS=()
  for t in $TARGETS; do BUILD_TARGETS+=(--target "$t"); done
  cmake --build "$BUILD_DIR" -j "$(nproc)" "${BUILD_TARGETS[@]}" 2>&1 | tee -a "$LOG_DIR/setup.log" | grep -E "error|warning|FAILED|Linking" | head -200
  [[ ${PIPESTATUS[0]} == 0 ]] || { tail -60 "$LOG_DIR/setup.log"; fail "build"; exit 1; }
fi

# CMake 4.4's gtest_discover_tests writes a property value that ends in ']' as [[...\]]] and then cannot parse
# its own script ("Argument not separated from preceding token"), so ctest sees no test at all. Until
# tests/CMakeLists.txt uses a skip regex that does not end in ']', re-quote those values with a [==[ ]==] bracket.
for f in "$BUILD_DIR"/tests/*_tests.cmake; do
  [[ -f $f ]] && grep -q '\]]]' "$f" && sed -i 's/\[\[\(\\\[  SKIPPED \\\]\)\]\]/[==[\1]==]/g' "$f" &&
    echo "gpu-check: re-quoted the SKIPPED regex in $(basename "$f") (CMake 4.4 bracket bug)"
done

if [[ $BENCH_ONLY == 0 ]]; then
  step "gpu tests (ctest -L gpu)"
  CTEST_ARGS=(--test-dir "$BUILD_DIR" --output-on-failure --timeout 300)  # a hung kernel fails, not stalls
  [[ -n $TESTS_REGEX ]] && CTEST_ARGS+=(-R "$TESTS_REGEX")
  ctest "${CTEST_ARGS[@]}" -L gpu 2>&1 | tee "$LOG_DIR/ctest-gpu.log" | grep -vE "^\s+(Start|Test) +#" | tail -80
  [[ ${PIPESTATUS[0]} == 0 ]] || fail "gpu tests"
  if [[ $HAVE_GPU == 1 ]] && grep -qE "\*\*\*Skipped|\*\*\*Not Run" "$LOG_DIR/ctest-gpu.log"; then
    grep -E "\*\*\*Skipped|\*\*\*Not Run" "$LOG_DIR/ctest-gpu.log" | head -20
    fail "gpu tests were skipped on a machine with a GPU"
  fi
  if ! grep -qE "tests passed" "$LOG_DIR/ctest-gpu.log"; then fail "no gpu test ran"; fi

  if [[ $CPU_TESTS == 1 ]]; then
    step "cpu tests (ctest -LE gpu)"
    ctest "${CTEST_ARGS[@]}" -LE gpu -j "$(nproc)" 2>&1 | tee "$LOG_DIR/ctest-cpu.log" | tail -40
    [[ ${PIPESTATUS[0]} == 0 ]] || fail "cpu tests"
  fi

  if [[ $SANITIZER == 1 && $HAVE_GPU == 1 ]]; then
    GPU_TESTS=$BUILD_DIR/bin/svdit_kernels_gpu_tests
    if [[ -x $GPU_TESTS ]]; then
      step "compute-sanitizer memcheck (small case)"
      compute-sanitizer --tool memcheck --error-exitcode 1 --print-limit 20 \
        "$GPU_TESTS" --gtest_filter='*Sanitizer*' 2>&1 | tee "$LOG_DIR/sanitizer.log" | tail -25
      [[ ${PIPESTATUS[0]} == 0 ]] || fail "compute-sanitizer memcheck"
      step "compute-sanitizer racecheck (small case)"
      compute-sanitizer --tool racecheck --error-exitcode 1 --print-limit 20 \
        "$GPU_TESTS" --gtest_filter='*Sanitizer*' 2>&1 | tee -a "$LOG_DIR/sanitizer.log" | tail -25
      [[ ${PIPESTATUS[0]} == 0 ]] || fail "compute-sanitizer racecheck"
    else
      echo "gpu-check: $GPU_TESTS not built; sanitizer step skipped"
    fi
  fi
fi

if [[ $RUN_BENCH == 1 ]]; then
  step "benchmark"
  LIB=$(ls "$BUILD_DIR"/lib/libsvdit_torch_ops.so 2>/dev/null)
  if [[ -z $LIB ]]; then
    fail "benchmark: $BUILD_DIR/lib/libsvdit_torch_ops.so not built"
  else
    # --bench-args is split like a shell line, so quoted pattern names with spaces survive.
    eval "BENCH_ARR=($BENCH_ARGS)"
    PYTHONUNBUFFERED=1 python3 kernels/bench/bench_sparse_attention.py --lib "$LIB" "${BENCH_ARR[@]}" \
      --json "$LOG_DIR/bench.json" --markdown "$LOG_DIR/bench.md" 2>&1 | tee "$LOG_DIR/bench.log"
    [[ ${PIPESTATUS[0]} == 0 ]] || fail "benchmark"
  fi
fi

echo
if [[ $STATUS == 0 ]]; then echo "gpu-check: OK (logs in $LOG_DIR)"; else echo "gpu-check: FAILED (logs in $LOG_DIR)"; fi
exit $STATUS
