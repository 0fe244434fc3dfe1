#!/usr/bin/env bash
# The run command of baton (README "Quick start"): builds the release binary and runs it.
#
# It starts the server in the foreground with every workflow of examples/ deployed:
#   baton serve --db ./baton.db --listen 127.0.0.1:8080 --examples examples/ [ARGS...]
# SIGTERM or Ctrl-C stops it gracefully.
#
# Usage: scripts/run.sh [ARGS...]   (ARGS go to `baton serve`)
# Environment: BATON_DB (default ./baton.db), BATON_LISTEN (default 127.0.0.1:8080),
#              BATON_JOBS, BATON_BUILD_ROOT (as for scripts/build.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

case "${1:-}" in
  -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

"$ROOT/scripts/install-deps.sh"
BATON_DEPS_CHECKED=1 "$ROOT/scripts/build.sh" release --target baton
bin="${BATON_BUILD_ROOT:-$ROOT/build}/release/baton"

serve_args=(--db "${BATON_DB:-./baton.db}" --listen "${BATON_LISTEN:-127.0.0.1:8080}"
  --examples examples/)
echo "run.sh: starting the server on http://${BATON_LISTEN:-127.0.0.1:8080} with examples/ deployed"
echo "run.sh: try: $bin start examples/hello --input '{\"name\":\"you\"}' --wait   (Ctrl-C stops the server)"
exec "$bin" serve "${serve_args[@]}" "$@"
