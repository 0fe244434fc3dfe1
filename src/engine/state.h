// InstanceState: everything the interpreter knows about one workflow instance: its data,
// status, and a tree of Nodes that says where execution is (one Node per running task or
// task list; a fork or a parallel `for` has several running children).
//
// A value type (move-only): the interpreter takes it, and returns the next one.
// Thread-safety: none; one instance is advanced by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "engine/event.h"
#include "engine/workflow.h"

namespace baton::engine {

// Persisted: do not renumber.
enum class WorkflowStatus : uint8_t {
  kPending = 0,
  kRunning = 1,
  kWaiting = 2,
  kSuspended = 3,
  kCancelled = 4,
  kFaulted = 5,
  kCompleted = 6,
  // baton's phases (DESIGN.md): every pending task is waiting for its next attempt; the saga
  // log is being undone; it was undone; an undo failed and an operator must act.
  kRetrying = 7,
  kCompensating = 8,
  kCompensated = 9,
  kCompensationFailed = 10,
};
const char* WorkflowStatusName(WorkflowStatus status);
// Nothing runs any more. Faulted and compensation_failed instances may still be repaired
// by an operator (OperatorAction), which makes them live again.
inline bool IsTerminal(WorkflowStatus s) {
  return s == WorkflowStatus::kCancelled || s == WorkflowStatus::kFaulted ||
         s == WorkflowStatus::kCompleted || s == WorkflowStatus::kCompensated ||
         s == WorkflowStatus::kCompensationFailed;
}
// The dead-letter statuses: terminal, waiting for an operator.
inline bool IsDeadLetter(WorkflowStatus s) {
  return s == WorkflowStatus::kFaulted || s == WorkflowStatus::kCompensationFailed;
}

// Persisted field by field by engine/codec.cc (snapshots of the durable server). A new field
// must be written and read there too: a static_assert on the number of fields fails until the
// codec is updated. Type, Phase and Inbox values are persisted: do not renumber; Phase must
// stay below 16 and Inbox below 8 (they share a byte).
struct Node {
  enum class Type : uint8_t { kList, kTask };
  enum class Phase : uint8_t {
    kNew,        // not started yet
    kRunning,    // children are running (do, for, fork, try body, function)
    kActivity,   // waiting for an activity result (call, run)
    kTimer,      // waiting for timer_id (wait)
    kRetryWait,  // try, or a call/run under the default policy: waiting for the next attempt
    kCatching,   // try: running catch.do
    kListening,  // listen: waiting for events
    kDone,
    // An error no `try` handles stopped here (`error`); the instance is faulted and the node
    // waits for an operator: retry runs it again, skip completes it with a given output.
    kParked,
    // Undoing saga records (`items`, next = the one being undone; children: its compensation
    // list). The workflow-level driver is the root with no task; a try's is the try itself.
    // A failed compensation leaves the driver with `error` set and no children.
    kCompensating,
  };
  enum class Inbox : uint8_t { kNone, kOk, kFailed, kTimer, kTimeout };

  // timeout_timer_id of a task whose timeout Freeze dropped (the instance faulted): armed
  // again, for its full duration, when an operator revives the instance.
  static constexpr uint64_t kDroppedTimeout = uint64_t{1} << 62;

  Type type = Type::kTask;
  Phase phase = Phase::kNew;

  // kList
  const TaskList* list = nullptr;
  size_t index = 0;
  Json data;  // input of the next task, then the output of the last one

  // kTask
  const TaskDef* task = nullptr;
  Json raw_input;
  Json input;  // transformed input
  Millis started_at = 0;
  uint32_t attempt = 0;
  uint64_t activity_id = 0;  // a try with catch.compensate: its run's saga scope
  uint64_t timer_id = 0;
  uint64_t timeout_timer_id = 0;
  Json items;       // for: the collection
  size_t next = 0;  // for: next item to start
  Json outputs;     // fork / parallel for: outputs by position
  size_t pending = 0;
  int64_t slot = -1;             // position of this child in its fork / parallel for
  Json error;                    // try: the error being handled; retry wait/parked: the last error
  Millis retry_at = 0;           // kRetryWait: when the next attempt starts
  Json events;                   // listen: consumed events
  std::vector<uint8_t> matched;  // listen all: which filters matched

  // Scoped variables bound here for every descendant ($item, $index, $error, ...).
  std::vector<std::pair<std::string, Json>> vars;
  std::vector<std::unique_ptr<Node>> children;

  // A result delivered by an event, consumed by the next step.
  Inbox inbox = Inbox::kNone;
  Json result;
  std::vector<Json> queued_events;  // listen
};

// Persisted by engine/codec.cc like Node (same rule for new fields).
struct InstanceState {
  std::string instance_id;
  WorkflowStatus status = WorkflowStatus::kPending;
  Json raw_input;
  Json context = Json::Object();
  Json output;
  Json error;
  Millis started_at = 0;
  Millis ended_at = 0;
  uint64_t rng = 0;      // splitmix64 state
  uint64_t next_id = 1;  // activity and timer ids
  uint64_t workflow_timeout_timer = 0;
  uint64_t yield_timer = 0;
  // The saga log: completed tasks that declared `compensate` (and, in workflows that use
  // compensation, completed call/run/emit tasks that did not: {ref, skip: true}), in
  // completion order: [{seq, ref, input, output, vars?, scopes?}]. `scopes` are the saga
  // scopes (runs of tries with catch.compensate) the task completed in.
  Json saga = Json::Array();
  std::unique_ptr<Node> root;
};

}  // namespace baton::engine
