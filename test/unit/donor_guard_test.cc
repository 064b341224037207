// The guard's side of the donor guard (donor_guard.h): what it reads from the pipe and when it
// acts. (That it ends a real donor's clone after a SIGKILL is RemoteDdl.Sigkill*, integration.)
#include "libclone/command/remote/donor_guard.h"

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
  const int code = clone::run_donor_guard(fds[0]);
  ::close(fds[0]);
  return code;
}

// A donor nobody listens on: the guard must try it (and fail to connect) exactly when it acts.
const std::string kParams =
    R"({"host":"127.0.0.1","port":1,"user":"u","socket":"","ssl_mode":0,"ssl_ca":"","ssl_cert":"","ssl_key":"","password":"p"})"
    "\n";

TEST(DonorGuard, DoneOrNothingToGuardEndsQuietly) {
  EXPECT_EQ(guard_after(""), 0);
  EXPECT_EQ(guard_after(kParams), 0);                      // died before any session existed
  EXPECT_EQ(guard_after(kParams + "12\n13\ndone\n"), 0);   // the clone ended: nothing to kill
}

TEST(DonorGuard, EndOfFileWithoutDoneGoesToTheDonor) {
  EXPECT_EQ(guard_after(kParams + "12\n13\n"), int(ExitCode::kConnection));
  // A line cut by the parent's death is no message: "do" is not "done".
  EXPECT_EQ(guard_after(kParams + "12\ndo"), int(ExitCode::kConnection));
}

TEST(DonorGuard, AnUnreadableConnectionIsAnInternalError) {
  EXPECT_EQ(guard_after("{not json\n12\n"), int(ExitCode::kInternal));
}

}  // namespace
