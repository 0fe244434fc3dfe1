// LocalRunner: runs workflow instances to their end inside this process, without a store.
// It is what `baton run` and the conformance tests use: the interpreter, the executors,
// real-time timers, sub-workflows from a catalog, and an in-process event bus for
// emit/listen.
//
// Thread-safety: Run() is called from one thread; Cancel() may be called from any thread
// (and from a signal-watching thread) while Run() is in progress.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "engine/lifecycle.h"
#include "engine/workflow.h"
#include "executors/executor.h"
#include "model/document.h"

namespace baton::runtime {

struct RunOptions {
  Json input = Json::Object();
  executors::ExecutorOptions executor_options;
  // Called on the Run() thread for every lifecycle entry of every instance (children too;
  // `depth` is 0 for the top-level instance).
  std::function<void(const engine::LifecycleEntry& entry, int depth)> on_lifecycle;
  // Values of `$secrets` (name → value).
  Json secrets = Json::Object();
  // Overall wall-clock limit of Run() in milliseconds; 0 = none. On expiry the instance is
  // cancelled and Run() returns DeadlineExceeded.
  int64_t deadline_ms = 0;
};

struct RunResult {
  std::string status;  // "completed", "faulted" or "cancelled"
  Json output;         // when completed
  Json error;          // when faulted: {type, status, title, detail?, instance}
  std::vector<engine::LifecycleEntry> lifecycle;  // of the top-level instance, in order
  std::vector<Json> published_events;             // CloudEvents emitted, in order
};

class LocalRunner {
 public:
  explicit LocalRunner(RunOptions options);
  ~LocalRunner();

  // Makes a document available to `run: workflow` by its namespace/name/version.
  // REQUIRES: the document is valid (model::Validate returned nothing).
  Status AddToCatalog(const model::Document& doc);

  // Runs `doc` to its end. A document that does not compile returns InvalidArgument;
  // workflow faults are a RunResult with status "faulted", not an error.
  Result<RunResult> Run(const model::Document& doc);
  // Runs an already compiled workflow (what `baton run` does after validating).
  Result<RunResult> Run(std::shared_ptr<const engine::CompiledWorkflow> workflow);

  // Cancels the running instance (and its children, processes and calls).
  void Cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::runtime
