// Executor: carries out one kind of ExecuteTask command outside the interpreter (HTTP
// calls, processes, ...) and reports the result as an engine event.
//
// Side effects run at least once: an executor must send `idempotency_key` where the
// protocol allows it (HTTP: `Idempotency-Key` header; processes: BATON_IDEMPOTENCY_KEY).
//
// Thread-safety: Start and Cancel may be called from any thread; `done` is called exactly
// once per started activity (also after Cancel, with a cancelled error), from any thread.
// The request Json given to Start must not share storage with values used on other threads
// (the runtime passes a DeepCopy); results must likewise be unshared (see base/json.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/command.h"
#include "engine/event.h"

namespace baton::executors {

// Either TaskSucceeded or TaskFailed for the command's activity_id.
using Completion = std::function<void(engine::EventBody result)>;

struct ExecutorOptions {
  // Rewrites outgoing URLs by prefix (tests map public hosts to a local fixture server),
  // e.g. {"https://petstore.swagger.io", "http://127.0.0.1:40123"}.
  std::vector<std::pair<std::string, std::string>> url_rewrites;
  // Refuse any URL that is not on 127.0.0.0/8 or localhost after rewriting (tests).
  bool loopback_only = false;
  // Environment given to run: shell/script processes in addition to the task's own.
  std::vector<std::pair<std::string, std::string>> base_environment;
  // Threads (each with its own libcurl multi handle) that carry HTTP and OpenAPI calls.
  int http_threads = 2;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // The ExecuteTask kinds this executor serves ("http", ...).
  virtual std::vector<std::string> Kinds() const = 0;
  virtual void Start(engine::ExecuteTask task, Completion done) = 0;
  // Best effort: stops a running activity; its Completion still fires (with a cancelled
  // runtime error) unless it already did.
  virtual void Cancel(uint64_t activity_id) = 0;
};

using ExecutorPtr = std::unique_ptr<Executor>;

}  // namespace baton::executors
