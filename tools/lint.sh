#!/usr/bin/env bash
# Runs clang-tidy (configuration: .clang-tidy) over baton's sources in src/, using the
# compile database of the debug build. Findings are errors (WarningsAsErrors).
#
# Usage: tools/lint.sh [options] [FILE...]
#   FILE...             lint these .cc files (default: every src/**/*.cc in the database)
#   --changed           lint only the .cc files under src/ that differ from HEAD (or are
#                       new), plus the .cc beside each changed header
#   --build-dir DIR     compile database location (default: $BATON_BUILD_ROOT/debug)
#   -j N, --jobs N      parallel clang-tidy processes (default $BATON_JOBS, else 2)
#   --fix               apply clang-tidy's fixes (then run tools/format.sh --fix)
#
# Headers are checked through the .cc files that include them (HeaderFilterRegex). GCC-only
# warning flags in the database are ignored (-Wno-unknown-warning-option).
# Environment: CLANG_TIDY names the binary (default: clang-tidy-14, else clang-tidy).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

build_dir="${BATON_BUILD_ROOT:-$ROOT/build}/debug"
jobs="${BATON_JOBS:-2}"
changed=0
fix=()
files=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --changed) changed=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --build-dir=*) build_dir="${1#*=}" ;;
    -j | --jobs) jobs="$2"; shift ;;
    -j*) jobs="${1#-j}" ;;
    --jobs=*) jobs="${1#*=}" ;;
    --fix) fix=(--fix) ;;  # one process at a time: two could rewrite one header
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "lint.sh: unknown option: $1" >&2; exit 2 ;;
    *) files+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")") ;;
  esac
  shift
done

tidy="${CLANG_TIDY:-}"
if [[ -z "$tidy" ]]; then
  for candidate in clang-tidy-14 clang-tidy; do
    if command -v "$candidate" >/dev/null 2>&1; then
      tidy="$candidate"
      break
    fi
  done
fi
if [[ -z "$tidy" ]]; then
  echo "lint.sh: clang-tidy not found (scripts/install-deps.sh installs it)" >&2
  exit 2
fi

# (Re)configure so that the database lists every current source file; cheap when the build
# directory exists already.
BATON_DEPS_CHECKED="${BATON_DEPS_CHECKED:-0}" \
  "$ROOT/scripts/build.sh" debug --build-dir "$build_dir" --configure-only >/dev/null
db="$build_dir/compile_commands.json"

cd "$ROOT"
if [[ $changed -eq 1 ]]; then
  while IFS= read -r f; do
    case "$f" in
      *.cc) files+=("$ROOT/$f") ;;
      *.h) [[ -f "${f%.h}.cc" ]] && files+=("$ROOT/${f%.h}.cc") ;;
    esac
  done < <({ git diff --name-only --diff-filter=d HEAD -- src; \
             git ls-files --others --exclude-standard -- src; } | sort -u)
fi

# Keep only files the database knows (anything else would be linted without its flags).
mapfile -t targets < <(python3 - "$db" "$ROOT/src" "${files[@]}" <<'PY'
import json, os, sys
db, src, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
known = set()
for entry in json.load(open(db)):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    known.add(path)
if wanted:
    for w in wanted:
        w = os.path.normpath(w)
        if w in known:
            print(w)
        else:
            print(f"lint.sh: skipping {w}: not in {db}", file=sys.stderr)
else:
    for path in sorted(known):
        if path.startswith(src + os.sep) and path.endswith(".cc"):
            print(path)
PY
)

if [[ ${#targets[@]} -eq 0 ]]; then
  echo "lint.sh: nothing to lint"
  exit 0
fi

if [[ ${#fix[@]} -gt 0 ]]; then
  jobs=1
fi
echo "lint.sh: $tidy over ${#targets[@]} file(s) with -j$jobs"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export tidy build_dir logs
fix_flag="${fix[*]:-}"
export fix_flag
# One clang-tidy per file, each into its own log so that parallel output does not interleave.
# shellcheck disable=SC2016  # expanded by the worker shell, not here
worker='
  if ! "$tidy" -p "$build_dir" --quiet --extra-arg=-Wno-unknown-warning-option $fix_flag \
      "$2" >"$logs/$1.log" 2>&1; then
    touch "$logs/$1.failed"
  fi'
i=0
for f in "${targets[@]}"; do
  printf '%s\0%s\0' "$i" "$f"
  i=$((i + 1))
done | xargs -0 -n 2 -P "$jobs" bash -c "$worker" _ || true

failed=0
for ((n = 0; n < ${#targets[@]}; n++)); do
  if [[ -e "$logs/$n.failed" ]]; then
    failed=$((failed + 1))
  fi
done
# Print each finding once: a header's finding is otherwise repeated for every .cc that
# includes it. Also drop clang-tidy's "N warnings generated." for warnings it filtered out.
for ((n = 0; n < ${#targets[@]}; n++)); do
  cat "$logs/$n.log"
done | awk '
  /^[0-9]+ (warning|error)s? (and [0-9]+ (warning|error)s? )?generated\.$/ { next }
  /^[^ ].*:[0-9]+:[0-9]+: (error|warning|note): / { show = !seen[$0]++ }
  show { print }
  BEGIN { show = 1 }'

if [[ $failed -gt 0 ]]; then
  echo "lint.sh: clang-tidy reported errors in $failed of ${#targets[@]} file(s)"
  exit 1
fi
echo "lint.sh: ${#targets[@]} file(s) clean"
