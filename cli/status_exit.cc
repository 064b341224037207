#include "cli/status_exit.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "libclone/base/log.h"

namespace mysqlclone {

int fail(const Status& status, const GlobalOptions& global) {
  log_error("{}", status.message());
  if (global.json) {
    nlohmann::json j = {{"ok", false},
                        {"error", status.message()},
                        {"exit_code", int(status.code())},
                        {"exit_reason", exit_code_name(status.code())}};
    std::puts(j.dump(2).c_str());
  }
  return int(status.code());
}

}  // namespace mysqlclone
