#include "cli/replica_output.h"

#include <fmt/format.h>

namespace mysqlclone {

void print_replica_setup(const ReplicaSetup& setup, innodb::Flavour flavour) {
  if (!setup.channels.empty()) {
    fmt::print("{}:{} is a replica; its {} channel(s) at the copy's consistency point:\n", setup.host, setup.port,
               setup.channels.size());
    for (const ReplicaChannel& c : setup.channels) {
      fmt::print("  channel '{}': source {}:{}", c.name, c.source_host, c.source_port);
      if (!c.source_log_file.empty()) fmt::print(", executed up to {}:{}", c.source_log_file, c.source_log_position);
      fmt::print("{}\n", c.gtid ? " (GTID auto-positioning)" : "");
    }
    if (flavour == innodb::Flavour::kMysql)
      fmt::print("the copy keeps them, stopped: its mysqld-auto.cnf persists relay_log_recovery=ON and "
                 "skip_replica_start=ON\n");
    fmt::print("to make the copy a replica of the same source(s):\n");
    for (const auto& s : setup.from_its_source) fmt::print("  {};\n", s);
  }
  if (setup.from_this_server.empty()) {
    fmt::print("to make the copy a replica of {}:{}: {}\n", setup.host, setup.port, setup.not_offered_because);
    return;
  }
  fmt::print("to make the copy a replica of {}:{}:\n", setup.host, setup.port);
  for (const auto& s : setup.from_this_server) fmt::print("  {};\n", s);
}

}  // namespace mysqlclone
