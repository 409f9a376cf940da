#!/usr/bin/env bash
# Sets everything up, builds, and runs every test this machine can run. On a machine with no GPU the `gpu`-labelled
# tests are left out (scripts/gpu-check.sh runs them on the H100).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
"$repo/scripts/build.sh" "$@"
build="${SVDIT_BUILD_DIR:-$repo/build}"
labels=(-LE gpu)
if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then labels=(); fi
cd "$build"
ctest --output-on-failure -j "$(nproc)" "${labels[@]}"
