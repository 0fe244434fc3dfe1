#include "cli/run_command.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "cli/validate_command.h"
#include "runtime/local_runner.h"

namespace baton::cli {

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Live progress on stderr: one line per task start/end, with durations.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}

  void On(const engine::LifecycleEntry& e, int depth) {
    if (!enabled_) return;
    std::string indent(static_cast<size_t>(depth) * 2, ' ');
    std::string key = std::to_string(depth) + e.task_ref.str();
    switch (e.kind) {
      case engine::LifecycleKind::kTaskStarted:
        starts_[key] = e.time;
        std::fprintf(stderr, "%s▶ %s (%s)\n", indent.c_str(), e.task_name.c_str(),
                     e.task_ref.c_str());
        break;
      case engine::LifecycleKind::kTaskCompleted:
        std::fprintf(stderr, "%s✔ %s %s\n", indent.c_str(), e.task_name.c_str(),
                     Elapsed(key, e.time).c_str());
        break;
      case engine::LifecycleKind::kTaskFaulted:
        std::fprintf(stderr, "%s✖ %s %s: %s\n", indent.c_str(), e.task_name.c_str(),
                     Elapsed(key, e.time).c_str(), Describe(e.data).c_str());
        break;
      case engine::LifecycleKind::kTaskRetried:
        std::fprintf(stderr, "%s↻ %s retry %u\n", indent.c_str(), e.task_name.c_str(), e.attempt);
        break;
      case engine::LifecycleKind::kTaskCancelled:
        std::fprintf(stderr, "%s■ %s cancelled\n", indent.c_str(), e.task_name.c_str());
        break;
      case engine::LifecycleKind::kTaskSkipped:
        std::fprintf(stderr, "%s· %s skipped\n", indent.c_str(), e.task_name.c_str());
        break;
      case engine::LifecycleKind::kTaskWaiting:
        std::fprintf(stderr, "%s… %s waiting\n", indent.c_str(), e.task_name.c_str());
        break;
      case engine::LifecycleKind::kTaskRetrying:
        std::fprintf(stderr, "%s… %s next attempt in %lld ms\n", indent.c_str(),
                     e.task_name.c_str(), static_cast<long long>(e.data.Get("delayMs").AsNumber()));
        break;
      case engine::LifecycleKind::kTaskCompensated:
        std::fprintf(stderr, "%s↶ %s compensated\n", indent.c_str(), e.task_name.c_str());
        break;
      case engine::LifecycleKind::kTaskNotCompensable:
        std::fprintf(stderr, "%s· %s has no compensation\n", indent.c_str(), e.task_name.c_str());
        break;
      case engine::LifecycleKind::kWorkflowCompensating:
      case engine::LifecycleKind::kWorkflowRepaired:
        if (depth == 0) std::fprintf(stderr, "%s\n", engine::LifecycleKindName(e.kind));
        break;
      case engine::LifecycleKind::kWorkflowStarted:
        workflow_start_ = e.time;
        break;
      case engine::LifecycleKind::kWorkflowCompleted:
      case engine::LifecycleKind::kWorkflowFaulted:
      case engine::LifecycleKind::kWorkflowCancelled:
      case engine::LifecycleKind::kWorkflowCompensated:
      case engine::LifecycleKind::kWorkflowCompensationFailed:
        if (depth == 0) {
          std::fprintf(stderr, "%s %s in %lld ms\n", engine::LifecycleKindName(e.kind),
                       e.kind == engine::LifecycleKind::kWorkflowCompleted ? "✔" : "✖",
                       static_cast<long long>(e.time - workflow_start_));
        }
        break;
    }
  }

 private:
  std::string Elapsed(const std::string& key, engine::Millis end) {
    auto it = starts_.find(key);
    if (it == starts_.end()) return "";
    return "(" + std::to_string(end - it->second) + " ms)";
  }
  static std::string Describe(const Json& error) {
    std::string s(error.Get("title").AsString());
    if (error.Has("detail")) s += ": " + std::string(error.Get("detail").AsString());
    return s;
  }

  bool enabled_;
  std::map<std::string, engine::Millis> starts_;
  engine::Millis workflow_start_ = 0;
};

}  // namespace

int RunRun(const RunArgs& args) {
  std::vector<std::string> problems;
  auto doc = LoadValidDocument(args.file, false, &problems);
  for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
  if (!doc) return 1;

  runtime::RunOptions options;
  std::string input_text = args.input_json;
  if (!args.input_file.empty() && !ReadFile(args.input_file, &input_text)) {
    std::fprintf(stderr, "baton: cannot read input file '%s'\n", args.input_file.c_str());
    return 2;
  }
  if (!input_text.empty()) {
    auto input = Json::Parse(input_text);
    if (!input.ok()) {
      std::fprintf(stderr, "baton: invalid --input JSON: %s\n", input.status().message().c_str());
      return 2;
    }
    options.input = std::move(input).value();
  }
  for (const auto& s : args.secrets) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "baton: --secret must be NAME=VALUE, got '%s'\n", s.c_str());
      return 2;
    }
    options.secrets.Set(s.substr(0, eq), Json::String(s.substr(eq + 1)));
  }
  Progress progress(!args.quiet && isatty(STDERR_FILENO));
  options.on_lifecycle = [&](const engine::LifecycleEntry& e, int depth) { progress.On(e, depth); };

  // Ctrl-C and SIGTERM are taken by a watcher thread (not a handler), which cancels the run.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  runtime::LocalRunner runner(std::move(options));
  for (const auto& dir : args.catalog_dirs) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
      std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".yaml" && ext != ".yml" && ext != ".json")) continue;
      std::vector<std::string> catalog_problems;
      auto child = LoadValidDocument(entry.path().string(), false, &catalog_problems);
      if (!child) {
        for (const auto& p : catalog_problems) std::fprintf(stderr, "%s\n", p.c_str());
        return 1;
      }
      Status st = runner.AddToCatalog(child->document);
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", st.message().c_str());
        return 1;
      }
    }
    if (ec) {
      std::fprintf(stderr, "baton: cannot read catalog directory '%s': %s\n", dir.c_str(),
                   ec.message().c_str());
      return 2;
    }
  }

  std::atomic<bool> interrupted{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != SIGUSR1) {
      interrupted = true;
      runner.Cancel();
    }
  });
  auto result = runner.Run(doc->workflow);
  pthread_kill(watcher.native_handle(), SIGUSR1);
  watcher.join();

  if (!result.ok()) {
    std::fprintf(stderr, "baton: %s\n", result.status().message().c_str());
    return 1;
  }
  const runtime::RunResult& r = *result;
  if (args.output == "json") {
    Json out = Json::Object();
    out.Set("status", Json::String(r.status));
    if (r.status == "completed") {
      out.Set("output", r.output);
    } else {
      out.Set("error", r.error);
    }
    std::printf("%s\n", out.Dump().c_str());
  } else if (r.status == "completed") {
    std::printf("%s\n", r.output.Dump(true).c_str());
  } else {
    std::fprintf(stderr, "baton: workflow %s: %s\n", r.status.c_str(), r.error.Dump(true).c_str());
  }
  if (r.status == "completed") return 0;
  return interrupted ? 130 : 1;
}

}  // namespace baton::cli
