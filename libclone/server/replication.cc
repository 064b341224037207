#include "libclone/server/replication.h"

#include <chrono>

#include "libclone/base/text.h"

namespace mysqlclone {

std::string sql_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

namespace {

std::string coordinates(const ReplicaSource& r, const char* file_key, const char* pos_key) {
  const std::string file = r.binlog_file.empty() ? sql_quoted("<binlog file " + r.position_placeholder_hint + ">")
                                                 : sql_quoted(r.binlog_file);
  const std::string pos = r.binlog_file.empty() ? "<position " + r.position_placeholder_hint + ">"
                                                : std::to_string(r.binlog_position);
  return std::string(file_key) + "=" + file + ", " + pos_key + "=" + pos;
}

std::vector<std::string> mysql_statements(const std::vector<ReplicaSource>& sources, bool drop_copied_channels) {
  std::vector<std::string> changes, starts;
  if (drop_copied_channels) changes.push_back("RESET REPLICA ALL");
  for (const ReplicaSource& r : sources) {
    const std::string channel =
        r.channel.empty() && sources.size() == 1 ? "" : " FOR CHANNEL " + sql_quoted(r.channel);
    // The copy's gtid_executed is the source's at the consistency point (recovered from the
    // shipped binlog), so GTID auto-positioning needs nothing else; without GTIDs, the binlog
    // coordinates.
    std::string change = "CHANGE REPLICATION SOURCE TO SOURCE_HOST=" + sql_quoted(r.host) +
                         ", SOURCE_PORT=" + std::to_string(r.port) +
                         ", SOURCE_USER='REPLICATION_USER', SOURCE_PASSWORD='REPLICATION_PASSWORD', "
                         "GET_SOURCE_PUBLIC_KEY=1, ";
    if (r.tls) change += "SOURCE_SSL=1, ";
    change += r.gtid ? "SOURCE_AUTO_POSITION=1"
                     : "SOURCE_AUTO_POSITION=0, " + coordinates(r, "SOURCE_LOG_FILE", "SOURCE_LOG_POS");
    changes.push_back(change + channel);
    starts.push_back("START REPLICA" + channel);
  }
  changes.insert(changes.end(), starts.begin(), starts.end());
  return changes;
}

std::vector<std::string> mariadb_statements(const std::vector<ReplicaSource>& sources) {
  // A restored MariaDB has an empty gtid_current_pos: the position lives only in the metadata.
  std::vector<std::string> out, starts;
  for (const ReplicaSource& r : sources) {
    if (!r.gtid) continue;
    out.push_back("SET GLOBAL gtid_slave_pos = " + sql_quoted(r.gtid_set));
    break;  // one server-wide value (every source carries the same)
  }
  for (const ReplicaSource& r : sources) {
    const std::string connection = r.channel.empty() ? "" : " " + sql_quoted(r.channel);
    std::string change = "CHANGE MASTER" + connection + " TO MASTER_HOST=" + sql_quoted(r.host) +
                         ", MASTER_PORT=" + std::to_string(r.port) +
                         ", MASTER_USER='REPLICATION_USER', MASTER_PASSWORD='REPLICATION_PASSWORD', ";
    if (r.tls) change += "MASTER_SSL=1, ";
    change += r.gtid ? "MASTER_USE_GTID=slave_pos"
                     : "MASTER_USE_GTID=no, " + coordinates(r, "MASTER_LOG_FILE", "MASTER_LOG_POS");
    out.push_back(change);
    starts.push_back("START SLAVE" + connection);
  }
  out.insert(out.end(), starts.begin(), starts.end());
  return out;
}

}  // namespace

std::vector<std::string> replica_statements(const std::vector<ReplicaSource>& sources, bool drop_copied_channels) {
  if (sources.empty()) return {};
  return sources.front().flavour == innodb::Flavour::kMysql ? mysql_statements(sources, drop_copied_channels)
                                                            : mariadb_statements(sources);
}

ReplicaSetup make_replica_setup(const ReplicaSource& self, const std::vector<ReplicaChannel>& channels,
                                bool log_replica_updates, const std::string& gtid_slave_pos) {
  ReplicaSetup setup;
  setup.host = self.host;
  setup.port = self.port;
  setup.channels = channels;
  const bool mysql = self.flavour == innodb::Flavour::kMysql;
  const bool replica = !channels.empty();
  if (replica && !log_replica_updates)
    setup.not_offered_because = "not offered: " + self.host + ":" + std::to_string(self.port) +
                                " does not write what it replicates to its binlog (" +
                                (mysql ? "log_replica_updates" : "log_slave_updates") +
                                "=OFF), so a replica of it would never receive its source's changes";
  else
    setup.from_this_server = replica_statements({self}, mysql && replica);
  std::vector<ReplicaSource> upstream;
  for (const ReplicaChannel& c : channels) {
    ReplicaSource s;
    s.flavour = self.flavour;
    s.host = c.source_host;
    s.port = c.source_port;
    s.channel = c.name;
    s.gtid = c.gtid;
    s.gtid_set = gtid_slave_pos;
    s.binlog_file = c.source_log_file;
    s.binlog_position = c.source_log_position;
    s.position_placeholder_hint = "from SHOW REPLICA STATUS on the started copy";
    s.tls = c.tls;
    upstream.push_back(std::move(s));
  }
  setup.from_its_source = replica_statements(upstream);
  return setup;
}

nlohmann::json replica_setup_json(const ReplicaSetup& setup) {
  nlohmann::json j = {{"source_host", setup.host}, {"source_port", setup.port}, {"statements", setup.from_this_server}};
  if (!setup.not_offered_because.empty()) j["statements_not_offered"] = setup.not_offered_because;
  if (setup.channels.empty()) return j;
  nlohmann::json channels = nlohmann::json::array();
  for (const ReplicaChannel& c : setup.channels) {
    nlohmann::json e = {
        {"name", c.name}, {"source_host", c.source_host}, {"source_port", c.source_port}, {"gtid", c.gtid}};
    if (!c.source_log_file.empty()) {
      e["source_log_file"] = c.source_log_file;
      e["source_log_position"] = c.source_log_position;
    }
    channels.push_back(std::move(e));
  }
  j["replica_of"] = {{"channels", channels}, {"statements", setup.from_its_source}};
  return j;
}

// The copy of a MySQL replica carries the replica's channels: their metadata lives in InnoDB
// tables of mysql.ibd (slave_master_info, slave_relay_log_info, slave_worker_info), which we
// neither leave out nor edit, while the relay logs they point into are not copied (half-written
// files of the source's own life). Started as it is, the server fails to open those relay logs and
// logs [ERROR]s, and the channels are unusable until RESET REPLICA. Two settings, persisted in
// the copy's mysqld-auto.cnf (read from the datadir at every start, over any my.cnf), make it
// start clean and stay put:
// - relay_log_recovery=ON: at start each channel drops its relay log and sets its receiver to the
//   applier's source position in slave_relay_log_info, which InnoDB committed together with the
//   data (crash-safe replication), so it is the copy's own consistency point; with GTID
//   auto-positioning the copy's gtid_executed decides anyway. The stock server does exactly this
//   by itself after an in-place clone ("Applier metadata information for channel '' was found
//   after a clone operation. Relay log recovery will be executed"), not after a DATA DIRECTORY
//   clone, whose first start logs the same [ERROR]s.
// - skip_replica_start=ON: the copy never connects to its source by itself (a restore test, a
//   copy on another network, a new host being set up); a DBA starts it with the printed
//   statements or a plain START REPLICA, and RESET PERSIST removes both settings.
// XtraBackup's documentation asks the same of a restored replica by hand.
std::string replica_copy_mysqld_auto_cnf() {
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const nlohmann::json metadata = {{"Timestamp", now}, {"User", "mysqlclone"}, {"Host", ""}};
  const nlohmann::json doc = {
      {"Version", 2},
      {"mysql_static_variables",
       {{"relay_log_recovery", {{"Value", "ON"}, {"Metadata", metadata}}},
        {"skip_replica_start", {{"Value", "ON"}, {"Metadata", metadata}}}}}};
  return doc.dump() + "\n";
}

Result<std::vector<ReplicaChannel>> read_replica_channels(Session& session, innodb::Flavour flavour) {
  const bool mysql = flavour == innodb::Flavour::kMysql;
  // MySQL names the columns Source/Replica, MariaDB Master/Slave.
  const std::string source = mysql ? "Source" : "Master";
  auto status = session.query_named(mysql ? "SHOW REPLICA STATUS" : "SHOW ALL SLAVES STATUS");
  if (!status.is_ok()) return status.status().with_context("reading the replication channels");
  std::vector<ReplicaChannel> channels;
  for (const Row& row : status->rows) {
    ReplicaChannel c;
    c.name = status->get(row, mysql ? "Channel_Name" : "Connection_name");
    c.source_host = status->get(row, source + "_Host");
    c.source_log_file = status->get(row, "Relay_" + source + "_Log_File");
    c.gtid = mysql ? status->get(row, "Auto_Position") == "1" : status->get(row, "Using_Gtid") != "No";
    c.tls = status->get(row, source + "_SSL_Allowed") == "Yes";
    c.applier_running = status->get(row, mysql ? "Replica_SQL_Running" : "Slave_SQL_Running") == "Yes";
    const std::string what = "channel '" + printable(c.name) + "' of SHOW REPLICA STATUS: ";
    auto port = parse_u64(status->get(row, source + "_Port"), what + source + "_Port", 65535);
    auto exec = parse_u64(status->get(row, "Exec_" + source + "_Log_Pos"), what + "Exec_" + source + "_Log_Pos");
    auto relay = parse_u64(status->get(row, "Relay_Log_Pos"), what + "Relay_Log_Pos");
    for (const auto* n : {&port, &exec, &relay})
      if (!n->is_ok()) return n->status();
    c.source_port = unsigned(*port);
    c.source_log_position = *exec;
    c.relay_log_position = *relay;
    channels.push_back(std::move(c));
  }
  return channels;
}

}  // namespace mysqlclone
