#include "libclone/command/local/ddl_window.h"

#include <algorithm>
#include <map>
#include <set>

#include "libclone/base/parallel.h"
#include "libclone/base/text.h"
#include "libclone/datadir/tablespace_header.h"
#include "libclone/server/preflight.h"

namespace mysqlclone {

Result<std::unordered_set<uint64_t>> mysql_index_ids(Session& session, const LockWait& wait) {
  auto rows = run_lock_query(session, wait, "SELECT INDEX_ID FROM INFORMATION_SCHEMA.INNODB_INDEXES");
  if (!rows.is_ok()) return rows.status().with_context("reading the index ids of the dictionary");
  std::unordered_set<uint64_t> ids;
  for (const auto& row : *rows) {
    if (row.empty() || !row[0]) continue;
    auto id = parse_u64(*row[0], "an INDEX_ID of INFORMATION_SCHEMA.INNODB_INDEXES", UINT64_MAX, ExitCode::kUnsupported);
    if (!id.is_ok()) return id.status();
    ids.insert(*id);
  }
  return ids;
}

Result<std::unordered_set<innodb::SpaceId>> mysql_spaces_with_new_indexes(Session& session, const LockWait& wait,
                                                                        const std::unordered_set<uint64_t>& before) {
  auto rows = run_lock_query(session, wait, "SELECT INDEX_ID, SPACE FROM INFORMATION_SCHEMA.INNODB_INDEXES");
  if (!rows.is_ok()) return rows.status().with_context("reading the index ids of the dictionary");
  std::unordered_set<innodb::SpaceId> spaces;
  for (const auto& row : *rows) {
    if (row.size() < 2 || !row[0] || !row[1]) continue;
    auto id = parse_u64(*row[0], "an INDEX_ID of INFORMATION_SCHEMA.INNODB_INDEXES", UINT64_MAX, ExitCode::kUnsupported);
    if (!id.is_ok()) return id.status();
    if (before.count(*id)) continue;
    auto space = parse_u64(*row[1], "a SPACE of INFORMATION_SCHEMA.INNODB_INDEXES", UINT32_MAX, ExitCode::kUnsupported);
    if (!space.is_ok()) return space.status();
    spaces.insert(innodb::SpaceId(*space));
  }
  return spaces;
}

// ---- whether the final phase must read the index ids again -----------------------------------

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_letter(c) || (c >= '0' && c <= '9') || c == '_' || c == '$'; }

// Statements that never build an index. Those that run other statements are left out (CALL,
// EXECUTE: the processlist may show the CALL between two of its statements), and so are those
// that load (LOAD DATA: MySQL 8.4+ enterprise bulk load builds without redo). Stored functions
// and triggers, which SELECT, DO, SET and the DML may run, cannot run DDL (it commits
// implicitly, which they refuse).
const std::set<std::string, std::less<>>& keywords_without_index_build() {
  static const std::set<std::string, std::less<>> k{
      "ANALYZE",  "BEGIN",   "CHECK",    "CHECKSUM", "COMMIT", "DELETE", "DESC",    "DESCRIBE",  "DO",
      "EXPLAIN",  "FLUSH",   "HANDLER",  "HELP",     "INSERT", "KILL",   "LOCK",    "RELEASE",   "REPLACE",
      "ROLLBACK", "SAVEPOINT", "SELECT", "SET",      "SHOW",   "START",  "TABLE",   "UNLOCK",    "UPDATE",
      "USE",      "VALUES",  "WITH",     "XA"};
  return k;
}

// Counters of statements that never build an index themselves. CALL and EXECUTE (Com_call_procedure,
// Com_execute_sql, Com_stmt_execute) are counted, and so is what they run, under its own counter
// (an ALTER TABLE in a procedure or a prepared statement moves Com_alter_table). Com_admin_commands
// counts protocol commands that are no statement (ping, statistics, change user).
const std::set<std::string, std::less<>>& counters_without_index_build() {
  static const std::set<std::string, std::less<>> c{
      "Com_admin_commands", "Com_analyze",        "Com_begin",          "Com_call_procedure",
      "Com_change_db",      "Com_check",          "Com_checksum",       "Com_commit",
      "Com_dealloc_sql",    "Com_delete",         "Com_delete_multi",   "Com_do",
      "Com_empty_query",    "Com_execute_sql",    "Com_explain_other",  "Com_flush",
      "Com_get_diagnostics", "Com_ha_close",      "Com_ha_open",        "Com_ha_read",
      "Com_help",           "Com_insert",         "Com_insert_select",  "Com_kill",
      "Com_lock_instance",  "Com_lock_tables",    "Com_prepare_sql",    "Com_release_savepoint",
      "Com_replace",        "Com_replace_select", "Com_resignal",       "Com_rollback",
      "Com_rollback_to_savepoint", "Com_savepoint", "Com_select",       "Com_set_option",
      "Com_signal",         "Com_unlock_instance", "Com_unlock_tables", "Com_update",
      "Com_update_multi"};
  return c;
}

// Whole families: SHOW reads, the prepared-statement protocol counts its commands (the statement
// executed is counted under its own counter too), XA only ends transactions.
constexpr std::string_view kPrefixesWithoutIndexBuild[] = {"Com_show_", "Com_stmt_", "Com_xa_"};

}  // namespace

std::string first_keyword(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (is_space(s[i])) {
      ++i;
    } else if (s.substr(i, 2) == "/*") {
      // /*! and /*M! hold text the server may execute.
      if (s.substr(i, 3) == "/*!" || s.substr(i, 4) == "/*M!") return "";
      const size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return "";
      i = end + 2;
    } else if (s[i] == '#' || (s.substr(i, 2) == "--" && (i + 2 == s.size() || is_space(s[i + 2])))) {
      const size_t end = s.find('\n', i);
      if (end == std::string_view::npos) return "";
      i = end + 1;
    } else {
      break;
    }
  }
  if (i == s.size() || !is_letter(s[i])) return "";
  std::string word;
  for (; i < s.size() && is_word(s[i]); ++i) word += char(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
  return word;
}

bool may_build_index(std::string_view statement) {
  return !keywords_without_index_build().count(first_keyword(statement));
}

bool counter_of_statement_without_index_build(std::string_view name) {
  if (counters_without_index_build().count(name)) return true;
  for (std::string_view prefix : kPrefixesWithoutIndexBuild)
    if (name.substr(0, prefix.size()) == prefix && name.size() > prefix.size()) return true;
  return false;
}

std::vector<std::string> moved_counters(const StatementCounters& before, const StatementCounters& after) {
  std::vector<std::string> moved;
  const auto differs = [&](const std::string& name, uint64_t value, const StatementCounters& other) {
    auto it = other.find(name);
    return it == other.end() || it->second != value;
  };
  for (const auto& [name, value] : after)
    if (!counter_of_statement_without_index_build(name) && differs(name, value, before)) moved.push_back(name);
  for (const auto& [name, value] : before)
    if (!counter_of_statement_without_index_build(name) && !after.count(name)) moved.push_back(name);
  return moved;
}

std::optional<std::string> statement_that_may_build_index(const std::vector<ProcessRow>& threads, uint64_t own_id) {
  for (const ProcessRow& t : threads)
    if (t.id != own_id && t.info && may_build_index(*t.info))
      return "thread " + std::to_string(t.id) + " (" + t.command + ") runs " + printable(*t.info, 80);
  return std::nullopt;
}

IndexIdsChoice choose_index_ids_read(const DdlWatch& watch, const Result<StatementCounters>& at_end) {
  if (!watch.counters) return {true, watch.closed_because};
  if (!at_end.is_ok()) return {true, "the statement counters could not be read again: " + at_end.status().message()};
  const std::vector<std::string> moved = moved_counters(*watch.counters, *at_end);
  if (moved.empty())
    return {false, "no statement that may build an index ran during the copy (Com_ counters unchanged)"};
  std::string list;
  for (size_t i = 0; i < moved.size() && i < 5; ++i) list += (i ? ", " : "") + moved[i];
  return {true, list + (moved.size() > 5 ? ", ..." : "") + " moved"};
}

Result<StatementCounters> read_statement_counters(Session& session) {
  auto rows = session.query("SHOW GLOBAL STATUS LIKE 'Com\\_%'");
  if (!rows.is_ok()) return rows.status();
  StatementCounters counters;
  for (const Row& row : *rows) {
    if (row.size() < 2 || !row[0] || !row[1]) continue;
    auto value = parse_u64(*row[1], "the status counter " + *row[0], UINT64_MAX, ExitCode::kUnsupported);
    if (!value.is_ok()) return value.status();
    counters.emplace(*row[0], *value);
  }
  if (counters.empty()) return Status::error(ExitCode::kUnsupported, "SHOW GLOBAL STATUS shows no Com_ counter");
  return counters;
}

DdlWatch watch_for_ddl(Session& session) {
  DdlWatch watch;
  const auto closed = [&](std::string why) {
    watch.closed_because = std::move(why);
    return std::move(watch);
  };
  // S0 first: a statement dispatched after the processlist is read is counted after S0.
  auto counters = read_statement_counters(session);
  if (!counters.is_ok()) return closed("the statement counters could not be read: " + counters.status().message());
  auto process = holds_process_privilege(session);
  if (!process.is_ok()) return closed("the account's privileges could not be read: " + process.status().message());
  if (!*process) return closed("the account holds no PROCESS privilege: other sessions' statements may be hidden");
  auto list = session.query_named("SHOW FULL PROCESSLIST");
  if (!list.is_ok()) return closed("the processlist could not be read: " + list.status().message());
  // NamedRows::get shows NULL as "": the Info column is read by position, NULL kept.
  const auto info = std::find(list->columns.begin(), list->columns.end(), "Info");
  if (info == list->columns.end()) return closed("SHOW FULL PROCESSLIST has no Info column");
  const size_t info_at = size_t(info - list->columns.begin());
  std::vector<ProcessRow> threads;
  for (const Row& row : list->rows) {
    auto id = parse_u64(list->get(row, "Id"), "a thread id of SHOW FULL PROCESSLIST");
    if (!id.is_ok()) return closed(id.status().message());
    threads.push_back({*id, list->get(row, "Command"), info_at < row.size() ? row[info_at] : std::nullopt});
  }
  if (auto running = statement_that_may_build_index(threads, session.thread_id()))
    return closed("a statement that may build an index was running when the copy began: " + *running);
  watch.counters = std::move(counters).value();
  return watch;
}

namespace {

// Page 0 of `path`: the space id (nullopt while it is not written) and the stamp of the file read.
struct PageZero {
  FileStamp stamp;
  std::optional<innodb::SpaceId> space_id;
};

Result<PageZero> read_page_zero(const std::string& path, innodb::Flavour flavour, const innodb::TablespaceFormat& fallback) {
  auto file = ReadFile::open(path);
  if (!file.is_ok()) return file.status();
  // Before the read: a write after it moves the stamp, so the space id read is never newer than
  // the stamp says.
  auto stamp = file->stamp();
  if (!stamp.is_ok()) return stamp.status();
  auto header = read_tablespace_header(*file, flavour, fallback);
  if (!header.is_ok()) return header.status();
  return PageZero{*stamp, header->space_id};
}

}  // namespace

Result<SpaceIdReads> read_space_ids(const DatadirInventory& inventory, const innodb::TablespaceFormat& fallback,
                                    unsigned threads) {
  std::vector<const std::string*> paths;
  for (const TablespaceEntry& t : inventory.tablespaces)
    if (t.kind != TablespaceKind::kTemporary) paths.push_back(&t.files.front().rel_path);
  std::vector<std::optional<PageZero>> read(paths.size());
  // Only an interrupt fails: what cannot be read now is read in the final phase.
  if (Status s = run_parallel(paths.size(), threads,
                              [&](size_t i) {
                                auto page0 = read_page_zero(inventory.dir + "/" + *paths[i], inventory.flavour, fallback);
                                if (page0.is_ok()) read[i] = *page0;
                                return Status::ok();
                              });
      !s.is_ok())
    return s;
  SpaceIdReads reads;
  for (size_t i = 0; i < paths.size(); ++i)
    if (read[i] && read[i]->space_id) reads.emplace(*paths[i], SpaceIdRead{read[i]->stamp, *read[i]->space_id});
  return reads;
}

Result<std::vector<TablespaceSighting>> sight_tablespaces(const DatadirInventory& inventory,
                                                          const innodb::TablespaceFormat& fallback,
                                                          const SpaceIdReads& earlier,
                                                          std::vector<const TablespaceEntry*>& entries,
                                                          uint64_t& page0_reads) {
  std::vector<TablespaceSighting> now;
  for (const TablespaceEntry& t : inventory.tablespaces) {
    if (t.kind == TablespaceKind::kTemporary) continue;
    TablespaceSighting s;
    for (size_t i = 0; i < t.files.size(); ++i) {
      const std::string path = inventory.dir + "/" + t.files[i].rel_path;
      auto stamp = stamp_path(path);
      if (!stamp.is_ok()) return stamp.status();
      if (!*stamp) return Status::error(ExitCode::kSourceIo, "tablespace file " + printable(path) + " is gone");
      FileIdentity identity = (*stamp)->identity;
      if (i == 0) {
        auto read = earlier.find(t.files[i].rel_path);
        if (read != earlier.end() && unchanged_since(read->second.stamp, **stamp)) {
          s.space_id = read->second.space_id;
        } else {
          auto page0 = read_page_zero(path, inventory.flavour, fallback);
          if (!page0.is_ok()) return page0.status();
          ++page0_reads;
          s.space_id = page0->space_id;
          identity = page0->stamp.identity;
        }
      }
      s.rel_paths.push_back(t.files[i].rel_path);
      s.files.push_back(identity);
    }
    now.push_back(std::move(s));
    entries.push_back(&t);
  }
  return now;
}

std::vector<TablespaceSighting> copied_tablespaces(const std::vector<CopiedFile>& files) {
  std::map<innodb::SpaceId, TablespaceSighting> by_space;
  std::vector<TablespaceSighting> copied;
  for (const CopiedFile& f : files) {
    if (!f.tablespace) continue;
    const std::string& source = f.delta_of.empty() ? f.rel_path : f.delta_of;
    if (!f.space_id) {  // page 0 not written when copied: a tablespace of its own, never kept
      copied.push_back({std::nullopt, {source}, {f.source}});
      continue;
    }
    TablespaceSighting& s = by_space[*f.space_id];
    s.space_id = f.space_id;
    s.rel_paths.push_back(source);
    s.files.push_back(f.source);
  }
  for (auto& [id, s] : by_space) copied.push_back(std::move(s));
  return copied;
}

}  // namespace mysqlclone
