// MySQL page tracking (component_mysqlbackup; innodb-formats.md §6.5): the server records which
// pages change, so an incremental reads only those instead of every page of every file.
//
// Checked on MySQL 9.7.4: mysqlbackup_page_track_set(1) starts tracking and returns the LSN it is
// valid from (tracking survives restarts); mysqlbackup_page_track_get_start_lsn() gives that LSN
// (0: never started); mysqlbackup_page_track_get_changed_pages(FROM, TO) returns a negative or
// non-zero error when [FROM, TO] is not covered (FROM before the start, TO past the current LSN)
// and otherwise writes <datadir>/#meb/<mysqlbackup.backupid>.idx: 8-byte entries, space id and
// page number, 4 bytes each, big-endian, in no order, with repeats. The backup id must be digits.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "innodb/page.h"
#include "libclone/base/status.h"
#include "libclone/server/session.h"

namespace mysqlclone {

// Page numbers changed per space id, each list sorted and without repeats.
using ChangedPages = std::unordered_map<innodb::SpaceId, std::vector<innodb::PageNo>>;

// The .idx list of changed pages; kInternal when its size is not a whole number of entries.
Result<ChangedPages> parse_changed_pages(std::span<const uint8_t> bytes);

// Where tracking stands on the server: the LSN it covers from, 0 when the component is not
// installed or tracking never started.
Result<innodb::Lsn> page_tracking_start(Session& session);

// `--page-tracking`: installs component_mysqlbackup when it is not (INSERT on mysql.component)
// and starts tracking (a no-op when it runs). Returns the LSN tracking is valid from.
Result<innodb::Lsn> start_page_tracking(Session& session);

// Waits (polling, at most `at_most`, not past a signal) until the server's checkpoint is at or
// past `lsn`; returns the checkpoint it saw last.
Result<innodb::Lsn> wait_for_checkpoint_past(Session& session, innodb::Lsn lsn, std::chrono::seconds at_most);

// The pages the server changed in [from, to] (none when from >= to); `to` 0: up to what it has
// tracked so far. Sets mysqlbackup.backupid (SYSTEM_VARIABLES_ADMIN)
// to `backup_id` (digits), has the server write its list into `datadir`/#meb, reads it and
// removes it.
Result<ChangedPages> changed_pages(Session& session, const std::string& datadir, const std::string& backup_id,
                                   innodb::Lsn from, innodb::Lsn to);

}  // namespace mysqlclone
