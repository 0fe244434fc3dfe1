#include "store/sqlite/file_lock.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace baton::store::sqlite {

namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

// The pid recorded in the lock file by its holder, or "" when unreadable.
std::string ReadHolder(int fd) {
  char buffer[32] = {};
  ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return {};
  std::string text(buffer, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char c : text) {
    if (c < '0' || c > '9') return {};
  }
  return text;
}

}  // namespace

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const std::string& database_path) {
  const std::string lock_path = database_path + ".lock";
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Unavailable("cannot open lock file '" + lock_path + "': " + ErrnoText(errno));
  }
  int rc = 0;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int error = errno;
    std::string holder = ReadHolder(fd);
    close(fd);
    if (error == EWOULDBLOCK) {
      std::string who = holder.empty() ? "" : " (pid " + holder + ")";
      if (!holder.empty() && holder == std::to_string(getpid())) {
        who = " (this process: pid " + holder + ")";
      }
      return Status::Unavailable("database '" + database_path +
                                 "' is in use by another baton process" + who +
                                 "; stop it or choose another database file");
    }
    return Status::Unavailable("cannot lock '" + lock_path + "': " + ErrnoText(error));
  }
  // Record the holder for the message above. Best effort: the lock works without it.
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) == 0) {
    (void)!pwrite(fd, pid.data(), pid.size(), 0);
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

FileLock::~FileLock() {
  // Closing the last descriptor of the open file description releases the flock.
  close(fd_);
}

}  // namespace baton::store::sqlite
