// ExecutorRegistry: maps an ExecuteTask kind ("http", "shell", ...) to the executor that
// serves it. Kinds no executor serves ("grpc", "asyncapi", "a2a", "mcp", "container") are
// answered by the runtime itself (a configuration error), not here.
//
// Ownership: the registry owns its executors and destroys them in reverse order of Add.
// Thread-safety: Add during wiring, before any Find; Find is then safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "executors/executor.h"

namespace baton::executors {

class ExecutorRegistry {
 public:
  ExecutorRegistry() = default;
  ~ExecutorRegistry();
  ExecutorRegistry(const ExecutorRegistry&) = delete;
  ExecutorRegistry& operator=(const ExecutorRegistry&) = delete;

  // Registers `executor` for each of its Kinds(); a kind already registered is taken over
  // by the later executor.
  void Add(ExecutorPtr executor);
  // The executor serving `kind`, or nullptr. The pointer lives as long as the registry.
  Executor* Find(std::string_view kind) const;
  // Every registered executor, in order of Add.
  const std::vector<ExecutorPtr>& executors() const { return executors_; }

 private:
  std::vector<ExecutorPtr> executors_;
  std::unordered_map<std::string, Executor*> by_kind_;
};

// The built-in executors: HttpExecutor (http, openapi; `http_threads` of them behind a
// ShardedExecutor) and ProcessExecutor (shell, script).
std::vector<ExecutorPtr> MakeDefaultExecutors(const ExecutorOptions& options);

}  // namespace baton::executors
