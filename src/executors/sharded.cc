#include "executors/sharded.h"

#include <utility>

#include "base/check.h"

namespace baton::executors {

ShardedExecutor::ShardedExecutor(std::vector<ExecutorPtr> shards) : shards_(std::move(shards)) {
  BATON_CHECK(!shards_.empty());
}

std::vector<std::string> ShardedExecutor::Kinds() const { return shards_.front()->Kinds(); }

Executor& ShardedExecutor::ShardOf(uint64_t activity_id) const {
  return *shards_[activity_id % shards_.size()];
}

void ShardedExecutor::Start(engine::ExecuteTask task, Completion done) {
  Executor& shard = ShardOf(task.activity_id);
  shard.Start(std::move(task), std::move(done));
}

void ShardedExecutor::Cancel(uint64_t activity_id) { ShardOf(activity_id).Cancel(activity_id); }

}  // namespace baton::executors
