// FakeService: a scripted runtime::WorkflowService for the route tests.
//
// Synchronous methods return what the test put in the public fields and record their
// arguments. Asynchronous ones (StartInstance, WaitInstance, controls) complete on a
// separate "commit" thread, like the real runtime's group-commit thread, after an optional
// delay. Repair and Redrive complete there too, with what `repair` / `redrive` return. The fake
// notes any call made on that thread: the service forbids callbacks that call back into it
// synchronously, so reentrant_calls must stay 0.
//
// Thread-safety: set the fields before the calls; read the records after the answers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/service.h"

namespace baton::api::testing {

// Runs functions one after another on its own thread; the destructor drains and joins.
class CallbackThread {
 public:
  CallbackThread() : thread_([this] { Loop(); }) {}
  ~CallbackThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  CallbackThread(const CallbackThread&) = delete;
  CallbackThread& operator=(const CallbackThread&) = delete;

  void Run(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(fn));
    }
    cv_.notify_all();
  }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return done_ || !queue_.empty(); });
      if (queue_.empty()) return;
      std::function<void()> fn = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      fn();
      fn = nullptr;  // destroy captures off the lock too
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

class FakeService : public runtime::WorkflowService {
 public:
  FakeService() = default;
  ~FakeService() override = default;

  // --- scripted results -----------------------------------------------------------------
  std::function<Result<runtime::DeployResult>(const std::string&)> deploy =
      [](const std::string&) -> Result<runtime::DeployResult> {
    return runtime::DeployResult{"ns", "wf", "1.0.0", true};
  };
  std::function<Result<Json>()> list_definitions = [] { return Result<Json>(Json::Array()); };
  std::function<Result<Json>(const std::string&)> get_instance = [](const std::string& id) {
    Json v = Json::Object();
    v.Set("id", Json::String(id));
    v.Set("status", Json::String("running"));
    return Result<Json>(v);
  };
  std::function<Result<runtime::StartResult>(const runtime::StartRequest&)> start =
      [](const runtime::StartRequest&) -> Result<runtime::StartResult> {
    return runtime::StartResult{"01hx0000000000000000000000", true};
  };
  std::function<Status(const std::string&)> control = [](const std::string&) {
    return Status::Ok();
  };
  // Repair: the view it answers (default: {id, status: "running"}), or an error.
  std::function<Result<Json>(const std::string&, const runtime::RepairRequest&)> repair =
      [](const std::string& id, const runtime::RepairRequest&) {
        Json v = Json::Object();
        v.Set("id", Json::String(id));
        v.Set("status", Json::String("running"));
        return Result<Json>(v);
      };
  std::function<Result<Json>(const runtime::DeadLetterFilter&)> list_dead_letters =
      [](const runtime::DeadLetterFilter&) {
        Json out = Json::Object();
        out.Set("items", Json::Array());
        return Result<Json>(out);
      };
  // Redrive: default {dryRun, matched: 0, items: []}.
  std::function<Result<Json>(const runtime::DeadLetterFilter&, const runtime::RepairRequest&, bool)>
      redrive = [](const runtime::DeadLetterFilter&, const runtime::RepairRequest&, bool dry_run) {
        Json out = Json::Object();
        out.Set("dryRun", Json::Bool(dry_run));
        out.Set("matched", Json::Number(0));
        out.Set("items", Json::Array());
        return Result<Json>(out);
      };
  bool ready = true;
  std::chrono::milliseconds async_delay{0};

  // --- records --------------------------------------------------------------------------
  std::mutex mu;
  std::vector<std::string> calls;  // "Deploy", "GetInstance id", ...
  runtime::StartRequest last_start;
  runtime::ListFilter last_filter;
  std::string last_cancel_reason;
  int64_t last_wait_ms = 0;
  runtime::RepairRequest last_repair;                 // of Repair and Redrive
  runtime::DeadLetterFilter last_dead_letter_filter;  // of ListDeadLetters and Redrive
  bool last_dry_run = false;
  std::atomic<int> reentrant_calls{0};

  std::vector<std::string> Calls() {
    std::lock_guard<std::mutex> lock(mu);
    return calls;
  }

  // --- WorkflowService ------------------------------------------------------------------
  Result<runtime::DeployResult> Deploy(const std::string& content) override {
    Record("Deploy");
    return deploy(content);
  }
  Result<Json> ListDefinitions() override {
    Record("ListDefinitions");
    return list_definitions();
  }
  Result<Json> GetDefinitionVersions(const std::string& ns, const std::string& name) override {
    Record("GetDefinitionVersions " + ns + "/" + name);
    return Status::NotFound("workflow " + ns + "/" + name + " is not deployed");
  }
  Result<Json> GetDefinition(const std::string& ns, const std::string& name,
                             const std::string& version) override {
    Record("GetDefinition " + ns + "/" + name + ":" + version);
    Json v = Json::Object();
    v.Set("namespace", Json::String(ns));
    v.Set("name", Json::String(name));
    v.Set("version", Json::String(version));
    return v;
  }
  void StartInstance(runtime::StartRequest request,
                     std::function<void(Result<runtime::StartResult>)> done) override {
    Record("StartInstance " + request.workflow);
    Result<runtime::StartResult> result = start(request);
    {
      std::lock_guard<std::mutex> lock(mu);
      last_start = std::move(request);
    }
    Complete([done = std::move(done), result]() mutable { done(std::move(result)); });
  }
  void WaitInstance(const std::string& id, int64_t timeout_ms,
                    std::function<void(Result<runtime::ViewText>)> done) override {
    Record("WaitInstance " + id);
    {
      std::lock_guard<std::mutex> lock(mu);
      last_wait_ms = timeout_ms;
    }
    Complete([this, id, done = std::move(done)] {
      Result<Json> view = get_instance(id);
      if (!view.ok()) return done(view.status());
      view->Set("status", Json::String("completed"));
      done(runtime::MakeViewText(*view));
    });
  }
  Result<Json> GetInstance(const std::string& id) override {
    Record("GetInstance " + id);
    return get_instance(id);
  }
  Result<Json> ListInstances(const runtime::ListFilter& filter) override {
    Record("ListInstances");
    {
      std::lock_guard<std::mutex> lock(mu);
      last_filter = filter;
    }
    Json out = Json::Object();
    out.Set("items", Json::Array());
    return out;
  }
  Result<Json> GetHistory(const std::string& id) override {
    Record("GetHistory " + id);
    return Status::NotFound("instance " + id + " not found");
  }
  void Cancel(const std::string& id, std::string reason,
              std::function<void(Status)> done) override {
    Record("Cancel " + id);
    {
      std::lock_guard<std::mutex> lock(mu);
      last_cancel_reason = reason;
    }
    Status s = control(id);
    Complete([done = std::move(done), s] { done(s); });
  }
  void Suspend(const std::string& id, std::function<void(Status)> done) override {
    Record("Suspend " + id);
    Status s = control(id);
    Complete([done = std::move(done), s] { done(s); });
  }
  void Resume(const std::string& id, std::function<void(Status)> done) override {
    Record("Resume " + id);
    Status s = control(id);
    Complete([done = std::move(done), s] { done(s); });
  }
  void Repair(const std::string& id, runtime::RepairRequest request,
              std::function<void(Result<Json>)> done) override {
    Record("Repair " + request.action + " " + id);
    Result<Json> result = repair(id, request);
    {
      std::lock_guard<std::mutex> lock(mu);
      last_repair = std::move(request);
    }
    // Moved, not copied: a copied Json would share its reference count across threads.
    Complete([done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }
  Result<Json> ListDeadLetters(const runtime::DeadLetterFilter& filter) override {
    Record("ListDeadLetters");
    {
      std::lock_guard<std::mutex> lock(mu);
      last_dead_letter_filter = filter;
    }
    return list_dead_letters(filter);
  }
  void Redrive(const runtime::DeadLetterFilter& filter, runtime::RepairRequest request,
               bool dry_run, std::function<void(Result<Json>)> done) override {
    Record("Redrive " + request.action);
    Result<Json> result = redrive(filter, request, dry_run);
    {
      std::lock_guard<std::mutex> lock(mu);
      last_dead_letter_filter = filter;
      last_repair = std::move(request);
      last_dry_run = dry_run;
    }
    Complete([done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }
  bool Ready() const override { return ready; }

 private:
  void Record(std::string call) {
    if (std::this_thread::get_id() == commit_.id()) reentrant_calls.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(std::move(call));
  }
  void Complete(std::function<void()> fn) {
    commit_.Run([this, fn = std::move(fn)] {
      if (async_delay.count() > 0) std::this_thread::sleep_for(async_delay);
      fn();
    });
  }

  CallbackThread commit_;
};

}  // namespace baton::api::testing
