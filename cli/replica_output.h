// The human lines about replication every copying command prints: the copied server's channels,
// how to make the copy a replica of its source(s), and of the copied server itself (or why not).
#pragma once

#include <cstdio>

#include <nlohmann/json.hpp>

#include "libclone/server/replication.h"

namespace mysqlclone {

void print_replica_setup(const ReplicaSetup& setup, innodb::Flavour flavour, FILE* out);

// The statements exactly as a backup recorded them (mysqlclone.json "replication"), for the
// commands that write a backup they did not take (extract, restore).
void print_recorded_replication(const nlohmann::json& replication, FILE* out);

}  // namespace mysqlclone
