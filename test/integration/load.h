// Write load for integration tests against a real server: sysbench (through server.sh) and the
// server's own client fed by a shell loop, each a Background process group, bounded in time and
// killed by its destructor. Plus the few flavour-specific queries the load tests need, and the
// DDL loop of the issue 14 tests with the timings of its statements.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "test/integration/harness.h"

namespace it {

// sysbench TEST prepare on db sbtest (bounded); throws on failure.
void sysbench_prepare(const Server& s, const std::string& test, unsigned tables, unsigned rows);

// A load running in the background until it ends by itself (after max_seconds at most) or is
// stopped. The destructor kills it.
class Load {
 public:
  Load(std::string what, std::vector<std::string> argv, std::string stdin_text = "");
  bool running() { return proc_->running(); }
  // SIGTERM to the whole group, then SIGKILL; waits for it.
  void stop() { proc_->stop(10); }
  // What it printed, for failure messages.
  std::string describe() const;
  // Its whole stdout so far.
  std::string output() const { return proc_->out(); }
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::unique_ptr<Background> proc_;
};

// `sysbench TEST run` with `threads` threads for at most max_seconds.
Load sysbench_run(const Server& s, const std::string& test, unsigned tables, unsigned rows, unsigned threads,
                  unsigned max_seconds);

// The server's client running `statements` in one session in the background (ending once they
// have run, or at the first error).
Load sql_session(const Server& s, const std::string& what, const std::string& statements);

// The server's client reading statements from a bash loop until max_seconds: `body` is bash that
// prints the statements of iteration $i (1, 2, ...). The client stops at the first SQL error,
// which ends the load: callers check running().
Load sql_loop(const Server& s, const std::string& what, const std::string& body, unsigned max_seconds);

// Database `ld` and table ld.nt, MyISAM on MySQL and Aria on MariaDB (the non-InnoDB data a
// backup must copy under a lock). Returns the table's name.
std::string create_nontransactional_table(const Server& s);
// Inserts (and some updates and deletes) into ld.nt, a few hundred statements per second.
Load nontransactional_writer(const Server& s, unsigned max_seconds);

// Heavy redo: InnoDB table ld.blobs gets 1 MiB of new rows per statement (8 x 128 KiB), emptied
// every 16 statements. Tens of MiB of redo per second; with `pause_seconds` after each
// statement, at most 1 MiB per pause.
Load blob_writer(const Server& s, unsigned max_seconds, double pause_seconds = 0);

// Bank-style transfers: InnoDB table bank.account holds kBankAccounts accounts of kBankBalance
// each; every transaction moves an amount from one account to another and records it in InnoDB
// table bank.ledger (seq, from_id, to_id, amount), seq 1, 2, ... in commit order. So the total and
// the number of accounts never change, the ledger has no gap and every balance is what the
// ledger says, whatever instant a copy is consistent at.
constexpr unsigned kBankAccounts = 20;
constexpr unsigned kBankBalance = 1000;
void create_bank(const Server& s);
// Transfers from one session; sessions running it side by side keep the invariants too.
Load bank_transfers(const Server& s, unsigned max_seconds);
// "" when the accounts are all there and hold what they were created with in total, the ledger's
// seqs are 1..N and each balance is kBankBalance + received - sent by the ledger; else one line
// saying what is wrong (the first account that differs).
std::string bank_invariants(const Server& s);

// InnoDB's current LSN and last checkpoint LSN, as the server reports them.
uint64_t current_lsn(const Server& s);
uint64_t checkpoint_lsn(const Server& s);

// Waits (up to timeout_seconds) until no statement runs on the server but the caller's own:
// what a load sent before it was stopped has finished. False on timeout.
bool wait_quiet(const Server& s, double timeout_seconds);

// Sessions of `user` currently connected.
unsigned sessions_of(const Server& s, const std::string& user);

// ------------------------------------------------------------------------------ the DDL loop
//
// Issue 14's acceptance: a copy taken while one session runs DDL every second (CREATE, ALTER ...
// ADD COLUMN that rebuilds the table, RENAME, DROP, TRUNCATE) on tables of database `ddl`, each
// timed by the server's clock, so that a test can tell whether the copy blocked DDL and for how
// long.

// The SQL in which the flavours differ for the DDL loop, given explicitly to what runs it
// (ddl_dialect() picks it by a server's flavour). Checked on MySQL 9.7.4, MariaDB 10.11.19 and
// 11.8.9; the rest (WITH RECURSIVE in INSERT ... SELECT, UNIX_TIMESTAMP(SYSDATE(6)), RENAME,
// TRUNCATE) is the same on both.
struct DdlDialect {
  // A session statement that lifts WITH RECURSIVE's limit of 1000 iterations (the default on
  // both): MySQL cte_max_recursion_depth, MariaDB max_recursive_iterations.
  std::string recursion_limit;
  // What ALTER TABLE ... ADD COLUMN is given to rebuild the table in place (a new tablespace
  // file, a new table id): MySQL rebuilds with ALGORITHM=INPLACE; MariaDB reads ALGORITHM=INPLACE
  // as the least efficient algorithm allowed and adds the column instantly (no rebuild) unless
  // FORCE asks for one.
  std::string rebuild;
};
inline const DdlDialect kMysqlDdl{"SET SESSION cte_max_recursion_depth = 1000000", "ALGORITHM=INPLACE"};
inline const DdlDialect kMariadbDdl{"SET SESSION max_recursive_iterations = 1000000", "FORCE, ALGORITHM=INPLACE"};
const DdlDialect& ddl_dialect(const Server& s);

// The tables the DDL loop rebuilds in turn, one a round, by rows.
struct SizedTable {
  std::string name;  // in database ddl
  unsigned rows;
};
inline const std::vector<SizedTable> kDdlSizedTables{{"t_small", 500}, {"t_medium", 10000}, {"t_large", 60000}};

// SQL that creates ddl.`name` (id INT PRIMARY KEY, n INT, v VARCHAR(200), KEY (n)) holding `rows`
// rows of about 100 bytes each; run after d.recursion_limit in the same session.
std::string sized_table_sql(const std::string& name, unsigned rows);
// Database ddl with what the loop works on: kDdlSizedTables, ddl.trunc (emptied every round) and
// ddl.ren_a (renamed to ddl.ren_b and back, a table that existed before the copy).
void prepare_ddl_tables(const Server& s, const DdlDialect& d);
// Another table ddl.`name` of `rows` rows (sized_table_sql) that the loop leaves alone.
void create_sized_table(const Server& s, const DdlDialect& d, const std::string& name, unsigned rows);

// The DDL loop (after prepare_ddl_tables): one session, one round a second until max_seconds.
// Round i creates ddl.c<i> (3 rows), renames ddl.c<i-1> to ddl.r<i-1>, drops ddl.r<i-3>, adds a
// column to one of kDdlSizedTables in turn (rebuilding it: d.rebuild), truncates ddl.trunc and
// renames ddl.ren_a / ddl.ren_b. The session's lock_wait_timeout is `lock_wait_timeout`: a lock
// held longer than that makes its statement fail, and the client stops at the first error, which
// ends the loop (running() turns false). Each DDL statement that succeeds is timed (ddl_timings),
// the time it waited for locks included.
Load ddl_loop(const Server& s, const DdlDialect& d, unsigned max_seconds, unsigned lock_wait_timeout = 1);

// One DDL statement as the loop timed it.
struct DdlTiming {
  double begin = 0;    // server clock, epoch seconds
  double seconds = 0;  // how long the statement took
  std::string what;    // e.g. "create", "alter t_large"
};
// SQL that runs `statement` (no ';') timed as the loop times its own, under the name `what` (no
// quote): for a session of a test's own whose output goes to ddl_timings too.
std::string timed_sql(const std::string& what, const std::string& statement);
// The timed statements that have ended so far, in order, from a session's output (a statement
// that has begun but not ended, or failed, is not there).
std::vector<DdlTiming> ddl_timings(const std::string& out);

// Waits (at most 60 s) until the loop has timed 25 statements: what they take before a copy is
// the yardstick for "blocked" (DdlWindow). "" once it has; else why not, with the loop's output.
std::string wait_for_ddl_yardstick(Load& ddl);

// What the loop's timings say about a window [from, to] in which something ran (a copy, a clone).
struct DdlWindow {
  DdlTiming before;     // the slowest statement before the window: the yardstick (zero if none)
  DdlTiming during;     // the slowest during it (zero if none)
  size_t n_during = 0;  // how many ran during it
  // "DDL loop: slowest before the <name> ... s (what), during it ... s (what), N timed DDL
  // statements during the <name>", for an info line.
  std::string describe(const std::string& name) const;
};
// Which statements are before and during the window. kBeganIn: by when they began (before:
// began up to `from`; during: began within [from, to]), enough when a held-up statement fails
// at once (lock_wait_timeout = 1). kOverlapping: before, those that also ended before `from`;
// during, every one that ran at some time within [from, to], so that a statement that began just
// before the window and was held up by what began it counts against the window, not as the
// yardstick.
enum class DdlCounted { kBeganIn, kOverlapping };
DdlWindow ddl_window(const std::vector<DdlTiming>& v, double from, double to,
                     DdlCounted counted = DdlCounted::kBeganIn);

// The wall clock, epoch seconds: what DdlTiming::begin is compared with (the servers run on this
// host).
double now_epoch();

}  // namespace it
