// WorkflowService: what the REST API (api/) and other front ends ask of a running baton
// server. Implemented by runtime::Server (runtime/server.h); api/ sees only this interface.
//
// Errors map onto HTTP by their StatusCode: InvalidArgument → 400, NotFound → 404,
// AlreadyExists/Conflict → 409, Unavailable → 503 (shutting down, store not ready),
// DeadlineExceeded → 504, others → 500. Messages are precise and safe to show to clients.
//
// Views are JSON values built for clients (their shapes are documented in
// docs/api.md and api/openapi.json). Every Json handed out shares no storage with the
// server's own values (see base/json.h), so the caller may use it on any one thread.
//
// Thread-safety: every method may be called from any thread. Completion callbacks run on a
// server thread (the group-commit thread): they must be quick and must not call back into
// the service synchronously.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/json.h"
#include "base/status.h"

namespace baton::runtime {

struct DeployResult {
  std::string namespace_;
  std::string name;
  std::string version;
  bool created = false;  // false: identical content was already deployed (idempotent)
};

struct StartRequest {
  std::string workflow;  // "namespace/name" or "namespace/name:version"
  Json input = Json::Object();
  std::string idempotency_key;  // empty = none
};

struct StartResult {
  std::string id;
  bool created = true;  // false: the idempotency key named an existing instance
};

struct ListFilter {
  std::string status;    // empty = any
  std::string workflow;  // "namespace/name[:version]"; empty = any
  int64_t since_ms = 0;  // created at or after (0 = no bound)
  int64_t until_ms = 0;  // created before (0 = no bound)
  int limit = 50;        // 1..1000
  std::string cursor;
};

// An operator's repair of a dead-lettered instance (docs/dead-letters.md).
struct RepairRequest {
  std::string action;  // "retry" | "skip" | "compensate" | "discard"
  std::string by;      // who asked (free text; recorded in history)
  std::string reason;  // why (required, non-empty; recorded in history)
  // retry: replaces the failed task's input / the workflow context (both optional).
  std::optional<Json> input;
  std::optional<Json> context;
  // skip: the failed task's output (null when absent).
  std::optional<Json> output;
};

// Dead letters: instances whose status is faulted or compensation_failed.
struct DeadLetterFilter {
  std::string workflow;    // "namespace/name[:version]"; empty = any
  std::string error_type;  // a full error type URI or its last segment ("communication")
  int64_t since_ms = 0;    // entered the view (ended) at or after (0 = no bound)
  int64_t until_ms = 0;    // entered the view before (0 = no bound)
  int limit = 50;          // 1..1000
  std::string cursor;
};

// An instance view as JSON text. Immutable, so the one copy built where the instance ended is
// shared by every thread that answers with it: a Json view must be deep-copied at each
// hand-off between threads (jq's reference counts are not atomic), which cost a third of the
// HTTP thread's time under load.
using ViewText = std::shared_ptr<const std::string>;
inline ViewText MakeViewText(const Json& view) {
  return std::make_shared<const std::string>(view.Dump());
}

class WorkflowService {
 public:
  virtual ~WorkflowService() = default;

  // Validates, compiles and stores a document (YAML or JSON text). Invalid documents →
  // InvalidArgument whose message lists every problem ("LINE:COL: error: ... (at /ptr)").
  virtual Result<DeployResult> Deploy(const std::string& content) = 0;
  // [{namespace, name, versions: [..]}] / {namespace, name, versions: [{version, createdAt}]}
  // / {namespace, name, version, createdAt, contentHash, document}
  virtual Result<Json> ListDefinitions() = 0;
  virtual Result<Json> GetDefinitionVersions(const std::string& namespace_,
                                             const std::string& name) = 0;
  virtual Result<Json> GetDefinition(const std::string& namespace_, const std::string& name,
                                     const std::string& version) = 0;

  // Creates an instance; `done` runs once its first transition is committed (or with the
  // error). With an idempotency key already used, `done` gets that instance's id and
  // created=false, and nothing new is created.
  virtual void StartInstance(StartRequest request,
                             std::function<void(Result<StartResult>)> done) = 0;

  // Runs `done` with the instance view (as GetInstance, serialised: see ViewText) once the
  // instance is terminal, or after `timeout_ms` with its current view, whichever comes
  // first. NotFound if unknown.
  virtual void WaitInstance(const std::string& id, int64_t timeout_ms,
                            std::function<void(Result<ViewText>)> done) = 0;

  // {id, workflow:{namespace,name,version}, status, input, output?, error?, context,
  //  tasks:[{ref, name, status, attempt}], createdAt, updatedAt, endedAt?, elapsedMs}
  virtual Result<Json> GetInstance(const std::string& id) = 0;
  // {items: [instance summaries without context], nextCursor?}
  virtual Result<Json> ListInstances(const ListFilter& filter) = 0;
  // {items: [{seq, time, kind, task?, name?, attempt, durationMs?, error?, output?}], ...}
  virtual Result<Json> GetHistory(const std::string& id) = 0;

  // Instance controls. `done` runs after the change is committed. Invalid in the current
  // state (e.g. cancel a completed instance) → Conflict with the reason.
  virtual void Cancel(const std::string& id, std::string reason,
                      std::function<void(Status)> done) = 0;
  virtual void Suspend(const std::string& id, std::function<void(Status)> done) = 0;
  virtual void Resume(const std::string& id, std::function<void(Status)> done) = 0;

  // Operator repair. `done` gets the instance view once the action is committed.
  // Unknown id → NotFound; an instance that is not in a state the action applies to →
  // Conflict with the reason ("instance is completed; only faulted or compensation_failed
  // instances can be retried"); malformed request (no reason, unknown action, skip with
  // input, ...) → InvalidArgument.
  virtual void Repair(const std::string& id, RepairRequest request,
                      std::function<void(Result<Json>)> done) = 0;
  // {items: [{id, workflow:{namespace,name,version}, status, error, failedTask?:{ref, name,
  //  attempt}, attempts, createdAt, endedAt, inViewMs}], nextCursor?}
  virtual Result<Json> ListDeadLetters(const DeadLetterFilter& filter) = 0;
  // Applies `request` to every dead letter matching `filter` (at most 1000, oldest first),
  // or only lists them when `dry_run`. {dryRun, matched, items: [{id, workflow, status,
  // errorType, result?: "applied"|"failed", detail?}]}
  virtual void Redrive(const DeadLetterFilter& filter, RepairRequest request, bool dry_run,
                       std::function<void(Result<Json>)> done) = 0;

  // True once the store is open and migrated and recovery has been scheduled.
  virtual bool Ready() const = 0;
};

}  // namespace baton::runtime
