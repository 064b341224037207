// What integration tests need around a real server: start/stop one through the project's own
// scripts, run SQL with the server's own client, run the mysqlclone binary.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace it {

// Every flavour the suites run on, and a test-name suffix made of a parameter (gtest names
// take letters, digits and '_' only).
inline const std::vector<std::string> kFlavours = {"mysql-9.7", "mariadb-10.11", "mariadb-11.8"};
std::string test_name(std::string s);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// With MYSQLCLONE_IT_TRACE=FILE in the environment, one line is appended to FILE for every
// command run (and every Background process, when it is destroyed): test, seconds, exit code,
// the command's first words; what tells where a test's time goes. Nothing without it.
void trace(const std::vector<std::string>& argv, std::chrono::steady_clock::time_point t0, int exit_code);

// Runs argv (no shell) and captures stdout and stderr.
CommandResult run(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// Runs the built mysqlclone binary.
CommandResult mysqlclone(const std::vector<std::string>& args);

// As run(), but the process (and its process group) is killed after timeout_seconds: then
// exit_code is -1 and err ends with a "[timed out ...]" line.
CommandResult run_bounded(const std::vector<std::string>& argv, double timeout_seconds,
                          const std::string& stdin_text = "");
CommandResult mysqlclone_bounded(const std::vector<std::string>& args, double timeout_seconds);
std::string mysqlclone_binary();

// Polls `pred` every 50 ms until it holds (true) or `seconds` have passed (false).
bool wait_until(double seconds, const std::function<bool()>& pred);

// A port nobody listens on right now.
int free_port();

// A process started in the background in its own process group, its stdout and stderr captured
// in files. The destructor SIGKILLs the whole group (whatever the process started) and reaps it.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv, const std::string& stdin_text = "");
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  bool running();                   // not exited yet (reaps it if it has)
  bool wait_for(double seconds);    // true once exited
  void signal(int sig);             // to the process only
  void signal_group(int sig);       // to its whole process group
  // SIGTERM to the group, up to grace_seconds to exit, then SIGKILL. Always reaped afterwards.
  void stop(double grace_seconds = 10);
  int exit_code() const { return exit_code_; }  // 128+N for a signal; -1 while running
  std::string out() const;
  std::string err() const;
  CommandResult result() const { return {exit_code_, out(), err()}; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::string out_path_, err_path_, in_path_;
  std::vector<std::string> argv_;
  std::chrono::steady_clock::time_point t0_;
};

// A temporary directory removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

double seconds_since(std::chrono::steady_clock::time_point t0);
// The names in dir, sorted (empty when it does not exist).
std::vector<std::string> listing(const std::string& dir);

// Total size of the regular files under dir (0 when it does not exist).
unsigned long long tree_bytes(const std::string& dir);
std::string read_file(const std::string& path);  // "" when unreadable

// One attempt to start a stock server of `flavour` on an existing datadir (server.sh start
// --datadir) in a throwaway directory. A server that did start is stopped again at once.
struct StartAttempt {
  bool started = false;
  std::string output;     // server.sh's stderr (includes the error log's tail on failure)
  std::string error_log;  // the whole error log of the attempt
};
StartAttempt try_start_stock_server(const std::string& flavour, const std::string& datadir);

// Options of server.sh start (Server's extra_args) for MySQL flavours, e.g. a donor of
// `mysqlclone remote`. The clone plugin is loaded by default; kClonePlugin also makes the start
// fail unless the plugin is ACTIVE. kNoClonePlugin: no clone plugin (`INSTALL PLUGIN clone SONAME
// 'mysql_clone.so'` adds it at run time). kNoTls: the server offers no TLS at all (a client that
// requires TLS is refused; server.sh checks that before it reports the server up).
inline const char* const kClonePlugin = "--clone";
inline const char* const kNoClonePlugin = "--no-clone";
inline const char* const kNoTls = "--no-tls";

// A throwaway server in its own directory. The constructor starts it (and fails the calling test
// through an exception when it cannot); the destructor always stops it and removes the directory.
class Server {
 public:
  // flavour: "mysql-9.7", "mariadb-10.11", "mariadb-11.8"; page_size: "16k", "4k", "64k".
  Server(std::string flavour, std::string page_size, std::vector<std::string> extra_args = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Runs SQL through the server's client as root; throws on a non-zero exit. Returns stdout
  // (batch mode, no column names).
  std::string sql(const std::string& statements) const;
  // Same, but never throws and gives up (killing the client) after timeout_seconds.
  CommandResult try_sql(const std::string& statements, double timeout_seconds = 120) const;
  // The server's own client with DIR's [client] section plus `args` (e.g. TCP as another user,
  // an --ssl-mode), statements on stdin; never throws, killed after timeout_seconds.
  CommandResult try_client(const std::vector<std::string>& args, const std::string& statements,
                           double timeout_seconds = 120) const;
  void stop();
  void start();  // again, on the same datadir
  // Stops it and starts it again on the same datadir with other server.sh start options.
  void restart(std::vector<std::string> extra_args);

  bool is_mariadb() const { return flavour_.rfind("mariadb", 0) == 0; }
  const std::string& flavour() const { return flavour_; }
  const std::string& dir() const { return dir_; }
  std::string datadir() const { return dir_ + "/data"; }
  int port() const { return port_; }
  std::string socket() const;     // SOCKET of server.env
  std::string error_log() const;  // the whole error log so far
  std::string env(const std::string& key) const;  // a value of DIR/server.env ("" if absent)

 private:
  std::string flavour_, page_size_, dir_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  bool running_ = false;
};

inline constexpr uint64_t kMiB = uint64_t(1) << 20;

// How tests connect: `user` over the server's socket (-S SOCKET -u USER -pPASSWORD).
std::vector<std::string> via_socket(const Server& s, const std::string& user = "mysqlclone",
                                    const std::string& password = "mysqlclone");

// `mysqlclone --json local --target-dir DIR -S SOCKET -u mysqlclone -pmysqlclone extra...`: a copy of
// `s` by the backup account over the server's socket.
std::vector<std::string> local_args(const Server& s, const std::string& target,
                                    const std::vector<std::string>& extra = {});

// Flips one byte (XOR 0xFF) of a file in place.
void flip_byte(const std::string& path, unsigned long long offset);

std::string server_script();

}  // namespace it
