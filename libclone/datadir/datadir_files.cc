#include "libclone/base/text.h"
#include "libclone/datadir/datadir_files.h"

#include "libclone/datadir/datadir.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "libclone/io/read_file.h"

namespace mysqlclone {
namespace fs = std::filesystem;
namespace {


std::string extension(const std::string& name) {
  auto dot = name.rfind('.');
  return dot == std::string::npos ? "" : name.substr(dot + 1);
}

}  // namespace

DatadirFile classify_path(const std::string& rel_path, innodb::Flavour flavour) {
  DatadirFile f;
  f.rel_path = rel_path;
  const std::string name = fs::path(rel_path).filename().string();
  const bool top = rel_path.find('/') == std::string::npos;
  const std::string ext = extension(name);
  const bool mysql = flavour == innodb::Flavour::kMysql;
  auto set = [&](FileAction a) {
    f.action = a;
    return f;
  };

  if (tablespace_kind_of(name, top)) return set(FileAction::kSkip);  // InnoDB: the copier's job
  if (name.starts_with("#sql")) return set(FileAction::kSkip);  // ALTER leftovers (tolerated by recovery)
  // Non-transactional table data.
  static const char* const kTableData[] = {"MYD", "MYI", "MAD", "MAI", "CSV", "CSM", "ARZ", "ARM", "MRG"};
  if (std::find(std::begin(kTableData), std::end(kTableData), ext) != std::end(kTableData))
    return set(FileAction::kCopyLocked);
  if (mysql && ext == "sdi") return set(FileAction::kCopyLocked);  // dictionary of a non-InnoDB table
  if (!mysql) {
    static const char* const kDdl[] = {"frm", "par", "TRG", "TRN", "isl"};
    if (std::find(std::begin(kDdl), std::end(kDdl), ext) != std::end(kDdl) || name == "db.opt")
      return set(FileAction::kCopyDdl);
    if (top && (name == "aria_log_control" || (name.starts_with("aria_log.") && all_digits(name.substr(9)))))
      return set(FileAction::kCopyLast);
    if (top && (name == "mysql_upgrade_info" || name == "mariadb_upgrade_info")) return set(FileAction::kCopy);
  } else if (top && name == "mysql_upgrade_history") {
    return set(FileAction::kCopy);
  }
  if (top && name == "ib_buffer_pool") return set(FileAction::kCopy);

  // Known and deliberately left behind: the server recreates them, or they belong to the
  // source's own life and identity. Binlogs are handled apart (the one current at the end
  // point is shipped, truncated, on MySQL).
  static const char* const kSkipNames[] = {"auto.cnf",        "mysqld-auto.cnf", "ddl.log",        "ddl_recovery.log",
                                           "tc.log",          "master.info",     "relay-log.info", "multi-master.info",
                                           "binlog.index",    "aria_log_control.lock"};
  static const char* const kSkipExt[] = {"pid", "err", "sock", "lock", "pem", "dblwr", "log", "index", "idx", "info"};
  if (std::find(std::begin(kSkipNames), std::end(kSkipNames), name) != std::end(kSkipNames) ||
      std::find(std::begin(kSkipExt), std::end(kSkipExt), ext) != std::end(kSkipExt) || name.starts_with("ib_logfile") ||
      all_digits(ext) /* binlog.000001, relay-bin.000001 */)
    return set(FileAction::kSkip);
  f.known = false;
  return set(FileAction::kSkip);
}

Result<OtherFiles> classify_other_files(const std::string& datadir, innodb::Flavour flavour) {
  OtherFiles out;
  std::error_code ec;
  fs::recursive_directory_iterator it(datadir, ec), end;
  if (ec) return Status::error(ExitCode::kSourceIo, "cannot read " + datadir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::error(ExitCode::kSourceIo, "cannot read " + datadir + ": " + ec.message());
    const fs::directory_entry& e = *it;
    const std::string rel = e.path().lexically_relative(datadir).string();  // no disk access per file
    if (e.is_directory(ec)) {
      if (is_skipped_directory(e.path().filename().string())) {
        it.disable_recursion_pending();
        continue;
      }
      out.directories.push_back(rel);
      continue;
    }
    if (!e.is_regular_file(ec)) continue;
    DatadirFile f = classify_path(rel, flavour);
    if (f.action == FileAction::kSkip && f.known) continue;
    auto st = restat(datadir, f);
    if (!st.is_ok()) return st.status();
    if (*st) out.files.push_back(**st);  // else vanished: nothing to copy
  }
  std::sort(out.directories.begin(), out.directories.end());
  return out;
}

Result<std::optional<DatadirFile>> restat(const std::string& datadir, const DatadirFile& f) {
  auto stamp = stamp_path(datadir + "/" + f.rel_path);
  if (!stamp.is_ok()) return stamp.status();
  if (!*stamp) return std::optional<DatadirFile>();
  DatadirFile r = f;
  r.stamp = **stamp;
  return std::optional<DatadirFile>(r);
}

}  // namespace mysqlclone
