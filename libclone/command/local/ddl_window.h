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
//   - MySQL: whether that second dictionary read can be skipped. It opens every table (2.6 s of
//     blocked DDL at 10,000 tables), yet most copies see no DDL at all. A redo-less build happens
//     only inside a statement (ALTER TABLE, CREATE INDEX, OPTIMIZE TABLE, enterprise LOAD DATA),
//     and the server counts every statement it executes under its Com_<command> status counter
//     before executing it (stored programs' statements, events, prepared statements and the
//     replication applier's statements included), while a statement is in the processlist, with
//     its text, from its dispatch on: visible before counted, counted before executing. So
//     before the copy, in this order: the counters (S0), then the processlist, then the index
//     ids. A statement counted before S0 was visible before S0: either the processlist still
//     shows it (one that may build an index closes the fast path) or it ended before the index
//     ids were read, its index among them and its pages on disk before the copy opened a file.
//     Any other is counted after S0: with DDL blocked the counters are read again (S1), and if
//     none outside an allow-list of statements that never build an index moved, no tablespace
//     got a redo-less index; otherwise (or if anything could not be read or shown) the
//     dictionary is read as above. A statement counted after S1 waits for the DDL lock before
//     it builds anything. mysqlclone's own statements in between are all on the allow-list.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// ---- whether the final phase must read the index ids again (MySQL) ----

// The Com_ status counters, by name (SHOW GLOBAL STATUS LIKE 'Com\_%').
using StatementCounters = std::map<std::string, uint64_t, std::less<>>;

// The first keyword of a statement's text, upper-cased: whitespace and comments (/* */, "-- ",
// #) skipped. "" when there is none or it cannot be told: a version comment (/*! or /*M!, whose
// content the server may execute), a comment left open, or text that starts with anything else
// than a letter.
std::string first_keyword(std::string_view statement);

// Whether a statement of this text may build an index: true unless its first keyword is one of
// the statements that never do (SELECT, INSERT, SET, SHOW, ...). Unknown text: true.
bool may_build_index(std::string_view statement);

// Whether the counter `name` is one of statements that never build an index themselves (a
// statement they run, as CALL or EXECUTE do, is counted under its own counter).
bool counter_of_statement_without_index_build(std::string_view name);

// The counters outside that allow-list that differ between `before` and `after`, or are in one
// only: empty when no statement that may build an index was counted in between.
std::vector<std::string> moved_counters(const StatementCounters& before, const StatementCounters& after);

// One thread of the processlist.
struct ProcessRow {
  uint64_t id = 0;
  std::string command;
  std::optional<std::string> info;  // the statement's text; NULL: none is running
};

// The first thread other than `own_id` that runs a statement that may build an index, described
// for the log; nullopt when there is none. The command is not looked at: an event's statement
// runs under "Connect", a replication applier's under "Query". A thread without a statement text
// runs no statement: the server sets the text before it counts and executes one.
std::optional<std::string> statement_that_may_build_index(const std::vector<ProcessRow>& threads, uint64_t own_id);

// What was learnt before the copy: S0 when the fast path is open, why not otherwise.
struct DdlWatch {
  std::optional<StatementCounters> counters;
  std::string closed_because;
};

// The final phase's choice: read the dictionary's index ids again, or not; and why.
struct IndexIdsChoice {
  bool read_dictionary = true;
  std::string why;
};

// Skips the read only when the watch was open and `at_end` (S1, read with DDL blocked) shows no
// counter outside the allow-list moved since.
IndexIdsChoice choose_index_ids_read(const DdlWatch& watch, const Result<StatementCounters>& at_end);

// The Com_ counters now.
Result<StatementCounters> read_statement_counters(Session& session);

// Before the copy, on `session` (which reads the index ids next): S0, then the processlist (seen
// whole only with the PROCESS privilege). Never fails: whatever goes wrong closes the fast path.
DdlWatch watch_for_ddl(Session& session);

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
