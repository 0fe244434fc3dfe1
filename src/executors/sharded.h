// ShardedExecutor: spreads one kind of work over several executors of that kind (each with
// its own thread), so that a burst of HTTP calls is not limited to one core. The shard of an
// activity is its id modulo the number of shards, so Cancel needs no lookup.
//
// Thread-safety: as Executor (Start and Cancel from any thread).
#pragma once

#include <string>
#include <vector>

#include "executors/executor.h"

namespace baton::executors {

class ShardedExecutor : public Executor {
 public:
  // REQUIRES: `shards` is not empty and every shard serves the same kinds.
  explicit ShardedExecutor(std::vector<ExecutorPtr> shards);

  std::vector<std::string> Kinds() const override;
  void Start(engine::ExecuteTask task, Completion done) override;
  void Cancel(uint64_t activity_id) override;

 private:
  Executor& ShardOf(uint64_t activity_id) const;
  std::vector<ExecutorPtr> shards_;
};

}  // namespace baton::executors
