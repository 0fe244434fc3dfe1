// ProcessExecutor: carries out `run: shell` and `run: script` tasks as local processes.
//
//   shell:  /bin/sh -c <command> sh <arguments...>          ($1.. are the arguments)
//   script: js/javascript → node --experimental-detect-module <tmpdir>/script.js <arguments...>
//           python        → python3 <tmpdir>/script.py <arguments...>
// `arguments` is an array (each item one argv entry) or an object (each member one
// "key=value" entry, in order). The child's environment is this process's, then
// ExecutorOptions.base_environment, then the task's `environment`, then
// BATON_IDEMPOTENCY_KEY. `stdin` is written to the child and then closed (no stdin: EOF).
//
// Each child runs in its own process group. One worker thread multiplexes every child's
// pipes and exit (pidfd) with poll(2). Cancel and `timeout_ms` send SIGTERM to the group and
// SIGKILL 2 s later; the Completion fires once the child has been reaped, so a completed
// activity never leaves its process behind. `await: false` completes at once with a null
// output; the child keeps running (its output is discarded) and is reaped when it exits.
//
// Output by `return`: stdout (default) / stderr → that stream with trailing newlines
// trimmed; code → the exit code; all → {code, stdout, stderr}; none → null. A non-zero exit
// is a runtime error (500, detail with the code and a stderr excerpt) unless `return` is
// code or all. Each stream keeps at most 16 MiB (the rest is read and dropped).
//
// Thread-safety: Start and Cancel may be called from any thread, including from inside a
// Completion. The destructor terminates every child (SIGTERM, then SIGKILL after 2 s),
// completes awaited activities as cancelled and joins the worker; it must not run inside a
// Completion.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "executors/executor.h"

namespace baton::executors {

class ProcessExecutor : public Executor {
 public:
  explicit ProcessExecutor(ExecutorOptions options);
  ~ProcessExecutor() override;
  ProcessExecutor(const ProcessExecutor&) = delete;
  ProcessExecutor& operator=(const ProcessExecutor&) = delete;

  std::vector<std::string> Kinds() const override;
  void Start(engine::ExecuteTask task, Completion done) override;
  void Cancel(uint64_t activity_id) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::executors
