// What the integration tests check of a copy once a server runs on it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/harness.h"

namespace it {

// CHECK TABLE of `names`; "" when each ends with status OK and none reports an error or a
// warning, else what went wrong.
std::string check_tables(const Server& s, const std::vector<std::string>& names);
// CHECKSUM TABLE ... EXTENDED of `names`, as the client prints it (compare two servers' outputs).
std::string checksums(const Server& s, const std::vector<std::string>& names);

// Every base table but those of information_schema, performance_schema and sys;
// with user_only, mysql's too.
std::vector<std::string> tables(const Server& s, bool user_only);
// CHECK TABLE of every table (mysql.* included); "" when each ends with status OK and none reports
// an error or a warning.
std::string check_all_tables(const Server& s);

// An unfinished DIR must be refused by everyone: `verify` says incomplete (exit 11), its state is
// not "complete", and a stock server of `flavour` does not start on it.
void expect_refused(const std::string& flavour, const std::string& target);

// Runs the statements of a result document's "replication" on the copy, the account filled in
// (the test's 'repl'); sets `error` when they fail. Returns the SQL run.
std::string make_replica(const Server& copy, const nlohmann::json& doc, std::string& error);
// SHOW REPLICA (SLAVE) STATUS and the copy's error lines, for failure messages.
std::string replica_status(const Server& copy);
// The source's position once its load has stopped: MySQL gtid_executed, MariaDB gtid_binlog_pos.
std::string source_gtids(const Server& src);
// Waits (bounded) until the copy has applied everything up to `gtids`. "" when it has.
std::string wait_caught_up(const Server& copy, const std::string& gtids);

}  // namespace it
