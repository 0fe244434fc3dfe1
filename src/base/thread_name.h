#pragma once

#include <thread>

#include <pthread.h>

namespace baton {

// Names `thread` (at most 15 characters: the kernel's limit), so that `top -H`,
// `perf report --sort comm` and a debugger tell the server's threads apart. Called by the
// creator right after it starts the thread, so the name is there before Start() returns.
inline void NameThread(std::thread& thread, const char* name) {
  (void)pthread_setname_np(thread.native_handle(), name);
}

}  // namespace baton
