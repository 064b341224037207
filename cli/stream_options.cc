#include "cli/stream_options.h"

#include <unistd.h>

namespace mysqlclone {

Result<StreamOutput> stdout_stream(const StreamArgs& args, bool compress_given) {
  if (::isatty(STDOUT_FILENO))
    return Status::error(ExitCode::kUsage,
                         "--stream writes binary data to stdout, which is a terminal: redirect it to a file or a pipe");
  StreamOutput out;
  out.fd = STDOUT_FILENO;
  out.name = "stdout";
  if (compress_given) {
    auto c = parse_compression(args.compress.empty() ? "zstd" : args.compress);
    if (!c.is_ok()) return c.status();
    out.settings.compression = *c;
  }
  if (!args.key_file.empty()) {
    auto key = load_key_file(args.key_file);
    if (!key.is_ok()) return key.status();
    out.settings.key.emplace(*key);
  }
  return out;
}

}  // namespace mysqlclone
