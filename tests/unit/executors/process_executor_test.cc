#include "executors/process/process_executor.h"

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/error.h"

namespace baton::executors {
namespace {

using std::chrono_literals::operator""s;
using std::chrono_literals::operator""ms;

class Completions {
 public:
  Completion Callback() {
    return [this](engine::EventBody body) {
      std::lock_guard<std::mutex> lock(mu_);
      results_.push_back(std::move(body));
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n, std::chrono::seconds timeout = 30s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return results_.size() >= n; });
  }
  std::vector<engine::EventBody> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(results_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<engine::EventBody> results_;
};

struct Outcome {
  bool arrived = false;
  bool ok = false;
  Json value;  // output or error
};

Outcome Await(Completions& completions, uint64_t activity_id, std::chrono::seconds timeout = 30s) {
  Outcome outcome;
  if (!completions.WaitFor(1, timeout)) return outcome;
  std::vector<engine::EventBody> results = completions.Take();
  EXPECT_EQ(results.size(), 1u);
  outcome.arrived = true;
  if (auto* ok = std::get_if<engine::TaskSucceeded>(&results[0])) {
    EXPECT_EQ(ok->activity_id, activity_id);
    outcome.ok = true;
    outcome.value = ok->output;
  } else if (auto* failed = std::get_if<engine::TaskFailed>(&results[0])) {
    EXPECT_EQ(failed->activity_id, activity_id);
    outcome.value = failed->error;
  }
  return outcome;
}

Json Parse(std::string_view text) {
  Result<Json> parsed = Json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? parsed.value() : Json();
}

std::string ErrorType(engine::ErrorKind kind) {
  return std::string(engine::kErrorTypeBase) + engine::ErrorKindName(kind);
}

// True once `pid` no longer runs: gone, or a zombie waiting for its (new) parent.
bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// Polls a condition that another process brings about (no event to wait on).
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = 10'000ms) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

class ProcessExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "baton-proc-test-XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    executor_.reset();
    std::filesystem::remove_all(dir_);
  }

  ProcessExecutor& executor(ExecutorOptions options = {}) {
    if (!executor_) executor_ = std::make_unique<ProcessExecutor>(std::move(options));
    return *executor_;
  }

  engine::ExecuteTask Task(std::string kind, Json request, int64_t timeout_ms = 0) {
    engine::ExecuteTask task;
    task.activity_id = ++next_id_;
    task.kind = std::move(kind);
    task.request = std::move(request);
    task.idempotency_key = "inst-1/do/0/run/0";
    task.timeout_ms = timeout_ms;
    return task;
  }

  Outcome Run(std::string kind, Json request, int64_t timeout_ms = 0) {
    Completions completions;
    executor().Start(Task(std::move(kind), std::move(request), timeout_ms), completions.Callback());
    return Await(completions, next_id_);
  }

  Outcome Shell(std::string_view request_json, int64_t timeout_ms = 0) {
    return Run("shell", Parse(request_json), timeout_ms);
  }

  // Reads a pid the child wrote to `file` (waits until it is there).
  pid_t WaitForPid(const std::string& file) {
    pid_t pid = 0;
    Eventually([&] {
      std::ifstream in(file);
      return static_cast<bool>(in >> pid) && pid > 0;
    });
    return pid;
  }

  std::string dir_;
  std::unique_ptr<ProcessExecutor> executor_;
  uint64_t next_id_ = 0;
};

TEST_F(ProcessExecutorTest, EchoReturnsTrimmedStdout) {
  Outcome out = Shell(R"({"command":"echo hello; echo world"})");
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value, Json::String("hello\nworld"));
}

TEST_F(ProcessExecutorTest, StdinIsPipedThenClosed) {
  Outcome out = Shell(R"({"command":"input=$(cat); echo \"STDIN was: $input\"",
                          "stdin":"Hello World"})");
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value, Json::String("STDIN was: Hello World"));
  Outcome none = Shell(R"({"command":"cat; echo done"})");
  ASSERT_TRUE(none.ok) << none.value.Dump();
  EXPECT_EQ(none.value, Json::String("done"));
}

TEST_F(ProcessExecutorTest, LargeStdinAndStdout) {
  std::string big(1 << 20, 'x');
  Json request = Json::Object();
  request.Set("command", Json::String("cat"));
  request.Set("stdin", Json::String(big));
  Outcome out = Run("shell", request);
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.value.AsString().size(), big.size());
}

TEST_F(ProcessExecutorTest, ArgumentsArePositional) {
  Outcome out =
      Shell(R"({"command":"echo \"ARGS are $1 $2 ($#)\"","arguments":["Foo","Bar baz"]})");
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value, Json::String("ARGS are Foo Bar baz (2)"));
  Outcome object = Shell(R"({"command":"echo \"$1|$2\"","arguments":{"user":"ann","n":3}})");
  ASSERT_TRUE(object.ok) << object.value.Dump();
  EXPECT_EQ(object.value, Json::String("user=ann|n=3"));
}

TEST_F(ProcessExecutorTest, EnvironmentLayers) {
  ExecutorOptions options;
  options.base_environment = {{"BASE_VAR", "from-base"}, {"OVERRIDDEN", "base"}};
  executor(options);
  Outcome out = Shell(R"({"command":"echo \"$BASE_VAR $OVERRIDDEN $FOO $BATON_IDEMPOTENCY_KEY\"",
                          "environment":{"FOO":"bar","OVERRIDDEN":"task"}})");
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value, Json::String("from-base task bar inst-1/do/0/run/0"));
  // The parent's environment is inherited.
  setenv("BATON_TEST_PARENT_VAR", "inherited", 1);
  Outcome parent = Shell(R"({"command":"echo $BATON_TEST_PARENT_VAR"})");
  ASSERT_TRUE(parent.ok);
  EXPECT_EQ(parent.value, Json::String("inherited"));
}

TEST_F(ProcessExecutorTest, ReturnModes) {
  const char* command = R"("echo out; echo err >&2; exit 3")";
  Outcome code = Shell(std::string(R"({"command":)") + command + R"(,"return":"code"})");
  ASSERT_TRUE(code.ok) << code.value.Dump();
  EXPECT_EQ(code.value, Json::Number(3));

  Outcome all = Shell(std::string(R"({"command":)") + command + R"(,"return":"all"})");
  ASSERT_TRUE(all.ok) << all.value.Dump();
  EXPECT_EQ(all.value, Parse(R"({"code":3,"stdout":"out","stderr":"err"})"));

  Outcome err = Shell(R"({"command":"echo e1 >&2","return":"stderr"})");
  ASSERT_TRUE(err.ok);
  EXPECT_EQ(err.value, Json::String("e1"));

  Outcome none = Shell(R"({"command":"echo ignored","return":"none"})");
  ASSERT_TRUE(none.ok);
  EXPECT_TRUE(none.value.IsNull());
}

TEST_F(ProcessExecutorTest, NonZeroExitIsARuntimeError) {
  Outcome out = Shell(R"({"command":"echo partial; echo 'disk full' >&2; exit 7"})");
  ASSERT_TRUE(out.arrived);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kRuntime));
  EXPECT_EQ(out.value.Get("status").AsInt(), 500);
  std::string detail(out.value.Get("detail").AsString());
  EXPECT_NE(detail.find("code 7"), std::string::npos) << detail;
  EXPECT_NE(detail.find("disk full"), std::string::npos) << detail;
}

TEST_F(ProcessExecutorTest, TimeoutKillsTheProcessGroup) {
  std::string leader_file = dir_ + "/leader";
  std::string child_file = dir_ + "/child";
  Json request = Json::Object();
  // The shell starts a background grandchild and waits: both must die.
  request.Set("command", Json::String("echo $$ > " + leader_file + "; sleep 30 & echo $! > " +
                                      child_file + "; wait"));
  auto started = std::chrono::steady_clock::now();
  Outcome out = Run("shell", request, /*timeout_ms=*/500);
  ASSERT_TRUE(out.arrived);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kTimeout));
  EXPECT_EQ(out.value.Get("status").AsInt(), 408);
  pid_t leader = WaitForPid(leader_file);
  pid_t child = WaitForPid(child_file);
  ASSERT_GT(leader, 0);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(ProcessGone(leader));
  EXPECT_TRUE(Eventually([&] { return ProcessGone(child); }));
}

TEST_F(ProcessExecutorTest, SigtermIgnoringChildIsKilledAfterGrace) {
  std::string pid_file = dir_ + "/pid";
  Json request = Json::Object();
  request.Set("command",
              Json::String("trap '' TERM; echo $$ > " + pid_file + "; while :; do sleep 1; done"));
  Outcome out = Run("shell", request, /*timeout_ms=*/300);
  ASSERT_TRUE(out.arrived);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("status").AsInt(), 408);
  pid_t pid = WaitForPid(pid_file);
  EXPECT_TRUE(ProcessGone(pid));
}

TEST_F(ProcessExecutorTest, CancelStopsTheProcess) {
  std::string pid_file = dir_ + "/pid";
  Json request = Json::Object();
  request.Set("command", Json::String("echo $$ > " + pid_file + "; exec sleep 30"));
  Completions completions;
  engine::ExecuteTask task = Task("shell", request);
  uint64_t id = task.activity_id;
  executor().Start(std::move(task), completions.Callback());
  pid_t pid = WaitForPid(pid_file);
  ASSERT_GT(pid, 0);
  auto cancelled_at = std::chrono::steady_clock::now();
  executor().Cancel(id);
  Outcome out = Await(completions, id, 10s);
  ASSERT_TRUE(out.arrived);
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 3s);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kRuntime));
  EXPECT_EQ(out.value.Get("title").AsString(), "Cancelled");
  EXPECT_TRUE(ProcessGone(pid));
}

TEST_F(ProcessExecutorTest, AwaitFalseCompletesAtOnce) {
  std::string marker = dir_ + "/marker";
  Json request = Json::Object();
  request.Set("command", Json::String("sleep 0.3; echo done > " + marker));
  request.Set("await", Json::Bool(false));
  Outcome out = Run("shell", request);
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_TRUE(out.value.IsNull());
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_TRUE(Eventually([&] { return std::filesystem::exists(marker); }));
}

TEST_F(ProcessExecutorTest, PythonScript) {
  Outcome out = Run("script", Parse(R"json({"language":"python",
      "code":"import os, sys\nprint(sys.argv[1], os.environ['FOO'], sys.stdin.read())",
      "arguments":["hello"], "environment":{"FOO":"bar"}, "stdin":"in"})json"));
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value, Json::String("hello bar in"));
}

TEST_F(ProcessExecutorTest, NodeScriptWithModuleSyntax) {
  // The spec's run-script-with-stdin-and-arguments example.
  Outcome out = Run("script", Parse(R"json({"language":"javascript",
      "code":"import { readFileSync } from 'node:fs';\nconst stdin = readFileSync(process.stdin.fd, 'utf8');\nconst [_, __, arg] = process.argv;\nconsole.log(stdin, arg, process.env.foo);",
      "arguments":["hello"], "environment":{"foo":"bar"}, "stdin":"Hello Workflow"})json"));
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value, Json::String("Hello Workflow hello bar"));
  Outcome common = Run("script", Parse(R"json({"language":"js",
      "code":"const os = require('os'); console.log(JSON.stringify({n: 1 + 1}))"})json"));
  ASSERT_TRUE(common.ok) << common.value.Dump();
  EXPECT_EQ(common.value, Json::String(R"({"n":2})"));
}

TEST_F(ProcessExecutorTest, ScriptSourceFromFile) {
  std::string path = dir_ + "/hello.py";
  std::ofstream(path) << "print('from file')\n";
  Json request = Json::Object();
  request.Set("language", Json::String("python"));
  Json source = Json::Object();
  source.Set("endpoint", Json::String("file://" + path));
  request.Set("source", source);
  Outcome out = Run("script", request);
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value, Json::String("from file"));
}

TEST_F(ProcessExecutorTest, ConfigurationErrors) {
  Outcome lang = Run("script", Parse(R"({"language":"ruby","code":"puts 1"})"));
  ASSERT_TRUE(lang.arrived);
  ASSERT_FALSE(lang.ok);
  EXPECT_EQ(lang.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kConfiguration));
  Outcome ret = Shell(R"({"command":"true","return":"everything"})");
  ASSERT_FALSE(ret.ok);
  EXPECT_EQ(ret.value.Get("status").AsInt(), 400);
  Outcome missing = Shell(R"({"arguments":["x"]})");
  ASSERT_FALSE(missing.ok);
  EXPECT_EQ(missing.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kConfiguration));
}

TEST_F(ProcessExecutorTest, ManyConcurrentProcesses) {
  constexpr int kCount = 50;
  Completions completions;
  for (int i = 0; i < kCount; ++i) {
    Json request = Json::Object();
    request.Set("command", Json::String("echo " + std::to_string(i)));
    executor().Start(Task("shell", request), completions.Callback());
  }
  ASSERT_TRUE(completions.WaitFor(kCount, 60s));
  for (auto& result : completions.Take()) {
    ASSERT_TRUE(std::holds_alternative<engine::TaskSucceeded>(result));
  }
}

TEST_F(ProcessExecutorTest, DestructorCancelsRunningProcesses) {
  std::string pid_file = dir_ + "/pid";
  Json request = Json::Object();
  request.Set("command", Json::String("echo $$ > " + pid_file + "; exec sleep 30"));
  Completions completions;
  engine::ExecuteTask task = Task("shell", request);
  uint64_t id = task.activity_id;
  executor().Start(std::move(task), completions.Callback());
  pid_t pid = WaitForPid(pid_file);
  executor_.reset();
  Outcome out = Await(completions, id, 1s);
  ASSERT_TRUE(out.arrived);
  EXPECT_EQ(out.value.Get("title").AsString(), "Cancelled");
  EXPECT_TRUE(ProcessGone(pid));
}

}  // namespace
}  // namespace baton::executors
