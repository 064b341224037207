// mysqlclone: hot physical copies of MySQL and MariaDB servers.
// This file only wires the subcommands, signals and exit codes; the work is in libclone.
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/connection_options.h"
#include "cli/global_options.h"
#include "cli/local_command.h"
#include "cli/verify_command.h"
#include "libclone/exit_code.h"
#include "libclone/interrupt.h"
#include "libclone/log.h"
#include "mysqlclone_version.h"

namespace {

void on_signal(int) { mysqlclone::request_interrupt(); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout/peer becomes an EPIPE error, not a silent death
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mysqlclone;
  install_signal_handlers();

  // Before anything else: take passwords out of argv (and out of `ps`).
  const PasswordArgs password = extract_password(argc, argv);

  CLI::App app{"mysqlclone " MYSQLCLONE_VERSION " - hot physical copies of MySQL and MariaDB servers", "mysqlclone"};
  app.require_subcommand(1);
  app.set_help_flag("--help", "Print this help message and exit");  // -h is --host, as in mysql
  app.set_version_flag("--version", MYSQLCLONE_VERSION);
  GlobalOptions global;
  app.add_flag("--json", global.json, "Print one JSON result document on stdout")->configurable(false);
  app.add_flag("-q,--quiet", global.quiet, "Only warnings and errors on stderr; no progress");
  app.fallthrough();
  int exit_code = int(ExitCode::kInternal);
  add_verify_command(app, global, exit_code);
  add_local_command(app, global, password, exit_code);

  app.parse_complete_callback([&global] {
    if (global.quiet) set_log_level(LogLevel::kWarning);
  });
  try {
    std::vector<std::string> args(password.args.rbegin(), password.args.rend() - 1);  // CLI11 wants them reversed
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : int(ExitCode::kUsage);
  }
  if (interrupted() && exit_code == 0) exit_code = int(ExitCode::kInterrupted);
  return exit_code;
}
