#!/usr/bin/env bash
# The run command of baton (README "Quick start"): builds the release binary and runs it.
#
# When the binary has the server (`baton serve`), it starts it in the foreground:
#   baton serve --db ./baton.db --listen 127.0.0.1:8080 [--examples examples/] [ARGS...]
# Until then it runs every workflow in examples/ once with `baton run` and prints each
# result; examples/NAME.input.json, when present, is passed as that workflow's input.
#
# Usage: scripts/run.sh [ARGS...]   (ARGS go to `baton serve`)
# Environment: BATON_DB (default ./baton.db), BATON_LISTEN (default 127.0.0.1:8080),
#              BATON_JOBS, BATON_BUILD_ROOT (as for scripts/build.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

case "${1:-}" in
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

"$ROOT/scripts/install-deps.sh"
BATON_DEPS_CHECKED=1 "$ROOT/scripts/build.sh" release --target baton
bin="${BATON_BUILD_ROOT:-$ROOT/build}/release/baton"

# A binary without the verb may still answer `serve --help` with its general help (CLI11
# does), so look for the server's own option in the answer.
serve_help=$("$bin" serve --help </dev/null 2>&1) || serve_help=""
if grep -q -- '--listen' <<<"$serve_help"; then
  serve_args=(--db "${BATON_DB:-./baton.db}" --listen "${BATON_LISTEN:-127.0.0.1:8080}")
  if grep -q -- '--examples' <<<"$serve_help"; then
    serve_args+=(--examples examples/)
  fi
  echo "run.sh: starting the server on http://${BATON_LISTEN:-127.0.0.1:8080} (Ctrl-C stops it)"
  exec "$bin" serve "${serve_args[@]}" "$@"
fi

echo "run.sh: this build has no server yet ('baton serve' is a later milestone);"
echo "run.sh: running each workflow in examples/ once with 'baton run' instead."
shopt -s nullglob
workflows=(examples/*.yaml examples/*.yml examples/*.json)
shopt -u nullglob
ran=0
failed=0
for wf in "${workflows[@]}"; do
  [[ "$wf" == *.input.json ]] && continue
  args=(run "$wf")
  input="${wf%.*}.input.json"
  [[ -f "$input" ]] && args+=(--input-file "$input")
  echo
  echo "==> baton ${args[*]}"
  ran=$((ran + 1))
  if ! "$bin" "${args[@]}" </dev/null; then
    failed=$((failed + 1))
    echo "run.sh: $wf did not complete"
  fi
done
echo
if [[ $ran -eq 0 ]]; then
  echo "run.sh: no workflows in examples/"
  exit 1
fi
echo "run.sh: $((ran - failed)) of $ran example workflow(s) completed"
[[ $failed -eq 0 ]]
