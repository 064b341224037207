#!/usr/bin/env bash
# README command (2), and what .ci/run runs: install everything, build (GCC RelWithDebInfo,
# ASan+UBSan Debug unit tests, and every target as a clang Release build, built only), make the
# .deb from the Release build and check it, run every test — unit tests under ASan+UBSan, a
# 20 s fuzz of the Clone codec, then unit and integration tests (real servers) on the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
tools/setup.sh
tools/build.sh --sanitize --release  # build-release (clang, Release) is built, not tested
echo "== build done in $(( $(date +%s) - start )) s"
tools/package-test.sh  # the .deb from build-release: lintian, a throwaway install, its checks
# One test is left to the normal build: it exhausts the process's descriptors on purpose (the
# redo tailer must fail on EMFILE), and UBSan's vptr check needs a free descriptor (a pipe) to
# read memory, so under the sanitizers it reports the sanitizer's own failure.
ctest --test-dir build-asan -L unit --output-on-failure -j "$(nproc)" -E '^MysqlRedoArchiver\.OutOfDescriptorsFailsTheTailer$'
tools/fuzz.sh 20
ctest --test-dir build --output-on-failure -L unit -j "$(nproc)"
# Every fresh test server is a copy of one datadir per flavour and page size made in this run
# (tools/servers/server.sh, MYSQLCLONE_SERVER_CACHE), not an init of its own.
MYSQLCLONE_SERVER_CACHE=$(mktemp -d /tmp/mcsc.XXXXXX)
export MYSQLCLONE_SERVER_CACHE
trap 'rm -rf "$MYSQLCLONE_SERVER_CACHE"' EXIT
ctest --test-dir build --output-on-failure -L integration -j 2
echo "== all tests done in $(( $(date +%s) - start )) s"
