#include "cli/receive_command.h"

#include "cli/extract_command.h"
#include "cli/peer_options.h"
#include "cli/progress.h"
#include "cli/status_exit.h"
#include "libclone/command/extract/receive.h"

namespace mysqlclone {

void add_receive_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<ReceiveOptions>();
  auto peer = std::make_shared<PeerArgs>();
  CLI::App* cmd = app.add_subcommand("receive", "Take one stream from `local --to` over the network into a datadir");
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->add_option("--listen", options->listen, "ADDR:PORT to listen on for the one sender (0.0.0.0:PORT: every "
                                               "IPv4 address)")->required();
  cmd->add_option("--target-dir", options->extract.target_dir, "New (or empty) directory to write the copy into")->required();
  cmd->add_option("--encrypt-key-file", options->extract.key_file, "The key the stream is encrypted with (64 hex digits)");
  cmd->add_option("--parallel", options->extract.parallel,
                  "Threads that decrypt and decompress the stream, and as many that write its files (default: one per CPU, at least 2)")
      ->check(CLI::Range(1, 64));
  add_peer_options(*cmd, *peer, "sender");
  cmd->callback([options, peer, &global, &exit_code] {
    if (Status s = check_peer_options(*peer); !s.is_ok()) {
      exit_code = fail(s, global);
      return;
    }
    options->peer = peer->options;
    ExtractProgress progress;
    ProgressDisplay display("receive", progress.done_bytes, progress.total_bytes, !global.quiet);
    auto result = run_receive(*options, progress);
    display.stop();
    if (!result.is_ok()) {
      exit_code = fail(result.status(), global);
      return;
    }
    print_extract_result(*result, "receive", "the sender on " + options->listen, nlohmann::json::object(), global);
    exit_code = 0;
  });
}

}  // namespace mysqlclone
