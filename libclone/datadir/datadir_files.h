// Everything in a datadir that is not an InnoDB tablespace, and what a backup does with it
// (../shared/docs/innodb-formats.md §2): non-transactional table data is copied under a lock,
// MariaDB's SQL-layer metadata under BACKUP STAGE BLOCK_DDL, Aria's log under BLOCK_COMMIT,
// a few files as they are; redo, temporary files, logs of this server's own life (binlogs,
// relay logs, error log), its identity (auto.cnf, TLS keys) and runtime files are skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "innodb/tablespace_flags.h"
#include "libclone/base/status.h"
#include "libclone/io/read_file.h"

namespace mysqlclone {

enum class FileAction {
  kCopy,        // copy as it is, any time (ib_buffer_pool, upgrade stamps)
  kCopyDdl,     // MariaDB .frm/.par/.TRG/.TRN/db.opt/.isl: while DDL is blocked
  kCopyLocked,  // non-transactional table data (+ MySQL .sdi of such tables): under the write lock
  kCopyLast,    // MariaDB Aria log: under BLOCK_COMMIT, always last
  kSkip,
};

struct DatadirFile {
  std::string rel_path;
  FileStamp stamp;  // when last looked at
  FileAction action = FileAction::kSkip;
  bool known = true;  // false: a file no rule names (skipped, and reported)
  // The file as it was when the copy took it, if it did: taken again only once it changed.
  std::optional<FileStamp> copied;
};

struct OtherFiles {
  std::vector<DatadirFile> files;        // not InnoDB tablespaces
  std::vector<std::string> directories;  // every directory to recreate (schemas, even empty)
};

// Classifies every regular file under `datadir` that is not an InnoDB tablespace.
Result<OtherFiles> classify_other_files(const std::string& datadir, innodb::Flavour flavour);

// The rule for one path (relative, '/'-separated); exposed for tests.
DatadirFile classify_path(const std::string& rel_path, innodb::Flavour flavour);

// The file's stamp now, to tell whether it changed since it was copied; nullopt when the file is
// gone (ENOENT: a log table rotated away). Any other failure to stat it is an error: a file we
// cannot look at is not a file we may leave out.
Result<std::optional<DatadirFile>> restat(const std::string& datadir, const DatadirFile& f);

}  // namespace mysqlclone
