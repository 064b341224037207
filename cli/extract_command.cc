#include "cli/extract_command.h"

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "cli/replica_output.h"
#include "cli/status_exit.h"
#include "libclone/command/extract/extract.h"

namespace mysqlclone {
namespace {

nlohmann::json result_json(const ExtractResult& r, const std::string& command) {
  nlohmann::json j = r.manifest ? r.manifest->document : nlohmann::json::object();
  j.erase("files");
  j["command"] = command;
  j["source_command"] = r.manifest ? r.manifest->document.value("command", "") : "";
  j["ok"] = true;
  j["target_dir"] = r.target_dir;
  j["files"] = r.files;
  j["stream_bytes"] = r.stream_bytes;
  j["data_bytes"] = r.data_bytes;
  j["encrypted"] = r.encrypted;
  j["extract_seconds"] = r.seconds;
  if (!r.replication.is_null()) j["replication"] = r.replication;
  return j;
}

void print_human(const ExtractResult& r, const std::string& from) {
  fmt::print("OK: {} extracted from {} ({} files, {} of data from {} of {}stream, {:.1f} s)\n", r.target_dir, from,
             r.files, human_bytes(double(r.data_bytes)), human_bytes(double(r.stream_bytes)),
             r.encrypted ? "encrypted " : "", r.seconds);
  const std::string start_with = r.manifest ? r.manifest->document.value("start_with", "") : "";
  const bool incremental = r.manifest && r.manifest->document.value("backup_type", "") == "incremental";
  if (incremental)  // pages changed since its base, no datadir of its own
    fmt::print("an incremental backup: restore it with mysqlclone restore --backup {} --target-dir DIR, then start {} "
               "--datadir=DIR\n",
               r.target_dir, start_with);
  else if (!start_with.empty())
    fmt::print("start it with {} --datadir={} (crash recovery runs at first start)\n", start_with, r.target_dir);
  print_recorded_replication(r.replication, stdout);
}

}  // namespace

void print_extract_result(const ExtractResult& r, const std::string& command, const std::string& from,
                          const nlohmann::json& extra, const GlobalOptions& global) {
  if (global.json) {
    nlohmann::json j = result_json(r, command);
    j.update(extra);
    std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    print_human(r, from);
  }
}

void add_extract_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<ExtractOptions>();
  CLI::App* cmd = app.add_subcommand("extract", "Write a stream from `local --stream` into a datadir");
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->add_option("--target-dir", options->target_dir, "New (or empty) directory to write the copy into")->required();
  cmd->add_option("--encrypt-key-file", options->key_file, "The key the stream was encrypted with (64 hex digits)");
  cmd->add_option("STREAM", options->input, "The stream file (default: standard input)");
  cmd->add_option("--parallel", options->parallel,
                  "Threads that decrypt and decompress the stream, and as many that write its files (default: one per CPU, at least 2)")
      ->check(CLI::Range(1, 64));
  cmd->callback([options, &global, &exit_code] {
    ExtractProgress progress;
    ProgressDisplay display("extract", progress.done_bytes, progress.total_bytes, !global.quiet);
    auto result = run_extract(*options, progress);
    display.stop();
    if (!result.is_ok()) {
      exit_code = fail(result.status(), global);
      return;
    }
    print_extract_result(*result, "extract",
                         options->input.empty() || options->input == "-" ? "standard input" : options->input,
                         nlohmann::json::object(), global);
    exit_code = 0;
  });
}

}  // namespace mysqlclone
