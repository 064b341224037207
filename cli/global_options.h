// Options every subcommand understands.
#pragma once

#include <cstdio>

namespace mysqlclone {

struct GlobalOptions {
  bool json = false;   // one result document on stdout
  bool quiet = false;  // warnings and errors only, no progress (cron)
  // Where results (the summary, the JSON document) go: stderr when stdout carries a stream.
  FILE* results = stdout;
};

}  // namespace mysqlclone
