// The datadir `restore --datadir` writes into: a stopped server's, laid out as its option file
// says (server_layout.h), owned by the server's account, and with --delta compared with what is
// already there instead of written whole (pgBackRest's delta restore).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "libclone/base/status.h"
#include "libclone/datadir/file_copy.h"
#include "libclone/datadir/server_layout.h"
#include "libclone/io/storage.h"
#include "libclone/server/option_file.h"

namespace mysqlclone {

// The layout of the server `choice` configures (its [mysqld]/[server] groups, and [mariadb],
// [mariadbd] for MariaDB): innodb_data_home_dir, innodb_undo_directory and
// innodb_log_group_home_dir, resolved against `datadir`. Only an explicit --defaults-file is read:
// the host's default option files describe the host's own server, not necessarily the one
// restored. kUsage when that file names another datadir.
Result<ServerLayout> read_server_layout(const OptionFileChoice& choice, const std::string& datadir, bool mariadb);

struct Owner {
  uid_t uid;
  gid_t gid;
};

// "USER" (its primary group) or "USER:GROUP", names or numbers; kUsage for an unknown one.
Result<Owner> parse_owner(const std::string& spec);

// The owner of `dir`, nullopt when it does not exist.
std::optional<Owner> owner_of(const std::string& dir);

// Gives the layout's roots, the files and directories `names` (relative paths, routed to their
// roots; a name not there is skipped) and the directories they are in to `owner`. Nothing else
// under the roots changes hands: a log directory shared with other files keeps their owners.
Status set_owner(const ServerLayout& layout, const std::set<std::string>& names, Owner owner);

// kPath naming the pid when a running server holds files of the layout: nothing is written.
Status refuse_running_server(const ServerLayout& layout);

// --delta, for a file that is there and not longer than `bytes`' output: makes the file at `path`
// (`target` in `storage`) hold that output by writing only the blocks of kDeltaBlock bytes that
// differ, in place (the target lifecycle keeps the datadir from starting meanwhile). Returns the
// bytes written (0: the file was right) and the SHA-256 of the output. Either way the file is
// made durable at the storage's next sync().
class RestoredBytes;
constexpr size_t kDeltaBlock = 16384;
struct InPlace {
  uint64_t written = 0;
  std::string sha256;
};
Result<InPlace> update_in_place(const std::string& path, const std::string& target, RestoredBytes& bytes,
                                Storage& storage, CopyProgress& progress);

// --delta: removes the files under the layout's roots that the restore does not write (a
// table dropped since, the diverged server's binlogs, doublewrite and temporary files) and then
// the directories left empty that it does not make. A file of another kind in a directory of its
// own (innodb_undo_directory, ...) is left alone, and so is what belongs to the host rather than
// to the data: auto.cnf, mysqld-auto.cnf, *.pem, *.err, lost+found. Returns how many files it
// removed.
Result<uint64_t> remove_unrestored(const ServerLayout& layout, const std::set<std::string>& files,
                                   const std::set<std::string>& directories, Storage& storage);

}  // namespace mysqlclone
