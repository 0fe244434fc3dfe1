// Server: the durable runtime behind `baton serve`. It feeds events to the interpreter,
// commits every transition to the Store before anything acts on it (transactional
// outbox), hands the committed commands to executors and timers, and brings every
// instance back after a crash from what the store holds.
//
// How work flows (docs/architecture/runtime.md has the long version):
//   event → instance mailbox → worker thread (Advance, encode) → group commit (one
//   transaction + fsync for many instances) → after commit: dispatch commands, answer the
//   API, wake waiters.
//
// Threads and ownership:
//   * `workers` threads; every instance is pinned to one of them (hash of its id), so all
//     jq values of an instance (and of the compiled definitions it refers to) stay on one
//     thread: libjq's reference counts are not atomic. Each worker compiles its own copy
//     of every definition it runs.
//   * one commit thread (group commit); it only ever sees bytes and unshared values.
//   * one timer thread (durable timers are loaded from the store a few seconds ahead, so
//     timers far in the future cost no memory) and one maintenance thread (watchdog for
//     evaluations that never end, retention pruning).
//   * an instance stays in memory only while it has an activity in flight; an instance
//     that waits on a timer or an event, or has ended, is evicted and reloaded from its
//     snapshot when something happens to it.
//
// Failure model: a commit that fails (I/O error, disk full) stops the process
// (fail-stop), because the in-memory state is then ahead of the disk; restart resumes
// from the last commit. An activity in flight at a crash is dispatched again on start
// with the same idempotency key (at least once); an activity whose result was committed
// never runs again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/json.h"
#include "base/status.h"
#include "engine/workflow.h"
#include "executors/registry.h"
#include "runtime/service.h"
#include "store/store.h"

namespace baton::runtime {

struct ServerOptions {
  int workers = 2;                                 // advance threads
  size_t max_batch = 4096;                         // transitions per group commit
  size_t max_document_bytes = 1 << 20;             // deployed document text
  size_t max_instance_bytes = 1 << 20;             // input, output and context, each
  int64_t retention_ms = 30LL * 24 * 3600 * 1000;  // ended instances are pruned after this
  int64_t prune_interval_ms = 60LL * 1000;
  // An Advance (one transition: jq evaluations included) that runs longer than this is
  // abandoned: the instance faults with a timeout error and its worker is replaced.
  int64_t evaluation_timeout_ms = 10LL * 1000;
  int64_t timer_horizon_ms = 2000;             // how far ahead due timers are loaded into memory
  int64_t shutdown_deadline_ms = 10LL * 1000;  // SIGTERM: how long running attempts may take
  Json secrets = Json::Object();               // `$secrets`
  // Retries of call/run tasks outside any `try`, on transient errors (docs/errors.md);
  // none = no automatic retries. By namespace, `namespace_retry` replaces it.
  std::optional<engine::RetryPolicy> default_retry = engine::BuiltinDefaultRetryPolicy();
  std::unordered_map<std::string, engine::RetryPolicy> namespace_retry;
};

class Server final : public WorkflowService {
 public:
  // `store` and `executors` must outlive the Server.
  Server(ServerOptions options, store::Store* store, executors::ExecutorRegistry* executors);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts the threads and schedules recovery (outstanding work is dispatched again in
  // the background; Ready() is true as soon as this returns).
  Status Start();
  // Stops taking new instances, lets running activities finish for up to
  // `shutdown_deadline_ms`, commits what is pending and stops every thread. Activities
  // still running then are left to be dispatched again after restart. Idempotent.
  void Shutdown();

  // WorkflowService
  Result<DeployResult> Deploy(const std::string& content) override;
  Result<Json> ListDefinitions() override;
  Result<Json> GetDefinitionVersions(const std::string& namespace_,
                                     const std::string& name) override;
  Result<Json> GetDefinition(const std::string& namespace_, const std::string& name,
                             const std::string& version) override;
  void StartInstance(StartRequest request, std::function<void(Result<StartResult>)> done) override;
  void WaitInstance(const std::string& id, int64_t timeout_ms,
                    std::function<void(Result<ViewText>)> done) override;
  Result<Json> GetInstance(const std::string& id) override;
  Result<Json> ListInstances(const ListFilter& filter) override;
  Result<Json> GetHistory(const std::string& id) override;
  void Cancel(const std::string& id, std::string reason, std::function<void(Status)> done) override;
  void Suspend(const std::string& id, std::function<void(Status)> done) override;
  void Resume(const std::string& id, std::function<void(Status)> done) override;
  void Repair(const std::string& id, RepairRequest request,
              std::function<void(Result<Json>)> done) override;
  Result<Json> ListDeadLetters(const DeadLetterFilter& filter) override;
  void Redrive(const DeadLetterFilter& filter, RepairRequest request, bool dry_run,
               std::function<void(Result<Json>)> done) override;
  bool Ready() const override;

  // Counters since start, read by the tests (there is no metrics endpoint yet).
  struct Counters {
    uint64_t commits = 0;       // transactions
    uint64_t transitions = 0;   // instance writes committed
    uint64_t dispatched = 0;    // executor attempts started
    uint64_t redispatched = 0;  // of which: outstanding work found at start
    uint64_t timers_fired = 0;
    uint64_t abandoned_workers = 0;  // evaluations that exceeded evaluation_timeout_ms
    uint64_t resident = 0;           // instances in memory now
    uint64_t wait_deadlines = 0;     // `?wait` deadlines held (answered ones until purged)
    uint64_t waiters = 0;            // `?wait` callers waiting for an instance's end
  };
  Counters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::runtime
