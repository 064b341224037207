#include "libclone/server/page_tracking.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "libclone/base/interrupt.h"
#include "libclone/base/text.h"
#include "libclone/io/read_file.h"

namespace mysqlclone {
namespace {

constexpr size_t kEntryBytes = 8;
// The list is read whole; at 8 bytes a page this bounds it to 128 Mi pages (2 TiB of 16K pages
// changed between two backups), far past what an incremental is for.
constexpr uint64_t kMaxListBytes = uint64_t(1) << 30;

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

Result<innodb::Lsn> lsn_of(Session& session, const std::string& sql) {
  auto v = session.query_value(sql);
  if (!v.is_ok()) return v.status();
  auto text = v->value_or("");
  if (!text.empty() && text[0] == '-')
    return Status::error(ExitCode::kUnsupported, "page tracking: " + sql + " returned the error " + text);
  return parse_u64(text, "an LSN of page tracking", UINT64_MAX, ExitCode::kUnsupported);
}

}  // namespace

Result<ChangedPages> parse_changed_pages(std::span<const uint8_t> bytes) {
  if (bytes.size() % kEntryBytes != 0)
    return Status::error(ExitCode::kInternal, "page tracking: the list of changed pages has " +
                                                  std::to_string(bytes.size()) + " bytes, not a whole number of " +
                                                  std::to_string(kEntryBytes) + "-byte entries");
  ChangedPages pages;
  for (size_t at = 0; at < bytes.size(); at += kEntryBytes)
    pages[be32(&bytes[at])].push_back(be32(&bytes[at + 4]));
  for (auto& [space, list] : pages) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  return pages;
}

Result<innodb::Lsn> page_tracking_start(Session& session) {
  auto installed = session.query_value(
      "SELECT COUNT(*) FROM mysql.component WHERE component_urn = 'file://component_mysqlbackup'");
  if (!installed.is_ok()) return installed.status();
  if (installed->value_or("0") == "0") return innodb::Lsn(0);
  return lsn_of(session, "SELECT mysqlbackup_page_track_get_start_lsn()");
}

Result<innodb::Lsn> start_page_tracking(Session& session) {
  auto installed = session.query_value(
      "SELECT COUNT(*) FROM mysql.component WHERE component_urn = 'file://component_mysqlbackup'");
  if (!installed.is_ok()) return installed.status();
  if (installed->value_or("0") == "0")
    if (Status s = session.execute("INSTALL COMPONENT 'file://component_mysqlbackup'"); !s.is_ok())
      return s.with_context("--page-tracking (the account needs INSERT on mysql.component to install it)");
  auto lsn = lsn_of(session, "SELECT mysqlbackup_page_track_set(1)");
  if (!lsn.is_ok()) return lsn.status().with_context("--page-tracking");
  return lsn;
}

Result<innodb::Lsn> wait_for_checkpoint_past(Session& session, innodb::Lsn lsn, std::chrono::seconds at_most) {
  const auto until = std::chrono::steady_clock::now() + at_most;
  for (;;) {
    auto checkpoint = lsn_of(session, "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE "
                                      "VARIABLE_NAME = 'Innodb_redo_log_checkpoint_lsn'");
    if (!checkpoint.is_ok() || *checkpoint >= lsn || std::chrono::steady_clock::now() >= until || interrupted())
      return checkpoint;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<ChangedPages> changed_pages(Session& session, const std::string& datadir, const std::string& backup_id,
                                   innodb::Lsn from, innodb::Lsn to) {
  // `to` 0: up to what the server has tracked so far.
  if (to != 0 && from >= to) return ChangedPages{};
  if (Status s = session.execute("SET GLOBAL mysqlbackup.backupid = '" + backup_id + "'"); !s.is_ok()) return s;
  // Setting the id again makes the server delete the list it wrote under the previous one.
  struct Forget {
    Session& session;
    ~Forget() { (void)session.execute("SET GLOBAL mysqlbackup.backupid = ''"); }
  } forget{session};
  const std::string sql = "SELECT mysqlbackup_page_track_get_changed_pages(" + std::to_string(from) + ", " +
                          std::to_string(to) + ")";
  auto rc = session.query_value(sql);
  if (!rc.is_ok()) return rc.status();
  if (rc->value_or("") != "0")
    return Status::error(ExitCode::kUnsupported, "page tracking: " + sql + " returned the error " + rc->value_or("NULL"));
  const std::string path = datadir + "/#meb/" + backup_id + ".idx";
  std::vector<uint8_t> bytes;  // none: no page changed, no list written
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || ec) {
    auto file = ReadFile::open(path);
    if (!file.is_ok()) return file.status();
    auto size = file->size();
    if (!size.is_ok()) return size.status();
    if (*size > kMaxListBytes)
      return Status::error(ExitCode::kUnsupported, printable(path) + ": " + std::to_string(*size) +
                                                       " bytes of changed pages, more than an incremental reads by list");
    bytes.resize(static_cast<size_t>(*size));
    auto n = file->read_at(0, bytes);
    if (!n.is_ok()) return n.status();
    bytes.resize(*n);
  }
  // The id is a global: another run (of this tool, XtraBackup) that set its own since this one's
  // made the server write the list under that id, or delete this one's. Still this run's once the
  // list is read: what was read (or found missing) is its own.
  auto id_now = session.query_value("SELECT @@global.mysqlbackup.backupid");
  if (!id_now.is_ok()) return id_now.status();
  if (id_now->value_or("") != backup_id)
    return Status::error(ExitCode::kUnsupported, "another backup set mysqlbackup.backupid (to " +
                                                     printable(id_now->value_or("NULL")) +
                                                     ") while this one read its list of changed pages");
  return parse_changed_pages(bytes);
}

}  // namespace mysqlclone
