#!/usr/bin/env bash
# `baton run` of a 200,000-iteration `for` loop of `set` tasks: cost per iteration with the
# process start-up (loading, compiling) subtracted by timing a 1-iteration run of the same
# document. Median of 3 runs each. Usage: bench/run_loop.sh [path/to/baton] [iterations]
set -euo pipefail
baton=${1:-build/release/baton}
n=${2:-200000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
make_doc() {
  cat > "$dir/loop-$1.yaml" <<YAML
document: {dsl: '1.0.3', namespace: bench, name: loop, version: '1.0.0'}
do:
  - loop:
      for:
        in: \${ [range(0; $1)] }
      do:
        - step:
            set: '\${ {count: (.count + 1), label: "x"} }'
YAML
}
make_doc 1
make_doc "$n"
median_ns() {
  local times=()
  for _ in 1 2 3; do
    local start end
    start=$(date +%s%N)
    "$baton" run -q "$1" --input '{"count": 0}' > "$dir/out.json"
    end=$(date +%s%N)
    times+=($((end - start)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}
base=$(median_ns "$dir/loop-1.yaml")
full=$(median_ns "$dir/loop-$n.yaml")
grep -q "\"count\": $n" "$dir/out.json" || { echo "wrong output: $(cat "$dir/out.json")"; exit 1; }
per=$(( (full - base) / n ))
echo "baton run, $n-iteration for of set tasks: start-up $((base / 1000000)) ms, total $((full / 1000000)) ms, ${per} ns per iteration (target < 20000 ns)"
