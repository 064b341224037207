#!/usr/bin/env bash
# README command (2), and what .ci/run runs: install everything, build, run every test.
#   1. build/ (GCC RelWithDebInfo), then its integration tests (real servers) start in the
#      background: they mostly wait on servers and loads, so the rest runs beside them, at the
#      lowest CPU priority so that the servers and loads under test keep theirs;
#   2. beside them: the ASan+UBSan unit tests (build-asan/, clang) and every target as a GCC
#      Release build (build-release/, built only), the .deb from it and its checks, the unit
#      tests of build/ and of build-asan/;
#   3. once the integration tests are done: a 20 s fuzz of each untrusted-input parser.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }
tools/setup.sh
tools/build.sh main
echo "== build/ done in $(elapsed)"

# Every fresh test server is a copy of one datadir per flavour and page size made in this run
# (tools/servers/server.sh, MYSQLCLONE_SERVER_CACHE), not an init of its own.
MYSQLCLONE_SERVER_CACHE=$(mktemp -d /tmp/mcsc.XXXXXX)
export MYSQLCLONE_SERVER_CACHE
integration_log=$(mktemp /tmp/mysqlclone-integration.XXXXXX.log)
integration=""
cleanup() {
  if [ -n "$integration" ]; then kill -- "-$integration" 2>/dev/null || true; fi
  rm -rf "$MYSQLCLONE_SERVER_CACHE" "$integration_log"
}
trap cleanup EXIT
# Its own process group (set -m for this one command), so that a failure here stops all of it.
set -m
ctest --test-dir build --output-on-failure -L integration -j 2 >"$integration_log" 2>&1 &
integration=$!
set +m

nice -n 10 tools/build.sh asan release
echo "== build-asan/ and build-release/ done in $(elapsed)"
nice -n 10 tools/package-test.sh  # the .deb from build-release: lintian, a throwaway install, its checks
# One test is left to the normal build: it exhausts the process's descriptors on purpose (the
# redo tailer must fail on EMFILE), and UBSan's vptr check needs a free descriptor (a pipe) to
# read memory, so under the sanitizers it reports the sanitizer's own failure.
nice -n 10 ctest --test-dir build-asan -L unit --output-on-failure -j "$(nproc)" \
  -E '^MysqlRedoArchiver\.OutOfDescriptorsFailsTheTailer$'
nice -n 10 ctest --test-dir build --output-on-failure -L unit -j "$(nproc)"
echo "== unit tests done in $(elapsed); waiting for the integration tests"

status=0
wait "$integration" || status=$?
integration=""
cat "$integration_log"
[ "$status" = 0 ] || { echo "== integration tests FAILED (exit $status) after $(elapsed)"; exit "$status"; }
echo "== integration tests done in $(elapsed)"
tools/fuzz.sh 20
echo "== all tests done in $(elapsed)"
