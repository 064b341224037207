#include "cli/repository_commands.h"

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/status_exit.h"
#include "libclone/base/text.h"
#include "libclone/command/expire/expire.h"
#include "libclone/command/info/info.h"

namespace mysqlclone {
namespace {

nlohmann::json backup_json(const RepositoryBackup& b) {
  nlohmann::json j = {{"name", b.name}, {"state", b.state}, {"started_at", b.started_at}};
  if (!b.error.empty()) j["error"] = b.error;
  if (!b.record) return j;
  const nlohmann::json& d = b.record->manifest.document;
  j["type"] = b.record->incremental ? "incremental" : "full";
  j["base"] = b.record->incremental ? nlohmann::json(b.base_name.empty() ? b.record->base_dir : b.base_name)
                                    : nlohmann::json(nullptr);
  for (const char* key : {"finished_at", "seconds", "bytes", "flavour", "server_version", "checkpoint_lsn", "end_lsn",
                          "binlog", "gtid_executed", "gtid_binlog_pos"})
    if (d.contains(key)) j[key] = d[key];
  if (b.record->incremental && d.contains("incremental")) {
    const nlohmann::json& inc = d["incremental"];
    j["delta_pages"] = inc.value("delta_pages", uint64_t(0));
    j["pages_found_by"] = inc.value("pages_found_by", "");
  }
  return j;
}

void print_info(const RepositoryInfo& info) {
  size_t complete = 0;
  for (const auto& b : info.backups) complete += b.record ? 1 : 0;
  fmt::print("{}: {} backup{} ({} finished)\n", info.repo, info.backups.size(), info.backups.size() == 1 ? "" : "s",
             complete);
  if (info.backups.empty()) return;
  fmt::print("{:<24} {:<11} {:<11} {:>9} {:>10}  {:<24} {}\n", "NAME", "TYPE", "STATE", "SECONDS", "SIZE", "BASE",
             "CONSISTENT AT");
  for (const auto& b : info.backups) {
    if (!b.record) {
      fmt::print("{:<24} {:<11} {:<11} {:>9} {:>10}  {:<24} {}\n", b.name, "-", b.state, "-", "-", "-", b.error);
      continue;
    }
    const nlohmann::json& d = b.record->manifest.document;
    const nlohmann::json binlog = d.value("binlog", nlohmann::json::object());
    std::string at = "LSN " + std::to_string(b.record->end_lsn);
    if (binlog.is_object() && !binlog.value("file", "").empty())
      at += ", binlog " + binlog.value("file", "") + ":" + std::to_string(binlog.value("position", uint64_t(0)));
    fmt::print("{:<24} {:<11} {:<11} {:>9.1f} {:>10}  {:<24} {}\n", b.name,
               b.record->incremental ? "incremental" : "full", b.state, d.value("seconds", 0.0),
               human_bytes(double(d.value("bytes", uint64_t(0)))),
               b.record->incremental ? (b.base_name.empty() ? printable(b.record->base_dir) : b.base_name) : "-", at);
  }
}

}  // namespace

void add_info_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto repo = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("info", "List the backups of a repository (`local --repo`) and their chains");
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->add_option("--repo", *repo, "The repository")->required();
  cmd->callback([repo, &global, &exit_code] {
    auto info = run_info(*repo);
    if (!info.is_ok()) {
      exit_code = fail(info.status(), global);
      return;
    }
    if (global.json) {
      nlohmann::json backups = nlohmann::json::array();
      for (const auto& b : info->backups) backups.push_back(backup_json(b));
      const nlohmann::json j = {{"command", "info"}, {"ok", true}, {"repo", info->repo}, {"backups", backups}};
      std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      print_info(*info);
    }
    exit_code = 0;
  });
}

void add_expire_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<ExpireOptions>();
  CLI::App* cmd = app.add_subcommand(
      "expire", "Remove the backups of a repository that the retention rules no longer keep (never one a kept backup needs)");
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->add_option("--repo", options->repo, "The repository")->required();
  cmd->add_option("--keep-full", options->rules.keep_full,
                  "Keep the newest N full backups and the incrementals built on them")
      ->required()
      ->check(CLI::Range(1u, 100000u));
  cmd->add_option_function<unsigned>(
      "--keep-incremental-days", [options](unsigned days) { options->rules.keep_incremental_days = days; },
      "Of those incrementals, keep the ones started in the last D days (and every base a kept one needs)");
  cmd->add_flag("--dry-run", options->dry_run, "Say what would be removed; remove nothing");
  cmd->callback([options, &global, &exit_code] {
    auto plan = run_expire(*options);
    if (!plan.is_ok()) {
      exit_code = fail(plan.status(), global);
      return;
    }
    if (global.json) {
      const nlohmann::json j = {{"command", "expire"}, {"ok", true},          {"repo", options->repo},
                                {"dry_run", options->dry_run}, {"kept", plan->keep}, {"removed", plan->remove}};
      std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      for (const auto& name : plan->remove) fmt::print("{} {}\n", options->dry_run ? "would remove" : "removed", name);
      fmt::print("{}: {} backup{} kept, {} {}\n", options->repo, plan->keep.size(), plan->keep.size() == 1 ? "" : "s",
                 plan->remove.size(), options->dry_run ? "would be removed (--dry-run)" : "removed");
    }
    exit_code = 0;
  });
}

}  // namespace mysqlclone
