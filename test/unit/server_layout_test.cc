// Where restore --datadir puts each file of a backup (server_layout.h), and the Storage that
// routes there.
#include "libclone/datadir/server_layout.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace mysqlclone {
namespace {

namespace fs = std::filesystem;

ServerLayout separate(bool mariadb) {
  return resolve_layout({"/d/data/", "sys", "/d/undo", "../redo/", mariadb});
}

TEST(ServerLayout, RelativeDirectoriesAreTakenFromTheDatadirAndEmptyOnesAreIt) {
  const ServerLayout l = separate(false);
  EXPECT_EQ(l.datadir, "/d/data");
  EXPECT_EQ(l.data_home_dir, "/d/data/sys");
  EXPECT_EQ(l.undo_directory, "/d/undo");
  EXPECT_EQ(l.log_dir, "/d/data/../redo");
  const ServerLayout flat = resolve_layout({"/d/data", "", ".", "./", true});
  EXPECT_EQ(layout_roots(flat), std::vector<std::string>{"/d/data"});
  EXPECT_EQ(layout_roots(l), (std::vector<std::string>{"/d/data", "/d/data/sys", "/d/undo", "/d/data/../redo"}));
}

TEST(ServerLayout, MysqlFilesGoWhereTheServerLooksForThem) {
  const ServerLayout l = separate(false);
  EXPECT_EQ(route(l, "ibdata1"), l.data_home_dir);
  EXPECT_EQ(route(l, "ibdata12"), l.data_home_dir);
  EXPECT_EQ(route(l, "undo_001"), l.undo_directory);
  EXPECT_EQ(route(l, "undo_x.ibu"), l.undo_directory);
  EXPECT_EQ(route(l, "#innodb_redo"), l.log_dir);
  EXPECT_EQ(route(l, "#innodb_redo/#ib_redo7"), l.log_dir);
  for (const char* datadir_file : {"mysql.ibd", "db/t.ibd", "ibdata", "ibdatax", "undo001", "db/undo_001",
                                   "db/ibdata1", "ib_logfile0", "mysqlclone.json", "#clone/#status_in_progress"})
    EXPECT_EQ(route(l, datadir_file), l.datadir) << datadir_file;
}

TEST(ServerLayout, MariadbFilesGoWhereTheServerLooksForThem) {
  const ServerLayout l = separate(true);
  EXPECT_EQ(route(l, "ibdata1"), l.data_home_dir);
  EXPECT_EQ(route(l, "undo001"), l.undo_directory);
  EXPECT_EQ(route(l, "ib_logfile0"), l.log_dir);
  EXPECT_EQ(route(l, "ib_logfile0.mysqlclone-partial"), l.log_dir) << "a temporary name goes where the final one does";
  for (const char* datadir_file : {"undo_001", "x.ibu", "#innodb_redo/#ib_redo7", "aria_log.00000001", "db/t.frm"})
    EXPECT_EQ(route(l, datadir_file), l.datadir) << datadir_file;
}

TEST(ServerLayout, StorageWritesEachFileIntoItsDirectory) {
  const fs::path root = fs::temp_directory_path() / ("mc-layout-" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (const char* d : {"data", "sys", "undo", "redo"}) fs::create_directories(root / d);
  LayoutStorage storage(resolve_layout({(root / "data").string(), "../sys", (root / "undo").string(), "../redo", true}));
  for (const char* name : {"ibdata1", "undo001", "db/t.ibd", "ib_logfile0.mysqlclone-partial"}) {
    auto f = storage.create(name);
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    ASSERT_TRUE((*f)->append(std::vector<uint8_t>(10, 1)).is_ok());
    ASSERT_TRUE((*f)->close().is_ok());
  }
  ASSERT_TRUE(storage.rename("ib_logfile0.mysqlclone-partial", "ib_logfile0").is_ok());
  ASSERT_TRUE(storage.put("mysqlclone.json", "{}").is_ok());
  ASSERT_TRUE(storage.sync().is_ok());
  EXPECT_TRUE(fs::exists(root / "sys/ibdata1"));
  EXPECT_TRUE(fs::exists(root / "undo/undo001"));
  EXPECT_TRUE(fs::exists(root / "redo/ib_logfile0"));
  EXPECT_TRUE(fs::exists(root / "data/db/t.ibd"));
  EXPECT_TRUE(fs::exists(root / "data/mysqlclone.json"));
  EXPECT_FALSE(fs::exists(root / "data/ibdata1"));
  EXPECT_EQ(storage.rename("ibdata1", "db/ibdata1").code(), ExitCode::kInternal) << "a rename across directories";
  EXPECT_EQ(layout_lock_holder(storage.layout()), std::nullopt);
  fs::remove_all(root);
}

// A server holds fcntl() write locks on files it has open; in a log or undo directory of its own
// the only such files are the redo and undo tablespaces. Another process's lock on one of them
// is seen (a lock of this process would not be: F_GETLK ignores the caller's own).
TEST(ServerLayout, ALockOnARedoOrUndoFileInADirectoryOfItsOwnIsSeen) {
  const fs::path root = fs::temp_directory_path() / ("mc-layout-lock-" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (const char* d : {"data", "undo", "redo/#innodb_redo"}) fs::create_directories(root / d);
  const ServerLayout layout = resolve_layout({(root / "data").string(), "", (root / "undo").string(), "../redo", false});
  for (const char* held : {"redo/#innodb_redo/#ib_redo4", "undo/undo_001"}) {
    SCOPED_TRACE(held);
    const std::string path = (root / held).string();
    std::ofstream(path) << "x";
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // holds the lock until killed, as a server does while it runs
      const int fd = ::open(path.c_str(), O_RDWR);
      struct flock lock {};
      lock.l_type = F_WRLCK;
      lock.l_whence = SEEK_SET;
      const char ok = fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0 ? 1 : 0;
      (void)!::write(ready[1], &ok, 1);
      ::pause();
      ::_exit(0);
    }
    char ok = 0;
    ASSERT_EQ(::read(ready[0], &ok, 1), 1);
    ::close(ready[0]);
    ::close(ready[1]);
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(layout_lock_holder(layout), std::optional<pid_t>(child));
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    EXPECT_EQ(layout_lock_holder(layout), std::nullopt);
    fs::remove(path);
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace mysqlclone
