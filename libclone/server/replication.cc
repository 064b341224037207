#include "libclone/server/replication.h"

namespace mysqlclone {

std::vector<std::string> replica_statements(const LocalBackupResult& r) {
  const std::string host = "'" + r.source_host + "'";
  const std::string port = std::to_string(r.source_port);
  if (r.server.flavour == innodb::Flavour::kMysql) {
    // The copy's gtid_executed is the source's at E (recovered from the shipped binlog), so
    // GTID auto-positioning needs nothing else; without GTIDs, the binlog coordinates.
    std::string change = "CHANGE REPLICATION SOURCE TO SOURCE_HOST=" + host + ", SOURCE_PORT=" + port +
                         ", SOURCE_USER='REPLICATION_USER', SOURCE_PASSWORD='REPLICATION_PASSWORD', "
                         "GET_SOURCE_PUBLIC_KEY=1, ";
    if (!r.end.gtid.empty())
      change += "SOURCE_AUTO_POSITION=1";
    else
      change += "SOURCE_LOG_FILE='" + r.end.binlog_file + "', SOURCE_LOG_POS=" + std::to_string(r.end.binlog_position);
    return {change, "START REPLICA"};
  }
  // A restored MariaDB has an empty gtid_current_pos: the position lives only in the metadata.
  std::vector<std::string> out;
  std::string change = "CHANGE MASTER TO MASTER_HOST=" + host + ", MASTER_PORT=" + port +
                       ", MASTER_USER='REPLICATION_USER', MASTER_PASSWORD='REPLICATION_PASSWORD', ";
  if (!r.end.gtid.empty()) {
    out.push_back("SET GLOBAL gtid_slave_pos = '" + r.end.gtid + "'");
    change += "MASTER_USE_GTID=slave_pos";
  } else {
    change += "MASTER_LOG_FILE='" + r.end.binlog_file + "', MASTER_LOG_POS=" + std::to_string(r.end.binlog_position);
  }
  out.push_back(change);
  out.push_back("START SLAVE");
  return out;
}

}  // namespace mysqlclone
