// What a data directory holds, as far as InnoDB is concerned: which server family wrote it and
// which files are tablespaces (system, undo, dictionary, per-table/general, temporary).
// ../shared/docs/innodb-formats.md §2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "innodb/tablespace_flags.h"
#include "libclone/base/status.h"

namespace mysqlclone {

enum class TablespaceKind { kSystem, kUndo, kDictionary, kUser, kTemporary };

const char* tablespace_kind_name(TablespaceKind k);

// The one place that says which file names are InnoDB tablespaces (nullopt: not one), shared by
// the inventory and the classifier of everything else. `top_level`: directly in the datadir.
std::optional<TablespaceKind> tablespace_kind_of(const std::string& name, bool top_level);

// Directories holding nothing a backup or verify reads: redo, session temporary tablespaces,
// clone/MEB scratch space, the binlog cache.
bool is_skipped_directory(const std::string& name);

struct TablespaceFile {
  std::string rel_path;  // relative to the datadir, e.g. "ibdata1", "db/t.ibd"
  uint64_t size = 0;
};

// One tablespace. Only the system tablespace may span several files (ibdata1, ibdata2, ...);
// page numbers then continue from one file into the next.
struct TablespaceEntry {
  TablespaceKind kind;
  std::vector<TablespaceFile> files;
  uint64_t total_size() const;
};

struct DatadirInventory {
  std::string dir;
  innodb::Flavour flavour;
  std::vector<TablespaceEntry> tablespaces;  // system first, then undo, dictionary, user
};

// Which family wrote the directory: MySQL keeps its dictionary in mysql.ibd; MariaDB has
// .frm files, aria_log_control and ib_logfile0 in its own format.
Result<innodb::Flavour> detect_flavour(const std::string& dir);

// Lists every InnoDB tablespace file under `dir` (temporary tablespaces are listed with
// kind kTemporary; callers skip them). Fails with kPath when `dir` is not a readable datadir.
Result<DatadirInventory> scan_datadir(const std::string& dir);

const char* flavour_name(innodb::Flavour f);

}  // namespace mysqlclone
