// --stream for the commands that write one (local, remote): the copy on standard output, never
// a terminal (refused before anything runs), compressed and encrypted as asked.
#pragma once

#include <string>

#include "libclone/base/status.h"
#include "libclone/io/stream_storage.h"

namespace mysqlclone {

struct StreamArgs {
  bool on = false;
  std::string compress;  // "" with --compress alone: zstd
  std::string key_file;
};

// `compress_given`: whether --compress was on the command line. kUsage for a terminal, a bad
// --compress or an unusable key file.
Result<StreamOutput> stdout_stream(const StreamArgs& args, bool compress_given);

}  // namespace mysqlclone
