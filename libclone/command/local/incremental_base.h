// `local --incremental-from DIR`: the backup an incremental builds on, checked before the target
// is created, and the rule that makes a tablespace file a delta (innodb-formats.md §6.4).
//
// The threshold is the base's *start* checkpoint C, not its end: every page the base copied was
// read after C, so a page whose LSN is still at most C when the incremental reads it did not
// change between the two copies and the base's image of it is the one a restore needs; every
// other page is in the delta. Restore then needs no redo but the newest backup's own.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "libclone/datadir/file_copy.h"
#include "libclone/manifest/backup_chain.h"
#include "libclone/server/server_info.h"
#include "libclone/server/session.h"

namespace mysqlclone {

struct IncrementalBase {
  explicit IncrementalBase(BackupRecord b) : backup(std::move(b)), tablespaces(backup.manifest) {}
  IncrementalBase(const IncrementalBase&) = delete;  // `tablespaces` points into `backup`
  IncrementalBase& operator=(const IncrementalBase&) = delete;
  const BackupRecord backup;
  const TablespaceIndex tablespaces;
};

ServerIdentity server_identity(const ServerInfo& info);

// `restored`: the mysqlclone.json of the server's datadir. When `restore` wrote it, `base` must be
// the restored backup or one of its chain, or have been taken after the restore; any other base
// was taken on the history the restore left (kPath), however far the server's LSN has moved past
// it since.
Status check_base_after_restore(const BackupRecord& base, const nlohmann::json& restored);

// Reads and checks DIR as the base of an incremental of the server `session` talks to: a
// finished `local` backup (kVerifyFailed if not finished), of the same server and version (kPath:
// "a foreign base"), not newer than the server (kPath: the server's LSN is below the base's end,
// e.g. the server was restored from an older backup since).
Result<std::shared_ptr<const IncrementalBase>> open_incremental_base(const std::string& dir, const ServerInfo& info, Session& session);

// The copier's rule: a file the base holds (by space id) becomes a delta of the pages above the
// base's start checkpoint.
IncrementalCopy incremental_copy(std::shared_ptr<const IncrementalBase> base);

}  // namespace mysqlclone
