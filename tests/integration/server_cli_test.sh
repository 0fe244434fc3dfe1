#!/usr/bin/env bash
# `baton serve` and the client verbs against it, end to end: a real server on a temporary
# SQLite database, driven only through the command line (deploy, start, ls, get, history,
# cancel, suspend, resume, definitions), then stopped with SIGTERM.
#
# Usage: server_cli_test.sh BATON [SOURCE_DIR]
#   BATON       the baton binary (nothing is built here)
#   SOURCE_DIR  the repository (for examples/); default: two levels above this script
# Prints PASS/FAIL lines and exits non-zero if any check failed.
set -uo pipefail

baton=$1
src=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME STATUS: STATUS 0 passes
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1"
  fi
}
expect_exit() {  # expect_exit NAME WANTED GOT
  if [ "$2" -eq "$3" ]; then check "$1" 0; else check "$1 (exit $3, wanted $2)" 1; fi
}
show() {  # show FILE: print a file's content indented, to explain a failure
  sed 's/^/    | /' "$1"
}

# ---- start the server on any free port ----------------------------------------------------
"$baton" serve --db "$tmp/baton.db" --listen 127.0.0.1:0 > "$tmp/serve.out" 2> "$tmp/serve.err" &
server_pid=$!
url=""
for _ in $(seq 1 300); do  # until the server says where it listens (at most ~30 s)
  url=$(sed -n 's|^baton: listening on \(http://[^ ]*\)$|\1|p' "$tmp/serve.out")
  if [ -n "$url" ] || ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "FAIL: baton serve did not print 'baton: listening on http://HOST:PORT'"
  show "$tmp/serve.out"
  show "$tmp/serve.err"
  exit 1
fi
export BATON_SERVER=$url  # the client verbs' default server

# ---- deploy and definitions --------------------------------------------------------------
"$baton" deploy "$src/examples/hello.yaml" > "$tmp/out" 2> "$tmp/err"
expect_exit "deploy exits 0" 0 $?
check "deploy prints deployed ns/name:version" \
  "$(grep -qx 'deployed examples/hello:1.0.0' "$tmp/out"; echo $?)"

"$baton" deploy --server "$url" "$src/examples/hello.yaml" > "$tmp/out" 2> "$tmp/err"
expect_exit "deploying the same document again exits 0" 0 $?
check "a repeated deploy prints unchanged" \
  "$(grep -qx 'unchanged examples/hello:1.0.0' "$tmp/out"; echo $?)"

"$baton" deploy --output json "$src/examples/hello.yaml" > "$tmp/out" 2> "$tmp/err"
check "deploy --output json prints the server's answer" \
  "$(grep -q '"name": "hello"' "$tmp/out"; echo $?)"

cat > "$tmp/bad.yaml" <<'YAML'
document:
  dsl: '1.0.3'
  namespace: test
  name: bad
  version: '1.0.0'
do:
  - a:
      set:
        x: ${ .foo | | }
      then: nowhere
YAML
"$baton" deploy "$tmp/bad.yaml" > "$tmp/out" 2> "$tmp/err"
expect_exit "deploying an invalid document exits 1" 1 $?
check "validation problems are FILE:LINE:COL: error: lines" \
  "$(grep -qE "^$tmp/bad.yaml:[0-9]+:[0-9]+: error: .*then" "$tmp/err"; echo $?)"

cat > "$tmp/slow.yaml" <<'YAML'
document:
  dsl: '1.0.3'
  namespace: test
  name: slow
  version: '1.0.0'
do:
  - pause:
      wait:
        seconds: 600
YAML
"$baton" deploy "$tmp/slow.yaml" > /dev/null 2> "$tmp/err"
expect_exit "deploy a second workflow" 0 $?

"$baton" definitions > "$tmp/out" 2> "$tmp/err"
expect_exit "definitions exits 0" 0 $?
check "definitions has a header" "$(grep -qE '^NAMESPACE +NAME +VERSIONS$' "$tmp/out"; echo $?)"
check "definitions lists examples/hello" \
  "$(grep -qE '^examples +hello +1\.0\.0$' "$tmp/out"; echo $?)"
"$baton" defs > "$tmp/out2" 2> /dev/null
check "defs is definitions" "$(cmp -s "$tmp/out" "$tmp/out2"; echo $?)"

# ---- start ------------------------------------------------------------------------------
"$baton" start examples/hello --input '{"name": "Ada"}' --wait --timeout 60 > "$tmp/out" 2> "$tmp/err"
expect_exit "start --wait of a completing workflow exits 0" 0 $?
read -r done_id done_status < "$tmp/out"
check "start --wait prints ID completed" "$([ "$done_status" = completed ] && [ -n "$done_id" ]; echo $?)"
check "start --wait prints the output" "$(grep -q '"greeting": "Hello, Ada!"' "$tmp/out"; echo $?)"

"$baton" start examples/hello:1.0.0 --output json --wait --timeout 60 > "$tmp/out" 2> "$tmp/err"
expect_exit "start --wait --output json exits 0" 0 $?
check "start --output json prints the instance view" \
  "$(grep -q '"status": "completed"' "$tmp/out"; echo $?)"

key_id1=$("$baton" start examples/hello --idempotency-key "order-7" 2> "$tmp/err")
expect_exit "start with an idempotency key exits 0" 0 $?
key_id2=$("$baton" start examples/hello --idempotency-key "order-7" 2> "$tmp/err")
expect_exit "start with the same key again exits 0" 0 $?
check "the same idempotency key gives the same id" \
  "$([ -n "$key_id1" ] && [ "$key_id1" = "$key_id2" ]; echo $?)"
check "a repeated key says nothing new started" \
  "$(grep -q "idempotency key 'order-7' names an existing instance" "$tmp/err"; echo $?)"
other_id=$("$baton" start examples/hello --idempotency-key "order-8" 2> /dev/null)
check "another key gives another id" "$([ -n "$other_id" ] && [ "$other_id" != "$key_id1" ]; echo $?)"

"$baton" start examples/hello --input '{"name": 5}' --wait --timeout 60 > "$tmp/out" 2> "$tmp/err"
expect_exit "start --wait of a faulting workflow exits 1" 1 $?
check "a fault names the instance and its status" \
  "$(grep -qE '^error: instance [^ ]+ faulted' "$tmp/err"; echo $?)"

"$baton" start test/slow --wait --timeout 1 > "$tmp/out" 2> "$tmp/err"
expect_exit "start --wait that times out exits 4" 4 $?
check "a timed-out wait says the instance is still running" \
  "$(grep -qE '^error: instance [^ ]+ is still [a-z]+ after 1 s' "$tmp/err"; echo $?)"

# ---- bad inputs -------------------------------------------------------------------------
"$baton" start unknown/workflow > "$tmp/out" 2> "$tmp/err"
expect_exit "starting an unknown workflow exits 1" 1 $?
check "an unknown workflow is named in the error" \
  "$(grep -qE '^error: .*unknown/workflow' "$tmp/err"; echo $?)"

"$baton" start examples/hello --input '{"name": ' > "$tmp/out" 2> "$tmp/err"
expect_exit "malformed --input JSON is a usage error (exit 2)" 2 $?
check "malformed --input JSON says so" \
  "$(grep -q '^error: --input is not valid JSON: ' "$tmp/err"; echo $?)"

"$baton" start examples/hello --input-file "$tmp/none.json" > /dev/null 2> "$tmp/err"
expect_exit "a missing --input-file exits 2" 2 $?

"$baton" start hello > /dev/null 2> "$tmp/err"
expect_exit "a workflow without namespace exits 2" 2 $?

"$baton" get no-such-instance > "$tmp/out" 2> "$tmp/err"
expect_exit "get of an unknown instance exits 1" 1 $?
check "get of an unknown instance prints error: TITLE: DETAIL" \
  "$(grep -qE '^error: [^:]+: .+' "$tmp/err"; echo $?)"

# ---- ls, get, history ---------------------------------------------------------------------
"$baton" ls > "$tmp/out" 2> "$tmp/err"
expect_exit "ls exits 0" 0 $?
check "ls has a header" "$(grep -qE '^ID +WORKFLOW +STATUS +STARTED +ELAPSED$' "$tmp/out"; echo $?)"
check "ls lists a started instance" \
  "$(grep -qE "^$key_id1 +examples/hello:1\.0\.0 +[a-z_]+ " "$tmp/out"; echo $?)"

"$baton" ls --status completed --workflow examples/hello > "$tmp/out" 2> "$tmp/err"
expect_exit "ls with filters exits 0" 0 $?
check "ls --status filters" "$(! grep -qE ' (faulted|waiting|running) ' "$tmp/out"; echo $?)"

completed=$(($(wc -l < "$tmp/out") - 1))
"$baton" ls --status completed --workflow examples/hello --limit 1 > "$tmp/out" 2> "$tmp/err"
check "ls --limit 1 shows one instance" "$([ "$(wc -l < "$tmp/out")" -eq 2 ]; echo $?)"
check "ls --limit 1 says there are more" "$(grep -q '^more instances: use --all, or --cursor ' "$tmp/err"; echo $?)"
"$baton" ls --status completed --workflow examples/hello --limit 1 --all > "$tmp/out" 2> "$tmp/err"
check "ls --all follows the cursor to every instance" \
  "$([ "$(($(wc -l < "$tmp/out") - 1))" -eq "$completed" ]; echo $?)"

"$baton" ls --output json > "$tmp/out" 2> "$tmp/err"
check "ls --output json prints items" "$(grep -q '"items": \[' "$tmp/out"; echo $?)"

"$baton" get "$done_id" > "$tmp/out" 2> "$tmp/err"
expect_exit "get exits 0" 0 $?
check "get shows the status" "$(grep -qE '^Status +completed$' "$tmp/out"; echo $?)"
check "get shows the workflow" "$(grep -qE '^Workflow +examples/hello:1\.0\.0$' "$tmp/out"; echo $?)"
check "get shows the output" "$(grep -q '"greeting": "Hello, Ada!"' "$tmp/out"; echo $?)"

"$baton" history "$done_id" > "$tmp/out" 2> "$tmp/err"
expect_exit "history exits 0" 0 $?
check "history has a header" \
  "$(grep -qE '^SEQ +TIME +KIND +TASK +ATTEMPT +DURATION +ERROR$' "$tmp/out"; echo $?)"
check "history has entries" "$([ "$(wc -l < "$tmp/out")" -ge 3 ]; echo $?)"

# ---- suspend, resume, cancel --------------------------------------------------------------
slow_id=$("$baton" start test/slow 2> "$tmp/err")
expect_exit "start a waiting workflow" 0 $?

"$baton" suspend "$slow_id" > "$tmp/out" 2> "$tmp/err"
expect_exit "suspend exits 0" 0 $?
check "suspend prints ID suspended" "$(grep -qx "$slow_id suspended" "$tmp/out"; echo $?)"

"$baton" resume "$slow_id" > "$tmp/out" 2> "$tmp/err"
expect_exit "resume exits 0" 0 $?
check "resume prints the new status" "$(grep -qE "^$slow_id (running|waiting)$" "$tmp/out"; echo $?)"

"$baton" cancel "$slow_id" --reason "not needed" > "$tmp/out" 2> "$tmp/err"
expect_exit "cancel exits 0" 0 $?
check "cancel prints the status" "$(grep -qE "^$slow_id (cancelled|cancelling)$" "$tmp/out"; echo $?)"

"$baton" cancel "$done_id" > "$tmp/out" 2> "$tmp/err"
expect_exit "cancelling a completed instance exits 1" 1 $?
check "a refused cancel prints error: TITLE: DETAIL" "$(grep -qE '^error: [^:]+: ' "$tmp/err"; echo $?)"

"$baton" resume "$done_id" > /dev/null 2> "$tmp/err"
expect_exit "resuming a completed instance exits 1" 1 $?

# ---- stop the server ----------------------------------------------------------------------
kill -TERM "$server_pid"
wait "$server_pid"
expect_exit "baton serve exits 0 on SIGTERM" 0 $?
server_pid=""

"$baton" ls > "$tmp/out" 2> "$tmp/err"
expect_exit "ls without a server exits 3" 3 $?
check "an unreachable server is explained" \
  "$(grep -q "^error: cannot reach baton server at $url: connection refused (is \`baton serve\` running?)$" "$tmp/err"; echo $?)"

echo "server_cli_test: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
  echo "--- baton serve stderr:"
  show "$tmp/serve.err"
  exit 1
fi
