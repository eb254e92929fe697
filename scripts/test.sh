#!/usr/bin/env bash
# Install dependencies, build meshmon twice (plain, and userspace under ASan +
# UBSan) and run every test in both builds against the real kernel, then the
# install and package checks (tests/install) and every benchmark once, briefly,
# on the plain build. Ends with
# one line "N passed, M failed"; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "${1:-0}" -eq 0 ]
  exit $?
}

if ! bash scripts/install-deps.sh; then
  echo "installing dependencies failed" >&2
  failed=1
  finish 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Count criterion's "Synthesis" line of every test program in a build's test
# log; a program that ended without one (it crashed or did not start) is one
# failure.
count_results() {
  local log=$1 line
  while IFS= read -r line; do
    local name result out tested passing
    name=$(jq -r .name <<<"$line")
    result=$(jq -r .result <<<"$line")
    out=$(jq -r '(.stdout // "") + (.stderr // "")' <<<"$line")
    if synth=$(grep -a 'Synthesis: Tested:' <<<"$out" | tail -n 1) && [ -n "$synth" ]; then
      tested=$(sed -E 's/.*Tested: ([0-9]+).*/\1/' <<<"$synth")
      passing=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$synth")
      passed=$((passed + passing))
      failed=$((failed + tested - passing))
      if [ "$result" != OK ] && [ "$tested" -eq "$passing" ]; then
        echo "$name: $result although every test passed" >&2
        failed=$((failed + 1))
      fi
    else
      echo "$name: $result without a criterion summary" >&2
      failed=$((failed + 1))
    fi
  done <"$log"
}

run_build() {
  local dir=$1
  shift
  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null || return 1
  else
    meson setup "$dir" "$@" >/dev/null || return 1
  fi
  ninja -C "$dir" || return 1
  echo "== tests in $dir"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2
  count_results "$dir/meson-logs/testlog.json"
}

# tests/install/test_install.sh: meson install, the unit, the man pages and
# the Debian package. One count per check, from its closing line
# "test_install: N passed, M failed"; no such line, or a non-zero exit with
# no failed check, is one failure more.
run_install_tests() {
  local log line p f rc
  log=$(mktemp)
  echo "== install and package tests"
  bash tests/install/test_install.sh build | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^test_install: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "test_install.sh: exit $rc without a summary" >&2
    failed=$((failed + 1))
    return
  fi
  p=$(sed -E 's/^test_install: ([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "test_install.sh: exit $rc although every check passed" >&2
    failed=$((failed + 1))
  fi
}

# Every benchmark (bench/, docs/performance.md) once, briefly, on the plain
# build: each one that runs to the end counts as passed. Their figures are
# printed, never judged (a shared machine makes them move by 30% and more).
run_benchmarks() {
  local start=$SECONDS name
  local -a runs=(
    "meshmon-ring-bench --records 20000 --capture-len 128"
    "meshmon-filter-bench --min-ms 50"
    "meshmon-datapath-bench --quick"
    "meshmon-endpoint-bench --quick"
    "meshmon-pipeline-bench --quick"
    "meshmon-cli-bench --quick"
    "meshmon-reorder-bench --records 200000"
    "meshmon-sock-xlate-bench 500"
    "meshmon-probe-bench --connections 200 --closes 200 --reps 5"
  )
  echo "== benchmarks, briefly (figures not judged)"
  for run in "${runs[@]}"; do
    name=${run%% *}
    if [ ! -x "build/bench/$name" ]; then
      echo "$name: not built" >&2
      failed=$((failed + 1))
    elif timeout 300 build/bench/$run >"build/$name.log" 2>&1; then
      passed=$((passed + 1))
      echo "$name: ran ($(wc -l <"build/$name.log") lines in build/$name.log)"
    else
      failed=$((failed + 1))
      echo "$name: FAILED (exit $?), last lines of build/$name.log:" >&2
      tail -n 15 "build/$name.log" >&2
    fi
  done
  echo "== benchmarks took $((SECONDS - start)) s"
}

# The libFuzzer targets (fuzz/, docs/build.md "Fuzzing") in a clang build
# directory of their own: every fuzz/fuzz_*.c runs for a fixed time
# (MM_FUZZ_SECONDS, 12 s each) on a copy of its seed corpus, so the tree is not
# modified. One target is one test: a crash, leak, timeout or broken
# invariant fails it, and the input that did it is kept under
# build-fuzz/fuzz-artifacts/ with its path printed.
run_fuzz() {
  local dir=build-fuzz secs=${MM_FUZZ_SECONDS:-12} start=$SECONDS work src t log input
  local setup=(-Dfuzz=enabled -Dtests=false -Db_lundef=false -Db_sanitize=address,undefined
    -Dc_args=-fsanitize=fuzzer-no-link)
  local targets=()

  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "${setup[@]}" >/dev/null || return 1
  else
    CC=clang meson setup "$dir" "${setup[@]}" >/dev/null || return 1
  fi
  for src in fuzz/fuzz_*.c; do
    targets+=("$(basename "$src" .c)")
  done
  ninja -C "$dir" "${targets[@]/#/fuzz/}" || return 1
  work=$(mktemp -d) || return 1
  mkdir -p "$dir/fuzz-artifacts"
  echo "== fuzzing in $dir: ${#targets[@]} targets, ${secs} s each"
  for t in "${targets[@]}"; do
    mkdir -p "$work/$t"
    cp fuzz/corpus/"$t"/* "$work/$t"/
    rm -f "$dir/fuzz-artifacts/$t"-*
    log=$dir/fuzz-artifacts/$t.log
    if "$dir/fuzz/$t" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$dir/fuzz-artifacts/$t-" "$work/$t" >"$log" 2>&1; then
      passed=$((passed + 1))
      echo "$t: ok, $(sed -n 's/^stat::number_of_executed_units: //p' "$log") inputs"
    else
      failed=$((failed + 1))
      echo "$t: FAILED, log in $log" >&2
      grep -E 'ERROR:|invariant broken|^SUMMARY' "$log" | head -n 5 >&2
      for input in "$dir/fuzz-artifacts/$t"-*; do
        [ -f "$input" ] && echo "  input: $input (rerun: $dir/fuzz/$t $input)" >&2
      done
    fi
  done
  rm -rf "$work"
  echo "== fuzzing took $((SECONDS - start)) s"
}

status=0
run_build build || { echo "build failed" >&2; failed=$((failed + 1)); status=1; }
run_install_tests
run_benchmarks
run_build build-asan -Db_sanitize=address,undefined -Db_lundef=false ||
  { echo "sanitizer build failed" >&2; failed=$((failed + 1)); status=1; }
run_fuzz || { echo "fuzz build failed" >&2; failed=$((failed + 1)); status=1; }
finish "$status"
