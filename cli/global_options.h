// Options every subcommand understands.
#pragma once

namespace mysqlclone {

struct GlobalOptions {
  bool json = false;   // one result document on stdout
  bool quiet = false;  // warnings and errors only, no progress (cron)
};

}  // namespace mysqlclone
