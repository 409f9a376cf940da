#!/usr/bin/env bash
# Sets everything up, builds, and runs svdit's main job on the bundled default: the demo model
# (data/samples/demo/, a Wan2.1-architecture DiT trained by svdit on procedural videos; model card there).
#
#   profile  run the model on three prompts, record per (step, layer, head) each candidate pattern's error and
#            kept attention mass, the attention maps, and each candidate kernel's cost      → profile.h5
#   search   choose a pattern per head for a predicted attention speed-up of 2×                → plan.json
#   generate sample one prompt dense and with the plan (PNG frames beside the latents)
#   compare  PSNR/SSIM of the sparse video against the dense one, and the measured speed ratio
#
# Everything lands in <build>/demo/. On an idle 2-core CPU this takes about 2 minutes after the build.
#
#   scripts/demo.sh [build.sh options]            set up, build into build/, run on the CPU
#   scripts/demo.sh --bin DIR [--device cuda]     run with the executables already built in DIR (no setup, no
#                                                 build; e.g. build-gpu/bin after scripts/gpu-check.sh), on DIR/../demo
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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
video=(--frames 12 --height 64 --width 96 --steps 20 --shift 3 --guidance 3)
run=(--threads "$(nproc)" "${device[@]}")
prompt="blue square slide stripes pan"

echo
echo "== svdit profile (demo model, 3 prompts, 20 steps, every 4th step profiled)"
rm -f "$out/profile.h5" "$out/profile.h5.partial"
"$bin/svdit" profile --weights "$model" "${video[@]}" "${run[@]}" --block-size 64 --profile-steps every:4 \
  --prompt "red circle bounce checker static" --prompt "$prompt" --prompt "green ring pulse dots pan" \
  --out "$out/profile.h5"
echo
echo "== svdit inspect profile.h5"
"$bin/svdit" inspect "$out/profile.h5"

echo
echo "== svdit search profile.h5 --objective time-budget --speedup 2 --out plan.json"
"$bin/svdit" search "$out/profile.h5" --objective time-budget --speedup 2 --out "$out/plan.json" --explain 0 0

echo
echo "== svdit generate \"$prompt\": dense, then with plan.json"
"$bin/svdit" generate --weights "$model" "${video[@]}" "${run[@]}" --prompt "$prompt" --quiet \
  --out "$out/dense.safetensors" 2>&1 | tee "$out/dense.log" | grep -E "^(attention|wrote)"
"$bin/svdit" generate --weights "$model" "${video[@]}" "${run[@]}" --prompt "$prompt" --quiet \
  --plan "$out/plan.json" --out "$out/sparse.safetensors" 2>&1 | tee "$out/sparse.log" | grep -E "^(attention|wrote)"

echo
echo "== svdit compare dense sparse"
"$bin/svdit" compare "$out/dense.safetensors" "$out/sparse.safetensors"
seconds() { grep -oE "in [0-9.]+ s \(" "$1" | grep -oE "[0-9.]+"; }
python3 - "$(seconds "$out/dense.log")" "$(seconds "$out/sparse.log")" "$out/plan.json" <<'PY'
import json, sys
dense, sparse, plan = float(sys.argv[1]), float(sys.argv[2]), json.load(open(sys.argv[3]))
predicted = plan["provenance"]["predicted"]["speedup"]
print(f"speed   whole generation dense {dense:.2f} s, sparse {sparse:.2f} s: measured {dense / sparse:.2f}x "
      f"(attention is only part of a step); predicted attention speed-up {predicted:.2f}x")
PY
echo
echo "frames: $out/dense_frame_*.png and $out/sparse_frame_*.png"
