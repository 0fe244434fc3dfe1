// EngineHarness: drives the real interpreter with a simulated world, for unit tests.
// Time is a fake clock that jumps to the next due timer when nothing else can happen
// (no real time passes); activities are answered by a test-supplied Responder.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "engine/interpreter.h"
#include "engine/workflow.h"

namespace baton::testing {

struct Activity {
  std::string task_name;  // last segment of task_ref
  std::string task_ref;
  std::string kind;
  Json request;
  uint32_t attempt = 0;
  std::string idempotency_key;
  engine::Millis at = 0;  // fake time when it was started
};

// The answer to an activity: ok → output, otherwise error (a problem object).
struct Reply {
  bool ok = true;
  Json value;
  engine::Millis delay_ms = 0;  // answer after this much fake time
  bool never = false;           // never answer (to test timeouts/cancellation)
  static Reply Ok(Json v, engine::Millis delay = 0) { return {true, std::move(v), delay, false}; }
  static Reply Fail(Json e, engine::Millis delay = 0) {
    return {false, std::move(e), delay, false};
  }
  static Reply Never() { return {true, Json(), 0, true}; }
};

using Responder = std::function<Reply(const Activity&)>;

class EngineHarness {
 public:
  // Compiles `yaml`; fails the current test (ADD_FAILURE) on compile errors.
  explicit EngineHarness(const std::string& yaml, engine::Interpreter::Options options = {});

  void set_responder(Responder r) { responder_ = std::move(r); }

  // Hooks around every transition, e.g. to pass everything through the codec as the durable
  // server does. `EventHook` sees each event before Advance and may replace it;
  // `TransitionHook` sees each transition before the harness acts on it and may replace its
  // state, commands and lifecycle entries (the harness continues from what it leaves).
  using EventHook = std::function<void(engine::Event&)>;
  using TransitionHook = std::function<void(const engine::CompiledWorkflow&, engine::Transition&)>;
  void set_event_hook(EventHook hook) { event_hook_ = std::move(hook); }
  void set_transition_hook(TransitionHook hook) { transition_hook_ = std::move(hook); }
  // The compiled definition; null when the document did not compile.
  const engine::CompiledWorkflow* workflow() const { return wf_.get(); }

  // Starts at fake time 1,000,000 ms and runs until the instance ends or nothing can happen.
  void Run(Json input = Json::Object());
  // Delivers a CloudEvent (listen) and keeps running.
  void SendEvent(Json event);
  void Cancel();
  // Applies an operator's repair and keeps running.
  void Repair(engine::OperatorAction action);

  const engine::InstanceState& state() const { return state_; }
  std::string status() const { return engine::WorkflowStatusName(state_.status); }
  const Json& output() const { return state_.output; }
  const Json& error() const { return state_.error; }
  const std::vector<engine::LifecycleEntry>& lifecycle() const { return lifecycle_; }
  const std::vector<Activity>& activities() const { return activities_; }
  const std::vector<Json>& published() const { return published_; }
  const std::vector<uint64_t>& cancelled_activities() const { return cancelled_; }
  // Names of tasks in the order they started.
  std::vector<std::string> Started() const;
  // Fake times at which started timers were due, relative to when they were started.
  const std::vector<engine::Millis>& timer_delays() const { return timer_delays_; }
  engine::Millis now() const { return now_; }
  size_t advances() const { return advances_; }

 private:
  void Apply(engine::EventBody body);
  void Drain();

  std::shared_ptr<const engine::CompiledWorkflow> wf_;
  engine::Interpreter interpreter_;
  engine::InstanceState state_;
  Responder responder_;
  EventHook event_hook_;
  TransitionHook transition_hook_;
  engine::Millis now_ = 1000000;
  std::multimap<engine::Millis, engine::EventBody> scheduled_;  // future events
  std::map<uint64_t, engine::Millis> timers_;                   // live timers
  std::vector<engine::LifecycleEntry> lifecycle_;
  std::vector<Activity> activities_;
  std::vector<Json> published_;
  std::vector<uint64_t> cancelled_;
  std::vector<engine::Millis> timer_delays_;
  size_t advances_ = 0;
};

}  // namespace baton::testing
