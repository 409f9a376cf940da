#!/usr/bin/env bash
# Screenshot tests of svdit analyze (registered by analyzer/CMakeLists.txt, label cpu).
# Renders the three views of the bundled sample headless under Xvfb (Mesa), then checks each PNG with
# svdit-analyze-check, which derives the expected colours from the profile and plan. Also checks that the
# checker rejects a screenshot that does not match (so a pass means something), and the headless exit codes.
# usage: screenshot_test.sh SVDIT_ANALYZE CHECKER SAMPLES_DIR OUT_DIR
set -euo pipefail
analyze=$1 check=$2 samples=$3 out=$4
profile=$samples/sample_profile.h5
plan=$samples/sample_plan.json
rm -rf "$out"
mkdir -p "$out"

if ! command -v xvfb-run > /dev/null; then
  echo "FAIL: xvfb-run not found (scripts/setup.sh installs xvfb and xauth)"
  exit 1
fi
# -a picks a free display, so parallel test runs do not collide.
xvfb() { xvfb-run -a -s "-screen 0 1920x1200x24" "$@"; }

for view in grid map tradeoff; do
  echo "--- $view"
  xvfb "$analyze" "$profile" "$plan" --screenshot "$out/$view.png" --report "$out/$view.json" \
    --view "$view" --layer 1 --head 4
  "$check" "$out/$view.png" "$out/$view.json" "$profile" "$plan" --view "$view" --size 1280x800 --layer 1 --head 4
done

echo "--- another size, the dense starting plan (no plan given), another head and step"
xvfb "$analyze" "$profile" --screenshot "$out/dense-map.png" --report "$out/dense-map.json" --size 960x720 --view map \
  --layer 1 --head 0 --step 9
"$check" "$out/dense-map.png" "$out/dense-map.json" "$profile" --view map --size 960x720 --layer 1 --head 0

echo "--- the checker rejects mismatches: the sample plan's grid and overlay checked against the dense plan"
if "$check" "$out/grid.png" "$out/grid.json" "$profile" --view grid --size 1280x800 > "$out/negative.log" 2>&1; then
  echo "FAIL: the checker accepted a grid that does not show the plan it was given"
  exit 1
fi
grep -q "FAIL: grid: layer" "$out/negative.log"
if "$check" "$out/map.png" "$out/map.json" "$profile" --view map --size 1280x800 > "$out/negative.log" 2>&1; then
  echo "FAIL: the checker accepted a layout overlay of another pattern"
  exit 1
fi
grep -q "FAIL: map: the layout overlay is not where" "$out/negative.log"
if "$check" "$out/grid.png" "$out/grid.json" "$profile" "$plan" --view grid --size 1000x800 > /dev/null 2>&1; then
  echo "FAIL: the checker accepted a wrong image size"
  exit 1
fi

echo "--- headless errors: message and exit status, never a crash"
expect_status() {
  local want=$1 pattern=$2
  shift 2
  set +e
  "$@" > "$out/err.log" 2>&1
  local got=$?
  set -e
  if [[ $got != "$want" ]]; then
    echo "FAIL: '$*' exited $got, expected $want"; cat "$out/err.log"; exit 1
  fi
  if ! grep -q -- "$pattern" "$out/err.log"; then
    echo "FAIL: '$*' did not say '$pattern'"; cat "$out/err.log"; exit 1
  fi
}
printf 'not a profile' > "$out/bad.h5"
expect_status 1 "bad.h5" "$analyze" "$out/bad.h5" --screenshot "$out/x.png"
printf '{"format": "svdit-plan", "version": 7}' > "$out/bad.json"
expect_status 1 "bad.json" "$analyze" "$profile" "$out/bad.json" --screenshot "$out/x.png"
expect_status 1 "missing.h5" "$analyze" "$out/missing.h5" --screenshot "$out/x.png"
expect_status 2 "was not profiled" "$analyze" "$profile" --screenshot "$out/x.png" --step 5
expect_status 2 "outside the model" "$analyze" "$profile" --screenshot "$out/x.png" --layer 4
expect_status 2 "needs a profile" "$analyze" --screenshot "$out/x.png"
expect_status 2 "unknown option" "$analyze" --bogus
[[ ! -e "$out/x.png" ]] || { echo "FAIL: a failed run wrote a screenshot"; exit 1; }
echo "all screenshot checks passed"
