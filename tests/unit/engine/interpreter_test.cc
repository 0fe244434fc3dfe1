// Behaviour of the pure interpreter, driven through the real engine with a fake clock.
#include "engine/interpreter.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "testing/engine_harness.h"
#include "testing/engine_test_util.h"

namespace baton::engine {
namespace {

using testing::Activity;
using testing::Doc;
using testing::EngineHarness;
using testing::J;
using testing::Reply;

TEST(InterpreterTest, SetReplacesTheData) {
  EngineHarness h(Doc(R"(do:
  - a:
      set:
        x: ${ .in + 1 }
        fixed: hello
)"));
  h.Run(J(R"({"in": 41, "other": true})"));
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.output(), J(R"({"x": 42, "fixed": "hello"})"));
}

TEST(InterpreterTest, ThenJumpsExitAndEnd) {
  EngineHarness h(Doc(R"(do:
  - a:
      set: {n: 1}
      then: c
  - b:
      set: {n: 2}
  - c:
      do:
        - c1:
            set: {n: 3}
            then: exit
        - c2:
            set: {n: 4}
  - d:
      set: {n: 5}
      then: end
  - e:
      set: {n: 6}
)"));
  h.Run();
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.output(), J(R"({"n": 5})"));
  EXPECT_EQ(h.Started(), (std::vector<std::string>{"a", "c", "c1", "d"}));
}

TEST(InterpreterTest, EndInsideNestedDoEndsTheWorkflow) {
  EngineHarness h(Doc(R"(do:
  - outer:
      do:
        - inner:
            set: {v: 1}
            then: end
  - never:
      set: {v: 2}
)"));
  h.Run();
  EXPECT_EQ(h.output(), J(R"({"v": 1})"));
  EXPECT_EQ(h.Started(), (std::vector<std::string>{"outer", "inner"}));
}

TEST(InterpreterTest, BackwardJumpLoopsUntilSwitchLeaves) {
  EngineHarness h(Doc(R"(do:
  - inc:
      set: {n: "${ (.n // 0) + 1 }"}
  - check:
      switch:
        - again:
            when: .n < 5
            then: inc
        - done:
            then: exit
)"));
  h.Run();
  EXPECT_EQ(h.output(), J(R"({"n": 5})"));
}

TEST(InterpreterTest, SwitchDefaultAndNoMatch) {
  std::string doc = Doc(R"(do:
  - s:
      switch:
        - red:
            when: .color == "red"
            then: setRed
        - other:
            then: setOther
  - setRed:
      set: {c: red}
      then: end
  - setOther:
      set: {c: other}
)");
  EngineHarness red(doc);
  red.Run(J(R"({"color": "red"})"));
  EXPECT_EQ(red.output(), J(R"({"c": "red"})"));
  EngineHarness other(doc);
  other.Run(J(R"({"color": "blue"})"));
  EXPECT_EQ(other.output(), J(R"({"c": "other"})"));

  EngineHarness none(Doc(R"(do:
  - s:
      switch:
        - red:
            when: .color == "red"
            then: end
      then: end
  - after:
      set: {reached: true}
)"));
  none.Run(J(R"({"color": "yellow"})"));
  EXPECT_EQ(none.output(), J(R"({"color": "yellow"})"));
}

TEST(InterpreterTest, IfFalseSkipsTaskAndPassesInputThrough) {
  EngineHarness h(Doc(R"(do:
  - maybe:
      if: .go
      set: {changed: true}
)"));
  h.Run(J(R"({"go": false})"));
  EXPECT_EQ(h.output(), J(R"({"go": false})"));
  EXPECT_TRUE(h.Started().empty());
}

TEST(InterpreterTest, DataFlowInputOutputExportAndContext) {
  EngineHarness h(Doc(R"(input:
  from: .payload
do:
  - a:
      input:
        from: '${ {v: .value} }'
      set:
        doubled: ${ .v * 2 }
      output:
        as: .doubled
      export:
        as: '${ {last: ., seen: $input.v} }'
  - b:
      set:
        fromContext: ${ $context.last }
        raw: ${ $workflow.input.payload.value }
output:
  as: .fromContext
)"));
  h.Run(J(R"({"payload": {"value": 21}})"));
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.output(), J("42"));
  EXPECT_EQ(h.state().context, J(R"({"last": 42, "seen": 21})"));
}

TEST(InterpreterTest, ExpressionErrorFaultsWith400AndTaskInstance) {
  EngineHarness h(Doc(R"(do:
  - bad:
      set:
        x: ${ .a.b.c | tonumber }
)"));
  h.Run(J(R"({"a": {"b": {"c": "not a number"}}})"));
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_EQ(h.error().Get("status"), Json::Number(400));
  EXPECT_TRUE(SameErrorType(h.error().Get("type").AsString(),
                            "https://serverlessworkflow.io/spec/1.0.0/errors/expression"));
  EXPECT_EQ(h.error().Get("instance"), Json::String("/do/0/bad"));
}

TEST(InterpreterTest, SequentialForChainsIterations) {
  EngineHarness h(Doc(R"(do:
  - loop:
      for:
        each: color
        in: .colors
      do:
        - add:
            set:
              seen: ${ (.seen // []) + [$color] }
              at: ${ (.at // []) + [$index] }
)"));
  h.Run(J(R"({"colors": ["red", "green", "blue"]})"));
  EXPECT_EQ(h.output(), J(R"({"seen": ["red","green","blue"], "at": [0,1,2]})"));
}

TEST(InterpreterTest, ForWhileStopsBeforeIteration) {
  EngineHarness h(Doc(R"(do:
  - loop:
      for:
        in: ${ [range(0; 100)] }
      while: (.n // 0) < 3
      do:
        - add:
            set: {n: "${ (.n // 0) + 1 }"}
)"));
  h.Run();
  EXPECT_EQ(h.output(), J(R"({"n": 3})"));
}

TEST(InterpreterTest, EmptyForOutputsItsInput) {
  EngineHarness h(Doc(R"(do:
  - loop:
      for:
        in: .items
      do:
        - x:
            set: {changed: true}
)"));
  h.Run(J(R"({"items": []})"));
  EXPECT_EQ(h.output(), J(R"({"items": []})"));
}

TEST(InterpreterTest, ParallelForKeepsItemOrderAndConcurrencyLimit) {
  EngineHarness h(Doc(R"(do:
  - fan:
      for:
        each: n
        in: ${ [range(0; 20)] }
        concurrency: 3
      do:
        - call:
            call: http
            with:
              method: get
              endpoint: http://svc/{n}
            input:
              from: '${ {n: $n} }'
)"));
  int in_flight = 0;
  int max_in_flight = 0;
  std::set<engine::Millis> starts;
  h.set_responder([&](const Activity& a) {
    // Later items answer sooner, so completion order differs from item order.
    std::string uri(a.request.Get("endpoint").AsString());
    int n = std::stoi(uri.substr(uri.rfind('/') + 1));
    starts.insert(a.at);
    return Reply::Ok(Json::Number(n * 10), 100 - n);
  });
  h.Run();
  ASSERT_EQ(h.status(), "completed");
  Json expected = Json::Array();
  for (int i = 0; i < 20; ++i) expected.Append(Json::Number(i * 10));
  EXPECT_EQ(h.output(), expected);
  EXPECT_EQ(h.activities().size(), 20u);
  // Every iteration's call has its own idempotency key (they share the task's ref).
  std::set<std::string> keys;
  for (const auto& a : h.activities()) keys.insert(a.idempotency_key);
  EXPECT_EQ(keys.size(), 20u);
  // At most 3 calls were outstanding at any fake instant: check by replaying start/answer times.
  std::vector<std::pair<engine::Millis, int>> edges;
  for (const auto& a : h.activities()) {
    std::string uri(a.request.Get("endpoint").AsString());
    int n = std::stoi(uri.substr(uri.rfind('/') + 1));
    edges.emplace_back(a.at, +1);
    edges.emplace_back(a.at + 100 - n, -1);
  }
  std::sort(edges.begin(), edges.end(), [](auto& x, auto& y) {
    return x.first != y.first ? x.first < y.first : x.second < y.second;
  });
  for (auto& [t, d] : edges) {
    in_flight += d;
    max_in_flight = std::max(max_in_flight, in_flight);
  }
  EXPECT_EQ(max_in_flight, 3);
}

TEST(InterpreterTest, ForkCollectsBranchOutputsInDeclarationOrder) {
  EngineHarness h(Doc(R"(do:
  - f:
      fork:
        branches:
          - slow:
              call: http
              with: {method: get, endpoint: http://svc/slow}
          - fast:
              call: http
              with: {method: get, endpoint: http://svc/fast}
          - local:
              set: {local: true}
)"));
  h.set_responder([](const Activity& a) {
    return a.task_name == "slow" ? Reply::Ok(Json::String("s"), 50)
                                 : Reply::Ok(Json::String("f"), 5);
  });
  h.Run();
  EXPECT_EQ(h.output(), J(R"(["s", "f", {"local": true}])"));
}

TEST(InterpreterTest, CompetingForkFirstCompletedBranchCancelsTheOthers) {
  EngineHarness h(Doc(R"(do:
  - race:
      fork:
        compete: true
        branches:
          - slow:
              call: http
              with: {method: get, endpoint: http://svc/slow}
          - fast:
              call: http
              with: {method: get, endpoint: http://svc/fast}
)"));
  h.set_responder([](const Activity& a) {
    return a.task_name == "slow" ? Reply::Ok(Json::String("slow"), 500)
                                 : Reply::Ok(Json::String("fast"), 5);
  });
  h.Run();
  EXPECT_EQ(h.output(), Json::String("fast"));
  EXPECT_EQ(h.cancelled_activities().size(), 1u);
  bool slow_cancelled = false;
  for (const auto& e : h.lifecycle()) {
    slow_cancelled =
        slow_cancelled || (e.kind == LifecycleKind::kTaskCancelled && e.task_name == "slow");
  }
  EXPECT_TRUE(slow_cancelled);
}

TEST(InterpreterTest, FailedForkBranchFaultsTheForkAndCancelsSiblings) {
  EngineHarness h(Doc(R"(do:
  - f:
      fork:
        branches:
          - waits:
              call: http
              with: {method: get, endpoint: http://svc/slow}
          - boom:
              raise:
                error: {type: https://example.com/boom, status: 418}
)"));
  h.set_responder([](const Activity&) { return Reply::Never(); });
  h.Run();
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_EQ(h.error().Get("status"), Json::Number(418));
  EXPECT_EQ(h.error().Get("instance"), Json::String("/do/0/f/fork/branches/1/boom"));
  EXPECT_EQ(h.cancelled_activities().size(), 1u);
}

TEST(InterpreterTest, RaiseReusableErrorWithExpressions) {
  EngineHarness h(Doc(R"(use:
  errors:
    notFound:
      type: https://example.com/not-found
      status: 404
      title: Not found
      detail: ${ "no item " + .id }
do:
  - fail:
      raise:
        error: notFound
)"));
  h.Run(J(R"({"id": "x1"})"));
  EXPECT_EQ(h.error(), J(R"({"type":"https://example.com/not-found","status":404,
    "title":"Not found","detail":"no item x1","instance":"/do/0/fail"})"));
}

const char* kTryDoc = R"(do:
  - attempt:
      try:
        - op:
            call: http
            with: {method: post, endpoint: http://svc/op}
      catch:
        errors:
          with:
            type: https://serverlessworkflow.io/dsl/errors/types/communication
            status: 503
        as: err
        retry:
          delay: {seconds: 1}
          backoff:
            %BACKOFF%
          limit:
            attempt:
              count: 3
        do:
          - handled:
              set:
                handledStatus: ${ $err.status }
                handledInstance: ${ $err.instance }
)";

std::string TryDoc(const std::string& backoff) {
  std::string s = kTryDoc;
  s.replace(s.find("%BACKOFF%"), 9, backoff);
  return Doc(s);
}

Json Unavailable() { return MakeError(ErrorKind::kCommunication, 503, "HTTP 503", "unavailable"); }

TEST(InterpreterTest, RetriesWithConstantLinearAndExponentialBackoff) {
  struct Case {
    std::string backoff;
    std::vector<Millis> delays;
  } cases[] = {
      {"constant: {}", {1000, 1000, 1000}},
      {"linear: {}", {1000, 2000, 3000}},
      {"exponential: {}", {1000, 2000, 4000}},
      {"exponential: {multiplier: 3, maxDelay: {seconds: 5}}", {1000, 3000, 5000}},
      {"linear: {increment: {milliseconds: 250}}", {1000, 1250, 1500}},
  };
  for (const auto& c : cases) {
    EngineHarness h(TryDoc(c.backoff));
    h.set_responder([](const Activity&) { return Reply::Fail(Unavailable()); });
    h.Run();
    SCOPED_TRACE(c.backoff);
    EXPECT_EQ(h.status(), "completed");
    EXPECT_EQ(h.activities().size(), 4u);  // first run + 3 retries
    EXPECT_EQ(h.timer_delays(), c.delays);
    EXPECT_EQ(h.output(),
              J(R"({"handledStatus": 503, "handledInstance": "/do/0/attempt/try/0/op"})"));
    // Each attempt has its own stable idempotency key.
    std::set<std::string> keys;
    for (const auto& a : h.activities()) keys.insert(a.idempotency_key);
    EXPECT_EQ(keys.size(), 4u);
    EXPECT_EQ(h.activities()[2].idempotency_key.rfind("test-instance:/do/0/attempt/try/0/op:2:", 0),
              0u);
  }
}

TEST(InterpreterTest, RetrySucceedsOnThirdAttempt) {
  EngineHarness h(TryDoc("constant: {}"));
  int calls = 0;
  h.set_responder([&](const Activity&) {
    return ++calls < 3 ? Reply::Fail(Unavailable()) : Reply::Ok(J(R"({"ok": true})"));
  });
  h.Run();
  EXPECT_EQ(h.output(), J(R"({"ok": true})"));
  int retried = 0;
  for (const auto& e : h.lifecycle()) retried += e.kind == LifecycleKind::kTaskRetried;
  EXPECT_EQ(retried, 2);
}

TEST(InterpreterTest, JitterStaysWithinBounds) {
  std::string doc = Doc(R"(do:
  - attempt:
      try:
        - op:
            call: http
            with: {method: get, endpoint: http://svc/op}
      catch:
        retry:
          delay: {milliseconds: 100}
          backoff: {constant: {}}
          jitter: {from: {milliseconds: 10}, to: {milliseconds: 50}}
          limit: {attempt: {count: 50}}
)");
  EngineHarness h(doc);
  h.set_responder([](const Activity&) { return Reply::Fail(Unavailable()); });
  h.Run();
  ASSERT_EQ(h.timer_delays().size(), 50u);
  std::set<Millis> distinct;
  for (Millis d : h.timer_delays()) {
    EXPECT_GE(d, 110);
    EXPECT_LE(d, 150);
    distinct.insert(d);
  }
  EXPECT_GT(distinct.size(), 5u);  // it is random, not a constant
}

TEST(InterpreterTest, RetryLimitDurationStopsRetrying) {
  EngineHarness h(Doc(R"(do:
  - attempt:
      try:
        - op:
            call: http
            with: {method: get, endpoint: http://svc/op}
      catch:
        retry:
          delay: {seconds: 10}
          limit: {duration: {seconds: 35}}
)"));
  h.set_responder([](const Activity&) { return Reply::Fail(Unavailable()); });
  h.Run();
  // Retries at +10, +20, +30 s; a fourth would end at +40 s, past the 35 s window.
  EXPECT_EQ(h.activities().size(), 4u);
  EXPECT_EQ(h.status(), "completed");  // caught, no catch.do: output is the try's input
}

TEST(InterpreterTest, UncaughtErrorIsReraisedUnchanged) {
  EngineHarness h(Doc(R"(do:
  - attempt:
      try:
        - op:
            call: http
            with: {method: get, endpoint: http://svc/op}
      catch:
        errors:
          with: {status: 503}
)"));
  h.set_responder([](const Activity&) {
    return Reply::Fail(MakeError(ErrorKind::kCommunication, 404, "HTTP 404", ""));
  });
  h.Run();
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_EQ(h.error().Get("status"), Json::Number(404));
  EXPECT_EQ(h.error().Get("instance"), Json::String("/do/0/attempt/try/0/op"));
}

TEST(InterpreterTest, CatchWhenAndExceptWhen) {
  std::string doc = Doc(R"(do:
  - attempt:
      try:
        - op:
            call: http
            with:
              method: get
              endpoint: http://svc/status/{status}
      catch:
        when: $error.status >= 500
        exceptWhen: $error.status == 501
        do:
          - recovered:
              set: {recovered: true}
)");
  auto respond = [](const Activity& a) {
    std::string uri(a.request.Get("endpoint").AsString());
    int status = std::stoi(uri.substr(uri.rfind('/') + 1));
    return Reply::Fail(MakeError(ErrorKind::kCommunication, status, "HTTP error", ""));
  };
  EngineHarness caught(doc);
  caught.set_responder(respond);
  caught.Run(J(R"({"status": 503})"));
  EXPECT_EQ(caught.output(), J(R"({"recovered": true})"));
  EngineHarness excepted(doc);
  excepted.set_responder(respond);
  excepted.Run(J(R"({"status": 501})"));
  EXPECT_EQ(excepted.status(), "faulted");
  EngineHarness low(doc);
  low.set_responder(respond);
  low.Run(J(R"({"status": 400})"));
  EXPECT_EQ(low.status(), "faulted");
  EXPECT_EQ(low.error().Get("status"), Json::Number(400));
}

TEST(InterpreterTest, TaskTimeoutCancelsTheCallAndRaises408) {
  EngineHarness h(Doc(R"(do:
  - slow:
      call: http
      with: {method: get, endpoint: http://svc/slow}
      timeout:
        after: {seconds: 2}
)"));
  h.set_responder([](const Activity&) { return Reply::Never(); });
  h.Run();
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_EQ(h.error().Get("status"), Json::Number(408));
  EXPECT_TRUE(SameErrorType(h.error().Get("type").AsString(),
                            "https://serverlessworkflow.io/spec/1.0.0/errors/timeout"));
  EXPECT_EQ(h.cancelled_activities().size(), 1u);
  EXPECT_EQ(h.now(), 1000000 + 2000);
}

TEST(InterpreterTest, TimeoutIsCatchableAndReusable) {
  EngineHarness h(Doc(R"(use:
  timeouts:
    short:
      after: PT1S
do:
  - guarded:
      try:
        - slow:
            call: http
            with: {method: get, endpoint: http://svc/slow}
            timeout: short
      catch:
        errors:
          with: {type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout}
        do:
          - fallback:
              set: {fallback: true}
)"));
  h.set_responder([](const Activity&) { return Reply::Never(); });
  h.Run();
  EXPECT_EQ(h.output(), J(R"({"fallback": true})"));
}

TEST(InterpreterTest, WorkflowTimeoutFaultsTheWorkflow) {
  EngineHarness h(Doc(R"(timeout:
  after: {minutes: 1}
do:
  - pause:
      wait: {hours: 1}
)"));
  h.Run();
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_EQ(h.error().Get("status"), Json::Number(408));
  EXPECT_EQ(h.now(), 1000000 + 60000);
}

TEST(InterpreterTest, WaitUsesATimerAndPassesInputThrough) {
  EngineHarness h(Doc(R"(do:
  - pause:
      wait: PT1M30S
)"));
  h.Run(J(R"({"k": 1})"));
  EXPECT_EQ(h.output(), J(R"({"k": 1})"));
  EXPECT_EQ(h.timer_delays(), (std::vector<Millis>{90000}));
}

TEST(InterpreterTest, HttpRequestIsResolvedBeforeExecution) {
  EngineHarness h(Doc(R"(do:
  - get:
      call: http
      with:
        method: post
        endpoint: https://api.example.com/pets/{petId}?x=1
        headers:
          X-Trace: ${ .trace }
        query:
          limit: '10'
        body:
          name: ${ .name }
)"));
  h.Run(J(R"({"petId": "a b", "trace": "t-1", "name": "Rex"})"));
  ASSERT_EQ(h.activities().size(), 1u);
  const Json& r = h.activities()[0].request;
  EXPECT_EQ(r.Get("method"), Json::String("POST"));
  EXPECT_EQ(r.Get("endpoint"), Json::String("https://api.example.com/pets/a%20b?x=1"));
  EXPECT_EQ(r.Get("headers"), J(R"({"X-Trace": "t-1"})"));
  EXPECT_EQ(r.Get("query"), J(R"({"limit": "10"})"));
  EXPECT_EQ(r.Get("body"), J(R"({"name": "Rex"})"));
  EXPECT_EQ(r.Get("output"), Json::String("content"));
}

TEST(InterpreterTest, UriTemplateWithObjectValueIsAnExpressionError) {
  EngineHarness h(Doc(R"(do:
  - get:
      call: http
      with: {method: get, endpoint: "http://svc/{obj}"}
)"));
  h.Run(J(R"({"obj": {"a": 1}})"));
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_EQ(h.error().Get("status"), Json::Number(400));
}

TEST(InterpreterTest, UnsupportedCallKindFaultsWithRuntimeError) {
  EngineHarness h(Doc(R"(do:
  - g:
      call: grpc
      with:
        proto: {endpoint: file://app/greet.proto}
        service: {name: GreeterApi.Greeter, host: localhost, port: 5011}
        method: SayHello
)"));
  h.Run();
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_TRUE(SameErrorType(h.error().Get("type").AsString(),
                            "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"));
  EXPECT_NE(std::string(h.error().Get("detail").AsString()).find("not supported"),
            std::string::npos);
}

TEST(InterpreterTest, CustomFunctionRunsWithItsArguments) {
  EngineHarness h(Doc(R"(use:
  functions:
    greet:
      set:
        greeting: ${ "Hello " + .name }
do:
  - hi:
      call: greet
      with:
        name: ${ .who }
)"));
  h.Run(J(R"({"who": "Ada"})"));
  EXPECT_EQ(h.output(), J(R"({"greeting": "Hello Ada"})"));
}

TEST(InterpreterTest, EmitPublishesACloudEvent) {
  EngineHarness h(Doc(R"(do:
  - e:
      emit:
        event:
          with:
            source: https://example.com
            type: com.example.greeted
            data:
              greeting: ${ "Hi " + .name }
)"));
  h.Run(J(R"({"name": "Bo"})"));
  ASSERT_EQ(h.published().size(), 1u);
  const Json& ev = h.published()[0];
  EXPECT_EQ(ev.Get("specversion"), Json::String("1.0"));
  EXPECT_EQ(ev.Get("data"), J(R"({"greeting": "Hi Bo"})"));
  EXPECT_EQ(ev.Get("id").AsString().size(), 36u);
  EXPECT_EQ(h.output(), ev);
}

TEST(InterpreterTest, ListenAllWaitsForEveryFilter) {
  EngineHarness h(Doc(R"(do:
  - both:
      listen:
        to:
          all:
            - with: {type: com.example.a}
            - with: {type: com.example.b, data: "${ .n > 1 }"}
)"));
  h.Run();
  EXPECT_EQ(h.status(), "waiting");
  h.SendEvent(J(R"({"type": "com.example.b", "data": {"n": 0}})"));  // filtered out
  h.SendEvent(J(R"({"type": "com.example.a", "data": {"n": 1}})"));
  EXPECT_EQ(h.status(), "waiting");
  h.SendEvent(J(R"({"type": "com.example.b", "data": {"n": 5}})"));
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.output(), J(R"([{"n": 1}, {"n": 5}])"));
}

TEST(InterpreterTest, ListenAnyUntil) {
  EngineHarness h(Doc(R"(do:
  - collect:
      listen:
        to:
          any:
            - with: {type: com.example.reading}
          until: .data.last == true
)"));
  h.Run();
  h.SendEvent(J(R"({"type": "com.example.reading", "data": {"v": 1}})"));
  h.SendEvent(J(R"({"type": "com.example.reading", "data": {"v": 2}})"));
  h.SendEvent(J(R"({"type": "com.example.reading", "data": {"last": true}})"));
  EXPECT_EQ(h.output(), J(R"([{"v": 1}, {"v": 2}])"));
}

TEST(InterpreterTest, SubWorkflowIsStartedAsAChild) {
  EngineHarness h(Doc(R"(do:
  - child:
      run:
        workflow:
          namespace: test
          name: other
          version: '1.0.0'
          input:
            v: ${ .v }
)"));
  h.set_responder([](const Activity& a) {
    Json out = Json::Object();
    out.Set("got", a.request.Get("v"));
    return Reply::Ok(out);
  });
  h.Run(J(R"({"v": 7})"));
  EXPECT_EQ(h.output(), J(R"({"got": 7})"));
}

TEST(InterpreterTest, CancellationCancelsRunningWork) {
  EngineHarness h(Doc(R"(do:
  - slow:
      call: http
      with: {method: get, endpoint: http://svc/slow}
)"));
  h.set_responder([](const Activity&) { return Reply::Never(); });
  h.Run();
  EXPECT_EQ(h.status(), "running");
  h.Cancel();
  EXPECT_EQ(h.status(), "cancelled");
  EXPECT_EQ(h.cancelled_activities().size(), 1u);
}

TEST(InterpreterTest, InputSchemaViolationFaultsWithValidationError) {
  EngineHarness h(Doc(R"(input:
  schema:
    format: json
    document:
      type: object
      required: [name]
do:
  - a:
      set: {ok: true}
)"));
  h.Run(J(R"({"nom": 1})"));
  EXPECT_EQ(h.status(), "faulted");
  EXPECT_TRUE(SameErrorType(h.error().Get("type").AsString(),
                            "https://serverlessworkflow.io/spec/1.0.0/errors/validation"));
}

TEST(InterpreterTest, LongLocalLoopsYieldBetweenSlices) {
  Interpreter::Options options;
  options.step_budget = 1000;
  EngineHarness h(Doc(R"(do:
  - loop:
      for:
        in: ${ [range(0; 5000)] }
      do:
        - count:
            set: {n: "${ (.n // 0) + 1 }"}
)"),
                  options);
  h.Run();
  EXPECT_EQ(h.output(), J(R"({"n": 5000})"));
  EXPECT_GE(h.advances(), 5u);  // sliced, not one monolithic advance
}

TEST(InterpreterTest, SameEventsGiveTheSameTransitions) {
  std::string doc = TryDoc("exponential: {}");
  auto run = [&] {
    EngineHarness h(doc);
    h.set_responder([](const Activity&) { return Reply::Fail(Unavailable()); });
    h.Run();
    return h.output().Dump() + std::to_string(h.lifecycle().size());
  };
  EXPECT_EQ(run(), run());
}

TEST(BackoffTest, DelaysPerKind) {
  RetryPolicy p;
  p.delay_ms = 100;
  p.backoff = RetryPolicy::Backoff::kExponential;
  EXPECT_EQ(BackoffDelay(p, 1), 100);
  EXPECT_EQ(BackoffDelay(p, 4), 800);
  p.max_delay_ms = 500;
  EXPECT_EQ(BackoffDelay(p, 4), 500);
  EXPECT_EQ(BackoffDelay(p, 200), 500);  // no overflow
  p.backoff = RetryPolicy::Backoff::kLinear;
  EXPECT_EQ(BackoffDelay(p, 3), 300);
}

}  // namespace
}  // namespace baton::engine

namespace baton::engine {
namespace {

TEST(InterpreterTest, ParallelForFansOutTenThousandItems) {
  EngineHarness h(Doc(R"(do:
  - fan:
      for:
        each: n
        in: ${ [range(0; 10000)] }
        concurrency: 100
      do:
        - work:
            call: http
            with:
              method: get
              endpoint: http://svc/{n}
            input:
              from: '${ {n: $n} }'
            output:
              as: ${ . + $n }
)"));
  h.set_responder([](const Activity&) { return Reply::Ok(Json::Number(1), 10); });
  h.Run();
  ASSERT_EQ(h.status(), "completed");
  ASSERT_EQ(h.output().size(), 10000u);
  EXPECT_EQ(h.output().At(0), Json::Number(1));
  EXPECT_EQ(h.output().At(9999), Json::Number(10000));
  EXPECT_EQ(h.activities().size(), 10000u);
  // 100 at a time, 10 ms each: 100 waves.
  EXPECT_EQ(h.now(), 1000000 + 100 * 10);
}

TEST(LifecycleTest, EntriesBecomeSpecCloudEvents) {
  EngineHarness h(Doc(R"(do:
  - a:
      set: {v: 1}
)"));
  h.Run();
  ASSERT_GE(h.lifecycle().size(), 4u);
  const LifecycleEntry& started = h.lifecycle()[1];
  ASSERT_EQ(started.kind, LifecycleKind::kTaskStarted);
  Json ce = ToCloudEvent(started, "t-test-instance.test", "id-1");
  EXPECT_EQ(ce.Get("type"), Json::String("io.serverlessworkflow.task.started.v1"));
  EXPECT_EQ(ce.Get("specversion"), Json::String("1.0"));
  EXPECT_EQ(ce.Get("data").Get("task"), Json::String("/do/0/a"));
  EXPECT_EQ(ce.Get("data").Get("workflow"), Json::String("t-test-instance.test"));
  EXPECT_TRUE(ce.Get("data").Get("startedAt").IsString());
  const LifecycleEntry& done = h.lifecycle().back();
  ASSERT_EQ(done.kind, LifecycleKind::kWorkflowCompleted);
  Json wf = ToCloudEvent(done, "t-test-instance.test", "id-2");
  EXPECT_EQ(wf.Get("type"), Json::String("io.serverlessworkflow.workflow.completed.v1"));
  EXPECT_EQ(wf.Get("data").Get("output"), J(R"({"v": 1})"));
}

}  // namespace
}  // namespace baton::engine
