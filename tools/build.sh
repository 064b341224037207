#!/usr/bin/env bash
# Configures and builds the named trees (default: main). Between them every target builds with
# both compilers under -Werror, and the optimised GCC build is among them: GCC's warnings depend on
# the optimiser (-O3 has twice failed a GCC Release build alone with a false -Warray-bounds /
# -Wfree-nonheap-object), clang's come from its front end and show at any -O.
#   main     build/: RelWithDebInfo with the default compiler (GCC): what the tests run
#   asan     build-asan/: every target with clang, Debug, under ASan+UBSan; its unit tests run
#   release  build-release/: every target as a Release build with GCC (Debian's compiler, what
#            users and packagers build), built only (tests run once, on build/). The .deb is
#            made from it.
# Assumes tools/setup.sh has run.
#   tools/build.sh [main|asan|release]...
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
[ $# -gt 0 ] || set -- main
# fresh_if_compiler_changed TREE COMPILER: a tree configured with another compiler (an older
# checkout swapped them) is removed; CMake cannot change the compiler of an existing tree.
fresh_if_compiler_changed() {
  local cache=$1/CMakeCache.txt
  if [ -f "$cache" ] && ! grep -qx "CMAKE_CXX_COMPILER:[A-Z]*=.*/$2" "$cache"; then rm -rf "$1"; fi
}
for tree in "$@"; do
  case "$tree" in
    main)
      cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
      cmake --build build -j "$jobs" ;;
    asan)
      fresh_if_compiler_changed build-asan clang++
      cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
            -DMYSQLCLONE_SANITIZE=ON >/dev/null
      cmake --build build-asan -j "$jobs" ;;
    release)
      fresh_if_compiler_changed build-release c++
      cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
      cmake --build build-release -j "$jobs" ;;
    *) echo "usage: tools/build.sh [main|asan|release]..." >&2; exit 2 ;;
  esac
done
