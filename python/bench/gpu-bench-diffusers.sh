#!/usr/bin/env bash
# The diffusers table of docs/BENCHMARKS.md on the GPU machine, in one call: builds the op libraries and
# svdit-bench with CUDA, writes a Wan2.1-1.3B 480p plan of mean block density ≈ 0.25, then times one forward
# dense vs with that plan in diffusers (svdit.apply_plan) and in svdit's C++ runtime (svdit bench e2e --plan).
# diffusers is not installed there: its wheel (and importlib_metadata's) travel in .whl/ (device README).
#   python/bench/gpu-bench-diffusers.sh     (from the repository root; logs and the plan go to $OUT)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-build-gpu-bench/logs}
mkdir -p "$OUT"
START=$(date +%s)
step() { echo; echo "=== $* (+$(( $(date +%s) - START )) s)"; }
{
step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
date -u +%Y-%m-%dT%H:%M:%SZ
if [[ -d .whl ]]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
step "build (CUDA, sm_90a): svdit_torch_ops svdit_profile_ops svdit-bench"
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
  -DSVDIT_TORCH=ON -DSVDIT_CUDA=ON -DSVDIT_ANALYZER=OFF -DSVDIT_TESTS=OFF -DSVDIT_CUDA_ARCHITECTURES=90a \
  -DHDF5_PREFER_PARALLEL=OFF -DCMAKE_INCLUDE_PATH=/usr/include/hdf5/serial \
  -DCMAKE_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/hdf5/serial > "$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
grep "svdit:" "$OUT/configure.log"
cmake --build build-gpu-bench -j "$(nproc)" --target svdit_torch_ops svdit_profile_ops svdit-bench > "$OUT/build.log" 2>&1 ||
  { grep -E "error|FAILED" "$OUT/build.log" | head -30; exit 1; }
# The package as pip would install it: python/svdit with the two op libraries beside its modules.
rm -rf /tmp/pkg && mkdir -p /tmp/pkg && cp -r python/svdit /tmp/pkg/ && cp build-gpu-bench/lib/libsvdit_*ops.so /tmp/pkg/svdit/
export PYTHONPATH=/tmp/pkg${PYTHONPATH:+:$PYTHONPATH}
step "plan: Wan2.1-1.3B 832x480x81, block density ~0.25"
python3 python/bench/wan_diffusers_step.py make-plan --density 0.25 --out "$OUT/plan.json" || exit 1
step "diffusers: dense vs svdit.apply_plan, one forward"
PYTHONUNBUFFERED=1 python3 python/bench/wan_diffusers_step.py time --plan "$OUT/plan.json" --warmup 2 --reps 5 || exit 1
step "svdit runtime: dense vs the same plan, one forward"
build-gpu-bench/bin/svdit-bench e2e --model 1.3B --device cuda --plan "$OUT/plan.json" --warmup 2 --reps 5 || exit 1
step "done"
} 2>&1 | tee "$OUT/bench-diffusers.log"
exit "${PIPESTATUS[0]}"
