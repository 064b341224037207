#include "cli/remote_command.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/extract_command.h"
#include "cli/progress.h"
#include "cli/replica_output.h"
#include "cli/run_metrics.h"
#include "cli/status_exit.h"
#include "cli/stream_options.h"
#include "libclone/command/extract/ssh_pull.h"
#include "libclone/command/remote/remote_clone.h"

namespace mysqlclone {
namespace {

void print_human(const RemoteCloneResult& r, FILE* out) {
  const double mib = double(r.bytes) / (1 << 20);
  const std::string what = r.streamed ? fmt::format("a stream written to {} ({} of stream) holds", r.target_dir,
                                                    human_bytes(double(r.stream_bytes)))
                                      : r.target_dir + " is";
  fmt::print(out, "OK: {} a clone of MySQL {} at {}:{} ({} files, {}, {:.1f} s, {:.0f} MiB/s, {} connection{}{})\n",
             what, r.donor.version, r.donor.host, r.donor.port, r.files.size(), human_bytes(double(r.bytes)), r.seconds,
             r.seconds > 0 ? mib / r.seconds : 0, r.connections, r.connections == 1 ? "" : "s",
             r.compressed ? ", compressed" : "");
  if (r.streamed) fmt::print(out, "mysqlclone extract --target-dir DIR writes it into DIR; then:\n");
  const std::string dir = r.streamed ? "DIR" : r.target_dir;
  if (const auto& d = r.concurrent_ddl; d.created + d.renamed + d.deleted > 0)
    fmt::print(out, "DDL ran on the donor during the clone and is in the copy: {} file(s) created, {} renamed, {} deleted\n",
               d.created, d.renamed, d.deleted);
  fmt::print(out, "start it with mysqld {} (same OS/machine: {} {}) and at least this my.cnf:\n", r.donor.version,
             r.donor.compile_os, r.donor.compile_machine);
  fmt::print(out, "{}", suggested_my_cnf(r));
  if (const auto libraries = plugin_libraries(r); !libraries.empty())
    fmt::print(out, "its plugin_dir must hold the donor's plugin libraries: {}\n", fmt::join(libraries, ", "));
  fmt::print(out, "crash recovery and the clone fix-ups run at first start; the snapshot's binlog position is then in\n"
             "  {}/#clone/#status_recovery (GTIDs: SELECT @@GLOBAL.gtid_executed)\n",
             dir);
  if (!r.absolute_files.empty())
    fmt::print(out, "{} file(s) the donor keeps outside its datadir are under {}/#external: move them to the same "
               "absolute paths before the first start\n",
               r.absolute_files.size(), dir);
  print_replica_setup(remote_replica_setup(r), innodb::Flavour::kMysql, out);
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

// Where the copy goes and what --compress means there: the clone connections (zlib) into
// --target-dir, the stream with --stream (to stdout, never a terminal: refused before anything
// runs) and with --ssh (the donor side's stream).
Status choose_output(const StreamArgs& stream, bool compress_given, bool over_ssh, RemoteCloneOptions& options,
                     SshPullOptions& ssh) {
  if (over_ssh) {
    if (compress_given) ssh.compress = stream.compress;
    ssh.compress_threads = stream.compress_threads;
  } else if (stream.on) {
    auto out = stdout_stream(stream, compress_given);
    if (!out.is_ok()) return out.status();
    options.stream = std::move(out).value();
  } else if (stream.compress_threads) {
    return Status::error(ExitCode::kUsage, "--compress-threads needs --stream or --ssh");
  } else if (compress_given) {
    if (!stream.compress.empty())
      return Status::error(ExitCode::kUsage, "--compress=" + stream.compress +
                                                 ": a value is for the stream of --stream or --ssh; the clone "
                                                 "connections take --compress alone");
    options.compress = true;
  }
  if (!stream.on && options.target_dir.empty())
    return Status::error(ExitCode::kUsage, "--target-dir or --stream is required");
  return Status::ok();
}

// remote --ssh: `local --stream` on the donor's host through ssh, extracted here.
int run_over_ssh(const RemoteCloneOptions& options, SshPullOptions ssh, const GlobalOptions& global) {
  auto donor = resolve_connection(options.connection);
  if (!donor.is_ok()) return fail(donor.status(), global);
  ssh.donor = *donor;
  ssh.target_dir = options.target_dir;
  ssh.max_rate_mib = options.max_rate_mib;
  ExtractProgress progress;
  ProgressDisplay display("copy", progress.done_bytes, progress.total_bytes, !global.quiet);
  auto result = run_ssh_pull(ssh, progress);
  display.stop();
  if (!result.is_ok()) return fail(result.status(), global);
  global.metrics->bytes = result->data_bytes;
  print_extract_result(*result, "remote", "ssh " + ssh.destination, {{"ssh", ssh.destination}}, global);
  return 0;
}

}  // namespace

void add_remote_command(CLI::App& app, const GlobalOptions& global, const PasswordArgs& password, int& exit_code) {
  auto options = std::make_shared<RemoteCloneOptions>();
  auto from = std::make_shared<std::string>();
  auto ssh = std::make_shared<SshPullOptions>();
  CLI::App* cmd = app.add_subcommand(
      "remote",
      "Pull a copy of a donor into a new datadir (no server needed here): a MySQL donor over the Clone protocol, "
      "or, with --ssh, a donor of either flavour through `mysqlclone local --stream` run on its host over ssh");
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->add_option("--from", *from,
                  "The donor: USER@HOST:PORT (or use -u/-h/-P); with --ssh, HOST as seen from the donor's host");
  auto stream = std::make_shared<StreamArgs>();
  CLI::Option* target = cmd->add_option("--target-dir", options->target_dir, "New (or empty) directory to write the datadir into");
  CLI::Option* to_stream = cmd->add_flag(
      "--stream", stream->on,
      "Write the clone to stdout as a stream (mysqlclone-stream(5)) for `extract`, instead of into a directory");
  target->excludes(to_stream);
  cmd->add_option("--encrypt-key-file", stream->key_file,
                  "With --stream: encrypt with AES-256-GCM under the key in this file (64 hex digits: openssl rand -hex 32)")
      ->needs(to_stream);
  CLI::Option* over_ssh = cmd->add_option(
      "--ssh", ssh->destination,
      "[SSHUSER@]HOST: run `mysqlclone local --stream` on the donor's host through OpenSSH (BatchMode, your ssh "
      "config and keys) and extract its stream here; the donor's host needs the same mysqlclone release");
  over_ssh->excludes(to_stream);
  cmd->add_option("--ssh-option", ssh->ssh_options, "With --ssh: one more ssh -o option (Port=2222, IdentityFile=...); "
                                                    "repeatable")
      ->needs(over_ssh);
  cmd->add_option("--ssh-mysqlclone", ssh->remote_binary,
                  "With --ssh: the mysqlclone program on the donor's host, a name in its PATH or a path (default "
                  "mysqlclone)")
      ->needs(over_ssh);
  cmd->add_option("--parallel", options->parallel,
                  "Data connections to the donor, the main one included (default 4); with --ssh, the donor "
                  "side's copy threads (default: its own, one per CPU, at least 4)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--compress", stream->compress,
                  "Compress the clone connections (zlib, as the client protocol does); with --stream or --ssh, the "
                  "stream instead: zstd (default level 1), zstd:LEVEL (1-19) or lz4")
      ->expected(0, 1);
  add_compress_threads_option(*cmd, *stream, "With --stream or --ssh (the donor side's)");
  cmd->add_option("--max-rate", options->max_rate_mib,
                  "Limit the transfer to this many MiB/s; with --ssh, the donor side's reading")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--allow-absolute-paths", options->allow_absolute_paths,
                "Accept donor files kept outside its datadir (DATA DIRECTORY=...): written under DIR/#external")
      ->excludes(over_ssh);
  CLI::Option* block_ddl = cmd->add_flag(
      "--block-ddl", options->block_ddl,
      "Hold the donor's backup lock for the whole clone: no DDL there meanwhile. If mysqlclone is then "
      "killed (SIGKILL, OOM, a lost host), the donor keeps the lock, and its DDL waits, for "
      "clone_donor_timeout_after_network_failure (5 min by default). Default: no lock; the donor's "
      "DDL during the clone is applied to the copy");
  block_ddl->excludes(over_ssh);
  cmd->add_option("--ddl-timeout", options->ddl_timeout_seconds,
                  "With --block-ddl: seconds the donor may wait for its backup lock (default 300)")
      ->check(CLI::Range(1, 86400))
      ->excludes(over_ssh);
  add_connection_options(*cmd, options->connection);
  cmd->callback([options, from, ssh, stream, cmd, &global, &password, &exit_code] {
    label_run(global, options->target_dir);
    GlobalOptions out = global;
    if (stream->on) out.results = stderr;  // stdout is the stream
    if (Status s = choose_output(*stream, cmd->count("--compress") > 0, !ssh->destination.empty(), *options, *ssh);
        !s.is_ok()) {
      exit_code = fail(s, out);
      return;
    }
    if (!from->empty())
      if (Status s = apply_from(*from, options->connection); !s.is_ok()) {
        exit_code = fail(s, out);
        return;
      }
    if (Status s = apply_password(password, global.files, options->connection); !s.is_ok()) {
      exit_code = fail(s, out);
      return;
    }
    if (!ssh->destination.empty()) {
      if (cmd->count("--parallel")) ssh->parallel = options->parallel;
      exit_code = run_over_ssh(*options, *ssh, global);
      return;
    }
    clone::CloneProgress progress;
    ProgressDisplay display([&progress] { return std::string(stage_label(progress.state.load())); },
                            progress.done_bytes, progress.total_bytes, !global.quiet);
    auto result = run_remote_clone(*options, progress);
    display.stop();
    if (!result.is_ok()) {
      exit_code = fail(result.status(), out);
      return;
    }
    global.metrics->bytes = result->bytes;
    if (global.json) {
      Manifest m = remote_clone_manifest(*result);
      m.state = TargetState::kComplete;
      nlohmann::json j = manifest_json(m);
      j["ok"] = true;
      if (result->streamed) {
        j["stream"] = result->target_dir;
        j["stream_bytes"] = result->stream_bytes;
      } else {
        j["target_dir"] = result->target_dir;
      }
      j["files"] = result->files.size();
      std::fputs((j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").c_str(), out.results);
    } else {
      print_human(*result, out.results);
    }
    exit_code = 0;
  });
}

}  // namespace mysqlclone
