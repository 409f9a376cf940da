#!/usr/bin/env bash
# Builds and runs svdit's libFuzzer targets (data/fuzz/) with their seed corpora.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      SECONDS per target (default 60); TARGETs default to all:
#                                              svdit-fuzz-safetensors svdit-fuzz-plan svdit-fuzz-profile
#                                              svdit-fuzz-config
# Environment: SVDIT_FUZZ_BUILD (build dir, default <repo>/build-fuzz), SVDIT_FUZZ_JOBS (ninja -j, default 2),
#              SVDIT_FUZZ_ARGS (extra libFuzzer flags, e.g. "-max_len=65536").
#
# Before fuzzing, every input in data/fuzz/regressions/<kind>/ (inputs that once crashed a target) is replayed.
# New interesting inputs accumulate in $SVDIT_FUZZ_BUILD/fuzz-corpus/<target> (kept between runs, so repeated
# runs keep deepening coverage); the checked-in seeds in data/fuzz/corpus/ are only read. A crash, sanitizer report,
# timeout or out-of-memory leaves its input in $SVDIT_FUZZ_BUILD/fuzz-artifacts/ and makes this script exit 1;
# reproduce with: $SVDIT_FUZZ_BUILD/bin/<target> <artifact>.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(svdit-fuzz-safetensors svdit-fuzz-plan svdit-fuzz-profile svdit-fuzz-config)
build="${SVDIT_FUZZ_BUILD:-$repo/build-fuzz}"
jobs="${SVDIT_FUZZ_JOBS:-2}"
read -r -a extra_args <<< "${SVDIT_FUZZ_ARGS:-}"

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -eq 0 ]]; then
  echo "fuzz.sh: SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi

launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
mkdir -p "$build"
echo "== configuring $build (clang, fuzzers only)"
CC=clang CXX=clang++ cmake -S "$repo" -B "$build" -G Ninja -DSVDIT_FUZZ=ON -DSVDIT_TORCH=OFF \
  -DSVDIT_ANALYZER=OFF -DSVDIT_TESTS=OFF "${launcher[@]}" > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log"; exit 2; }
echo "== building ${targets[*]}"
nice ninja -C "$build" -j "$jobs" "${targets[@]}"

mkdir -p "$build/fuzz-artifacts"
status=0
summary=()
for target in "${targets[@]}"; do
  kind="${target#svdit-fuzz-}"
  seeds="$repo/data/fuzz/corpus/$kind"
  work="$build/fuzz-corpus/$kind"
  log="$build/fuzz-$kind.log"
  dict=()
  [[ -f "$repo/data/fuzz/$kind.dict" ]] && dict=(-dict="$repo/data/fuzz/$kind.dict")
  mkdir -p "$work"
  # Inputs that once crashed a target (data/fuzz/regressions/<kind>/) are replayed first, one by one: they may be
  # too large or too rare for the fuzzer to find again within its time, and a fix must keep them passing.
  regressions=()
  [[ -d "$repo/data/fuzz/regressions/$kind" ]] && mapfile -t regressions < <(find "$repo/data/fuzz/regressions/$kind" -type f | sort)
  failed_regressions=()
  for input in "${regressions[@]}"; do
    if ! "$build/bin/$target" "$input" > "$build/fuzz-$kind-regression.log" 2>&1; then
      failed_regressions+=("$(basename "$input")")
      echo "!! $target crashes on regression input $input:"
      grep -E 'ERROR:|SUMMARY:|svdit-fuzz' "$build/fuzz-$kind-regression.log" | head -n 5 || true
    fi
  done
  if [[ ${#failed_regressions[@]} -gt 0 ]]; then
    status=1
    summary+=("$target: FAILED on ${#failed_regressions[@]} of ${#regressions[@]} regression inputs: ${failed_regressions[*]}")
  elif [[ ${#regressions[@]} -gt 0 ]]; then
    summary+=("$target: ${#regressions[@]} regression inputs pass")
  fi
  echo "== running $target for ${seconds}s (log: $log)"
  rc=0
  # The first corpus directory receives new inputs; the seeds directory is only read.
  nice "$build/bin/$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$kind-" "${dict[@]}" "${extra_args[@]}" "$work" "$seeds" \
    > "$log" 2>&1 || rc=$?
  # Last status line ("#N DONE cov: X ft: Y corp: Z/..."), and the executed-input count from the final stats.
  last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")"
  corp="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")"
  if [[ $rc -ne 0 ]]; then
    status=1
    echo "!! $target FAILED (exit $rc). Report:"
    grep -E 'ERROR:|SUMMARY:|svdit-fuzz|Test unit written|^    #[0-9]' "$log" | head -n 40 || true
    summary+=("$target: FAILED after ${execs:-?} executions — see $log")
  else
    summary+=("$target: ok, ${execs:-?} executions, cov ${cov:-?} edges, ft ${ft:-?} features, corpus ${corp:-?} inputs")
  fi
done

echo "== summary (${seconds}s per target)"
printf '   %s\n' "${summary[@]}"
exit "$status"
