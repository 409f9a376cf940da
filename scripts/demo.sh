#!/usr/bin/env bash
# Sets everything up, builds, and runs svdit's main job on the bundled default.
#
# The full pipeline is profile -> search -> plan -> generate dense and sparse -> compare. What runs today: the
# bundled sample profile (synthetic numbers, made by data/samples/make_sample_profile.cpp) is summarised by
# `svdit inspect`; `svdit search` chooses a pattern per head from it and writes a plan, shown with every pattern
# compiled to its block layout; then a Wan2.1-architecture model of the sample's shape
# (data/samples/sample_model_config.json, RANDOM weights until the trained demo model ships) generates dense and
# with the plan, and `svdit compare` prints PSNR/SSIM. The profile stage of a real model comes with the profiler.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
"$repo/scripts/build.sh" "$@"
bin="${SVDIT_BUILD_DIR:-$repo/build}/bin"

echo
echo "== svdit --help"
"$bin/svdit" --help
echo
echo "== svdit inspect data/samples/sample_profile.h5"
"$bin/svdit" inspect "$repo/data/samples/sample_profile.h5"
out="${SVDIT_BUILD_DIR:-$repo/build}/demo"
mkdir -p "$out"
echo
echo "== svdit search data/samples/sample_profile.h5 --out $out/plan.json --explain 0 1"
"$bin/svdit" search "$repo/data/samples/sample_profile.h5" --out "$out/plan.json" --explain 0 1
echo
echo "== svdit inspect $out/plan.json --layouts"
"$bin/svdit" inspect "$out/plan.json" --layouts

if [[ -x "$bin/svdit-generate" ]]; then
  # 21 frames of 128 x 192 px -> 6 x 8 x 12 tokens: the sample's layout.
  gen=("$bin/svdit" generate --random-weights "$repo/data/samples/sample_model_config.json" --frames 21
       --height 128 --width 192 --steps 10 --seed 0)
  echo
  echo "== svdit generate (dense), then with $out/plan.json"
  "${gen[@]}" --out "$out/dense.safetensors"
  "${gen[@]}" --plan "$out/plan.json" --out "$out/sparse.safetensors"
  echo
  echo "== svdit compare dense sparse"
  "$bin/svdit" compare "$out/dense.safetensors" "$out/sparse.safetensors"
else
  echo
  echo "(svdit generate is not in this build: it needs LibTorch, which scripts/setup.sh installs)"
fi
