#include "libclone/command/local/ddl_window.h"

#include <map>

#include "libclone/base/text.h"
#include "libclone/datadir/tablespace_header.h"

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

Result<std::vector<TablespaceSighting>> sight_tablespaces(const DatadirInventory& inventory,
                                                          const innodb::TablespaceFormat& fallback,
                                                          std::vector<const TablespaceEntry*>& entries) {
  std::vector<TablespaceSighting> now;
  for (const TablespaceEntry& t : inventory.tablespaces) {
    if (t.kind == TablespaceKind::kTemporary) continue;
    TablespaceSighting s;
    for (size_t i = 0; i < t.files.size(); ++i) {
      auto file = ReadFile::open(inventory.dir + "/" + t.files[i].rel_path);
      if (!file.is_ok()) return file.status();
      auto identity = file->identity();
      if (!identity.is_ok()) return identity.status();
      if (i == 0) {
        auto header = read_tablespace_header(*file, inventory.flavour, fallback);
        if (!header.is_ok()) return header.status();
        s.space_id = header->space_id;
      }
      s.rel_paths.push_back(t.files[i].rel_path);
      s.files.push_back(*identity);
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
