#include "cli/remote_command.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "cli/replica_output.h"
#include "cli/run_metrics.h"
#include "cli/status_exit.h"
#include "libclone/command/remote/donor_guard.h"
#include "libclone/command/remote/remote_clone.h"

namespace mysqlclone {
namespace {

void print_human(const RemoteCloneResult& r) {
  const double mib = double(r.bytes) / (1 << 20);
  fmt::print("OK: {} is a clone of MySQL {} at {}:{} ({} files, {}, {:.1f} s, {:.0f} MiB/s, {} connection{}{})\n",
             r.target_dir, r.donor.version, r.donor.host, r.donor.port, r.files.size(), human_bytes(double(r.bytes)),
             r.seconds, r.seconds > 0 ? mib / r.seconds : 0, r.connections, r.connections == 1 ? "" : "s",
             r.compressed ? ", compressed" : "");
  if (const auto& d = r.concurrent_ddl; d.created + d.renamed + d.deleted > 0)
    fmt::print("DDL ran on the donor during the clone and is in the copy: {} file(s) created, {} renamed, {} deleted\n",
               d.created, d.renamed, d.deleted);
  fmt::print("start it with mysqld {} (same OS/machine: {} {}) and at least this my.cnf:\n", r.donor.version,
             r.donor.compile_os, r.donor.compile_machine);
  fmt::print("{}", suggested_my_cnf(r));
  if (const auto libraries = plugin_libraries(r); !libraries.empty())
    fmt::print("its plugin_dir must hold the donor's plugin libraries: {}\n", fmt::join(libraries, ", "));
  fmt::print("crash recovery and the clone fix-ups run at first start; the snapshot's binlog position is then in\n"
             "  {}/#clone/#status_recovery (GTIDs: SELECT @@GLOBAL.gtid_executed)\n",
             r.target_dir);
  if (!r.absolute_files.empty())
    fmt::print("{} file(s) the donor keeps outside its datadir are under {}/#external: move them to the same "
               "absolute paths before the first start\n",
               r.absolute_files.size(), r.target_dir);
  print_replica_setup(remote_replica_setup(r), innodb::Flavour::kMysql, stdout);
}

const char* stage_label(uint32_t state) {
  switch (state) {
    case 2: return "file copy";
    case 3: return "page copy";
    case 4: return "redo copy";
    case 5: return "finishing";
    default: return "starting";
  }
}

}  // namespace

void add_guard_donor_command(CLI::App& app, int& exit_code) {
  // Hidden: started by `remote` itself (libclone/command/remote/donor_guard.h), never by a user.
  CLI::App* cmd = app.add_subcommand("guard-donor", "")->group("");
  cmd->callback([&exit_code] {
    // Nothing of the parent's but the pipe on stdin: its descriptors (sockets to the donor above
    // all) must close when it dies, not live on here. Its terminal's signals are not ours either.
    ::close_range(3, ~0u, 0);
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);
    exit_code = clone::run_donor_guard(STDIN_FILENO);
  });
}

void add_remote_command(CLI::App& app, const GlobalOptions& global, const PasswordArgs& password, int& exit_code) {
  auto options = std::make_shared<RemoteCloneOptions>();
  auto from = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "remote", "Pull a clone of a MySQL donor over the Clone protocol into a new datadir (no server needed here)");
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->add_option("--from", *from, "The donor: USER@HOST:PORT (or use -u/-h/-P)");
  cmd->add_option("--target-dir", options->target_dir, "New (or empty) directory to write the datadir into")
      ->required();
  cmd->add_option("--parallel", options->parallel,
                  "Data connections to the donor, the main one included (default 4)")
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--compress", options->compress, "Compress the clone connections (zlib, as the client protocol does)");
  cmd->add_option("--max-rate", options->max_rate_mib, "Limit the transfer to this many MiB/s")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--allow-absolute-paths", options->allow_absolute_paths,
                "Accept donor files kept outside its datadir (DATA DIRECTORY=...): written under DIR/#external");
  cmd->add_flag("--block-ddl", options->block_ddl,
                "Hold the donor's backup lock for the whole clone: no DDL there meanwhile. If mysqlclone is then "
                "killed (SIGKILL, OOM, a lost host), the donor keeps the lock, and its DDL waits, for "
                "clone_donor_timeout_after_network_failure (5 min by default). Default: no lock; the donor's "
                "DDL during the clone is applied to the copy");
  cmd->add_option("--ddl-timeout", options->ddl_timeout_seconds,
                  "With --block-ddl: seconds the donor may wait for its backup lock (default 300)")
      ->check(CLI::Range(1, 86400));
  add_connection_options(*cmd, options->connection);
  cmd->callback([options, from, &global, &password, &exit_code] {
    label_run(global, options->target_dir);
    if (!from->empty())
      if (Status s = apply_from(*from, options->connection); !s.is_ok()) {
        exit_code = fail(s, global);
        return;
      }
    if (Status s = apply_password(password, global.files, options->connection); !s.is_ok()) {
      exit_code = fail(s, global);
      return;
    }
    clone::CloneProgress progress;
    ProgressDisplay display([&progress] { return std::string(stage_label(progress.state.load())); },
                            progress.done_bytes, progress.total_bytes, !global.quiet);
    auto result = run_remote_clone(*options, progress);
    display.stop();
    if (!result.is_ok()) {
      exit_code = fail(result.status(), global);
      return;
    }
    global.metrics->bytes = result->bytes;
    if (global.json) {
      Manifest m = remote_clone_manifest(*result);
      m.state = TargetState::kComplete;
      nlohmann::json j = manifest_json(m);
      j["ok"] = true;
      j["target_dir"] = result->target_dir;
      j["files"] = result->files.size();
      std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      print_human(*result);
    }
    exit_code = 0;
  });
}

}  // namespace mysqlclone
