#include "executors/sharded.h"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace baton::executors {
namespace {

// Records what reaches it; answers every start at once.
class Recorder : public Executor {
 public:
  std::vector<std::string> Kinds() const override { return {"http", "openapi"}; }
  void Start(engine::ExecuteTask task, Completion done) override {
    started.push_back(task.activity_id);
    done(engine::TaskSucceeded{task.activity_id, Json::Number(1)});
  }
  void Cancel(uint64_t activity_id) override { cancelled.push_back(activity_id); }
  std::vector<uint64_t> started;
  std::vector<uint64_t> cancelled;
};

TEST(ShardedExecutorTest, RoutesStartAndCancelOfAnActivityToTheSameShard) {
  auto a = std::make_unique<Recorder>();
  auto b = std::make_unique<Recorder>();
  Recorder* ra = a.get();
  Recorder* rb = b.get();
  std::vector<ExecutorPtr> shards;
  shards.push_back(std::move(a));
  shards.push_back(std::move(b));
  ShardedExecutor sharded(std::move(shards));
  EXPECT_EQ(sharded.Kinds(), (std::vector<std::string>{"http", "openapi"}));
  int answered = 0;
  for (uint64_t id = 1; id <= 6; ++id) {
    engine::ExecuteTask task;
    task.activity_id = id;
    sharded.Start(task, [&](engine::EventBody) { ++answered; });
  }
  sharded.Cancel(3);
  sharded.Cancel(4);
  EXPECT_EQ(answered, 6);
  EXPECT_EQ(ra->started, (std::vector<uint64_t>{2, 4, 6}));
  EXPECT_EQ(rb->started, (std::vector<uint64_t>{1, 3, 5}));
  EXPECT_EQ(ra->cancelled, (std::vector<uint64_t>{4}));
  EXPECT_EQ(rb->cancelled, (std::vector<uint64_t>{3}));
}

}  // namespace
}  // namespace baton::executors
