// What a backup directory says about itself beyond the common manifest: the `local` sections of
// mysqlclone.json (LSNs, binlog/GTID position, timings), and next to it the files existing
// scripts parse from XtraBackup (xtrabackup_binlog_info, xtrabackup_checkpoints) and backup-my.cnf
// (what the server starting on the copy must be configured with).
#pragma once

#include <string>

#include "libclone/command/local/local_backup.h"
#include "libclone/io/storage.h"
#include "libclone/manifest/manifest.h"
#include "libclone/server/replication.h"

namespace mysqlclone {

// The manifest of a finished (or finishing) backup: common keys, files, and local's sections.
Manifest backup_manifest(const LocalBackupResult& r);
// Where a replica of the copy's source starts: the copy's consistency point.
ReplicaSource replica_source(const LocalBackupResult& r);
// How to make the started copy a replica (mysqlclone.json "replication", the CLI's output).
ReplicaSetup replica_setup(const LocalBackupResult& r);
// The copy of a replica: each channel's place in its source, as XtraBackup / mariadb-backup
// write it (CHANGE ... statements); "" for a server that is not a replica.
std::string xtrabackup_slave_info(const LocalBackupResult& r);
// MySQL copy of a replica: persisted settings the server reads from its datadir at every start
// (relay_log_recovery, skip_replica_start; see write_compat_files); "" otherwise.
std::string mysqld_auto_cnf(const LocalBackupResult& r);
std::string xtrabackup_binlog_info(const LocalBackupResult& r);
std::string xtrabackup_checkpoints(const LocalBackupResult& r);
std::string backup_my_cnf(const LocalBackupResult& r);

// Writes the compatibility files (not mysqlclone.json): the three always, and for the copy of
// a replica xtrabackup_slave_info and (MySQL) mysqld-auto.cnf.
Status write_compat_files(Storage& storage, const LocalBackupResult& r);

}  // namespace mysqlclone
