#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through step() look unreachable to it
# The test command of baton (README "Quick start"; CI runs it through .ci/run).
#
#   1. scripts/install-deps.sh                      Debian packages, when missing
#   2. tools/format.sh --check                      clang-format 14, src/ tests/ bench/
#   3. tools/check_includes.py                      subsystem boundaries, real-clock allow-list
#   4. debug build (ASan+UBSan) and ctest           every test, with a per-test timeout
#   5. tsan build (ThreadSanitizer) and the tests of the threaded parts: the server, the
#      store, the HTTP server and routes, the executors, the client verbs
#   6. release build and a smoke test               baton --help, validate examples/, run a workflow
#   7. tools/lint.sh (clang-tidy), only with --tidy or BATON_TIDY=1
#
# Every step runs even when an earlier one failed (except those that need a build that
# failed), then a summary is printed. Exit status 0 only when every step passed.
#
# Usage: scripts/test.sh [--tidy]
# Environment:
#   BATON_JOBS          parallel jobs for the builds and ctest (default 2)
#   BATON_BUILD_ROOT    where the debug/, tsan/ and release/ build dirs go (default <repo>/build)
#   BATON_TEST_TIMEOUT  seconds per test before ctest kills it (default 300)
#   BATON_CTEST_ARGS    extra ctest arguments, e.g. "-R Fork" or "-L unit"
#   BATON_TIDY=1        same as --tidy
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

JOBS="${BATON_JOBS:-2}"
BUILD_ROOT="${BATON_BUILD_ROOT:-$ROOT/build}"
DEBUG_DIR="$BUILD_ROOT/debug"
TSAN_DIR="$BUILD_ROOT/tsan"
RELEASE_DIR="$BUILD_ROOT/release"
TEST_TIMEOUT="${BATON_TEST_TIMEOUT:-300}"
TIDY="${BATON_TIDY:-0}"

for arg in "$@"; do
  case "$arg" in
    --tidy) TIDY=1 ;;
    -h | --help) sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

export BATON_JOBS="$JOBS" BATON_BUILD_ROOT="$BUILD_ROOT"
# Sanitizer reports must fail the test that triggers them, with a stack to read.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1:strict_init_order=1}"

summary=()
failures=()
tests_passed=""
tests_failed=""
started=$SECONDS

# step NAME COMMAND...: runs COMMAND, records ok/FAIL with its duration.
step() {
  local name="$1"
  shift
  local t0=$SECONDS
  echo
  echo "==> $name"
  if "$@"; then
    summary+=("$(printf 'ok    %-34s %5ss' "$name" $((SECONDS - t0)))")
    return 0
  fi
  summary+=("$(printf 'FAIL  %-34s %5ss' "$name" $((SECONDS - t0)))")
  failures+=("$name")
  return 1
}

skip() {
  summary+=("$(printf 'skip  %-34s (%s)' "$1" "$2")")
  failures+=("$1 (skipped)")
}

run_ctest() {
  local log
  log=$(mktemp)
  # shellcheck disable=SC2086  # BATON_CTEST_ARGS is a list of words on purpose
  ctest --test-dir "$DEBUG_DIR" --output-on-failure -j "$JOBS" --timeout "$TEST_TIMEOUT" \
    --no-tests=error ${BATON_CTEST_ARGS:-} </dev/null 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # "100% tests passed, 0 tests failed out of 57"
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [[ -n "$line" ]]; then
    local total failed
    failed=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    tests_failed=$failed
    tests_passed=$((total - failed))
  fi
  rm -f "$log"
  return "$rc"
}

# The suites whose code runs on several threads, under ThreadSanitizer. A report fails the
# test binary (halt_on_error), with both stacks and the locks held.
TSAN_TARGETS=(runtime_tests store_tests api_tests unit_tests)
TSAN_UNIT_SUITES="HttpExecutorTest.*:ProcessExecutorTest.*:ShardedExecutorTest.*:\
ExecutorRegistryTest.*:HttpFixtureTest.*:ProgramSetThreadsTest.*:ApiClientTest.*:\
ClientCommandsTest.*:ServeCommandTest.*"
tsan_run() {
  local bin="$1"
  shift
  echo "+ $bin $*"
  if ! TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}" \
    "$TSAN_DIR/$bin" --gtest_brief=1 "$@" </dev/null; then
    echo "tsan: $bin failed"
    return 1
  fi
}
run_tsan() {
  local rc=0
  tsan_run tests/runtime/runtime_tests || rc=1
  tsan_run tests/store/store_tests || rc=1
  tsan_run tests/api/api_tests || rc=1
  tsan_run tests/unit_tests "--gtest_filter=$TSAN_UNIT_SUITES" || rc=1
  return "$rc"
}

# The release binary must start, accept every shipped example, and run a workflow that
# exercises YAML loading, a jq expression and the output path end to end.
smoke() {
  local bin="$RELEASE_DIR/baton"
  echo "+ baton --help"
  if ! "$bin" --help </dev/null >/dev/null; then
    echo "smoke: '$bin --help' failed"
    return 1
  fi
  local examples=()
  mapfile -t examples < <(find examples -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.json' \) \
    ! -name '*.input.json' 2>/dev/null | sort)
  if [[ ${#examples[@]} -gt 0 ]]; then
    echo "+ baton validate examples/ (${#examples[@]} files)"
    if ! "$bin" validate "${examples[@]}" </dev/null; then
      echo "smoke: 'baton validate' rejected a file in examples/"
      return 1
    fi
  fi
  local dir out rc
  dir=$(mktemp -d)
  cat >"$dir/smoke.yaml" <<'YAML'
document:
  dsl: '1.0.0'
  namespace: smoke
  name: hello
  version: '0.1.0'
do:
  - greet:
      set:
        greeting: ${ "hello, " + .name }
YAML
  echo "+ baton run smoke.yaml --input '{\"name\":\"smoke\"}' --output json"
  out=$("$bin" run "$dir/smoke.yaml" --input '{"name":"smoke"}' --output json </dev/null 2>&1)
  rc=$?
  rm -rf "$dir"
  echo "$out" | tail -n 20
  if [[ $rc -ne 0 ]]; then
    echo "smoke: 'baton run' exited $rc"
    return 1
  fi
  if ! grep -q 'hello, smoke' <<<"$out"; then
    echo "smoke: 'baton run' output lacks the expected \"hello, smoke\""
    return 1
  fi
  smoke_serve "$bin"
}

# The release server starts with examples/ deployed (what scripts/run.sh does), runs a
# workflow through the CLI client, and stops with exit 0 on SIGTERM.
smoke_serve() {
  local bin="$1" dir pid url out rc
  dir=$(mktemp -d)
  echo "+ baton serve --db TMP/baton.db --listen 127.0.0.1:0 --examples examples/"
  "$bin" serve --db "$dir/baton.db" --listen 127.0.0.1:0 --examples examples/ \
    >"$dir/out" 2>"$dir/err" </dev/null &
  pid=$!
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^baton: listening on \(http:.*\)$/\1/p' "$dir/out")
    [[ -n "$url" ]] && break
    sleep 0.1
  done
  if [[ -z "$url" ]]; then
    echo "smoke: 'baton serve' did not start:"
    cat "$dir/err"
    kill "$pid" 2>/dev/null
    rm -rf "$dir"
    return 1
  fi
  echo "+ baton start examples/hello --input '{\"name\":\"smoke\"}' --wait --server $url"
  out=$("$bin" start examples/hello --input '{"name":"smoke"}' --wait --server "$url" </dev/null 2>&1)
  rc=$?
  echo "$out"
  kill -TERM "$pid"
  wait "$pid"
  local serve_rc=$?
  rm -rf "$dir"
  if [[ $rc -ne 0 ]] || ! grep -q 'smoke' <<<"$out"; then
    echo "smoke: 'baton start --wait' against the server failed (exit $rc)"
    return 1
  fi
  if [[ $serve_rc -ne 0 ]]; then
    echo "smoke: 'baton serve' exited $serve_rc on SIGTERM (expected 0)"
    return 1
  fi
}

if ! step "install-deps" scripts/install-deps.sh; then
  echo "test.sh: FAILED: could not install the build dependencies"
  exit 1
fi
export BATON_DEPS_CHECKED=1

step "format (tools/format.sh --check)" tools/format.sh --check
step "includes (tools/check_includes.py)" python3 tools/check_includes.py

if step "debug build (ASan+UBSan)" scripts/build.sh debug; then
  step "ctest (debug)" run_ctest
else
  skip "ctest (debug)" "debug build failed"
fi

tsan_build_args=()
for t in "${TSAN_TARGETS[@]}"; do tsan_build_args+=(--target "$t"); done
if step "tsan build (ThreadSanitizer)" scripts/build.sh tsan "${tsan_build_args[@]}"; then
  step "tsan tests (threaded suites)" run_tsan
else
  skip "tsan tests (threaded suites)" "tsan build failed"
fi

if step "release build" scripts/build.sh release; then
  step "release smoke" smoke
else
  skip "release smoke" "release build failed"
fi

if [[ "$TIDY" == 1 ]]; then
  step "clang-tidy (tools/lint.sh)" tools/lint.sh --build-dir "$DEBUG_DIR"
fi

echo
echo "==================== test.sh summary ===================="
printf '%s\n' "${summary[@]}"
if [[ "$TIDY" != 1 ]]; then
  echo "(clang-tidy not run: scripts/test.sh --tidy, or tools/lint.sh)"
fi
echo "total $((SECONDS - started))s"
counts="${tests_passed:-0} passed, ${tests_failed:-0} failed"
if [[ ${#failures[@]} -eq 0 ]]; then
  echo "PASS: $counts"
  exit 0
fi
echo "FAIL: $counts; failed steps: $(printf '%s; ' "${failures[@]}" | sed 's/; $//')"
exit 1
