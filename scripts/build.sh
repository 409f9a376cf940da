#!/usr/bin/env bash
# Configures and builds svdit into build/ (binaries in build/bin/). Parts are on when the machine has what they
# need; the configure step prints one "svdit: …" line saying what is on and why. Extra arguments go to cmake.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SVDIT_BUILD_DIR:-$repo/build}"
jobs="${SVDIT_JOBS:-$(nproc)}"
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
generator=()
[[ -f "$build/CMakeCache.txt" ]] || { command -v ninja > /dev/null && generator=(-G Ninja); }
cmake -S "$repo" -B "$build" "${generator[@]}" "${launcher[@]}" "$@" | grep -E '^-- svdit:|Error|Warning' || true
cmake --build "$build" -j "$jobs"
