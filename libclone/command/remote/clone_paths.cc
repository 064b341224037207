#include "libclone/command/remote/clone_paths.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <vector>

#include "libclone/base/text.h"
#include "libclone/command/remote/clone_wire.h"
#include "libclone/io/relative_path.h"

namespace mysqlclone::clone {
namespace {

// A donor may send names of up to kMaxNameLength bytes: a message shows the start of one.
constexpr size_t kShownNameBytes = 200;

Status bad_name(const std::string& donor_name, const std::string& why) {
  return Status::error(ExitCode::kProtocol,
                       fmt::format("donor file name \"{}\": {}", printable(donor_name, kShownNameBytes), why));
}

// Case-insensitive, so that a target on a case-insensitive file system is protected too.
bool is_reserved(std::string_view component) {
  static constexpr std::array<std::string_view, 4> kReserved = {"#clone", kExternalDir, "mysqlclone.json",
                                                                "#innodb_redo"};
  return std::any_of(kReserved.begin(), kReserved.end(), [&](std::string_view r) {
    return r.size() == component.size() &&
           std::equal(r.begin(), r.end(), component.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  });
}

}  // namespace

bool is_absolute_donor_name(const std::string& donor_name) { return !donor_name.empty() && donor_name[0] == '/'; }

Result<std::filesystem::path> data_file_target(const std::string& donor_name, const PathRules& rules) {
  if (donor_name.empty()) return bad_name(donor_name, "is empty");
  if (donor_name.size() > kMaxNameLength) {
    return bad_name(donor_name, fmt::format("longer than {} bytes", kMaxNameLength));
  }
  // InnoDB encodes unusual characters in table names (@0040...), so a control byte never comes
  // from a real donor; refusing them keeps logs and the manifest readable.
  if (std::any_of(donor_name.begin(), donor_name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return bad_name(donor_name, "has a control or NUL byte");
  }

  std::filesystem::path target = rules.target_dir;
  std::string_view rest = donor_name;
  if (is_absolute_donor_name(donor_name)) {
    if (!rules.allow_absolute) {
      return Status::error(ExitCode::kUnsupported,
                           fmt::format("donor file {} has an absolute path (DATA DIRECTORY); rerun with "
                                       "--allow-absolute-paths to write it under {}/{}",
                                       printable(donor_name, kShownNameBytes), printable(rules.target_dir.string()),
                                       kExternalDir));
    }
    target /= kExternalDir;
    rest.remove_prefix(1);
  } else if (rest.starts_with("./")) {
    rest.remove_prefix(2);
  }

  if (rest.empty()) return bad_name(donor_name, "has no file name");
  std::vector<std::string_view> parts;
  if (const char* why = split_relative_path(rest, parts)) return bad_name(donor_name, why);
  // Under #external the donor's own top-level names are fine; in DIR itself they must not
  // land on what the recipient owns.
  if (!is_absolute_donor_name(donor_name) && is_reserved(parts.front())) {
    return bad_name(donor_name, fmt::format("'{}' is reserved in the target directory", parts.front()));
  }
  for (std::string_view c : parts) target /= std::string(c);
  return target;
}

std::filesystem::path redo_file_target(const std::filesystem::path& target_dir, uint32_t index,
                                       const ServerVersion& donor) {
  // 8.0.30 moved redo into #innodb_redo/ and renamed the files (log0files_io.cc, log_file_name).
  if (donor.at_least(8, 0, 30)) return target_dir / "#innodb_redo" / fmt::format("#ib_redo{}", index);
  return target_dir / fmt::format("ib_logfile{}", index);
}

}  // namespace mysqlclone::clone
