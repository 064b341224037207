// Whether `local --lock-ddl=reduced` on MySQL may skip reading the dictionary's index ids again
// in the final phase (ddl_window.h): a statement's first keyword, which statements and counters
// never build an index, the counters that moved, and the choice made from them.
#include "libclone/command/local/ddl_window.h"

#include <gtest/gtest.h>

#include <string_view>
#include <utility>

namespace {
using namespace mysqlclone;

// Each statement text with its first keyword ("": it cannot be told).
TEST(FirstKeyword, SkipsWhitespaceAndCommentsUpperCasesAndGivesUpOnTheUnknown) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"select 1", "SELECT"},
      {"  \t\n\r Alter TABLE t ADD INDEX i (v)", "ALTER"},
      {"/* app=web */ SELECT 1", "SELECT"},
      {"/* a */ /* b\n c */\tinsert into t values (1)", "INSERT"},
      {"-- note\nUPDATE t SET v = 1", "UPDATE"},
      {"--\tnote\ndelete from t", "DELETE"},
      {"# note\r\n  optimize table t", "OPTIMIZE"},
      {"/*+ hint */ create index i on t (v)", "CREATE"},
      {"SELECT(1)", "SELECT"},
      {"show_x", "SHOW_X"},  // a word of its own, not SHOW
      {"", ""},
      {"   \n ", ""},
      {"/*!80000 ALTER TABLE t ADD INDEX i (v) */", ""},
      {"/*!ALTER TABLE t FORCE*/ SELECT 1", ""},
      {"/*M!100000 ALTER TABLE t FORCE */", ""},
      {"/* never closed SELECT 1", ""},
      {"-- a comment to the end", ""},
      {"# a comment to the end", ""},
      {"--1", ""},  // "--" without a space is no comment in MySQL
      {"(SELECT 1) UNION (SELECT 2)", ""},
      {"`t`", ""},
  };
  for (const auto& [text, keyword] : cases) EXPECT_EQ(first_keyword(text), keyword) << text;
}

TEST(MayBuildIndex, OnlyStatementsThatNeverDoAreLetThrough) {
  for (const char* sql : {"SELECT 1", "insert into t values (1)", "UPDATE t SET v=1", "DELETE FROM t", "REPLACE t VALUES (1)",
                          "COMMIT", "BEGIN", "START TRANSACTION", "ROLLBACK", "SAVEPOINT a", "RELEASE SAVEPOINT a",
                          "SET @a = 1", "SHOW FULL PROCESSLIST", "DO SLEEP(1)", "WITH c AS (SELECT 1) SELECT * FROM c",
                          "VALUES ROW(1)", "TABLE t", "CHECKSUM TABLE t", "CHECK TABLE t", "ANALYZE TABLE t",
                          "FLUSH TABLES", "LOCK TABLES t READ", "UNLOCK TABLES", "KILL QUERY 5", "USE db",
                          "XA START 'x'", "HANDLER t OPEN", "EXPLAIN SELECT 1", "DESCRIBE t", "desc t", "HELP 'x'"})
    EXPECT_FALSE(may_build_index(sql)) << sql;
  for (const char* sql : {"ALTER TABLE t ADD INDEX i (v)", "CREATE INDEX i ON t (v)", "OPTIMIZE TABLE t",
                          "CALL p()", "EXECUTE s", "LOAD DATA INFILE 'f' INTO TABLE t", "TRUNCATE t", "DROP TABLE t",
                          "RENAME TABLE a TO b", "REPAIR TABLE t", "PREPARE s FROM 'ALTER TABLE t FORCE'",
                          "/*!50000 SELECT 1 */", "", "CLONE LOCAL DATA DIRECTORY '/x'", "IMPORT TABLE FROM 'x'"})
    EXPECT_TRUE(may_build_index(sql)) << sql;
}

TEST(StatementCounters, AllowListIsExplicit) {
  for (const char* name : {"Com_select", "Com_insert", "Com_insert_select", "Com_update_multi", "Com_delete_multi",
                           "Com_replace_select", "Com_commit", "Com_rollback_to_savepoint", "Com_set_option",
                           "Com_show_status", "Com_show_processlist", "Com_stmt_execute", "Com_stmt_reprepare",
                           "Com_call_procedure", "Com_execute_sql", "Com_lock_instance", "Com_unlock_instance",
                           "Com_xa_commit", "Com_kill", "Com_flush", "Com_ha_read", "Com_admin_commands"})
    EXPECT_TRUE(counter_of_statement_without_index_build(name)) << name;
  for (const char* name : {"Com_alter_table", "Com_create_index", "Com_optimize", "Com_load", "Com_create_table",
                           "Com_truncate", "Com_repair", "Com_import", "Com_clone", "Com_binlog", "Com_show_",
                           "Com_stmt_", "Com_new_statement_of_a_later_version", "Com_selectx", "Com_"})
    EXPECT_FALSE(counter_of_statement_without_index_build(name)) << name;
}

TEST(StatementCounters, MovedOutsideTheAllowList) {
  const StatementCounters s0{{"Com_select", 10}, {"Com_alter_table", 3}, {"Com_optimize", 0}, {"Com_show_status", 1}};
  StatementCounters s1 = s0;
  EXPECT_TRUE(moved_counters(s0, s1).empty());
  s1["Com_select"] = 500;
  s1["Com_show_status"] = 7;
  EXPECT_TRUE(moved_counters(s0, s1).empty());
  s1["Com_optimize"] = 1;
  EXPECT_EQ(moved_counters(s0, s1), std::vector<std::string>{"Com_optimize"});
  s1["Com_alter_table"] = 2;  // gone down (never seen, but never "unchanged")
  EXPECT_EQ(moved_counters(s0, s1), (std::vector<std::string>{"Com_alter_table", "Com_optimize"}));
  // A counter that appears or disappears is an unknown move.
  StatementCounters appeared = s0;
  appeared["Com_new_ddl"] = 0;
  EXPECT_EQ(moved_counters(s0, appeared), std::vector<std::string>{"Com_new_ddl"});
  StatementCounters gone = s0;
  gone.erase("Com_alter_table");
  EXPECT_EQ(moved_counters(s0, gone), std::vector<std::string>{"Com_alter_table"});
  gone = s0;
  gone.erase("Com_select");
  EXPECT_TRUE(moved_counters(s0, gone).empty());
}

TEST(Processlist, AnyThreadButOursWithAStatementThatMayBuildAnIndex) {
  const std::vector<ProcessRow> quiet{{5, "Daemon", std::nullopt},
                                      {7, "Query", std::nullopt},  // an idle replication applier
                                      {8, "Sleep", std::nullopt},
                                      {9, "Query", "SELECT * FROM t"},
                                      {10, "Query", "ALTER TABLE t ADD INDEX i (v)"}};
  EXPECT_EQ(statement_that_may_build_index(quiet, 10), std::nullopt);
  auto busy = quiet;
  busy.push_back({54, "Connect", "ALTER TABLE t ADD INDEX i (v)"});  // an event's statement
  auto found = statement_that_may_build_index(busy, 10);
  ASSERT_TRUE(found);
  EXPECT_NE(found->find("thread 54"), std::string::npos) << *found;
  EXPECT_NE(found->find("ALTER TABLE t"), std::string::npos) << *found;
  busy = quiet;
  busy.push_back({60, "Execute", "/*!80000 SELECT 1 */"});
  EXPECT_TRUE(statement_that_may_build_index(busy, 10));
  busy = quiet;
  busy.push_back({61, "Query", ""});
  EXPECT_TRUE(statement_that_may_build_index(busy, 10));
}

TEST(IndexIdsChoice, SkippedOnlyWhenOpenAndNothingMoved) {
  const StatementCounters s0{{"Com_select", 10}, {"Com_alter_table", 3}};
  const DdlWatch open{s0, ""};
  const DdlWatch closed{std::nullopt, "the account has no PROCESS privilege"};

  StatementCounters s1 = s0;
  s1["Com_select"] = 11;
  IndexIdsChoice c = choose_index_ids_read(open, Result<StatementCounters>(s1));
  EXPECT_FALSE(c.read_dictionary);
  EXPECT_NE(c.why.find("unchanged"), std::string::npos) << c.why;

  c = choose_index_ids_read(closed, Result<StatementCounters>(s1));
  EXPECT_TRUE(c.read_dictionary);
  EXPECT_EQ(c.why, "the account has no PROCESS privilege");

  s1["Com_alter_table"] = 4;
  c = choose_index_ids_read(open, Result<StatementCounters>(s1));
  EXPECT_TRUE(c.read_dictionary);
  EXPECT_EQ(c.why, "Com_alter_table moved");

  c = choose_index_ids_read(open, Result<StatementCounters>(Status::error(ExitCode::kConnection, "gone away")));
  EXPECT_TRUE(c.read_dictionary);
  EXPECT_NE(c.why.find("gone away"), std::string::npos) << c.why;
}

}  // namespace
