// Runs fn(i) for i in [0, n) on `threads` worker threads, handing out items in order; stops
// handing out new items after the first failure or an interrupt, and returns the first failure.
#pragma once

#include <cstddef>
#include <functional>

#include "libclone/base/status.h"

namespace mysqlclone {

Status run_parallel(size_t n, unsigned threads, const std::function<Status(size_t)>& fn);

// 0 means the default: one thread per CPU, but at least 4 — copying and checking pages mostly
// waits on the disk, which serves several requests at once.
unsigned resolve_threads(unsigned requested);

}  // namespace mysqlclone
