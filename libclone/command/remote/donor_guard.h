// A killed `remote` (SIGKILL, the OOM killer) cannot end its clone on the donor, and the donor
// keeps an abandoned clone for clone_donor_timeout_after_network_failure minutes (5 by default)
// waiting for a reconnect. It holds no lock then, but while it sits in its page copy stage the
// donor holds every in-place index build and table rebuild (ALTER ... ALGORITHM=INPLACE) until
// the stage ends — for those minutes. So `remote` starts a guard first: this program again
// (`mysqlclone guard-donor`, in a session of its own so that signals to our process group do not
// reach it), reading a pipe from us. We tell it how to reach the donor and each clone session as
// it opens; "done" ends it quietly. If the pipe closes without "done", we are dead: the guard
// connects and KILLs the sessions, which makes the donor drop the clone at once.
//
// What no guard on this host covers: the loss of the host itself or of the network. Then the
// donor waits its timeout; its DML and every other DDL never wait for the abandoned clone.
#pragma once

#include <memory>

#include "libclone/base/status.h"
#include "libclone/base/subprocess.h"
#include "libclone/server/connection.h"

namespace mysqlclone::clone {

class DonorGuard {
 public:
  // Spawns the guard and hands it `params` (the password goes through the pipe, never argv).
  static Result<std::unique_ptr<DonorGuard>> start(const ConnectionParams& params);
  ~DonorGuard();  // release()
  DonorGuard(const DonorGuard&) = delete;
  DonorGuard& operator=(const DonorGuard&) = delete;

  // Another donor session to end should we die. A guard that is gone already is not an error:
  // the clone goes on as it would without one.
  void watch(unsigned long donor_thread);
  // Nothing left to guard (the clone ended, or we ended it ourselves): the guard exits.
  void release();

 private:
  explicit DonorGuard(std::unique_ptr<Child> child) : child_(std::move(child)) {}
  void say(const std::string& line);
  std::unique_ptr<Child> child_;  // null once released
};

// The guard's side (`mysqlclone guard-donor`): reads the donor's connection and the session ids
// from `in_fd` until end of file; unless the last line was "done", KILLs those sessions. Returns
// the process's exit code.
int run_donor_guard(int in_fd);

}  // namespace mysqlclone::clone
