#include "libclone/command/local/ddl_window.h"

#include <map>

#include "libclone/base/parallel.h"
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
