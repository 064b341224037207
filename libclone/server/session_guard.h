// Undoing on a server what a killed mysqlclone left done. A SIGKILL (the OOM killer, a DBA's
// kill -9) runs none of our cleanup: the server drops the locks of our sessions when they close,
// but not everything ends with a session — a replica's applier we stopped stays stopped
// (--safe-replica-backup), and a donor keeps an abandoned clone for minutes waiting for a
// reconnect (remote). So before doing such a thing we start a guard: this program again
// (`mysqlclone guard`, in a session of its own so that signals to our process group do not reach
// it), reading a pipe from us. We tell it how to reach the server and, as we go, the statements
// that undo what we did; "done" ends it quietly. If the pipe closes without "done", we are dead:
// the guard connects and runs those statements.
//
// What no guard on this host covers: the loss of the host itself.
#pragma once

#include <memory>
#include <string>

#include "libclone/base/status.h"
#include "libclone/base/subprocess.h"
#include "libclone/server/connection.h"

namespace mysqlclone {

class SessionGuard {
 public:
  // Spawns the guard and hands it `params` (the password goes through the pipe, never argv) and
  // `what` it undoes, for its message ("the replica's appliers it stopped").
  static Result<std::unique_ptr<SessionGuard>> start(const ConnectionParams& params, const std::string& what);
  ~SessionGuard();  // release()
  SessionGuard(const SessionGuard&) = delete;
  SessionGuard& operator=(const SessionGuard&) = delete;

  // One more statement to run should we die. A guard that is gone already is not an error: the
  // run goes on as it would without one (a warning says so).
  void on_death(const std::string& statement);
  // Nothing left to undo (we did it ourselves, or it ended): the guard exits.
  void release();
  // We could not undo it ourselves: the guard tries now, as if we had died, and is waited for.
  void hand_over();

 private:
  SessionGuard(std::unique_ptr<Child> child, std::string what) : child_(std::move(child)), what_(std::move(what)) {}
  void say(const std::string& line);
  std::unique_ptr<Child> child_;  // null once released
  std::string what_;
};

// The guard's side (`mysqlclone guard`): reads the server's connection and the statements from
// `in_fd` until end of file; unless the last line was "done", connects and runs them in order.
// Returns the process's exit code.
int run_session_guard(int in_fd);

}  // namespace mysqlclone
