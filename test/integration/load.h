// Write load for integration tests against a real server: sysbench (through server.sh) and the
// server's own client fed by a shell loop, each a Background process group, bounded in time and
// killed by its destructor. Plus the few flavour-specific queries the load tests need.
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
// each; every transaction moves an amount from one account to another, so the total and the
// number of accounts never change, whatever instant a copy is consistent at.
constexpr unsigned kBankAccounts = 20;
constexpr unsigned kBankBalance = 1000;
void create_bank(const Server& s);
Load bank_transfers(const Server& s, unsigned max_seconds);
// "" when the accounts are all there and hold what they were created with in total, else what is wrong.
std::string bank_invariants(const Server& s);

// InnoDB's current LSN and last checkpoint LSN, as the server reports them.
uint64_t current_lsn(const Server& s);
uint64_t checkpoint_lsn(const Server& s);

// Waits (up to timeout_seconds) until no statement runs on the server but the caller's own:
// what a load sent before it was stopped has finished. False on timeout.
bool wait_quiet(const Server& s, double timeout_seconds);

// Sessions of `user` currently connected.
unsigned sessions_of(const Server& s, const std::string& user);

}  // namespace it
