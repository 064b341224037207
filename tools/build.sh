#!/usr/bin/env bash
# Configures and builds the named trees (default: main):
#   main     build/: RelWithDebInfo with the default compiler (GCC): what the tests run
#   asan     build-asan/: the ASan+UBSan unit tests (Debug)
#   release  build-release/: every target as a Release build with clang, built only (tests run
#            once, on build/): -O3 brings warnings of its own (GCC 12's -Warray-bounds once failed
#            Release alone) and clang has others, so under -Werror both compilers and the
#            optimised build are checked on every CI run. The .deb is made from it.
# Assumes tools/setup.sh has run.
#   tools/build.sh [main|asan|release]...
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
[ $# -gt 0 ] || set -- main
for tree in "$@"; do
  case "$tree" in
    main)
      cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
      cmake --build build -j "$jobs" ;;
    asan)
      cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMYSQLCLONE_SANITIZE=ON \
            -DMYSQLCLONE_INTEGRATION=OFF >/dev/null
      cmake --build build-asan -j "$jobs" --target unit_tests ;;
    release)
      cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ >/dev/null
      cmake --build build-release -j "$jobs" ;;
    *) echo "usage: tools/build.sh [main|asan|release]..." >&2; exit 2 ;;
  esac
done
