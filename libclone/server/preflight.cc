#include "libclone/server/preflight.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "libclone/base/text.h"
#include "libclone/datadir/datadir_lock.h"

namespace mysqlclone {
namespace fs = std::filesystem;
namespace {


// Whether a configured directory is the datadir itself (empty and "." mean it is). InnoDB files
// elsewhere are not copied yet, so anything else is refused.
bool is_the_datadir(const std::string& dir, const std::string& datadir) {
  if (dir.empty() || dir == "." || dir == "./") return true;
  std::error_code ec;
  return fs::weakly_canonical(fs::absolute(dir, ec), ec) == fs::weakly_canonical(fs::absolute(datadir, ec), ec);
}

// Whether `inner` is `outer` or under it, both as the file system resolves them (symlinks
// followed as far as they exist; made absolute first: weakly_canonical leaves "bk" relative when
// it does not exist yet).
bool is_within(const std::string& inner, const std::string& outer) {
  std::error_code ec;
  const fs::path in = fs::weakly_canonical(fs::absolute(inner, ec), ec);
  const fs::path out = fs::weakly_canonical(fs::absolute(outer, ec), ec);
  if (in.empty() || out.empty()) return false;
  auto [stop, _] = std::mismatch(out.begin(), out.end(), in.begin(), in.end());
  // "/a/b/" ends in an empty name: a prefix that differs only by it still contains.
  return stop == out.end() || (std::next(stop) == out.end() && stop->empty());
}

}  // namespace

Status check_target_outside_server(const std::string& target, const ServerInfo& info) {
  std::vector<std::pair<std::string, std::string>> dirs{{"datadir", info.datadir}};
  if (!info.log_bin_basename.empty())
    dirs.emplace_back("binary log directory", fs::path(info.log_bin_basename).parent_path().string());
  for (const auto& [what, dir] : dirs)
    if (!dir.empty() && is_within(target, dir))
      return Status::error(ExitCode::kPath, printable(target) + " is inside the server's " + what + " " +
                                                printable(dir) + ": the copy would copy itself, and the server would "
                                                "find its tables twice; choose a directory outside it");
  return Status::ok();
}

Status check_server_supported(const ServerInfo& info) {
  if (info.flavour == innodb::Flavour::kMysql && !info.version.at_least(8, 0, 30))
    return Status::error(ExitCode::kUnsupported, "MySQL " + info.version.text() +
                                                     " is not supported: mysqlclone needs MySQL 8.0.30 or later");
  if (info.flavour == innodb::Flavour::kMariadb && !info.version.at_least(10, 8, 0))
    return Status::error(ExitCode::kUnsupported, "MariaDB " + info.version.text() +
                                                     " is not supported: mysqlclone needs MariaDB 10.8 or later");
  if (!info.redo_enabled)
    return Status::error(ExitCode::kUnsupported,
                         "the server's redo log is disabled (ALTER INSTANCE DISABLE INNODB REDO_LOG): a copy could "
                         "not be recovered; enable it with ALTER INSTANCE ENABLE INNODB REDO_LOG");
  if (!info.redo_checksums)
    return Status::error(ExitCode::kUnsupported,
                         "innodb_log_checksums is OFF: the server writes redo blocks without checksums, which a "
                         "recovering server reads as the end of the log; SET GLOBAL innodb_log_checksums=ON first");
  if (info.redo_encrypted)
    return Status::error(ExitCode::kUnsupported, "the server's redo log is encrypted; mysqlclone cannot copy it yet");
  if (!is_the_datadir(info.data_home_dir, info.datadir) || !is_the_datadir(info.undo_directory, info.datadir) ||
      !is_the_datadir(info.log_group_home_dir, info.datadir))
    return Status::error(ExitCode::kUnsupported,
                         "InnoDB files outside the datadir (innodb_data_home_dir, innodb_undo_directory or "
                         "innodb_log_group_home_dir) are not supported yet");
  if (!info.data_file_path.empty() && info.data_file_path.rfind("ibdata1:", 0) != 0)
    return Status::error(ExitCode::kUnsupported,
                         "innodb_data_file_path=" + info.data_file_path + " is not supported yet (expected ibdata1...)");
  return Status::ok();
}

Result<std::set<std::string>> global_privileges(Session& session) {
  auto rows = session.query(
      "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = CONCAT('''', "
      "SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')");
  if (!rows.is_ok()) return rows.status();
  std::set<std::string> have;
  for (const Row& r : *rows)
    if (!r.empty() && r[0]) have.insert(*r[0]);
  return have;
}

Status check_privileges(Session& session, const ServerInfo& info, bool process_needed) {
  auto privileges = global_privileges(session);
  if (!privileges.is_ok()) return privileges.status();
  const std::set<std::string>& have = *privileges;
  // BACKUP_ADMIN: LOCK INSTANCE FOR BACKUP, performance_schema.log_status, redo consumer.
  // RELOAD: FLUSH TABLES ... WITH READ LOCK (MySQL), BACKUP STAGE (MariaDB).
  // LOCK TABLES: FLUSH TABLES t, ... WITH READ LOCK of the non-InnoDB tables (MySQL), asked for
  // even while there are none: a job set up without it would fail, after a whole copy, the day
  // someone makes a MyISAM table.
  // BINLOG MONITOR: SHOW MASTER STATUS under BLOCK_COMMIT (MariaDB).
  const bool mysql = info.flavour == innodb::Flavour::kMysql;
  const std::vector<std::string> needed = mysql ? std::vector<std::string>{"BACKUP_ADMIN", "RELOAD", "LOCK TABLES"}
                                                : std::vector<std::string>{"RELOAD", "BINLOG MONITOR"};
  std::string missing;
  for (const auto& p : needed) {
    const bool implied = p == "BINLOG MONITOR" && have.count("SUPER");
    if (!have.count(p) && !implied) missing += (missing.empty() ? "" : ", ") + p;
  }
  // performance_schema.log_status (the consistent position) also needs SELECT on it, granted on
  // *.*, the schema or the table: tried (once BACKUP_ADMIN is there: without it the read fails
  // for that).
  std::string table_missing;
  if (mysql && have.count("BACKUP_ADMIN")) {
    auto probe = session.query("SELECT 1 FROM performance_schema.log_status WHERE 0");
    if (!probe.is_ok() && probe.status().code() != ExitCode::kPrivilege) return probe.status();
    if (!probe.is_ok()) table_missing = "SELECT ON performance_schema.log_status";
  }
  bool process_missing = false;
  if (process_needed && !have.count("PROCESS")) {
    auto held = holds_process_privilege(session);
    if (!held.is_ok()) return held.status();
    process_missing = !*held;
    if (process_missing) missing += std::string(missing.empty() ? "" : ", ") + "PROCESS";
  }
  if (!missing.empty() || !table_missing.empty()) {
    auto user = session.query_value("SELECT CURRENT_USER()");
    const std::string grants = (missing.empty() ? "" : "GRANT " + missing + " ON *.* TO ...") +
                               (missing.empty() || table_missing.empty() ? "" : "; ") +
                               (table_missing.empty() ? "" : "GRANT " + table_missing + " TO ...");
    return Status::error(ExitCode::kPrivilege,
                         "account " + (user.is_ok() ? user->value_or("?") : "?") + " lacks privileges: " + missing +
                             (missing.empty() || table_missing.empty() ? "" : ", ") + table_missing + " (" + grants +
                             ")" +
                             (process_missing ? "; PROCESS is for --lock-ddl=reduced, the default, which reads the "
                                                "dictionary's index ids (INFORMATION_SCHEMA.INNODB_INDEXES); "
                                                "--lock-ddl=full needs none but blocks DDL for the whole copy"
                                              : ""));
  }
  return Status::ok();
}

Result<bool> holds_process_privilege(Session& session) {
  auto probe = session.query_value("SELECT NAME FROM INFORMATION_SCHEMA.INNODB_METRICS LIMIT 1");
  if (probe.is_ok()) return true;
  if (probe.status().code() == ExitCode::kPrivilege) return false;
  return probe.status();
}

Status check_datadir(const ServerInfo& info) {
  const std::string ibdata1 = info.datadir + "/ibdata1";
  if (::access(ibdata1.c_str(), R_OK) != 0)
    return Status::error(ExitCode::kPath, "the server's datadir " + info.datadir +
                                              " is not readable here (" + std::strerror(errno) +
                                              "): run mysqlclone local on the database host, as a user that can "
                                              "read the datadir");
  if (info.flavour == innodb::Flavour::kMysql && !info.server_uuid.empty()) {
    std::ifstream in(info.datadir + "/auto.cnf");
    std::string line, uuid;
    while (std::getline(in, line))
      if (line.rfind("server-uuid=", 0) == 0) uuid = line.substr(12);
    if (!uuid.empty() && uuid != info.server_uuid)
      return Status::error(ExitCode::kPath, info.datadir + " belongs to another server (server_uuid " + uuid +
                                                ", connected to " + info.server_uuid +
                                                "): mysqlclone local must run on the server's own host");
  }
  auto holder = datadir_lock_holder(info.datadir);
  if (!holder.is_ok()) return holder.status();
  if (!holder->has_value())
    return Status::error(ExitCode::kPath, "no running server holds the files of " + info.datadir +
                                              ": the datadir seen here is not the live one of the server connected "
                                              "to (another host or container?)");
  return Status::ok();
}

Status prepare_target(const std::string& target, uint64_t needed_bytes) {
  std::error_code ec;
  const fs::path t(target);
  const std::string name = printable(target);
  bool created = false;
  if (fs::exists(t, ec)) {
    if (!fs::is_directory(t, ec)) return Status::error(ExitCode::kPath, name + " exists and is not a directory");
    if (!fs::is_empty(t, ec)) return Status::error(ExitCode::kPath, name + " exists and is not empty");
  } else {
    const fs::path parent = t.has_parent_path() ? t.parent_path() : fs::path(".");
    if (!fs::is_directory(parent, ec))
      return Status::error(ExitCode::kPath, "the parent directory of " + name + " does not exist");
    if (::mkdir(target.c_str(), 0750) != 0)
      return Status::error(ExitCode::kPath, "cannot create " + name + ": " + std::strerror(errno));
    created = true;
  }
  // A refusal leaves nothing behind: a directory made here goes again.
  const auto refuse = [&](const std::string& why) {
    if (created) ::rmdir(target.c_str());
    return Status::error(ExitCode::kPath, why);
  };
  if (::access(target.c_str(), W_OK) != 0) return refuse(name + " is not writable: " + std::strerror(errno));
  struct statvfs vfs {};
  if (::statvfs(target.c_str(), &vfs) == 0) {
    const uint64_t free_bytes = uint64_t(vfs.f_bavail) * vfs.f_frsize;
    if (free_bytes < needed_bytes)
      return refuse(name + ": not enough free space: the copy needs about " + human_bytes(double(needed_bytes)) +
                    ", " + human_bytes(double(free_bytes)) + " free");
  }
  return Status::ok();
}

}  // namespace mysqlclone
