// The codec of the durable server: an instance that is encoded and decoded at every
// transition behaves exactly like one that never left memory, and bad bytes are errors.
#include "engine/codec.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "model/document.h"
#include "testing/engine_harness.h"
#include "testing/engine_test_util.h"

namespace baton::engine {
namespace {

using testing::Activity;
using testing::Doc;
using testing::EngineHarness;
using testing::J;
using testing::Reply;

std::shared_ptr<const CompiledWorkflow> CompileYaml(const std::string& yaml) {
  auto doc = model::ParseDocument(yaml, "test.yaml");
  EXPECT_TRUE(doc.ok()) << doc.status().message();
  if (!doc.ok()) return nullptr;
  auto wf = Compile(*doc, nullptr);
  EXPECT_TRUE(wf.ok()) << wf.status().message();
  return wf.ok() ? *wf : nullptr;
}

Json Unavailable() { return MakeError(ErrorKind::kCommunication, 503, "HTTP 503", "unavailable"); }

// ---- field-by-field comparison ------------------------------------------------------------

// Json equality that also tells -0 from 0 and accepts NaN == NaN (jv_equal does neither).
bool SameJson(const Json& a, const Json& b) {
  if (a.IsNumber() && b.IsNumber()) {
    double x = a.AsNumber();
    double y = b.AsNumber();
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
    return x == y && std::signbit(x) == std::signbit(y);
  }
  return a == b && a.Dump() == b.Dump();  // Dump: same member order too
}

#define EXPECT_SAME_JSON(a, b) EXPECT_TRUE(SameJson(a, b)) << (a).Dump() << " vs " << (b).Dump()

void ExpectSameNode(const Node& a, const Node& b, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.list, b.list);
  EXPECT_EQ(a.index, b.index);
  EXPECT_SAME_JSON(a.data, b.data);
  EXPECT_EQ(a.task, b.task);
  EXPECT_SAME_JSON(a.raw_input, b.raw_input);
  EXPECT_SAME_JSON(a.input, b.input);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.attempt, b.attempt);
  EXPECT_EQ(a.activity_id, b.activity_id);
  EXPECT_EQ(a.timer_id, b.timer_id);
  EXPECT_EQ(a.timeout_timer_id, b.timeout_timer_id);
  EXPECT_SAME_JSON(a.items, b.items);
  EXPECT_EQ(a.next, b.next);
  EXPECT_SAME_JSON(a.outputs, b.outputs);
  EXPECT_EQ(a.pending, b.pending);
  EXPECT_EQ(a.slot, b.slot);
  EXPECT_SAME_JSON(a.error, b.error);
  EXPECT_SAME_JSON(a.events, b.events);
  EXPECT_EQ(a.matched, b.matched);
  ASSERT_EQ(a.vars.size(), b.vars.size());
  for (size_t i = 0; i < a.vars.size(); ++i) {
    EXPECT_EQ(a.vars[i].first, b.vars[i].first);
    EXPECT_SAME_JSON(a.vars[i].second, b.vars[i].second);
  }
  EXPECT_EQ(a.inbox, b.inbox);
  EXPECT_SAME_JSON(a.result, b.result);
  ASSERT_EQ(a.queued_events.size(), b.queued_events.size());
  for (size_t i = 0; i < a.queued_events.size(); ++i) {
    EXPECT_SAME_JSON(a.queued_events[i], b.queued_events[i]);
  }
  EXPECT_EQ(a.retry_at, b.retry_at);
  ASSERT_EQ(a.children.size(), b.children.size());
  for (size_t i = 0; i < a.children.size(); ++i) {
    ExpectSameNode(*a.children[i], *b.children[i], where + "/" + std::to_string(i));
  }
}

void ExpectSameState(const InstanceState& a, const InstanceState& b) {
  EXPECT_EQ(a.instance_id, b.instance_id);
  EXPECT_EQ(a.status, b.status);
  EXPECT_SAME_JSON(a.raw_input, b.raw_input);
  EXPECT_SAME_JSON(a.context, b.context);
  EXPECT_SAME_JSON(a.output, b.output);
  EXPECT_SAME_JSON(a.error, b.error);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.ended_at, b.ended_at);
  EXPECT_EQ(a.rng, b.rng);
  EXPECT_EQ(a.next_id, b.next_id);
  EXPECT_EQ(a.workflow_timeout_timer, b.workflow_timeout_timer);
  EXPECT_EQ(a.yield_timer, b.yield_timer);
  EXPECT_SAME_JSON(a.saga, b.saga);
  ASSERT_EQ(a.root != nullptr, b.root != nullptr);
  if (a.root) ExpectSameNode(*a.root, *b.root, "root");
}

// ---- whole runs, with and without the codec between transitions -------------------------

struct Scenario {
  std::string name;
  std::string yaml;
  testing::Responder responder;               // null: every call answers {}
  std::function<void(EngineHarness&)> drive;  // null: h.Run()
  Interpreter::Options options;
};

// What a run did, as the outside world sees it.
struct Observed {
  std::string status;
  Json output, error, context;
  std::string lifecycle;  // EncodeLifecycle of every entry
  std::vector<std::string> activities;
  std::vector<Json> published;
  std::vector<uint64_t> cancelled;
  std::vector<Millis> timer_delays;
  Millis now = 0;
  size_t advances = 0;
};

struct CodecRun {
  size_t transitions = 0;
  size_t largest = 0;
  std::vector<std::string> snapshots;  // every encoded state, in order
};

Observed RunScenario(const Scenario& s, CodecRun* codec) {
  EngineHarness h(Doc(s.yaml), s.options);
  if (s.responder) h.set_responder(s.responder);
  std::shared_ptr<const CompiledWorkflow> recompiled;
  if (codec) {
    // The server decodes against the definition compiled again after a restart.
    recompiled = CompileYaml(Doc(s.yaml));
    h.set_event_hook([](Event& e) {
      std::string bytes = EncodeEvent(e);
      auto decoded = DecodeEvent(bytes);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(EncodeEvent(*decoded), bytes);
      e = std::move(decoded).value();
    });
    h.set_transition_hook([codec, recompiled](const CompiledWorkflow& wf, Transition& t) {
      std::string bytes = EncodeState(wf, t.state);
      auto decoded = DecodeState(wf, bytes);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      ExpectSameState(t.state, *decoded);
      EXPECT_EQ(EncodeState(wf, *decoded), bytes) << "re-encoding changed the bytes";
      if (recompiled) {
        auto elsewhere = DecodeState(*recompiled, bytes);
        ASSERT_TRUE(elsewhere.ok()) << elsewhere.status().ToString();
        EXPECT_EQ(EncodeState(*recompiled, *elsewhere), bytes);
      }
      t.state = std::move(decoded).value();
      for (Command& c : t.commands) {
        std::string cb = EncodeCommand(c);
        auto dc = DecodeCommand(cb);
        ASSERT_TRUE(dc.ok()) << dc.status().ToString();
        EXPECT_EQ(EncodeCommand(*dc), cb);
        c = std::move(dc).value();
      }
      auto lc = DecodeLifecycle(EncodeLifecycle(t.lifecycle));
      ASSERT_TRUE(lc.ok()) << lc.status().ToString();
      t.lifecycle = std::move(lc).value();
      ++codec->transitions;
      codec->largest = std::max(codec->largest, bytes.size());
      codec->snapshots.push_back(std::move(bytes));
    });
  }
  if (s.drive) {
    s.drive(h);
  } else {
    h.Run();
  }
  Observed o;
  o.status = h.status();
  o.output = h.output();
  o.error = h.error();
  o.context = h.state().context;
  o.lifecycle = EncodeLifecycle(h.lifecycle());
  for (const Activity& a : h.activities()) {
    o.activities.push_back(a.task_ref + " " + a.kind + " " + a.request.Dump() + " " +
                           std::to_string(a.attempt) + " " + a.idempotency_key + " " +
                           std::to_string(a.at));
  }
  o.published = h.published();
  o.cancelled = h.cancelled_activities();
  o.timer_delays = h.timer_delays();
  o.now = h.now();
  o.advances = h.advances();
  return o;
}

// Bookings whose third step fails: retried by the default policy, then the saga undoes the
// first two (one of them in a for, one in a fork branch); the first undo fails once and an
// operator retries it.
const char* kSagaYaml = R"(do:
  - book:
      for: {in: '${ [1, 2] }', each: n}
      do:
        - one:
            call: http
            with: {method: post, endpoint: 'http://svc/book'}
            compensate:
              call: http
              with: {method: delete, endpoint: '${ "http://svc/undo/" + ($output.id | tostring) }'}
  - both:
      fork:
        branches:
          - left:
              call: http
              with: {method: post, endpoint: 'http://svc/left'}
              compensate:
                - undoLeft:
                    call: http
                    with: {method: delete, endpoint: 'http://svc/undo-left'}
          - right:
              set: {r: 1}
  - fail:
      call: http
      with: {method: post, endpoint: 'http://svc/fail'}
)";

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> all;
  auto undo_calls = std::make_shared<int>(0);
  all.push_back({"SagaRetriedCompensatedAndRepaired", kSagaYaml,
                 [undo_calls](const testing::Activity& a) {
                   std::string uri(a.request.Get("endpoint").AsString());
                   if (uri == "http://svc/fail") {
                     return testing::Reply::Fail(
                         MakeError(ErrorKind::kCommunication, 503, "Unavailable", "down"));
                   }
                   // The first undo fails through all its automatic attempts (4), then works.
                   if (uri == "http://svc/undo-left" && ++*undo_calls <= 4) {
                     return testing::Reply::Fail(
                         MakeError(ErrorKind::kCommunication, 502, "Bad Gateway", "refused"));
                   }
                   return testing::Reply::Ok(J(R"({"id": 7})"));
                 },
                 [undo_calls](EngineHarness& h) {
                   *undo_calls = 0;
                   h.Run();
                   OperatorAction a;
                   a.kind = OperatorAction::Kind::kRetry;
                   a.by = "ops";
                   a.reason = "fixed";
                   h.Repair(a);
                 },
                 testing::Defaults()});
  all.push_back({"ParkedThenSkipped", R"(do:
  - a:
      set: {x: 1}
  - b:
      call: http
      with: {method: get, endpoint: 'http://svc/b'}
  - c:
      set: '${ . + {c: true} }'
)",
                 [](const testing::Activity&) {
                   return testing::Reply::Fail(
                       MakeError(ErrorKind::kCommunication, 404, "Not Found", "nope"));
                 },
                 [](EngineHarness& h) {
                   h.Run();
                   OperatorAction a;
                   a.kind = OperatorAction::Kind::kSkip;
                   a.by = "ops";
                   a.reason = "not needed";
                   a.output = J(R"({"b": "given"})");
                   h.Repair(a);
                 },
                 testing::Defaults()});
  all.push_back({"SetAndSwitchLoop",
                 R"(do:
  - init:
      set: {n: 0, log: []}
  - step:
      set:
        n: ${ .n + 1 }
        log: ${ .log + [.n] }
  - check:
      switch:
        - again:
            when: ${ .n < 5 }
            then: step
        - done:
            then: finish
  - skipped:
      set: {never: true}
  - finish:
      set:
        total: ${ .n }
        log: ${ .log }
      export:
        as: '${ {total: .total} }'
)",
                 nullptr,
                 nullptr,
                 {}});
  all.push_back({"SequentialForWithWaits",
                 R"(do:
  - loop:
      for:
        each: item
        at: i
        in: ${ .items }
      while: (.sum // 0) < 100
      do:
        - add:
            set:
              sum: ${ (.sum // 0) + $item.v }
              last: ${ $i }
        - pause:
            wait: {milliseconds: 10}
)",
                 nullptr,
                 [](EngineHarness& h) {
                   h.Run(J(R"({"items": [{"v": 10}, {"v": 50}, {"v": 45}, {"v": 7}, {"v": 1}]})"));
                 },
                 {}});
  all.push_back({"ParallelForWithConcurrency",
                 R"(do:
  - fan:
      for:
        each: n
        in: '${ [range(0; 12)] | map({n: ., label: "item-\(.)-with-a-long-enough-label"}) }'
        concurrency: 3
      do:
        - call:
            call: http
            with:
              method: get
              endpoint: http://svc/{n}
            input:
              from: '${ {n: $n.n} }'
        - shape:
            set:
              n: ${ $n.n }
              got: ${ . }
)",
                 [](const Activity& a) {
                   std::string uri(a.request.Get("endpoint").AsString());
                   int n = std::stoi(uri.substr(uri.rfind('/') + 1));
                   return Reply::Ok(Json::Number(n * 10), 100 - 7 * n);
                 },
                 nullptr,
                 {}});
  all.push_back({"ForkJoin",
                 R"(do:
  - f:
      fork:
        branches:
          - slow:
              call: http
              with: {method: get, endpoint: http://svc/slow}
          - nested:
              do:
                - first:
                    call: http
                    with: {method: get, endpoint: http://svc/first}
                - second:
                    set: {second: true}
          - local:
              set: {local: true}
  - after:
      set:
        joined: ${ . }
)",
                 [](const Activity& a) {
                   return a.task_name == "slow" ? Reply::Ok(Json::String("s"), 50)
                                                : Reply::Ok(Json::String("f"), 5);
                 },
                 [](EngineHarness& h) { h.Run(J(R"({"shared": "a value every branch sees"})")); },
                 {}});
  all.push_back({"ForkCompete",
                 R"(do:
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
          - waits:
              wait: {seconds: 1}
)",
                 [](const Activity& a) {
                   return a.task_name == "slow" ? Reply::Ok(Json::String("slow"), 500)
                                                : Reply::Ok(Json::String("fast"), 5);
                 },
                 nullptr,
                 {}});
  all.push_back({"TryRetryWithJitterThenCatchDo",
                 R"(do:
  - attempt:
      try:
        - op:
            call: http
            with: {method: post, endpoint: http://svc/op, body: '${ . }'}
      catch:
        errors:
          with:
            type: https://serverlessworkflow.io/dsl/errors/types/communication
        as: err
        retry:
          delay: {seconds: 1}
          backoff:
            exponential: {}
          jitter: {from: {milliseconds: 10}, to: {milliseconds: 500}}
          limit:
            attempt:
              count: 3
        do:
          - handled:
              set:
                handledStatus: ${ $err.status }
          - pause:
              wait: {milliseconds: 5}
)",
                 [](const Activity&) { return Reply::Fail(Unavailable(), 3); },
                 nullptr,
                 {}});
  {
    auto calls = std::make_shared<int>(0);
    all.push_back({"RetrySucceedsOnThirdAttempt",
                   R"(do:
  - attempt:
      try:
        - op:
            call: http
            with: {method: get, endpoint: http://svc/op}
      catch:
        retry:
          delay: {milliseconds: 100}
          backoff: {linear: {}}
          limit: {attempt: {count: 5}}
)",
                   [calls](const Activity&) {
                     return ++*calls % 3 != 0 ? Reply::Fail(Unavailable(), 1)
                                              : Reply::Ok(J(R"({"ok": true})"), 1);
                   },
                   nullptr,
                   {}});
  }
  all.push_back({"TaskTimeoutCaught",
                 R"(do:
  - guarded:
      try:
        - slow:
            call: http
            with: {method: get, endpoint: http://svc/slow}
            timeout:
              after: {seconds: 2}
      catch:
        errors:
          with: {type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout}
        do:
          - fallback:
              set: {fallback: true}
)",
                 [](const Activity&) { return Reply::Never(); },
                 nullptr,
                 {}});
  all.push_back({"WaitThenSet",
                 R"(do:
  - pause:
      wait: PT1M30S
  - done:
      set: {done: true, input: '${ $input }'}
)",
                 nullptr,
                 [](EngineHarness& h) { h.Run(J(R"({"k": 1})")); },
                 {}});
  all.push_back({"WorkflowTimeout",
                 R"(timeout:
  after: {minutes: 1}
do:
  - pause:
      wait: {hours: 1}
)",
                 nullptr,
                 nullptr,
                 {}});
  all.push_back({"ListenAll",
                 R"(do:
  - both:
      listen:
        to:
          all:
            - with: {type: com.example.a}
            - with: {type: com.example.b, data: "${ .n > 1 }"}
  - after:
      set:
        got: ${ . }
)",
                 nullptr,
                 [](EngineHarness& h) {
                   h.Run();
                   h.SendEvent(J(R"({"type": "com.example.b", "data": {"n": 0}})"));
                   h.SendEvent(J(R"({"type": "com.example.a", "data": {"n": 1}})"));
                   h.SendEvent(J(R"({"type": "com.example.b", "data": {"n": 5}})"));
                 },
                 {}});
  all.push_back({"ListenAnyUntil",
                 R"(do:
  - collect:
      listen:
        to:
          any:
            - with: {type: com.example.reading}
          until: .data.last == true
        read: envelope
)",
                 nullptr,
                 [](EngineHarness& h) {
                   h.Run();
                   h.SendEvent(J(R"({"type": "com.example.reading", "data": {"v": 1}})"));
                   h.SendEvent(J(R"({"type": "com.example.other", "data": {"v": 9}})"));
                   h.SendEvent(J(R"({"type": "com.example.reading", "data": {"v": 2}})"));
                   h.SendEvent(J(R"({"type": "com.example.reading", "data": {"last": true}})"));
                 },
                 {}});
  all.push_back({"RunChildWorkflow",
                 R"(do:
  - child:
      run:
        workflow:
          namespace: test
          name: other
          version: '1.0.0'
          input:
            v: ${ .v }
  - fireAndForget:
      run:
        workflow:
          namespace: test
          name: other
          version: '1.0.0'
        await: false
)",
                 [](const Activity& a) {
                   Json out = Json::Object();
                   out.Set("got", a.request.Get("v"));
                   return Reply::Ok(out, 20);
                 },
                 [](EngineHarness& h) { h.Run(J(R"({"v": 7})")); },
                 {}});
  all.push_back({"CallHttpAndEmit",
                 R"(do:
  - get:
      call: http
      with:
        method: post
        endpoint: http://svc/pets/{id}
        headers: {x-trace: '${ .trace }'}
        query: {limit: '5'}
        body: '${ {name: .name} }'
  - announce:
      emit:
        event:
          with:
            source: https://example.com
            type: com.example.fetched
            data: '${ . }'
)",
                 [](const Activity& a) {
                   Json out = Json::Object();
                   out.Set("echo", a.request);
                   return Reply::Ok(out, 15);
                 },
                 [](EngineHarness& h) { h.Run(J(R"({"id": 3, "trace": "t-1", "name": "Rex"})")); },
                 {}});
  all.push_back({"CustomFunctionWithACall",
                 R"(use:
  functions:
    fetch:
      do:
        - get:
            call: http
            with: {method: get, endpoint: http://svc/fn}
        - wrap:
            set:
              fetched: ${ . }
do:
  - viaFunction:
      call: fetch
      with:
        who: ${ .who }
  - again:
      call: fetch
)",
                 [](const Activity&) { return Reply::Ok(J(R"({"from": "fn"})"), 10); },
                 [](EngineHarness& h) { h.Run(J(R"({"who": "Ada"})")); },
                 {}});
  {
    Interpreter::Options sliced;
    sliced.step_budget = 50;
    all.push_back({"LongLoopYields", R"(do:
  - loop:
      for:
        in: ${ [range(0; 400)] }
      do:
        - count:
            set: {n: "${ (.n // 0) + 1 }"}
)",
                   nullptr, nullptr, sliced});
  }
  all.push_back({"CancelledMidFlight",
                 R"(do:
  - f:
      fork:
        branches:
          - a:
              call: http
              with: {method: get, endpoint: http://svc/a}
          - b:
              wait: {minutes: 5}
)",
                 [](const Activity&) { return Reply::Never(); },
                 [](EngineHarness& h) {
                   h.Run();
                   h.Cancel();
                 },
                 {}});
  all.push_back({"UncaughtFaultFromAFailedBranch",
                 R"(do:
  - f:
      fork:
        branches:
          - waits:
              call: http
              with: {method: get, endpoint: http://svc/slow}
          - boom:
              raise:
                error: {type: https://example.com/boom, status: 418}
)",
                 [](const Activity&) { return Reply::Never(); },
                 nullptr,
                 {}});
  return all;
}

TEST(CodecTest, EveryTransitionThroughTheCodecChangesNothing) {
  for (const Scenario& s : Scenarios()) {
    SCOPED_TRACE(s.name);
    Observed plain = RunScenario(s, nullptr);
    CodecRun codec;
    Observed coded = RunScenario(s, &codec);
    EXPECT_GT(codec.transitions, 0u);
    EXPECT_EQ(coded.status, plain.status);
    EXPECT_NE(plain.status, "running") << "the scenario should end or wait";
    EXPECT_SAME_JSON(coded.output, plain.output);
    EXPECT_SAME_JSON(coded.error, plain.error);
    EXPECT_SAME_JSON(coded.context, plain.context);
    EXPECT_EQ(coded.lifecycle, plain.lifecycle);
    EXPECT_EQ(coded.activities, plain.activities);
    ASSERT_EQ(coded.published.size(), plain.published.size());
    for (size_t i = 0; i < plain.published.size(); ++i) {
      EXPECT_SAME_JSON(coded.published[i], plain.published[i]);
    }
    EXPECT_EQ(coded.cancelled, plain.cancelled);
    EXPECT_EQ(coded.timer_delays, plain.timer_delays);
    EXPECT_EQ(coded.now, plain.now);
    EXPECT_EQ(coded.advances, plain.advances);
  }
}

// The scenarios above produce what they claim to (so the comparison is not vacuous).
TEST(CodecTest, ScenariosReachTheirInterestingStates) {
  auto find = [](const std::string& name) {
    for (auto& s : Scenarios()) {
      if (s.name == name) return s;
    }
    ADD_FAILURE() << name;
    return Scenario{};
  };
  Observed o = RunScenario(find("TryRetryWithJitterThenCatchDo"), nullptr);
  EXPECT_EQ(o.status, "completed");
  EXPECT_EQ(o.timer_delays.size(), 4u);  // 3 retry timers + the catch's wait
  EXPECT_EQ(RunScenario(find("ListenAll"), nullptr).output, J(R"({"got": [{"n": 1}, {"n": 5}]})"));
  EXPECT_EQ(RunScenario(find("CancelledMidFlight"), nullptr).status, "cancelled");
  EXPECT_EQ(RunScenario(find("WorkflowTimeout"), nullptr).status, "faulted");
  EXPECT_EQ(RunScenario(find("CustomFunctionWithACall"), nullptr).output,
            J(R"({"fetched": {"from": "fn"}})"));
  Observed fan = RunScenario(find("ParallelForWithConcurrency"), nullptr);
  ASSERT_EQ(fan.status, "completed");
  EXPECT_EQ(fan.output.size(), 12u);
  EXPECT_EQ(fan.output.At(11), J(R"({"n": 11, "got": 110})"));
}

// ---- a state with every field set ---------------------------------------------------------

const char* kEveryFieldDoc = R"(do:
  - f:
      fork:
        branches:
          - a:
              call: http
              with: {method: get, endpoint: http://svc/a}
          - b:
              listen:
                to:
                  all:
                    - with: {type: x}
                    - with: {type: y}
)";

Json Big(int seed) {
  Json j = Json::Object();
  j.Set("seed", Json::Number(seed));
  j.Set("text", Json::String("a string long enough to be shared: " + std::to_string(seed)));
  Json arr = Json::Array();
  for (int i = 0; i < 5; ++i) arr.Append(Json::Number(i * 1.5));
  j.Set("arr", arr);
  return j;
}

// Sets every field of `n` to something that is not its default.
void FillNode(Node* n, int seed) {
  n->phase = Node::Phase::kRunning;
  n->index = static_cast<size_t>(seed) + 1;
  n->data = Big(seed);
  n->raw_input = Big(seed + 1);
  n->input = Big(seed + 2);
  n->started_at = 1000000 + seed;
  n->attempt = static_cast<uint32_t>(seed) + 2;
  n->activity_id = 1ULL << 40;
  n->timer_id = 77;
  n->timeout_timer_id = std::numeric_limits<uint64_t>::max();
  n->items = J(R"([1, "two", {"three": 3}])");
  n->next = 2;
  n->pending = 1;
  n->slot = 0;
  n->error = MakeError(ErrorKind::kRuntime, "boom");
  n->events = J(R"([{"e": 1}])");
  n->matched = {1, 0};
  n->vars = {{"item", Big(seed + 3)}, {"index", Json::Number(-4)}};
  n->inbox = Node::Inbox::kTimeout;
  n->result = J(R"({"r": [true, false, null]})");
  n->queued_events = {J(R"({"type": "x"})"), J(R"({"type": "y", "data": -0.5})")};
}

TEST(CodecTest, EveryFieldOfEveryNodeRoundTrips) {
  auto wf = CompileYaml(Doc(kEveryFieldDoc));
  ASSERT_TRUE(wf);
  const TaskDef& fork = wf->main.tasks[0];
  InstanceState s;
  s.instance_id = "inst-\xc3\xa9-1";
  s.status = WorkflowStatus::kWaiting;
  s.raw_input = Big(100);
  s.context = J(R"({"ctx": 1})");
  s.output = J("[1,2]");
  s.error = MakeError(ErrorKind::kTimeout, "late");
  s.started_at = 1700000000000;
  s.ended_at = -5;
  s.rng = 0xdeadbeefcafebabeULL;
  s.next_id = 99;
  s.workflow_timeout_timer = 3;
  s.yield_timer = 4;
  s.root = std::make_unique<Node>();
  Node& root = *s.root;
  root.type = Node::Type::kList;
  root.list = &wf->main;
  FillNode(&root, 1);
  auto task = std::make_unique<Node>();
  task->task = &fork;
  FillNode(task.get(), 2);
  task->outputs = J("[null, null]");
  for (size_t i = 0; i < 2; ++i) {
    auto branch = std::make_unique<Node>();
    branch->task = &fork.children.tasks[i];
    FillNode(branch.get(), 3 + static_cast<int>(i));
    branch->slot = static_cast<int64_t>(i);
    branch->phase = i == 0 ? Node::Phase::kActivity : Node::Phase::kListening;
    task->children.push_back(std::move(branch));
  }
  root.children.push_back(std::move(task));

  std::string bytes = EncodeState(*wf, s);
  auto decoded = DecodeState(*wf, bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameState(s, *decoded);
  EXPECT_EQ(EncodeState(*wf, *decoded), bytes);

  // Defaults stay defaults (nothing is invented for absent fields).
  InstanceState empty;
  auto e = DecodeState(*wf, EncodeState(*wf, empty));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ExpectSameState(empty, *e);
}

TEST(CodecTest, JsonValuesKeepTheirExactValue) {
  auto wf = CompileYaml(Doc("do:\n  - a:\n      set: {}\n"));
  ASSERT_TRUE(wf);
  std::vector<Json> values = {
      Json::Number(-0.0),
      Json::Number(std::numeric_limits<double>::quiet_NaN()),
      Json::Number(std::numeric_limits<double>::infinity()),
      Json::Number(-std::numeric_limits<double>::infinity()),
      Json::Number(0.1),
      Json::Number(1e300),
      Json::Number(5e-324),
      Json::Number(9007199254740992.0),
      Json::Number(9007199254740994.0),
      Json::Number(-9007199254740992.0),
      Json::Number(9.3e18),
      Json::Number(-1),
      Json::String(""),
      Json::String(std::string("nul\0inside", 10)),
      Json::String("\xf0\x9f\x8e\xb7 unicode \xe2\x82\xac"),
      J(R"({"z": 1, "a": 2, "m": {"": [], "x": {}}})"),  // insertion order, empty containers
      J("[[[[[[]]]]]]"),
  };
  for (const Json& v : values) {
    InstanceState s;
    s.output = v;
    std::string bytes = EncodeState(*wf, s);
    auto d = DecodeState(*wf, bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_SAME_JSON(d->output, v);
    EXPECT_EQ(EncodeState(*wf, *d), bytes);
  }
}

TEST(CodecTest, DeepValuesDecodeUpToTheLimitAndFailBeyond) {
  auto wf = CompileYaml(Doc("do:\n  - a:\n      set: {}\n"));
  ASSERT_TRUE(wf);
  auto nested = [](int depth) {
    Json v = Json::Number(1);
    for (int i = 0; i < depth; ++i) {
      Json a = Json::Array();
      a.Append(std::move(v));
      v = std::move(a);
    }
    return v;
  };
  InstanceState s;
  s.output = nested(1000);
  auto ok = DecodeState(*wf, EncodeState(*wf, s));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->output, s.output);
  s.output = nested(1001);
  auto deep = DecodeState(*wf, EncodeState(*wf, s));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("nested deeper"), std::string::npos);
}

// A value held by many nodes (a fork's input in every branch) is stored once, and is shared
// again after decoding.
// EncodeMemo: an encode that reuses remembered items writes exactly what an encode from
// scratch (with a new memo) writes, and the state decodes back whole.
std::string EncodeFresh(const CompiledWorkflow& wf, const InstanceState& s) {
  EncodeMemo fresh;
  return EncodeState(wf, s, &fresh);
}

TEST(CodecTest, MemoReusesUnchangedItemsAndNoticesEveryChange) {
  auto wf = CompileYaml(Doc("do:\n  - a:\n      set: {}\n"));
  ASSERT_TRUE(wf);
  // One long string shared by every item and by a value outside the array: references to
  // it must not leak into the remembered bytes.
  Json shared = Json::String("a string long enough to be shared between values");
  InstanceState s;
  s.context = Json::Object();
  s.context.Set("label", shared);
  s.output = Json::Array();
  for (int i = 0; i < 200; ++i) {
    Json item = Json::Object();
    item.Set("i", Json::Number(i));
    item.Set("label", shared);
    s.output.Append(item);
  }
  s.raw_input = Json::Array();
  for (int i = 0; i < 100; ++i) s.raw_input.Append(Json::Number(i));
  s.error = J("[1, 2, 3]");  // below kMemoMinItems: not remembered

  EncodeMemo memo;
  auto check = [&](const char* step, size_t reused) -> size_t {
    SCOPED_TRACE(step);
    std::string bytes = EncodeState(*wf, s, &memo);
    EXPECT_EQ(memo.reused_items(), reused);
    EXPECT_EQ(bytes, EncodeFresh(*wf, s));
    auto decoded = DecodeState(*wf, bytes);
    EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
    if (decoded.ok()) ExpectSameState(s, *decoded);
    return memo.arrays();
  };
  // output: 200 objects; raw_input: 100 numbers. An array found unchanged is then held by the
  // memo (frozen): its next change copies it, and the copy is a new array to the memo.
  EXPECT_EQ(check("first encode", 0), 2u);
  check("nothing changed: both compared item by item, then frozen", 200 + 100);
  s.output.SetAt(150, J(R"({"changed": true})"));
  check("one object replaced (a copy of the frozen output)", 0 + 100);
  s.raw_input.SetAt(10, Json::Number(-1));
  check("one number replaced (a copy of the frozen input)", 200 + 0);
  s.raw_input.SetAt(10, Json::Number(-0.0));  // in place: equal to 0, not the same number
  check("minus zero", 200 + 10);
  s.output.Append(Json::Number(7));
  check("one item appended (a copy of the frozen output)", 0 + 100);
  Json first = s.output.At(0);
  first.Set("i", Json::Number(1000));  // a changed copy: the array's item stays as it was
  check("a copy of an item changed", 201 + 100);
  s.output.SetAt(0, first);
  check("the changed copy put back", 0 + 100);
  s.output.SetAt(1, Json::Number(1));  // in place now: the output is not frozen
  check("in place after a change", 1 + 100);
  s.raw_input = Json();
  EXPECT_EQ(check("an array left the state", 201), 1u);
}

// The server's case: a parallel `for` keeps its items and outputs across transitions, and
// every snapshot taken with the memo is the one an encode from scratch takes.
TEST(CodecTest, MemoOfAParallelForMatchesEncodingFromScratch) {
  // The scenario's parallel `for`, over 300 items instead of 12.
  std::string yaml;
  for (const Scenario& scenario : Scenarios()) {
    if (scenario.name == "ParallelForWithConcurrency") yaml = scenario.yaml;
  }
  const std::string twelve = "range(0; 12)";
  ASSERT_NE(yaml.find(twelve), std::string::npos);
  yaml.replace(yaml.find(twelve), twelve.size(), "range(0; 300)");
  EngineHarness h(Doc(yaml));
  h.set_responder([](const Activity& a) {
    std::string uri(a.request.Get("endpoint").AsString());
    int n = std::stoi(uri.substr(uri.rfind('/') + 1));
    return Reply::Ok(Json::Number(n * 10), (n * 37) % 50);  // completions out of order
  });
  EncodeMemo memo;
  size_t transitions = 0, reused = 0;
  h.set_transition_hook([&](const CompiledWorkflow& wf, Transition& t) {
    std::string bytes = EncodeState(wf, t.state, &memo);
    ASSERT_EQ(bytes, EncodeFresh(wf, t.state)) << "transition " << transitions;
    auto decoded = DecodeState(wf, bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectSameState(t.state, *decoded);
    ++transitions;
    reused += memo.reused_items();
  });
  h.Run();
  EXPECT_EQ(h.status(), "completed");
  EXPECT_EQ(h.output().size(), 300u);
  EXPECT_GT(transitions, 100u);
  // Most items of the 300-item collection and of the outputs came from the memo.
  EXPECT_GT(reused, transitions * 300);
}

TEST(CodecTest, SharedValuesAreStoredOnceAndSharedAgain) {
  auto wf = CompileYaml(Doc(kEveryFieldDoc));
  ASSERT_TRUE(wf);
  Json big = Json::Array();
  for (int i = 0; i < 2000; ++i) big.Append(Json::String("element number " + std::to_string(i)));
  InstanceState s;
  s.raw_input = big;
  s.root = std::make_unique<Node>();
  s.root->type = Node::Type::kList;
  s.root->list = &wf->main;
  s.root->data = big;
  s.root->vars = {{"item", big.At(7)}, {"again", big.At(7)}};
  std::string bytes = EncodeState(*wf, s);
  size_t once = Json(big).Dump().size();
  EXPECT_LT(bytes.size(), once + 200) << "the array was written twice";
  auto d = DecodeState(*wf, bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->root->data, big);
  EXPECT_EQ(jv_get_refcnt(d->raw_input.Peek()), 2);  // raw_input and root.data
  EXPECT_EQ(d->root->vars[0].second, Json::String("element number 7"));
  EXPECT_EQ(EncodeState(*wf, *d), bytes);
  // Each decode builds fresh values (no cache shared between decoded states), and nothing
  // is shared with the input bytes or the original state: dropping them is safe.
  auto d2 = DecodeState(*wf, bytes);
  ASSERT_TRUE(d2.ok());
  EXPECT_NE(d2->raw_input.Peek().u.ptr, d->raw_input.Peek().u.ptr);
  EXPECT_NE(d->raw_input.Peek().u.ptr, s.raw_input.Peek().u.ptr);
  s = InstanceState();
  bytes.clear();
  EXPECT_EQ(d->raw_input.At(1999), Json::String("element number 1999"));
}

// ---- bad bytes ------------------------------------------------------------------------------

// A mid-flight snapshot with a bit of everything: fork branches, a retry, a listen.
struct Sample {
  std::shared_ptr<const CompiledWorkflow> wf;
  std::string bytes;
};

Sample MidFlightSample() {
  Scenario s{"sample",
             R"(do:
  - f:
      fork:
        branches:
          - a:
              try:
                - op:
                    call: http
                    with: {method: get, endpoint: http://svc/a}
              catch:
                retry:
                  delay: {seconds: 10}
                  limit: {attempt: {count: 3}}
          - b:
              listen:
                to:
                  all:
                    - with: {type: x}
                    - with: {type: y}
          - c:
              for:
                in: ${ [range(0; 6)] }
                concurrency: 2
              do:
                - w:
                    wait: {seconds: 30}
)",
             [](const Activity&) { return Reply::Fail(Unavailable()); },
             nullptr,
             {}};
  EngineHarness h(Doc(s.yaml));
  h.set_responder(s.responder);
  Sample sample;
  sample.wf = CompileYaml(Doc(s.yaml));
  h.set_transition_hook([&](const CompiledWorkflow& wf, Transition& t) {
    std::string bytes = EncodeState(wf, t.state);
    if (t.state.root && bytes.size() > sample.bytes.size()) sample.bytes = bytes;
  });
  h.Run();
  return sample;
}

TEST(CodecTest, EveryTruncationIsAnError) {
  Sample s = MidFlightSample();
  ASSERT_TRUE(s.wf);
  ASSERT_GT(s.bytes.size(), 100u);
  ASSERT_TRUE(DecodeState(*s.wf, s.bytes).ok());
  for (size_t n = 0; n < s.bytes.size(); ++n) {
    auto r = DecodeState(*s.wf, std::string_view(s.bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "truncated to " << n;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    // With the checksum recomputed, the decoder itself must notice the missing bytes.
    std::string resealed = s.bytes.substr(0, n);
    internal::ResealForTest(&resealed);
    auto r2 = DecodeState(*s.wf, resealed);
    EXPECT_FALSE(r2.ok()) << "truncated to " << n << " and resealed";
  }
}

// Flips 1 to 3 random bytes of `bytes` (after the header when `payload_only`).
std::string Flip(const std::string& bytes, std::mt19937* rng, bool payload_only) {
  std::string out = bytes;
  size_t from = payload_only ? 7 : 0;
  int flips = 1 + static_cast<int>((*rng)() % 3);
  for (int i = 0; i < flips; ++i) {
    size_t at = from + (*rng)() % (out.size() - from);
    out[at] = static_cast<char>(out[at] ^ static_cast<char>(1 + (*rng)() % 255));
  }
  return out;
}

TEST(CodecTest, FlippedBytesAreErrors) {
  Sample s = MidFlightSample();
  ASSERT_TRUE(s.wf);
  std::mt19937 rng(1234);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = Flip(s.bytes, &rng, false);
    if (bytes == s.bytes) continue;
    auto r = DecodeState(*s.wf, bytes);
    ASSERT_FALSE(r.ok()) << "round " << round;  // the checksum catches every flip
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

// Past the checksum (recomputed after the flips), the decoder refuses the bytes or gives a
// state that the interpreter can run without crashing: the snapshots of every scenario,
// fuzzed, then advanced by a few events.
TEST(CodecTest, DecodedStatesNeverCrashTheInterpreter) {
  std::mt19937 rng(99);
  int refused = 0;
  int accepted = 0;
  for (const Scenario& scenario : Scenarios()) {
    SCOPED_TRACE(scenario.name);
    CodecRun codec;
    RunScenario(scenario, &codec);
    auto wf = CompileYaml(Doc(scenario.yaml));
    ASSERT_TRUE(wf);
    Interpreter interpreter;
    for (const std::string& snapshot : codec.snapshots) {
      for (int round = 0; round < 25; ++round) {
        std::string bytes = Flip(snapshot, &rng, true);
        internal::ResealForTest(&bytes);
        auto decoded = DecodeState(*wf, bytes);
        if (!decoded.ok()) {
          ++refused;
          EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
          continue;
        }
        ++accepted;
        InstanceState state = std::move(decoded).value();
        for (uint64_t k = 1; k <= 8; ++k) {
          EventBody body = k <= 3   ? EventBody(TimerFired{k})
                           : k <= 5 ? EventBody(TaskSucceeded{k - 3, J("{}")})
                           : k == 6 ? EventBody(TaskFailed{1, Unavailable()})
                                    : EventBody(CloudEventReceived{
                                          J(R"({"type": "com.example.a", "data": {"n": 3}})")});
          auto t = interpreter.Advance(*wf, std::move(state), Event{2000000, body});
          if (!t.ok()) break;
          // What the interpreter makes of it is encoded; when it is accepted, go on from it.
          auto again = DecodeState(*wf, EncodeState(*wf, t->state));
          if (!again.ok()) break;
          state = std::move(again).value();
        }
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(accepted, 0);  // flips in numbers and strings decode: the interpreter ran them
}

TEST(CodecTest, HeaderProblemsHaveClearMessages) {
  Sample s = MidFlightSample();
  ASSERT_TRUE(s.wf);
  auto message = [&](std::string bytes) {
    auto r = DecodeState(*s.wf, bytes);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  std::string newer = s.bytes;
  newer[2] = static_cast<char>(kCodecVersion + 1);
  EXPECT_NE(message(newer).find("newer than this build"), std::string::npos) << message(newer);
  std::string zero = s.bytes;
  zero[2] = 0;
  EXPECT_NE(message(zero).find("unknown format version"), std::string::npos);
  EXPECT_NE(message("").find("truncated"), std::string::npos);
  EXPECT_NE(message("{\"json\": true}").find("bad magic"), std::string::npos);
  std::string flipped = s.bytes;
  flipped.back() = static_cast<char>(flipped.back() ^ 1);
  EXPECT_NE(message(flipped).find("checksum"), std::string::npos);
  EXPECT_NE(message(EncodeCommand(CancelTimer{1})).find("is a command"), std::string::npos);
  EXPECT_NE(message(s.bytes + "x").find("checksum"), std::string::npos);
  std::string trailing = s.bytes + "x";
  internal::ResealForTest(&trailing);
  EXPECT_NE(message(trailing).find("trailing"), std::string::npos);
  auto cmd = DecodeCommand(s.bytes);
  ASSERT_FALSE(cmd.ok());
  EXPECT_NE(cmd.status().message().find("state snapshot"), std::string::npos);
  auto ev = DecodeEvent(EncodeCommand(CancelTimer{1}));
  ASSERT_FALSE(ev.ok());
}

TEST(CodecTest, ASnapshotOfAnotherDefinitionIsRefused) {
  Sample s = MidFlightSample();
  ASSERT_TRUE(s.wf);
  // Same first task name, but the fork has a single branch and no retry: branch 1 and the
  // try's catch are missing.
  auto other = CompileYaml(Doc(R"(do:
  - f:
      fork:
        branches:
          - a:
              set: {}
)"));
  ASSERT_TRUE(other);
  auto r = DecodeState(*other, s.bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("does not match this definition"), std::string::npos)
      << r.status().message();
  auto empty = CompileYaml(Doc("do:\n  - only:\n      wait: {seconds: 1}\n"));
  ASSERT_TRUE(empty);
  auto r2 = DecodeState(*empty, s.bytes);
  ASSERT_FALSE(r2.ok());
}

// Structurally valid bytes that the interpreter could never have produced are refused.
TEST(CodecTest, ImpossibleNodeTreesAreRefused) {
  auto wf = CompileYaml(Doc(kEveryFieldDoc));
  ASSERT_TRUE(wf);
  const TaskDef& fork = wf->main.tasks[0];
  auto make = [&] {
    InstanceState s;
    s.status = WorkflowStatus::kRunning;
    s.root = std::make_unique<Node>();
    s.root->type = Node::Type::kList;
    s.root->list = &wf->main;
    auto f = std::make_unique<Node>();
    f->task = &fork;
    f->phase = Node::Phase::kRunning;
    f->outputs = J("[null, null]");
    auto b = std::make_unique<Node>();
    b->task = &fork.children.tasks[1];
    b->phase = Node::Phase::kListening;
    b->slot = 1;
    b->events = Json::Array();
    b->matched = {0, 0};
    f->children.push_back(std::move(b));
    s.root->children.push_back(std::move(f));
    return s;
  };
  {
    InstanceState s = make();
    ASSERT_TRUE(DecodeState(*wf, EncodeState(*wf, s)).ok());
  }
  std::vector<std::pair<std::string, std::function<void(InstanceState&)>>> cases = {
      {"slot outside outputs",
       [](InstanceState& s) { s.root->children[0]->children[0]->slot = 2; }},
      {"outputs not an array", [](InstanceState& s) { s.root->children[0]->outputs = Json(); }},
      {"branches before the fork started",
       [](InstanceState& s) { s.root->children[0]->phase = Node::Phase::kNew; }},
      {"matched of the wrong size",
       [](InstanceState& s) { s.root->children[0]->children[0]->matched = {0}; }},
      {"a list node as a fork branch",
       [&](InstanceState& s) {
         auto l = std::make_unique<Node>();
         l->type = Node::Type::kList;
         l->list = &fork.children;
         l->slot = 0;
         s.root->children[0]->children.push_back(std::move(l));
       }},
      {"a list node with two tasks",
       [&](InstanceState& s) {
         auto t = std::make_unique<Node>();
         t->task = &wf->main.tasks[0];
         s.root->children.push_back(std::move(t));
       }},
      {"a task root", [&](InstanceState& s) { s.root->type = Node::Type::kTask; }},
  };
  for (auto& [name, mutate] : cases) {
    SCOPED_TRACE(name);
    InstanceState s = make();
    mutate(s);
    auto r = DecodeState(*wf, EncodeState(*wf, s));
    EXPECT_FALSE(r.ok());
  }
}

// A node whose definition is not directly under its parent's is written with a path from the
// main list, and still decodes.
TEST(CodecTest, NodesOutsideTheirParentsDefinitionUseAnAbsolutePath) {
  auto wf = CompileYaml(Doc(R"(use:
  functions:
    fn:
      do:
        - inner:
            wait: {seconds: 1}
do:
  - outer:
      do:
        - deep:
            call: fn
  - other:
      do:
        - x:
            set: {}
)"));
  ASSERT_TRUE(wf);
  const TaskDef& deep = wf->main.tasks[0].children.tasks[0];
  ASSERT_TRUE(deep.function);
  InstanceState s;
  s.root = std::make_unique<Node>();
  s.root->type = Node::Type::kList;
  s.root->list = &wf->main;
  auto other = std::make_unique<Node>();
  other->task = &wf->main.tasks[1];
  other->phase = Node::Phase::kRunning;
  // A list from elsewhere in the definition (the function's body) under `other`.
  auto list = std::make_unique<Node>();
  list->type = Node::Type::kList;
  list->list = &deep.function->children;
  other->children.push_back(std::move(list));
  s.root->children.push_back(std::move(other));
  std::string bytes = EncodeState(*wf, s);
  auto d = DecodeState(*wf, bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->root->children[0]->children[0]->list, &deep.function->children);
  EXPECT_EQ(EncodeState(*wf, *d), bytes);
}

// ---- commands, events, lifecycle ------------------------------------------------------------

TEST(CodecTest, EveryCommandRoundTrips) {
  ExecuteTask exec{1ULL << 50, "/do/0/get",        "http", J(R"({"method": "GET", "n": 1.25})"),
                   7,          "inst:/do/0/get:7", 30000};
  StartChild child{9, "/do/1/child", "ns", "name", "latest", J(R"({"v": [1]})"), false};
  std::vector<Command> commands = {
      exec,
      ExecuteTask{},
      child,
      StartChild{},
      CancelActivity{std::numeric_limits<uint64_t>::max()},
      StartTimer{3, -1},
      StartTimer{4, 1700000000123},
      CancelTimer{5},
      PublishEvent{J(R"({"specversion": "1.0", "data": {"x": null}})")},
      Subscribe{6, J(R"({"all": [{"with": {"type": "a"}}]})")},
      Unsubscribe{6},
  };
  for (const Command& c : commands) {
    std::string bytes = EncodeCommand(c);
    auto d = DecodeCommand(bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(d->index(), c.index());
    EXPECT_EQ(EncodeCommand(*d), bytes);
  }
  auto d = DecodeCommand(EncodeCommand(exec));
  ASSERT_TRUE(d.ok());
  const auto& e = std::get<ExecuteTask>(*d);
  EXPECT_EQ(e.activity_id, exec.activity_id);
  EXPECT_EQ(e.task_ref, exec.task_ref);
  EXPECT_EQ(e.kind, exec.kind);
  EXPECT_EQ(e.request, exec.request);
  EXPECT_EQ(e.attempt, exec.attempt);
  EXPECT_EQ(e.idempotency_key, exec.idempotency_key);
  EXPECT_EQ(e.timeout_ms, exec.timeout_ms);
  auto dc = DecodeCommand(EncodeCommand(child));
  ASSERT_TRUE(dc.ok());
  const auto& c = std::get<StartChild>(*dc);
  EXPECT_EQ(c.activity_id, child.activity_id);
  EXPECT_EQ(c.task_ref, child.task_ref);
  EXPECT_EQ(c.namespace_, child.namespace_);
  EXPECT_EQ(c.name, child.name);
  EXPECT_EQ(c.version, child.version);
  EXPECT_EQ(c.input, child.input);
  EXPECT_EQ(c.await, child.await);
  auto st = DecodeCommand(EncodeCommand(StartTimer{4, 1700000000123}));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(std::get<StartTimer>(*st).timer_id, 4u);
  EXPECT_EQ(std::get<StartTimer>(*st).due_at, 1700000000123);
  auto sub = DecodeCommand(EncodeCommand(Subscribe{6, J(R"({"one": {}})")}));
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(std::get<Subscribe>(*sub).filters, J(R"({"one": {}})"));
}

TEST(CodecTest, EveryEventRoundTrips) {
  std::vector<Event> events = {
      {1700000000000, InstanceStarted{"id-1", J(R"({"in": [1, 2]})"), 0xfedcba9876543210ULL}},
      {-3, TaskSucceeded{42, J(R"("out")")}},
      {0, TaskFailed{43, Unavailable()}},
      {5, TimerFired{44}},
      {6, CloudEventReceived{J(R"({"type": "com.example", "data": {"n": 1}})")}},
      {7, CancelRequested{"operator said so"}},
      {8, CancelRequested{""}},
  };
  for (const Event& e : events) {
    std::string bytes = EncodeEvent(e);
    auto d = DecodeEvent(bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->now, e.now);
    ASSERT_EQ(d->body.index(), e.body.index());
    EXPECT_EQ(EncodeEvent(*d), bytes);
  }
  auto d = DecodeEvent(EncodeEvent(events[0]));
  ASSERT_TRUE(d.ok());
  const auto& started = std::get<InstanceStarted>(d->body);
  EXPECT_EQ(started.instance_id, "id-1");
  EXPECT_EQ(started.input, J(R"({"in": [1, 2]})"));
  EXPECT_EQ(started.seed, 0xfedcba9876543210ULL);
  auto f = DecodeEvent(EncodeEvent(events[2]));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(std::get<TaskFailed>(f->body).activity_id, 43u);
  EXPECT_EQ(std::get<TaskFailed>(f->body).error, Unavailable());
  auto c = DecodeEvent(EncodeEvent(events[5]));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<CancelRequested>(c->body).reason, "operator said so");
}

TEST(CodecTest, CommandAndEventCorruptionIsAnError) {
  std::vector<std::string> records = {
      EncodeCommand(ExecuteTask{1, "/do/0/a", "http", J(R"({"m": "GET"})"), 0, "k", 0}),
      EncodeCommand(StartChild{2, "/do/0/c", "ns", "n", "v", J("{}"), true}),
      EncodeEvent(Event{1, InstanceStarted{"i", J(R"({"a": [1, 2, 3]})"), 7}}),
      EncodeEvent(Event{2, CloudEventReceived{J(R"({"type": "t"})")}}),
  };
  for (const std::string& record : records) {
    bool is_command = record[1] == 'C';
    auto decode_ok = [&](const std::string& b) {
      return is_command ? DecodeCommand(b).ok() : DecodeEvent(b).ok();
    };
    ASSERT_TRUE(decode_ok(record));
    for (size_t n = 0; n < record.size(); ++n) {
      std::string cut = record.substr(0, n);
      EXPECT_FALSE(decode_ok(cut)) << n;
      internal::ResealForTest(&cut);
      EXPECT_FALSE(decode_ok(cut)) << n << " resealed";
    }
    for (size_t at = 0; at < record.size(); ++at) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string b = record;
        b[at] = static_cast<char>(b[at] ^ (1 << bit));
        EXPECT_FALSE(decode_ok(b)) << at << ":" << bit;
        internal::ResealForTest(&b);
        (void)decode_ok(b);  // may decode (a changed id); must not crash
      }
    }
  }
}

TEST(CodecTest, LifecycleRoundTripsEveryKind) {
  std::vector<LifecycleEntry> entries;
  Millis t = 1700000000000;
  for (LifecycleKind k :
       {LifecycleKind::kWorkflowStarted, LifecycleKind::kWorkflowCompleted,
        LifecycleKind::kWorkflowFaulted, LifecycleKind::kWorkflowCancelled,
        LifecycleKind::kTaskStarted, LifecycleKind::kTaskCompleted, LifecycleKind::kTaskFaulted,
        LifecycleKind::kTaskRetried, LifecycleKind::kTaskCancelled, LifecycleKind::kTaskSkipped,
        LifecycleKind::kTaskWaiting}) {
    bool task = static_cast<uint8_t>(k) >= 10;
    entries.push_back(
        {k, t++, task ? "/do/0/we\"ird~1name" : "", task ? "we\"ird/name\n" : "", task ? 3u : 0u,
         k == LifecycleKind::kTaskCompleted ? J(R"({"out": [1, 0.5, "\u0001"]})") : Json()});
  }
  std::string text = EncodeLifecycle(entries);
  ASSERT_TRUE(Json::Parse(text).ok()) << text;
  EXPECT_TRUE(text.starts_with(R"([{"kind":"workflow.started","time":1700000000000},{)")) << text;
  auto d = DecodeLifecycle(text);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ((*d)[i].kind, entries[i].kind);
    EXPECT_EQ((*d)[i].time, entries[i].time);
    EXPECT_EQ((*d)[i].task_ref, entries[i].task_ref);
    EXPECT_EQ((*d)[i].task_name, entries[i].task_name);
    EXPECT_EQ((*d)[i].attempt, entries[i].attempt);
    EXPECT_EQ((*d)[i].data, entries[i].data);
  }
  EXPECT_EQ(EncodeLifecycle(*d), text);
  EXPECT_EQ(EncodeLifecycle({}), "[]");
  auto none = DecodeLifecycle("[]");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(CodecTest, BadLifecycleJsonIsAnError) {
  for (const char* bad : {
           "",
           "[",
           "{}",
           "[1]",
           R"([{"kind": "task.exploded", "time": 1}])",
           R"([{"kind": "unknown", "time": 1}])",
           R"([{"time": 1}])",
           R"([{"kind": "task.started", "time": "now"}])",
           R"([{"kind": "task.started", "time": 1.5}])",
           R"([{"kind": "task.started", "time": 1, "task": 3, "name": "x", "attempt": 0}])",
           R"([{"kind": "task.started", "time": 1, "task": "/a", "name": "a", "attempt": -1}])",
       }) {
    auto r = DecodeLifecycle(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace baton::engine
