#!/usr/bin/env bash
# Sets everything up, builds, and runs svdit's main job on the bundled default: the demo model
# (data/samples/demo/, a Wan2.1-architecture DiT trained by svdit on procedural videos; model card there).
#
#   profile  run the model on one prompt, record per (step, layer, head) each candidate pattern's error and
#            kept attention mass, the attention maps, and each candidate kernel's cost      → profile.h5
#   search   choose a pattern per head for a predicted attention speed-up of 3× (SVDIT_DEMO_SPEEDUP) → plan.json
#   generate sample one prompt dense and with the plan (PNG frames beside the latents)
#   compare  PSNR/SSIM of the sparse video against the dense one, the measured speed ratio, the prompt-following
#            scores of both (svdit demo-score) and a side-by-side GIF (svdit demo-gif: dense | sparse | difference)
#
# Everything lands in <build>/demo/. SVDIT_DEMO_STEPS sets the sampling steps (12).
#
#   scripts/demo.sh [build.sh options]            set up, build into build/, run on the CPU
#   scripts/demo.sh --bin DIR [--device cuda]     run with the executables already built in DIR (no setup, no
#                                                 build; e.g. build-gpu/bin after scripts/gpu-check.sh), on DIR/../demo
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# OpenMP threads that sleep when idle instead of spinning: on a machine with few cores that other processes share,
# LibTorch's spinning workers took 62 % of the CPU time of a dense forward (perf, 2-core machine, 2026-12-03) and
# made it 3.3x slower (5.3 s against 1.6 s at the demo's size, `svdit bench e2e`, docs/BENCHMARKS.md).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
bin="" device=(--device auto)
if [[ ${1:-} == --bin ]]; then
  bin=$(cd "$2" && pwd); shift 2
  if [[ ${1:-} == --device ]]; then device=(--device "$2"); shift 2; fi
  out="$bin/../demo"
else
  "$repo/scripts/setup.sh"
  "$repo/scripts/build.sh" "$@"
  bin="${SVDIT_BUILD_DIR:-$repo/build}/bin"
  out="${SVDIT_BUILD_DIR:-$repo/build}/demo"
fi
mkdir -p "$out"

echo
echo "== svdit --help"
"$bin/svdit" --help
if [[ ! -x "$bin/svdit-profile" ]]; then
  echo
  echo "(svdit profile/generate are not in this build: they need LibTorch, which scripts/setup.sh installs)"
  exit 1
fi

model="$repo/data/samples/demo/model.safetensors"
# The demo model's own size (data/samples/demo/README.md): 20 frames of 96×128 px = 3840 tokens, 60 blocks of 64.
video=(--frames 20 --height 96 --width 128 --steps "${SVDIT_DEMO_STEPS:-12}" --shift 3 --guidance 3)
run=(--threads "$(nproc)" "${device[@]}")
prompt="blue square slide stripes pan"
speedup="${SVDIT_DEMO_SPEEDUP:-3}"
started=$(date +%s)

echo
# One prompt (not the generated one) and one profiled step: on a CPU the profiler's reference path measures every
# candidate pattern of every head at 3840 tokens, several seconds per layer on two cores, so more would outlast the demo.
echo "== svdit profile (demo model, 1 prompt, step 4 profiled)"
rm -f "$out/profile.h5" "$out/profile.h5.partial"
"$bin/svdit" profile --weights "$model" "${video[@]}" "${run[@]}" --block-size 64 --profile-steps 4 --map-steps 4 \
  --cost-reps 1 --prompt "green ring pulse dots pan" --out "$out/profile.h5"
echo
echo "== svdit inspect profile.h5"
"$bin/svdit" inspect "$out/profile.h5"

echo
echo "== svdit search profile.h5 --objective time-budget --speedup $speedup --out plan.json"
"$bin/svdit" search "$out/profile.h5" --objective time-budget --speedup "$speedup" --out "$out/plan.json" --explain 0 0

echo
echo "== svdit generate \"$prompt\": dense, then with plan.json"
"$bin/svdit" generate --weights "$model" "${video[@]}" "${run[@]}" --prompt "$prompt" --quiet \
  --out "$out/dense.safetensors" 2>&1 | tee "$out/dense.log" | grep -E "^(attention|wrote)"
"$bin/svdit" generate --weights "$model" "${video[@]}" "${run[@]}" --prompt "$prompt" --quiet \
  --plan "$out/plan.json" --out "$out/sparse.safetensors" 2>&1 | tee "$out/sparse.log" | grep -E "^(attention|wrote)"

echo
echo "== svdit compare dense sparse"
"$bin/svdit" compare "$out/dense.safetensors" "$out/sparse.safetensors" | tee "$out/compare.txt"
echo
echo "== svdit demo-score dense sparse (does each follow \"$prompt\"?)"
"$bin/svdit" demo-score "$out/dense.safetensors" --json "$out/score_dense.json" | tail -1
"$bin/svdit" demo-score "$out/sparse.safetensors" --json "$out/score_sparse.json" | tail -1
echo
echo "== svdit demo-gif dense sparse → side_by_side.gif"
"$bin/svdit" demo-gif "$out/dense.safetensors" "$out/sparse.safetensors" --magnify 4 --out "$out/side_by_side.gif"

seconds() { grep -oE "in [0-9.]+ s \(" "$1" | grep -oE "[0-9.]+"; }
python3 - "$(seconds "$out/dense.log")" "$(seconds "$out/sparse.log")" "$out" "$started" <<'PY'
import json, re, sys, time
dense, sparse, out, started = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
plan = json.load(open(f"{out}/plan.json"))
predicted = plan["provenance"]["predicted"]["speedup"]
compare = open(f"{out}/compare.txt").read()
psnr = re.search(r"PSNR\D*([0-9.]+|inf)", compare)
ssim = re.search(r"SSIM\D*([0-9.]+)", compare)
def scores(name):
    t = json.load(open(f"{out}/score_{name}.json"))["table"]
    return ", ".join(f"{c} {t[c]['passed']}/{t[c]['total']}" for c in ("colour", "shape", "motion", "background", "camera"))
print()
print("== svdit demo: the figures")
print(f"speed     whole generation: dense {dense:.2f} s, sparse {sparse:.2f} s: measured {dense / sparse:.2f}x")
print(f"          predicted attention speed-up of the plan: {predicted:.2f}x")
print(f"quality   sparse vs dense: PSNR {psnr.group(1) if psnr else '?'} dB, SSIM {ssim.group(1) if ssim else '?'}")
print(f"prompt    dense:  {scores('dense')}")
print(f"          sparse: {scores('sparse')}")
print(f"demo      {time.time() - started:.0f} s after the build; side-by-side GIF (dense | sparse | |difference| x4): "
      f"{out}/side_by_side.gif")
PY
echo
echo "frames: $out/dense_frame_*.png and $out/sparse_frame_*.png"
