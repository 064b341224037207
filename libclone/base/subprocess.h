// Child processes with pipes, for the programs mysqlclone drives: ssh for `remote --ssh` (the
// password in on stdin, the stream out on stdout, its messages on stderr) and this program
// again as the session guard (session_guard.h).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "libclone/base/status.h"

namespace mysqlclone {

struct ChildOptions {
  // The program: argv[0] is looked up in PATH unless `path` names the file to run.
  std::string path;
  // Which of the child's stdin, stdout and stderr are pipes to us; the others are ours.
  bool pipe_in = false, pipe_out = false, pipe_err = false;
  // A session of its own: signals to our process group (a terminal's Ctrl-C, a kill of the
  // group) do not reach it.
  bool new_session = false;
};

class Child {
 public:
  // Starts argv with every descriptor of ours above stderr closed in the child and SIGPIPE back
  // to its default (we ignore it; the child's own programs expect the default).
  static Result<std::unique_ptr<Child>> start(const std::vector<std::string>& argv, const ChildOptions& options);
  ~Child();  // closes our pipe ends, then SIGKILLs and reaps a child that is still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Our ends of the pipes (-1 when not a pipe, or closed).
  int in() const { return in_; }
  int out() const { return out_; }
  int err() const { return err_; }
  void close_in();
  void close_out();
  void close_err();
  // Writes all of `text` to the child's stdin.
  Status write_in(const std::string& text);

  void signal(int sig);
  // Waits for the child to exit: its exit status, or 128+N when signal N ended it.
  int wait();
  // Whether it exits within `seconds` (then wait() returns at once).
  bool exits_within(double seconds);
  // After wait(): the signal that ended it, 0 when it exited.
  int end_signal() const { return signal_; }
  pid_t pid() const { return pid_; }

 private:
  Child() = default;
  bool reap(int options);  // waitpid; true once the status is known
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  int status_ = -1;
  int signal_ = 0;
};

// A short-lived program's outcome.
struct Captured {
  int status = -1;  // as Child::wait()
  std::string out, err;
};

// Runs argv to its end with stdout and stderr captured (at most `limit` bytes of each kept, the
// rest read and dropped) and stdin empty.
Result<Captured> run_captured(const std::vector<std::string>& argv, size_t limit);

}  // namespace mysqlclone
