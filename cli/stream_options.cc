#include "cli/stream_options.h"

#include <unistd.h>

namespace mysqlclone {

Result<stream::Settings> stream_settings(const StreamArgs& args, bool compress_given) {
  stream::Settings settings;
  if (compress_given) {
    auto c = parse_compression(args.compress.empty() ? "zstd" : args.compress);
    if (!c.is_ok()) return c.status();
    settings.compression = *c;
  }
  if (!args.key_file.empty()) {
    auto key = load_key_file(args.key_file);
    if (!key.is_ok()) return key.status();
    settings.key.emplace(*key);
  }
  return settings;
}

Result<StreamOutput> stdout_stream(const StreamArgs& args, bool compress_given) {
  if (::isatty(STDOUT_FILENO))
    return Status::error(ExitCode::kUsage,
                         "--stream writes binary data to stdout, which is a terminal: redirect it to a file or a pipe");
  auto settings = stream_settings(args, compress_given);
  if (!settings.is_ok()) return settings.status();
  return StreamOutput{std::make_shared<FdSink>(STDOUT_FILENO, "stdout"), std::move(settings).value()};
}

}  // namespace mysqlclone
