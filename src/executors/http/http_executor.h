// HttpExecutor: carries out `call: http` and `call: openapi` tasks with libcurl.
//
// One worker thread drives a curl multi handle, so any number of calls (a 500-branch fork
// issues 500 at once) run concurrently without a thread each. Start and Cancel only queue
// work for that thread and wake it; every Completion runs on it.
//
// Behaviour (request shapes in engine/command.h):
//   - sends `Idempotency-Key: <task.idempotency_key>` and `User-Agent: baton/0.1`;
//   - redirects are followed by this executor, not by curl, so that url_rewrites and
//     loopback_only apply to every hop (and to OpenAPI document fetches);
//   - a status outside 200-299 (200-399 with `redirect: true`) is a communication error
//     whose status is the HTTP status; network failures are communication errors with
//     status 503; running past `timeout_ms` is a timeout error (408);
//   - OpenAPI documents are fetched once per URI and cached for the executor's lifetime.
//
// Thread-safety: Start and Cancel may be called from any thread, including from inside a
// Completion. The destructor completes every activity still running with a cancelled error
// and joins the worker; it must not run on the worker thread (i.e. inside a Completion).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "executors/executor.h"

namespace baton::executors {

class HttpExecutor : public Executor {
 public:
  explicit HttpExecutor(ExecutorOptions options);
  ~HttpExecutor() override;
  HttpExecutor(const HttpExecutor&) = delete;
  HttpExecutor& operator=(const HttpExecutor&) = delete;

  std::vector<std::string> Kinds() const override;
  void Start(engine::ExecuteTask task, Completion done) override;
  void Cancel(uint64_t activity_id) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::executors
