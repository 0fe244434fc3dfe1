// Fault: a workflow error (engine/error.h) held as plain C++ data.
//
// Executors decide on failures on whatever thread notices them but must build the Json they
// hand back on the thread that calls the Completion (base/json.h is not thread-safe).
// A Fault carries the decision across threads; ToJson() builds the problem object.
//
// Thread-safety: a plain value; copy it freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/json.h"
#include "engine/error.h"
#include "engine/event.h"

namespace baton::executors {

struct Fault {
  engine::ErrorKind kind = engine::ErrorKind::kRuntime;
  int status = 500;
  std::string title;  // empty: the kind's default title
  std::string detail;
  double retry_after_s = 0;  // the answer's Retry-After, in seconds (0 = none)

  Json ToJson() const {
    Json error = engine::MakeError(kind, status, title, detail);
    // An extension member of the problem: retry policies wait at least this long.
    if (retry_after_s > 0) error.Set("retryAfter", Json::Number(retry_after_s));
    return error;
  }
  // TaskFailed for `activity_id` carrying this fault.
  engine::EventBody ToEvent(uint64_t activity_id) const {
    return engine::TaskFailed{activity_id, ToJson()};
  }
};

inline Fault MakeFault(engine::ErrorKind kind, std::string detail, std::string title = {}) {
  return Fault{kind, engine::DefaultStatus(kind), std::move(title), std::move(detail)};
}

// The error of an activity stopped by Cancel (or by the executor shutting down).
inline Fault CancelledFault(std::string_view what) {
  return Fault{engine::ErrorKind::kRuntime, 500, "Cancelled", std::string(what) + " was cancelled"};
}

// Standard base64 (RFC 4648 §4, with padding).
std::string Base64Encode(std::string_view bytes);

// At most `max` bytes of `text` (cut on a UTF-8 boundary), with "..." when cut, and with
// control characters other than newline and tab replaced by spaces. For error details.
std::string Excerpt(std::string_view text, size_t max = 256);

}  // namespace baton::executors
