// LifecycleEntry: what happened to a workflow or task during a transition. These are the
// spec's lifecycle CloudEvents (io.serverlessworkflow.{workflow,task}.*.v1) in compact form;
// observe/ turns them into CloudEvents for sinks, `baton run` into progress lines, and the
// store into history rows.
#pragma once

#include <cstdint>
#include <string>

#include "base/json.h"
#include "base/shared_string.h"
#include "engine/event.h"

namespace baton::engine {

// Persisted in history: do not renumber.
enum class LifecycleKind : uint8_t {
  kWorkflowStarted = 0,
  kWorkflowCompleted = 1,
  kWorkflowFaulted = 2,
  kWorkflowCancelled = 3,
  kWorkflowCompensating = 4,
  kWorkflowCompensated = 5,
  kWorkflowCompensationFailed = 6,
  kWorkflowRepaired = 7,  // an operator action: {action, by, reason, input?, context?, output?}
  kTaskStarted = 10,
  kTaskCompleted = 11,
  kTaskFaulted = 12,
  kTaskRetried = 13,
  kTaskCancelled = 14,
  kTaskSkipped = 15,         // `if` was false
  kTaskWaiting = 16,         // blocked on a timer or events
  kTaskRetrying = 17,        // a retry is scheduled: {error, delayMs, nextAttemptAt}
  kTaskCompensated = 18,     // the task's compensation completed (data: its output)
  kTaskNotCompensable = 19,  // completed without a compensation; skipped by the saga
};

// "workflow.started", "task.completed", ... (the CloudEvent type without prefix and .v1)
const char* LifecycleKindName(LifecycleKind kind);

struct LifecycleEntry {
  LifecycleKind kind;
  Millis time = 0;
  SharedString task_ref;   // JSON pointer; empty for workflow entries
  SharedString task_name;  // the task's name in its list; empty for workflow entries
  uint32_t attempt = 0;
  Json data;  // output (completed), error (faulted), null otherwise
};

// The spec's CloudEvent for an entry of instance `instance_name` (e.g. "greet-<id>.default").
// `id` must be unique per event; the caller supplies it.
Json ToCloudEvent(const LifecycleEntry& entry, std::string_view instance_name, std::string id);

}  // namespace baton::engine
