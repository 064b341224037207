#!/usr/bin/env bash
# Fuzzes the Clone protocol codec (libclone/command/remote/clone_wire.cc, clone_paths.cc) with
# libFuzzer under ASan+UBSan for SECONDS (default 20). Exits non-zero on any crash, sanitizer
# report, leak or hang; the input that caused it is left in build-fuzz/ (crash-*, leak-*,
# timeout-*).
# Needs clang++ and libclang_rt.fuzzer (tools/setup.sh installs them); no CMake involved.
#
#   tools/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
out=build-fuzz
mkdir -p "$out/corpus"

clang++ -std=c++20 -g -O1 -Wall -Wextra -Werror -I. \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
  libclone/command/remote/clone_wire.cc libclone/command/remote/clone_paths.cc libclone/server/server_version.cc \
  libclone/base/text.cc test/fuzz/clone_wire_fuzz.cc -lfmt \
  -o "$out/clone_wire_fuzz"

# New inputs go to the first directory (build-fuzz/corpus, kept between runs); the committed
# seeds in test/fuzz/corpus are only read. 8 KiB covers the longest file descriptor.
"$out/clone_wire_fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
  -artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" test/fuzz/corpus
