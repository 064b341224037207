// Options every subcommand understands.
#pragma once

#include "libclone/server/option_file.h"

namespace mysqlclone {

struct GlobalOptions {
  bool json = false;   // one result document on stdout
  bool quiet = false;  // warnings and errors only, no progress (cron)
  OptionFileChoice files;  // --defaults-file, --defaults-extra-file, --no-defaults
};

}  // namespace mysqlclone
