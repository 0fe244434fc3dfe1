#!/bin/sh
# Builds the document_fuzz libFuzzer target with clang in a build tree of its own and runs it
# for a bounded time. Used by the `fuzz_document` ctest of gcc builds; also handy by hand:
#
#   tests/fuzz/run_fuzz.sh SOURCE_DIR BUILD_DIR [SECONDS]
#
# Environment: BATON_FUZZ_JOBS (build parallelism, default 1).
set -eu

src=${1:?usage: run_fuzz.sh SOURCE_DIR BUILD_DIR [SECONDS]}
build=${2:?usage: run_fuzz.sh SOURCE_DIR BUILD_DIR [SECONDS]}
seconds=${3:-30}

cxx=$(command -v clang++ || command -v clang++-14 || true)
cc=$(command -v clang || command -v clang-14 || true)
if [ -z "$cxx" ] || [ -z "$cc" ]; then
  echo "fuzz_document: skipped: needs clang with -DBATON_FUZZ=ON (clang++ not found)"
  exit 0
fi

generator=
if command -v ninja >/dev/null 2>&1; then
  generator="-G Ninja"
fi

# Warnings are not errors here: this build exists to find crashes, and a new clang-only
# warning elsewhere in the tree must not hide them (the regular builds enforce -Werror).
mkdir -p "$build"
# shellcheck disable=SC2086
cmake -S "$src" -B "$build" $generator \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DBATON_FUZZ=ON -DBATON_BUILD_TESTS=ON -DBATON_BUILD_BENCH=OFF \
  -DBATON_SANITIZE=OFF -DBATON_WERROR=OFF >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log"
  exit 1
}
cmake --build "$build" --target document_fuzz -j "${BATON_FUZZ_JOBS:-1}"

fuzz_dir="$build/tests/fuzz"
exec "$fuzz_dir/document_fuzz" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
  -artifact_prefix="$fuzz_dir/artifacts/" "$fuzz_dir/document_corpus"
