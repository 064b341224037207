// Is a server running on this data directory? Both servers hold fcntl() write locks on files of
// their datadir while they run, so that a second server, or a tool like ours, can tell. Which
// files varies: MariaDB locks ibdata1; MySQL 9.7 was seen holding locks only on its doublewrite
// files, ibtmp1 and the session temporary tablespaces, not on ibdata1. So every such file is
// probed. Pages read from a running server's files may be in flight.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "libclone/base/status.h"

namespace mysqlclone {

// The pid of a process holding a write lock on one of the datadir's lock-bearing files
// (ibdata1, ibtmp1, #ib_*.dblwr, undo*, #innodb_temp/*, #innodb_redo/*, ib_logfile0,
// aria_log_control), or
// nullopt when nobody does. Fails (kPath) only when `dir` has no ibdata1 at all.
Result<std::optional<pid_t>> datadir_lock_holder(const std::string& dir);

// The same probe of whatever of those files `dir` holds, without requiring any: a server's
// innodb_data_home_dir, undo or log directory, or a datadir a restore is about to write into.
std::optional<pid_t> lock_holder_in(const std::string& dir);

}  // namespace mysqlclone
