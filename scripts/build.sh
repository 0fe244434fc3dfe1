#!/usr/bin/env bash
# Configures and builds one CMake preset of baton (see CMakePresets.json).
#
# Usage: scripts/build.sh [PRESET] [options] [-- extra cmake configure args]
#   PRESET              debug (default: ASan+UBSan, tests), tsan (ThreadSanitizer, tests)
#                       or release (no tests)
#   --build-dir DIR     build here instead of $BATON_BUILD_ROOT/PRESET
#   -j N, --jobs N      parallel compile jobs (default $BATON_JOBS, else 2)
#   --target T          build only target T (repeatable), e.g. --target baton
#   --configure-only    run the configure step only (writes compile_commands.json)
#
# Environment:
#   BATON_BUILD_ROOT    parent of the per-preset build dirs (default: <repo>/build)
#   BATON_JOBS          default for -j
#   BATON_DEPS_CHECKED  set to 1 to skip scripts/install-deps.sh (callers that ran it)
#
# Works from any directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

preset=debug
build_dir=""
jobs="${BATON_JOBS:-2}"
targets=()
configure_only=0
extra=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    debug | tsan | release) preset="$1" ;;
    --build-dir) build_dir="$2"; shift ;;
    --build-dir=*) build_dir="${1#*=}" ;;
    -j | --jobs) jobs="$2"; shift ;;
    -j*) jobs="${1#-j}" ;;
    --jobs=*) jobs="${1#*=}" ;;
    --target) targets+=(--target "$2"); shift ;;
    --configure-only) configure_only=1 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [[ -z "$build_dir" ]]; then
  build_dir="${BATON_BUILD_ROOT:-$ROOT/build}/$preset"
fi

if [[ "${BATON_DEPS_CHECKED:-0}" != 1 ]]; then
  "$ROOT/scripts/install-deps.sh"
fi

# Let ccache share hits between clones of the repo in different folders (CI builds a
# fresh clone): paths under the repo are hashed relative to it.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"

cd "$ROOT"
echo "build.sh: configuring preset '$preset' in $build_dir"
cmake --preset "$preset" -B "$build_dir" "${extra[@]}"
if [[ $configure_only -eq 0 ]]; then
  echo "build.sh: building preset '$preset' with -j$jobs"
  cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
fi
