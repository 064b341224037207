#include "libclone/command/remote/remote_clone.h"

#include <sys/statvfs.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "libclone/base/path.h"
#include "libclone/command/remote/clone_paths.h"
#include "libclone/command/remote/clone_transport.h"
#include "libclone/io/directory_storage.h"
#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"
#include "libclone/base/text.h"
#include "libclone/manifest/target.h"
#include "libclone/server/server_info.h"
#include "libclone/server/session.h"
#include "libclone/server/session_guard.h"
#include "mysqlclone_version.h"

namespace mysqlclone {
namespace fs = std::filesystem;
using namespace clone;

namespace {

// Socket timeouts on our side: long enough for the donor's backup-lock wait and its longest
// silent phase (it sends keep-alives meanwhile), short enough that a dead peer is noticed.
constexpr unsigned kReadTimeoutSeconds = 900;  // plus the backup-lock wait the user allows
constexpr unsigned kWriteTimeoutSeconds = 600;

// DIR must be new or empty; checked before anything touches the donor.
Status check_target(const std::string& target) {
  std::error_code ec;
  const fs::path t(target);
  if (!fs::exists(t, ec)) return Status::ok();
  if (!fs::is_directory(t, ec)) return Status::error(ExitCode::kPath, target + " exists and is not a directory");
  if (!fs::is_empty(t, ec)) return Status::error(ExitCode::kPath, target + " exists and is not empty");
  return Status::ok();
}

Result<Session> connect(const ConnectionParams& params, bool compress, unsigned ddl_timeout_seconds) {
  const SessionTuning tuning{compress, kReadTimeoutSeconds + ddl_timeout_seconds, kWriteTimeoutSeconds,
                             // packets up to the largest block a donor of any page size sends
                             static_cast<unsigned long>(kMaxPacketBytes)};
  auto s = Session::connect(params, tuning);
  if (s.is_ok()) return s;
  const std::string& why = s.status().message();
  if (params.ssl_mode != SslMode::kDisabled && (why.find("SSL") != std::string::npos || why.find("TLS") != std::string::npos))
    return Status::error(ExitCode::kConnection,
                         why + " (TLS is required by default; --ssl-mode=DISABLED allows plain text)");
  return s;
}

// The donor side of each connection waits on its peer with the session's own timeouts: a
// throttled or slow recipient must not be cut off mid-block, and the aux connection sits idle
// between stage ACKs for as long as a stage takes (wait_timeout), hours on a large donor.
Status tune_donor_session(Session& s) {
  return s.execute("SET SESSION net_write_timeout = 3600, net_read_timeout = 3600, wait_timeout = 604800");
}

Result<DonorFacts> preflight(Session& main, const ConnectionParams& params) {
  DonorFacts f;
  f.host = params.host.empty() ? "localhost" : params.host;
  f.port = params.port;
  const std::string version = main.server_version();
  if (version.find("MariaDB") != std::string::npos)
    return Status::error(ExitCode::kUnsupported,
                         "the donor is MariaDB " + version +
                             ", which has no Clone protocol; use `mysqlclone remote --ssh` (or `mysqlclone local` on the donor's host)");
  auto parsed = parse_server_version(version);
  if (!parsed.is_ok()) return parsed.status();
  if (*parsed < ServerVersion{8, 0, 17})
    return Status::error(ExitCode::kUnsupported, "the donor runs MySQL " + version + "; cloning needs 8.0.17 or later");
  auto info = read_server_info(main);
  if (!info.is_ok()) return info.status();
  f.version = info->version_string;
  f.version_comment = info->version_comment;
  f.compile_os = info->compile_os;
  f.compile_machine = info->compile_machine;
  f.page_size = info->page_size;
  f.lower_case_table_names = std::to_string(info->lower_case_table_names);
  f.data_file_path = info->data_file_path;
  f.character_set_server = info->character_set_server;
  f.collation_server = info->collation_server;
  f.character_set_filesystem = info->character_set_filesystem;
  f.server_uuid = info->server_uuid;
  f.gtid_mode = info->gtid_mode;
  f.log_bin = info->log_bin;
  f.log_replica_updates = info->log_replica_updates;
  // Only a name and a source per channel: their positions travel inside the clone.
  auto channels = read_replica_channels(main, innodb::Flavour::kMysql);
  if (channels.is_ok()) {
    f.channels = std::move(channels).value();
    for (ReplicaChannel& c : f.channels) c.source_log_file.clear();
  } else if (channels.status().code() == ExitCode::kPrivilege) {
    log_warning("cannot tell whether the donor is a replica ({}); if it is, grant REPLICATION CLIENT so that the "
                "clone starts with its channels stopped and clean",
                channels.status().message());
  } else {
    return channels.status();
  }
  if (info->redo_encrypted || info->undo_encrypted)
    return Status::error(ExitCode::kUnsupported,
                         "the donor encrypts its redo or undo log (innodb_redo_log_encrypt / innodb_undo_log_encrypt); "
                         "mysqlclone remote cannot apply encrypted clones yet (use CLONE INSTANCE)");
  auto plugin = main.query_value("SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone'");
  if (!plugin.is_ok()) return plugin.status();
  if (!*plugin)
    return Status::error(ExitCode::kUnsupported,
                         "the donor " + params.describe() +
                             " has no clone plugin; fix on the donor: INSTALL PLUGIN clone SONAME 'mysql_clone.so'");
  if (**plugin != "ACTIVE")
    return Status::error(ExitCode::kUnsupported, "the donor's clone plugin is " + **plugin +
                                                     ", not ACTIVE; fix on the donor: check its error log, or "
                                                     "INSTALL PLUGIN clone SONAME 'mysql_clone.so'");
  auto encrypted = main.query_value("SELECT COUNT(*) FROM information_schema.INNODB_TABLESPACES WHERE ENCRYPTION = 'Y'");
  if (encrypted.is_ok() && *encrypted && **encrypted != "0")
    return Status::error(ExitCode::kUnsupported, "the donor has " + **encrypted +
                                                     " encrypted tablespaces; mysqlclone remote cannot apply encrypted "
                                                     "clones yet (use CLONE INSTANCE)");
  f.tls = main.uses_tls();
  return f;
}

// Every connection of one clone, and the way to stop them all from another thread.
class Connections {
 public:
  explicit Connections(SessionGuard& guard) : guard_(guard) {}
  // Returns the connection's slot; an interrupted clone takes no new connection.
  Result<clone::Transport*> add(std::unique_ptr<clone::Transport> t, unsigned long donor_thread) {
    std::lock_guard lock(mutex_);
    if (aborted_) return Status::error(ExitCode::kInterrupted, "the clone is being stopped");
    guard_.on_death("KILL " + std::to_string(donor_thread));
    transports_.push_back(std::move(t));
    donor_threads_.push_back(donor_thread);
    return transports_.back().get();
  }
  clone::Transport& at(size_t i) {
    std::lock_guard lock(mutex_);
    return *transports_[i];
  }
  size_t size() {
    std::lock_guard lock(mutex_);
    return transports_.size();
  }

  // Ends the clone on the donor first (KILL of its sessions from a fresh connection: the donor
  // then drops the snapshot at once instead of keeping it for a reconnect), then unblocks our
  // own reads.
  void abort_all(const ConnectionParams& params) {
    std::lock_guard lock(mutex_);
    if (aborted_) return;
    aborted_ = true;
    if (auto killer = Session::connect(params); killer.is_ok()) {
      for (unsigned long id : donor_threads_) (void)killer->execute("KILL " + std::to_string(id));
    }
    for (auto& t : transports_) t->abort();
  }

 private:
  SessionGuard& guard_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<clone::Transport>> transports_;
  std::vector<unsigned long> donor_threads_;
  bool aborted_ = false;
};

Result<std::unique_ptr<clone::Transport>> open_clone_connection(const ConnectionParams& params, bool compress,
                                                                unsigned ddl_timeout_seconds, unsigned long& donor_thread) {
  auto session = connect(params, compress, ddl_timeout_seconds);
  if (!session.is_ok()) return session.status();
  if (Status s = tune_donor_session(*session); !s.is_ok()) return s;
  donor_thread = session->thread_id();
  return enter_clone_mode(std::move(*session));
}

// The clone plugin's #view_status, as the stock recipient leaves it after a successful clone:
// state (2 = completed) and clone id, begin and end in microseconds since the epoch, the source,
// error number and message, then binlog file, position and GTID set, which the target server
// fills in from #status_recovery at first start. Without it, performance_schema.clone_status on
// the target stays empty and the recorded position is dropped when the plugin reads it.
std::string view_status(const RemoteCloneResult& r, std::chrono::system_clock::time_point started) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  const auto begin = duration_cast<microseconds>(started.time_since_epoch()).count();
  const auto end = duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return fmt::format("2 1\n{} {}\n{}:{}\n0\n\n\n0\n\n", begin, end, r.donor.host, r.donor.port);
}

Status check_free_space(const std::string& dir, uint64_t needed) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return Status::ok();
  const uint64_t free_bytes = uint64_t(vfs.f_bavail) * vfs.f_frsize;
  if (free_bytes >= needed) return Status::ok();
  return Status::error(ExitCode::kPath, fmt::format("{}: not enough free space: the clone needs about {} MiB, {} MiB free",
                                                    dir, needed >> 20, free_bytes >> 20));
}

// The streams: the main one (which ACKs state ends on the aux connection) and the workers, each
// on its own thread. Workers attach once the main stream runs (the donor adds their tasks to a
// clone in progress). The first failure stops the rest; SIGINT/SIGTERM too.
struct StreamPlan {
  const ConnectionParams& params;
  bool compress;
  unsigned ddl_timeout_seconds;
  unsigned workers;
  const DonorDescription& donor;
  std::string target;
  bool check_space;          // a directory's free space against the donor's estimate
  uint64_t max_block_bytes;  // at the donor's page size
};

Status run_streams(Connections& connections, clone::Transport& aux, Applier& applier, CloneProgress& progress,
                   const StreamPlan& plan) {
  std::mutex mutex;
  std::condition_variable changed;
  Status first_error;
  size_t running = 1 + plan.workers;
  auto fail = [&](Status s) {
    {
      std::lock_guard lock(mutex);
      if (!first_error.is_ok() || s.is_ok()) return;
      first_error = std::move(s);
    }
    applier.cancel();
    connections.abort_all(plan.params);
    aux.abort();
    changed.notify_all();
  };

  const Locator& locator = plan.donor.locators.front();
  auto ack = [&](std::span<const uint8_t> descriptor) { return acknowledge_state(aux, locator, descriptor); };
  // A stream's free space is its reader's concern.
  std::function<Status(uint64_t)> space;
  if (plan.check_space) space = [&](uint64_t bytes) { return check_free_space(plan.target, bytes); };

  auto worker = [&](unsigned index) -> Status {
    unsigned long thread = 0;
    auto opened = open_clone_connection(plan.params, plan.compress, plan.ddl_timeout_seconds, thread);
    if (!opened.is_ok()) return opened.status();
    auto slot = connections.add(std::move(*opened), thread);
    if (!slot.is_ok()) return slot.status();
    if (Status s = attach_worker(**slot, plan.donor.protocol, plan.donor.locators); !s.is_ok()) return s;
    StreamContext context{applier, progress, nullptr, nullptr, plan.max_block_bytes};
    return run_execute_stream(**slot, context).with_context("worker connection " + std::to_string(index));
  };

  std::vector<std::thread> threads;
  for (unsigned i = 0; i <= plan.workers; ++i) {
    threads.emplace_back([&, i] {
      Status s;
      if (i == 0) {
        StreamContext context{applier, progress, ack, space, plan.max_block_bytes};
        s = run_execute_stream(connections.at(0), context);
      } else {
        s = worker(i);
      }
      if (!s.is_ok()) fail(s);
      std::lock_guard lock(mutex);
      --running;
      changed.notify_all();
    });
  }
  {
    std::unique_lock lock(mutex);
    while (running > 0) {
      changed.wait_for(lock, std::chrono::milliseconds(100));
      if (interrupted() && first_error.is_ok()) {
        lock.unlock();
        fail(Status::error(ExitCode::kInterrupted, "interrupted; the clone in " + plan.target + " is incomplete"));
        lock.lock();
      }
    }
  }
  for (auto& t : threads) t.join();
  return first_error;
}


// The target once it exists: its applier (and storage) and its manifest, so that any failure
// can mark it failed.
struct Target {
  std::unique_ptr<Applier> applier;
  Manifest manifest;
};

Result<RemoteCloneResult> clone_into(const RemoteCloneOptions& options, CloneProgress& progress, Target& target) {
  RemoteCloneResult result;
  result.started_at = utc_now_iso8601();
  const auto started = std::chrono::steady_clock::now();
  const auto started_wall = std::chrono::system_clock::now();
  result.streamed = options.stream.has_value();
  if (result.streamed) {
    result.target_dir = options.stream->sink->name();
  } else {
    result.target_dir = absolute_dir(options.target_dir);
    if (Status s = check_target(result.target_dir); !s.is_ok()) return s;
  }

  auto params = resolve_connection(options.connection);
  if (!params.is_ok()) return params.status();
  // Clone data is the whole database: plain text only when asked for by name.
  if (!options.connection.ssl_mode && params->ssl_mode == SslMode::kPreferred) params->ssl_mode = SslMode::kRequired;
  progress.throttle.set_rate(options.max_rate_mib * (1 << 20));

  auto main_session = connect(*params, options.compress, options.ddl_timeout_seconds);
  if (!main_session.is_ok()) return main_session.status();
  auto facts = preflight(*main_session, *params);
  if (!facts.is_ok()) return facts.status();
  result.donor = std::move(*facts);
  auto donor_version = parse_server_version(result.donor.version);
  if (!donor_version.is_ok()) return donor_version.status();
  log_info("donor {} runs MySQL {} ({} {}), page size {}, {}", params->describe(), result.donor.version,
           result.donor.compile_os, result.donor.compile_machine, result.donor.page_size,
           result.donor.tls ? "TLS" : "plain text");

  // Main and aux in clone mode before DIR is created: a refusal (privilege, plugin) leaves
  // nothing behind. Every clone session is known to the guard before it can hold anything: a
  // killed `remote` cannot end its clone, and the donor keeps an abandoned one for
  // clone_donor_timeout_after_network_failure minutes (5 by default) waiting for a reconnect. It
  // holds no lock then, but in its page copy stage it holds every in-place index build and table
  // rebuild (ALTER ... ALGORITHM=INPLACE) until the stage ends. A KILL of its sessions makes the
  // donor drop it at once (session_guard.h).
  auto donor_guard = SessionGuard::start(*params, "its clone on the donor");
  if (!donor_guard.is_ok()) return donor_guard.status();
  Connections connections(**donor_guard);
  if (Status s = tune_donor_session(*main_session); !s.is_ok()) return s;
  const unsigned long main_thread = main_session->thread_id();
  auto main = enter_clone_mode(std::move(*main_session));
  if (!main.is_ok()) return main.status();
  if (auto added = connections.add(std::move(*main), main_thread); !added.is_ok()) return added.status();
  unsigned long aux_thread = 0;
  auto aux = open_clone_connection(*params, false, options.ddl_timeout_seconds, aux_thread);
  if (!aux.is_ok()) return aux.status();
  (*donor_guard)->on_death("KILL " + std::to_string(aux_thread));

  // A stream's names are mapped under a stand-in root: only their part below it is written.
  const ApplyOptions apply{result.streamed ? fs::path("/DIR") : fs::path(result.target_dir), options.allow_absolute_paths,
                           *donor_version};
  StreamStorage* stream = nullptr;
  Result<std::unique_ptr<Applier>> applier = Status::error(ExitCode::kInternal, "no applier");
  if (options.stream) {
    const StreamOutput& out = *options.stream;
    auto storage =
        std::make_unique<StreamStorage>(*out.sink, out.settings, out.compress_threads ? out.compress_threads : options.parallel);
    stream = storage.get();
    if (Status s = stream->start(); !s.is_ok()) return s;
    applier = Applier::begin(apply, std::move(storage));
  } else {
    applier = Applier::begin(apply);
  }
  if (!applier.is_ok()) return applier.status();
  target.applier = std::move(applier).value();
  target.manifest = remote_clone_manifest(result);
  if (Status s = begin_target(target.applier->storage(), target.manifest, StartGuard::kNone); !s.is_ok()) return s;

  // From COM_INIT on the donor holds a snapshot (and, with --block-ddl, its backup lock) for us:
  // whatever ends this early must end it there too, not leave it waiting minutes for a reconnect.
  struct EndDonorCloneUnlessDone {
    Connections& connections;
    clone::Transport& aux;
    const ConnectionParams& params;
    bool done = false;
    ~EndDonorCloneUnlessDone() {
      if (done) return;
      connections.abort_all(params);
      aux.abort();
    }
  } guard{connections, **aux, *params};
  // The donor may wait up to the DDL timeout for its backup lock before it answers COM_INIT:
  // a signal meanwhile must not wait with it.
  std::atomic<bool> initialised{false};
  std::thread interrupt_watch([&] {
    while (!initialised) {
      if (interrupted()) {
        guard.connections.abort_all(*params);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  auto donor = init_clone(connections.at(0), options.ddl_timeout_seconds, options.block_ddl);
  initialised = true;
  interrupt_watch.join();
  if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted; the clone in " + result.target_dir + " is incomplete");
  if (!donor.is_ok()) return donor.status();
  result.donor.protocol = donor->protocol;
  result.donor.plugins = donor->plugins;
  result.donor.collations = donor->collations.size();
  for (const auto& kv : donor->other_configs)
    if (kv.key == "json_configs") result.donor.json_configs = kv.value;
  if (const std::string page = donor->config("innodb_page_size"); !page.empty() && page != std::to_string(result.donor.page_size))
    return Status::error(ExitCode::kProtocol, "the donor's clone reports page size " + page + ", its SQL " +
                                                  std::to_string(result.donor.page_size));

  result.connections = options.parallel;
  result.compressed = options.compress;
  result.block_ddl = options.block_ddl;
  log_info("cloning into {} over {} connection{} (protocol 0x{:04x})", result.target_dir, options.parallel,
           options.parallel == 1 ? "" : "s", donor->protocol);
  const StreamPlan plan{*params,           options.compress,  options.ddl_timeout_seconds,
                        options.parallel - 1, *donor,            result.target_dir,
                        !result.streamed,  max_block_bytes(result.donor.page_size)};
  if (Status s = run_streams(connections, **aux, *target.applier, progress, plan); !s.is_ok()) return s;
  guard.done = true;
  // The clone is complete on the donor's side; leave clone mode cleanly (a failure here costs
  // nothing but a warning: every byte is already ours).
  for (size_t i = connections.size(); i-- > 0;)
    if (Status s = exit_clone(connections.at(i)); !s.is_ok()) log_warning("leaving clone mode: {}", s.message());
  if (Status s = exit_clone(**aux); !s.is_ok()) log_warning("leaving clone mode: {}", s.message());

  if (Status s = target.applier->finish_files(); !s.is_ok()) return s;
  result.files = target.applier->files();
  result.absolute_files = target.applier->absolute_donor_names();
  result.concurrent_ddl = target.applier->concurrent_ddl();
  result.bytes = target.applier->bytes_written();
  result.finished_at = utc_now_iso8601();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // A replica donor's channels come with the clone (InnoDB tables), their relay logs do not: the
  // copy starts them clean and stopped (replica_copy_mysqld_auto_cnf, replication.cc).
  if (!result.donor.channels.empty())
    if (Status s = target.applier->storage().put("mysqld-auto.cnf", replica_copy_mysqld_auto_cnf()); !s.is_ok())
      return s;
  // Complete only after the hand-over: until then DIR is not what the stock server expects.
  if (Status s = target.applier->hand_over(view_status(result, started_wall)); !s.is_ok()) return s;
  target.manifest = remote_clone_manifest(result);
  if (Status s = complete_target(target.applier->storage(), target.manifest, StartGuard::kNone); !s.is_ok()) return s;
  if (stream) {
    // Only now, after the complete manifest: a stream without its end record is never complete.
    if (Status s = stream->finish(); !s.is_ok()) return s;
    result.stream_bytes = stream->bytes_written();
  }
  return result;
}

}  // namespace

Result<RemoteCloneResult> run_remote_clone(const RemoteCloneOptions& options, CloneProgress& progress) {
  Target target;
  auto result = clone_into(options, progress, target);
  if (!result.is_ok() && target.applier) {
    Status s = result.status();
    if (interrupted() && s.code() != ExitCode::kInterrupted)
      s = Status::error(ExitCode::kInterrupted, "interrupted (" + s.message() + "); the clone is incomplete");
    fail_target(target.applier->storage(), target.manifest, s);
    return s;
  }
  return result;
}

namespace {

// Where the clone is a datadir: DIR itself, or, for a stream, the DIR `extract` writes it into.
std::string datadir(const RemoteCloneResult& r) { return r.streamed ? "DIR" : r.target_dir; }

}  // namespace

std::vector<std::string> plugin_libraries(const RemoteCloneResult& r) {
  std::vector<std::string> out;
  for (const auto& p : r.donor.plugins)
    if (!p.shared_object.empty()) out.push_back(p.shared_object);
  return out;
}

std::string suggested_my_cnf(const RemoteCloneResult& r) {
  const DonorFacts& d = r.donor;
  std::string cnf = "[mysqld]\n";
  cnf += "datadir = " + datadir(r) + "\n";
  cnf += fmt::format("innodb_page_size = {}\n", d.page_size);
  cnf += "innodb_data_file_path = " + d.data_file_path + "\n";
  cnf += "lower_case_table_names = " + d.lower_case_table_names + "\n";
  cnf += "character_set_server = " + d.character_set_server + "\n";
  cnf += "collation_server = " + d.collation_server + "\n";
  if (d.gtid_mode == "ON") cnf += "gtid_mode = ON\nenforce_gtid_consistency = ON\n";
  return cnf;
}

ReplicaSource remote_replica_source(const RemoteCloneResult& r) {
  ReplicaSource s;
  s.host = r.donor.host;
  s.port = r.donor.port;
  s.gtid = r.donor.gtid_mode == "ON";
  // Without GTIDs the position is the one the server records at first start.
  s.position_placeholder_hint = "from #clone/#status_recovery";
  s.tls = true;
  return s;
}

ReplicaSetup remote_replica_setup(const RemoteCloneResult& r) {
  return make_replica_setup(remote_replica_source(r), r.donor.channels, r.donor.log_replica_updates);
}

Manifest remote_clone_manifest(const RemoteCloneResult& r) {
  const DonorFacts& d = r.donor;
  nlohmann::json plugins = nlohmann::json::array();
  for (const auto& p : d.plugins) plugins.push_back({{"name", p.name}, {"shared_object", p.shared_object}});
  Manifest m;
  m.kind = "clone";
  m.command = "remote";
  m.started_at = r.started_at;
  m.finished_at = r.finished_at;
  m.seconds = r.seconds;
  m.bytes = r.bytes;
  for (const auto& f : r.files) m.files.push_back({f.path, f.size, "", false, std::nullopt, 0, 0, "", 0, 0});
  nlohmann::json& j = m.sections;
  j["connections"] = r.connections;
  j["block_ddl"] = r.block_ddl;
  j["concurrent_ddl"] = {{"created", r.concurrent_ddl.created},
                         {"renamed", r.concurrent_ddl.renamed},
                         {"deleted", r.concurrent_ddl.deleted}};
  j["compressed"] = r.compressed;
  j["donor"] = {{"host", d.host},
                {"port", d.port},
                {"version", d.version},
                {"version_comment", d.version_comment},
                {"version_compile_os", d.compile_os},
                {"version_compile_machine", d.compile_machine},
                {"innodb_page_size", d.page_size},
                {"lower_case_table_names", d.lower_case_table_names},
                {"innodb_data_file_path", d.data_file_path},
                {"character_set_server", d.character_set_server},
                {"collation_server", d.collation_server},
                {"character_set_filesystem", d.character_set_filesystem},
                {"server_uuid", d.server_uuid},
                {"gtid_mode", d.gtid_mode},
                {"log_bin", d.log_bin},
                {"clone_protocol", fmt::format("0x{:04x}", d.protocol)},
                {"json_configs", d.json_configs},
                {"collations", d.collations},
                {"plugins", plugins},
                {"tls", d.tls}};
  j["target_must_match"] = {
      {"mysqld", "MySQL " + d.version + " on " + d.compile_os + " " + d.compile_machine},
      {"plugins", "every plugin listed under donor.plugins installed or loadable from the target's plugin_dir"},
      {"plugin_libraries", plugin_libraries(r)},
      {"my_cnf", suggested_my_cnf(r)}};
  j["binlog_position"] = {
      {"where", "after the first start: performance_schema.clone_status when the clone plugin is loaded on the "
                "target (it folds #status_recovery in), else DIR/#clone/#status_recovery (lines: start, end, "
                "binlog file, position, GTID set)"},
      {"file", datadir(r) + "/#clone/#status_recovery"},
      {"sql", "SELECT BINLOG_FILE, BINLOG_POSITION, GTID_EXECUTED FROM performance_schema.clone_status"},
      {"gtid_sql", "SELECT @@GLOBAL.gtid_executed"}};
  j["replication"] = replica_setup_json(remote_replica_setup(r));
  j["external_files"] = r.absolute_files;
  return m;
}

}  // namespace mysqlclone
