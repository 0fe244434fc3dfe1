#!/usr/bin/env bash
# Checks or fixes the formatting of baton's C++ sources with clang-format 14 and the
# repository's .clang-format (STYLE.md §3.5, habit 1).
#
# Usage: tools/format.sh --check|--fix [FILE...]
#   --check   list the files that clang-format would change, show a short diff; exit 1 if any
#   --fix     rewrite them in place
#   FILE...   limit to these files (default: every *.h and *.cc under src/ tests/ bench/)
#
# Environment: CLANG_FORMAT names the binary (default: clang-format-14, else clang-format).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

mode=""
files=()
for arg in "$@"; do
  case "$arg" in
    --check | --fix) mode="$arg" ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "format.sh: unknown option: $arg" >&2; exit 2 ;;
    *) files+=("$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")") ;;
  esac
done
if [[ -z "$mode" ]]; then
  echo "usage: tools/format.sh --check|--fix [FILE...]" >&2
  exit 2
fi

cf="${CLANG_FORMAT:-}"
if [[ -z "$cf" ]]; then
  for candidate in clang-format-14 clang-format; do
    if command -v "$candidate" >/dev/null 2>&1; then
      cf="$candidate"
      break
    fi
  done
fi
if [[ -z "$cf" ]] || ! command -v "$cf" >/dev/null 2>&1; then
  echo "format.sh: clang-format not found (scripts/install-deps.sh installs it)" >&2
  exit 2
fi
version=$("$cf" --version | sed -n 's/.*version \([0-9][0-9]*\)\..*/\1/p')
if [[ "$version" != 14 ]]; then
  echo "format.sh: warning: $cf is version ${version:-?}; CI formats with clang-format 14" >&2
fi

cd "$ROOT"
if [[ ${#files[@]} -eq 0 ]]; then
  dirs=()
  for d in src tests bench; do
    [[ -d "$d" ]] && dirs+=("$d")
  done
  if [[ ${#dirs[@]} -gt 0 ]]; then
    while IFS= read -r -d '' f; do
      files+=("$f")
    done < <(find "${dirs[@]}" \( -name node_modules -o -name build \) -prune -o \
      -type f \( -name '*.h' -o -name '*.cc' \) -print0 | sort -z)
  fi
fi

if [[ "$mode" == --fix ]]; then
  if [[ ${#files[@]} -gt 0 ]]; then
    "$cf" -i --style=file "${files[@]}"
  fi
  echo "format.sh: formatted ${#files[@]} file(s)"
  exit 0
fi

bad=0
for f in "${files[@]}"; do
  if ! "$cf" --style=file "$f" | cmp -s - "$f"; then
    bad=$((bad + 1))
    echo "format.sh: needs formatting: ${f#"$ROOT"/}"
    "$cf" --style=file "$f" | diff -u --label "${f#"$ROOT"/}" --label "${f#"$ROOT"/} (formatted)" \
      "$f" - | sed -n '3,22p' | sed 's/^/    /' || true
  fi
done
if [[ $bad -gt 0 ]]; then
  echo "format.sh: $bad of ${#files[@]} file(s) need formatting: run tools/format.sh --fix"
  exit 1
fi
echo "format.sh: ${#files[@]} file(s) formatted correctly"
