// Commands: what the interpreter asks the outside world to do after a transition commits.
// Their results come back as events carrying the same activity or timer id.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "base/json.h"
#include "engine/event.h"

namespace baton::engine {

// Run a task that needs the outside world. `kind` is one of:
//   "http", "openapi", "grpc", "asyncapi", "a2a", "mcp"      (call)
//   "shell", "script", "container"                          (run)
// `request` is fully resolved: every runtime expression is already evaluated.
//   http:    {method, endpoint, headers{}, query{}, body?, output, redirect, authentication?}
//            (endpoint is the expanded URI; query values are strings, not yet appended)
//   openapi: {document{endpoint}, operationId, parameters{}, output, redirect, authentication?}
//   shell:   {command, arguments?, environment{}, stdin?, return}
//   script:  {language, code? | source?, arguments?, environment{}, stdin?, return}
//   others:  the task's `with` or `run` object, resolved.
// authentication, when present, is {basic:{username,password}} | {bearer:{token}} | ...
struct ExecuteTask {
  uint64_t activity_id = 0;
  std::string task_ref;  // JSON pointer of the task in its definition
  std::string kind;
  Json request;
  uint32_t attempt = 0;         // 0 for the first run, +1 per retry
  std::string idempotency_key;  // stable for (instance, task_ref, attempt)
  Millis timeout_ms = 0;        // 0 = none; the engine also arms its own timer
};

// Start a child instance (run: workflow). Result: TaskSucceeded/TaskFailed(activity_id).
struct StartChild {
  uint64_t activity_id = 0;
  std::string task_ref;
  std::string namespace_;
  std::string name;
  std::string version;  // "latest" when not given
  Json input;
  bool await = true;
};

// Stop an activity (timeout, cancellation, losing fork branch). No result is expected.
struct CancelActivity {
  uint64_t activity_id = 0;
};

struct StartTimer {
  uint64_t timer_id = 0;
  Millis due_at = 0;
};

struct CancelTimer {
  uint64_t timer_id = 0;
};

// Publish a CloudEvent (emit task). The engine already completed the task.
struct PublishEvent {
  Json event;
};

// The instance waits for CloudEvents (listen task); deliver them as CloudEventReceived.
// `filters` is the listen.to strategy (informational: the engine does the matching).
struct Subscribe {
  uint64_t activity_id = 0;
  Json filters;
};

struct Unsubscribe {
  uint64_t activity_id = 0;
};

using Command = std::variant<ExecuteTask, StartChild, CancelActivity, StartTimer, CancelTimer,
                             PublishEvent, Subscribe, Unsubscribe>;

}  // namespace baton::engine
