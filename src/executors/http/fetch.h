// FetchResource: a blocking read of a small external resource (a script's `source`), for
// executors that need one outside the HTTP executor's event loop.
//
// http(s) URIs go through libcurl with ExecutorOptions.url_rewrites and loopback_only
// applied (redirects followed by hand, so every hop is checked); "file://" URIs and absolute
// paths are read from the local file system.
//
// Thread-safety: reentrant; call it from any thread. Blocks for up to `timeout_ms`, or until
// *abort becomes true (checked a few times a second).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "executors/executor.h"

namespace baton::executors::http {

// The body of the resource. Errors: InvalidArgument (bad URI, host not allowed),
// Unavailable (network failure or a status outside 200-299, message says which),
// DeadlineExceeded, Cancelled (aborted), NotFound (missing file).
Result<std::string> FetchResource(std::string_view uri, const ExecutorOptions& options,
                                  int64_t timeout_ms, const std::atomic<bool>* abort);

}  // namespace baton::executors::http
