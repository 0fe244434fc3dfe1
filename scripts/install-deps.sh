#!/usr/bin/env bash
# Installs the Debian 12 packages that baton needs to build, test and lint.
#
# Idempotent: asks dpkg which packages are missing and runs apt-get only for those, so a
# machine that has everything costs a fraction of a second and prints nothing.
# Works as root; otherwise through sudo when it is available.
#
# Usage: scripts/install-deps.sh [--check]
#   --check   only report missing packages (exit 1 if any), install nothing.
set -euo pipefail

# One package a line; keep this list in sync with README.md ("Building by hand").
PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git python3
  # libraries
  libjq-dev libonig-dev libyaml-cpp-dev libcurl4-openssl-dev libvalijson-dev libcli11-dev
  nlohmann-json3-dev libboost1.81-dev libsqlite3-dev libssl-dev sqlite3 libjemalloc-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev jq json-schema-test-suite
  # clang side: formatting, lint, fuzzing/LeakSanitizer runtime
  clang clang-format clang-tidy libclang-rt-14-dev
)

check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  "") ;;
  -h | --help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "install-deps.sh: unknown argument: $1" >&2
    exit 2
    ;;
esac

# A node that is already on the PATH (the machine image ships one from its own
# repository) is kept as it is: installing Debian's nodejs over it would replace it.
if ! command -v node >/dev/null 2>&1; then
  PACKAGES+=(nodejs)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps.sh: missing Debian packages: ${missing[*]}"
if [[ $check_only -eq 1 ]]; then
  exit 1
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "install-deps.sh: not root and no sudo: install the packages above by hand" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps.sh: installed ${#missing[@]} package(s)"
