#include "executors/registry.h"

#include <gtest/gtest.h>

namespace baton::executors {
namespace {

TEST(ExecutorRegistryTest, DefaultExecutorsServeCallsAndRuns) {
  ExecutorRegistry registry;
  for (ExecutorPtr& executor : MakeDefaultExecutors(ExecutorOptions{})) {
    registry.Add(std::move(executor));
  }
  EXPECT_EQ(registry.executors().size(), 2u);
  for (const char* kind : {"http", "openapi", "shell", "script"}) {
    EXPECT_NE(registry.Find(kind), nullptr) << kind;
  }
  EXPECT_EQ(registry.Find("http"), registry.Find("openapi"));
  EXPECT_EQ(registry.Find("shell"), registry.Find("script"));
  for (const char* kind : {"grpc", "asyncapi", "a2a", "mcp", "container", ""}) {
    EXPECT_EQ(registry.Find(kind), nullptr) << kind;
  }
}

}  // namespace
}  // namespace baton::executors
