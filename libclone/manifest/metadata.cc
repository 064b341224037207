#include "libclone/manifest/metadata.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "libclone/datadir/datadir.h"
#include "libclone/io/directory_sink.h"
#include "mysqlclone_version.h"

namespace mysqlclone {

std::string utc_now_iso8601() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status write_in_progress_state(const std::string& target, const ServerInfo& server, const std::string& started_at) {
  nlohmann::json j = {{"tool", "mysqlclone"},
                      {"tool_version", MYSQLCLONE_VERSION},
                      {"state", "in-progress"},
                      {"flavour", flavour_name(server.flavour)},
                      {"server_version", server.version_string},
                      {"started_at", started_at}};
  return write_file_atomically(target, kMetadataFile,
                               j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void write_failed_state(const std::string& target, const Status& error) {
  auto existing = read_backup_metadata(target);
  nlohmann::json j = existing.is_ok() && existing->has_value() ? **existing : nlohmann::json::object();
  j["state"] = "failed";
  j["error"] = error.message();
  j["exit_code"] = int(error.code());
  (void)write_file_atomically(target, kMetadataFile,
                              j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

nlohmann::json backup_metadata(const LocalBackupResult& r, const std::string& state) {
  nlohmann::json files = nlohmann::json::array();
  for (const CopiedFile& f : r.files) {
    nlohmann::json j = {{"path", f.rel_path}, {"bytes", f.bytes}, {"sha256", f.sha256}};
    if (f.tablespace) {
      j["space_id"] = f.space_id ? nlohmann::json(*f.space_id) : nlohmann::json(nullptr);
      j["max_page_lsn"] = f.max_lsn;
      j["reread_pages"] = f.reread_pages;
    }
    files.push_back(std::move(j));
  }
  const bool mysql = r.server.flavour == innodb::Flavour::kMysql;
  nlohmann::json j = {{"tool", "mysqlclone"},
                      {"tool_version", MYSQLCLONE_VERSION},
                      {"state", state},
                      {"kind", "full"},
                      {"flavour", flavour_name(r.server.flavour)},
                      {"server_version", r.server.version_string},
                      {"start_with", std::string(mysql ? "mysqld " : "mariadbd ") + r.server.version.text()},
                      {"page_size", r.server.page_size},
                      {"checkpoint_lsn", r.checkpoint_lsn},
                      {"end_lsn", r.end.lsn},
                      {"binlog", {{"file", r.end.binlog_file}, {"position", r.end.binlog_position}}},
                      {mysql ? "gtid_executed" : "gtid_binlog_pos", r.end.gtid},
                      {"ddl_blocked_ms", r.ddl_blocked_ms},
                      {"commits_blocked_ms", r.commits_blocked_ms},
                      {"started_at", r.started_at},
                      {"finished_at", r.finished_at},
                      {"seconds", r.seconds},
                      {"bytes", r.bytes},
                      {"source", {{"datadir", r.server.datadir}, {"host", r.source_host}, {"port", r.source_port}}},
                      {"files", files}};
  return j;
}

std::string xtrabackup_binlog_info(const LocalBackupResult& r) {
  std::ostringstream s;
  s << r.end.binlog_file << '\t' << r.end.binlog_position;
  if (!r.end.gtid.empty()) s << '\t' << r.end.gtid;
  s << '\n';
  return s.str();
}

// from_lsn 0: a full backup. to_lsn is the start checkpoint C: an incremental taken later
// must copy every page changed after it (pages changed between C and E are in this copy only
// through the redo, which the server applies at first start).
std::string xtrabackup_checkpoints(const LocalBackupResult& r) {
  std::ostringstream s;
  s << "backup_type = full-backuped\n"
    << "from_lsn = 0\n"
    << "to_lsn = " << r.checkpoint_lsn << '\n'
    << "last_lsn = " << r.end.lsn << '\n'
    << "flushed_lsn = " << r.end.lsn << '\n';
  return s.str();
}

std::string backup_my_cnf(const LocalBackupResult& r) {
  const ServerInfo& s = r.server;
  const bool mysql = s.flavour == innodb::Flavour::kMysql;
  std::ostringstream c;
  c << "# Written by mysqlclone " << MYSQLCLONE_VERSION << ": settings the server starting on this copy needs.\n"
    << "# Source: " << s.version_string << "; start the copy with " << (mysql ? "mysqld " : "mariadbd ")
    << s.version.text() << ".\n"
    << "[mysqld]\n"
    << "innodb_page_size=" << s.page_size << '\n'
    << "innodb_data_file_path=" << s.data_file_path << '\n'
    << "lower_case_table_names=" << s.lower_case_table_names << '\n';
  if (mysql) {
    c << "innodb_redo_log_capacity=" << s.redo_capacity << '\n';
  } else {
    c << "innodb_log_file_size=" << s.redo_capacity << '\n'
      << "innodb_undo_tablespaces=" << s.undo_tablespaces << '\n'
      << "innodb_checksum_algorithm=" << s.checksum_algorithm << '\n';
  }
  if (s.log_bin && !s.log_bin_basename.empty()) {
    const auto slash = s.log_bin_basename.rfind('/');
    c << "log_bin=" << (slash == std::string::npos ? s.log_bin_basename : s.log_bin_basename.substr(slash + 1))
      << '\n';
  }
  return c.str();
}

Status write_compat_files(const LocalBackupResult& r) {
  for (const auto& [name, text] : {std::pair<const char*, std::string>{"xtrabackup_binlog_info", xtrabackup_binlog_info(r)},
                                   {"xtrabackup_checkpoints", xtrabackup_checkpoints(r)},
                                   {"backup-my.cnf", backup_my_cnf(r)}})
    if (Status s = write_file_atomically(r.target_dir, name, text); !s.is_ok()) return s;
  return Status::ok();
}

// File names are bytes, not text: one that is not UTF-8 is written with U+FFFD in its place
// (nlohmann's replace handler) rather than throwing after the whole copy is done.
Status write_complete_state(const LocalBackupResult& r) {
  const nlohmann::json j = backup_metadata(r, "complete");
  return write_file_atomically(r.target_dir, kMetadataFile,
                               j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

Result<std::optional<nlohmann::json>> read_backup_metadata(const std::string& dir) {
  std::ifstream in(dir + "/" + kMetadataFile);
  if (!in) return std::optional<nlohmann::json>{};
  try {
    return std::optional<nlohmann::json>(nlohmann::json::parse(in));
  } catch (const nlohmann::json::exception& e) {
    return Status::error(ExitCode::kVerifyFailed, dir + "/" + kMetadataFile + " is not valid JSON: " + e.what());
  }
}

}  // namespace mysqlclone
