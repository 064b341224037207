// The plan that brings a copy taken while DDL ran in line with the server's tablespaces at the
// end: kept, moved (through any chain or swap of names), copied again, removed.
#include "libclone/datadir/tablespace_changes.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace {
using namespace mysqlclone;

FileIdentity file(uint64_t inode, int64_t born = 1) { return FileIdentity{1, inode, born}; }

TablespaceSighting ts(std::optional<innodb::SpaceId> space, const std::string& path, FileIdentity f) {
  return TablespaceSighting{space, {path}, {f}};
}

const auto nothing_rewritten = [](innodb::SpaceId) { return false; };

// The copy after the plan: removes, then moves (through temporary names), then copies; each name
// maps to the space id the copy holds there, -1 for a file copied again from the server now.
std::map<std::string, long> apply(const std::vector<TablespaceSighting>& copied,
                                  const std::vector<TablespaceSighting>& now, const TablespaceChanges& plan) {
  std::map<std::string, long> copy;
  for (const auto& c : copied) copy[c.rel_paths[0]] = c.space_id ? long(*c.space_id) : -2;
  for (const auto& r : plan.remove) EXPECT_EQ(copy.erase(r), 1u) << "removes a file the copy has: " << r;
  std::map<std::string, long> moving;
  for (const auto& [from, to] : plan.move) {
    EXPECT_TRUE(copy.count(from)) << from;
    moving[to] = copy[from];
    copy.erase(from);
  }
  for (const auto& [to, id] : moving) {
    EXPECT_FALSE(copy.count(to)) << "a move onto a file still in the copy: " << to;
    copy[to] = id;
  }
  for (size_t i : plan.copy) {
    EXPECT_FALSE(copy.count(now[i].rel_paths[0])) << "a copy onto a file still in the copy: " << now[i].rel_paths[0];
    copy[now[i].rel_paths[0]] = -1;
  }
  return copy;
}

TEST(TablespaceChanges, NothingChangedKeepsEverything) {
  std::vector<TablespaceSighting> copied{ts(0, "ibdata1", file(1)), ts(5, "db/t.ibd", file(2))};
  const auto plan = plan_tablespace_changes(copied, copied, nothing_rewritten, true);
  EXPECT_TRUE(plan.remove.empty() && plan.move.empty() && plan.copy.empty());
  EXPECT_EQ(plan.created + plan.renamed + plan.deleted + plan.recopied, 0u);
}

TEST(TablespaceChanges, CreateDropAndRename) {
  std::vector<TablespaceSighting> copied{ts(5, "db/a.ibd", file(2)), ts(6, "db/gone.ibd", file(3))};
  std::vector<TablespaceSighting> now{ts(5, "other/b.ibd", file(2)), ts(7, "db/new.ibd", file(4))};
  const auto plan = plan_tablespace_changes(copied, now, nothing_rewritten, true);
  EXPECT_EQ(plan.renamed, 1u);
  EXPECT_EQ(plan.created, 1u);
  EXPECT_EQ(plan.deleted, 1u);
  EXPECT_EQ(plan.recopied, 0u);
  EXPECT_EQ(apply(copied, now, plan), (std::map<std::string, long>{{"other/b.ibd", 5}, {"db/new.ibd", -1}}));
}

TEST(TablespaceChanges, SwappedNamesAndAChainMoveWithoutCopying) {
  // a <-> b swapped through a temporary name; c -> d -> e: every file keeps its bytes.
  std::vector<TablespaceSighting> copied{ts(1, "a", file(1)), ts(2, "b", file(2)), ts(3, "c", file(3)),
                                         ts(4, "d", file(4))};
  std::vector<TablespaceSighting> now{ts(1, "b", file(1)), ts(2, "a", file(2)), ts(3, "d", file(3)),
                                      ts(4, "e", file(4))};
  const auto plan = plan_tablespace_changes(copied, now, nothing_rewritten, true);
  EXPECT_TRUE(plan.copy.empty());
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_EQ(plan.renamed, 4u);
  EXPECT_EQ(apply(copied, now, plan), (std::map<std::string, long>{{"a", 2}, {"b", 1}, {"d", 3}, {"e", 4}}));
}

TEST(TablespaceChanges, SameNameNewSpaceIsCopiedAgain) {
  // DROP + CREATE, TRUNCATE, a rebuilding ALTER, MySQL's undo truncation: a new space id.
  std::vector<TablespaceSighting> copied{ts(5, "db/t.ibd", file(2))};
  std::vector<TablespaceSighting> now{ts(9, "db/t.ibd", file(3))};
  const auto plan = plan_tablespace_changes(copied, now, nothing_rewritten, true);
  EXPECT_EQ(plan.recopied, 1u);
  EXPECT_EQ(plan.created + plan.deleted, 0u);
  EXPECT_EQ(apply(copied, now, plan), (std::map<std::string, long>{{"db/t.ibd", -1}}));
}

TEST(TablespaceChanges, SameSpaceAnotherFileIsCopiedAgain) {
  // DISCARD + IMPORT keeps the space id in another file; an inode reused at once differs by its
  // birth time.
  std::vector<TablespaceSighting> copied{ts(5, "db/t.ibd", file(2, 100))};
  for (const FileIdentity& other : {file(3, 100), file(2, 200)}) {
    std::vector<TablespaceSighting> now{ts(5, "db/t.ibd", other)};
    const auto plan = plan_tablespace_changes(copied, now, nothing_rewritten, true);
    EXPECT_EQ(plan.recopied, 1u);
    EXPECT_EQ(plan.deleted, 0u);
    EXPECT_EQ(apply(copied, now, plan), (std::map<std::string, long>{{"db/t.ibd", -1}}));
  }
}

TEST(TablespaceChanges, RedoLessWritesAreCopiedAgainEvenWhenRenamed) {
  std::vector<TablespaceSighting> copied{ts(5, "db/t.ibd", file(2)), ts(6, "db/u.ibd", file(3))};
  std::vector<TablespaceSighting> now{ts(5, "db/t.ibd", file(2)), ts(6, "db/v.ibd", file(3))};
  const auto plan = plan_tablespace_changes(copied, now, [](innodb::SpaceId s) { return s == 5 || s == 6; }, true);
  EXPECT_EQ(plan.recopied, 1u);  // t
  EXPECT_EQ(plan.renamed, 1u);   // u, copied again as v
  EXPECT_TRUE(plan.move.empty());
  EXPECT_EQ(apply(copied, now, plan), (std::map<std::string, long>{{"db/t.ibd", -1}, {"db/v.ibd", -1}}));
}

TEST(TablespaceChanges, WithoutMovesARenameIsCopiedAgain) {
  std::vector<TablespaceSighting> copied{ts(5, "db/a.ibd", file(2))};
  std::vector<TablespaceSighting> now{ts(5, "db/b.ibd", file(2))};
  const auto plan = plan_tablespace_changes(copied, now, nothing_rewritten, false);
  EXPECT_EQ(plan.renamed, 1u);
  EXPECT_EQ(plan.deleted, 0u);
  EXPECT_EQ(apply(copied, now, plan), (std::map<std::string, long>{{"db/b.ibd", -1}}));
}

TEST(TablespaceChanges, PageZeroNotWrittenWhenCopiedIsKnownByItsFile) {
  // Copied before the server's first flush wrote page 0: the same file is the same tablespace,
  // kept or moved; another file under the name is copied again.
  std::vector<TablespaceSighting> copied{ts(std::nullopt, "db/t.ibd", file(2)), ts(std::nullopt, "db/u.ibd", file(3)),
                                         ts(std::nullopt, "db/v.ibd", file(4))};
  std::vector<TablespaceSighting> now{ts(5, "db/t.ibd", file(2)), ts(6, "db/w.ibd", file(3)),
                                      ts(7, "db/v.ibd", file(8))};
  const auto plan = plan_tablespace_changes(copied, now, nothing_rewritten, true);
  EXPECT_EQ(plan.renamed, 1u);
  EXPECT_EQ(plan.recopied, 1u);
  EXPECT_EQ(apply(copied, now, plan),
            (std::map<std::string, long>{{"db/t.ibd", -2}, {"db/w.ibd", -2}, {"db/v.ibd", -1}}));
  // ... unless its pages were written without redo since.
  const auto rebuilt = plan_tablespace_changes(copied, now, [](innodb::SpaceId s) { return s == 5; }, true);
  EXPECT_EQ(apply(copied, now, rebuilt),
            (std::map<std::string, long>{{"db/t.ibd", -1}, {"db/w.ibd", -2}, {"db/v.ibd", -1}}));
}

TEST(TablespaceChanges, MultiFileSystemTablespaceIsComparedFileByFile) {
  TablespaceSighting sys{0, {"ibdata1", "ibdata2"}, {file(1), file(2)}};
  std::vector<TablespaceSighting> copied{sys};
  EXPECT_TRUE(plan_tablespace_changes(copied, copied, nothing_rewritten, true).copy.empty());
  TablespaceSighting other = sys;
  other.files[1] = file(9);
  std::vector<TablespaceSighting> now{other};
  const auto plan = plan_tablespace_changes(copied, now, nothing_rewritten, true);
  EXPECT_EQ(plan.copy, std::vector<size_t>{0});
  EXPECT_EQ(plan.remove, (std::vector<std::string>{"ibdata1", "ibdata2"}));
}

}  // namespace
