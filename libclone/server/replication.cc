#include "libclone/server/replication.h"

namespace mysqlclone {

std::vector<std::string> replica_statements(const ReplicaSource& r) {
  const std::string host = "'" + r.host + "'";
  const std::string port = std::to_string(r.port);
  const std::string file =
      r.binlog_file.empty() ? "'<binlog file " + r.position_placeholder_hint + ">'" : "'" + r.binlog_file + "'";
  const std::string pos =
      r.binlog_file.empty() ? "<position " + r.position_placeholder_hint + ">" : std::to_string(r.binlog_position);
  if (r.flavour == innodb::Flavour::kMysql) {
    // The copy's gtid_executed is the source's at the consistency point (recovered from the
    // shipped binlog), so GTID auto-positioning needs nothing else; without GTIDs, the binlog
    // coordinates.
    std::string change = "CHANGE REPLICATION SOURCE TO SOURCE_HOST=" + host + ", SOURCE_PORT=" + port +
                         ", SOURCE_USER='REPLICATION_USER', SOURCE_PASSWORD='REPLICATION_PASSWORD', "
                         "GET_SOURCE_PUBLIC_KEY=1, ";
    if (r.tls) change += "SOURCE_SSL=1, ";
    change += r.gtid ? "SOURCE_AUTO_POSITION=1" : "SOURCE_LOG_FILE=" + file + ", SOURCE_LOG_POS=" + pos;
    return {change, "START REPLICA"};
  }
  // A restored MariaDB has an empty gtid_current_pos: the position lives only in the metadata.
  std::vector<std::string> out;
  std::string change = "CHANGE MASTER TO MASTER_HOST=" + host + ", MASTER_PORT=" + port +
                       ", MASTER_USER='REPLICATION_USER', MASTER_PASSWORD='REPLICATION_PASSWORD', ";
  if (r.tls) change += "MASTER_SSL=1, ";
  if (r.gtid) {
    out.push_back("SET GLOBAL gtid_slave_pos = '" + r.gtid_set + "'");
    change += "MASTER_USE_GTID=slave_pos";
  } else {
    change += "MASTER_LOG_FILE=" + file + ", MASTER_LOG_POS=" + pos;
  }
  out.push_back(change);
  out.push_back("START SLAVE");
  return out;
}

}  // namespace mysqlclone
