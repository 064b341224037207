// What DDL did to the tablespace files while they were copied without the DDL lock, and what the
// copy must do about it (issue 14 part 2; ../shared/docs/innodb-formats.md §5.7 traps 1-3).
//
// The copy is right when each tablespace file in it is a fuzzy copy, taken after the start
// checkpoint, of the very file the server has under that name at the end LSN: then the files and
// the redo log are what a crash at the end LSN leaves, and recovery handles the rest (the
// FILE_CREATE / RENAME / DELETE records of the window find their work done, as after a crash).
// So at the end, with DDL blocked, every tablespace is compared with what was copied:
//   - same space id, same file on disk, same name, not rewritten without redo: kept;
//   - same space id and file under another name (RENAME TABLE): the copy is moved to the name;
//   - anything else under a name (created, dropped and created again, rebuilt, TRUNCATE, an undo
//     truncation, an IMPORT, a redo-less index build): copied again, whole, under the lock;
//   - a copied file whose tablespace is gone (DROP): removed from the copy.
// Pure planning over two listings: the command gathers them and carries the plan out.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "innodb/page.h"
#include "libclone/io/read_file.h"

namespace mysqlclone {

// One tablespace as the copy or the server has it: its files in order (ibdata1, ibdata2, ...;
// one file otherwise), each with the file on disk it was (or is) under that name.
struct TablespaceSighting {
  std::optional<innodb::SpaceId> space_id;  // nullopt: page 0 not written (or unreadable)
  std::vector<std::string> rel_paths;
  std::vector<FileIdentity> files;
};

struct TablespaceChanges {
  // Copied files to drop first: their tablespace is gone, or they are copied again.
  std::vector<std::string> remove;
  // Copied files to give a new name, (from, to): carried out through temporary names, so
  // renames that swap names or form chains never collide.
  std::vector<std::pair<std::string, std::string>> move;
  // Tablespaces (indexes into `now`) to copy whole, after the removes and moves.
  std::vector<size_t> copy;
  // For the result: files copied under a new name (created), moved or copied under their new
  // name (renamed), removed with nothing in their place (deleted), and copied again under a name
  // the copy held (recopied: rebuilt, truncated, dropped and created, imported, index built
  // without redo).
  uint64_t created = 0, renamed = 0, deleted = 0, recopied = 0;
};

// `copied`: what the copy holds; `now`: the server's tablespaces with DDL blocked;
// `rewritten(space)`: whether pages of the space were written without redo during the copy
// (MySQL sorted index builds); `can_move`: whether a copied file may be renamed (not a delta of
// an incremental, whose name is tied to its base).
TablespaceChanges plan_tablespace_changes(const std::vector<TablespaceSighting>& copied,
                                          const std::vector<TablespaceSighting>& now,
                                          const std::function<bool(innodb::SpaceId)>& rewritten, bool can_move);

}  // namespace mysqlclone
