// Replication around a copy: what the source replicates from (its channels, read at the copy's
// consistency point), and the statements that make a copy a replica, from the position the
// copy is consistent at: one builder for every command. The account is left as placeholders
// (REPLICATION_USER / REPLICATION_PASSWORD): provisioning scripts substitute their own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "innodb/tablespace_flags.h"
#include "libclone/base/status.h"
#include "libclone/server/session.h"

namespace mysqlclone {

struct ReplicaSource {
  innodb::Flavour flavour = innodb::Flavour::kMysql;
  std::string host;
  unsigned port = 0;
  // The channel (MySQL) or connection (MariaDB) to set up; "" is the default one. Named in the
  // statements when it is not "" or when several are set up at once.
  std::string channel;
  bool gtid = false;      // replicate by GTID (MySQL auto-position, MariaDB gtid_slave_pos)
  std::string gtid_set;   // MariaDB: the gtid_slave_pos to set
  // Without GTIDs: the binlog coordinates; an empty file means they are only known once the copy
  // has started (a remote clone records them at first start), and placeholders name where.
  std::string binlog_file;
  uint64_t binlog_position = 0;
  std::string position_placeholder_hint;  // e.g. "from #clone/#status_recovery"
  bool tls = false;  // the source offered TLS: the replica asks for it too
};

// The statements for `sources` (one per channel), run in this order on the started copy: with
// `drop_copied_channels`, first forget the channels the copy carries from its source (MySQL keeps
// them in InnoDB tables, so a copy of a replica has them), then set up each channel, then start
// each. On MariaDB gtid_slave_pos is one server-wide value, set once before any connection starts.
std::vector<std::string> replica_statements(const std::vector<ReplicaSource>& sources,
                                            bool drop_copied_channels = false);

// One replication channel of a replica (MySQL channel, MariaDB connection) as the server reports
// it (SHOW REPLICA STATUS / SHOW ALL SLAVES STATUS).
struct ReplicaChannel {
  std::string name;  // "" the default channel / connection
  std::string source_host;
  unsigned source_port = 0;
  bool gtid = false;  // MySQL Auto_Position=1, MariaDB Using_Gtid other than No
  bool tls = false;   // the channel asks its source for TLS
  // The source's binlog coordinates of the last transaction this server applied
  // (Relay_Source_Log_File / Exec_Source_Log_Pos).
  std::string source_log_file;
  uint64_t source_log_position = 0;
  uint64_t relay_log_position = 0;  // the applier's place in its relay log
  bool applier_running = false;
};

// Every channel of the server; empty when it is not a replica.
Result<std::vector<ReplicaChannel>> read_replica_channels(Session& session, innodb::Flavour flavour);

// How to make a started copy a replica, for every command: mysqlclone.json "replication", --json
// and the human output.
struct ReplicaSetup {
  std::string host;  // the copied server
  unsigned port = 0;
  std::vector<ReplicaChannel> channels;  // its channels at the copy's point; empty: not a replica
  // (b) replicate from the copied server itself: empty when that cannot work, and why.
  std::vector<std::string> from_this_server;
  std::string not_offered_because;
  // (a) the copied server is a replica: replicate from what it replicates from, every channel.
  // A channel without GTIDs and without a recorded position gets placeholders naming where the
  // position is (the started copy's own SHOW REPLICA STATUS).
  std::vector<std::string> from_its_source;
};

// `self`: where a replica of the copied server starts. A replica's own binlog holds what it
// replicates only with log_replica_updates (log_slave_updates): otherwise (b) is not offered.
// gtid_slave_pos: MariaDB's replicated GTID position at the copy's point.
ReplicaSetup make_replica_setup(const ReplicaSource& self, const std::vector<ReplicaChannel>& channels,
                                bool log_replica_updates, const std::string& gtid_slave_pos = "");
nlohmann::json replica_setup_json(const ReplicaSetup& setup);

// The copy of a MySQL replica: its mysqld-auto.cnf, persisting relay_log_recovery=ON and
// skip_replica_start=ON, so that it starts clean with its channels stopped at their consistent
// positions (why: replication.cc).
std::string replica_copy_mysqld_auto_cnf();

// A string literal for SQL: quotes and backslashes escaped.
std::string sql_quoted(const std::string& text);

}  // namespace mysqlclone
