// runtime::Server end to end in one process: the real SQLite store, the real executors,
// the real interpreter. (The crash-safety test kills a real `baton serve` process:
// tests/integration/crash_test.py.)
#include "runtime/server.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/json.h"
#include "executors/registry.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/http_fixture.h"

// RunawayExpressionFaultsOnlyItsInstance leaves threads spinning inside jq on purpose (that
// is the feature: they are abandoned). The jq stack such a thread is growing is only
// referenced from its registers, so LeakSanitizer reports it at exit; nothing else.
extern "C" const char* __lsan_default_suppressions() { return "leak:jv_mem_realloc\n"; }

namespace baton::runtime {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("baton-server-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.prune_interval_ms = 100000;
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    store::SqliteOptions so;
    so.path = (dir_ / "baton.db").string();
    auto s = store::OpenSqliteStore(so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    registry_ = std::make_unique<executors::ExecutorRegistry>();
    for (auto& e : executors::MakeDefaultExecutors({})) registry_->Add(std::move(e));
    server_ = std::make_unique<Server>(options_, store_.get(), registry_.get());
    ASSERT_TRUE(server_->Start().ok());
  }

  // Graceful stop, as SIGTERM does; the store file stays.
  void Close() {
    server_->Shutdown();
    server_.reset();
    store_.reset();
    registry_.reset();
  }

  void Deploy(const std::string& doc) {
    auto r = server_->Deploy(doc);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  Result<StartResult> Start(const std::string& workflow, const std::string& input_json,
                            const std::string& key = "") {
    StartRequest req;
    req.workflow = workflow;
    req.input = *Json::Parse(input_json);
    req.idempotency_key = key;
    std::promise<Result<StartResult>> p;
    server_->StartInstance(std::move(req), [&](Result<StartResult> r) { p.set_value(r); });
    return p.get_future().get();
  }

  Json Wait(const std::string& id, int64_t timeout_ms = 20000) {
    std::promise<Result<ViewText>> p;
    server_->WaitInstance(id, timeout_ms, [&](Result<ViewText> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return Json();
    Result<Json> view = Json::Parse(**r);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? *view : Json();
  }

  Status Control(const std::string& what, const std::string& id) {
    std::promise<Status> p;
    auto done = [&](Status s) { p.set_value(s); };
    if (what == "cancel") server_->Cancel(id, "test", done);
    if (what == "suspend") server_->Suspend(id, done);
    if (what == "resume") server_->Resume(id, done);
    return p.get_future().get();
  }

  std::string StatusOf(const std::string& id) {
    auto v = server_->GetInstance(id);
    return v.ok() ? std::string(v->Get("status").AsString()) : v.status().ToString();
  }

  std::filesystem::path dir_;
  ServerOptions options_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<executors::ExecutorRegistry> registry_;
  std::unique_ptr<Server> server_;
};

constexpr char kGreet[] = R"(
document: {dsl: '1.0.0', namespace: test, name: greet, version: '1.0.0'}
do:
  - hello:
      set:
        greeting: ${ "hello, " + .name }
  - shout:
      set:
        greeting: ${ .greeting | ascii_upcase }
)";

// Waits 50 ms, then runs an expression that never ends (for the watchdog).
constexpr char kSpin[] = R"(
document: {dsl: '1.0.0', namespace: test, name: spin, version: '1.0.0'}
do:
  - first:
      wait:
        milliseconds: 50
  - forever:
      set:
        x: ${ last(repeat(1)) }
)";

constexpr char kShortNap[] = R"(
document: {dsl: '1.0.0', namespace: test, name: short-nap, version: '1.0.0'}
do:
  - nap:
      wait:
        milliseconds: 50
)";

constexpr char kWait[] = R"(
document: {dsl: '1.0.0', namespace: test, name: nap, version: '1.0.0'}
do:
  - nap:
      wait:
        milliseconds: 400
  - done:
      set:
        woke: true
)";

TEST_F(ServerTest, StartsRunsAndRecordsHistory) {
  Open();
  Deploy(kGreet);
  auto r = Start("test/greet", R"({"name":"ada"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->created);
  Json view = Wait(r->id);
  EXPECT_EQ(view.Get("status").AsString(), "completed");
  EXPECT_EQ(view.Get("output").Dump(), R"({"greeting":"HELLO, ADA"})");
  EXPECT_EQ(view.Get("input").Dump(), R"({"name":"ada"})");
  auto history = server_->GetHistory(r->id);
  ASSERT_TRUE(history.ok());
  Json items = history->Get("items");
  ASSERT_GE(items.size(), 6u);
  EXPECT_EQ(items.At(0).Get("kind").AsString(), "workflow.started");
  EXPECT_EQ(items.At(items.size() - 1).Get("kind").AsString(), "workflow.completed");
  for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(items.At(i).Get("seq").AsInt(), int64_t(i));
}

TEST_F(ServerTest, DeployIsIdempotentAndRefusesChangedContent) {
  Open();
  auto a = server_->Deploy(kGreet);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->created);
  auto b = server_->Deploy(kGreet);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->created);
  std::string changed = std::string(kGreet) + "  - extra:\n      set: {x: 1}\n";
  auto c = server_->Deploy(changed);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConflict);
  auto bad = server_->Deploy(
      "document: {dsl: '1.0.0', namespace: x, name: y, version: '1'}\n"
      "do:\n  - a:\n      sett: {}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("document:4:"), std::string::npos)
      << bad.status().message();
}

TEST_F(ServerTest, UnknownWorkflowAndOversizedInputAreRefused) {
  options_.max_instance_bytes = 1024;
  options_.max_document_bytes = 1024;
  Open();
  Deploy(kGreet);
  auto r = Start("test/nope", "{}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  auto bad_ref = Start("no-slash", "{}");
  ASSERT_FALSE(bad_ref.ok());
  EXPECT_EQ(bad_ref.status().code(), StatusCode::kInvalidArgument);
  std::string big_doc = std::string(kGreet) + "# " + std::string(2000, 'x') + "\n";
  auto deploy = server_->Deploy(big_doc);
  ASSERT_FALSE(deploy.ok());
  EXPECT_EQ(deploy.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(deploy.status().message().find("maxDocumentBytes"), std::string::npos);
  auto big = Start("test/greet", R"({"name":")" + std::string(2000, 'x') + R"("})");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("limit is 1024"), std::string::npos);
}

TEST_F(ServerTest, IdempotencyKeyGivesTheSameInstance) {
  Open();
  Deploy(kGreet);
  auto a = Start("test/greet", R"({"name":"a"})", "key-1");
  auto b = Start("test/greet", R"({"name":"b"})", "key-1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
  EXPECT_TRUE(a->created);
  EXPECT_FALSE(b->created);
  EXPECT_EQ(Wait(a->id).Get("output").Dump(), R"({"greeting":"HELLO, A"})");
  auto page = server_->ListInstances(ListFilter{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->Get("items").size(), 1u);
}

TEST_F(ServerTest, ConcurrentStartsShareCommits) {
  Open();
  Deploy(kGreet);
  std::vector<std::promise<Result<StartResult>>> done(300);
  for (auto& p : done) {
    StartRequest req;
    req.workflow = "test/greet";
    req.input = *Json::Parse(R"({"name":"x"})");
    server_->StartInstance(std::move(req), [&p](Result<StartResult> r) { p.set_value(r); });
  }
  for (auto& p : done) ASSERT_TRUE(p.get_future().get().ok());
  // Group commit: the transitions of many instances went into fewer transactions.
  Server::Counters c = server_->counters();
  EXPECT_GE(c.transitions, 300u);
  EXPECT_LT(c.commits, c.transitions);
}

// Waits answered by their instance's end do not pile up until their deadlines: a server
// answering thousands of `?wait` starts a second would otherwise hold every callback for the
// whole wait (60 s in the benchmarks).
TEST_F(ServerTest, AnsweredWaitsDoNotAccumulate) {
  Open();
  Deploy(kShortNap);
  // Each wait is registered while its instance naps, with a deadline 60 s away; without
  // purging, all 1,300 would still be held.
  std::vector<std::promise<Result<ViewText>>> done(1300);
  for (auto& p : done) {
    auto r = Start("test/short-nap", "{}");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    server_->WaitInstance(r->id, 60000, [&p](Result<ViewText> v) { p.set_value(std::move(v)); });
  }
  for (auto& p : done) ASSERT_TRUE(p.get_future().get().ok());
  EXPECT_EQ(server_->counters().waiters, 0u);
  EXPECT_LT(server_->counters().wait_deadlines, 1100u);
  EXPECT_GT(server_->counters().wait_deadlines, 0u);  // (the counter counts)
}

// A client polling a long instance with short waits leaves nothing behind per poll.
TEST_F(ServerTest, TimedOutWaitsLeaveNoWaiterBehind) {
  Open();
  Deploy(kWait);  // naps 400 ms
  auto r = Start("test/nap", "{}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (int poll = 0; poll < 5; ++poll) {
    EXPECT_EQ(Wait(r->id, 20).Get("status").AsString(), "waiting");
  }
  EXPECT_EQ(server_->counters().waiters, 0u);
  EXPECT_EQ(Wait(r->id).Get("status").AsString(), "completed");
}

// `top -H`, perf and gdb tell the server's threads apart by name.
TEST_F(ServerTest, ThreadsAreNamed) {
  Open();
  std::multiset<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
  }
  // At least: a test binary run whole keeps the abandoned workers of earlier tests.
  EXPECT_GE(names.count("baton-worker"), static_cast<size_t>(options_.workers));
  EXPECT_GE(names.count("baton-commit"), 1u);
  EXPECT_GE(names.count("baton-timers"), 1u);
  EXPECT_GE(names.count("baton-maint"), 1u);
  EXPECT_GE(names.count("baton-curl"), 1u);  // the HTTP executor's threads
  EXPECT_GE(names.count("baton-process"), 1u);
}

TEST_F(ServerTest, TimersFireAndWaitingInstancesLeaveMemory) {
  Open();
  Deploy(kWait);
  auto r = Start("test/nap", "{}");
  ASSERT_TRUE(r.ok());
  // Waiting on a timer only: the instance is not kept in memory.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(StatusOf(r->id), "waiting");
  EXPECT_EQ(server_->counters().resident, 0u);
  Json view = Wait(r->id);
  EXPECT_EQ(view.Get("status").AsString(), "completed");
  EXPECT_EQ(view.Get("output").Dump(), R"({"woke":true})");
  EXPECT_EQ(server_->counters().timers_fired, 1u);
}

TEST_F(ServerTest, TimersSurviveARestart) {
  Open();
  Deploy(kWait);
  auto r = Start("test/nap", "{}");
  ASSERT_TRUE(r.ok());
  Close();
  Open();
  Json view = Wait(r->id);
  EXPECT_EQ(view.Get("status").AsString(), "completed");
}

TEST_F(ServerTest, SuspendHoldsEventsAndResumeReplaysThem) {
  Open();
  Deploy(kWait);
  auto r = Start("test/nap", "{}");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(Control("suspend", r->id).ok());
  EXPECT_EQ(StatusOf(r->id), "suspended");
  EXPECT_EQ(Control("suspend", r->id).code(), StatusCode::kConflict);
  // The timer fires while suspended: the instance does not move.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(StatusOf(r->id), "suspended");
  ASSERT_TRUE(Control("resume", r->id).ok());
  EXPECT_EQ(Wait(r->id).Get("status").AsString(), "completed");
  EXPECT_EQ(Control("resume", r->id).code(), StatusCode::kConflict);
  auto history = server_->GetHistory(r->id);
  ASSERT_TRUE(history.ok());
  std::string all = history->Dump();
  EXPECT_NE(all.find("instance.suspended"), std::string::npos);
  EXPECT_NE(all.find("instance.resumed"), std::string::npos);
}

TEST_F(ServerTest, SuspendHoldsSeveralEventsAcrossARestart) {
  Open();
  Deploy(R"(
document: {dsl: '1.0.0', namespace: test, name: naps, version: '1.0.0'}
do:
  - both:
      fork:
        branches:
          - a:
              wait:
                milliseconds: 200
          - b:
              wait:
                milliseconds: 300
  - done:
      set:
        woke: true
)");
  auto r = Start("test/naps", "{}");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(Control("suspend", r->id).ok());
  // Both timers fire while suspended: two held events, kept across a restart.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(StatusOf(r->id), "suspended");
  Close();
  Open();
  EXPECT_EQ(StatusOf(r->id), "suspended");
  ASSERT_TRUE(Control("resume", r->id).ok());
  Json view = Wait(r->id);
  EXPECT_EQ(view.Get("status").AsString(), "completed") << view.Dump();
  EXPECT_EQ(view.Get("output").Dump(), R"({"woke":true})");
}

TEST_F(ServerTest, CancelEndsAnInstanceOnceAndUnknownIdsAreNotFound) {
  Open();
  Deploy(kWait);
  auto r = Start("test/nap", "{}");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(Control("cancel", r->id).ok());
  EXPECT_EQ(Wait(r->id).Get("status").AsString(), "cancelled");
  EXPECT_EQ(Control("cancel", r->id).code(), StatusCode::kConflict);
  EXPECT_EQ(Control("cancel", "0000000000unknownunknown00").code(), StatusCode::kNotFound);
  EXPECT_EQ(server_->GetInstance("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(ServerTest, HttpCallsCarryIdempotencyKeysAndChildWorkflowsRun) {
  testing::HttpFixture fixture;
  fixture.Route("POST", "/echo", [](const testing::FixtureRequest& req) {
    return testing::FixtureResponse{200, {{"Content-Type", "application/json"}}, req.body};
  });
  ASSERT_TRUE(fixture.Start());
  Open();
  Deploy(R"(
document: {dsl: '1.0.0', namespace: test, name: child, version: '1.0.0'}
do:
  - call:
      call: http
      with:
        method: post
        endpoint: )" +
         fixture.base_url() + R"(/echo
        body: '${ {v: (.v * 2)} }'
)");
  Deploy(R"(
document: {dsl: '1.0.0', namespace: test, name: parent, version: '1.0.0'}
do:
  - sub:
      run:
        workflow:
          namespace: test
          name: child
          version: '1.0.0'
          input:
            v: '${ .v }'
)");
  auto r = Start("test/parent", R"({"v":21})");
  ASSERT_TRUE(r.ok());
  Json view = Wait(r->id);
  EXPECT_EQ(view.Get("status").AsString(), "completed") << view.Dump();
  EXPECT_EQ(view.Get("output").Dump(), R"({"v":42})");
  auto reqs = fixture.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_FALSE(reqs[0].headers["idempotency-key"].empty());
}

// Issue 4 through the runtime: a fault keeps its place across a restart, shows up as a
// dead letter, and an operator's retry (recorded in history) resumes it from the failed task.
TEST_F(ServerTest, DeadLettersSurviveARestartAndARetryResumesThem) {
  std::atomic<bool> fixed{false};
  testing::HttpFixture fixture;
  fixture.Route("POST", "/pay", [&](const testing::FixtureRequest& req) {
    if (!fixed) return testing::FixtureResponse{422, {}, "card declined"};
    return testing::FixtureResponse{200, {{"Content-Type", "application/json"}}, req.body};
  });
  ASSERT_TRUE(fixture.Start());
  Open();
  Deploy(R"(
document: {dsl: '1.0.0', namespace: test, name: pay, version: '1.0.0'}
do:
  - prepare:
      set: {amount: '${ .amount }'}
  - pay:
      call: http
      with:
        method: post
        endpoint: )" +
         fixture.base_url() + R"(/pay
        body: '${ . }'
  - done:
      set: '${ . + {paid: true} }'
)");
  auto r = Start("test/pay", R"({"amount": 5})");
  ASSERT_TRUE(r.ok());
  Json view = Wait(r->id);
  ASSERT_EQ(view.Get("status").AsString(), "faulted") << view.Dump();
  EXPECT_EQ(view.Get("error").Get("status").AsInt(), 422);
  EXPECT_EQ(fixture.requests().size(), 1u) << "a 422 is permanent: no automatic retry";

  Close();
  Open();
  DeadLetterFilter filter;
  filter.error_type = "communication";
  auto letters = server_->ListDeadLetters(filter);
  ASSERT_TRUE(letters.ok()) << letters.status().ToString();
  ASSERT_EQ(letters->Get("items").size(), 1u) << letters->Dump();
  Json letter = letters->Get("items").At(0);
  EXPECT_EQ(letter.Get("id").AsString(), r->id);
  EXPECT_EQ(letter.Get("failedTask").Get("ref").AsString(), "/do/1/pay");
  EXPECT_EQ(letter.Get("attempts").AsInt(), 1);
  filter.error_type = "timeout";
  EXPECT_EQ(server_->ListDeadLetters(filter)->Get("items").size(), 0u);

  auto repair = [&](RepairRequest req) {
    std::promise<Result<Json>> p;
    server_->Repair(r->id, std::move(req), [&](Result<Json> v) { p.set_value(std::move(v)); });
    return p.get_future().get();
  };
  RepairRequest bad;
  bad.action = "retry";
  EXPECT_EQ(repair(bad).status().code(), StatusCode::kInvalidArgument) << "no reason";
  bad.reason = "x";
  bad.output = Json::Object();
  EXPECT_EQ(repair(bad).status().code(), StatusCode::kInvalidArgument) << "output with retry";

  fixed = true;
  RepairRequest retry;
  retry.action = "retry";
  retry.by = "alice";
  retry.reason = "customer updated the card";
  retry.input = *Json::Parse(R"({"amount": 7})");
  auto repaired = repair(retry);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  view = Wait(r->id);
  EXPECT_EQ(view.Get("status").AsString(), "completed") << view.Dump();
  EXPECT_EQ(view.Get("output").Dump(), R"({"amount":7,"paid":true})");
  EXPECT_TRUE(view.Get("error").IsNull()) << "the error went with the repair";
  EXPECT_EQ(server_->ListDeadLetters({})->Get("items").size(), 0u);
  // A second retry has nothing to act on.
  EXPECT_EQ(repair(retry).status().code(), StatusCode::kConflict);

  auto history = server_->GetHistory(r->id);
  ASSERT_TRUE(history.ok());
  bool recorded = false;
  history->Get("items").ForEachItem([&](size_t, const Json& it) {
    if (it.Get("kind").AsString() == "workflow.repaired") {
      recorded = it.Get("by").AsString() == "alice" &&
                 it.Get("reason").AsString() == "customer updated the card" &&
                 it.Get("action").AsString() == "retry";
    }
  });
  EXPECT_TRUE(recorded) << history->Dump();
  EXPECT_EQ(fixture.requests().size(), 2u);
}

Result<Json> RepairNow(Server& server, const std::string& id, RepairRequest req) {
  std::promise<Result<Json>> p;
  server.Repair(id, std::move(req), [&](Result<Json> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  if (r.ok()) return r->DeepCopy();
  return r;
}

// Found in review: a retry that faults again in the same batch must update the row.
TEST_F(ServerTest, RetryThatFaultsAgainRecordsTheNewError) {
  Open();
  Deploy(R"(
document: {dsl: '1.0.0', namespace: test, name: boom, version: '1.0.0'}
do:
  - check:
      raise:
        error:
          type: https://example.com/x
          status: 400
          detail: ${ .why }
)");
  auto r = Start("test/boom", R"({"why":"first"})");
  ASSERT_TRUE(r.ok());
  Json v = Wait(r->id);
  ASSERT_EQ(v.Get("status").AsString(), "faulted") << v.Dump();
  ASSERT_EQ(v.Get("error").Get("detail").AsString(), "first");
  std::string ended(v.Get("endedAt").AsString());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  RepairRequest req;
  req.action = "retry";
  req.reason = "fix";
  req.input = *Json::Parse(R"({"why":"second"})");
  auto after = RepairNow(*server_, r->id, req);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->Get("status").AsString(), "faulted");
  EXPECT_EQ(after->Get("error").Get("detail").AsString(), "second") << after->Dump();
  EXPECT_NE(std::string(after->Get("endedAt").AsString()), ended) << "endedAt not updated";
}

// Found in review: an instance the watchdog faulted (no snapshot) is a dead letter too.
TEST_F(ServerTest, WatchdogFaultedInstanceIsRefusedSuspendAndCanBeDiscarded) {
  options_.evaluation_timeout_ms = 300;
  Open();
  Deploy(kSpin);
  auto spin = Start("test/spin", "{}");
  ASSERT_TRUE(spin.ok());
  Json view = Wait(spin->id);
  ASSERT_EQ(view.Get("status").AsString(), "faulted");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Control("suspend", spin->id).code(), StatusCode::kConflict);
  EXPECT_EQ(StatusOf(spin->id), "faulted");
  RepairRequest retry;
  retry.action = "retry";
  retry.reason = "x";
  EXPECT_EQ(RepairNow(*server_, spin->id, retry).status().code(), StatusCode::kConflict);
  RepairRequest discard;
  discard.action = "discard";
  discard.reason = "x";
  auto d = RepairNow(*server_, spin->id, discard);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(StatusOf(spin->id), "cancelled");
}

TEST_F(ServerTest, ChildWithoutAwaitLeavesNoWorkBehind) {
  Open();
  Deploy(kWait);
  Deploy(R"(
document: {dsl: '1.0.0', namespace: test, name: launcher, version: '1.0.0'}
do:
  - launch:
      run:
        workflow:
          namespace: test
          name: nap
          version: '1.0.0'
        await: false
  - after:
      set:
        launched: true
)");
  auto r = Start("test/launcher", "{}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Wait(r->id).Get("output").Dump(), R"({"launched":true})");
  // The child runs on its own and ends; then nothing is outstanding.
  auto page = server_->ListInstances(ListFilter{});
  for (int i = 0; i < 100 && page.ok() && page->Get("items").size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // started after the commit
    page = server_->ListInstances(ListFilter{});
  }
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->Get("items").size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    std::string id(page->Get("items").At(i).Get("id").AsString());
    EXPECT_EQ(Wait(id).Get("status").AsString(), "completed");
  }
  for (int i = 0; i < 100 && store_->Stats()->work != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(store_->Stats()->work, 0);
}

TEST_F(ServerTest, RunawayExpressionFaultsOnlyItsInstance) {
  options_.evaluation_timeout_ms = 300;
  Open();
  Deploy(kGreet);
  Deploy(kSpin);
  Deploy(R"(
document: {dsl: '1.0.0', namespace: test, name: spinnow, version: '1.0.0'}
do:
  - forever:
      set:
        x: ${ last(repeat(1)) }
)");
  // Started (committed), then stuck in a later transition: faulted with a timeout.
  auto spin = Start("test/spin", "{}");
  ASSERT_TRUE(spin.ok()) << spin.status().ToString();
  Json view = Wait(spin->id);
  EXPECT_EQ(view.Get("status").AsString(), "faulted");
  EXPECT_EQ(view.Get("error").Get("status").AsInt(), 408) << view.Dump();
  // Stuck in its very first transition: the start is answered with an error.
  auto now = Start("test/spinnow", "{}");
  ASSERT_FALSE(now.ok());
  EXPECT_EQ(now.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(server_->counters().abandoned_workers, 2u);
  // Other instances, on every shard, still run.
  for (int i = 0; i < 8; ++i) {
    auto r = Start("test/greet", R"({"name":"x"})");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(Wait(r->id).Get("status").AsString(), "completed");
  }
}

TEST_F(ServerTest, EndedInstancesArePrunedAfterTheRetention) {
  options_.retention_ms = 1;
  options_.prune_interval_ms = 50;
  Open();
  Deploy(kGreet);
  auto r = Start("test/greet", R"({"name":"x"})");
  ASSERT_TRUE(r.ok());
  Wait(r->id);
  for (int i = 0; i < 100 && server_->GetInstance(r->id).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(server_->GetInstance(r->id).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace baton::runtime
