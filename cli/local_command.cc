#include "cli/local_command.h"


#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/peer_options.h"
#include "cli/progress.h"
#include "cli/replica_output.h"
#include "cli/run_metrics.h"
#include "cli/status_exit.h"
#include "cli/stream_options.h"
#include "libclone/command/local/local_backup.h"
#include "libclone/base/log.h"
#include "libclone/io/peer.h"
#include "libclone/command/local/backup_files.h"
#include "libclone/server/replication.h"

namespace mysqlclone {
namespace {

// The backup's own metadata (as in DIR/mysqlclone.json, without the file list) and what a
// provisioning script needs next.
nlohmann::json result_json(const LocalBackupResult& r) {
  Manifest m = backup_manifest(r);
  m.state = TargetState::kComplete;
  nlohmann::json j = manifest_json(m);
  j["files"] = r.files.size();
  j["command"] = "local";
  j["ok"] = true;
  if (r.stream_bytes) {
    j["stream"] = r.target_dir;
    j["stream_bytes"] = r.stream_bytes;
  } else {
    j["target_dir"] = r.target_dir;
  }
  return j;
}

void print_human(const LocalBackupResult& r, FILE* out) {
  const double mib = double(r.bytes) / (1 << 20);
  if (r.stream_bytes)
    fmt::print(out, "OK: a stream of a {} {} datadir written to {} ({} files, {} of data in {} of stream, {:.1f} s, {:.0f} MiB/s)\n",
               flavour_name(r.server.flavour), r.server.version.text(), r.target_dir, r.files.size(),
               human_bytes(double(r.bytes)), human_bytes(double(r.stream_bytes)), r.seconds,
               r.seconds > 0 ? mib / r.seconds : 0);
  else
    fmt::print(out, "OK: {} is a {} {} datadir ({} files, {}, {:.1f} s, {:.0f} MiB/s)\n", r.target_dir,
               flavour_name(r.server.flavour), r.server.version.text(), r.files.size(), human_bytes(double(r.bytes)),
               r.seconds, r.seconds > 0 ? mib / r.seconds : 0);
  if (r.shared_bytes > 0)
    fmt::print(out, "{} of it shares the source's blocks (reflink): read and checked, not written\n",
               human_bytes(double(r.shared_bytes)));
  fmt::print(out, "consistent at LSN {} (redo from {}), binlog {}:{}{}{}\n", r.end.lsn, r.checkpoint_lsn,
             r.end.binlog_file, r.end.binlog_position, r.end.gtid.empty() ? "" : ", GTID ", r.end.gtid);
  fmt::print(out, "DDL was blocked {} ms{}, commits {} ms\n", r.ddl_blocked_ms,
             r.lock_ddl == LockDdl::kFull ? " (--lock-ddl=full)" : " (at the end only)", r.commits_blocked_ms);
  if (const DdlDuringCopy& d = r.ddl; d.created + d.renamed + d.deleted + d.recopied > 0)
    fmt::print(out, "DDL during the copy: {} tablespaces created, {} renamed, {} dropped, {} copied again ({} copied with DDL blocked)\n",
               d.created, d.renamed, d.deleted, d.recopied, human_bytes(double(d.copied_bytes)));
  fmt::print(out, "redo: {} kept, the tailer at most {} behind the server\n", human_bytes(double(r.end.lsn - r.checkpoint_lsn)),
             human_bytes(double(r.redo_peak_lag)));
  if (r.incremental)
    fmt::print(out,
               "incremental on {}: {} pages changed since LSN {} in {} delta files, {} tablespace files new or rebuilt "
               "(copied whole); found by reading {} of tablespaces ({}; page tracking {})\n",
               r.incremental->base_dir, r.incremental->delta_pages, r.incremental->threshold_lsn,
               r.incremental->delta_files, r.incremental->whole_tablespace_files,
               human_bytes(double(r.incremental->scanned_bytes)), r.incremental->pages_found_by,
               r.incremental->page_tracking.empty() ? "not available (MariaDB)" : r.incremental->page_tracking);
  const bool mysql = r.server.flavour == innodb::Flavour::kMysql;
  if (r.incremental)
    fmt::print(out, "restore it with mysqlclone restore --backup {} --target-dir DIR, then start {} {} --datadir=DIR\n",
               r.stream_bytes ? "DIR1 (the --target-dir of extract or receive)" : r.target_dir,
               mysql ? "mysqld" : "mariadbd", r.server.version.text());
  else
    fmt::print(out, "start it with {} {} --datadir={} (crash recovery runs at first start)\n", mysql ? "mysqld" : "mariadbd",
               r.server.version.text(), r.stream_bytes ? "DIR (the --target-dir of extract or receive)" : r.target_dir);
  if (!r.applier_stopped_because.empty())
    fmt::print(out, "the replica's applier was stopped {} ms around the consistency point ({})\n", r.applier_stopped_ms,
               r.applier_stopped_because);
  print_replica_setup(replica_setup(r), r.server.flavour, out);
}

// --stream or --to: where local's stream goes.
struct OutputArgs {
  StreamArgs stream;
  std::string to;  // --to HOST:PORT
  PeerArgs peer;
  std::shared_ptr<PeerSink> receiver;  // connected by stream_output
};

// --stream or --to and their options into options.stream; a copy needs a target, --stream or
// --to; a stream is never written to a terminal, and the receiver is connected to and verified
// (checked before anything runs).
Status stream_output(OutputArgs& args, bool compress_given, LocalBackupOptions& options) {
  if (!args.stream.on && args.to.empty()) {
    if (compress_given || !args.stream.key_file.empty() || args.stream.compress_threads)
      return Status::error(ExitCode::kUsage, "--compress, --compress-threads and --encrypt-key-file need --stream or --to");
    if (options.target_dir.empty() && options.repo.empty())
      return Status::error(ExitCode::kUsage, "--target-dir, --repo, --stream or --to is required");
    return Status::ok();
  }
  if (args.to.empty()) {
    auto out = stdout_stream(args.stream, compress_given);
    if (!out.is_ok()) return out.status();
    options.stream = std::move(out).value();
    return Status::ok();
  }
  // The settings (a readable key file) are checked before the receiver is connected to.
  if (auto settings = stream_settings(args.stream, compress_given); !settings.is_ok()) return settings.status();
  if (Status s = check_peer_options(args.peer); !s.is_ok()) return s;
  auto peer = peer_connect(args.to, args.peer.options);
  if (!peer.is_ok()) return peer.status();
  args.receiver = std::move(peer).value();
  auto out = stream_output_to(args.receiver, args.stream, compress_given);
  if (!out.is_ok()) return out.status();
  options.stream = std::move(out).value();
  return Status::ok();
}

}  // namespace

void add_local_command(CLI::App& app, const GlobalOptions& global, const PasswordArgs& password, int& exit_code) {
  auto options = std::make_shared<LocalBackupOptions>();
  CLI::App* cmd = app.add_subcommand("local", "Hot full copy of the server on this host into a datadir");
  cmd->set_help_flag("--help", "Print this help message and exit");
  auto stream = std::make_shared<OutputArgs>();
  CLI::Option* target = cmd->add_option("--target-dir", options->target_dir, "New (or empty) directory to write the copy into; {timestamp} in it becomes the run's start time "
                                        "in UTC (20261203T142500Z)");
  CLI::Option* to_stream =
      cmd->add_flag("--stream", stream->stream.on, "Write the copy to stdout as a stream (mysqlclone-stream(5)) for `extract`");
  target->excludes(to_stream);
  CLI::Option* to_peer = cmd->add_option("--to", stream->to, "Push the copy as a stream to `mysqlclone receive` at HOST:PORT (mutual TLS: the --peer-* options)");
  to_peer->excludes(target)->excludes(to_stream);
  add_peer_options(*cmd, stream->peer, "receiver");
  cmd->add_option("--compress", stream->stream.compress, "With --stream or --to: compress chunks with zstd (default level 1), zstd:LEVEL (1-19) or lz4")
      ->expected(0, 1);
  cmd->add_option("--encrypt-key-file", stream->stream.key_file,
                  "With --stream or --to: encrypt with AES-256-GCM under the key in this file (64 hex digits: openssl rand -hex 32)");
  add_compress_threads_option(*cmd, stream->stream, "With --stream or --to");
  CLI::Option* repo = cmd->add_option(
      "--repo", options->repo,
      "Write a new backup into this repository (made if it does not exist), named by its start time; `info`, "
      "`restore --repo` and `expire` work on it");
  repo->excludes(target)->excludes(to_stream)->excludes(to_peer);
  cmd->add_flag("--incremental", options->incremental,
                "With --repo: an incremental on the repository's newest finished backup")
      ->needs(repo);
  cmd->add_option("--incremental-from", options->incremental_from,
                  "Take an incremental on this earlier backup directory of the same server: only the pages changed "
                  "since its start checkpoint (found by reading every page, or on MySQL by page tracking); "
                  "`restore` makes a datadir of it (a base that is not there: exit 6, like a foreign one)")
      ->excludes(repo);
  cmd->add_option("--parallel", options->parallel, "Copy threads (default: one per CPU, at least 4)")->check(CLI::Range(1, 256));
  cmd->add_option("--max-rate", options->max_rate_mib, "Limit the copy of the data files to this many MiB/s (never the redo log)")
      ->check(CLI::Validator(
          [](const std::string& v) -> std::string {
            char* end = nullptr;
            const double d = std::strtod(v.c_str(), &end);
            return (end && *end == '\0' && d > 0) ? "" : "must be a positive number of MiB/s, not '" + v + "'";
          },
          "MiB/s"));
  cmd->add_option("--redo-file-size", options->redo_file_size_mib,
                  "MySQL: size in MiB of each redo file of the copy but the last (default: 1024); the copy's "
                  "redo spans as many files as it needs")
      ->check(CLI::Range(1, 16384));
  cmd->add_flag("--page-tracking", options->page_tracking,
                "MySQL: install component_mysqlbackup if it is not (INSERT on mysql.component) and start page "
                "tracking, so that incrementals on this backup and later ones read only the changed pages");
  cmd->add_flag("--redo-consumer", options->redo_consumer,
                "MySQL: register as a redo log consumer so no redo is lost; the server's writes wait when the "
                "copy falls a whole redo capacity behind");
  // 60 s by default: long enough for the statements and DDL a busy server runs every day to end
  // and let the lock through, short enough that the writers queued behind a waiting FLUSH TABLES
  // WITH READ LOCK or BACKUP STAGE are not stalled for longer than an incident takes to notice.
  cmd->add_option("--lock-wait-timeout", options->lock_wait_timeout_seconds,
                  "Seconds each lock statement may wait for a lock (and writers may queue behind it) before the "
                  "backup fails naming the blocking threads (default: 60)")
      ->check(CLI::Range(1, 86400));
  cmd->add_flag("--safe-replica-backup", options->safe_replica_backup,
                "A replica: stop its applier (SQL thread) around the consistency point until no replicated "
                "temporary table is open, and start it again after");
  cmd->add_option("--safe-replica-backup-timeout", options->safe_replica_timeout_seconds,
                  "Seconds --safe-replica-backup waits for the replica's temporary tables to close (default: 300)")
      ->check(CLI::Range(1, 86400));
  cmd->add_option_function<std::string>(
         "--lock-ddl",
         [options](const std::string& v) { options->lock_ddl = v == "full" ? LockDdl::kFull : LockDdl::kReduced; },
         "When DDL is blocked: 'reduced' (default) only for a short final phase that applies what DDL did during "
         "the copy (tables created, renamed, dropped, rebuilt, indexes built) by moving, removing and copying "
         "again exactly those tablespaces; 'full' from before the InnoDB copy until the end")
      ->check(CLI::IsMember({"reduced", "full"}));
  cmd->add_option_function<std::string>(
         "--reflink",
         [options](const std::string& v) {
           options->copy.reflink = v == "always" ? Reflink::kAlways : v == "never" ? Reflink::kNever : Reflink::kAuto;
         },
         "Zero copy: share the data files' blocks with the source instead of writing them, where the target "
         "directory is on the source's file system and it has reflinks (XFS reflink=1, btrfs); every page is "
         "still read and checked. 'auto' (default): where possible; 'always': fail where not; 'never'")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  add_connection_options(*cmd, options->connection);
  cmd->callback([options, stream, cmd, &global, &password, &exit_code] {
    label_run(global, options->target_dir.empty() ? options->repo : options->target_dir);
    GlobalOptions out = global;
    if (stream->stream.on) out.results = stderr;  // stdout is the stream
    if (options->copy.reflink == Reflink::kAlways && options->target_dir.empty()) {
      exit_code = fail(Status::error(ExitCode::kUsage, "--reflink=always needs --target-dir: a stream has no blocks to share"), out);
      return;
    }
    if (Status s = stream_output(*stream, cmd->count("--compress") > 0, *options); !s.is_ok()) {
      exit_code = fail(s, out);
      return;
    }
    if (Status s = apply_password(password, global.files, options->connection); !s.is_ok()) {
      if (stream->receiver) stream->receiver->abort(s);
      exit_code = fail(s, out);
      return;
    }
    BackupProgress progress;
    // The redo the copy holds grows with the server's writes, and a lag that grows warns of a
    // "redo lost" coming.
    auto label = [&progress] {
      const uint64_t span = progress.redo.span;
      if (span == 0) return std::string("copy");
      return fmt::format("copy (redo {}, {} behind)", human_bytes(double(span)), human_bytes(double(progress.redo.lag)));
    };
    ProgressDisplay display(label, progress.copy.done_bytes, progress.copy.total_bytes, !global.quiet);
    auto result = run_local_backup(*options, progress);
    display.stop();
    if (!result.is_ok()) {
      if (stream->receiver) stream->receiver->abort(result.status());
      exit_code = fail(result.status(), out);
      return;
    }
    global.metrics->bytes = result->bytes;
    global.metrics->ddl_blocked_seconds = double(result->ddl_blocked_ms) / 1000;
    global.metrics->commits_blocked_seconds = double(result->commits_blocked_ms) / 1000;
    global.metrics->redo_bytes = result->end.lsn - result->checkpoint_lsn;
    if (global.json)
      std::fputs((result_json(*result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").c_str(),
                 out.results);
    else
      print_human(*result, out.results);
    exit_code = 0;
  });
}

}  // namespace mysqlclone
