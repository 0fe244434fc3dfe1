#include "runtime/local_runner.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <unordered_map>

#include "engine/error.h"
#include "engine/interpreter.h"
#include "executors/registry.h"
#include "runtime/definition_cache.h"

namespace baton::runtime {

namespace {

engine::Millis NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Results from executor threads. Values arrive unshared (see executors/executor.h).
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<uint64_t, engine::EventBody>> results;  // global activity id → result
  bool cancel = false;
};

}  // namespace

struct LocalRunner::Impl {
  struct Instance {
    std::shared_ptr<const engine::CompiledWorkflow> wf;
    engine::InstanceState state;
    int depth = 0;
    uint64_t parent = 0;           // instance key of the parent, 0 = top level
    uint64_t parent_activity = 0;  // the parent's local activity id
    bool await = true;
  };
  struct Timer {
    engine::Millis due;
    uint64_t instance;
    uint64_t timer_id;
    bool operator>(const Timer& o) const { return due > o.due; }
  };

  explicit Impl(RunOptions o) : options(std::move(o)), inbox(std::make_shared<Inbox>()) {
    engine::Interpreter::Options io;
    io.secrets = options.secrets;
    Json runtime = Json::Object();
    runtime.Set("name", Json::String("baton"));
    runtime.Set("version", Json::String("0.1.0"));
    runtime.Set("metadata", Json::Object());
    io.runtime = runtime;
    interpreter = engine::Interpreter(io);
    for (auto& e : executors::MakeDefaultExecutors(options.executor_options)) {
      registry.Add(std::move(e));
    }
  }

  ~Impl() {
    // Executors join their threads in their destructors; stop work first.
    for (auto& [global, where] : activities) {
      if (auto* ex = registry.Find(where.kind)) ex->Cancel(global);
    }
  }

  RunOptions options;
  std::shared_ptr<Inbox> inbox;
  engine::Interpreter interpreter;
  executors::ExecutorRegistry registry;
  std::map<std::string, std::shared_ptr<const engine::CompiledWorkflow>> catalog;  // ns/name/ver
  std::map<uint64_t, Instance> instances;
  uint64_t next_instance = 1;
  struct ActivityRef {
    uint64_t instance;
    uint64_t local_id;
    std::string kind;
  };
  std::unordered_map<uint64_t, ActivityRef> activities;  // global id → where it belongs
  uint64_t next_global = 1;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::set<std::pair<uint64_t, uint64_t>> live_timers;     // (instance, timer id)
  std::deque<std::pair<uint64_t, engine::Event>> pending;  // events to apply, in order
  std::mt19937_64 rng{std::random_device{}()};
  RunResult result;

  std::string NewInstanceId() {
    static const char* kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string id;
    for (int i = 0; i < 16; ++i) id += kAlphabet[rng() % 36];
    return id;
  }

  std::shared_ptr<const engine::CompiledWorkflow> FindWorkflow(const std::string& ns,
                                                               const std::string& name,
                                                               const std::string& version) {
    if (version != "latest") {
      auto it = catalog.find(ns + "/" + name + "/" + version);
      return it == catalog.end() ? nullptr : it->second;
    }
    std::shared_ptr<const engine::CompiledWorkflow> best;
    std::string prefix = ns + "/" + name + "/";
    for (auto& [key, wf] : catalog) {
      if (key.rfind(prefix, 0) == 0 && (!best || VersionLess(best->version, wf->version)))
        best = wf;
    }
    return best;
  }

  uint64_t StartInstance(std::shared_ptr<const engine::CompiledWorkflow> wf, Json input, int depth,
                         uint64_t parent, uint64_t parent_activity, bool await) {
    uint64_t key = next_instance++;
    Instance inst;
    inst.wf = std::move(wf);
    inst.depth = depth;
    inst.parent = parent;
    inst.parent_activity = parent_activity;
    inst.await = await;
    instances.emplace(key, std::move(inst));
    engine::InstanceStarted started;
    started.instance_id = NewInstanceId();
    started.input = std::move(input);
    started.seed = rng();
    pending.emplace_back(key, engine::Event{NowMillis(), std::move(started)});
    return key;
  }

  void Apply(uint64_t key, const engine::Event& event) {
    auto it = instances.find(key);
    if (it == instances.end()) return;
    Instance& inst = it->second;
    bool was_terminal = engine::IsTerminal(inst.state.status);
    auto t = interpreter.Advance(*inst.wf, std::move(inst.state), event);
    if (!t.ok()) {
      // The engine's own failure: fault the instance so nothing hangs.
      inst.state = engine::InstanceState();
      inst.state.status = engine::WorkflowStatus::kFaulted;
      inst.state.error = engine::MakeError(engine::ErrorKind::kRuntime, t.status().message());
    } else {
      inst.state = std::move(t->state);
      for (auto& entry : t->lifecycle) {
        if (options.on_lifecycle) options.on_lifecycle(entry, inst.depth);
        if (inst.depth == 0) result.lifecycle.push_back(std::move(entry));
      }
      for (auto& command : t->commands) Execute(key, std::move(command));
    }
    if (!was_terminal && engine::IsTerminal(inst.state.status)) Finished(key);
  }

  void Finished(uint64_t key) {
    Instance& inst = instances.at(key);
    if (inst.parent == 0 || !inst.await) return;
    engine::Event e{NowMillis(), engine::TaskSucceeded{}};
    if (inst.state.status == engine::WorkflowStatus::kCompleted) {
      e.body = engine::TaskSucceeded{inst.parent_activity, inst.state.output};
    } else {
      e.body = engine::TaskFailed{inst.parent_activity, inst.state.error};
    }
    pending.emplace_back(inst.parent, std::move(e));
  }

  void Execute(uint64_t key, engine::Command command) {
    std::visit([&](auto& c) { Do(key, c); }, command);
  }

  void Do(uint64_t key, engine::ExecuteTask& c) {
    executors::Executor* ex = registry.Find(c.kind);
    if (!ex) {
      pending.emplace_back(
          key,
          engine::Event{NowMillis(),
                        engine::TaskFailed{
                            c.activity_id,
                            engine::MakeError(engine::ErrorKind::kRuntime, 501, "Not supported",
                                              "no executor for '" + c.kind + "'", c.task_ref)}});
      return;
    }
    uint64_t global = next_global++;
    activities[global] = {key, c.activity_id, c.kind};
    engine::ExecuteTask task = c;
    task.activity_id = global;
    task.request = c.request.DeepCopy();
    std::shared_ptr<Inbox> box = inbox;
    ex->Start(std::move(task), [box, global](engine::EventBody body) {
      std::lock_guard<std::mutex> lock(box->mu);
      box->results.emplace_back(global, std::move(body));
      box->cv.notify_one();
    });
  }

  void Do(uint64_t key, engine::StartChild& c) {
    auto wf = FindWorkflow(c.namespace_, c.name, c.version);
    if (!wf) {
      pending.emplace_back(
          key, engine::Event{NowMillis(),
                             engine::TaskFailed{
                                 c.activity_id,
                                 engine::MakeError(engine::ErrorKind::kConfiguration, 404,
                                                   "Workflow not found",
                                                   "no workflow " + c.namespace_ + "/" + c.name +
                                                       ":" + c.version + " in the catalog",
                                                   c.task_ref)}});
      return;
    }
    int depth = instances.at(key).depth + 1;
    if (depth > 64) {
      pending.emplace_back(
          key,
          engine::Event{NowMillis(),
                        engine::TaskFailed{
                            c.activity_id,
                            engine::MakeError(engine::ErrorKind::kRuntime, 508, "Too deep",
                                              "sub-workflows nest deeper than 64", c.task_ref)}});
      return;
    }
    StartInstance(wf, c.input, depth, key, c.activity_id, c.await);
  }

  void Do(uint64_t, engine::CancelActivity& c) {
    for (auto& [global, where] : activities) {
      if (where.local_id == c.activity_id) {
        if (auto* ex = registry.Find(where.kind)) ex->Cancel(global);
      }
    }
    // Children started for this activity are cancelled too.
    for (auto& [key, inst] : instances) {
      if (inst.parent_activity == c.activity_id && !engine::IsTerminal(inst.state.status)) {
        pending.emplace_back(
            key, engine::Event{NowMillis(), engine::CancelRequested{"parent cancelled the task"}});
      }
    }
  }

  void Do(uint64_t key, engine::StartTimer& c) {
    timers.push(Timer{c.due_at, key, c.timer_id});
    live_timers.emplace(key, c.timer_id);
  }

  void Do(uint64_t key, engine::CancelTimer& c) { live_timers.erase({key, c.timer_id}); }

  void Do(uint64_t, engine::PublishEvent& c) {
    result.published_events.push_back(c.event);
    for (auto& [key, inst] : instances) {
      if (!engine::IsTerminal(inst.state.status)) {
        pending.emplace_back(key, engine::Event{NowMillis(), engine::CloudEventReceived{c.event}});
      }
    }
  }

  void Do(uint64_t, engine::Subscribe&) {}
  void Do(uint64_t, engine::Unsubscribe&) {}

  Result<RunResult> RunToEnd(std::shared_ptr<const engine::CompiledWorkflow> wf) {
    // Every evaluation happens on this thread (executors get deep copies).
    wf->programs->SetSingleThreaded(true);
    for (auto& [key, child] : catalog) child->programs->SetSingleThreaded(true);
    uint64_t top = StartInstance(std::move(wf), options.input, 0, 0, 0, true);
    engine::Millis deadline = options.deadline_ms > 0 ? NowMillis() + options.deadline_ms : 0;
    bool cancel_sent = false;
    bool deadline_hit = false;
    while (true) {
      while (!pending.empty()) {
        auto [key, event] = std::move(pending.front());
        pending.pop_front();
        Apply(key, event);
      }
      const Instance& t = instances.at(top);
      if (engine::IsTerminal(t.state.status)) break;
      // Wait for a result, a due timer, cancellation or the deadline.
      engine::Millis now = NowMillis();
      while (!timers.empty() &&
             !live_timers.count({timers.top().instance, timers.top().timer_id})) {
        timers.pop();
      }
      if (!timers.empty() && timers.top().due <= now) {
        Timer timer = timers.top();
        timers.pop();
        live_timers.erase({timer.instance, timer.timer_id});
        pending.emplace_back(timer.instance,
                             engine::Event{now, engine::TimerFired{timer.timer_id}});
        continue;
      }
      engine::Millis wake = timers.empty() ? now + 1000 : timers.top().due;
      if (deadline && deadline < wake) wake = deadline;
      std::unique_lock<std::mutex> lock(inbox->mu);
      if (inbox->results.empty() && !inbox->cancel) {
        inbox->cv.wait_for(lock,
                           std::chrono::milliseconds(std::max<engine::Millis>(0, wake - now)));
      }
      bool cancel = inbox->cancel;
      auto results = std::move(inbox->results);
      inbox->results.clear();
      lock.unlock();
      for (auto& [global, body] : results) {
        auto it = activities.find(global);
        if (it == activities.end()) continue;
        uint64_t key = it->second.instance;
        uint64_t local = it->second.local_id;
        activities.erase(it);
        std::visit(
            [&](auto& b) {
              using T = std::decay_t<decltype(b)>;
              if constexpr (std::is_same_v<T, engine::TaskSucceeded> ||
                            std::is_same_v<T, engine::TaskFailed>) {
                b.activity_id = local;
              }
            },
            body);
        pending.emplace_back(key, engine::Event{NowMillis(), std::move(body)});
      }
      if (!deadline_hit && deadline && NowMillis() >= deadline) {
        deadline_hit = true;
        cancel = true;
      }
      if (cancel && !cancel_sent) {
        cancel_sent = true;
        for (auto& [key, inst] : instances) {
          if (!engine::IsTerminal(inst.state.status)) {
            pending.emplace_back(
                key, engine::Event{NowMillis(), engine::CancelRequested{
                                                    deadline_hit ? "deadline exceeded"
                                                                 : "cancelled by the user"}});
          }
        }
      }
    }
    // Stop whatever children or activities are still running.
    for (auto& [global, where] : activities) {
      if (auto* ex = registry.Find(where.kind)) ex->Cancel(global);
    }
    const Instance& t = instances.at(top);
    if (deadline_hit) {
      return Status::DeadlineExceeded("the workflow did not finish within " +
                                      std::to_string(options.deadline_ms) + " ms");
    }
    result.status = engine::WorkflowStatusName(t.state.status);
    result.output = t.state.output;
    result.error = t.state.error;
    return std::move(result);
  }
};

LocalRunner::LocalRunner(RunOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
LocalRunner::~LocalRunner() = default;

Status LocalRunner::AddToCatalog(const model::Document& doc) {
  std::vector<model::Diagnostic> diagnostics;
  auto wf = engine::Compile(doc, &diagnostics);
  if (!wf.ok()) return wf.status();
  const auto& w = *wf;
  impl_->catalog[w->namespace_ + "/" + w->name + "/" + w->version] = w;
  return Status::Ok();
}

Result<RunResult> LocalRunner::Run(const model::Document& doc) {
  std::vector<model::Diagnostic> diagnostics;
  auto wf = engine::Compile(doc, &diagnostics);
  if (!wf.ok()) return wf.status();
  const auto& w = *wf;
  impl_->catalog.emplace(w->namespace_ + "/" + w->name + "/" + w->version, w);
  return impl_->RunToEnd(w);
}

Result<RunResult> LocalRunner::Run(std::shared_ptr<const engine::CompiledWorkflow> workflow) {
  const auto& w = workflow;
  impl_->catalog.emplace(w->namespace_ + "/" + w->name + "/" + w->version, w);
  return impl_->RunToEnd(std::move(workflow));
}

void LocalRunner::Cancel() {
  std::lock_guard<std::mutex> lock(impl_->inbox->mu);
  impl_->inbox->cancel = true;
  impl_->inbox->cv.notify_one();
}

}  // namespace baton::runtime
