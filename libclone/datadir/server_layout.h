// Where a server keeps the files of its datadir. A backup holds them all in one directory (as
// `local` found them: it refuses a source with InnoDB files outside its datadir), but the server
// a backup is restored for may keep some elsewhere (innodb_data_home_dir, innodb_undo_directory,
// innodb_log_group_home_dir in its my.cnf), as XtraBackup's --copy-back honours too. Routing is by
// name only, and keeps the name: a file of the backup at REL lands at ROOT/REL.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libclone/base/status.h"
#include "libclone/io/directory_storage.h"

namespace mysqlclone {

struct ServerLayout {
  std::string datadir;         // everything not routed elsewhere
  std::string data_home_dir;   // the system tablespace (ibdata1, ibdata2, ...)
  std::string undo_directory;  // undo tablespaces (MySQL undo_NNN, *.ibu; MariaDB undoNNN)
  std::string log_dir;         // redo: MariaDB ib_logfile0, MySQL #innodb_redo/
  bool mariadb = false;
};

// A layout with every directory set: empty ones become the datadir, relative ones are taken from
// the datadir (the server resolves them after it has changed into its datadir).
ServerLayout resolve_layout(ServerLayout layout);

// The directory of `layout` where the backup's file `rel_path` belongs.
const std::string& route(const ServerLayout& layout, const std::string& rel_path);

// The layout's distinct directories, the datadir first.
std::vector<std::string> layout_roots(const ServerLayout& layout);

// The pid of a server holding a lock on the files of `layout` (datadir_lock.h), nullopt if none.
std::optional<pid_t> layout_lock_holder(const ServerLayout& layout);

// A Storage over a layout: each path goes to the DirectoryStorage of its root (a rename stays in
// one root: both names route alike). What the target lifecycle writes (mysqlclone.json, the
// clone guard) is in the datadir.
class LayoutStorage : public Storage {
 public:
  explicit LayoutStorage(ServerLayout layout);
  Result<std::unique_ptr<StorageFile>> create(const std::string& rel_path) override;
  Result<std::unique_ptr<StorageFile>> update(const std::string& rel_path) override;
  Status make_dir(const std::string& rel_path) override;
  Status remove(const std::string& rel_path) override;
  Status remove_dir(const std::string& rel_path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status put(const std::string& rel_path, const std::string& contents) override;
  Status overwrite_in_place(const std::string& rel_path, const std::string& contents) override;
  Status sync() override;
  bool random_access() const override { return true; }
  const std::string& describe() const override { return layout_.datadir; }
  const ServerLayout& layout() const { return layout_; }

 private:
  DirectoryStorage& at(const std::string& rel_path);
  ServerLayout layout_;
  std::vector<std::unique_ptr<DirectoryStorage>> roots_;  // layout_roots() order
};

}  // namespace mysqlclone
