#include "libclone/command/local/local_backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "libclone/datadir/datadir.h"
#include "libclone/datadir/datadir_files.h"
#include "libclone/io/directory_storage.h"
#include "libclone/io/hashing_storage.h"
#include "libclone/io/stream_storage.h"
#include "libclone/base/interrupt.h"
#include "libclone/base/log.h"
#include "libclone/command/local/backup_files.h"
#include "libclone/command/local/ddl_window.h"
#include "libclone/command/local/incremental_base.h"
#include "libclone/server/page_tracking.h"
#include "libclone/manifest/repository.h"
#include "libclone/manifest/target.h"
#include "libclone/base/parallel.h"
#include "libclone/server/applier_pause.h"
#include "libclone/server/lock_wait.h"
#include "libclone/base/text.h"
#include "libclone/server/preflight.h"
#include "libclone/io/read_file.h"
#include "libclone/redo/redo_archiver.h"
#include "libclone/datadir/tablespace_header.h"

namespace mysqlclone {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

Status check_interrupt() {
  return interrupted() ? Status::error(ExitCode::kInterrupted, "interrupted by a signal; the target is incomplete")
                       : Status::ok();
}

// Everything one backup run shares.
struct Context {
  const LocalBackupOptions& options;
  BackupProgress& progress;
  Session session;
  LocalBackupResult result;
  DatadirInventory inventory;
  OtherFiles others;
  innodb::TablespaceFormat fallback_format;
  std::unique_ptr<Storage> storage;
  StreamStorage* stream = nullptr;  // `storage`, with --stream
  // `storage` for what is written besides the copied files (the redo in the server's format,
  // the binlog index, the metadata): listed in mysqlclone.json with their SHA-256 like the data.
  std::unique_ptr<HashingStorage> recorded;
  Manifest manifest;
  std::shared_ptr<const IncrementalBase> base;  // --incremental-from
  std::shared_ptr<const ChangedPages> changed_pages;  // an incremental by page tracking
  std::unique_ptr<RedoArchiver> archiver;
  std::mutex files_mutex;
  // rel_path -> index in result.files: a server may have tens of thousands of files, too many
  // to search the list for each one.
  std::unordered_map<std::string, size_t> file_index;
  bool replica = false;  // the server has replication channels
  // --lock-ddl=reduced, MySQL: every index id before the copy (ddl_window.h), and a session of
  // its own to read them again in the final phase while the files are looked at; the statement
  // counters and processlist read just before those ids, which may spare that second read, and
  // what the final phase chose (written by its dictionary task, read once that has ended).
  std::unordered_set<uint64_t> index_ids_at_start;
  DdlWatch ddl_watch;
  IndexIdsChoice index_ids_choice;
  std::optional<Session> dictionary_session;
  // --lock-ddl=reduced: page 0 of the tablespaces as read just before the final phase.
  SpaceIdReads space_ids_before_lock;
  // Directories of the copy that DDL may have emptied (files removed or moved away): dropped
  // once the final listing says the server has no such directory any more.
  std::set<std::string> emptied_dirs;
  // --safe-replica-backup's stopped appliers; on an error, started again right after the
  // session's locks are gone (run_local_backup), before anything else is cleaned up.
  std::unique_ptr<ApplierPause> pause;

  const ServerInfo& info() const { return result.server; }
  bool mysql() const { return info().flavour == innodb::Flavour::kMysql; }
  bool ddl_runs_during_copy() const { return options.lock_ddl == LockDdl::kReduced; }

  void index_files() {
    file_index.clear();
    for (size_t i = 0; i < result.files.size(); ++i) file_index.emplace(result.files[i].rel_path, i);
  }

  // Takes the files flagged in `drop` (by index in result.files) out of the result; the caller
  // removed them from the storage.
  void forget_files(const std::vector<bool>& drop) {
    std::vector<CopiedFile> kept;
    for (size_t i = 0; i < result.files.size(); ++i) {
      if (drop[i])
        count_file(result.files[i], -1);
      else
        kept.push_back(std::move(result.files[i]));
    }
    result.files = std::move(kept);
    index_files();
  }

  void add_files(std::vector<CopiedFile> files) {
    std::lock_guard lock(files_mutex);
    for (auto& f : files) {
      count_file(f, 1);
      auto [at, added] = file_index.emplace(f.rel_path, result.files.size());
      if (added) {
        result.files.push_back(std::move(f));
      } else {  // a re-copy replaces the first one, in the totals too
        count_file(result.files[at->second], -1);
        result.files[at->second] = std::move(f);
      }
    }
  }

  // Adds a file's bytes into the result's totals (sign 1) or takes them out (-1).
  void count_file(const CopiedFile& f, int sign) {
    const auto add = [sign](uint64_t& total, uint64_t n) { total = sign > 0 ? total + n : total - n; };
    add(result.bytes, f.bytes);
    add(result.shared_bytes, f.shared_bytes);
    if (result.incremental && f.tablespace) {
      IncrementalResult& inc = *result.incremental;
      add(inc.scanned_bytes, f.read_bytes);
      add(f.delta_of.empty() ? inc.whole_tablespace_files : inc.delta_files, 1);
      add(inc.delta_pages, f.delta_pages);
    }
  }
};

// ---- steps shared by both flavours ----------------------------------------------------------

// Every lock statement waits at most --lock-wait-timeout and not past a signal (lock_wait.h).
Result<LockWait> lock_wait(Context& c) {
  auto params = resolve_connection(c.options.connection);
  if (!params.is_ok()) return params.status();
  return LockWait{*params, c.info().flavour, c.options.lock_wait_timeout_seconds};
}

Status take_lock(Context& c, const std::string& sql) {
  auto wait = lock_wait(c);
  if (!wait.is_ok()) return wait.status();
  return run_lock_statement(c.session, *wait, sql);
}

// MySQL: the dictionary's index ids before the copy, for spaces_with_new_indexes; and before
// them the statement counters and the processlist, which may let it skip reading them again
// (ddl_window.h: the counters, then the processlist, then the ids, in that order).
Status remember_index_ids(Context& c) {
  auto wait = lock_wait(c);
  if (!wait.is_ok()) return wait.status();
  c.ddl_watch = watch_for_ddl(c.session);
  if (c.ddl_watch.counters)
    log_info("statement counters read and no statement that may build an index running: the final phase reads the "
             "dictionary's index ids again only if one is counted meanwhile");
  else
    log_info("the final phase will read the dictionary's index ids again: {}", c.ddl_watch.closed_because);
  auto ids = mysql_index_ids(c.session, *wait);
  if (!ids.is_ok()) return ids.status();
  c.index_ids_at_start = std::move(ids).value();
  return Status::ok();
}

// The tablespaces that got an index since the copy began: on MySQL, built sorted without redo,
// so what was copied of them cannot be repaired by recovery. None on MariaDB (it logs them).
// Asked on the dictionary session (prepare_final_phase), so it can run beside the main one.
// With DDL blocked, the statement counters first: unchanged (but for statements that never build
// an index) since before the copy, no index was built meanwhile and the dictionary is not read.
Result<std::unordered_set<innodb::SpaceId>> spaces_with_new_indexes(Context& c, const LockWait& wait) {
  if (!c.mysql()) return std::unordered_set<innodb::SpaceId>{};
  c.index_ids_choice = choose_index_ids_read(c.ddl_watch, read_statement_counters(*c.dictionary_session));
  if (!c.index_ids_choice.read_dictionary) {
    log_info("final phase: {}: the dictionary's index ids are not read again", c.index_ids_choice.why);
    return std::unordered_set<innodb::SpaceId>{};
  }
  log_info("final phase: {}: reading the dictionary's index ids", c.index_ids_choice.why);
  return mysql_spaces_with_new_indexes(*c.dictionary_session, wait, c.index_ids_at_start);
}

// The InnoDB tablespaces (with --lock-ddl=reduced while DDL runs: what is gone by the time it is
// copied is left out, what appears later is found by the final phase).
Status scan_innodb(Context& c) {
  auto inv = scan_datadir(c.info().datadir);
  if (!inv.is_ok()) return inv.status().with_context("reading the server's datadir");
  if (inv->flavour != c.info().flavour)
    return Status::error(ExitCode::kPath, c.info().datadir + " does not look like a " + flavour_name(c.info().flavour) +
                                              " datadir");
  c.inventory = std::move(inv).value();
  auto ibdata1 = ReadFile::open(c.info().datadir + "/" + c.inventory.tablespaces.front().files.front().rel_path);
  if (!ibdata1.is_ok()) return ibdata1.status();
  auto instance = read_instance_format(*ibdata1, c.info().flavour);
  if (!instance.is_ok()) return Status::error(ExitCode::kSourceIo, instance.status().message());
  c.fallback_format = innodb::default_format(instance->page_size, c.info().flavour);
  c.fallback_format.full_crc32 = instance->full_crc32;
  return Status::ok();
}

std::string parent_dir(const std::string& rel_path) {
  const auto slash = rel_path.rfind('/');
  return slash == std::string::npos ? "" : rel_path.substr(0, slash);
}

// Everything else, listed again; the last listing is taken with DDL blocked: the SQL layer's
// files and the schema directories are then what they are at the end. A file copied from an
// earlier listing keeps what it was when copied (copy_other_files takes it again once it
// changed); one no longer there (a table dropped or renamed) leaves the copy.
Status scan_others(Context& c) {
  auto others = classify_other_files(c.info().datadir, c.info().flavour);
  if (!others.is_ok()) return others.status();
  std::unordered_map<std::string, FileStamp> copied;
  for (const DatadirFile& f : c.others.files)
    if (f.copied) copied.emplace(f.rel_path, *f.copied);
  for (DatadirFile& f : others->files)
    if (auto it = copied.find(f.rel_path); it != copied.end()) {
      f.copied = it->second;
      copied.erase(it);
    }
  std::vector<bool> drop(c.result.files.size(), false);
  for (const auto& [rel_path, stamp] : copied) {
    if (Status s = c.storage->remove(rel_path); !s.is_ok()) return s;
    drop[c.file_index.at(rel_path)] = true;
    c.emptied_dirs.insert(parent_dir(rel_path));
  }
  if (!copied.empty()) c.forget_files(drop);
  c.others = std::move(others).value();
  return Status::ok();
}

// Once, after the last listing.
void warn_of_unknown_files(const Context& c) {
  std::vector<std::string> unknown;
  for (const DatadirFile& f : c.others.files)
    if (!f.known) unknown.push_back(f.rel_path);
  if (unknown.empty()) return;
  std::string list;
  for (size_t i = 0; i < unknown.size() && i < 5; ++i) list += (i ? ", " : "") + printable(unknown[i]);
  log_warning("{} file(s) in the datadir belong to no known table or server file and are not copied: {}{}",
              unknown.size(), list, unknown.size() > 5 ? ", ..." : "");
}

// Copies whole tablespaces, largest first; threads that find none left to start help with the
// large files still in copy (CopyHelp), so the copy does not end with one thread on one big file.
// `ddl_may_run`: a tablespace dropped or still being created is left out (file_copy.h).
// `final_phase`: the tablespaces DDL changed during the copy, taken again with DDL blocked.
Status copy_tablespaces(Context& c, std::vector<const TablespaceEntry*> work, bool ddl_may_run, bool final_phase) {
  std::sort(work.begin(), work.end(), [](auto* a, auto* b) { return a->total_size() > b->total_size(); });
  uint64_t total = 0;
  for (auto* t : work) total += t->total_size();
  c.progress.copy.total_bytes += total;
  log_info("copying {} InnoDB tablespaces ({} MiB) with {} threads{}", work.size(), total >> 20,
           resolve_threads(c.options.parallel), ddl_may_run ? ", DDL not blocked" : "");
  CopyOptions options = c.options.copy;
  options.keep_going = [&c] { return c.archiver->health(); };
  options.ddl_may_run = ddl_may_run;
  // Pages are selected by reading every page of every file (a scan): the cost follows the data
  // size, not the changes.
  if (c.base) {
    options.incremental = incremental_copy(c.base);
    // The list was taken before the copy: an index built since (sorted, without redo) wrote pages
    // that are in no list and no redo. The final phase, which copies such tablespaces again,
    // finds the changed pages by their LSN.
    if (c.changed_pages && !final_phase)
      options.incremental->changed_pages = [changed = c.changed_pages](innodb::SpaceId space) {
        auto it = changed->find(space);
        return it == changed->end() ? std::span<const innodb::PageNo>() : std::span<const innodb::PageNo>(it->second);
      };
  }
  const unsigned threads = resolve_threads(c.options.parallel);
  CopyHelp help(work.size());
  options.help = &help;
  // Every tablespace is handed to a thread before any helper item: a thread whose tablespace is
  // done takes one of these and helps until every tablespace is.
  return run_parallel(work.size() + threads - 1, threads, [&](size_t i) -> Status {
    if (i >= work.size()) {
      help.help();
      return Status::ok();
    }
    auto files = copy_tablespace(c.info().datadir, *work[i], c.fallback_format, *c.storage, options, c.progress.copy);
    help.tablespace_done(files.is_ok());
    if (!files.is_ok()) return files.status();
    if (files->empty()) c.progress.copy.total_bytes -= work[i]->total_size();  // left for the final phase
    c.add_files(std::move(files).value());
    return Status::ok();
  });
}

Status copy_innodb(Context& c) {
  std::vector<const TablespaceEntry*> work;
  for (const auto& t : c.inventory.tablespaces)
    if (t.kind != TablespaceKind::kTemporary) work.push_back(&t);
  return copy_tablespaces(c, std::move(work), c.ddl_runs_during_copy(), false);
}

// --lock-ddl=reduced, with DDL blocked: brings the copy in line with the server's tablespaces
// (tablespace_changes.h). Removes, then moves through temporary names, then copies whole.
Status apply_ddl_of_copy_window(Context& c) {
  const auto begun = Clock::now();
  // MySQL: the dictionary takes about as long to answer as the files (it opens every table), on
  // a session of its own meanwhile. Asked only now, with DDL blocked: it must see every index.
  auto wait = lock_wait(c);
  if (!wait.is_ok()) return wait.status();
  auto rewritten_future = std::async(std::launch::async, [&c, &wait] { return spaces_with_new_indexes(c, *wait); });
  auto inv = scan_datadir(c.info().datadir);
  if (!inv.is_ok()) return inv.status().with_context("reading the server's datadir");
  c.inventory = std::move(inv).value();
  const auto listed = Clock::now();
  std::vector<const TablespaceEntry*> entries;
  uint64_t page0_reads = 0;
  auto now = sight_tablespaces(c.inventory, c.fallback_format, c.space_ids_before_lock, entries, page0_reads);
  if (!now.is_ok()) return now.status();
  const auto sighted = Clock::now();
  auto rewritten = rewritten_future.get();
  if (!rewritten.is_ok()) return rewritten.status();
  const auto asked = Clock::now();
  log_info("final phase: {} tablespaces listed in {} ms, page 0 of {} read again in {} ms{}", now->size(),
           ms_between(begun, listed), page0_reads, ms_between(listed, sighted),
           !c.mysql()                            ? std::string()
           : c.index_ids_choice.read_dictionary ? fmt::format(", index ids read in {} ms", ms_between(begun, asked))
                                                : fmt::format(", statement counters read in {} ms", ms_between(begun, asked)));
  const TablespaceChanges plan = plan_tablespace_changes(
      copied_tablespaces(c.result.files), *now, [&](innodb::SpaceId s) { return rewritten->count(s) > 0; }, !c.base);

  // Source name -> the copy's file (a delta is written under NAME.delta).
  std::unordered_map<std::string, size_t> by_source;
  for (size_t i = 0; i < c.result.files.size(); ++i) {
    const CopiedFile& f = c.result.files[i];
    if (f.tablespace) by_source.emplace(f.delta_of.empty() ? f.rel_path : f.delta_of, i);
  }
  std::vector<bool> drop(c.result.files.size(), false);
  for (const std::string& r : plan.remove) {
    const size_t i = by_source.at(r);
    if (Status s = c.storage->remove(c.result.files[i].rel_path); !s.is_ok()) return s;
    drop[i] = true;
    c.emptied_dirs.insert(parent_dir(r));
  }
  for (size_t m = 0; m < plan.move.size(); ++m)
    if (Status s = c.storage->rename(plan.move[m].first, "#mysqlclone-moving-" + std::to_string(m)); !s.is_ok())
      return s;
  for (size_t m = 0; m < plan.move.size(); ++m) {
    const auto& [from, to] = plan.move[m];
    if (Status s = c.storage->rename("#mysqlclone-moving-" + std::to_string(m), to); !s.is_ok()) return s;
    c.result.files[by_source.at(from)].rel_path = to;
    c.emptied_dirs.insert(parent_dir(from));
  }
  c.forget_files(drop);

  std::vector<const TablespaceEntry*> work;
  for (size_t i : plan.copy) work.push_back(entries[i]);
  // Every second of this copy is a second of blocked DDL: --max-rate no longer holds it back
  // (it copies only what DDL changed, and the files under the locks after it are small).
  c.progress.copy.throttle.set_rate(0);
  const uint64_t before = c.progress.copy.done_bytes;
  if (Status s = copy_tablespaces(c, std::move(work), false, true); !s.is_ok()) return s;
  c.result.ddl = {plan.created, plan.renamed, plan.deleted, plan.recopied, c.progress.copy.done_bytes - before, {}};
  if (c.mysql()) c.result.ddl.index_builds_found_by = c.index_ids_choice.read_dictionary ? "dictionary" : "statement-counters";
  log_info("DDL during the copy: {} tablespaces created, {} renamed, {} dropped, {} copied again; {} copied with DDL blocked",
           plan.created, plan.renamed, plan.deleted, plan.recopied, human_bytes(double(c.result.ddl.copied_bytes)));
  return Status::ok();
}

// The directories the copy no longer needs: emptied by the final phase, and gone on the server
// (a dropped database, which MariaDB would otherwise show again as an empty one).
Status remove_emptied_dirs(Context& c) {
  const std::set<std::string> now(c.others.directories.begin(), c.others.directories.end());
  for (auto d = c.emptied_dirs.rbegin(); d != c.emptied_dirs.rend(); ++d)
    if (!d->empty() && !now.count(*d))
      if (Status s = c.storage->remove_dir(*d); !s.is_ok()) return s;
  return Status::ok();
}

// MySQL gives an undo tablespace a new space id when it truncates it: a copy taken across a
// truncation mixes two files. (MariaDB logs its truncation in the redo.)
Status check_undo_unchanged(Context& c) {
  for (const auto& t : c.inventory.tablespaces) {
    if (t.kind != TablespaceKind::kUndo) continue;
    const std::string rel = t.files.front().rel_path;
    const auto index = c.file_index.find(rel);
    if (index == c.file_index.end()) continue;
    const CopiedFile* copied = &c.result.files[index->second];
    // A file we cannot read now may be one the truncation is replacing: never a pass.
    const auto unreadable = [&](const Status& s) {
      return Status::error(ExitCode::kSourceIo, "cannot check that undo tablespace " + printable(rel) +
                                                    " was not truncated during the copy: " + s.message());
    };
    auto file = ReadFile::open(c.info().datadir + "/" + rel);
    if (!file.is_ok()) return unreadable(file.status());
    auto header = read_tablespace_header(*file, c.info().flavour, c.fallback_format);
    if (!header.is_ok()) return unreadable(header.status());
    if (header->space_id && copied->space_id && *header->space_id != *copied->space_id)
      return Status::error(ExitCode::kSourceIo, "undo tablespace " + printable(rel) +
                                                    " was truncated during the copy (space id " +
                                                    std::to_string(*copied->space_id) + " became " +
                                                    std::to_string(*header->space_id) + "): run the backup again");
  }
  return Status::ok();
}

// A MyISAM data file of a server that writes them through a shared mapping (myisam_use_mmap):
// its ctime moves only at a page's first store after write-back, so its stamp vouches for nothing.
bool written_through_mapping(const Context& c, const DatadirFile& f) {
  return c.info().myisam_use_mmap && f.rel_path.ends_with(".MYD");
}

// Copies the classified files with `action`, each one copied before only once it changed since
// (the new copy replaces the first). A file gone meanwhile is left as it is (copied or not): a
// log table rotated away, a table DDL dropped before the lock (MariaDB's first pass; the
// listing with DDL blocked then takes it out). In parallel: MariaDB has an .frm per table, tens
// of thousands of small files whose copy is mostly waiting for their sync.
Status copy_other_files(Context& c, FileAction action) {
  std::vector<DatadirFile*> todo;
  for (DatadirFile& f : c.others.files)
    if (f.action == action) todo.push_back(&f);
  return run_parallel(todo.size(), resolve_threads(c.options.parallel), [&](size_t i) -> Status {
    DatadirFile& f = *todo[i];
    auto now = restat(c.info().datadir, f);
    if (!now.is_ok()) return now.status();
    if (!*now) return Status::ok();
    if (f.copied && unchanged_since(*f.copied, (*now)->stamp) && !written_through_mapping(c, f)) return Status::ok();
    auto file = ReadFile::open(c.info().datadir + "/" + f.rel_path);
    if (!file.is_ok()) {
      auto gone = restat(c.info().datadir, f);  // since the stat above
      return gone.is_ok() && !*gone ? Status::ok() : file.status();
    }
    // Of the file read, before the read: a write during the copy moves it, and the next pass
    // copies the file again.
    auto stamp = file->stamp();
    if (!stamp.is_ok()) return stamp.status();
    if (f.copied)
      if (Status s = c.storage->remove(f.rel_path); !s.is_ok()) return s;
    f.stamp = *stamp;
    c.progress.copy.total_bytes += f.stamp.size;
    auto copied = copy_plain_file(*file, f.rel_path, *c.storage, c.progress.copy);
    if (!copied.is_ok()) return copied.status();
    if (f.copied) {
      std::lock_guard lock(c.files_mutex);
      c.result.copied_again_under_lock.push_back(f.rel_path);
    }
    f.copied = f.stamp;
    c.add_files({std::move(copied).value()});
    return Status::ok();
  });
}

// --lock-ddl=reduced, just before DDL is blocked: what the final phase can learn without the
// lock, so that with DDL blocked it reads again only what changed since: page 0 of every
// tablespace (read_space_ids) and a first copy of every file besides the tablespaces (on
// MariaDB the SQL layer's .frm and the like; non-transactional tables, MySQL's .sdi of them, the
// buffer pool dump): each is taken again under the locks only if it changed. MySQL: the session
// that reads the index ids beside the main one.
// The locked copy then reads little: it used to read ~130 .sdi and log table files (MySQL 9.7)
// with DDL blocked, and behind a stream consumer's first flush on the same disk (0.3-0.4 s, the
// whole copy written back) that kept DDL blocked 62-570 ms instead of 5 (local --stream | extract).
Status prepare_final_phase(Context& c) {
  const auto begun = Clock::now();
  // First what takes long, so that little changes between the page 0 reads and the lock (what
  // changed is read again with DDL blocked): the other files (a large log table, --max-rate) and
  // the sync.
  if (Status s = scan_others(c); !s.is_ok()) return s;
  for (const FileAction action : {FileAction::kCopyDdl, FileAction::kCopyLocked, FileAction::kCopy})
    if (Status s = copy_other_files(c, action); !s.is_ok()) return s;
  // The files copied so far made durable now, DDL not yet blocked: the first flush after a copy
  // carries all of it (0.3-0.65 s for 1 GiB here), and the final phase's own small syncs (the
  // binlog index: put) would otherwise pay it with DDL blocked.
  const auto copied = Clock::now();
  if (Status s = c.storage->sync(); !s.is_ok()) return s;
  const auto synced = Clock::now();
  auto inv = scan_datadir(c.info().datadir);
  if (!inv.is_ok()) return inv.status().with_context("reading the server's datadir");
  auto reads = read_space_ids(*inv, c.fallback_format, resolve_threads(c.options.parallel));
  if (!reads.is_ok()) return reads.status();
  c.space_ids_before_lock = std::move(reads).value();
  if (c.mysql()) {
    auto params = resolve_connection(c.options.connection);
    if (!params.is_ok()) return params.status();
    auto session = Session::connect(*params);
    if (!session.is_ok()) return session.status();
    c.dictionary_session.emplace(std::move(session).value());
  }
  log_info("before blocking DDL: the other files copied in {} ms, the files copied so far synced in {} ms, page 0 of "
           "{} tablespaces read in {} ms",
           ms_between(begun, copied), ms_between(copied, synced), c.space_ids_before_lock.size(),
           ms_between(synced, Clock::now()));
  return Status::ok();
}

Status start_archiver(Context& c, std::unique_ptr<RedoArchiver> archiver) {
  c.archiver = std::move(archiver);
  if (Status s = c.archiver->start(); !s.is_ok()) return s;
  c.result.checkpoint_lsn = c.archiver->checkpoint_lsn();
  log_info("start checkpoint LSN {}; tailing the redo log", c.result.checkpoint_lsn);
  // Checkpoints only advance: a base whose start checkpoint is past ours is not of this server's
  // history (open_incremental_base checked the LSN already; this holds whatever happened since).
  if (c.base && c.base->backup.checkpoint_lsn > c.result.checkpoint_lsn)
    return Status::error(ExitCode::kPath, "--incremental-from: " + printable(c.base->backup.dir) +
                                              " is newer than the server (its start checkpoint " +
                                              std::to_string(c.base->backup.checkpoint_lsn) +
                                              " is past the server's " + std::to_string(c.result.checkpoint_lsn) + ")");
  return Status::ok();
}

// The server's channels, read with the privileges the backup needs anyway whenever it is not a
// replica: MySQL's performance_schema.log_status (BACKUP_ADMIN) says whether it has channels before
// SHOW REPLICA STATUS (REPLICATION CLIENT) is asked. A MariaDB account without SLAVE MONITOR only
// loses the record (the copy starts as a non-replica whatever the source's state).
Result<std::vector<ReplicaChannel>> source_channels(Context& c) {
  if (c.mysql()) {
    auto count = c.session.query_value(
        "SELECT JSON_LENGTH(REPLICATION, '$.channels') FROM performance_schema.log_status");
    if (!count.is_ok()) return count.status();
    if (count->value_or("0") == "0") return std::vector<ReplicaChannel>{};
  }
  auto channels = read_replica_channels(c.session, c.info().flavour);
  if (channels.is_ok() || channels.status().code() != ExitCode::kPrivilege) return channels;
  if (c.mysql())
    return channels.status().with_context("the server is a replica; recording its channels needs REPLICATION CLIENT");
  log_warning("cannot read the server's replication state ({}): if it is a replica, its position is not recorded",
              channels.status().message());
  return std::vector<ReplicaChannel>{};
}

// Before any lock a replicated statement could wait for (MySQL: before the copy; MariaDB: before
// BACKUP STAGE FLUSH): whether the server is a replica, and whether its
// appliers must stop until after the end point: when asked (--safe-replica-backup), and on MySQL
// for a channel that replicates by file and position, whose executed position MySQL reports
// exactly only with the applier stopped (a multi-threaded applier reports its last checkpoint,
// which can lag what is committed; GTID channels need no position, the GTID set is exact).
Status pause_appliers_if_needed(Context& c) {
  auto channels = source_channels(c);
  if (!channels.is_ok()) return channels.status();
  c.replica = !channels->empty();
  std::string why;
  if (c.options.safe_replica_backup) why = "--safe-replica-backup";
  for (const ReplicaChannel& ch : *channels)
    if (why.empty() && c.mysql() && !ch.gtid && ch.applier_running)
      why = "channel '" + printable(ch.name) + "' replicates by binlog file and position";
  if (!c.replica && c.options.safe_replica_backup)
    log_info("--safe-replica-backup: the server is not a replica, no applier to stop");
  if (!c.replica || why.empty()) return Status::ok();
  auto params = resolve_connection(c.options.connection);
  if (!params.is_ok()) return params.status();
  log_info("stopping the replica's applier around the end point ({})", why);
  auto pause = ApplierPause::stop(*params, c.info().flavour, *channels, c.options.safe_replica_timeout_seconds);
  if (!pause.is_ok()) return pause.status();
  c.pause = std::move(pause).value();
  c.result.applier_stopped_because = why;
  return Status::ok();
}

Status resume_appliers(Context& c) {
  if (!c.pause) return Status::ok();
  Status s = c.pause->restart();
  c.result.applier_stopped_ms = c.pause->stopped_ms();
  return s;
}

bool same_position(const std::vector<ReplicaChannel>& a, const std::vector<ReplicaChannel>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].source_log_file != b[i].source_log_file ||
        a[i].source_log_position != b[i].source_log_position || a[i].relay_log_position != b[i].relay_log_position)
      return false;
  return true;
}

Status finalize(Context& c) {
  const EndPoint& e = c.result.end;
  std::vector<std::string>& again = c.result.copied_again_under_lock;
  std::sort(again.begin(), again.end());
  again.erase(std::unique(again.begin(), again.end()), again.end());
  if (!again.empty()) {
    std::string list;
    for (size_t i = 0; i < again.size() && i < 5; ++i) list += (i ? ", " : "") + printable(again[i]);
    log_info("{} file(s) besides the tablespaces written since their first copy, copied again under the locks: {}{}",
             again.size(), list, again.size() > 5 ? ", ..." : "");
  }
  log_info("waiting for the redo log to reach the end LSN {} (copied up to {})", e.lsn, c.archiver->copied_lsn());
  if (Status s = c.archiver->finish_at(e.lsn, std::chrono::seconds(c.options.redo_wait_seconds)); !s.is_ok()) return s;
  c.result.redo_peak_lag = c.progress.redo.peak_lag;
  // Every page was read before E was taken, so none can be newer: a page that is means the
  // copy is not what recovery expects.
  for (const CopiedFile& f : c.result.files)
    if (f.tablespace && f.max_lsn > e.lsn)
      return Status::error(ExitCode::kInternal, printable(f.rel_path) + " has a page with LSN " +
                                                    std::to_string(f.max_lsn) + " beyond the end LSN " +
                                                    std::to_string(e.lsn));
  for (const std::string& d : c.others.directories)
    if (Status s = c.storage->make_dir(d); !s.is_ok()) return s;
  return write_compat_files(*c.recorded, c.result);
}

// ---- MySQL ----------------------------------------------------------------------------------

// Non-transactional tables with data, for FLUSH TABLES ... WITH READ LOCK, or a global lock
// when their file names carry encoded characters.
struct LockPlan {
  std::vector<TableName> tables;
  bool needed = false;
  bool global = false;
};

LockPlan mysql_lock_plan(const OtherFiles& others) {
  LockPlan plan;
  for (const DatadirFile& f : others.files) {
    if (f.action != FileAction::kCopyLocked) continue;
    const auto slash = f.rel_path.find('/');
    const auto dot = f.rel_path.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : f.rel_path.substr(dot + 1);
    if (slash == std::string::npos || (ext != "MYD" && ext != "CSV" && ext != "ARZ" && ext != "MRG")) continue;
    const std::string db = f.rel_path.substr(0, slash), table = f.rel_path.substr(slash + 1, dot - slash - 1);
    if (db == "mysql" && (table == "general_log" || table == "slow_log")) continue;  // log tables cannot be locked
    plan.needed = true;
    if (db.find_first_of("@#`") != std::string::npos || table.find_first_of("@#`/") != std::string::npos)
      plan.global = true;  // encoded file names: lock everything rather than decode
    plan.tables.push_back({db, table});
  }
  return plan;
}

Result<EndPoint> mysql_read_end_point(Session& s) {
  auto rows = s.query("SELECT LOCAL, STORAGE_ENGINES FROM performance_schema.log_status");
  if (!rows.is_ok()) return rows.status();
  if (rows->empty() || !(*rows)[0][0] || !(*rows)[0][1])
    return Status::error(ExitCode::kInternal, "performance_schema.log_status returned nothing");
  try {
    const auto local = nlohmann::json::parse(*(*rows)[0][0]);
    const auto engines = nlohmann::json::parse(*(*rows)[0][1]);
    EndPoint e;
    e.lsn = engines.at("InnoDB").at("LSN").get<innodb::Lsn>();
    e.gtid = local.value("gtid_executed", "");
    e.binlog_file = local.value("binary_log_file", "");
    e.binlog_position = local.value("binary_log_position", uint64_t(0));
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return Status::error(ExitCode::kInternal, std::string("cannot read performance_schema.log_status: ") + ex.what());
  }
}

// A replica's channels right after log_status. Their source coordinates belong to the end point
// only while the appliers stand still (stopped: applier_pause.h); a running applier moves on, and
// a multi-threaded one reports its last checkpoint, so they are then marked approximate (the GTID
// set, from log_status, is exact: GTID channels need no file/position).
Status mysql_read_channels(Context& c, EndPoint& e) {
  auto channels = read_replica_channels(c.session, innodb::Flavour::kMysql);
  if (!channels.is_ok()) return channels.status();
  e.channels = std::move(channels).value();
  for (const ReplicaChannel& ch : e.channels)
    e.channel_positions_exact = e.channel_positions_exact && !ch.applier_running;
  return Status::ok();
}

// Commits are blocked (BLOCK_COMMIT), yet an applier that committed just before may still be
// publishing its new position: read the channels until two reads agree.
Status mariadb_read_channels(Context& c, EndPoint& e) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto channels = read_replica_channels(c.session, innodb::Flavour::kMariadb);
    if (!channels.is_ok()) return channels.status();
    auto pos = c.session.query_value("SELECT @@GLOBAL.gtid_slave_pos");
    if (!pos.is_ok()) return pos.status();
    if (attempt > 0 && same_position(e.channels, *channels) && e.gtid_slave_pos == pos->value_or(""))
      return Status::ok();
    e.channels = std::move(channels).value();
    e.gtid_slave_pos = pos->value_or("");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  e.channel_positions_exact = false;
  log_warning("the replica's position kept moving while commits were blocked: the recorded source positions may "
              "be off");
  return Status::ok();
}

// Recovery resolves transactions that were prepared but not committed at E through the binlog
// (innodb-formats.md §5.6): ship the binlog current at E, cut at the recorded position, and an
// index naming it. It keeps its "in use" flag, which makes the server run binlog recovery.
Status mysql_copy_binlog(Context& c) {
  const EndPoint& e = c.result.end;
  if (e.binlog_file.empty()) return Status::ok();
  const std::string base = c.info().log_bin_basename;
  const std::string dir = base.substr(0, base.rfind('/'));
  const std::string name = base.substr(base.rfind('/') + 1);
  auto copied = copy_plain_file(dir, e.binlog_file, *c.storage, c.progress.copy, e.binlog_position);
  if (!copied.is_ok()) return copied.status().with_context("copying the binlog");
  c.add_files({std::move(copied).value()});
  const std::string index = "./" + e.binlog_file + "\n";
  return c.recorded->put(name + ".index", index);
}

// The redo tailer's view of the server's log, on a connection of its own (the tailer's thread
// asks while the main session holds locks): one query for both LSNs.
Result<std::function<Result<ServerLog>()>> server_log_source(Context& c) {
  const bool mysql = c.mysql();
  const std::string current_name = mysql ? "Innodb_redo_log_current_lsn" : "Innodb_lsn_current";
  const std::string flushed_name = mysql ? "Innodb_redo_log_flushed_to_disk_lsn" : "Innodb_lsn_flushed";
  auto params = resolve_connection(c.options.connection);
  if (!params.is_ok()) return params.status();
  auto session = Session::connect(*params);
  if (!session.is_ok()) return session.status();
  auto shared = std::make_shared<Session>(std::move(session).value());
  return std::function<Result<ServerLog>()>([shared, current_name, flushed_name]() -> Result<ServerLog> {
    auto rows = shared->query("SHOW GLOBAL STATUS WHERE Variable_name IN ('" + current_name + "', '" + flushed_name + "')");
    if (!rows.is_ok()) return rows.status();
    std::optional<innodb::Lsn> current, flushed;
    for (const auto& row : *rows) {
      if (row.size() < 2 || !row[0] || !row[1]) continue;
      // Runs on the redo tailer's thread, where an exception would end the process.
      auto value = parse_u64(*row[1], "the server's " + *row[0], UINT64_MAX, ExitCode::kUnsupported);
      if (!value.is_ok()) return value.status();
      (*row[0] == current_name ? current : flushed) = *value;
    }
    if (!current || !flushed)
      return Status::error(ExitCode::kUnsupported,
                           "the server does not report " + current_name + " and " + flushed_name);
    return ServerLog{*current, *flushed};
  });
}

// --redo-consumer: a second connection registers as a redo log consumer before the start
// checkpoint is read, so the server keeps every byte of log from there until we have copied it
// (its writers wait when we fall a whole capacity behind). The registration ends with the
// connection, so no failure can leave the server waiting for us.
Result<std::function<Status(innodb::Lsn)>> register_redo_consumer(Context& c) {
  auto params = resolve_connection(c.options.connection);
  if (!params.is_ok()) return params.status();
  auto session = Session::connect(*params);
  if (!session.is_ok()) return session.status();
  auto shared = std::make_shared<Session>(std::move(session).value());
  auto registered = shared->query_value("SELECT innodb_redo_log_consumer_register()");
  if (!registered.is_ok()) return registered.status().with_context("registering as a redo log consumer");
  if (registered->value_or("1") != "0")
    return Status::error(ExitCode::kUnsupported, "the server refused a redo log consumer (another one registered?)");
  log_info("registered as a redo log consumer: the server keeps its redo until it is copied");
  return std::function<Status(innodb::Lsn)>([shared](innodb::Lsn lsn) -> Status {
    auto r = shared->query_value("SELECT innodb_redo_log_consumer_advance(" + std::to_string(lsn) + ")");
    if (!r.is_ok()) return r.status().with_context("advancing the redo log consumer");
    return Status::ok();
  });
}

// An incremental on MySQL reads only the pages the server's page tracking lists when tracking
// covers the whole span from the base's start checkpoint to ours (pages changed after ours are in
// the redo), else every page; the result says which and why.
Status choose_changed_pages(Context& c) {
  IncrementalResult& inc = *c.result.incremental;
  auto not_used = [&inc](const std::string& why) {
    inc.page_tracking = "not used: " + why;
    log_info("incremental: every page is read (page tracking {})", inc.page_tracking);
    return Status::ok();
  };
  auto start = page_tracking_start(c.session);
  if (!start.is_ok()) return not_used(start.status().message());
  if (*start == 0)
    return not_used("is off: component_mysqlbackup is not installed or tracking never started (--page-tracking starts it)");
  if (*start > inc.threshold_lsn)
    return not_used("started at LSN " + std::to_string(*start) + ", after the base's start checkpoint " +
                    std::to_string(inc.threshold_lsn));
  // Up to what the server has tracked so far (a stop LSN of 0), not only to our start
  // checkpoint: a page written without redo since (a MySQL sorted index build) is in no redo the
  // copy carries, and only its listing brings it into the delta (found by the chain test: an ADD
  // INDEX after the base, the checkpoint held back). The server refuses an explicit stop past
  // what it has tracked (error 3803), even the current LSN read a moment before.
  // Digits only (the server's rule), unique to this run: the pid and the second are not, for two
  // runs in containers (each pid 1) started together, so random digits too.
  const std::string id =
      std::to_string(::getpid()) + std::to_string(std::time(nullptr)) + std::to_string(std::random_device()() % 1000000);
  auto pages = changed_pages(c.session, c.info().datadir, id, inc.threshold_lsn, 0);
  if (!pages.is_ok()) {
    if (pages.status().code() == ExitCode::kConnection) return pages.status();
    log_warning("page tracking: {}", pages.status().message());
    return not_used("failed: " + pages.status().message());
  }
  for (const auto& [space, list] : *pages) inc.tracked_pages += list.size();
  c.changed_pages = std::make_shared<const ChangedPages>(std::move(pages).value());
  inc.pages_found_by = "page-tracking";
  inc.page_tracking = "used: " + std::to_string(inc.tracked_pages) + " pages changed since LSN " +
                      std::to_string(inc.threshold_lsn);
  log_info("incremental: only the pages page tracking lists are read ({})", inc.page_tracking);
  return Status::ok();
}

Status mysql_backup(Context& c) {
  // MySQL refuses to stop an applier while the instance is locked for backup: a pause covers the
  // whole copy (as XtraBackup's --safe-slave-backup does).
  if (Status s = pause_appliers_if_needed(c); !s.is_ok()) return s;
  // --lock-ddl=full: DDL (and the redo-less index builds that come with it) stays blocked from
  // before the start checkpoint until E. Reduced: the index ids before the first file is opened
  // tell the final phase which tablespaces got an index built without redo.
  Clock::time_point ddl_blocked{};
  if (c.ddl_runs_during_copy()) {
    if (Status s = remember_index_ids(c); !s.is_ok()) return s;
  } else {
    if (Status s = take_lock(c, "LOCK INSTANCE FOR BACKUP"); !s.is_ok()) return s;
    ddl_blocked = Clock::now();
  }
  if (Status s = scan_innodb(c); !s.is_ok()) return s;
  auto server_log = server_log_source(c);
  if (!server_log.is_ok()) return server_log.status();
  RedoArchiverConfig rc{c.info().datadir,      c.recorded.get(), c.info().redo_capacity, *server_log, {},
                        c.options.redo_file_size_mib << 20, &c.progress.redo};
  if (c.options.redo_consumer) {
    auto advance = register_redo_consumer(c);
    if (!advance.is_ok()) return advance.status();
    rc.consumer_advance = *advance;
  }
  if (c.options.page_tracking) {
    auto from = start_page_tracking(c.session);
    if (!from.is_ok()) return from.status();
    // The next incremental's threshold is this backup's start checkpoint: tracking must cover it.
    // Tracking that starts now does not yet, so wait a while for the server's next checkpoint.
    auto checkpoint = wait_for_checkpoint_past(c.session, *from, std::chrono::seconds(60));
    if (!checkpoint.is_ok()) return checkpoint.status();
    if (*checkpoint >= *from)
      log_info("page tracking runs from LSN {}: incrementals on this backup read only the changed pages", *from);
    else
      log_warning("page tracking runs from LSN {}, past the server's checkpoint {} after 60 s: an incremental on "
                  "this backup reads every page, the ones after it only the changed pages", *from, *checkpoint);
  }
  if (Status s = start_archiver(c, make_mysql_redo_archiver(rc)); !s.is_ok()) return s;
  if (c.base)
    if (Status s = choose_changed_pages(c); !s.is_ok()) return s;
  if (Status s = copy_innodb(c); !s.is_ok()) return s;
  if (c.ddl_runs_during_copy()) {
    if (Status s = prepare_final_phase(c); !s.is_ok()) return s;
    if (Status s = take_lock(c, "LOCK INSTANCE FOR BACKUP"); !s.is_ok()) return s;
    ddl_blocked = Clock::now();
    if (Status s = apply_ddl_of_copy_window(c); !s.is_ok()) return s;
  }
  if (Status s = check_undo_unchanged(c); !s.is_ok()) return s;
  if (Status s = scan_others(c); !s.is_ok()) return s;
  warn_of_unknown_files(c);
  if (Status s = remove_emptied_dirs(c); !s.is_ok()) return s;
  if (Status s = copy_other_files(c, FileAction::kCopy); !s.is_ok()) return s;
  if (Status s = check_interrupt(); !s.is_ok()) return s;

  const LockPlan plan = mysql_lock_plan(c.others);
  Clock::time_point blocked{};
  if (plan.needed) {
    log_info("locking {} non-InnoDB tables{}", plan.tables.size(), plan.global ? " (global read lock)" : "");
    auto wait = lock_wait(c);
    if (!wait.is_ok()) return wait.status();
    if (Status s = flush_tables_with_read_lock(c.session, *wait, plan.global ? std::vector<TableName>{} : plan.tables);
        !s.is_ok())
      return s;
    blocked = Clock::now();
  }
  // log_status blocks commits, the binlog and the InnoDB log for its duration: binlog
  // position, GTID set and LSN describe one instant.
  const auto status_read = Clock::now();
  c.archiver->hold();
  auto end = mysql_read_end_point(c.session);
  const auto status_done = Clock::now();
  if (!end.is_ok()) return end.status();
  if (c.replica)
    if (Status s = mysql_read_channels(c, *end); !s.is_ok()) return s;
  c.result.end = *end;
  c.archiver->set_end_lsn(end->lsn);
  if (Status s = copy_other_files(c, FileAction::kCopyLocked); !s.is_ok()) return s;
  if (plan.needed)
    if (Status s = c.session.execute("UNLOCK TABLES"); !s.is_ok()) return s;
  // A global read lock blocks every commit until UNLOCK TABLES; a table list only those
  // tables' writes, and commits only while log_status runs.
  c.result.commits_blocked_ms =
      plan.needed && plan.global ? ms_between(blocked, Clock::now()) : ms_between(status_read, status_done);
  if (Status s = mysql_copy_binlog(c); !s.is_ok()) return s;
  if (Status s = c.session.execute("UNLOCK INSTANCE"); !s.is_ok()) return s;
  c.result.ddl_blocked_ms = ms_between(ddl_blocked, Clock::now());
  if (Status s = resume_appliers(c); !s.is_ok()) return s;
  log_info("end LSN {}, binlog {}:{}; DDL was blocked {} ms, commits {} ms", c.result.end.lsn, c.result.end.binlog_file,
           c.result.end.binlog_position, c.result.ddl_blocked_ms, c.result.commits_blocked_ms);
  return finalize(c);
}

// ---- MariaDB --------------------------------------------------------------------------------

Result<innodb::Lsn> mariadb_current_lsn(Session& s) {
  auto rows = s.query("SHOW GLOBAL STATUS LIKE 'Innodb_lsn_current'");
  if (!rows.is_ok()) return rows.status();
  if (rows->empty() || (*rows)[0].size() < 2 || !(*rows)[0][1])
    return Status::error(ExitCode::kUnsupported, "the server does not report Innodb_lsn_current");
  // Runs on the redo tailer's thread too, where an exception would end the process.
  return parse_u64(*(*rows)[0][1], "the server's Innodb_lsn_current", UINT64_MAX, ExitCode::kUnsupported);
}

Result<EndPoint> mariadb_read_end_point(Session& s) {
  auto lsn = mariadb_current_lsn(s);
  if (!lsn.is_ok()) return lsn.status();
  EndPoint e;
  e.lsn = *lsn;
  auto master = s.query("SHOW MASTER STATUS");
  if (!master.is_ok()) return master.status();
  if (!master->empty() && (*master)[0].size() >= 2) {
    e.binlog_file = (*master)[0][0].value_or("");
    auto position = parse_u64((*master)[0][1].value_or("0"), "the binlog position of SHOW MASTER STATUS", UINT64_MAX,
                              ExitCode::kUnsupported);
    if (!position.is_ok()) return position.status();
    e.binlog_position = *position;
  }
  auto gtid = s.query_value("SELECT @@gtid_binlog_pos");
  if (!gtid.is_ok()) return gtid.status();
  e.gtid = gtid->value_or("");
  return e;
}

// FLUSH, then BLOCK_DDL: from here the file set and the SQL layer's metadata stand still.
Status mariadb_block_ddl(Context& c) {
  for (const char* stage : {"BACKUP STAGE FLUSH", "BACKUP STAGE BLOCK_DDL"})
    if (Status s = take_lock(c, stage); !s.is_ok()) return s;
  return Status::ok();
}

Status mariadb_backup(Context& c) {
  // --lock-ddl=full: DDL blocked from before the start checkpoint. Reduced: only START now (the
  // backup has begun: Aria keeps its log), DDL blocked after the InnoDB copy.
  if (Status s = take_lock(c, "BACKUP STAGE START"); !s.is_ok()) return s;
  Clock::time_point ddl_blocked{};
  // The appliers (--safe-replica-backup) stop before BACKUP STAGE FLUSH, in both modes: from FLUSH
  // on, an applier at a replicated DDL or write to a non-transactional table waits for this
  // backup's locks, and STOP SLAVE waits for the applier's statement to end: neither would.
  if (!c.ddl_runs_during_copy()) {
    if (Status s = pause_appliers_if_needed(c); !s.is_ok()) return s;
    if (Status s = mariadb_block_ddl(c); !s.is_ok()) return s;
    ddl_blocked = Clock::now();
  }
  if (Status s = scan_innodb(c); !s.is_ok()) return s;
  // The tailer needs to know where the server's log is: which bytes of the ring are final, and
  // that those read were not overwritten meanwhile.
  auto server_log = server_log_source(c);
  if (!server_log.is_ok()) return server_log.status();
  RedoArchiverConfig rc{c.info().datadir, c.recorded.get(), c.info().redo_capacity, *server_log, {}, 0, &c.progress.redo};
  if (Status s = start_archiver(c, make_mariadb_redo_archiver(rc)); !s.is_ok()) return s;
  if (Status s = copy_innodb(c); !s.is_ok()) return s;
  if (c.ddl_runs_during_copy()) {
    if (Status s = prepare_final_phase(c); !s.is_ok()) return s;
    if (Status s = pause_appliers_if_needed(c); !s.is_ok()) return s;
    if (Status s = mariadb_block_ddl(c); !s.is_ok()) return s;
    ddl_blocked = Clock::now();
    if (Status s = apply_ddl_of_copy_window(c); !s.is_ok()) return s;
  }
  if (Status s = scan_others(c); !s.is_ok()) return s;
  warn_of_unknown_files(c);
  if (Status s = remove_emptied_dirs(c); !s.is_ok()) return s;
  // SQL-layer metadata and a first pass over the non-transactional tables while only DDL is
  // blocked; the second pass under BLOCK_COMMIT re-copies only what changed.
  for (FileAction a : {FileAction::kCopy, FileAction::kCopyDdl, FileAction::kCopyLocked})
    if (Status s = copy_other_files(c, a); !s.is_ok()) return s;
  if (Status s = check_interrupt(); !s.is_ok()) return s;

  // BLOCK_COMMIT also holds every replication applier: the channels' positions and
  // gtid_slave_pos stand still with the data.
  if (Status s = take_lock(c, "BACKUP STAGE BLOCK_COMMIT"); !s.is_ok()) return s;
  const auto commits_blocked = Clock::now();
  c.archiver->hold();
  auto end = mariadb_read_end_point(c.session);
  if (!end.is_ok()) return end.status();
  if (c.replica)
    if (Status s = mariadb_read_channels(c, *end); !s.is_ok()) return s;
  c.result.end = *end;
  c.archiver->set_end_lsn(end->lsn);
  if (Status s = copy_other_files(c, FileAction::kCopyLocked); !s.is_ok()) return s;
  if (Status s = copy_other_files(c, FileAction::kCopyLast); !s.is_ok()) return s;
  if (Status s = c.session.execute("BACKUP STAGE END"); !s.is_ok()) return s;
  const auto released = Clock::now();
  c.result.commits_blocked_ms = ms_between(commits_blocked, released);
  c.result.ddl_blocked_ms = ms_between(ddl_blocked, released);
  if (Status s = resume_appliers(c); !s.is_ok()) return s;
  log_info("end LSN {}, binlog {}:{}, GTID {}; DDL was blocked {} ms, commits {} ms", c.result.end.lsn,
           c.result.end.binlog_file, c.result.end.binlog_position, c.result.end.gtid, c.result.ddl_blocked_ms,
           c.result.commits_blocked_ms);
  return finalize(c);
}

// ---- the run ---------------------------------------------------------------------------------

Status preflight(Context& c) {
  auto info = read_server_info(c.session);
  if (!info.is_ok()) return info.status();
  c.result.server = *info;
  log_info("connected to {} {} (datadir {})", flavour_name(info->flavour), info->version_string, info->datadir);
  if (Status s = check_server_supported(*info); !s.is_ok()) return s;
  if (c.options.page_tracking && info->flavour != innodb::Flavour::kMysql)
    return Status::error(ExitCode::kUsage, "--page-tracking is a MySQL feature (component_mysqlbackup); MariaDB "
                                           "incrementals read every page");
  if (c.options.redo_consumer && info->flavour != innodb::Flavour::kMysql)
    return Status::error(ExitCode::kUsage, "--redo-consumer is a MySQL feature; MariaDB has no redo log consumers");
  if (c.options.redo_file_size_mib && info->flavour != innodb::Flavour::kMysql)
    return Status::error(ExitCode::kUsage, "--redo-file-size is for MySQL's redo files; a MariaDB copy has one "
                                           "ib_logfile0, sized to the redo it holds");
  if (Status s = check_privileges(c.session, *info, c.mysql() && c.ddl_runs_during_copy()); !s.is_ok()) return s;
  if (Status s = check_datadir(*info); !s.is_ok()) return s;
  if (!c.options.incremental_from.empty()) {
    auto base = open_incremental_base(c.options.incremental_from, *info, c.session);
    if (!base.is_ok()) return base.status();
    c.base = std::move(base).value();
    const BackupRecord& b = c.base->backup;
    IncrementalResult& inc = c.result.incremental.emplace();
    inc.base_dir = b.dir;
    inc.base_started_at = b.manifest.document.value("started_at", "");
    inc.threshold_lsn = b.checkpoint_lsn;
    inc.base_end_lsn = b.end_lsn;
    log_info("incremental on {}: pages with an LSN above its start checkpoint {}", printable(b.dir), b.checkpoint_lsn);
  }
  auto inv = scan_datadir(info->datadir);
  if (!inv.is_ok()) return inv.status().with_context("reading the server's datadir");
  uint64_t data = 0;
  for (const auto& t : inv->tablespaces)
    if (t.kind != TablespaceKind::kTemporary) data += t.total_size();
  // The data, the redo written meanwhile (at most the server's capacity), and some room.
  const uint64_t needed = data + data / 20 + info->redo_capacity + (64 << 20);
  if (c.options.stream) return Status::ok();  // the stream's reader has its own target
  if (Status s = check_target_outside_server(c.result.target_dir, *info); !s.is_ok()) return s;
  return prepare_target(c.result.target_dir, needed);
}

// From here on the target exists: every failure leaves it marked failed and unstartable.
Status begin(Context& c) {
  if (c.options.stream) {
    const StreamOutput& out = *c.options.stream;
    // Compression runs beside the copy threads, as many of them unless --compress-threads says.
    auto stream = std::make_unique<StreamStorage>(*out.sink, out.settings,
                                                  out.compress_threads ? out.compress_threads : c.result.parallel);
    c.stream = stream.get();
    c.storage = std::move(stream);
    if (Status s = c.stream->start(); !s.is_ok()) return s;
  } else {
    c.storage = std::make_unique<DirectoryStorage>(c.result.target_dir);
  }
  c.recorded = std::make_unique<HashingStorage>(*c.storage);
  c.manifest = backup_manifest(c.result);
  // MySQL starts on a datadir with no redo as if it were clean (silently wrong): it needs the
  // clone marker until the end. MariaDB refuses a datadir without ib_logfile0.
  return begin_target(*c.storage, c.manifest, c.mysql() ? StartGuard::kCloneInProgress : StartGuard::kNone);
}

Status complete(Context& c) {
  if (Status s = c.archiver->publish(); !s.is_ok()) return s;
  for (HashedFile& h : c.recorded->files()) {
    CopiedFile f;
    f.rel_path = std::move(h.rel_path);
    f.bytes = h.bytes;
    f.sha256 = std::move(h.sha256);
    c.result.files.push_back(std::move(f));
  }
  c.result.finished_at = utc_now_iso8601();
  c.manifest = backup_manifest(c.result);
  if (Status s = complete_target(*c.storage, c.manifest, c.mysql() ? StartGuard::kCloneInProgress : StartGuard::kNone);
      !s.is_ok())
    return s;
  if (!c.stream) return Status::ok();
  // Only now, after the complete manifest: a stream without its end record is never complete.
  if (Status s = c.stream->finish(); !s.is_ok()) return s;
  c.result.stream_bytes = c.stream->bytes_written();
  return Status::ok();
}

Status source_address(Context& c, const ConnectionParams& params) {
  auto rows = c.session.query("SELECT @@hostname, @@port");
  if (!rows.is_ok()) return rows.status();
  if (rows->empty() || (*rows)[0].size() < 2)
    return Status::error(ExitCode::kInternal, "SELECT @@hostname, @@port returned no row");
  auto port = parse_u64((*rows)[0][1].value_or("3306"), "the server's @@port", 65535, ExitCode::kUnsupported);
  if (!port.is_ok()) return port.status();
  const bool tcp = !params.host.empty() && params.host != "localhost";
  c.result.source_host = tcp ? params.host : (*rows)[0][0].value_or("");
  c.result.source_port = unsigned(*port);
  return Status::ok();
}

}  // namespace

Result<LocalBackupResult> run_local_backup(const LocalBackupOptions& given, BackupProgress& progress) {
  const auto started = Clock::now();
  // --repo: the target and the base come from the repository, locked until the run ends.
  LocalBackupOptions options = given;
  std::optional<RepositoryLock> repo_lock;
  if (!given.repo.empty()) {
    auto lock = open_repository(given.repo, "local", true);
    if (!lock.is_ok()) return lock.status();
    repo_lock.emplace(std::move(lock).value());
    if (given.incremental) {
      auto base = newest_backup(given.repo);
      if (!base.is_ok()) return base.status();
      options.incremental_from = *base;
    }
    options.target_dir = given.repo + "/" + repository_backup_name(std::chrono::system_clock::now(), given.incremental);
  }
  auto params = resolve_connection(options.connection);
  if (!params.is_ok()) return params.status();
  auto session = Session::connect(*params);
  if (!session.is_ok()) return session.status();
  Context c{options, progress, std::move(session).value(), {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, false, {}, {}, {}, {}, {}, {}, {}};
  const auto start_time = std::chrono::system_clock::now();
  c.result.target_dir =
      options.stream ? options.stream->sink->name() : expand_target_timestamp(options.target_dir, start_time);
  c.result.started_at = utc_iso8601(start_time);
  c.result.parallel = resolve_threads(options.parallel);
  c.result.lock_ddl = options.lock_ddl;
  c.result.reflink = options.copy.reflink;
  progress.copy.throttle.set_rate(options.max_rate_mib * (1 << 20));

  if (Status s = preflight(c); !s.is_ok()) return s;
  if (Status s = source_address(c, *params); !s.is_ok()) return s;
  Status s = begin(c);
  if (s.is_ok()) s = c.mysql() ? mysql_backup(c) : mariadb_backup(c);
  if (s.is_ok()) s = check_interrupt();
  if (s.is_ok()) {
    c.result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    s = complete(c);
  }
  if (!s.is_ok()) {
    // The server's locks go first, then the appliers run again: what follows may take long (the
    // tailer's stop; the failure mark written into a stream whose consumer has stalled) and the
    // source must not wait for it.
    c.session.close();
    if (c.dictionary_session) c.dictionary_session->close();
    c.pause.reset();
  }
  if (c.archiver) c.archiver->abort();
  if (!s.is_ok()) {
    if (interrupted() && s.code() != ExitCode::kInterrupted)
      s = Status::error(ExitCode::kInterrupted, "interrupted by a signal (" + s.message() + "); the target is incomplete");
    if (c.storage) fail_target(*c.storage, c.manifest, s);
    return s;
  }
  return std::move(c.result);
}

}  // namespace mysqlclone
