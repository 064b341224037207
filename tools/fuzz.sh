#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input with libFuzzer under ASan+UBSan, SECONDS each (default
# 20): the Clone protocol codec (libclone/command/remote/clone_wire.cc, clone_paths.cc) and the
# stream reader (libclone/io/stream_format.cc). Exits non-zero on any crash, sanitizer report,
# leak or hang; the input that caused it is left in build-fuzz/ (crash-*, leak-*, timeout-*).
# Needs clang++ and libclang_rt.fuzzer (tools/setup.sh installs them); no CMake involved.
#
#   tools/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
out=build-fuzz
mkdir -p "$out/corpus" "$out/stream_corpus"
flags=(-std=c++20 -g -O1 -Wall -Wextra -Werror -I.
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

clang++ "${flags[@]}" \
  libclone/command/remote/clone_wire.cc libclone/command/remote/clone_paths.cc libclone/server/server_version.cc \
  libclone/base/text.cc libclone/io/relative_path.cc test/fuzz/clone_wire_fuzz.cc -lfmt \
  -o "$out/clone_wire_fuzz"
clang++ "${flags[@]}" \
  libclone/io/stream_format.cc libclone/io/compress.cc libclone/io/cipher.cc libclone/io/sha256.cc \
  libclone/io/relative_path.cc libclone/base/text.cc innodb/crc32c.cc test/fuzz/stream_fuzz.cc \
  -lfmt -lzstd -llz4 -lcrypto -o "$out/stream_fuzz"

# New inputs go to the first directory (build-fuzz/corpus, kept between runs); the committed
# seeds in test/fuzz/corpus are only read. 8 KiB covers the longest file descriptor.
"$out/clone_wire_fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
  -artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" test/fuzz/corpus
# Streams: records are at most a few MiB; 64 KiB inputs reach every record type many times.
"$out/stream_fuzz" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
  -artifact_prefix="$out/" -print_final_stats=1 "$out/stream_corpus" test/fuzz/stream_corpus
