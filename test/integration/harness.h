// What integration tests need around a real server: start/stop one through the project's own
// scripts, run SQL with the server's own client, run the mysqlclone binary.
#pragma once

#include <string>
#include <vector>

namespace it {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv (no shell) and captures stdout and stderr.
CommandResult run(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// Runs the built mysqlclone binary.
CommandResult mysqlclone(const std::vector<std::string>& args);

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
  void stop();
  void start();  // again, on the same datadir

  bool is_mariadb() const { return flavour_.rfind("mariadb", 0) == 0; }
  const std::string& flavour() const { return flavour_; }
  const std::string& dir() const { return dir_; }
  std::string datadir() const { return dir_ + "/data"; }
  int port() const { return port_; }

 private:
  std::string flavour_, page_size_, dir_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  bool running_ = false;
};

// Flips one byte (XOR 0xFF) of a file in place.
void flip_byte(const std::string& path, unsigned long long offset);

std::string server_script();

}  // namespace it
