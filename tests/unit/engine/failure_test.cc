// Failure handling in the pure interpreter (docs/errors.md, docs/sagas.md,
// docs/dead-letters.md): error classes, the server's default retry policy, faults that keep
// their place, sagas, and operator repair. Driven with a fake clock.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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
using testing::Reply;
using testing::Uri;

std::vector<const LifecycleEntry*> Entries(const EngineHarness& h, LifecycleKind kind) {
  std::vector<const LifecycleEntry*> out;
  for (const auto& e : h.lifecycle()) {
    if (e.kind == kind) out.push_back(&e);
  }
  return out;
}

const char* kOneCall = R"(do:
  - get:
      call: http
      with: {method: get, endpoint: 'http://svc/x'}
)";

// ---- classification ------------------------------------------------------------------------

TEST(FailureTest, TransientAndPermanentErrors) {
  for (int status : {408, 429, 500, 502, 503, 504})
    EXPECT_TRUE(IsTransient(Comm(status))) << status;
  for (int status : {400, 401, 403, 404, 409, 422})
    EXPECT_FALSE(IsTransient(Comm(status))) << status;
  EXPECT_TRUE(IsTransient(MakeError(ErrorKind::kTimeout, "slow")));
  EXPECT_FALSE(IsTransient(MakeError(ErrorKind::kValidation, "bad")));
  EXPECT_FALSE(IsTransient(MakeError(ErrorKind::kExpression, "bad")));
  EXPECT_FALSE(IsTransient(MakeError(ErrorKind::kRuntime, 500, "", "exit 1")));
  EXPECT_FALSE(IsTransient(MakeError(ErrorKind::kAuthorization, "no")));
  EXPECT_FALSE(IsTransient(J(R"({"type": "https://example.com/boom", "status": 503})")));
  EXPECT_TRUE(IsTransient(J(R"({"type": "https://example.com/boom", "status": 400,
                                 "retryable": true})")));
  EXPECT_FALSE(
      IsTransient(J(R"({"type": "https://serverlessworkflow.io/spec/1.0.0/errors/communication",
                                  "status": 503, "retryable": false})")));
  EXPECT_EQ(ErrorTypeName("https://serverlessworkflow.io/spec/1.0.0/errors/communication"),
            "communication");
  EXPECT_EQ(ErrorTypeName("https://example.com/errors/boom"), "https://example.com/errors/boom");
}

// ---- the default policy --------------------------------------------------------------------

TEST(FailureTest, DefaultPolicyRetriesTransientErrorsWithJitteredExponentialDelays) {
  EngineHarness h(Doc(kOneCall), Defaults());
  h.set_responder([](const Activity&) { return Reply::Fail(Comm(503)); });
  h.Run();
  // 1 + 3 attempts, then the task parks and the instance faults.
  ASSERT_EQ(h.activities().size(), 4u);
  EXPECT_EQ(h.status(), "faulted");
  std::vector<std::string> keys;
  for (size_t i = 0; i < h.activities().size(); ++i) {
    EXPECT_EQ(h.activities()[i].attempt, i);
    keys.push_back(h.activities()[i].idempotency_key);
  }
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::unique(keys.begin(), keys.end()), keys.end()) << "a key per attempt";
  // Delays 1 s, 2 s, 4 s, each within ±10 %.
  auto retrying = Entries(h, LifecycleKind::kTaskRetrying);
  ASSERT_EQ(retrying.size(), 3u);
  const double base[] = {1000, 2000, 4000};
  for (size_t i = 0; i < 3; ++i) {
    double delay = retrying[i]->data.Get("delayMs").AsNumber();
    EXPECT_GE(delay, base[i] * 0.9) << i;
    EXPECT_LE(delay, base[i] * 1.1) << i;
    EXPECT_EQ(h.activities()[i + 1].at - h.activities()[i].at, static_cast<Millis>(delay));
    EXPECT_EQ(retrying[i]->data.Get("error").Get("status").AsNumber(), 503);
    EXPECT_TRUE(retrying[i]->data.Get("nextAttemptAt").IsString());
  }
  EXPECT_EQ(Entries(h, LifecycleKind::kTaskRetried).size(), 3u);
  // Each attempt has its start and its error in history.
  EXPECT_EQ(Entries(h, LifecycleKind::kTaskStarted).size(), 4u);
  EXPECT_EQ(Entries(h, LifecycleKind::kTaskFaulted).size(), 4u);
}

TEST(FailureTest, JitterVariesBetweenInstancesButStaysInBounds) {
  std::vector<double> first_delays;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    EngineHarness h(Doc(kOneCall), Defaults());
    int calls = 0;
    h.set_responder([&](const Activity&) {
      return ++calls == 1 ? Reply::Fail(Comm(503)) : Reply::Ok(J("{}"));
    });
    h.set_event_hook([seed](Event& e) {
      if (auto* s = std::get_if<InstanceStarted>(&e.body)) s->seed = seed * 7919 + 1;
    });
    h.Run();
    ASSERT_EQ(h.status(), "completed");
    double d = Entries(h, LifecycleKind::kTaskRetrying).at(0)->data.Get("delayMs").AsNumber();
    EXPECT_GE(d, 900);
    EXPECT_LE(d, 1100);
    first_delays.push_back(d);
  }
  std::sort(first_delays.begin(), first_delays.end());
  EXPECT_GT(first_delays.back() - first_delays.front(), 50) << "jitter spreads the delays";
}

TEST(FailureTest, PermanentErrorsFailAtOnce) {
  EngineHarness h(Doc(kOneCall), Defaults());
  h.set_responder([](const Activity&) { return Reply::Fail(Comm(404)); });
  h.Run();
  EXPECT_EQ(h.activities().size(), 1u);
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_EQ(h.error().Get("status").AsNumber(), 404);
  EXPECT_TRUE(Entries(h, LifecycleKind::kTaskRetrying).empty());
}

TEST(FailureTest, RetryAfterIsHonouredUpToMaxDelay) {
  Interpreter::Options o = Defaults();
  o.default_retry->jitter_ratio = 0;
  o.default_retry->max_delay_ms = 30000;
  EngineHarness h(Doc(kOneCall), o);
  int calls = 0;
  h.set_responder([&](const Activity&) {
    ++calls;
    Json e = Comm(429);
    e.Set("retryAfter", Json::Number(calls == 1 ? 5 : 3600));
    return calls <= 2 ? Reply::Fail(e) : Reply::Ok(J("{}"));
  });
  h.Run();
  EXPECT_EQ(h.status(), "completed");
  auto retrying = Entries(h, LifecycleKind::kTaskRetrying);
  ASSERT_EQ(retrying.size(), 2u);
  EXPECT_EQ(retrying[0]->data.Get("delayMs").AsNumber(), 5000);   // above the 1 s backoff
  EXPECT_EQ(retrying[1]->data.Get("delayMs").AsNumber(), 30000);  // capped at maxDelay
}

TEST(FailureTest, NamespacePolicyReplacesTheDefault) {
  Interpreter::Options o = Defaults();
  RetryPolicy none = BuiltinDefaultRetryPolicy();
  none.max_retries = 0;
  o.namespace_retry["test"] = none;
  EngineHarness h(Doc(kOneCall), o);
  h.set_responder([](const Activity&) { return Reply::Fail(Comm(503)); });
  h.Run();
  EXPECT_EQ(h.activities().size(), 1u);
  EXPECT_EQ(h.status(), "faulted");
}

TEST(FailureTest, ATryDecidesForTheTasksItEncloses) {
  EngineHarness h(Doc(R"(do:
  - guarded:
      try:
        - get:
            call: http
            with: {method: get, endpoint: 'http://svc/x'}
      catch:
        errors: {with: {status: 404}}
)"),
                  Defaults());
  h.set_responder([](const Activity&) { return Reply::Fail(Comm(503)); });
  h.Run();
  // No default retries inside the try; the try does not catch 503, so it parks.
  EXPECT_EQ(h.activities().size(), 1u);
  EXPECT_EQ(h.status(), "faulted");
}

TEST(FailureTest, RetryingStatusWhileOnlyDelaysArePending) {
  EngineHarness h(Doc(kOneCall), Defaults());
  h.set_responder([](const Activity&) { return Reply::Fail(Comm(503)); });
  bool seen_retrying = false;
  h.set_transition_hook([&](const CompiledWorkflow&, Transition& t) {
    if (t.state.status == WorkflowStatus::kRetrying) {
      seen_retrying = true;
      const Node& task = *t.state.root->children.at(0);
      EXPECT_EQ(task.phase, Node::Phase::kRetryWait);
      EXPECT_GT(task.retry_at, 0);
      EXPECT_EQ(task.error.Get("status").AsNumber(), 503);
    }
  });
  h.Run();
  EXPECT_TRUE(seen_retrying);
}

TEST(FailureTest, TaskTimeoutsOfCallsAreTransient) {
  EngineHarness h(Doc(R"(do:
  - get:
      call: http
      with: {method: get, endpoint: 'http://svc/x'}
      timeout: {after: {seconds: 2}}
)"),
                  Defaults());
  int calls = 0;
  h.set_responder([&](const Activity&) {
    return ++calls == 1 ? Reply::Never() : Reply::Ok(J(R"({"ok": true})"));
  });
  h.Run();
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.activities().size(), 2u);
  EXPECT_EQ(h.output(), J(R"({"ok": true})"));
}

// ---- faults keep their place; operator repair ------------------------------------------------

const char* kThreeSteps = R"(do:
  - a:
      set: {x: 1}
  - b:
      call: http
      with: {method: post, endpoint: 'http://svc/b', body: '${ . }'}
  - c:
      set: '${ . + {c: true} }'
)";

TEST(FailureTest, RetryResumesFromTheFailedTaskWithNewInput) {
  EngineHarness h(Doc(kThreeSteps), Defaults());
  bool fixed = false;
  h.set_responder([&](const Activity& a) {
    if (!fixed) return Reply::Fail(Comm(422));
    return Reply::Ok(a.request.Get("body"));
  });
  h.Run();
  ASSERT_EQ(h.status(), "faulted");
  ASSERT_TRUE(h.state().root) << "the tree is kept for the operator";
  EXPECT_EQ(Interpreter::RepairRefusal(h.state(), Action(OperatorAction::Kind::kRetry)), "");
  fixed = true;
  OperatorAction retry = Action(OperatorAction::Kind::kRetry);
  retry.input = J(R"({"x": 2})");
  retry.has_input = true;
  retry.context = J(R"({"fixedBy": "alice"})");
  retry.has_context = true;
  h.Repair(retry);
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.output(), J(R"({"x": 2, "c": true})"));
  EXPECT_EQ(h.state().context, J(R"({"fixedBy": "alice"})"));
  EXPECT_EQ(h.Started(), (std::vector<std::string>{"a", "b", "b", "c"})) << "a did not run again";
  auto repaired = Entries(h, LifecycleKind::kWorkflowRepaired);
  ASSERT_EQ(repaired.size(), 1u);
  EXPECT_EQ(repaired[0]->data.Get("action").AsString(), "retry");
  EXPECT_EQ(repaired[0]->data.Get("by").AsString(), "alice");
  EXPECT_EQ(repaired[0]->data.Get("reason").AsString(), "because");
  EXPECT_EQ(repaired[0]->data.Get("input"), J(R"({"x": 2})"));
}

TEST(FailureTest, SkipCompletesTheFailedTaskWithTheGivenOutput) {
  EngineHarness h(Doc(kThreeSteps), Defaults());
  h.set_responder([](const Activity&) { return Reply::Fail(Comm(400)); });
  h.Run();
  ASSERT_EQ(h.status(), "faulted");
  OperatorAction skip = Action(OperatorAction::Kind::kSkip);
  skip.output = J(R"({"given": 1})");
  h.Repair(skip);
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.output(), J(R"({"given": 1, "c": true})"));
  EXPECT_EQ(h.activities().size(), 1u) << "b was not called again";
}

TEST(FailureTest, DiscardCancelsWithTheReason) {
  EngineHarness h(Doc(kThreeSteps), Defaults());
  h.set_responder([](const Activity&) { return Reply::Fail(Comm(400)); });
  h.Run();
  h.Repair(Action(OperatorAction::Kind::kDiscard));
  EXPECT_EQ(h.status(), "cancelled");
  EXPECT_EQ(h.error().Get("title").AsString(), "Discarded");
  EXPECT_EQ(h.error().Get("detail").AsString(), "because");
  EXPECT_FALSE(h.state().root);
}

TEST(FailureTest, ActionsThatDoNotApplyAreRefusedWithAReason) {
  EngineHarness done(Doc(R"(do:
  - a:
      set: {x: 1}
)"));
  done.Run();
  ASSERT_EQ(done.status(), "completed");
  for (auto kind : {OperatorAction::Kind::kRetry, OperatorAction::Kind::kSkip,
                    OperatorAction::Kind::kCompensate, OperatorAction::Kind::kDiscard}) {
    std::string why = Interpreter::RepairRefusal(done.state(), Action(kind));
    EXPECT_NE(why.find("completed"), std::string::npos) << why;
  }
  // Applying a refused action changes nothing.
  done.Repair(Action(OperatorAction::Kind::kRetry));
  EXPECT_EQ(done.status(), "completed");
  EXPECT_TRUE(Entries(done, LifecycleKind::kWorkflowRepaired).empty());

  // A workflow timeout leaves nothing to skip, but retry restarts what ran.
  EngineHarness timed(Doc(R"(timeout: {after: {seconds: 5}}
do:
  - get:
      call: http
      with: {method: get, endpoint: 'http://svc/x'}
)"),
                      Defaults());
  int calls = 0;
  timed.set_responder([&](const Activity&) {
    return ++calls == 1 ? Reply::Never() : Reply::Ok(J(R"({"late": true})"));
  });
  timed.Run();
  ASSERT_EQ(timed.status(), "faulted");
  EXPECT_EQ(timed.error().Get("status").AsNumber(), 408);
  EXPECT_NE(Interpreter::RepairRefusal(timed.state(), Action(OperatorAction::Kind::kSkip))
                .find("no failed task"),
            std::string::npos);
  OperatorAction with_input = Action(OperatorAction::Kind::kRetry);
  with_input.has_input = true;
  EXPECT_NE(Interpreter::RepairRefusal(timed.state(), with_input), "");
  EXPECT_NE(Interpreter::RepairRefusal(timed.state(), Action(OperatorAction::Kind::kCompensate))
                .find("no completed task"),
            std::string::npos);
  timed.Repair(Action(OperatorAction::Kind::kRetry));
  EXPECT_EQ(timed.status(), "completed");
  EXPECT_EQ(timed.output(), J(R"({"late": true})"));
}

TEST(FailureTest, AFailedForkBranchStopsTheOthersAndRetryRestartsThem) {
  EngineHarness h(Doc(R"(do:
  - f:
      fork:
        branches:
          - slow:
              call: http
              with: {method: get, endpoint: 'http://svc/slow'}
          - bad:
              call: http
              with: {method: get, endpoint: 'http://svc/bad'}
)"),
                  Defaults());
  bool fixed = false;
  h.set_responder([&](const Activity& a) {
    if (Uri(a) == "http://svc/slow") return fixed ? Reply::Ok(J("1")) : Reply::Never();
    return fixed ? Reply::Ok(J("2")) : Reply::Fail(Comm(400));
  });
  h.Run();
  ASSERT_EQ(h.status(), "faulted");
  EXPECT_EQ(h.cancelled_activities().size(), 1u) << "the slow branch was stopped";
  fixed = true;
  h.Repair(Action(OperatorAction::Kind::kRetry));
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.output(), J("[1, 2]"));
}

// ---- sagas -------------------------------------------------------------------------------

const char* kBooking = R"(do:
  - flight:
      call: http
      with: {method: post, endpoint: 'http://svc/flights', body: '${ . }'}
      compensate:
        call: http
        with:
          method: delete
          endpoint: '${ "http://svc/flights/" + $output.id }'
          body: '${ {input: $input, original: $original} }'
  - note:
      set: '${ . }'
  - hotel:
      call: http
      with: {method: post, endpoint: 'http://svc/hotels'}
      compensate:
        - cancelHotel:
            call: http
            with: {method: delete, endpoint: '${ "http://svc/hotels/" + $output.id }'}
  - car:
      call: http
      with: {method: post, endpoint: 'http://svc/cars'}
      compensate:
        call: http
        with: {method: delete, endpoint: '${ "http://svc/cars/" + $output.id }'}
)";

Reply Book(const Activity& a, const std::string& failing) {
  std::string uri = Uri(a);
  if (uri == "http://svc/" + failing) return Reply::Fail(Comm(400));
  if (uri.rfind("http://svc/", 0) == 0 && a.request.Get("method").AsString() == "POST") {
    Json booking = Json::Object();
    booking.Set("id", Json::String(uri.substr(11) + "-1"));
    return Reply::Ok(booking);
  }
  return Reply::Ok(J(R"({"cancelled": true})"));
}

TEST(FailureTest, AFaultUndoesCompletedTasksInReverseOrder) {
  EngineHarness h(Doc(kBooking), Defaults());
  h.set_responder([](const Activity& a) { return Book(a, "cars"); });
  h.Run(J(R"({"trip": "t1"})"));
  EXPECT_EQ(h.status(), "compensated");
  EXPECT_EQ(h.error().Get("status").AsNumber(), 400) << "the instance's error is kept";
  EXPECT_TRUE(h.output().IsNull());
  std::vector<std::string> calls;
  for (const auto& a : h.activities())
    calls.push_back(std::string(a.request.Get("method").AsString()) + " " + Uri(a));
  EXPECT_EQ(calls,
            (std::vector<std::string>{"POST http://svc/flights", "POST http://svc/hotels",
                                      "POST http://svc/cars", "DELETE http://svc/hotels/hotels-1",
                                      "DELETE http://svc/flights/flights-1"}));
  // The compensation saw the original task's input and output.
  Json body = h.activities().back().request.Get("body");
  EXPECT_EQ(body.Get("input"), J(R"({"trip": "t1"})"));
  EXPECT_EQ(body.Get("original").Get("output"), J(R"({"id": "flights-1"})"));
  EXPECT_EQ(body.Get("original").Get("name").AsString(), "flight");
  EXPECT_EQ(body.Get("original").Get("reference").AsString(), "/do/0/flight");
  auto compensated = Entries(h, LifecycleKind::kTaskCompensated);
  ASSERT_EQ(compensated.size(), 2u);
  EXPECT_EQ(compensated[0]->task_ref, "/do/2/hotel");
  EXPECT_EQ(compensated[1]->task_ref, "/do/0/flight");
  EXPECT_EQ(Entries(h, LifecycleKind::kWorkflowCompensating).size(), 1u);
  EXPECT_EQ(Entries(h, LifecycleKind::kWorkflowCompensated).size(), 1u);
  EXPECT_TRUE(h.state().saga.empty());
}

TEST(FailureTest, NothingToUndoWhenTheFirstTaskFails) {
  EngineHarness h(Doc(kBooking), Defaults());
  h.set_responder([](const Activity& a) { return Book(a, "flights"); });
  h.Run();
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_EQ(h.activities().size(), 1u);
}

TEST(FailureTest, TasksWithoutACompensationAreRecordedAsNotCompensable) {
  EngineHarness h(Doc(R"(do:
  - pay:
      call: http
      with: {method: post, endpoint: 'http://svc/pay'}
      compensate:
        call: http
        with: {method: post, endpoint: 'http://svc/refund'}
  - notify:
      call: http
      with: {method: post, endpoint: 'http://svc/notify'}
  - boom:
      raise:
        error: {type: https://example.com/boom, status: 500}
)"),
                  Defaults());
  h.Run();
  EXPECT_EQ(h.status(), "compensated");
  auto skipped = Entries(h, LifecycleKind::kTaskNotCompensable);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0]->task_ref, "/do/1/notify");
  EXPECT_EQ(Uri(h.activities().back()), "http://svc/refund");
}

TEST(FailureTest, IterationsAndBranchesAreUndoneOnePerCompletion) {
  EngineHarness h(Doc(R"(do:
  - each:
      for: {in: '${ [1, 2, 3] }', each: n}
      do:
        - reserve:
            call: http
            with: {method: post, endpoint: '${ "http://svc/r/" + ($n | tostring) }'}
            compensate:
              call: http
              with: {method: delete, endpoint: '${ "http://svc/r/" + ($n | tostring) }'}
  - f:
      fork:
        branches:
          - x:
              call: http
              with: {method: post, endpoint: 'http://svc/x'}
              compensate:
                call: http
                with: {method: delete, endpoint: 'http://svc/x'}
  - boom:
      raise:
        error: {type: https://example.com/boom, status: 500}
)"),
                  Defaults());
  h.Run();
  EXPECT_EQ(h.status(), "compensated");
  std::vector<std::string> undo = Deletes(h);
  EXPECT_EQ(undo, (std::vector<std::string>{"http://svc/x", "http://svc/r/3", "http://svc/r/2",
                                            "http://svc/r/1"}));
}

TEST(FailureTest, CatchCompensateUndoesTheTryBodyThenRunsTheHandler) {
  EngineHarness h(Doc(R"(do:
  - before:
      call: http
      with: {method: post, endpoint: 'http://svc/before'}
      compensate:
        call: http
        with: {method: delete, endpoint: 'http://svc/before'}
  - attempt:
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
        do:
          - handled:
              set: {handled: true}
)"),
                  Defaults());
  h.set_responder([](const Activity& a) {
    return Uri(a) == "http://svc/fails" ? Reply::Fail(Comm(400)) : Reply::Ok(J("{}"));
  });
  h.Run();
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.output(), J(R"({"handled": true})"));
  std::vector<std::string> undo = Deletes(h);
  EXPECT_EQ(undo, (std::vector<std::string>{"http://svc/inner"})) << "only the try body";
  // `before` is still in the saga log, `inner` is not (never undone twice).
  ASSERT_EQ(h.state().saga.size(), 1u);
  EXPECT_EQ(h.state().saga.At(0).Get("ref").AsString(), "/do/0/before");
}

TEST(FailureTest, AFailedCompensationWaitsForAnOperatorAndAlerts) {
  EngineHarness h(Doc(kBooking), Defaults());
  bool fixed = false;
  h.set_responder([&](const Activity& a) {
    if (Uri(a) == "http://svc/hotels/hotels-1" && !fixed) return Reply::Fail(Comm(500));
    return Book(a, "cars");
  });
  h.Run();
  ASSERT_EQ(h.status(), "compensation_failed");
  EXPECT_EQ(h.error().Get("status").AsNumber(), 400) << "the original error is kept";
  // The hotel's undo was retried by the default policy (4 attempts), then gave up.
  int hotel_undos = 0;
  for (const auto& a : h.activities()) hotel_undos += Uri(a) == "http://svc/hotels/hotels-1";
  EXPECT_EQ(hotel_undos, 4);
  ASSERT_EQ(h.published().size(), 1u);
  EXPECT_EQ(h.published()[0].Get("type").AsString(), "io.baton.alert.compensation_failed.v1");
  EXPECT_EQ(h.published()[0].Get("data").Get("workflow").AsString(), "test/t:1.0.0");
  EXPECT_EQ(Entries(h, LifecycleKind::kWorkflowCompensationFailed).size(), 1u);
  // Retry runs the failed undo again, then the rest.
  fixed = true;
  h.Repair(Action(OperatorAction::Kind::kRetry));
  EXPECT_EQ(h.status(), "compensated");
  EXPECT_EQ(Uri(h.activities().back()), "http://svc/flights/flights-1");
  EXPECT_EQ(hotel_undos + 1, [&] {
    int n = 0;
    for (const auto& a : h.activities()) n += Uri(a) == "http://svc/hotels/hotels-1";
    return n;
  }());
}

TEST(FailureTest, SkippingAFailedCompensationMovesToTheNext) {
  EngineHarness h(Doc(kBooking), Defaults());
  h.set_responder([&](const Activity& a) {
    if (Uri(a) == "http://svc/hotels/hotels-1") return Reply::Fail(Comm(400));
    return Book(a, "cars");
  });
  h.Run();
  ASSERT_EQ(h.status(), "compensation_failed");
  h.Repair(Action(OperatorAction::Kind::kSkip));
  EXPECT_EQ(h.status(), "compensated");
  EXPECT_EQ(Uri(h.activities().back()), "http://svc/flights/flights-1");
}

TEST(FailureTest, CompensateALiveInstanceNow) {
  EngineHarness h(Doc(R"(do:
  - book:
      call: http
      with: {method: post, endpoint: 'http://svc/book'}
      compensate:
        call: http
        with: {method: delete, endpoint: 'http://svc/book'}
  - approval:
      listen:
        to:
          one: {with: {type: com.example.approved}}
)"),
                  Defaults());
  h.Run();
  ASSERT_EQ(h.status(), "waiting");
  EXPECT_EQ(Interpreter::RepairRefusal(h.state(), Action(OperatorAction::Kind::kCompensate)), "");
  EXPECT_NE(Interpreter::RepairRefusal(h.state(), Action(OperatorAction::Kind::kDiscard)), "");
  h.Repair(Action(OperatorAction::Kind::kCompensate));
  EXPECT_EQ(h.status(), "compensated");
  EXPECT_EQ(h.error().Get("title").AsString(), "Compensated by operator");
  EXPECT_EQ(h.activities().back().request.Get("method").AsString(), "DELETE");
}

// ---- the server's configuration of the default policy -------------------------------------

TEST(FailureTest, DefaultPolicyConfiguration) {
  RetryPolicy base = BuiltinDefaultRetryPolicy();
  EXPECT_EQ(base.max_retries, 3);
  EXPECT_EQ(base.delay_ms, 1000);
  EXPECT_EQ(base.max_delay_ms, 60000);
  EXPECT_DOUBLE_EQ(base.jitter_ratio, 0.1);
  auto p = ParseDefaultRetryPolicy(
      J(R"({"attempts": 10, "delay": "PT2S", "maxDelay": "PT30S", "multiplier": 3,
            "jitter": 0.2})"),
      base);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->max_retries, 10);
  EXPECT_EQ(p->delay_ms, 2000);
  EXPECT_EQ(p->max_delay_ms, 30000);
  EXPECT_DOUBLE_EQ(p->multiplier, 3);
  EXPECT_DOUBLE_EQ(p->jitter_ratio, 0.2);
  auto partial = ParseDefaultRetryPolicy(J(R"({"attempts": 0})"), *p);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->max_retries, 0);
  EXPECT_EQ(partial->delay_ms, 2000) << "missing keys keep the base's values";
  for (const char* bad :
       {R"({"attempts": -1})", R"({"attempts": 1.5})", R"({"delay": "soon"})", R"({"jitter": 2})",
        R"({"multiplier": 0.5})", R"({"tries": 3})", R"([1])"}) {
    auto r = ParseDefaultRetryPolicy(J(bad), base);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto unknown = ParseDefaultRetryPolicy(J(R"({"tries": 3})"), base);
  EXPECT_NE(unknown.status().message().find("tries"), std::string::npos);
}

}  // namespace
}  // namespace baton::engine
