#include "cli/restore_command.h"

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "cli/replica_output.h"
#include "cli/run_metrics.h"
#include "cli/status_exit.h"
#include "libclone/base/text.h"
#include "libclone/command/restore/restore.h"

namespace mysqlclone {
namespace {

// The document `local` prints, for the backup restored: DIR/mysqlclone.json without its file
// list, plus what a provisioning script needs next.
nlohmann::json result_json(const RestoreResult& r) {
  nlohmann::json j = r.manifest;
  j["files"] = r.files;
  j["ok"] = true;
  j["target_dir"] = r.target_dir;
  j["delta_pages"] = r.delta_pages;
  j["written_bytes"] = r.written_bytes;
  j["kept_files"] = r.kept_files;
  j["kept_bytes"] = r.kept_bytes;
  j["removed_files"] = r.removed_files;
  return j;
}

void print_human(const RestoreResult& r) {
  fmt::print("OK: {} is the datadir of backup {} ({} backup{} in its chain, {} files, {}, {} pages from "
             "incrementals, {:.1f} s)\n",
             r.target_dir, r.chain.back(), r.chain.size(), r.chain.size() == 1 ? "" : "s", r.files,
             human_bytes(double(r.bytes)), r.delta_pages, r.seconds);
  if (r.kept_files || r.removed_files)
    fmt::print("delta: {} written; {} files ({}) already right, {} brought to the backup, {} removed\n",
               human_bytes(double(r.written_bytes)), r.kept_files, human_bytes(double(r.kept_bytes)),
               r.files - r.kept_files, r.removed_files);
  const nlohmann::json binlog = r.manifest.value("binlog", nlohmann::json::object());
  if (binlog.is_object())
    fmt::print("consistent at LSN {} (redo from {}), binlog {}:{}\n", r.manifest.value("end_lsn", uint64_t(0)),
               r.manifest.value("checkpoint_lsn", uint64_t(0)), binlog.value("file", ""), binlog.value("position", uint64_t(0)));
  const std::string start_with = r.manifest.value("start_with", "");
  if (!start_with.empty())
    fmt::print("start it with {} --datadir={} (crash recovery runs at first start)\n", start_with, r.target_dir);
  print_recorded_replication(r.manifest.value("replication", nlohmann::json()), stdout);
}

}  // namespace

void add_restore_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<RestoreOptions>();
  CLI::App* cmd = app.add_subcommand(
      "restore", "Write a backup (full, or an incremental with its chain) into a datadir the stock server starts on");
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->add_option("--backup", options->backup,
                  "The backup directory to restore (an incremental brings its chain: the bases its mysqlclone.json "
                  "names); with --repo, the name of a backup in the repository (default: its newest)");
  cmd->add_option("--repo", options->repo, "Restore from this repository (`local --repo`)");
  auto* target = cmd->add_option("--target-dir", options->target_dir, "New (or empty) directory to write the datadir into");
  auto* datadir = cmd->add_option("--datadir", options->datadir,
                                  "A stopped server's datadir to restore onto (new or empty, or any with --delta); "
                                  "--defaults-file names the server's option file for its InnoDB directories");
  target->excludes(datadir);
  cmd->add_flag("--delta", options->delta,
                "With --datadir: keep the files already right, rewrite the others, remove what the backup lacks");
  cmd->add_option("--owner", options->owner,
                  "USER[:GROUP] to own what is written (default with --datadir: the datadir's owner)");
  cmd->add_option("--parallel", options->parallel, "Copy threads (default: one per CPU, at least 4)")->check(CLI::Range(1, 256));
  cmd->callback([options, &global, &exit_code] {
    label_run(global, options->target_dir.empty() ? options->datadir : options->target_dir);
    options->files = global.files;
    if (options->repo.empty() && options->backup.empty()) {
      exit_code = fail(Status::error(ExitCode::kUsage, "--backup DIR or --repo REPO is required"), global);
      return;
    }
    CopyProgress progress;
    ProgressDisplay display("restore", progress.done_bytes, progress.total_bytes, !global.quiet);
    auto result = run_restore(*options, progress);
    display.stop();
    if (!result.is_ok()) {
      exit_code = fail(result.status(), global);
      return;
    }
    global.metrics->bytes = result->bytes;
    if (global.json)
      std::puts(result_json(*result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    else
      print_human(*result);
    exit_code = 0;
  });
}

}  // namespace mysqlclone
