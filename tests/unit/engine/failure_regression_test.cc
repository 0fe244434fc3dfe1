// Regressions found in review of the failure handling (issue 4). Each test failed before
// its fix; the comment above it says what used to go wrong.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/codec.h"
#include "engine/error.h"
#include "engine/interpreter.h"
#include "testing/engine_harness.h"
#include "testing/engine_test_util.h"

namespace baton::engine {
namespace {

using testing::Action;
using testing::Activity;
using testing::Comm;
using testing::Defaults;
using testing::Deletes;
using testing::Doc;
using testing::EngineHarness;
using testing::J;
using testing::Method;
using testing::Reply;
using testing::Uri;

void RoundTrip(EngineHarness& h) {
  h.set_transition_hook([](const CompiledWorkflow& wf, Transition& t) {
    std::string bytes = EncodeState(wf, t.state);
    auto decoded = DecodeState(wf, bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    t.state = std::move(decoded).value();
  });
}
// catch.compensate takes every saga record whose ref is under the try, including those of
//    earlier (completed) iterations of an enclosing for.
TEST(FailureRegressionTest, CatchCompensateUndoesOnlyItsOwnIteration) {
  EngineHarness h(Doc(R"(do:
  - loop:
      for: {in: '${ [1, 2] }', each: n}
      do:
        - t:
            try:
              - book:
                  call: http
                  with: {method: post, endpoint: '${ "http://svc/b/" + ($n|tostring) }'}
                  compensate:
                    call: http
                    with: {method: delete, endpoint: '${ "http://svc/b/" + ($n|tostring) }'}
              - check:
                  if: '${ $n == 2 }'
                  raise:
                    error: {type: https://example.com/x, status: 400}
            catch:
              compensate: true
)"),
                  Defaults());
  RoundTrip(h);
  h.Run();
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(Deletes(h), (std::vector<std::string>{"http://svc/b/2"}));
}

// Records moved into a try's saga driver are lost when the workflow times out meanwhile.
TEST(FailureRegressionTest, WorkflowTimeoutDuringATrysUndoKeepsItsRecords) {
  EngineHarness h(Doc(R"(timeout: {after: {seconds: 10}}
do:
  - first:
      call: http
      with: {method: post, endpoint: 'http://svc/first'}
      compensate:
        call: http
        with: {method: delete, endpoint: 'http://svc/first'}
  - t:
      try:
        - inner:
            call: http
            with: {method: post, endpoint: 'http://svc/inner'}
            compensate:
              call: http
              with: {method: delete, endpoint: 'http://svc/inner'}
        - fails:
            call: http
            with: {method: post, endpoint: 'http://svc/fails'}
      catch:
        compensate: true
)"),
                  Defaults());
  RoundTrip(h);
  int inner_undo = 0;
  h.set_responder([&](const Activity& a) {
    if (Uri(a) == "http://svc/fails") return Reply::Fail(Comm(400));
    if (Method(a) == "DELETE" && Uri(a) == "http://svc/inner" && inner_undo++ == 0)
      return Reply::Ok(J("{}"), 20000);  // slower than the workflow timeout
    return Reply::Ok(J("{}"));
  });
  h.Run();
  EXPECT_EQ(h.status(), "compensated");
  int compensated_inner = 0;
  for (const auto& e : h.lifecycle())
    if (e.kind == LifecycleKind::kTaskCompensated &&
        e.task_ref.str().find("inner") != std::string::npos)
      ++compensated_inner;
  EXPECT_EQ(compensated_inner, 1) << "inner's undo was cancelled and never run again";
  EXPECT_EQ(Deletes(h).size(), 3u) << "DELETE inner (cancelled), DELETE inner again, DELETE first";
}

// A park and a failed try-compensation in one transition: after the saga is repaired the
//    parked task is never reported; the instance waits forever.
TEST(FailureRegressionTest, ParkedTaskNextToAFailedUndoFaultsAfterRepair) {
  EngineHarness h(Doc(R"(do:
  - f:
      fork:
        branches:
          - a:
              try:
                - book:
                    set: {booked: true}
                    compensate:
                      raise:
                        error: {type: https://example.com/undo, status: 400}
                - fail:
                    raise:
                      error: {type: https://example.com/a, status: 400}
              catch:
                compensate: true
          - b:
              raise:
                error: {type: https://example.com/b, status: 400}
)"),
                  Defaults());
  RoundTrip(h);
  h.Run();
  ASSERT_EQ(h.status(), "compensation_failed");
  h.Repair(Action(OperatorAction::Kind::kSkip));
  EXPECT_EQ(h.status(), "faulted") << "branch b is parked; nothing else can happen";
  EXPECT_EQ(Interpreter::RepairRefusal(h.state(), Action(OperatorAction::Kind::kRetry)), "");
}

// Repairing a try-level compensation failure: the workflow completes but keeps an error;
//    `compensate` on it resumes the workflow instead of compensating.
const char* kTryUndo = R"(do:
  - t:
      try:
        - book:
            call: http
            with: {method: post, endpoint: 'http://svc/book'}
            compensate:
              call: http
              with: {method: delete, endpoint: 'http://svc/book'}
        - fail:
            raise:
              error: {type: https://example.com/a, status: 400}
      catch:
        compensate: true
  - after:
      set: {done: true}
)";
TEST(FailureRegressionTest, RetriedTryUndoClearsTheError) {
  EngineHarness h(Doc(kTryUndo), Defaults());
  RoundTrip(h);
  bool fixed = false;
  h.set_responder([&](const Activity& a) {
    if (Method(a) == "DELETE" && !fixed) return Reply::Fail(Comm(400));
    return Reply::Ok(J("{}"));
  });
  h.Run();
  ASSERT_EQ(h.status(), "compensation_failed");
  fixed = true;
  h.Repair(Action(OperatorAction::Kind::kRetry));
  EXPECT_EQ(h.status(), "completed");
  EXPECT_TRUE(h.error().IsNull()) << h.error().Dump();
}
TEST(FailureRegressionTest, CompensateAfterATrysUndoFailedUndoesEverything) {
  EngineHarness h(Doc(kTryUndo), Defaults());
  bool fixed = false;
  h.set_responder([&](const Activity& a) {
    if (Method(a) == "DELETE" && !fixed) return Reply::Fail(Comm(400));
    return Reply::Ok(J("{}"));
  });
  h.Run();
  ASSERT_EQ(h.status(), "compensation_failed");
  fixed = true;
  h.Repair(Action(OperatorAction::Kind::kCompensate));
  EXPECT_EQ(h.status(), "compensated");
}

// Parallel iterations: one iteration's catch.compensate undoes a sibling that is still
//    running (and later completes).
TEST(FailureRegressionTest, ParallelIterationUndoesOnlyItsOwnTasks) {
  EngineHarness h(Doc(R"(do:
  - loop:
      for: {in: '${ [1, 2] }', each: n, concurrency: 2}
      do:
        - t:
            try:
              - book:
                  call: http
                  with: {method: post, endpoint: '${ "http://svc/b/" + ($n|tostring) }'}
                  compensate:
                    call: http
                    with: {method: delete, endpoint: '${ "http://svc/b/" + ($n|tostring) }'}
              - pay:
                  call: http
                  with: {method: post, endpoint: '${ "http://svc/p/" + ($n|tostring) }'}
            catch:
              compensate: true
)"),
                  Defaults());
  RoundTrip(h);
  h.set_responder([&](const Activity& a) {
    if (Uri(a) == "http://svc/p/1") return Reply::Ok(J("{}"), 10000);
    if (Uri(a) == "http://svc/p/2") return Reply::Fail(Comm(400), 10);
    return Reply::Ok(J("{}"));
  });
  h.Run();
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(Deletes(h), (std::vector<std::string>{"http://svc/b/2"}))
      << "iteration 1 completed, yet its booking was undone";
}

// Workflow timeout is not re-armed after a try-level compensation is retried.
TEST(FailureRegressionTest, WorkflowTimeoutIsArmedAgainAfterATrysUndoIsRetried) {
  EngineHarness h(Doc(std::string("timeout: {after: {seconds: 100}}\n") + R"(do:
  - t:
      try:
        - book:
            call: http
            with: {method: post, endpoint: 'http://svc/book'}
            compensate:
              call: http
              with: {method: delete, endpoint: 'http://svc/book'}
        - fail:
            raise:
              error: {type: https://example.com/a, status: 400}
      catch:
        compensate: true
  - forever:
      wait: {hours: 10}
)"),
                  Defaults());
  bool fixed = false;
  h.set_responder([&](const Activity& a) {
    if (Method(a) == "DELETE" && !fixed) return Reply::Fail(Comm(400));
    return Reply::Ok(J("{}"));
  });
  h.Run();
  ASSERT_EQ(h.status(), "compensation_failed");
  fixed = true;
  h.Repair(Action(OperatorAction::Kind::kRetry));
  EXPECT_EQ(h.status(), "faulted") << "the 100 s workflow timeout should end the 10 h wait";
}

// Freeze/thaw of every kind of node, through the codec.
TEST(FailureRegressionTest, FreezeAndRetryEveryKindOfNode) {
  EngineHarness h(Doc(R"(use:
  functions:
    fetch:
      call: http
      with: {method: get, endpoint: 'http://svc/fn'}
do:
  - f:
      fork:
        branches:
          - viaFn:
              call: fetch
          - tryWait:
              try:
                - flaky:
                    call: http
                    with: {method: get, endpoint: 'http://svc/flaky'}
              catch:
                retry:
                  delay: {seconds: 30}
                  limit: {attempt: {count: 5}}
          - tryCatching:
              try:
                - bad:
                    raise:
                      error: {type: https://example.com/bad, status: 400}
              catch:
                do:
                  - slow:
                      wait: {seconds: 50}
          - listening:
              listen:
                to:
                  one: {with: {type: com.example.go}}
          - par:
              for: {in: '${ [1, 2, 3] }', each: n, concurrency: 3}
              do:
                - c:
                    call: http
                    with: {method: get, endpoint: '${ "http://svc/p/" + ($n|tostring) }'}
          - race:
              fork:
                compete: true
                branches:
                  - r1:
                      wait: {seconds: 70}
                  - r2:
                      wait: {seconds: 80}
          - breaker:
              do:
                - pause:
                    wait: {seconds: 5}
                - boom:
                    call: http
                    with: {method: get, endpoint: 'http://svc/boom'}
)"),
                  Defaults());
  RoundTrip(h);
  bool fixed = false;
  h.set_responder([&](const Activity& a) {
    if (Uri(a) == "http://svc/boom") return fixed ? Reply::Ok(J("{}")) : Reply::Fail(Comm(400));
    if (Uri(a) == "http://svc/flaky") return fixed ? Reply::Ok(J("{}")) : Reply::Fail(Comm(503));
    if (Uri(a) == "http://svc/fn") return fixed ? Reply::Ok(J("{}")) : Reply::Fail(Comm(503));
    if (Uri(a) == "http://svc/p/2") return Reply::Ok(J("{}"), 100000);
    return Reply::Ok(J("{}"));
  });
  h.Run();
  ASSERT_EQ(h.status(), "faulted");
  fixed = true;
  h.Repair(Action(OperatorAction::Kind::kRetry));
  h.SendEvent(J(R"({"specversion":"1.0","id":"1","source":"x","type":"com.example.go"})"));
  EXPECT_EQ(h.status(), "completed") << h.error().Dump();
}

TEST(FailureRegressionTest, CompositeTaskTimeoutIsArmedAgainOnRetry) {
  EngineHarness h(Doc(R"(do:
  - outer:
      timeout: {after: {seconds: 10}}
      do:
        - boom:
            call: http
            with: {method: get, endpoint: 'http://svc/boom'}
        - long:
            wait: {hours: 1}
)"),
                  Defaults());
  bool fixed = false;
  h.set_responder(
      [&](const Activity&) { return fixed ? Reply::Ok(J("{}")) : Reply::Fail(Comm(400)); });
  h.Run();
  ASSERT_EQ(h.status(), "faulted");
  fixed = true;
  h.Repair(Action(OperatorAction::Kind::kRetry));
  EXPECT_EQ(h.status(), "faulted") << "outer's 10 s timeout should stop the 1 h wait";
}

}  // namespace
}  // namespace baton::engine
