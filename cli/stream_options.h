// --stream for the commands that write one (local, remote): the copy on standard output, never
// a terminal (refused before anything runs), compressed and encrypted as asked.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "libclone/base/status.h"
#include "libclone/io/stream_storage.h"

namespace mysqlclone {

struct StreamArgs {
  bool on = false;
  std::string compress;  // "" with --compress alone: zstd
  std::string key_file;
  unsigned compress_threads = 0;  // --compress-threads; 0: as many as the copy's threads
};

// --compress-threads on `cmd`, for commands that write a stream.
void add_compress_threads_option(CLI::App& cmd, StreamArgs& args, const std::string& when);

// How to write the stream: --compress (`compress_given`: whether it was on the command line)
// and --encrypt-key-file. kUsage for a bad --compress or an unusable key file.
Result<stream::Settings> stream_settings(const StreamArgs& args, bool compress_given);

// The stream into `sink`, as stream_settings.
Result<StreamOutput> stream_output_to(std::shared_ptr<ByteSink> sink, const StreamArgs& args, bool compress_given);

// The stream on standard output; kUsage for a terminal, and as stream_settings.
Result<StreamOutput> stdout_stream(const StreamArgs& args, bool compress_given);

}  // namespace mysqlclone
