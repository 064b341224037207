// The process exit codes, one per kind of failure a script may want to react to.
// Documented in man/mysqlclone.1 and README.md; never renumber.
#pragma once

namespace mysqlclone {

enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,       // a bug or an unexpected system failure
  kUsage = 2,          // bad command line
  kConnection = 3,     // cannot connect or authenticate
  kPrivilege = 4,      // the account lacks privileges
  kUnsupported = 5,    // server version or configuration not supported
  kPath = 6,           // a path given is unusable: missing, not empty, not writable, in use, no space
  kSourceIo = 7,       // reading the source failed or found corruption
  kRedoLost = 8,       // the server overwrote redo before it was copied
  kInterrupted = 9,    // SIGINT / SIGTERM
  kNetwork = 10,       // network or stream failure
  kVerifyFailed = 11,  // verification found bad pages, bad checksums or an incomplete backup
  kProtocol = 12,      // the donor sent bytes that break the Clone protocol
};

inline const char* exit_code_name(ExitCode c) {
  switch (c) {
    case ExitCode::kOk: return "ok";
    case ExitCode::kInternal: return "internal error";
    case ExitCode::kUsage: return "usage error";
    case ExitCode::kConnection: return "connection error";
    case ExitCode::kPrivilege: return "missing privileges";
    case ExitCode::kUnsupported: return "unsupported server";
    case ExitCode::kPath: return "path problem";
    case ExitCode::kSourceIo: return "source I/O error";
    case ExitCode::kRedoLost: return "redo lost";
    case ExitCode::kInterrupted: return "interrupted";
    case ExitCode::kNetwork: return "network error";
    case ExitCode::kVerifyFailed: return "verification failed";
    case ExitCode::kProtocol: return "protocol error";
  }
  return "unknown";
}

}  // namespace mysqlclone
