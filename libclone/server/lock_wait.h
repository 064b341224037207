// Lock statements with a bound: LOCK INSTANCE FOR BACKUP, FLUSH TABLES ... WITH READ LOCK and
// MariaDB's BACKUP STAGEs wait behind whatever holds a conflicting lock (a long statement, a
// running DDL, a session under LOCK TABLES), forever by default, and while one waits the writers
// that arrive after it queue behind it. Here each such statement waits at most a given time and
// not past SIGINT/SIGTERM: a watchdog on a second connection KILLs QUERY the waiting statement on
// either (after naming, on timeout, the threads that blocked it), and the server's own
// lock_wait_timeout, set a little later, ends the wait should that KILL never arrive. A statement
// that was ended leaves no lock and nothing queued; the caller fails and closes its session.
#pragma once

#include <string>
#include <vector>

#include "innodb/tablespace_flags.h"
#include "libclone/base/status.h"
#include "libclone/server/connection.h"
#include "libclone/server/session.h"

namespace mysqlclone {

struct LockWait {
  ConnectionParams params;  // where the watchdog connects: the waiting session's server
  innodb::Flavour flavour = innodb::Flavour::kMysql;
  unsigned timeout_seconds = 60;
};

// Runs `sql` on `session`. Errors: kUnsupported when it waited timeout_seconds, naming the
// threads that blocked it and their statements; kInterrupted on a signal; else the statement's.
Status run_lock_statement(Session& session, const LockWait& wait, const std::string& sql);

// The same bound for a query that may wait for metadata locks: MySQL's INFORMATION_SCHEMA views
// of the dictionary open each table, and wait behind a DDL that waits for its exclusive lock.
Result<std::vector<Row>> run_lock_query(Session& session, const LockWait& wait, const std::string& sql);

struct TableName {
  std::string schema, name;
};

// MySQL: FLUSH TABLES `tables` WITH READ LOCK, or FLUSH TABLES WITH READ LOCK when `tables` is
// empty, within one bound. The flush part waits for every statement that has one of the tables
// open, and once a table is marked for flush, a KILL of the FLUSH does not help: every new
// statement on that table waits for the long one to end. So the statement is only sent once no
// statement running for a second or more has such a table open; if one still has at the
// deadline, the FLUSH is never sent and the error names it.
Status flush_tables_with_read_lock(Session& session, const LockWait& wait, const std::vector<TableName>& tables);

}  // namespace mysqlclone
