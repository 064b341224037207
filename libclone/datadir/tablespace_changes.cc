#include "libclone/datadir/tablespace_changes.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

namespace mysqlclone {

TablespaceChanges plan_tablespace_changes(const std::vector<TablespaceSighting>& copied,
                                          const std::vector<TablespaceSighting>& now,
                                          const std::function<bool(innodb::SpaceId)>& rewritten, bool can_move) {
  TablespaceChanges plan;
  std::unordered_map<innodb::SpaceId, size_t> copied_by_space;
  std::map<std::vector<FileIdentity>, size_t> copied_by_file;  // copied with page 0 still zeros
  for (size_t i = 0; i < copied.size(); ++i) {
    if (copied[i].space_id)
      copied_by_space.emplace(*copied[i].space_id, i);
    else
      copied_by_file.emplace(copied[i].files, i);
  }
  std::unordered_set<innodb::SpaceId> spaces_now;
  for (const TablespaceSighting& n : now)
    if (n.space_id) spaces_now.insert(*n.space_id);

  std::vector<bool> kept(copied.size(), false);  // kept in the copy, under its name or a new one
  for (size_t i = 0; i < now.size(); ++i) {
    const TablespaceSighting& n = now[i];
    std::optional<size_t> match;
    if (n.space_id)
      if (auto it = copied_by_space.find(*n.space_id); it != copied_by_space.end()) match = it->second;
    // A file copied while its page 0 was still zeros (the server writes it at its first flush)
    // is known by the file on disk alone: one file holds one tablespace for its whole life.
    if (!match)
      if (auto it = copied_by_file.find(n.files); it != copied_by_file.end()) match = it->second;
    // The same tablespace in the same files on disk, and no page written behind the redo's back.
    if (match && !kept[*match] && copied[*match].files == n.files && !(n.space_id && rewritten(*n.space_id))) {
      const TablespaceSighting& c = copied[*match];
      if (c.rel_paths == n.rel_paths) {
        kept[*match] = true;
        continue;
      }
      ++plan.renamed;
      if (can_move && c.rel_paths.size() == 1 && n.rel_paths.size() == 1) {
        kept[*match] = true;
        plan.move.emplace_back(c.rel_paths[0], n.rel_paths[0]);
        continue;
      }
      --plan.renamed;  // counted below, as a copy under a new name
    }
    plan.copy.push_back(i);
  }
  std::unordered_set<std::string> removed;
  for (size_t j = 0; j < copied.size(); ++j) {
    if (kept[j]) continue;
    for (const std::string& p : copied[j].rel_paths) plan.remove.push_back(p);
    removed.insert(copied[j].rel_paths[0]);
  }
  // Copies under a name the copy held: rewritten; under a new name: created (a rename that
  // cannot be a move counts as a rename).
  std::unordered_set<std::string> refilled;
  for (size_t i : plan.copy) {
    const TablespaceSighting& n = now[i];
    refilled.insert(n.rel_paths[0]);
    if (removed.count(n.rel_paths[0]))
      ++plan.recopied;
    else if (n.space_id && copied_by_space.count(*n.space_id))
      ++plan.renamed;
    else
      ++plan.created;
  }
  for (size_t j = 0; j < copied.size(); ++j)
    if (!kept[j] && !refilled.count(copied[j].rel_paths[0]) &&
        !(copied[j].space_id && spaces_now.count(*copied[j].space_id)))
      ++plan.deleted;
  return plan;
}

}  // namespace mysqlclone
