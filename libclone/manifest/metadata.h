// What a backup directory says about itself. mysqlclone.json is the authority: its "state"
// is "in-progress" from the first byte written, "failed" after an error, and "complete" only
// once every file is durable. Next to it, the files existing scripts parse from XtraBackup
// (xtrabackup_binlog_info, xtrabackup_checkpoints) and backup-my.cnf (what the server
// starting on the copy must be configured with).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "libclone/command/local/local_backup.h"

namespace mysqlclone {

constexpr const char* kMetadataFile = "mysqlclone.json";

// Written first, before any data file: the directory is mysqlclone's and unfinished.
Status write_in_progress_state(const std::string& target, const ServerInfo& server, const std::string& started_at);
// After an error; best effort (the target may be the thing that failed).
void write_failed_state(const std::string& target, const Status& error);

nlohmann::json backup_metadata(const LocalBackupResult& r, const std::string& state);
std::string xtrabackup_binlog_info(const LocalBackupResult& r);
std::string xtrabackup_checkpoints(const LocalBackupResult& r);
std::string backup_my_cnf(const LocalBackupResult& r);

// Writes the three compatibility files (not mysqlclone.json).
Status write_compat_files(const LocalBackupResult& r);
// Writes mysqlclone.json with state "complete": the very last step.
Status write_complete_state(const LocalBackupResult& r);

// Reads DIR/mysqlclone.json; nullopt when there is none (a plain datadir).
Result<std::optional<nlohmann::json>> read_backup_metadata(const std::string& dir);

std::string utc_now_iso8601();

}  // namespace mysqlclone
