#include "executors/registry.h"

#include <utility>

#include "executors/http/http_executor.h"
#include "executors/process/process_executor.h"
#include "executors/sharded.h"

namespace baton::executors {

ExecutorRegistry::~ExecutorRegistry() {
  by_kind_.clear();
  while (!executors_.empty()) executors_.pop_back();
}

void ExecutorRegistry::Add(ExecutorPtr executor) {
  if (!executor) return;
  for (const std::string& kind : executor->Kinds()) by_kind_[kind] = executor.get();
  executors_.push_back(std::move(executor));
}

Executor* ExecutorRegistry::Find(std::string_view kind) const {
  auto it = by_kind_.find(std::string(kind));
  return it == by_kind_.end() ? nullptr : it->second;
}

std::vector<ExecutorPtr> MakeDefaultExecutors(const ExecutorOptions& options) {
  std::vector<ExecutorPtr> out;
  if (options.http_threads <= 1) {
    out.push_back(std::make_unique<HttpExecutor>(options));
  } else {
    std::vector<ExecutorPtr> shards;
    for (int i = 0; i < options.http_threads; ++i) {
      shards.push_back(std::make_unique<HttpExecutor>(options));
    }
    out.push_back(std::make_unique<ShardedExecutor>(std::move(shards)));
  }
  out.push_back(std::make_unique<ProcessExecutor>(options));
  return out;
}

}  // namespace baton::executors
