// The guard's side of the session guard (session_guard.h): what it reads from the pipe and when
// it acts. (That it ends a real donor's clone after a SIGKILL is RemoteDdl.Sigkill*, and that it
// starts a replica's stopped appliers again is ReplicaAsSource, integration.)
#include "libclone/server/session_guard.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace {
using namespace mysqlclone;

// Runs the guard on a pipe that carried `text`, then end of file.
int guard_after(const std::string& text) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  EXPECT_EQ(::write(fds[1], text.data(), text.size()), ssize_t(text.size()));
  ::close(fds[1]);
  const int code = run_session_guard(fds[0]);
  ::close(fds[0]);
  return code;
}

// A server nobody listens on: the guard must try it (and fail to connect) exactly when it acts.
const std::string kHeader =
    R"({"host":"127.0.0.1","port":1,"user":"u","socket":"","ssl_mode":0,"ssl_ca":"","ssl_cert":"","ssl_key":"","password":"p","what":"a test's"})"
    "\n";

TEST(SessionGuard, DoneOrNothingToUndoEndsQuietly) {
  EXPECT_EQ(guard_after(""), 0);
  EXPECT_EQ(guard_after(kHeader), 0);                                  // died before anything was done
  EXPECT_EQ(guard_after(kHeader + "\"KILL 12\"\n\"KILL 13\"\ndone\n"), 0);  // undone by the parent itself
}

TEST(SessionGuard, EndOfFileWithoutDoneGoesToTheServer) {
  EXPECT_EQ(guard_after(kHeader + "\"KILL 12\"\n\"START SLAVE 'a\\nb' SQL_THREAD\"\n"), int(ExitCode::kConnection));
  // A line cut by the parent's death is no message: "do" is not "done".
  EXPECT_EQ(guard_after(kHeader + "\"KILL 12\"\ndo"), int(ExitCode::kConnection));
}

TEST(SessionGuard, UnreadableInstructionsAreAnInternalError) {
  EXPECT_EQ(guard_after("{not json\n\"KILL 12\"\n"), int(ExitCode::kInternal));
  EXPECT_EQ(guard_after(kHeader + "KILL 12\n"), int(ExitCode::kInternal));  // a statement not as a JSON string
}

}  // namespace
