// `local` without the DDL lock during the InnoDB copy (--lock-ddl=reduced): what the final
// phase, with DDL blocked, needs to learn what DDL did meanwhile (tablespace_changes.h says what
// is then done about it).
//   - The tablespaces as the copy holds them, and as the server has them now: space id from
//     page 0 and which file on disk each name is. Page 0 of every tablespace is read once just
//     before the lock; with DDL blocked only the files written or replaced since are read again.
//   - MySQL only: the tablespaces whose pages were written without redo. Sorted index builds
//     (ALTER TABLE ... ADD INDEX in place, and every rebuild, OPTIMIZE) write their pages
//     directly and log only MLOG_INDEX_LOAD (innodb-formats.md §5.7 trap 1); each builds an
//     index under a new index id, which the dictionary shows once the ALTER commits. So the ids
//     of every index are read before the first file is opened, and any tablespace holding an
//     index not among them at the end is copied again (a rebuild also has a new space id).
//     MariaDB 10.5+ logs every page write, index builds included: nothing to find there.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "libclone/datadir/datadir.h"
#include "libclone/datadir/file_copy.h"
#include "libclone/datadir/tablespace_changes.h"
#include "libclone/server/lock_wait.h"
#include "libclone/server/session.h"

namespace mysqlclone {

// MySQL: the id of every index in the dictionary (INFORMATION_SCHEMA.INNODB_INDEXES). The view
// opens every table, so it waits behind a DDL waiting for its exclusive lock: bounded by `wait`.
Result<std::unordered_set<uint64_t>> mysql_index_ids(Session& session, const LockWait& wait);

// MySQL: the tablespaces holding an index whose id is not in `before`.
Result<std::unordered_set<innodb::SpaceId>> mysql_spaces_with_new_indexes(Session& session, const LockWait& wait,
                                                                        const std::unordered_set<uint64_t>& before);

// The space id of a tablespace's first file as read from its page 0, with the file's stamp taken
// just before the read: while the file stays unchanged_since that stamp, the space id holds.
struct SpaceIdRead {
  FileStamp stamp;
  innodb::SpaceId space_id;
};
using SpaceIdReads = std::unordered_map<std::string, SpaceIdRead>;  // by the file's path

// Just before the final phase, DDL still running: page 0 of the first file of every tablespace
// of `inventory` (temporary ones left out), read on `threads` threads, so that the final phase
// reads only those written since. A file gone, not yet written or unreadable is left out: the
// final phase reads it. Fails only when interrupted.
Result<SpaceIdReads> read_space_ids(const DatadirInventory& inventory, const innodb::TablespaceFormat& fallback,
                                    unsigned threads);

// The tablespaces of `inventory` (temporary ones left out) as the server has them: the files of
// each (which file on disk each name is) and the space id from page 0 of its first, read again
// unless `earlier` read it from that very file, unwritten since (`page0_reads` counts the reads).
// `entries` receives the matching inventory entries. With DDL blocked nothing may be missing: any
// failure is an error.
Result<std::vector<TablespaceSighting>> sight_tablespaces(const DatadirInventory& inventory,
                                                          const innodb::TablespaceFormat& fallback,
                                                          const SpaceIdReads& earlier,
                                                          std::vector<const TablespaceEntry*>& entries,
                                                          uint64_t& page0_reads);

// The tablespaces the copy holds, from its files: by space id (the files of one tablespace in
// the order copied), each file under its source name (a delta under the file it stands for).
std::vector<TablespaceSighting> copied_tablespaces(const std::vector<CopiedFile>& files);

}  // namespace mysqlclone
