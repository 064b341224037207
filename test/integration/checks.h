// What the integration tests check of a copy once a server runs on it.
#pragma once

#include <string>
#include <vector>

#include "test/integration/harness.h"

namespace it {

// CHECK TABLE of `names`; "" when each ends with status OK and none reports an error or a
// warning, else what went wrong.
std::string check_tables(const Server& s, const std::vector<std::string>& names);
// CHECKSUM TABLE ... EXTENDED of `names`, as the client prints it (compare two servers' outputs).
std::string checksums(const Server& s, const std::vector<std::string>& names);

// Every base table outside the system schemas (mysql, information_schema, performance_schema, sys).
std::vector<std::string> user_tables(const Server& s);

// Replication. The statements mysqlclone printed, run verbatim on `copy` with only the test's
// replication account ('repl'/'repl') put in for REPLICATION_USER and REPLICATION_PASSWORD.
// "" when they ran, else what failed.
std::string run_replica_statements(const Server& copy, const std::vector<std::string>& statements);
// The GTIDs a server logged: MySQL gtid_executed, MariaDB gtid_binlog_pos.
std::string logged_gtids(const Server& s);
// Waits (bounded) until `copy` has applied `gtids` (MySQL WAIT_FOR_EXECUTED_GTID_SET, MariaDB
// MASTER_GTID_WAIT). "" when it has, else why not with the copy's replica status.
std::string wait_gtids(const Server& copy, const std::string& gtids);
// Waits (bounded) until `copy` has applied `source`'s binlog up to its current end (SOURCE_POS_WAIT
// / MASTER_POS_WAIT on the default channel). "" when it has.
std::string wait_binlog_end(const Server& copy, const Server& source);
// SHOW REPLICA STATUS / SHOW ALL SLAVES STATUS and the [ERROR] lines of the server's log.
std::string replica_status(const Server& s);
// How many replication appliers (SQL threads) run on the server.
unsigned running_appliers(const Server& s);

}  // namespace it
