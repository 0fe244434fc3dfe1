// Events: everything that can happen to one instance, as input to Interpreter::Advance.
// The current time and randomness arrive inside events, so the interpreter stays pure.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "base/json.h"

namespace baton::engine {

using Millis = int64_t;  // milliseconds since the Unix epoch

struct InstanceStarted {
  std::string instance_id;
  Json input;
  uint64_t seed = 0;  // seeds the instance's deterministic random stream (ids, jitter)
};

// An activity (a command the outside world carried out) succeeded.
struct TaskSucceeded {
  uint64_t activity_id = 0;
  Json output;
};

// An activity failed; `error` is a problem object (engine/error.h).
struct TaskFailed {
  uint64_t activity_id = 0;
  Json error;
};

struct TimerFired {
  uint64_t timer_id = 0;
};

// A CloudEvent offered to the instance's open `listen` tasks.
struct CloudEventReceived {
  Json event;
};

struct CancelRequested {
  std::string reason;
};

// An operator's repair of a dead-lettered (or, for compensate, live) instance.
struct OperatorAction {
  enum class Kind : uint8_t { kRetry = 0, kSkip = 1, kCompensate = 2, kDiscard = 3 };  // persisted
  Kind kind = Kind::kRetry;
  std::string by;
  std::string reason;
  Json input;    // retry: replaces the failed task's input (null = keep)
  Json context;  // retry: replaces the workflow context (null = keep)
  Json output;   // skip: the failed task's output
  bool has_input = false;
  bool has_context = false;
};

using EventBody = std::variant<InstanceStarted, TaskSucceeded, TaskFailed, TimerFired,
                               CloudEventReceived, CancelRequested, OperatorAction>;

struct Event {
  Millis now = 0;
  EventBody body;
};

}  // namespace baton::engine
