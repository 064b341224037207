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

// Every base table outside the system schemas (mysql, information_schema, performance_schema, sys).
std::vector<std::string> user_tables(const Server& s);
// The InnoDB ones among them.
std::vector<std::string> innodb_user_tables(const Server& s);

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
// The source's position once its load has stopped: MySQL gtid_executed, MariaDB gtid_binlog_pos.
std::string source_gtids(const Server& src);
// Waits (bounded) until the copy has applied everything up to `gtids`. "" when it has.
std::string wait_caught_up(const Server& copy, const std::string& gtids);
// A DIR written from a stream of `local` (extract, receive, remote --ssh): complete, verified, the stock server
// starts on it, every table checks, it replicates from the recorded position (`doc`'s
// "replication") up to `gtids` and then equals the source table by table.
void expect_good_copy(const Server& src, const std::string& what, const std::string& dir, const nlohmann::json& doc,
                      const std::string& gtids);

// A new AES-256 key file (64 hex digits, made by openssl) at `path`, for --encrypt-key-file.
void make_key_file(const std::string& path);
// `command` (a shell line writing a stream to stdout) run with a terminal as its stdout: refused
// with exit 2 and a line naming the terminal, before it connects anywhere.
void expect_terminal_refused(const std::string& command);

// After a failed or killed backup: no session of the backup account is left (its locks died
// with it) and DDL, InnoDB and non-InnoDB (ld.nt: create_nontransactional_table) writes go
// through at once (lock_wait_timeout=5).
void expect_source_unharmed(const Server& src);

}  // namespace it
