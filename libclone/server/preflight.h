// Checks made before anything is locked or written, each failing with one clear line and the
// right exit code: a supported server and configuration, every missing privilege at once, a
// datadir that is this server's and readable here, and a usable target with room for the copy.
#pragma once

#include <set>
#include <string>

#include "libclone/server/server_info.h"
#include "libclone/server/session.h"

namespace mysqlclone {

// kUnsupported: MySQL < 8.0.30, MariaDB < 10.8, redo disabled or encrypted, InnoDB files outside
// the datadir (not handled yet).
Status check_server_supported(const ServerInfo& info);

// The global privileges of the session's account (information_schema.USER_PRIVILEGES for
// CURRENT_USER(): those granted to it directly; a role's are not listed).
Result<std::set<std::string>> global_privileges(Session& session);

// kPrivilege, naming every missing privilege. `process_needed`: PROCESS as well (MySQL with
// --lock-ddl=reduced reads INFORMATION_SCHEMA.INNODB_INDEXES); held through a role counts.
Status check_privileges(Session& session, const ServerInfo& info, bool process_needed);

// Whether the session holds PROCESS, granted directly or through an active role: tried by reading
// INFORMATION_SCHEMA.INNODB_METRICS, which needs it (and stays small however many tables the
// server has), since USER_PRIVILEGES lists no role's grants.
Result<bool> holds_process_privilege(Session& session);

// kPath: the datadir is not readable from here, or is not the one this server runs on.
Status check_datadir(const ServerInfo& info);

// kPath: `target` is the server's datadir or its binary log directory, or under one: the copy
// would read its own output, and the server would find a second copy of each tablespace in its
// datadir (MySQL then refuses to start: "Multiple files found for the same tablespace ID").
Status check_target_outside_server(const std::string& target, const ServerInfo& info);

// kPath: the target exists and is not empty, its parent is missing, it is not writable, or the
// file system has less than `needed_bytes` free. Creates the (empty) target directory.
Status prepare_target(const std::string& target, uint64_t needed_bytes);

}  // namespace mysqlclone
