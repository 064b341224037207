// The process-wide "stop now" flag: set from the CLI's SIGINT/SIGTERM handler, polled by every
// worker loop, so a signal ends the job through the normal error path (locks released, target
// left unmarked) instead of killing it mid-write.
#pragma once

namespace mysqlclone {

void request_interrupt();  // async-signal-safe
bool interrupted();

}  // namespace mysqlclone
