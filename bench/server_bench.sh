#!/usr/bin/env bash
# The server benchmarks: builds the release tree if needed, starts the echo service and
# `baton serve` (one fresh database and server per scenario), drives them with baton_load, and
# prints a table of every figure beside its target and the peers' figures
# (../shared/bench-peers/results). Servers listen on 127.0.0.1 only and are stopped on exit.
#
# usage: bench/server_bench.sh [--quick] [--keep] [BUILD_DIR]      (default build/release)
#   --quick  smaller N, one repetition (a few minutes)
#   --keep   keep the temp directory (databases, server logs, baton_load outputs)
# env: BATON, BATON_LOAD, BATON_ECHO  use these binaries instead of BUILD_DIR's
#      NO_BUILD=1                     do not run cmake
#      JOBS=N                         build jobs (default: the preset's)
#      CONC=256                       in-flight requests (connections) for W1
#      SLOW_MS=5000                   echo delay of the recovery scenario's calls
#      ONLY="w1 w1set w2 w3 timers mem recovery"   run a subset, in this order
set -euo pipefail

quick=0
keep=0
build=""
for a in "$@"; do
  case $a in
    --quick) quick=1 ;;
    --keep) keep=1 ;;
    -h | --help)
      sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "server_bench.sh: unknown option $a" >&2
      exit 2
      ;;
    *) build=$a ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
preset=0
if [[ -z $build ]]; then
  build=$root/build/release
  preset=1
fi
build=$(cd "$root" && mkdir -p "$build" && cd "$build" && pwd)
wfdir=$root/bench/workflows

# ---------------------------------------------------------------------------------- build
if [[ ${NO_BUILD:-0} != 1 ]]; then
  jobs=()
  [[ -n ${JOBS:-} ]] && jobs=(-j "$JOBS")
  built=1
  if ((preset)); then
    [[ -f $build/CMakeCache.txt ]] || (cd "$root" && cmake --preset release) || built=0
    ((built)) && { (cd "$root" && cmake --build --preset release "${jobs[@]}") || built=0; }
  else
    [[ -f $build/CMakeCache.txt ]] || {
      echo "server_bench.sh: $build is not a CMake build tree" >&2
      exit 2
    }
    targets=(baton_load baton_echo)
    [[ -z ${BATON:-} ]] && targets+=(baton)
    cmake --build "$build" "${jobs[@]}" --target "${targets[@]}" || built=0
  fi
  if ((!built)); then
    echo "server_bench.sh: the build failed; NO_BUILD=1 (and BATON=...) runs existing binaries" >&2
    exit 1
  fi
fi
baton=${BATON:-$build/baton}
load=${BATON_LOAD:-$build/bench/baton_load}
echo_bin=${BATON_ECHO:-$build/bench/baton_echo}
for b in "$baton" "$load" "$echo_bin"; do
  [[ -x $b ]] || {
    echo "server_bench.sh: missing $b" >&2
    exit 2
  }
done

# ---------------------------------------------------------------------------------- sizes
if ((quick)); then
  reps=1 w1_ns="200 2000" w3_n=500 w3_warm=100 mem_chunk=5000 rec_n=2000 ceiling_n=20000
else
  reps=3 w1_ns="200 2000" w3_n=2000 w3_warm=200 mem_chunk=25000 rec_n=10000 ceiling_n=100000
fi
conc=${CONC:-256}
slow_ms=${SLOW_MS:-5000}
only=${ONLY:-w1 w1set w2 w3 timers mem recovery}

# Peers (../shared/bench-peers/results, 2026-11-26, same machine).
peer_w1="BullMQ:555 Restate:375 DBOS:173"
peer_w2="BullMQ:91 Restate:417 DBOS:497"
peer_w3_p50="BullMQ:1.1 DBOS:3.2 Restate:5.5"
peer_w3_p99="BullMQ:6.7 DBOS:7.6 Restate:25.8"
peer_rss_mb=184 # BullMQ: redis-server 67 MB + worker 117 MB

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
tmp=$(mktemp -d /tmp/baton-bench.XXXXXX)
epid=""
spid=""
failed=0
cleanup() {
  [[ -n $spid ]] && kill -KILL "$spid" 2>/dev/null
  [[ -n $epid ]] && kill -TERM "$epid" 2>/dev/null
  wait 2>/dev/null
  if ((keep || failed)); then
    echo "logs and databases kept in $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------- helpers
log() { printf '\n== %s\n' "$*"; }
now_ns() { date +%s%N; }
# calc EXPR: floating-point arithmetic through awk
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }
fmt() { awk -v v="$2" "BEGIN { printf \"$1\", v }"; }
# yes/no: $1 OP $2 (OP: le, ge, lt)
cmp() {
  awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
    if (a == "") { print "ERR"; exit }
    r = (op == "le") ? (a <= b) : (op == "ge") ? (a >= b) : (a < b)
    print r ? "yes" : "NO" }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ratios "BullMQ:555 ..." VALUE → "×6.8 BullMQ, ×10.1 Restate, ..." (baton / peer)
ratios() {
  local out="" p
  for p in $1; do
    out+="${out:+, }×$(fmt %.2f "$(calc "$2 / ${p#*:}")") ${p%%:*}"
  done
  echo "$out"
}
rows=()
row() { rows+=("$1|$2|$3|$4|$5"); }

# CPU seconds used so far by a process (utime + stime)
cpu_of() {
  [[ -n $1 && -r /proc/$1/stat ]] || return 0
  awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' \
    "/proc/$1/stat"
}
# "requests connections" served by the echo service so far
echo_counts() {
  curl -sf "$echo_url/stats" | sed -n 's/.*"requests":\([0-9]*\).*"connections":\([0-9]*\).*/\1 \2/p'
}

mb_of() { # $1 = pid, $2 = VmHWM or VmRSS → MB
  awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null
}

start_echo() {
  "$echo_bin" 0 >"$tmp/echo.out" 2>"$tmp/echo.err" &
  epid=$!
  local i
  for i in $(seq 100); do
    echo_url=$(sed -n 's/^echo: listening on \(.*\)$/http:\/\/\1/p' "$tmp/echo.out")
    [[ -n $echo_url ]] && return 0
    sleep 0.05
  done
  echo "baton_echo did not start: $(cat "$tmp/echo.err")" >&2
  exit 1
}

# start_server NAME [DB]: starts `baton serve`, sets spid and url, waits for /readyz 200.
# Sets ready_ms: exec → /readyz 200.
start_server() {
  local name=$1 db=${2:-$tmp/$1.db} i t0
  server_log=$tmp/$name.serve
  read -r echo_req0 echo_conn0 <<<"$(echo_counts)"
  t0=$(now_ns)
  "$baton" serve --db "$db" --listen 127.0.0.1:0 >"$server_log.out" 2>"$server_log.err" &
  spid=$!
  url=""
  for i in $(seq 6000); do
    url=$(sed -n 's/^baton: listening on \(http:[^ ]*\).*$/\1/p' "$server_log.out" | head -1)
    [[ -n $url ]] && break
    if ! kill -0 "$spid" 2>/dev/null; then
      server_died "before listening"
      return 1
    fi
    sleep 0.005
  done
  [[ -n $url ]] || {
    echo "baton serve printed no 'listening on' line in 30 s" >&2
    return 1
  }
  for i in $(seq 3000); do
    if curl -sf -o /dev/null --max-time 1 "$url/readyz"; then
      ready_ms=$((($(now_ns) - t0) / 1000000))
      echo "server $name: $url (pid $spid), ready after $ready_ms ms"
      return 0
    fi
    kill -0 "$spid" 2>/dev/null || {
      server_died "before /readyz answered 200"
      return 1
    }
    sleep 0.01
  done
  echo "baton serve: /readyz did not answer 200 within 30 s" >&2
  return 1
}

server_died() {
  local rc=0
  wait "$spid" || rc=$?
  echo "baton serve exited (code $rc) $1; last lines of its log:" >&2
  tail -n 20 "$server_log.err" "$server_log.out" >&2 || true
  spid=""
  failed=1
}

# Stops the server; reports a crash during the scenario.
stop_server() {
  [[ -n $spid ]] || return 0
  if ! kill -0 "$spid" 2>/dev/null; then
    server_died "during the scenario"
    return 1
  fi
  local i r c
  read -r r c <<<"$(echo_counts)"
  echo "  echo service during this scenario: $((r - echo_req0)) requests on $((c - echo_conn0)) new connections"
  kill -TERM "$spid"
  for i in $(seq 200); do
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$spid" 2>/dev/null; then
    echo "baton serve did not stop within 10 s of SIGTERM; killing it" >&2
    kill -KILL "$spid"
  fi
  wait "$spid" 2>/dev/null || true
  spid=""
}

# Writes a workflow with the echo service's URL substituted; prints its path.
prepare() {
  sed -e "s#@ECHO@#$echo_url#g" -e "s#@SLOW_MS@#$slow_ms#g" "$wfdir/$1.yaml" >"$tmp/$1.yaml"
  echo "$tmp/$1.yaml"
}

# A fork of $1 branches, each an HTTP call (/inc of {v: i} → {v: i+1}), then a join.
gen_fork() {
  local k=$1 i f=$tmp/w2-fork-$1.yaml
  {
    echo "# generated by bench/server_bench.sh: a fork of $k HTTP calls, then a join"
    echo "document: {dsl: '1.0.3', namespace: bench, name: w2-fork-$k, version: '1.0.0'}"
    echo "do:"
    echo "  - fan:"
    echo "      fork:"
    echo "        branches:"
    for ((i = 0; i < k; i++)); do
      echo "          - b$i:"
      echo "              call: http"
      echo "              with: {method: post, endpoint: '$echo_url/inc', body: {v: $i}}"
    done
    echo "  - join:"
    echo "      set: {n: '\${ length }', sum: '\${ [.[].v] | add }'}"
  } >"$f"
  echo "$f"
}

deploy() {
  local code
  code=$(curl -sS -o "$tmp/deploy.out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/yaml' --data-binary "@$1" "$url/api/v1/definitions") || code=000
  if [[ $code != 200 && $code != 201 ]]; then
    echo "deploy of $(basename "$1") failed: HTTP $code $(head -c 600 "$tmp/deploy.out")" >&2
    failed=1
    return 1
  fi
}

# load LABEL ARGS...: runs baton_load against the server, shows its output, sets RES to its
# RESULT line; returns baton_load's exit code.
load_n=0
load() {
  local label=$1 rc=0 s0 e0 s1 e1 n
  shift
  load_n=$((load_n + 1))
  local out=$tmp/load-$load_n-$label.txt
  s0=$(cpu_of "$spid") e0=$(cpu_of "$epid")
  "$load" "$@" --server "${LOAD_URL:-$url}" >"$out" 2>&1 || rc=$?
  s1=$(cpu_of "$spid") e1=$(cpu_of "$epid")
  grep -v '^RESULT' "$out" | sed 's/^/  /'
  RES=$(grep '^RESULT' "$out" | tail -1 || true)
  n=$(field requests) # count + warm-up: what the server's CPU time was spent on
  if [[ -n $s0 && -n $s1 && -z ${LOAD_URL:-} ]]; then
    echo "    server CPU: $(calc "$s1 - $s0") s$([[ -n $n && $n -gt 0 ]] && echo " = $(fmt %.0f "$(calc "($s1 - $s0) * 1e6 / $n")") µs per request"); echo service CPU: $(calc "$e1 - $e0") s"
  fi
  if ((rc != 0)); then
    echo "  baton_load $1 failed (exit $rc)"
    failed=1
  fi
  return $rc
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$RES"; }

# ---------------------------------------------------------------------------------- scenarios
start_echo
echo "echo service: $echo_url"
echo "baton: $baton"

log "load tool ceiling: GET /echo on the echo service, 32 connections"
LOAD_URL=$echo_url load ceiling http --path /echo --count "$ceiling_n" --concurrency 32 || true
row "tool ceiling (GET /echo)" "$(fmt %.0f "$(field rate)") req/s, tool CPU $(field cpu_pct)%" \
  "—" "—" "—"

# W1: throughput of 5-step workflows started with ?wait, CONC in flight.
w1() { # $1 = workflow name, $2 = target wf/s, $3 = label
  local name=$1 target=$2 label=$3 n rep rates p99s
  log "$label: $name, N = $w1_ns, $conc in flight, $reps rep(s)"
  start_server "$name" || return 0
  deploy "$(prepare "$name")" || {
    stop_server
    return 0
  }
  load "$name-warmup" throughput --workflow "bench/$name" --count 50 --concurrency 50 \
    --input '{"v":0}' --expect '"v":5' >/dev/null || true
  for n in $w1_ns; do
    rates=() p99s=()
    for ((rep = 1; rep <= reps; rep++)); do
      if load "$name-$n" throughput --workflow "bench/$name" --count "$n" --concurrency "$conc" \
        --input '{"v":0}' --expect '"v":5'; then
        rates+=("$(field rate)")
        p99s+=("$(field p99_ms)")
      fi
    done
    if ((${#rates[@]} == reps)); then
      local m p99 i
      m=$(median "${rates[@]}")
      for i in "${!rates[@]}"; do [[ ${rates[$i]} == "$m" ]] && p99=${p99s[$i]}; done
      row "$label N=$n" "$(fmt %.0f "$m") wf/s (p99 latency $p99 ms)" "≥ $target wf/s" \
        "$(cmp "$m" ge "$target")" "$(ratios "$peer_w1" "$m")"
    else
      row "$label N=$n" "errors (see above)" "≥ $target wf/s" "ERR" "—"
    fi
  done
  if [[ $name == w1-http && -n $spid ]]; then
    local hwm
    hwm=$(mb_of "$spid" VmHWM)
    row "$label peak RSS (N≤2000)" "$hwm MB" "≤ 100 MB" "$(cmp "$hwm" le 100)" \
      "×$(fmt %.2f "$(calc "$hwm / $peer_rss_mb")") BullMQ ($peer_rss_mb MB)"
  fi
  stop_server || true
}

w2() {
  local k f sum ms per_branch=""
  log "W2: fork of 500 and 1000 HTTP calls, parallel for over 10,000 items"
  start_server w2 || return 0
  for k in 500 1000; do
    deploy "$(gen_fork "$k")" || {
      stop_server
      return 0
    }
  done
  deploy "$(prepare w2-for-10k)" || {
    stop_server
    return 0
  }
  for k in 500 1000; do
    sum=$((k * (k + 1) / 2))
    if load "fork-$k" latency --workflow "bench/w2-fork-$k" --count "$reps" --warmup 1 \
      --input '{}' --expect "\"sum\":$sum" --wait 120; then
      ms=$(field p50_ms)
      [[ $k == 500 ]] && per_branch=$(calc "$ms * 1000 / $k")
      row "W2 fork $k → join" "$ms ms ($(fmt %.1f "$(calc "$ms * 1000 / $k")") µs/branch)" \
        "≤ $((k * 40 / 500)) ms" "$(cmp "$ms" le $((k * 40 / 500)))" \
        "$([[ $k == 500 ]] && ratios "$peer_w2" "$ms" || echo —)"
    else
      row "W2 fork $k → join" "errors (see above)" "≤ $((k * 40 / 500)) ms" "ERR" "—"
    fi
  done
  if load for-10k latency --workflow bench/w2-for-10k --count 1 --warmup 0 --input '{}' \
    --expect '"sum":50005000' --wait 300 --timeout 400; then
    ms=$(field max_ms)
    local per
    per=$(calc "$ms * 1000 / 10000")
    row "W2 parallel for 10k (conc 100)" \
      "$(fmt %.0f "$ms") ms = $(fmt %.1f "$per") µs/item${per_branch:+ vs $(fmt %.1f "$per_branch") µs/branch in the fork of 500}" \
      "completes" "yes" "—"
  else
    row "W2 parallel for 10k (conc 100)" "errors (see above)" "completes" "NO" "—"
  fi
  stop_server || true
}

w3() {
  log "W3: $w3_n sequential single-call workflows with ?wait after $w3_warm warm-up"
  start_server w3 || return 0
  deploy "$(prepare w3-http)" || {
    stop_server
    return 0
  }
  if load w3 latency --workflow bench/w3-http --count "$w3_n" --warmup "$w3_warm" \
    --input '{"v":0}' --expect '"v":1'; then
    local p50 p90 p99 max
    p50=$(field p50_ms) p90=$(field p90_ms) p99=$(field p99_ms) max=$(field max_ms)
    row "W3 start→result p50" "$p50 ms (p90 $p90, max $max)" "≤ 0.5 ms" "$(cmp "$p50" le 0.5)" \
      "$(ratios "$peer_w3_p50" "$p50")"
    row "W3 start→result p99" "$p99 ms" "≤ 2 ms" "$(cmp "$p99" le 2)" \
      "$(ratios "$peer_w3_p99" "$p99")"
  else
    row "W3 start→result" "errors (see above)" "p50 ≤ 0.5, p99 ≤ 2 ms" "ERR" "—"
  fi
  stop_server || true
}

mem() {
  local total=$((mem_chunk * 4)) k rss rss_list=() first last rate_list=()
  log "Memory: $total instances waiting on a 1-hour timer, RSS every $mem_chunk"
  start_server mem || return 0
  deploy "$(prepare wait-1h)" || {
    stop_server
    return 0
  }
  echo "  RSS at start: $(mb_of "$spid" VmRSS) MB"
  for k in 1 2 3 4; do
    if ! load "mem-$k" start --workflow bench/wait-1h --count "$mem_chunk" --concurrency 64; then
      row "wait-1h × $total" "errors while starting (see above)" "≤ 300 MB" "ERR" "—"
      stop_server || true
      return 0
    fi
    rate_list+=("$(fmt %.0f "$(field rate)")")
    sleep 1
    rss=$(mb_of "$spid" VmRSS)
    rss_list+=("$rss")
    echo "  RSS with $((k * mem_chunk)) waiting: $rss MB"
  done
  first=${rss_list[0]} last=${rss_list[3]}
  local per
  per=$(calc "($last - $first) * 1048576 / ($total - $mem_chunk)")
  row "wait-1h RSS at $((mem_chunk / 1000))k/$((2 * mem_chunk / 1000))k/$((3 * mem_chunk / 1000))k/$((total / 1000))k" \
    "${rss_list[*]} MB (starts ${rate_list[*]} /s)" "≤ 300 MB" "$(cmp "$last" le 300)" \
    "×$(fmt %.2f "$(calc "$last / $peer_rss_mb")") BullMQ ($peer_rss_mb MB)"
  row "wait-1h RSS growth" "$(fmt %.0f "$per") B/instance" "flat (≤ 256 B/inst.)" \
    "$(cmp "$per" le 256)" "—"
  stop_server || true
}

recovery() {
  local db=$tmp/recovery.db stats
  log "Recovery: $rec_n instances calling /slow?ms=$slow_ms, SIGKILL, restart on the same db"
  start_server recovery "$db" || return 0
  deploy "$(prepare recover)" || {
    stop_server
    return 0
  }
  : >"$tmp/recovery.ids"
  if ! load rec-start start --workflow bench/recover --count "$rec_n" --concurrency 64 \
    --input '{"v":0}' --ids-out "$tmp/recovery.ids"; then
    row "recovery" "errors while starting (see above)" "—" "ERR" "—"
    stop_server || true
    return 0
  fi
  stats=$(curl -sf "$echo_url/stats" || true)
  echo "  echo service before the kill: $stats"
  local inflight
  inflight=$(sed -n 's/.*"slowPending":\([0-9]*\).*/\1/p' <<<"$stats")
  kill -KILL "$spid"
  wait "$spid" 2>/dev/null || true
  spid=""
  echo "  SIGKILL sent with ${inflight:-?} slow calls in flight"
  if ! start_server recovery-restart "$db"; then
    row "recovery: exec → /readyz 200" "did not become ready" "< 2000 ms" "NO" "—"
    return 0
  fi
  row "recovery: exec → /readyz 200" "$ready_ms ms (${inflight:-?} calls in flight at kill)" \
    "< 2000 ms" "$(cmp "$ready_ms" lt 2000)" "—"
  if load rec-poll poll-complete --ids "$tmp/recovery.ids" --timeout 600; then
    row "recovery: all complete" "$(field ok)/$rec_n, $(fmt %.1f "$(field seconds)") s after ready" \
      "all completed" "yes" "—"
  else
    row "recovery: all complete" "$(field ok)/$rec_n completed, $(field errors) not" \
      "all completed" "NO" "—"
  fi
  echo "  echo service after: $(curl -sf "$echo_url/stats" || true)"
  stop_server || true
}

timers() {
  local n=$((quick ? 2000 : 10000))
  log "Timers: 200 sparse timers, then $n timers due in the same millisecond"
  start_server timers || return 0
  local out=$tmp/timers.txt rc=0
  python3 "$root/bench/timer_bench.py" --server "$url" --count "$n" --lead-ms 12000 >"$out" 2>&1 ||
    rc=$?
  grep -v '^RESULT' "$out" | sed 's/^/  /'
  RES=$(grep '^RESULT' "$out" | tail -1 || true)
  row "timer lateness p99 (sparse)" "$(field sparse_p99_ms) ms" "≤ 20 ms" \
    "$(cmp "$(field sparse_p99_ms)" le 20)" "—"
  row "$n timers due at once" "$(field burst_within_1s)/$n within 1 s (max $(field burst_max_ms) ms)" \
    "all within 1 s" "$( ((rc == 0)) && echo yes || echo NO)" "—"
  stop_server || true
}

for s in $only; do
  case $s in
    timers) timers ;;
    w1) w1 w1-http 3750 W1-http ;;
    w1set) w1 w1-set 10000 W1-set ;;
    w2) w2 ;;
    w3) w3 ;;
    mem) mem ;;
    recovery) recovery ;;
    *) echo "unknown scenario $s" >&2 ;;
  esac
done

# ---------------------------------------------------------------------------------- table
printf '\n== Results (%s; baton/peer: > 1 is better for wf/s, < 1 for ms and MB)\n\n' \
  "$( ((quick)) && echo "quick" || echo "full, median of $reps reps")"
{
  echo "workload|figure|target|met?|baton/peer"
  echo "---|---|---|---|---"
  printf '%s\n' "${rows[@]}"
} | awk -F'|' '
  # display width: UTF-8 continuation bytes take no column
  function dlen(s, t) { t = s; return length(s) - gsub(/[\200-\277]/, "", t) }
  { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (dlen($i) > w[i]) w[i] = dlen($i) } }
  END {
    for (r = 1; r <= NR; r++) {
      line = "|"
      for (i = 1; i <= 5; i++) {
        v = c[r, i]
        if (r == 2) v = ""
        pad = (r == 2) ? "-" : " "
        while (dlen(v) < w[i]) v = v pad
        line = line " " v " |"
      }
      print line
    }
  }'
((failed)) && echo "some scenarios failed: see the messages above"
exit $failed
