// `mysqlclone remote`: pulls a clone of a MySQL donor over the Clone protocol into a new
// directory, with no server on this host and nothing installed on the donor beyond its stock
// clone plugin. The stock mysqld of the donor's version starts on the result; its crash
// recovery and the clone fix-ups (triggered by the #clone/ markers) finish the job at first start.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libclone/command/remote/clone_apply.h"
#include "libclone/command/remote/clone_stream.h"
#include "libclone/io/stream_storage.h"
#include "libclone/manifest/manifest.h"
#include "libclone/server/connection.h"
#include "libclone/server/replication.h"
#include "libclone/base/status.h"

namespace mysqlclone {

struct RemoteCloneOptions {
  ConnectionOptions connection;
  std::string target_dir;              // unless `stream`
  std::optional<StreamOutput> stream;  // `remote --stream`: the clone as a stream for `extract`
  unsigned parallel = 4;  // data connections in total: the main one plus parallel-1 workers
  bool compress = false;  // the client protocol's compression on every clone connection
  double max_rate_mib = 0;
  bool allow_absolute_paths = false;
  // Ask the donor for its backup lock (as before 8.0.27): no DDL on the donor for the whole
  // clone, and for as long as the donor waits for a recipient that died without a word
  // (clone_donor_timeout_after_network_failure, 5 min by default). Off: the donor takes no lock
  // and the clone applies its DDL (clone_apply.h).
  bool block_ddl = false;
  unsigned ddl_timeout_seconds = 300;  // how long the donor may wait for its backup lock
};

// What the target mysqld must match, as the donor reports it.
struct DonorFacts {
  std::string host;
  unsigned port = 0;
  std::string version, version_comment, compile_os, compile_machine;
  unsigned page_size = 0;
  std::string lower_case_table_names, data_file_path, character_set_server, collation_server,
      character_set_filesystem, server_uuid, gtid_mode;
  bool log_bin = false;
  bool log_replica_updates = false;
  // A replica donor's channels when the clone started (their positions are in the clone: the
  // cloned applier metadata); empty when it is not one, or the account may not see them.
  std::vector<ReplicaChannel> channels;
  uint32_t protocol = 0;
  std::vector<clone::PluginV2> plugins;
  size_t collations = 0;
  std::string json_configs;  // protocol V4: {"version":...,"maturity":...}
  bool tls = false;
};

struct RemoteCloneResult {
  std::string target_dir;  // absolute; with --stream, the stream's name ("stdout")
  bool streamed = false;
  uint64_t stream_bytes = 0;
  DonorFacts donor;
  unsigned connections = 0;
  bool compressed = false;
  std::vector<clone::AppliedFile> files;
  std::vector<std::string> absolute_files;  // donor paths parked under DIR/#external
  bool block_ddl = false;
  clone::ConcurrentDdl concurrent_ddl;
  uint64_t bytes = 0;
  double seconds = 0;
  std::string started_at, finished_at;
};

Result<RemoteCloneResult> run_remote_clone(const RemoteCloneOptions& options, clone::CloneProgress& progress);

// The manifest written to DIR/mysqlclone.json (and printed with --json): the donor's facts,
// what the target mysqld must match (with a my.cnf fragment), where the snapshot's binlog/GTID
// position appears, and how to make DIR a replica.
Manifest remote_clone_manifest(const RemoteCloneResult& result);
std::string suggested_my_cnf(const RemoteCloneResult& result);
// The shared objects of the donor's loadable plugins, which the target's plugin_dir must hold.
std::vector<std::string> plugin_libraries(const RemoteCloneResult& result);
ReplicaSource remote_replica_source(const RemoteCloneResult& result);
ReplicaSetup remote_replica_setup(const RemoteCloneResult& result);

}  // namespace mysqlclone
