#include "executors/fault.h"

#include <gtest/gtest.h>

#include "engine/error.h"

namespace baton::executors {
namespace {

TEST(MakeErrorTest, BuildsProblemObjects) {
  Json error = engine::MakeError(engine::ErrorKind::kCommunication, 404, "HTTP 404 Not Found",
                                 "GET /x", "/do/0/get");
  EXPECT_EQ(error.Get("type").AsString(),
            "https://serverlessworkflow.io/spec/1.0.0/errors/communication");
  EXPECT_EQ(error.Get("status").AsInt(), 404);
  EXPECT_EQ(error.Get("title").AsString(), "HTTP 404 Not Found");
  EXPECT_EQ(error.Get("detail").AsString(), "GET /x");
  EXPECT_EQ(error.Get("instance").AsString(), "/do/0/get");

  Json timeout = engine::MakeError(engine::ErrorKind::kTimeout, "");
  EXPECT_EQ(timeout.Get("status").AsInt(), 408);
  EXPECT_EQ(timeout.Get("title").AsString(), "Timeout Error");
  EXPECT_FALSE(timeout.Has("detail"));
  EXPECT_FALSE(timeout.Has("instance"));
}

TEST(MakeErrorTest, DefaultStatuses) {
  using engine::ErrorKind;
  EXPECT_EQ(engine::DefaultStatus(ErrorKind::kConfiguration), 400);
  EXPECT_EQ(engine::DefaultStatus(ErrorKind::kValidation), 400);
  EXPECT_EQ(engine::DefaultStatus(ErrorKind::kExpression), 400);
  EXPECT_EQ(engine::DefaultStatus(ErrorKind::kAuthentication), 401);
  EXPECT_EQ(engine::DefaultStatus(ErrorKind::kAuthorization), 403);
  EXPECT_EQ(engine::DefaultStatus(ErrorKind::kTimeout), 408);
  EXPECT_EQ(engine::DefaultStatus(ErrorKind::kCommunication), 500);
  EXPECT_EQ(engine::DefaultStatus(ErrorKind::kRuntime), 500);
}

TEST(SameErrorTypeTest, AcceptsTheDslAlias) {
  EXPECT_TRUE(engine::SameErrorType("https://serverlessworkflow.io/spec/1.0.0/errors/runtime",
                                    "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"));
  EXPECT_TRUE(
      engine::SameErrorType("https://serverlessworkflow.io/dsl/errors/types/communication",
                            "https://serverlessworkflow.io/spec/1.0.0/errors/communication"));
  EXPECT_TRUE(engine::SameErrorType("https://serverlessworkflow.io/spec/1.0.0/errors/timeout",
                                    "https://serverlessworkflow.io/dsl/errors/types/timeout"));
  EXPECT_FALSE(engine::SameErrorType("https://serverlessworkflow.io/dsl/errors/types/timeout",
                                     "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"));
  EXPECT_TRUE(engine::SameErrorType("https://example.com/errors/types/compliance",
                                    "https://example.com/errors/types/compliance"));
  EXPECT_FALSE(
      engine::SameErrorType("https://example.com/errors/x", "https://example.com/errors/y"));
}

TEST(FaultTest, Base64AndExcerpt) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Excerpt("short"), "short");
  EXPECT_EQ(Excerpt("abcdef", 3), "abc...");
  EXPECT_EQ(Excerpt("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9...");  // not split inside a character
  EXPECT_EQ(Excerpt("a\rb"), "a b");
}

TEST(FaultTest, ToEventCarriesTheError) {
  Fault fault = CancelledFault("the call");
  engine::EventBody body = fault.ToEvent(9);
  auto* failed = std::get_if<engine::TaskFailed>(&body);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->activity_id, 9u);
  EXPECT_EQ(failed->error.Get("title").AsString(), "Cancelled");
  EXPECT_EQ(failed->error.Get("detail").AsString(), "the call was cancelled");
}

}  // namespace
}  // namespace baton::executors
