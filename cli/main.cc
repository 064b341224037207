// mysqlclone: hot physical copies of MySQL and MariaDB servers.
// This file only wires the subcommands, signals and exit codes; the work is in libclone.
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/completion.h"
#include "cli/connection_options.h"
#include "cli/extract_command.h"
#include "cli/global_options.h"
#include "cli/local_command.h"
#include "cli/option_files.h"
#include "cli/receive_command.h"
#include "cli/remote_command.h"
#include "cli/repository_commands.h"
#include "cli/restore_command.h"
#include "cli/run_metrics.h"
#include "cli/status_exit.h"
#include "cli/verify_command.h"
#include "libclone/base/exit_code.h"
#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"
#include "libclone/base/text.h"
#include "libclone/server/session_guard.h"
#include "mysqlclone_git_commit.h"
#include "mysqlclone_version.h"

namespace {

void on_signal(int) { mysqlclone::request_interrupt(); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A hangup (the ssh session or terminal a run was started from went away) ends a run like
  // SIGTERM: target marked failed, locks released. Unless the caller ignores it (nohup).
  struct sigaction hup {};
  if (sigaction(SIGHUP, nullptr, &hup) == 0 && hup.sa_handler != SIG_IGN) sigaction(SIGHUP, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout/peer becomes an EPIPE error, not a silent death
}

// A descriptor 0-2 the caller closed (`>&-`) would be taken by the first file or socket opened,
// the connection to the server, and the stream or the log written into it. Each is held by
// /dev/null opened the other way round: a write to a closed stdout or stderr (a read of a closed
// stdin) fails with EBADF instead.
void hold_closed_std_descriptors() {
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) (void)::open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
}

// Hidden: started by `local` and `remote` themselves (libclone/server/session_guard.h), never by
// a user.
void add_guard_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("guard", "")->group("");
  cmd->callback([&exit_code] {
    // Nothing of the parent's but the pipe on stdin: its descriptors (sockets to the server above
    // all) must close when it dies, not live on here. Its terminal's signals are not ours either.
    ::close_range(3, ~0u, 0);
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);
    exit_code = mysqlclone::run_session_guard(STDIN_FILENO);
  });
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mysqlclone;
  hold_closed_std_descriptors();
  install_signal_handlers();
  // Files open at once: every copy thread's source and target, and a restore's every layer of a
  // long chain for each file in flight (168 hourly incrementals on 8 threads: ~1,400), past the
  // usual soft limit of 1,024. The hard limit is the administrator's word; the soft one is ours.
  if (struct rlimit files {}; ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &files);
  }
  // Chunks of up to 1 MiB (and stream puts of up to 32 MiB) are allocated and freed all the
  // time. glibc serves such sizes with mmap and trims its heap eagerly, so every chunk cost
  // fresh zeroed pages: measured on a 1 GiB MySQL copy, `local --stream` spent 2.9 s of 4.7 s
  // in the kernel, `extract` 1.0 s of 4.1 s. Kept in the heap instead: 2.8-3.2 s and 1.8-2.3 s, for
  // ~30 MiB more peak RSS.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  // Those chunks are made on one thread (a reader, a Clone connection) and freed on another (a
  // writer, a compressor); with glibc's default of 8 arenas per CPU every thread's arena kept
  // its own freed chunks. Two arenas: `remote --stream --parallel 4` peak RSS 141 -> 95 MiB,
  // `local --stream` 90 -> 52 MiB, `local` 61 -> 45 MiB, none slower (1 GiB MySQL, 2 CPUs).
  mallopt(M_ARENA_MAX, 2);

  // Before anything else: take passwords out of argv (and out of `ps`).
  const PasswordArgs password = extract_password(argc, argv);

  CLI::App app{"mysqlclone " MYSQLCLONE_VERSION " - hot physical copies of MySQL and MariaDB servers", "mysqlclone"};
  app.require_subcommand(1);
  app.set_help_flag("--help", "Print this help message and exit");  // -h is --host, as in mysql
  // "0.1.0", or "0.1.0 (git 0123456789ab)" when built from a git checkout.
  const std::string commit = MYSQLCLONE_GIT_COMMIT;
  app.set_version_flag("--version", "mysqlclone " MYSQLCLONE_VERSION + (commit.empty() ? "" : " (git " + commit + ")"));
  GlobalOptions global;
  app.add_flag("--json", global.json, "Print one JSON result document on stdout")->configurable(false);
  app.add_flag("-q,--quiet", global.quiet, "Only warnings and errors on stderr; no progress");
  app.add_option("--defaults-file", global.files.defaults_file, "Read options only from this file (see FILES in man mysqlclone)");
  app.add_option("--defaults-extra-file", global.files.defaults_extra_file, "Read this option file after the global ones");
  app.add_flag("--no-defaults", global.files.no_defaults, "Read no option files");
  app.add_option("--metrics-file", global.metrics_file,
                 "After the command, success or failure, write its outcome to this file in Prometheus text format "
                 "(atomically; for node_exporter's textfile collector)");
  RunMetrics metrics;
  global.metrics = &metrics;
  app.fallthrough();
  int exit_code = int(ExitCode::kInternal);
  add_verify_command(app, global, exit_code);
  add_local_command(app, global, password, exit_code);
  add_remote_command(app, global, password, exit_code);
  add_extract_command(app, global, exit_code);
  add_receive_command(app, global, exit_code);
  add_restore_command(app, global, exit_code);
  add_info_command(app, global, exit_code);
  add_expire_command(app, global, exit_code);
  add_guard_command(app, exit_code);
  add_completion_command(app, exit_code);  // last: it describes every command added before it

  app.parse_complete_callback([&global] {
    if (global.quiet) set_log_level(LogLevel::kWarning);
  });
  const auto started = std::chrono::system_clock::now();
  bool informational = false;  // --help, --version: no run to record
  const int code = [&] {
    // The options of the option files join the command line's (cli/option_files.h).
    auto with_files = with_option_files(app, password.args);
    if (!with_files.is_ok()) {
      global.json = std::find(password.args.begin(), password.args.end(), "--json") != password.args.end();
      return fail(with_files.status(), global);
    }
    const std::vector<std::string>& all_args = with_files->args;
    try {
      std::vector<std::string> args(all_args.rbegin(), all_args.rend() - 1);  // CLI11 wants them reversed
      app.parse(args);
    } catch (const CLI::ParseError& e) {
      if (e.get_exit_code() == 0) {  // --help, --version
        informational = true;
        return app.exit(e);
      }
      // Like every other failure: one error line, and the error document with --json (which may
      // not have been parsed yet when the error struck).
      global.json = std::find(all_args.begin(), all_args.end(), "--json") != all_args.end();
      return fail(Status::error(ExitCode::kUsage, locate_parse_error(e.what(), *with_files) + " (see --help)"),
                  global);
    } catch (const std::exception& e) {
      // The commands run inside parse(). An exception escaping one is a bug, but the user still
      // gets one error line (and the JSON failure document) rather than std::terminate.
      return fail(Status::error(ExitCode::kInternal, "internal error: " + printable(e.what())), global);
    } catch (...) {
      return fail(Status::error(ExitCode::kInternal, "internal error: an exception of unknown type"), global);
    }
    if (interrupted() && exit_code == 0) exit_code = int(ExitCode::kInterrupted);
    return exit_code;
  }();
  if (informational || global.metrics_file.empty()) return code;
  return write_run_metrics(app, global.metrics_file, metrics, started, code);
}
