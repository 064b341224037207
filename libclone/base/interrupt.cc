#include "libclone/base/interrupt.h"

#include <atomic>

namespace mysqlclone {
namespace {
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "must be usable from a signal handler");
}  // namespace

void request_interrupt() { g_interrupted.store(true, std::memory_order_relaxed); }
bool interrupted() { return g_interrupted.load(std::memory_order_relaxed); }
Status interrupted_status() { return Status::error(ExitCode::kInterrupted, "interrupted by a signal"); }

}  // namespace mysqlclone
