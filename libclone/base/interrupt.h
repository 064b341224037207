// The process-wide "stop now" flag: set from the CLI's SIGINT/SIGTERM handler, polled by every
// worker loop and lock wait, so a signal ends the job through the normal error path (locks
// released, the donor's clone ended, the target marked failed) instead of killing it mid-write.
#pragma once

#include "libclone/base/status.h"

namespace mysqlclone {

void request_interrupt();  // async-signal-safe
bool interrupted();
// What a loop that stopped because interrupted() returns (exit code kInterrupted).
Status interrupted_status();

}  // namespace mysqlclone
