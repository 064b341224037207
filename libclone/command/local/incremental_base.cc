#include "libclone/command/local/incremental_base.h"

#include "libclone/base/text.h"
#include "libclone/datadir/datadir.h"

namespace mysqlclone {

ServerIdentity server_identity(const ServerInfo& info) {
  return {flavour_name(info.flavour), info.version_string,
          info.flavour == innodb::Flavour::kMysql ? info.server_uuid : std::string(), info.datadir};
}

Result<std::shared_ptr<const IncrementalBase>> open_incremental_base(const std::string& dir, const ServerInfo& info, Session& session) {
  auto backup = read_backup(dir);
  if (!backup.is_ok()) return backup.status().with_context("--incremental-from");
  if (Status s = check_same_server(*backup, server_identity(info)); !s.is_ok()) return s.with_context("--incremental-from");
  const bool mysql = info.flavour == innodb::Flavour::kMysql;
  auto lsn = session.query_value(mysql ? "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE "
                                         "VARIABLE_NAME = 'Innodb_redo_log_current_lsn'"
                                       : "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE "
                                         "VARIABLE_NAME = 'INNODB_LSN_CURRENT'");
  if (!lsn.is_ok()) return lsn.status();
  auto current = parse_u64(lsn->value_or(""), "the server's current LSN", UINT64_MAX, ExitCode::kUnsupported);
  if (!current.is_ok()) return current.status();
  if (*current < backup->end_lsn)
    return Status::error(ExitCode::kPath, "--incremental-from: " + printable(backup->dir) + " is newer than the server (its end LSN " +
                                              std::to_string(backup->end_lsn) + " is past the server's current LSN " +
                                              std::to_string(*current) +
                                              "): the server was restored or rebuilt since; take a full backup");
  return std::shared_ptr<const IncrementalBase>(std::make_shared<const IncrementalBase>(std::move(backup).value()));
}

IncrementalCopy incremental_copy(std::shared_ptr<const IncrementalBase> base) {
  IncrementalCopy copy;
  copy.threshold = base->backup.checkpoint_lsn;
  copy.in_base = [base](const std::string& rel_path, innodb::SpaceId space_id) {
    return base->tablespaces.find(rel_path, space_id) != nullptr;
  };
  return copy;
}

}  // namespace mysqlclone
