#include "libclone/command/local/backup_files.h"

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "libclone/datadir/datadir.h"
#include "mysqlclone_version.h"

namespace mysqlclone {

Manifest backup_manifest(const LocalBackupResult& r) {
  Manifest m;
  m.kind = "backup";
  m.command = "local";
  m.started_at = r.started_at;
  m.finished_at = r.finished_at;
  m.seconds = r.seconds;
  m.bytes = r.bytes;
  for (const CopiedFile& f : r.files)
    m.files.push_back({f.rel_path, f.bytes, f.sha256, f.tablespace, f.space_id, f.max_lsn, f.reread_pages, f.delta_of,
                       f.file_bytes, f.delta_pages});
  const bool mysql = r.server.flavour == innodb::Flavour::kMysql;
  m.sections = {{"backup_type", r.incremental ? "incremental" : "full"},
                {"flavour", flavour_name(r.server.flavour)},
                {"server_version", r.server.version_string},
                {"start_with", std::string(mysql ? "mysqld " : "mariadbd ") + r.server.version.text()},
                {"page_size", r.server.page_size},
                {"checkpoint_lsn", r.checkpoint_lsn},
                {"end_lsn", r.end.lsn},
                {"binlog", {{"file", r.end.binlog_file}, {"position", r.end.binlog_position}}},
                {mysql ? "gtid_executed" : "gtid_binlog_pos", r.end.gtid},
                {"lock_ddl", r.lock_ddl == LockDdl::kFull ? "full" : "reduced"},
                {"ddl_blocked_ms", r.ddl_blocked_ms},
                {"commits_blocked_ms", r.commits_blocked_ms},
                {"redo_bytes", r.end.lsn - r.checkpoint_lsn},
                {"redo_peak_lag_bytes", r.redo_peak_lag},
                {"parallel", r.parallel},
                {"reflink", {{"mode", r.reflink == Reflink::kAlways ? "always"
                                      : r.reflink == Reflink::kNever ? "never"
                                                                     : "auto"},
                             {"shared_bytes", r.shared_bytes}}},
                {"source", {{"datadir", r.server.datadir}, {"host", r.source_host}, {"port", r.source_port}}}};
  if (!r.server.server_uuid.empty() && mysql) m.sections["server_uuid"] = r.server.server_uuid;
  if (!r.server.server_id.empty()) m.sections["server_id"] = r.server.server_id;
  m.sections["copied_again_under_lock"] = r.copied_again_under_lock;
  if (r.lock_ddl == LockDdl::kReduced)
    m.sections["concurrent_ddl"] = {{"created", r.ddl.created},   {"renamed", r.ddl.renamed},
                                    {"deleted", r.ddl.deleted},   {"recopied", r.ddl.recopied},
                                    {"copied_bytes", r.ddl.copied_bytes}};
  if (r.lock_ddl == LockDdl::kReduced && !r.ddl.index_builds_found_by.empty())
    m.sections["concurrent_ddl"]["index_builds_found_by"] = r.ddl.index_builds_found_by;
  if (r.incremental) {
    const IncrementalResult& i = *r.incremental;
    // The base's name as well as its path: a chain moved as a whole (a repository, backups
    // extracted side by side on another host) still finds its bases beside each other.
    m.sections["incremental"] = {{"base", i.base_dir},
                                 {"base_name", std::filesystem::path(i.base_dir).filename().string()},
                                 {"base_started_at", i.base_started_at},
                                 {"threshold_lsn", i.threshold_lsn},
                                 {"base_end_lsn", i.base_end_lsn},
                                 {"pages_found_by", i.pages_found_by},
                                 {"page_tracking", i.page_tracking},
                                 {"tracked_pages", i.tracked_pages},
                                 {"scanned_bytes", i.scanned_bytes},
                                 {"delta_files", i.delta_files},
                                 {"delta_pages", i.delta_pages},
                                 {"whole_tablespace_files", i.whole_tablespace_files}};
  }
  nlohmann::json replication = replica_setup_json(replica_setup(r));
  if (!r.end.channels.empty()) {
    replication["replica_of"]["positions_exact"] = r.end.channel_positions_exact;
    if (!mysql) replication["replica_of"]["gtid_slave_pos"] = r.end.gtid_slave_pos;
  }
  if (!r.applier_stopped_because.empty())
    replication["applier_stopped"] = {{"because", r.applier_stopped_because}, {"ms", r.applier_stopped_ms}};
  m.sections["replication"] = replication;
  return m;
}

ReplicaSource replica_source(const LocalBackupResult& r) {
  ReplicaSource s;
  s.flavour = r.server.flavour;
  s.host = r.source_host;
  s.port = r.source_port;
  // MySQL auto-positions only with gtid_mode ON (a server switched OFF still has a GTID set).
  s.gtid = !r.end.gtid.empty() && (r.server.flavour != innodb::Flavour::kMysql || r.server.gtid_mode == "ON");
  s.gtid_set = r.end.gtid;
  s.binlog_file = r.end.binlog_file;
  s.binlog_position = r.end.binlog_position;
  return s;
}

ReplicaSetup replica_setup(const LocalBackupResult& r) {
  return make_replica_setup(replica_source(r), r.end.channels, r.server.log_replica_updates, r.end.gtid_slave_pos);
}

std::string xtrabackup_slave_info(const LocalBackupResult& r) {
  const bool mysql = r.server.flavour == innodb::Flavour::kMysql;
  std::ostringstream s;
  for (const ReplicaChannel& c : r.end.channels) {
    if (!c.gtid) continue;
    s << (mysql ? "SET GLOBAL gtid_purged=" + sql_quoted(r.end.gtid)
                : "SET GLOBAL gtid_slave_pos = " + sql_quoted(r.end.gtid_slave_pos))
      << ";\n";
    break;
  }
  for (const ReplicaChannel& c : r.end.channels) {
    const std::string coordinates = std::string(mysql ? "SOURCE_LOG_FILE=" : "MASTER_LOG_FILE=") +
                                    sql_quoted(c.source_log_file) + (mysql ? ", SOURCE_LOG_POS=" : ", MASTER_LOG_POS=") +
                                    std::to_string(c.source_log_position);
    if (mysql)
      s << "CHANGE REPLICATION SOURCE TO " << (c.gtid ? "SOURCE_AUTO_POSITION=1" : coordinates) << " FOR CHANNEL "
        << sql_quoted(c.name) << ";\n";
    else
      s << "CHANGE MASTER " << (c.name.empty() ? "" : sql_quoted(c.name) + " ") << "TO "
        << (c.gtid ? "master_use_gtid = slave_pos" : coordinates) << ";\n";
  }
  return s.str();
}

std::string mysqld_auto_cnf(const LocalBackupResult& r) {
  if (r.server.flavour != innodb::Flavour::kMysql || r.end.channels.empty()) return "";
  return replica_copy_mysqld_auto_cnf();
}

std::string xtrabackup_binlog_info(const LocalBackupResult& r) {
  std::ostringstream s;
  s << r.end.binlog_file << '\t' << r.end.binlog_position;
  if (!r.end.gtid.empty()) s << '\t' << r.end.gtid;
  s << '\n';
  return s.str();
}

std::string xtrabackup_checkpoints(const LocalBackupResult& r) {
  return r.incremental ? xtrabackup_checkpoints_text("incremental", r.incremental->threshold_lsn, r.checkpoint_lsn, r.end.lsn)
                       : xtrabackup_checkpoints_text("full-backuped", 0, r.checkpoint_lsn, r.end.lsn);
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

Status write_compat_files(Storage& storage, const LocalBackupResult& r) {
  for (const auto& [name, text] : {std::pair<const char*, std::string>{"xtrabackup_binlog_info", xtrabackup_binlog_info(r)},
                                   {"xtrabackup_checkpoints", xtrabackup_checkpoints(r)},
                                   {"backup-my.cnf", backup_my_cnf(r)}})
    if (Status s = storage.put(name, text); !s.is_ok()) return s;
  for (const auto& [name, text] : {std::pair<const char*, std::string>{"xtrabackup_slave_info", xtrabackup_slave_info(r)},
                                   {"mysqld-auto.cnf", mysqld_auto_cnf(r)}})
    if (!text.empty())
      if (Status s = storage.put(name, text); !s.is_ok()) return s;
  return Status::ok();
}

}  // namespace mysqlclone
