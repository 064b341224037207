#include "libclone/command/restore/target_datadir.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "libclone/base/interrupt.h"
#include "libclone/base/text.h"
#include "libclone/command/restore/restored_bytes.h"
#include "libclone/io/read_file.h"
#include "libclone/io/sha256.h"

namespace mysqlclone {
namespace {

namespace fs = std::filesystem;

bool same_directory(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

// Files of the host, not of the data: the server's identity, its persisted settings, its keys,
// its error log.
bool belongs_to_host(const std::string& rel) {
  if (rel.find('/') != std::string::npos) return false;
  auto ends = [&](const char* tail) {
    const size_t n = std::strlen(tail);
    return rel.size() > n && rel.compare(rel.size() - n, n, tail) == 0;
  };
  return rel == "auto.cnf" || rel == "mysqld-auto.cnf" || ends(".pem") || ends(".err");
}

}  // namespace

Result<ServerLayout> read_server_layout(const OptionFileChoice& choice, const std::string& datadir, bool mariadb) {
  ServerLayout layout;
  layout.datadir = datadir;
  layout.mariadb = mariadb;
  if (choice.defaults_file && !choice.no_defaults) {
    std::vector<std::string> groups{"server", "mysqld"};
    if (mariadb) groups.insert(groups.end(), {"mariadb", "mariadbd"});
    auto entries = read_option_entries({*choice.defaults_file}, groups, choice);
    if (!entries.is_ok()) return entries.status();
    auto values = merge_by_group(*entries, groups);
    if (values.count("datadir") && !same_directory(values["datadir"], datadir))
      return Status::error(ExitCode::kUsage, printable(*choice.defaults_file) + " is the option file of a server on " +
                                                 printable(values["datadir"]) + ", not on --datadir " +
                                                 printable(datadir));
    layout.data_home_dir = values["innodb-data-home-dir"];
    layout.undo_directory = values["innodb-undo-directory"];
    layout.log_dir = values["innodb-log-group-home-dir"];
  }
  return resolve_layout(layout);
}

Result<Owner> parse_owner(const std::string& spec) {
  const auto digits = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  // A numeric id: below 2^32 - 1, which chown() takes for "leave unchanged" (and a larger number
  // cut to 32 bits could name root).
  const auto id = [](const std::string& s, const char* what) {
    return parse_u64(s, what, UINT32_MAX - 1, ExitCode::kUsage);
  };
  const size_t colon = spec.find(':');
  const std::string user = spec.substr(0, colon);
  const std::string group = colon == std::string::npos ? "" : spec.substr(colon + 1);
  std::vector<char> buf(16384);
  Owner owner{};
  struct passwd pw {}, *pwp = nullptr;
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &pwp) == 0 && pwp) {
    owner = {pw.pw_uid, pw.pw_gid};
  } else if (digits(user)) {
    if (group.empty()) return Status::error(ExitCode::kUsage, "--owner: a numeric user needs a group: UID:GID");
    auto uid = id(user, "--owner: the user id");
    if (!uid.is_ok()) return uid.status();
    owner.uid = uid_t(*uid);
  } else {
    return Status::error(ExitCode::kUsage, "--owner: no user " + printable(user) + " on this host");
  }
  if (!group.empty()) {
    struct group gr {}, *grp = nullptr;
    if (getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &grp) == 0 && grp)
      owner.gid = gr.gr_gid;
    else if (!digits(group))
      return Status::error(ExitCode::kUsage, "--owner: no group " + printable(group) + " on this host");
    else if (auto gid = id(group, "--owner: the group id"); gid.is_ok())
      owner.gid = gid_t(*gid);
    else
      return gid.status();
  }
  return owner;
}

std::optional<Owner> owner_of(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
  return Owner{st.st_uid, st.st_gid};
}

Status set_owner(const ServerLayout& layout, const std::set<std::string>& names, Owner owner) {
  std::set<std::string> owned;
  for (const std::string& rel : names)
    for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1))
      owned.insert(rel.substr(0, slash));  // the directories it is in
  owned.insert(names.begin(), names.end());
  std::vector<std::string> paths = layout_roots(layout);
  for (const std::string& rel : owned) paths.push_back(route(layout, rel) + "/" + rel);
  for (const std::string& path : paths)
    if (::lchown(path.c_str(), owner.uid, owner.gid) != 0 && errno != ENOENT)
      return errno_status(ExitCode::kPath, "cannot chown", path, errno);
  return Status::ok();
}

Status refuse_running_server(const ServerLayout& layout) {
  if (auto pid = layout_lock_holder(layout))
    return Status::error(ExitCode::kPath, "a running server (pid " + std::to_string(*pid) + ") holds " +
                                              printable(layout.datadir) + ": stop it before restoring onto it");
  return Status::ok();
}

Result<InPlace> update_in_place(const std::string& path, const std::string& target, RestoredBytes& bytes,
                                Storage& storage, CopyProgress& progress) {
  auto existing = ReadFile::open(path);
  if (!existing.is_ok()) return existing.status();
  existing->advise_sequential();
  AlignedBuffer buf(1 << 20);
  const std::string known = bytes.known_sha256();  // else the output is hashed for DIR's manifest
  Sha256 hash;
  InPlace result;
  std::unique_ptr<StorageFile> out;  // opened at the first block that differs
  // Writes [from, to) of `chunk` (at `offset` in the file).
  auto write = [&](std::span<const uint8_t> chunk, uint64_t offset, size_t from, size_t to) -> Status {
    if (!out) {
      auto opened = storage.update(target);
      if (!opened.is_ok()) return opened.status();
      out = std::move(opened).value();
    }
    result.written += to - from;
    return out->write_at(offset + from, chunk.subspan(from, to - from));
  };
  for (uint64_t offset = 0;;) {
    if (interrupted()) return Status::error(ExitCode::kInterrupted, "interrupted by a signal");
    auto chunk = bytes.next();
    if (!chunk.is_ok()) return chunk.status();
    if (chunk->empty()) break;
    if (known.empty()) hash.update(*chunk);
    std::span<uint8_t> there(buf.data(), chunk->size());
    auto n = existing->read_at(offset, there);
    if (!n.is_ok()) return n.status();
    // Runs of blocks that differ (or lie past the file's end) are written at once.
    std::optional<size_t> run;
    for (size_t at = 0; at < chunk->size(); at += kDeltaBlock) {
      const size_t end = std::min(chunk->size(), at + kDeltaBlock);
      const bool same = end <= *n && std::memcmp(there.data() + at, chunk->data() + at, end - at) == 0;
      if (!same && !run) run = at;
      if (same && run) {
        if (Status s = write(*chunk, offset, *run, at); !s.is_ok()) return s;
        run.reset();
      }
    }
    if (run)
      if (Status s = write(*chunk, offset, *run, chunk->size()); !s.is_ok()) return s;
    offset += chunk->size();
    progress.done_bytes.fetch_add(chunk->size(), std::memory_order_relaxed);
  }
  if (Status s = bytes.finish(); !s.is_ok()) return s;
  // A file that was right is made durable too (closed through the storage, due at its next
  // sync): it was compared through the page cache, and what a crashed server or an earlier
  // restore wrote there may not be on the device yet.
  if (!out) {
    auto opened = storage.update(target);
    if (!opened.is_ok()) return opened.status();
    out = std::move(opened).value();
  }
  if (Status s = out->close(); !s.is_ok()) return s;
  result.sha256 = known.empty() ? hash.hex_digest() : known;
  return result;
}

Result<uint64_t> remove_unrestored(const ServerLayout& layout, const std::set<std::string>& files,
                                   const std::set<std::string>& directories, Storage& storage) {
  const std::vector<std::string> roots = layout_roots(layout);
  uint64_t removed = 0;
  for (const std::string& root : roots) {
    std::vector<std::string> empty_candidates;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const std::string rel = it->path().lexically_relative(root).string();
      const fs::file_status st = it->symlink_status(ec);
      if (ec) break;
      if (fs::is_directory(st)) {
        const bool other_root = std::any_of(roots.begin(), roots.end(), [&](const std::string& r) {
          return r != root && same_directory(r, it->path().string());
        });
        if (other_root || rel == "lost+found") {
          it.disable_recursion_pending();
          continue;
        }
        if (route(layout, rel) == root && !directories.count(rel)) empty_candidates.push_back(rel);
        continue;
      }
      if (!fs::is_regular_file(st) && !fs::is_symlink(st)) continue;
      if (route(layout, rel) != root || files.count(rel) || belongs_to_host(rel)) continue;
      if (Status s = storage.remove(rel); !s.is_ok()) return s;
      ++removed;
    }
    if (ec) return Status::error(ExitCode::kPath, "cannot read " + printable(root) + ": " + ec.message());
    // Deepest first, so that a directory emptied of directories goes too.
    std::sort(empty_candidates.rbegin(), empty_candidates.rend());
    for (const std::string& rel : empty_candidates)
      if (fs::is_empty(root + "/" + rel, ec) && !ec)
        if (Status s = storage.remove_dir(rel); !s.is_ok()) return s;
  }
  return removed;
}

}  // namespace mysqlclone
