#include "libclone/datadir/server_layout.h"

#include <algorithm>
#include <cctype>

#include "libclone/datadir/datadir_lock.h"

namespace mysqlclone {
namespace {

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// A name written under a temporary suffix until it is whole (ib_logfile0.mysqlclone-partial)
// belongs where its final name does.
std::string_view final_name(std::string_view rel_path) {
  constexpr std::string_view kPartial = ".mysqlclone-partial";
  return ends_with(rel_path, kPartial) ? rel_path.substr(0, rel_path.size() - kPartial.size()) : rel_path;
}

std::string resolved(const std::string& dir, const std::string& datadir) {
  if (dir.empty() || dir == "." || dir == "./") return datadir;
  std::string d = dir[0] == '/' ? dir : datadir + "/" + dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

}  // namespace

ServerLayout resolve_layout(ServerLayout layout) {
  while (layout.datadir.size() > 1 && layout.datadir.back() == '/') layout.datadir.pop_back();
  layout.data_home_dir = resolved(layout.data_home_dir, layout.datadir);
  layout.undo_directory = resolved(layout.undo_directory, layout.datadir);
  layout.log_dir = resolved(layout.log_dir, layout.datadir);
  return layout;
}

const std::string& route(const ServerLayout& layout, const std::string& rel_path) {
  const std::string_view name = final_name(rel_path);
  if (name.find('/') == std::string_view::npos) {
    if (name.starts_with("ibdata") && digits(name.substr(6))) return layout.data_home_dir;
    if (layout.mariadb) {
      if (name.starts_with("undo") && digits(name.substr(4))) return layout.undo_directory;
      if (name.starts_with("ib_logfile") && digits(name.substr(10))) return layout.log_dir;
    } else {
      if ((name.starts_with("undo_") && digits(name.substr(5))) || ends_with(name, ".ibu")) return layout.undo_directory;
      if (name == "#innodb_redo") return layout.log_dir;
    }
  } else if (!layout.mariadb && name.starts_with("#innodb_redo/")) {
    return layout.log_dir;
  }
  return layout.datadir;
}

std::vector<std::string> layout_roots(const ServerLayout& layout) {
  std::vector<std::string> roots{layout.datadir};
  for (const std::string* d : {&layout.data_home_dir, &layout.undo_directory, &layout.log_dir})
    if (std::find(roots.begin(), roots.end(), *d) == roots.end()) roots.push_back(*d);
  return roots;
}

std::optional<pid_t> layout_lock_holder(const ServerLayout& layout) {
  for (const std::string& root : layout_roots(layout))
    if (auto pid = lock_holder_in(root)) return pid;
  return std::nullopt;
}

LayoutStorage::LayoutStorage(ServerLayout layout) : layout_(std::move(layout)) {
  for (const std::string& root : layout_roots(layout_)) roots_.push_back(std::make_unique<DirectoryStorage>(root));
}

DirectoryStorage& LayoutStorage::at(const std::string& rel_path) {
  const std::string& root = route(layout_, rel_path);
  for (auto& r : roots_)
    if (r->root() == root) return *r;
  return *roots_.front();  // unreachable: every route is a root
}

Result<std::unique_ptr<StorageFile>> LayoutStorage::create(const std::string& rel_path) { return at(rel_path).create(rel_path); }
Result<std::unique_ptr<StorageFile>> LayoutStorage::update(const std::string& rel_path) { return at(rel_path).update(rel_path); }
Status LayoutStorage::make_dir(const std::string& rel_path) { return at(rel_path).make_dir(rel_path); }
Status LayoutStorage::remove(const std::string& rel_path) { return at(rel_path).remove(rel_path); }
Status LayoutStorage::remove_dir(const std::string& rel_path) { return at(rel_path).remove_dir(rel_path); }
Status LayoutStorage::put(const std::string& rel_path, const std::string& contents) { return at(rel_path).put(rel_path, contents); }

Status LayoutStorage::overwrite_in_place(const std::string& rel_path, const std::string& contents) {
  return at(rel_path).overwrite_in_place(rel_path, contents);
}

Status LayoutStorage::rename(const std::string& from, const std::string& to) {
  if (route(layout_, from) != route(layout_, to))
    return Status::error(ExitCode::kInternal, "a rename across directories of the layout: " + from + " -> " + to);
  return at(to).rename(from, to);
}

Status LayoutStorage::sync() {
  for (auto& r : roots_)
    if (Status s = r->sync(); !s.is_ok()) return s;
  return Status::ok();
}

}  // namespace mysqlclone
