#include "cli/verify_command.h"

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "cli/status_exit.h"
#include "libclone/base/log.h"
#include "libclone/command/verify/verify.h"

namespace mysqlclone {
namespace {

nlohmann::json counts_json(const PageCounts& c) {
  return {{"valid", c.valid},
          {"empty", c.empty},
          {"unverifiable", c.unverifiable},
          {"doublewrite", c.doublewrite},
          {"corrupt", c.corrupt},
          {"total", c.total()}};
}

nlohmann::json report_json(const VerifyReport& r) {
  nlohmann::json files = nlohmann::json::array();
  for (const FileReport& f : r.files) {
    nlohmann::json bad = nlohmann::json::array();
    for (const BadPage& b : f.bad_pages) bad.push_back({{"page", b.page}, {"reason", innodb::page_detail_name(b.reason)}});
    nlohmann::json j = {{"path", f.rel_path},
                        {"kind", tablespace_kind_name(f.kind)},
                        {"bytes", f.bytes},
                        {"page_size", f.physical_page_size},
                        {"pages", counts_json(f.pages)},
                        {"max_lsn", f.max_lsn},
                        {"ok", f.ok()},
                        {"bad_pages", bad}};
    j["space_id"] = f.space_id ? nlohmann::json(*f.space_id) : nlohmann::json(nullptr);
    if (!f.file_problem.empty()) j["problem"] = f.file_problem;
    files.push_back(std::move(j));
  }
  return {{"command", "verify"},
          {"path", r.dir},
          {"ok", r.ok()},
          {"backup", r.is_backup},
          {"checksummed_files", r.checksummed_files},
          {"flavour", flavour_name(r.flavour)},
          {"page_size", r.page_size},
          {"files", r.files.size()},
          {"bad_files", r.bad_files()},
          {"bytes", r.bytes},
          {"pages", counts_json(r.pages)},
          {"max_lsn", r.max_lsn},
          {"seconds", r.seconds},
          {"threads", r.threads},
          {"file_reports", files}};
}

void print_human(const VerifyReport& r) {
  for (const FileReport& f : r.files) {
    if (f.ok()) continue;
    if (!f.file_problem.empty()) fmt::print("BAD  {}: {}\n", f.rel_path, f.file_problem);
    for (const BadPage& b : f.bad_pages) fmt::print("BAD  {}:{}: {}\n", f.rel_path, b.page, innodb::page_detail_name(b.reason));
    if (f.pages.corrupt > f.bad_pages.size())
      fmt::print("BAD  {}: {} more bad pages not listed\n", f.rel_path, f.pages.corrupt - f.bad_pages.size());
  }
  const double mib_s = r.seconds > 0 ? double(r.bytes) / r.seconds / (1 << 20) : 0;
  fmt::print("{}: {} ({}, page size {}): {} files, {} pages, {} in {:.2f} s ({:.0f} MiB/s, {} threads)\n",
             r.ok() ? "OK" : "FAILED", r.dir, flavour_name(r.flavour), r.page_size, r.files.size(), r.pages.total(),
             human_bytes(double(r.bytes)), r.seconds, mib_s, r.threads);
  fmt::print("pages: {} valid, {} empty, {} unverifiable, {} doublewrite (skipped), {} corrupt in {} files\n",
             r.pages.valid, r.pages.empty, r.pages.unverifiable, r.pages.doublewrite, r.pages.corrupt, r.bad_files());
  if (r.is_backup && r.checksummed_files > 0)
    fmt::print("backup: complete; {} files match their recorded SHA-256\n", r.checksummed_files);
  else if (r.is_backup)
    fmt::print("backup: complete; no SHA-256 recorded (a clone from `remote`): pages checked only\n");
}

}  // namespace

void add_verify_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand("verify", "Check every page of every InnoDB tablespace under PATH");
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->add_option("PATH", options->dir, "A data directory of a stopped server")->required();
  cmd->add_option("--threads", options->threads, "Parallel readers (default: one per CPU, at least 4)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--allow-running", options->allow_running,
                "Read the files of a running server anyway (pages may be in flight and reported bad)");
  cmd->callback([options, &global, &exit_code] {
    VerifyProgress progress;
    ProgressDisplay display("verify", progress.done_bytes, progress.total_bytes, !global.quiet);
    auto report = verify_datadir(*options, progress);
    display.stop();
    if (!report.is_ok()) {
      exit_code = fail(report.status(), global);
      return;
    }
    const std::string problem = report->ok() ? std::string()
                                             : fmt::format("{} of {} files have bad pages or problems",
                                                           report->bad_files(), report->files.size());
    if (global.json) {
      nlohmann::json doc = report_json(*report);
      // As every failure document has them (status_exit.h).
      if (!problem.empty()) {
        doc["error"] = problem;
        doc["exit_code"] = int(ExitCode::kVerifyFailed);
      }
      std::puts(doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      print_human(*report);
    }
    if (!problem.empty()) log_error("{}", problem);
    exit_code = problem.empty() ? 0 : int(ExitCode::kVerifyFailed);
  });
}

}  // namespace mysqlclone
