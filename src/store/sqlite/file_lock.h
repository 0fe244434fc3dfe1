// FileLock: an advisory, exclusive lock that says "a baton store has this database open".
// It is an flock() on the sidecar file DATABASE.lock. flock locks belong to an open file
// description, so a second lock attempt fails both from another process and from a second
// store in this process. The lock dies with the process (also on SIGKILL); the sidecar file
// stays (removing it would race with a concurrent opener) and holds the owner's pid, for
// messages.
//
// Caveat: a child made by fork() without exec inherits the descriptor and so keeps the lock
// alive until it exits (the descriptor is close-on-exec).
//
// Thread-safety: a FileLock is immutable once acquired.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace baton::store::sqlite {

class FileLock {
 public:
  // Locks `database_path` + ".lock" (created when missing). Unavailable with "database ... is
  // in use by another baton process (pid N)" when someone holds it.
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& database_path);
  ~FileLock();  // releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace baton::store::sqlite
