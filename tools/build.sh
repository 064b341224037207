#!/usr/bin/env bash
# Configures and builds mysqlclone into build/ (RelWithDebInfo, the default compiler: GCC).
#   --sanitize  also the ASan+UBSan unit tests into build-asan/ (Debug)
#   --release   also every target as a Release build with clang into build-release/, built only
#               (tests run once, on build/): -O3 brings warnings of its own (GCC 12's
#               -Warray-bounds once failed Release alone) and clang has others, so under -Werror
#               both compilers and the optimised build are checked on every CI run.
# Assumes tools/setup.sh has run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
sanitize=0 release=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --release) release=1 ;;
    *) echo "usage: tools/build.sh [--sanitize] [--release]" >&2; exit 2 ;;
  esac
done
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
if [ "$sanitize" = 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMYSQLCLONE_SANITIZE=ON \
        -DMYSQLCLONE_INTEGRATION=OFF >/dev/null
  cmake --build build-asan -j "$jobs" --target unit_tests
fi
if [ "$release" = 1 ]; then
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  cmake --build build-release -j "$jobs"
fi
