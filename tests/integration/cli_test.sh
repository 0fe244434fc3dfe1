#!/usr/bin/env bash
# The CLI as a user runs it: `baton validate` and `baton run` on real documents.
set -uo pipefail
baton=$1
src=$2
shared="$src/../shared/serverless-workflow"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() {  # check NAME CONDITION-EXIT-CODE
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1"; fi
}

# validate: every example of the spec is valid.
"$baton" validate "$shared"/examples/*.yaml > "$tmp/out" 2>&1
check "spec examples validate" $?

# validate: several problems, each FILE:LINE:COL: error: MESSAGE (at /pointer), exit 1.
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
  - b:
      call: http
      with:
        methd: get
        endpoint: http://x
YAML
"$baton" validate "$tmp/bad.yaml" > "$tmp/out" 2>&1
check "invalid document exits 1" $(( $? == 1 ? 0 : 1 ))
grep -q "^$tmp/bad.yaml:9:9: error: invalid jq expression '.foo | |'.*(at /do/0/a/set/x)$" "$tmp/out"
check "expression error has line, column and pointer" $?
grep -q "^$tmp/bad.yaml:10:7: error: 'then' target 'nowhere' does not exist.*(at /do/0/a/then)$" "$tmp/out"
check "then target error" $?
grep -q "^$tmp/bad.yaml:14:9: error: unknown property 'methd'.*(at /do/1/b/with/methd)$" "$tmp/out"
check "unknown property error" $?

# validate: YAML syntax errors are reported compiler-style too.
printf 'do:\n  - a: [1,\n' > "$tmp/syntax.yaml"
"$baton" validate "$tmp/syntax.yaml" > "$tmp/out" 2>&1
check "syntax error exits 1" $(( $? == 1 ? 0 : 1 ))
grep -qE "^$tmp/syntax.yaml:[0-9]+:[0-9]+: error: " "$tmp/out"
check "syntax error is compiler-style" $?

# validate --strict flags baton's extensions.
"$baton" validate "$src/examples/order-pipeline.yaml" > /dev/null 2>&1
check "extension is valid by default" $?
"$baton" validate --strict "$src/examples/order-pipeline.yaml" > "$tmp/out" 2>&1
check "--strict rejects extensions" $(( $? == 1 ? 0 : 1 ))
grep -q "for.concurrency" "$tmp/out"
check "--strict names the extension" $?

# run: output on stdout, exit 0.
out=$("$baton" run -q "$src/examples/hello.yaml" --input '{"name": "Ada"}')
check "run exits 0" $?
[ "$(echo "$out" | jq -c .)" = '{"greeting":"Hello, Ada!"}' ]
check "run prints the output" $?

# run --output json: one object with the status.
out=$("$baton" run -q "$src/examples/order-pipeline.yaml" --output json \
  --input '{"lines":[{"sku":"a","qty":2,"unitPrice":30},{"sku":"b","qty":1,"unitPrice":50}]}')
[ "$(echo "$out" | jq -c '[.status, .output.total, .output.approval]')" = '["completed",110,"manual"]' ]
check "run --output json completed" $?
out=$("$baton" run -q "$src/examples/order-pipeline.yaml" --output json --input '{"lines":[]}')
code=$?
check "faulted run exits 1" $(( code == 1 ? 0 : 1 ))
[ "$(echo "$out" | jq -c '[.status, .error.status, .error.instance]')" = '["faulted",400,"/do/1/reject"]' ]
check "run --output json faulted" $?

# run: a shell task with retries and exponential backoff.
out=$("$baton" run -q "$src/examples/shell-and-retry.yaml")
[ "$(echo "$out" | jq -r .result)" = "succeeded on attempt 3" ]
check "shell task retried until it succeeded" $?

# run: sub-workflows from --catalog.
mkdir -p "$tmp/catalog"
cat > "$tmp/catalog/child.yaml" <<'YAML'
document: {dsl: '1.0.3', namespace: test, name: child, version: '1.2.0'}
do:
  - double:
      set:
        v: ${ .v * 2 }
YAML
cat > "$tmp/parent.yaml" <<'YAML'
document: {dsl: '1.0.3', namespace: test, name: parent, version: '1.0.0'}
do:
  - callChild:
      run:
        workflow:
          namespace: test
          name: child
          version: latest
          input:
            v: ${ .n }
YAML
out=$("$baton" run -q "$tmp/parent.yaml" --catalog "$tmp/catalog" --input '{"n": 21}')
[ "$(echo "$out" | jq -c .)" = '{"v":42}' ]
check "sub-workflow from the catalog" $?

# run: bad --input is a usage error.
"$baton" run -q "$src/examples/hello.yaml" --input '{not json' > /dev/null 2>&1
check "bad --input exits 2" $(( $? == 2 ? 0 : 1 ))

# run: SIGINT cancels cleanly and kills running processes.
cat > "$tmp/sleepy.yaml" <<YAML
document: {dsl: '1.0.3', namespace: test, name: sleepy, version: '1.0.0'}
do:
  - nap:
      run:
        shell:
          command: echo \$\$ > $tmp/child.pid; exec sleep 300
YAML
"$baton" run -q "$tmp/sleepy.yaml" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/child.pid" ] && break; sleep 0.1; done
kill -INT $pid
wait $pid
code=$?
check "Ctrl-C exits 130" $(( code == 130 ? 0 : 1 ))
child=$(cat "$tmp/child.pid" 2>/dev/null || echo 0)
gone=1
for _ in $(seq 50); do kill -0 "$child" 2>/dev/null || { gone=0; break; }; sleep 0.1; done
check "Ctrl-C killed the running process" $gone

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
