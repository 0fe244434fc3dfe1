// ProgramSet on several threads: each thread evaluates on a jq_state of its own (see the
// thread-safety section of expr/program_set.h).
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "expr/program_set.h"

namespace baton::expr {
namespace {

Json J(std::string_view text) {
  Result<Json> parsed = Json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? parsed.value() : Json();
}

void CompileOk(ProgramSet* set) {
  std::vector<CompileError> errors;
  Status status = set->Compile(&errors);
  ASSERT_TRUE(status.ok()) << status.message();
}

// The result's JSON text, or "error: <message>".
std::string Eval(const ProgramSet& set, ExprId id, const Json& data) {
  Result<Json> r = set.Evaluate(id, data, {});
  if (!r.ok()) return "error: " + r.status().message();
  return r->Dump();
}

// A thread that runs the functions given to Run one at a time and lives across them, so its
// thread_local state survives from one call to the next.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs `fn` on the worker thread and waits for it to return.
  void Run(std::function<void()> fn) {
    std::unique_lock<std::mutex> lock(mutex_);
    task_ = std::move(fn);
    cv_.notify_all();
    cv_.wait(lock, [this] { return task_ == nullptr; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || task_ != nullptr; });
      if (task_ == nullptr) return;  // stop_
      std::function<void()> fn = task_;
      lock.unlock();
      fn();
      lock.lock();
      task_ = nullptr;
      cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

// Redirects file descriptor 2 into a pipe, so that a test can wait until an evaluation on
// another thread has reached jq's `stderr` builtin: an ordering, not a duration. Anything
// else written to fd 2 meanwhile is passed on to the real stderr.
class StderrProbe {
 public:
  StderrProbe() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    saved_fd_ = dup(2);
    EXPECT_GE(saved_fd_, 0);
    EXPECT_EQ(dup2(write_fd_, 2), 2);
  }
  ~StderrProbe() {
    Restore();
    close(saved_fd_);
    close(write_fd_);
    close(read_fd_);
  }
  StderrProbe(const StderrProbe&) = delete;
  StderrProbe& operator=(const StderrProbe&) = delete;

  // Blocks until `marker` has been written to fd 2.
  void WaitFor(const std::string& marker) {
    std::string seen;
    while (seen.find(marker) == std::string::npos) {
      char c;
      if (read(read_fd_, &c, 1) != 1) {
        ADD_FAILURE() << "stderr pipe closed";
        return;
      }
      seen.push_back(c);
    }
    PassOn(seen.substr(0, seen.size() - marker.size()));
  }

  // Gives fd 2 back (a sanitizer's report after this point is seen again).
  void Restore() { EXPECT_EQ(dup2(saved_fd_, 2), 2); }

  // Whether `marker` has been written to fd 2 by now (does not wait).
  bool Seen(const std::string& marker) {
    EXPECT_EQ(fcntl(read_fd_, F_SETFL, fcntl(read_fd_, F_GETFL) | O_NONBLOCK), 0);
    std::string seen;
    char buffer[256];
    ssize_t n;
    while ((n = read(read_fd_, buffer, sizeof(buffer))) > 0) seen.append(buffer, n);
    EXPECT_EQ(fcntl(read_fd_, F_SETFL, fcntl(read_fd_, F_GETFL) & ~O_NONBLOCK), 0);
    size_t found = seen.find(marker);
    if (found != std::string::npos) seen.erase(found, marker.size());
    PassOn(seen);
    return found != std::string::npos;
  }

 private:
  void PassOn(const std::string& text) {
    if (!text.empty()) {
      EXPECT_GE(write(saved_fd_, text.data(), text.size()), 0);
    }
  }

  int read_fd_ = -1;
  int write_fd_ = -1;
  int saved_fd_ = -1;
};

TEST(ProgramSetThreadsTest, ConcurrentEvaluationsGiveCorrectResults) {
  ProgramSet set;
  ExprId object = set.Add(R"jq({name: "n\(.i)", tags: ["t", .i], copy: .})jq", {});
  ExprId failing = set.Add(R"jq(error("boom \(.i)"))jq", {});
  ExprId halting = set.Add(R"jq("stop" | halt_error)jq", {});
  ExprId pass = set.Add(".", {});
  CompileOk(&set);
  constexpr int kThreads = 4;
  constexpr int kIterations = 200;
  std::vector<int> failures(kThreads, 0);
  // Results made on a worker, checked and freed on this thread: detached results may cross.
  std::vector<std::vector<Json>> kept(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        int n = t * 1000 + i;
        Json data = Json::Object();
        data.Set("i", Json::Number(n));
        Result<Json> r = set.Evaluate(object, data, {});
        std::string name = "n" + std::to_string(n);
        if (!r.ok() || r->Get("name").AsString() != name ||
            r->Get("tags").At(0).AsString() != "t" || r->Get("copy") != data) {
          ++failures[t];
        }
        if (r.ok() && i % 10 == 0) kept[t].push_back(*r);
        if (Eval(set, failing, data) != "error: boom " + std::to_string(n)) ++failures[t];
        if (Eval(set, halting, data) != "error: stop") ++failures[t];
        if (Eval(set, pass, data) != data.Dump()) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], 0) << "thread " << t;
    ASSERT_EQ(kept[t].size(), static_cast<size_t>(kIterations / 10));
    for (int k = 0; k < kIterations / 10; ++k) {
      int n = t * 1000 + k * 10;
      EXPECT_EQ(kept[t][k].Dump(), R"({"name":"n)" + std::to_string(n) + R"(","tags":["t",)" +
                                       std::to_string(n) + R"(],"copy":{"i":)" + std::to_string(n) +
                                       "}}");
    }
  }
}

// The reason for per-thread states: a thread stuck in an evaluation (the server's watchdog
// abandons it) must not stall the other instances of the same document. The slow
// expression writes markers to stderr when it starts and when its work is done (still
// inside the evaluation): the fast evaluations must all finish in between.
TEST(ProgramSetThreadsTest, ALongEvaluationDoesNotBlockOtherThreads) {
  ProgramSet set;
  ExprId slow = set.Add(R"jq("slow-started" | stderr | [range(0; 3000000)] | length |
                            . as $n | "slow-finished" | stderr | $n)jq",
                        {});
  ExprId fast = set.Add(".a + 1", {});
  CompileOk(&set);
  Json data = J(R"({"a": 1})");
  EXPECT_EQ(Eval(set, fast, data), "2");  // This thread's state exists before the slow one.

  std::string slow_result;
  StderrProbe probe;
  std::thread slow_thread([&] { slow_result = Eval(set, slow, Json()); });
  probe.WaitFor("\"slow-started\"");  // The slow thread is inside jq now.
  constexpr int kFast = 100;
  int fast_ok = 0;
  for (int i = 0; i < kFast; ++i) {
    if (Eval(set, fast, data) == "2") ++fast_ok;
  }
  bool slow_finished_first = probe.Seen("\"slow-finished\"");
  slow_thread.join();
  EXPECT_EQ(fast_ok, kFast);
  EXPECT_FALSE(slow_finished_first) << "the fast evaluations waited for the slow one";
  EXPECT_EQ(slow_result, "3000000");
}

// The watchdog may give up on a stuck thread, and the document may then be unloaded: the
// set is destroyed while that thread still evaluates on its state. The state must outlive
// the set (ASan) and be freed by that thread when it returns (LeakSanitizer).
TEST(ProgramSetThreadsTest, SetDestroyedDuringAnEvaluationLeavesTheStateToItsThread) {
  auto set = std::make_unique<ProgramSet>();
  ExprId slow = set->Add(R"jq("orphan-started" | stderr | [range(0; 1000000)] | length)jq", {});
  CompileOk(set.get());
  std::string result;
  StderrProbe probe;
  std::thread evaluating([&, raw = set.get()] { result = Eval(*raw, slow, Json()); });
  probe.WaitFor("\"orphan-started\"");
  probe.Restore();
  set.reset();
  evaluating.join();
  EXPECT_EQ(result, "1000000");
}

TEST(ProgramSetThreadsTest, NewSetAtTheAddressOfADestroyedOneGetsItsOwnState) {
  alignas(ProgramSet) unsigned char storage[sizeof(ProgramSet)];
  Worker worker;
  std::string first;
  std::string second;

  auto* set = new (storage) ProgramSet();
  ExprId id = set->Add(R"jq("first")jq", {});
  CompileOk(set);
  worker.Run([&] { first = Eval(*set, id, Json()); });  // cached by the worker
  set->~ProgramSet();

  set = new (storage) ProgramSet();
  ASSERT_EQ(set->Add(R"jq("second")jq", {}), id);  // same address, same id
  CompileOk(set);
  worker.Run([&] { second = Eval(*set, id, Json()); });
  set->~ProgramSet();

  EXPECT_EQ(first, R"("first")");
  EXPECT_EQ(second, R"("second")");
}

TEST(ProgramSetThreadsTest, RecompilingGivesEveryThreadTheNewProgram) {
  ProgramSet set;
  ExprId a = set.Add(".a", {});
  CompileOk(&set);
  Json data = J(R"({"a": 1, "b": 2})");
  Worker worker;
  std::string before;
  worker.Run([&] { before = Eval(set, a, data); });
  ExprId b = set.Add(".b", {});
  CompileOk(&set);
  std::string after_a;
  std::string after_b;
  worker.Run([&] {
    after_a = Eval(set, a, data);
    after_b = Eval(set, b, data);
  });
  EXPECT_EQ(before, "1");
  EXPECT_EQ(after_a, "1");
  EXPECT_EQ(after_b, "2");
}

// More sets than a thread's cache holds: the set's own map finds the state again.
TEST(ProgramSetThreadsTest, ManySetsOnOneThread) {
  constexpr int kSets = 7;
  std::vector<std::unique_ptr<ProgramSet>> sets;
  std::vector<ExprId> ids;
  for (int s = 0; s < kSets; ++s) {
    sets.push_back(std::make_unique<ProgramSet>());
    ids.push_back(sets.back()->Add(". + " + std::to_string(s * 10), {}));
    CompileOk(sets.back().get());
  }
  int failures = 0;
  Worker worker;
  worker.Run([&] {
    for (int round = 0; round < 5; ++round) {
      for (int s = 0; s < kSets; ++s) {
        if (Eval(*sets[s], ids[s], Json::Number(round)) != std::to_string(round + s * 10)) {
          ++failures;
        }
      }
    }
  });
  EXPECT_EQ(failures, 0);
}

// States are made on the threads that evaluate and freed by whichever thread destroys the
// set (LeakSanitizer and ASan check both), here one that never evaluated.
TEST(ProgramSetThreadsTest, SetDestroyedOnAnotherThread) {
  auto set = std::make_unique<ProgramSet>();
  ExprId id = set->Add("{n: (. + 1)}", {});
  CompileOk(set.get());
  Worker first;
  Worker second;
  Worker destroyer;
  std::string a;
  std::string b;
  first.Run([&] { a = Eval(*set, id, Json::Number(1)); });
  second.Run([&] { b = Eval(*set, id, Json::Number(2)); });
  destroyer.Run([&] { set.reset(); });
  EXPECT_EQ(a, R"({"n":2})");
  EXPECT_EQ(b, R"({"n":3})");
}

// Every new thread compiles its own state; threads that exit leave it to the set.
TEST(ProgramSetThreadsTest, ManyShortLivedThreads) {
  ProgramSet set;
  ExprId id = set.Add(R"jq({id: ., label: "thread \(.)"})jq", {});
  CompileOk(&set);
  constexpr int kBatches = 4;
  constexpr int kPerBatch = 4;
  std::vector<int> failures(kBatches * kPerBatch, 0);
  for (int batch = 0; batch < kBatches; ++batch) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kPerBatch; ++t) {
      int n = batch * kPerBatch + t;
      threads.emplace_back([&set, &failures, id, n] {
        for (int i = 0; i < 3; ++i) {
          std::string want = R"({"id":)" + std::to_string(n) + R"(,"label":"thread )" +
                             std::to_string(n) + R"("})";
          if (Eval(set, id, Json::Number(n)) != want) ++failures[n];
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  for (size_t n = 0; n < failures.size(); ++n) EXPECT_EQ(failures[n], 0) << "thread " << n;
  EXPECT_EQ(Eval(set, id, Json::Number(-1)), R"({"id":-1,"label":"thread -1"})");
}

// SetSingleThreaded promises one thread, not necessarily the one that compiled.
TEST(ProgramSetThreadsTest, SingleThreadedSetEvaluatedOnAnotherThread) {
  ProgramSet set;
  set.SetSingleThreaded(true);
  ExprId id = set.Add(R"jq({a: (.x + 1), s: "lit"})jq", {});
  CompileOk(&set);
  std::vector<std::string> results;
  Worker worker;
  worker.Run([&] {
    for (int i = 0; i < 3; ++i) results.push_back(Eval(set, id, J(R"({"x": 1})")));
  });
  ASSERT_EQ(results.size(), 3u);
  for (const std::string& r : results) EXPECT_EQ(r, R"({"a":2,"s":"lit"})");
}

}  // namespace
}  // namespace baton::expr
