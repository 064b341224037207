#include "libclone/base/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mysqlclone {
namespace {

TEST(Lane, RunsJobsInTheOrderGivenOnOneThreadOfItsOwn) {
  std::vector<int> order;
  std::thread::id first_thread;
  std::vector<std::future<std::thread::id>> done;
  {
    Lane lane;
    for (int i = 0; i < 100; ++i)
      done.push_back(lane.run([&order, i] {
        // Slow first jobs: a lane that ran jobs side by side would finish them out of order.
        if (i < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        order.push_back(i);
        return std::this_thread::get_id();
      }));
    first_thread = done.front().get();
    EXPECT_NE(first_thread, std::this_thread::get_id());
    for (size_t i = 1; i < done.size(); ++i) EXPECT_EQ(done[i].get(), first_thread);
  }
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[size_t(i)], i);
}

TEST(Lane, ItsEndRunsEveryJobStillQueued) {
  std::atomic<int> ran{0};
  {
    Lane lane;
    lane.run([] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); });
    for (int i = 0; i < 10; ++i) lane.run([&ran] { ++ran; });
    // The futures are dropped: the Lane, not they, keeps what the jobs use alive until they ran.
  }
  EXPECT_EQ(ran.load(), 10);
}

TEST(Lane, WhatAJobThrowsReachesItsFutureAndTheLaneGoesOn) {
  Lane lane;
  auto failed = lane.run([]() -> int { throw std::runtime_error("disk on fire"); });
  auto next = lane.run([] { return 7; });
  EXPECT_THROW(failed.get(), std::runtime_error);
  EXPECT_EQ(next.get(), 7);
}

TEST(RunParallel, WhatAJobThrowsFailsTheRunInsteadOfEndingTheProcess) {
  // Before, std::terminate: the process died without an error line or a marked target.
  Status s = run_parallel(8, 3, [](size_t i) -> Status {
    if (i == 5) throw std::bad_alloc();
    return Status::ok();
  });
  EXPECT_EQ(s.code(), ExitCode::kInternal);
  EXPECT_EQ(s.message(), "out of memory");
  s = run_parallel(2, 2, [](size_t i) -> Status {
    if (i == 1) throw std::runtime_error("disk on fire");
    return Status::ok();
  });
  EXPECT_EQ(s.code(), ExitCode::kInternal);
  EXPECT_NE(s.message().find("disk on fire"), std::string::npos);
  EXPECT_TRUE(run_parallel(4, 2, [](size_t) { return Status::ok(); }).is_ok());
}

}  // namespace
}  // namespace mysqlclone
