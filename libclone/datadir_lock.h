// Is a server running on this data directory? Both servers hold an fcntl() write lock on the
// system tablespace (and other data files) while they run, exactly so that a second server, or
// a tool like ours, can tell. Pages read from a running server's files may be in flight.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "libclone/status.h"

namespace mysqlclone {

// The pid holding the lock on `dir`/ibdata1, or nullopt when nobody does.
Result<std::optional<pid_t>> datadir_lock_holder(const std::string& dir);

}  // namespace mysqlclone
