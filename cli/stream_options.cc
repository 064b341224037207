#include "cli/stream_options.h"

#include <fcntl.h>
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

void add_compress_threads_option(CLI::App& cmd, StreamArgs& args, const std::string& when) {
  cmd.add_option("--compress-threads", args.compress_threads,
                 when + ": threads that compress (and encrypt) the stream beside the copy threads, which go on "
                        "reading meanwhile (default: as many as --parallel)")
      ->check(CLI::Range(1, 64));
}

Result<StreamOutput> stream_output_to(std::shared_ptr<ByteSink> sink, const StreamArgs& args, bool compress_given) {
  auto settings = stream_settings(args, compress_given);
  if (!settings.is_ok()) return settings.status();
  return StreamOutput{std::move(sink), std::move(settings).value(), args.compress_threads};
}

Result<StreamOutput> stdout_stream(const StreamArgs& args, bool compress_given) {
  if (::isatty(STDOUT_FILENO))
    return Status::error(ExitCode::kUsage,
                         "--stream writes binary data to stdout, which is a terminal: redirect it to a file or a pipe");
  // A stdout the caller closed is held read-only (main.cc): nothing to write the stream to.
  const int mode = ::fcntl(STDOUT_FILENO, F_GETFL);
  if (mode == -1 || (mode & O_ACCMODE) == O_RDONLY)
    return Status::error(ExitCode::kUsage, "--stream writes to stdout, which is closed (or open for reading only): redirect it to a file or a pipe");
  return stream_output_to(std::make_shared<FdSink>(STDOUT_FILENO, "stdout"), args, compress_given);
}

}  // namespace mysqlclone
