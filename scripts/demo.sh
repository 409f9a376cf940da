#!/usr/bin/env bash
# Sets everything up, builds, and runs svdit's main job on the bundled default.
#
# The full pipeline is profile -> search -> plan -> generate dense and sparse -> compare. This is what the
# toolkit ships today: the bundled sample profile (synthetic numbers, made by data/samples/make_sample_profile.cpp)
# is summarised by `svdit inspect`, `svdit search` chooses a pattern per head from it and writes a plan, and the
# plan is shown with every pattern compiled to its block layout. Each later stage (profile of a real model,
# generate, compare) adds its step here as it lands.
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
