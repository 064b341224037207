#include "libclone/command/local/incremental_base.h"

#include "libclone/base/text.h"
#include "libclone/datadir/datadir.h"

namespace mysqlclone {

ServerIdentity server_identity(const ServerInfo& info) {
  return {flavour_name(info.flavour), info.version_string,
          info.flavour == innodb::Flavour::kMysql ? info.server_uuid : std::string(), info.datadir, info.server_id};
}

Status check_base_after_restore(const BackupRecord& base, const nlohmann::json& restored) {
  const nlohmann::json from = restored.value("restore", nlohmann::json::object());
  if (restored.value("command", "") != "restore" || !from.is_object()) return Status::ok();
  const std::string started = base.manifest.document.value("started_at", "");
  const std::string restored_at = restored.value("finished_at", "");
  // Times in whole UTC seconds, as ISO 8601 (they compare as text): a base of the same second as
  // the restore's end is not known to be after it.
  if (!started.empty() && started > restored_at) return Status::ok();
  if (!started.empty() && started == from.value("backup_started_at", "")) return Status::ok();
  for (const auto& d : from.value("chain", nlohmann::json::array()))
    if (d.is_string() && d.get<std::string>() == base.dir) return Status::ok();
  return Status::error(ExitCode::kPath, "--incremental-from: " + printable(base.dir) + " (taken " + printable(started) +
                                            ") is from before this server's datadir was restored from " +
                                            printable(from.value("backup", "")) + " (at " + printable(restored_at) +
                                            "), and not from that backup's chain: its pages are of the history the "
                                            "restore left; take a full backup");
}

Result<std::shared_ptr<const IncrementalBase>> open_incremental_base(const std::string& dir, const ServerInfo& info, Session& session) {
  // The whole chain, not the base alone: an incremental on a broken chain (a base under it
  // removed or replaced) would be taken, and then nothing could restore it.
  auto chain = read_chain(dir);
  if (!chain.is_ok()) return chain.status().with_context("--incremental-from");
  BackupRecord backup = std::move(chain->back());
  if (Status s = check_same_server(backup, server_identity(info)); !s.is_ok()) return s.with_context("--incremental-from");
  const bool mysql = info.flavour == innodb::Flavour::kMysql;
  auto lsn = session.query_value(mysql ? "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE "
                                         "VARIABLE_NAME = 'Innodb_redo_log_current_lsn'"
                                       : "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE "
                                         "VARIABLE_NAME = 'INNODB_LSN_CURRENT'");
  if (!lsn.is_ok()) return lsn.status();
  auto current = parse_u64(lsn->value_or(""), "the server's current LSN", UINT64_MAX, ExitCode::kUnsupported);
  if (!current.is_ok()) return current.status();
  if (*current < backup.end_lsn)
    return Status::error(ExitCode::kPath, "--incremental-from: " + printable(backup.dir) + " is newer than the server (its end LSN " +
                                              std::to_string(backup.end_lsn) + " is past the server's current LSN " +
                                              std::to_string(*current) +
                                              "): the server was restored or rebuilt since; take a full backup");
  // That catches a base from the history a restore left only until the server's LSN has moved
  // past it again; a datadir that `restore` wrote says so in its mysqlclone.json (unreadable or
  // absent: nothing to say).
  if (auto restored = read_manifest(info.datadir); restored.is_ok() && restored->has_value())
    if (Status s = check_base_after_restore(backup, (*restored)->document); !s.is_ok()) return s;
  return std::shared_ptr<const IncrementalBase>(std::make_shared<const IncrementalBase>(std::move(backup)));
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
