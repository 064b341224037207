#include "libclone/io/directory_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "libclone/io/read_file.h"

namespace mysqlclone {
namespace {

class DirectoryFile : public SinkFile {
 public:
  DirectoryFile(int fd, std::string path, bool direct) : fd_(fd), path_(std::move(path)), direct_(direct) {}
  ~DirectoryFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status append(std::span<const uint8_t> bytes) override {
    const bool aligned = bytes.size() % kDirectIoAlignment == 0 &&
                         reinterpret_cast<uintptr_t>(bytes.data()) % kDirectIoAlignment == 0;
    if (direct_ && !aligned) {
      // Only a file's last chunk is unaligned: finish it through the page cache.
      if (::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_DIRECT) != 0)
        return errno_status(ExitCode::kPath, "cannot write", path_, errno);
      direct_ = false;
    }
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status(ExitCode::kPath, "cannot write", path_, errno);
      }
      done += size_t(n);
    }
    return Status::ok();
  }
  Status close() override {
    if (::fdatasync(fd_) != 0) return errno_status(ExitCode::kPath, "cannot sync", path_, errno);
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return errno_status(ExitCode::kPath, "cannot close", path_, errno);
    return Status::ok();
  }

 private:
  int fd_;
  std::string path_;
  bool direct_;
};

std::string parent_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

}  // namespace

Status sync_directory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot open directory", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_status(ExitCode::kPath, "cannot sync directory", path, err);
  return Status::ok();
}

Status DirectorySink::ensure_parent(const std::string& rel_path) {
  const std::string parent = parent_of(rel_path);
  std::lock_guard lock(mutex_);
  if (dirs_.count(parent)) return Status::ok();
  // Create each missing level; remember them all so sync_directories() reaches every one.
  std::string path;
  size_t pos = 0;
  while (pos <= parent.size() && !parent.empty()) {
    size_t next = parent.find('/', pos);
    if (next == std::string::npos) next = parent.size();
    path = parent.substr(0, next);
    const std::string abs = root_ + "/" + path;
    if (::mkdir(abs.c_str(), 0750) != 0 && errno != EEXIST)
      return errno_status(ExitCode::kPath, "cannot create directory", abs, errno);
    dirs_.insert(path);
    pos = next + 1;
  }
  dirs_.insert(parent);
  return Status::ok();
}

Result<std::unique_ptr<SinkFile>> DirectorySink::create(const std::string& rel_path) {
  if (Status s = ensure_parent(rel_path); !s.is_ok()) return s;
  const std::string abs = root_ + "/" + rel_path;
  int fd = ::open(abs.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot create", abs, errno);
  const bool direct = ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_DIRECT) == 0;  // EINVAL on tmpfs
  return std::unique_ptr<SinkFile>(new DirectoryFile(fd, abs, direct));
}

Status DirectorySink::make_dir(const std::string& rel_path) { return ensure_parent(rel_path + "/x"); }

Status DirectorySink::remove(const std::string& rel_path) {
  const std::string abs = root_ + "/" + rel_path;
  if (::unlink(abs.c_str()) != 0 && errno != ENOENT) return errno_status(ExitCode::kPath, "cannot remove", abs, errno);
  return Status::ok();
}

Status DirectorySink::sync_directories() {
  std::vector<std::string> dirs;
  {
    std::lock_guard lock(mutex_);
    dirs.assign(dirs_.rbegin(), dirs_.rend());  // reverse order: children before parents
  }
  for (const auto& d : dirs)
    if (Status s = sync_directory(d.empty() ? root_ : root_ + "/" + d); !s.is_ok()) return s;
  return sync_directory(root_);
}

Status write_file_atomically(const std::string& root, const std::string& rel_path, const std::string& contents) {
  const std::string final_path = root + "/" + rel_path;
  const std::string tmp = final_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return errno_status(ExitCode::kPath, "cannot create", tmp, errno);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return errno_status(ExitCode::kPath, "cannot write", tmp, err);
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return errno_status(ExitCode::kPath, "cannot sync", tmp, errno);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    return errno_status(ExitCode::kPath, "cannot rename into", final_path, errno);
  return sync_directory(parent_of(rel_path).empty() ? root : root + "/" + parent_of(rel_path));
}

}  // namespace mysqlclone
