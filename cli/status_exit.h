// Turning a failed Status into what the user sees: one error line on stderr (and, with --json,
// an error document on stdout) and the exit code.
#pragma once

#include "cli/global_options.h"
#include "libclone/base/status.h"

namespace mysqlclone {

int fail(const Status& status, const GlobalOptions& global);

}  // namespace mysqlclone
