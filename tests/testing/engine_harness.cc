#include "testing/engine_harness.h"

#include <gtest/gtest.h>

#include "model/document.h"

namespace baton::testing {

EngineHarness::EngineHarness(const std::string& yaml, engine::Interpreter::Options options)
    : interpreter_(std::move(options)) {
  auto doc = model::ParseDocument(yaml, "test.yaml");
  if (!doc.ok()) {
    ADD_FAILURE() << doc.status().message();
    return;
  }
  std::vector<model::Diagnostic> diags = model::Validate(*doc, {});
  for (const auto& d : diags) ADD_FAILURE() << d.ToString();
  auto wf = engine::Compile(*doc, nullptr);
  if (!wf.ok()) {
    ADD_FAILURE() << wf.status().message();
    return;
  }
  wf_ = *wf;
  responder_ = [](const Activity&) { return Reply::Ok(Json::Object()); };
}

void EngineHarness::Apply(engine::EventBody body) {
  if (!wf_) return;
  ++advances_;
  engine::Event event{now_, std::move(body)};
  if (event_hook_) event_hook_(event);
  auto t = interpreter_.Advance(*wf_, std::move(state_), event);
  if (!t.ok()) {
    ADD_FAILURE() << t.status().ToString();
    return;
  }
  if (transition_hook_) transition_hook_(*wf_, *t);
  state_ = std::move(t->state);
  for (auto& e : t->lifecycle) lifecycle_.push_back(std::move(e));
  for (auto& command : t->commands) {
    std::visit(
        [&](auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, engine::ExecuteTask>) {
            Activity a;
            a.task_ref = c.task_ref;
            a.task_name = c.task_ref.substr(c.task_ref.rfind('/') + 1);
            a.kind = c.kind;
            a.request = c.request;
            a.attempt = c.attempt;
            a.idempotency_key = c.idempotency_key;
            a.at = now_;
            activities_.push_back(a);
            Reply r = responder_(a);
            if (r.never) return;
            engine::EventBody result =
                r.ok ? engine::EventBody(engine::TaskSucceeded{c.activity_id, r.value})
                     : engine::EventBody(engine::TaskFailed{c.activity_id, r.value});
            scheduled_.emplace(now_ + r.delay_ms, std::move(result));
          } else if constexpr (std::is_same_v<T, engine::StartTimer>) {
            timers_[c.timer_id] = c.due_at;
            timer_delays_.push_back(c.due_at - now_);
            scheduled_.emplace(c.due_at, engine::TimerFired{c.timer_id});
          } else if constexpr (std::is_same_v<T, engine::CancelTimer>) {
            timers_.erase(c.timer_id);
          } else if constexpr (std::is_same_v<T, engine::CancelActivity>) {
            cancelled_.push_back(c.activity_id);
          } else if constexpr (std::is_same_v<T, engine::PublishEvent>) {
            published_.push_back(c.event);
          } else if constexpr (std::is_same_v<T, engine::StartChild>) {
            Activity a;
            a.task_ref = c.task_ref;
            a.task_name = c.task_ref.substr(c.task_ref.rfind('/') + 1);
            a.kind = "workflow";
            a.request = c.input;
            a.at = now_;
            activities_.push_back(a);
            Reply r = responder_(a);
            if (r.never) return;
            engine::EventBody result =
                r.ok ? engine::EventBody(engine::TaskSucceeded{c.activity_id, r.value})
                     : engine::EventBody(engine::TaskFailed{c.activity_id, r.value});
            scheduled_.emplace(now_ + r.delay_ms, std::move(result));
          }
        },
        command);
  }
}

void EngineHarness::Drain() {
  // Bounded, so a looping workflow fails the test instead of hanging it.
  for (int guard = 0; guard < 1000000 && !scheduled_.empty(); ++guard) {
    if (engine::IsTerminal(state_.status)) return;
    auto it = scheduled_.begin();
    engine::Millis at = it->first;
    engine::EventBody body = std::move(it->second);
    scheduled_.erase(it);
    if (auto* fired = std::get_if<engine::TimerFired>(&body)) {
      auto t = timers_.find(fired->timer_id);
      if (t == timers_.end()) continue;  // cancelled
      timers_.erase(t);
    }
    if (at > now_) now_ = at;
    Apply(std::move(body));
  }
}

void EngineHarness::Run(Json input) {
  Apply(engine::InstanceStarted{"test-instance", std::move(input), 42});
  Drain();
}

void EngineHarness::SendEvent(Json event) {
  Apply(engine::CloudEventReceived{std::move(event)});
  Drain();
}

void EngineHarness::Cancel() {
  Apply(engine::CancelRequested{"test"});
  Drain();
}

void EngineHarness::Repair(engine::OperatorAction action) {
  Apply(std::move(action));
  Drain();
}

std::vector<std::string> EngineHarness::Started() const {
  std::vector<std::string> names;
  for (const auto& e : lifecycle_) {
    if (e.kind == engine::LifecycleKind::kTaskStarted) names.push_back(e.task_name);
  }
  return names;
}

}  // namespace baton::testing
