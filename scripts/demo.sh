#!/usr/bin/env bash
# Sets everything up, builds, and runs svdit's main job on the bundled default.
#
# The full pipeline is profile -> search -> plan -> generate dense and sparse -> compare. This is what the
# toolkit ships today: the bundled sample profile (synthetic numbers, see data/samples/README.md) and sample plan,
# summarised by `svdit inspect`, with every pattern of the plan compiled to its block layout at the plan's token
# layout. Each later stage (profile, search, generate) adds its step here as it lands.
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
echo
echo "== svdit inspect data/samples/sample_plan.json --layouts"
"$bin/svdit" inspect "$repo/data/samples/sample_plan.json" --layouts
