#include "cli/replica_output.h"

#include <fmt/format.h>

namespace mysqlclone {

void print_replica_setup(const ReplicaSetup& setup, innodb::Flavour flavour, FILE* out) {
  if (!setup.channels.empty()) {
    fmt::print(out, "{}:{} is a replica; its {} channel(s) at the copy's consistency point:\n", setup.host, setup.port,
               setup.channels.size());
    for (const ReplicaChannel& c : setup.channels) {
      fmt::print(out, "  channel '{}': source {}:{}", c.name, c.source_host, c.source_port);
      if (!c.source_log_file.empty()) fmt::print(out, ", executed up to {}:{}", c.source_log_file, c.source_log_position);
      fmt::print(out, "{}\n", c.gtid ? " (GTID auto-positioning)" : "");
    }
    if (flavour == innodb::Flavour::kMysql)
      fmt::print(out, "the copy keeps them, stopped: its mysqld-auto.cnf persists relay_log_recovery=ON and "
                 "skip_replica_start=ON\n");
    fmt::print(out, "to make the copy a replica of the same source(s):\n");
    for (const auto& s : setup.from_its_source) fmt::print(out, "  {};\n", s);
  }
  if (setup.from_this_server.empty()) {
    fmt::print(out, "to make the copy a replica of {}:{}: {}\n", setup.host, setup.port, setup.not_offered_because);
    return;
  }
  fmt::print(out, "to make the copy a replica of {}:{}:\n", setup.host, setup.port);
  for (const auto& s : setup.from_this_server) fmt::print(out, "  {};\n", s);
}

void print_recorded_replication(const nlohmann::json& replication, FILE* out) {
  if (!replication.is_object()) return;
  const auto print = [out](const char* what, const nlohmann::json& statements) {
    if (!statements.is_array() || statements.empty()) return;
    fmt::print(out, "{}\n", what);
    for (const auto& s : statements)
      if (s.is_string()) fmt::print(out, "  {};\n", s.get<std::string>());
  };
  if (replication.contains("replica_of"))
    print("to replicate from what the copied server replicates from:",
          replication["replica_of"].value("statements", nlohmann::json()));
  print("to make it a replica of the copied server:", replication.value("statements", nlohmann::json()));
  if (replication.contains("statements_not_offered"))
    fmt::print(out, "no statements to replicate from the copied server: {}\n",
               replication.value("statements_not_offered", ""));
}

}  // namespace mysqlclone
