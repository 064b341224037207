#include "libclone/datadir/datadir.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "libclone/base/text.h"

namespace mysqlclone {
namespace fs = std::filesystem;

bool is_skipped_directory(const std::string& name) {
  return name == "#innodb_redo" || name == "#innodb_temp" || name == "#clone" || name == "#meb" ||
         name == "#ib_archive" || name == "#binlog_cache_files" || name == "lost+found";
}

std::optional<TablespaceKind> tablespace_kind_of(const std::string& name, bool top) {
  if (top && name.starts_with("ibdata") && all_digits(name.substr(6))) return TablespaceKind::kSystem;
  if (top && ((name.starts_with("undo_") && all_digits(name.substr(5))) ||
              (name.starts_with("undo") && all_digits(name.substr(4)))))
    return TablespaceKind::kUndo;
  if (name.ends_with(".ibu")) return TablespaceKind::kUndo;
  if (top && name == "mysql.ibd") return TablespaceKind::kDictionary;
  if ((top && name == "ibtmp1") || name.ends_with(".ibt")) return TablespaceKind::kTemporary;
  if (name.ends_with(".ibd")) return TablespaceKind::kUser;
  return std::nullopt;
}

const char* tablespace_kind_name(TablespaceKind k) {
  switch (k) {
    case TablespaceKind::kSystem: return "system";
    case TablespaceKind::kUndo: return "undo";
    case TablespaceKind::kDictionary: return "dictionary";
    case TablespaceKind::kUser: return "user";
    case TablespaceKind::kTemporary: return "temporary";
  }
  return "?";
}

const char* flavour_name(innodb::Flavour f) { return f == innodb::Flavour::kMysql ? "mysql" : "mariadb"; }

uint64_t TablespaceEntry::total_size() const {
  uint64_t s = 0;
  for (const auto& f : files) s += f.size;
  return s;
}

Result<innodb::Flavour> detect_flavour(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(fs::path(dir) / "mysql.ibd", ec) || fs::is_directory(fs::path(dir) / "#innodb_redo", ec))
    return innodb::Flavour::kMysql;
  if (fs::exists(fs::path(dir) / "aria_log_control", ec) || fs::exists(fs::path(dir) / "mysql" / "user.frm", ec) ||
      fs::exists(fs::path(dir) / "mysql" / "db.frm", ec))
    return innodb::Flavour::kMariadb;
  return Status::error(ExitCode::kPath,
                       dir + " does not look like a MySQL or MariaDB data directory (no mysql.ibd, #innodb_redo or "
                             "aria_log_control)");
}

Result<DatadirInventory> scan_datadir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::error(ExitCode::kPath, dir + ": " + (ec ? ec.message() : std::string("not a directory")));
  auto flavour = detect_flavour(dir);
  if (!flavour.is_ok()) return flavour.status();

  DatadirInventory inv;
  inv.dir = dir;
  inv.flavour = *flavour;
  std::vector<std::pair<unsigned, TablespaceFile>> system_parts;
  std::vector<TablespaceEntry> undo, dictionary, user, temporary;

  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return Status::error(ExitCode::kPath, "cannot read " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::error(ExitCode::kPath, "cannot read " + dir + ": " + ec.message());
    const fs::directory_entry& e = *it;
    const std::string name = e.path().filename().string();
    if (e.is_directory(ec)) {
      if (is_skipped_directory(name)) it.disable_recursion_pending();
      continue;
    }
    if (!e.is_regular_file(ec)) continue;
    const auto kind = tablespace_kind_of(name, it.depth() == 0);
    if (!kind) continue;
    // Lexically: fs::relative() resolves both paths on disk, for every file of the datadir.
    TablespaceFile f{e.path().lexically_relative(dir).string(), e.file_size(ec)};
    if (ec) return Status::error(ExitCode::kPath, "cannot stat " + printable(e.path().string()) + ": " + ec.message());
    switch (*kind) {
      case TablespaceKind::kSystem: {
        // ibdataN: the digits are checked, not their count (ibdata99999999999999999999).
        auto n = parse_u64(name.substr(6), "the number of " + printable(dir + "/" + name), UINT32_MAX, ExitCode::kPath);
        if (!n.is_ok()) return n.status();
        system_parts.emplace_back(unsigned(*n), f);
        break;
      }
      case TablespaceKind::kUndo: undo.push_back({*kind, {f}}); break;
      case TablespaceKind::kDictionary: dictionary.push_back({*kind, {f}}); break;
      case TablespaceKind::kTemporary: temporary.push_back({*kind, {f}}); break;
      case TablespaceKind::kUser: user.push_back({*kind, {f}}); break;
    }
  }
  if (system_parts.empty()) return Status::error(ExitCode::kPath, dir + ": no system tablespace (ibdata1)");
  std::sort(system_parts.begin(), system_parts.end(), [](auto& a, auto& b) { return a.first < b.first; });
  TablespaceEntry system{TablespaceKind::kSystem, {}};
  for (auto& [n, f] : system_parts) system.files.push_back(f);

  auto by_path = [](const TablespaceEntry& a, const TablespaceEntry& b) {
    return a.files[0].rel_path < b.files[0].rel_path;
  };
  for (auto* group : {&undo, &dictionary, &user, &temporary}) std::sort(group->begin(), group->end(), by_path);
  inv.tablespaces.push_back(std::move(system));
  for (auto* group : {&undo, &dictionary, &user, &temporary})
    for (auto& t : *group) inv.tablespaces.push_back(std::move(t));
  return inv;
}

}  // namespace mysqlclone
