#!/usr/bin/env bash
# Configures and builds mysqlclone into build/ (and, with --sanitize, the ASan+UBSan unit tests
# into build-asan/). Assumes tools/setup.sh has run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMYSQLCLONE_SANITIZE=ON \
        -DMYSQLCLONE_INTEGRATION=OFF >/dev/null
  cmake --build build-asan -j "$jobs" --target unit_tests
fi
