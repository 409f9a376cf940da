#!/usr/bin/env bash
# Sets everything up, builds, and runs every test this machine can run. On a machine with no GPU the `gpu`-labelled
# tests are left out (scripts/gpu-check.sh runs them on the H100).
#
# When the main build (build/) has the CUDA kernels, the LibTorch configuration without CUDA is built and tested
# as well, in build-nocuda/ (-DSVDIT_CUDA=OFF; the analyzer, which does not depend on CUDA, is left out there):
# a machine without nvcc builds exactly that, and CI has nvcc. Every translation unit the two builds share
# compiles with the same command line, so ccache serves build-nocuda/ from build/ and only links run again.
# SVDIT_TEST_NOCUDA=0 skips it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
build="${SVDIT_BUILD_DIR:-$repo/build}"
"$repo/scripts/build.sh" "$@"
labels=(-LE gpu)
if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then labels=(); fi
(cd "$build" && ctest --output-on-failure -j "$(nproc)" "${labels[@]}")

if [[ "${SVDIT_TEST_NOCUDA:-1}" != 0 ]] && grep -q '^SVDIT_BUILT_WITH_CUDA:INTERNAL=ON$' "$build/CMakeCache.txt"; then
  nocuda="${SVDIT_NOCUDA_BUILD_DIR:-$repo/build-nocuda}"
  echo "test.sh: the LibTorch configuration without CUDA, in $nocuda"
  SVDIT_BUILD_DIR="$nocuda" "$repo/scripts/build.sh" -DSVDIT_CUDA=OFF -DSVDIT_ANALYZER=OFF "$@"
  (cd "$nocuda" && ctest --output-on-failure -j "$(nproc)" -LE gpu)
fi
