// The human lines about replication every copying command prints: the copied server's channels,
// how to make the copy a replica of its source(s), and of the copied server itself (or why not).
#pragma once

#include <cstdio>

#include "libclone/server/replication.h"

namespace mysqlclone {

void print_replica_setup(const ReplicaSetup& setup, innodb::Flavour flavour, FILE* out);

}  // namespace mysqlclone
