#!/usr/bin/env bash
# Configures and builds svdit into build/ (binaries in build/bin/). Parts are on when the machine has what they
# need; the configure step prints one "svdit: …" line saying what is on and why. Extra arguments go to cmake
# (e.g. -DSVDIT_CUDA=OFF); SVDIT_BUILD_DIR picks another build folder, SVDIT_JOBS the parallel jobs,
# SVDIT_TARGETS (space-separated) builds only those targets.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SVDIT_BUILD_DIR:-$repo/build}"
jobs="${SVDIT_JOBS:-$(nproc)}"
launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  # One cache for every build folder of this checkout (build/, build-nocuda/) and for other checkouts: paths under
  # the checkout are hashed relative to the build folder, and the build folder itself (it is in the debug info of
  # -g builds) is left out of the hash. The object files are the same either way; only the recorded
  # compilation directory in the debug info may name the folder that compiled first.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$repo}"
  export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
fi
generator=()
[[ -f "$build/CMakeCache.txt" ]] || { command -v ninja > /dev/null && generator=(-G Ninja); }
cmake -S "$repo" -B "$build" "${generator[@]}" "${launcher[@]}" "$@" | grep -E '^-- svdit:|Error|Warning' || true
targets=()
for target in ${SVDIT_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build "$build" -j "$jobs" "${targets[@]}"
