#include "engine/interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>
#include <string>
#include <utility>

#include "base/uri.h"
#include "engine/duration.h"
#include "engine/error.h"

namespace baton::engine {

const char* WorkflowStatusName(WorkflowStatus status) {
  switch (status) {
    case WorkflowStatus::kPending:
      return "pending";
    case WorkflowStatus::kRunning:
      return "running";
    case WorkflowStatus::kWaiting:
      return "waiting";
    case WorkflowStatus::kSuspended:
      return "suspended";
    case WorkflowStatus::kCancelled:
      return "cancelled";
    case WorkflowStatus::kFaulted:
      return "faulted";
    case WorkflowStatus::kCompleted:
      return "completed";
    case WorkflowStatus::kRetrying:
      return "retrying";
    case WorkflowStatus::kCompensating:
      return "compensating";
    case WorkflowStatus::kCompensated:
      return "compensated";
    case WorkflowStatus::kCompensationFailed:
      return "compensation_failed";
  }
  return "unknown";
}

namespace {

using Kind = FlowTarget::Kind;

struct Outcome {
  enum class Type : uint8_t { kBlocked, kDone, kFailed };
  Type type = Type::kBlocked;
  Json value;
  FlowTarget flow;

  static Outcome Blocked() { return {}; }
  static Outcome Done(Json v, FlowTarget f) { return {Type::kDone, std::move(v), f}; }
  static Outcome Failed(Json e) { return {Type::kFailed, std::move(e), {}}; }
  bool blocked() const { return type == Type::kBlocked; }
  bool done() const { return type == Type::kDone; }
  bool failed() const { return type == Type::kFailed; }
};

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// RFC 6570 simple expansion of `{name}` against the top-level keys of `input`.
Result<std::string> ExpandUriTemplate(std::string_view uri, const Json& input) {
  if (uri.find('{') == std::string_view::npos || !input.IsObject()) return std::string(uri);
  std::string out;
  size_t i = 0;
  while (i < uri.size()) {
    size_t open = uri.find('{', i);
    if (open == std::string_view::npos) {
      out.append(uri.substr(i));
      break;
    }
    size_t close = uri.find('}', open);
    if (close == std::string_view::npos) {
      out.append(uri.substr(i));
      break;
    }
    out.append(uri.substr(i, open - i));
    std::string name(uri.substr(open + 1, close - open - 1));
    Json v = input.Get(name);
    if (v.IsString()) {
      out += PercentEncode(v.AsString());
    } else if (v.IsNumber() || v.IsBool()) {
      out += v.Dump();
    } else if (v.IsArray() || v.IsObject()) {
      return Status::InvalidArgument("URI template variable '" + name + "' is an " + v.KindName() +
                                     "; only scalars can be inserted");
    }
    i = close + 1;
  }
  return out;
}

bool ErrorMatches(const Json& filter, const Json& error) {
  if (!filter.IsObject()) return true;
  bool ok = true;
  filter.ForEachMember([&](std::string_view key, const Json& expected) {
    Json actual = error.Get(key);
    if (key == "type") {
      ok = ok && actual.IsString() && expected.IsString() &&
           SameErrorType(actual.AsString(), expected.AsString());
    } else {
      ok = ok && actual == expected;
    }
  });
  return ok;
}

bool HasCompensableDriver(const Node& n) {
  if (n.type == Node::Type::kTask && n.phase == Node::Phase::kCompensating && n.task &&
      n.next < n.items.size()) {
    return true;
  }
  for (const auto& c : n.children) {
    if (HasCompensableDriver(*c)) return true;
  }
  return false;
}

// Whether anything completed is waiting to be undone: in the log, or in a try's undo.
bool HasCompensableRecords(const InstanceState& s) {
  bool any = false;
  s.saga.ForEachItem([&](size_t, const Json& r) { any = any || !r.Has("skip"); });
  return any || (s.root && HasCompensableDriver(*s.root));
}

class Run {
 public:
  Run(const CompiledWorkflow& wf, const Interpreter::Options& options, Transition& t, Millis now)
      : wf_(wf), options_(options), t_(t), s_(t.state), now_(now) {}

  void Apply(const Event& event) {
    std::visit([&](const auto& body) { On(body); }, event.body);
    Settle();
  }

 private:
  // ---- events -------------------------------------------------------------------------
  void On(const InstanceStarted& e) {
    if (s_.status != WorkflowStatus::kPending) return;
    s_.instance_id = e.instance_id;
    s_.rng = e.seed;
    s_.raw_input = e.input;
    s_.started_at = now_;
    s_.status = WorkflowStatus::kRunning;
    Record(LifecycleKind::kWorkflowStarted, nullptr, Json());
    if (wf_.timeout) {
      auto ms = EvalDuration(*wf_.timeout, s_.raw_input, nullptr);
      if (!ms.ok()) return FaultWorkflow(error_);
      s_.workflow_timeout_timer = NewId();
      t_.commands.push_back(StartTimer{s_.workflow_timeout_timer, now_ + *ms});
    }
    Json input = s_.raw_input;
    if (wf_.input_schema) {
      Status st = wf_.input_schema->Validate(input);
      if (!st.ok()) {
        return FaultWorkflow(MakeError(ErrorKind::kValidation, 400, "Invalid workflow input",
                                       st.message(), "/input"));
      }
    }
    if (wf_.input_from) {
      auto r = EvalTemplate(*wf_.input_from, input, nullptr, nullptr, nullptr, "/input/from");
      if (!r.ok()) return FaultWorkflow(error_);
      input = std::move(r).value();
    }
    auto root = std::make_unique<Node>();
    root->type = Node::Type::kList;
    root->list = &wf_.main;
    root->data = std::move(input);
    s_.root = std::move(root);
    step_root_ = true;
  }

  void On(const TaskSucceeded& e) { Deliver(e.activity_id, Node::Inbox::kOk, e.output); }
  void On(const TaskFailed& e) { Deliver(e.activity_id, Node::Inbox::kFailed, e.error); }

  void On(const TimerFired& e) {
    if (IsTerminal(s_.status)) return;
    if (e.timer_id == s_.workflow_timeout_timer && e.timer_id != 0) {
      s_.workflow_timeout_timer = 0;
      Json error = MakeError(ErrorKind::kTimeout, 408, "Workflow timed out",
                             "the workflow's timeout elapsed", "/");
      if (s_.status == WorkflowStatus::kCompensating || !s_.root) return FaultWorkflow(error);
      return FaultKeepingTree(std::move(error));
    }
    if (e.timer_id == s_.yield_timer && e.timer_id != 0) {
      s_.yield_timer = 0;
      step_root_ = true;
      return;
    }
    if (s_.root && DeliverTimer(*s_.root, e.timer_id)) step_root_ = true;
  }

  void On(const CloudEventReceived& e) {
    if (IsTerminal(s_.status) || !s_.root) return;
    if (QueueEvent(*s_.root, e.event)) step_root_ = true;
  }

  void On(const CancelRequested& e) {
    if (IsTerminal(s_.status)) return;
    if (s_.root) CancelSubtree(*s_.root);
    if (s_.workflow_timeout_timer) t_.commands.push_back(CancelTimer{s_.workflow_timeout_timer});
    if (s_.yield_timer) t_.commands.push_back(CancelTimer{s_.yield_timer});
    s_.status = WorkflowStatus::kCancelled;
    s_.ended_at = now_;
    s_.error = MakeError(ErrorKind::kRuntime, 499, "Cancelled", e.reason, "/");
    Record(LifecycleKind::kWorkflowCancelled, nullptr, Json());
  }

  void On(const OperatorAction& a) {
    if (!Interpreter::RepairRefusal(s_, a).empty()) return;
    Json entry = Json::Object();
    entry.Set("action", Json::String(ActionName(a.kind)));
    entry.Set("by", Json::String(a.by));
    entry.Set("reason", Json::String(a.reason));
    if (a.has_input) entry.Set("input", a.input);
    if (a.has_context) entry.Set("context", a.context);
    if (a.kind == OperatorAction::Kind::kSkip) entry.Set("output", a.output);
    Record(LifecycleKind::kWorkflowRepaired, nullptr, std::move(entry));
    Node* failed_saga = s_.root ? FailedSaga(*s_.root) : nullptr;
    switch (a.kind) {
      case OperatorAction::Kind::kDiscard:
        if (s_.root) CancelSubtree(*s_.root);
        FinishWorkflowTimers();
        s_.root.reset();
        s_.status = WorkflowStatus::kCancelled;
        s_.ended_at = now_;
        s_.error = MakeError(ErrorKind::kRuntime, 499, "Discarded", a.reason, "/");
        Record(LifecycleKind::kWorkflowCancelled, nullptr, s_.error);
        return;
      case OperatorAction::Kind::kCompensate:
        if (failed_saga != s_.root.get() || !failed_saga) {
          // Everything is undone now: a try's unfinished undo goes back to the log
          // (CancelSubtree), then the whole log is undone at the workflow level.
          Json error =
              IsDeadLetter(s_.status)
                  ? s_.error
                  : MakeError(ErrorKind::kRuntime, 499, "Compensated by operator", a.reason, "/");
          return StartCompensation(std::move(error));
        }
        break;  // the workflow's own undo failed: run it again, as retry does
      case OperatorAction::Kind::kRetry:
      case OperatorAction::Kind::kSkip:
        break;
    }
    s_.ended_at = 0;
    if (failed_saga) {
      // The failed compensation runs again (retry, compensate) or is passed over (skip).
      failed_saga->error = Json();
      if (a.kind == OperatorAction::Kind::kSkip) ++failed_saga->next;
      step_root_ = true;
      if (failed_saga == s_.root.get()) {
        s_.status = WorkflowStatus::kCompensating;  // the instance's error stays
        return;
      }
      // A try's undo: the workflow runs on. A task parked in the same transition as the
      // undo failed faults it again once stepped.
      if (Node* parked = FindParked(*s_.root)) parked_error_ = parked->error;
      return Revive();
    }
    if (a.has_context) s_.context = a.context;
    ForEachParked(*s_.root, [&](Node& n) {
      if (a.kind == OperatorAction::Kind::kSkip) {
        n.inbox = Node::Inbox::kOk;
        n.result = a.output;
        return;
      }
      n.phase = Node::Phase::kNew;
      n.error = Json();
      n.attempt = 0;
      n.children.clear();
      if (a.has_input) n.raw_input = a.input;
    });
    step_root_ = true;
    Revive();
  }

  // A dead letter runs again: its error goes, and the timeouts that Freeze dropped are
  // armed again, each for its full duration from now.
  void Revive() {
    s_.ended_at = 0;
    s_.error = Json();
    s_.status = WorkflowStatus::kRunning;
    if (wf_.timeout && s_.workflow_timeout_timer == 0) {
      auto ms = EvalDuration(*wf_.timeout, s_.raw_input, nullptr);
      if (!ms.ok()) return FaultWorkflow(error_);
      s_.workflow_timeout_timer = NewId();
      t_.commands.push_back(StartTimer{s_.workflow_timeout_timer, now_ + *ms});
    }
    if (s_.root) RearmTimeouts(*s_.root);
  }

  void RearmTimeouts(Node& n) {
    if (n.type == Node::Type::kTask && n.task && n.timeout_timer_id == Node::kDroppedTimeout) {
      n.timeout_timer_id = 0;
      if (n.task->timeout) {
        ScopeGuard scope(*this, n);
        auto ms = EvalDuration(*n.task->timeout, n.input, &n);
        if (ms.ok()) {
          n.timeout_timer_id = NewId();
          t_.commands.push_back(StartTimer{n.timeout_timer_id, now_ + *ms});
        }
      }
    }
    for (auto& c : n.children) RearmTimeouts(*c);
  }

  static const char* ActionName(OperatorAction::Kind kind) {
    switch (kind) {
      case OperatorAction::Kind::kRetry:
        return "retry";
      case OperatorAction::Kind::kSkip:
        return "skip";
      case OperatorAction::Kind::kCompensate:
        return "compensate";
      case OperatorAction::Kind::kDiscard:
        return "discard";
    }
    return "unknown";
  }

  void Deliver(uint64_t activity_id, Node::Inbox kind, const Json& value) {
    if (IsTerminal(s_.status) || !s_.root) return;
    if (DeliverActivity(*s_.root, activity_id, kind, value)) step_root_ = true;
  }

  bool DeliverActivity(Node& n, uint64_t id, Node::Inbox kind, const Json& value) {
    if (n.type == Node::Type::kTask && n.phase == Node::Phase::kActivity && n.activity_id == id) {
      n.inbox = kind;
      n.result = value;
      return true;
    }
    for (auto& c : n.children) {
      if (DeliverActivity(*c, id, kind, value)) return true;
    }
    return false;
  }

  bool DeliverTimer(Node& n, uint64_t id) {
    if (n.type == Node::Type::kTask) {
      if (n.timeout_timer_id == id) {
        n.timeout_timer_id = 0;
        n.inbox = Node::Inbox::kTimeout;
        return true;
      }
      if (n.timer_id == id) {
        n.timer_id = 0;
        n.inbox = Node::Inbox::kTimer;
        return true;
      }
    }
    for (auto& c : n.children) {
      if (DeliverTimer(*c, id)) return true;
    }
    return false;
  }

  bool QueueEvent(Node& n, const Json& event) {
    bool any = false;
    if (n.type == Node::Type::kTask && n.phase == Node::Phase::kListening) {
      n.queued_events.push_back(event);
      any = true;
    }
    for (auto& c : n.children) any = QueueEvent(*c, event) || any;
    return any;
  }

  // ---- the workflow ---------------------------------------------------------------------
  void Settle() {
    if (!step_root_ || IsTerminal(s_.status) || !s_.root) {
      UpdateWaiting();
      return;
    }
    if (s_.status == WorkflowStatus::kCompensating) return StepWorkflowSaga();
    Outcome o = StepList(*s_.root);
    if (o.done()) return CompleteWorkflow(std::move(o.value));
    if (o.failed()) return FaultWorkflow(o.value);
    if (!saga_failed_.IsNull() && FailedSaga(*s_.root)) {
      return CompensationFailed(std::move(saga_failed_));
    }
    if (!parked_error_.IsNull()) {
      if (Node* parked = FindParked(*s_.root)) return FaultKeepingTree(parked->error);
    }
    UpdateWaiting();
  }

  void UpdateWaiting() {
    if (IsTerminal(s_.status) || s_.status == WorkflowStatus::kPending ||
        s_.status == WorkflowStatus::kCompensating) {
      return;
    }
    s_.status = WorkflowStatus::kRunning;
    if (!s_.root) return;
    Pending p;
    Survey(*s_.root, p);
    if (p.activity) return;
    s_.status = p.retry && !p.other ? WorkflowStatus::kRetrying : WorkflowStatus::kWaiting;
  }

  // What an instance waits for: results of activities, retry delays, or anything else.
  struct Pending {
    bool activity = false;
    bool retry = false;
    bool other = false;
  };
  static void Survey(const Node& n, Pending& p) {
    if (n.type == Node::Type::kTask) {
      if (n.phase == Node::Phase::kActivity) p.activity = true;
      if (n.phase == Node::Phase::kRetryWait) p.retry = true;
      if (n.phase == Node::Phase::kTimer || n.phase == Node::Phase::kListening) p.other = true;
    }
    for (const auto& c : n.children) {
      if (p.activity) return;
      Survey(*c, p);
    }
  }

  // ---- faults that keep their place, sagas ------------------------------------------------
  // An error nothing handled stopped the instance (parked_error_), or the workflow timed out:
  // stop every other branch but keep the tree, so that an operator can resume it; or, when
  // the saga log holds compensations, undo them instead.
  void FaultKeepingTree(Json error) {
    if (s_.root) Freeze(*s_.root);
    if (HasCompensation()) return StartCompensation(std::move(error));
    FinishWorkflowTimers();
    s_.status = WorkflowStatus::kFaulted;
    s_.ended_at = now_;
    s_.error = error;
    Record(LifecycleKind::kWorkflowFaulted, nullptr, std::move(error));
  }

  // Stops what runs under `n` so that it can start again: activities, waits and listens go
  // back to kNew (they run again from their start), retry delays end at once, task timeouts
  // are dropped. Parked nodes and saga drivers are left as they are.
  void Freeze(Node& n) {
    if (n.type == Node::Type::kTask && n.phase != Node::Phase::kParked) {
      if (n.timeout_timer_id && n.timeout_timer_id != Node::kDroppedTimeout) {
        ClearTimeout(n);
        // A task that goes on when revived (a composite) gets its timeout again then.
        bool restarts = n.phase == Node::Phase::kActivity || n.phase == Node::Phase::kTimer ||
                        n.phase == Node::Phase::kListening;
        if (!restarts) n.timeout_timer_id = Node::kDroppedTimeout;
      }
      switch (n.phase) {
        case Node::Phase::kActivity:
        case Node::Phase::kTimer:
        case Node::Phase::kListening:
          CancelSubtree(n, /*record_self=*/false);
          if (n.task) Record(LifecycleKind::kTaskCancelled, &n, Json());
          n.phase = Node::Phase::kNew;
          n.inbox = Node::Inbox::kNone;
          n.result = Json();
          n.events = Json();
          n.queued_events.clear();
          return;
        case Node::Phase::kRetryWait:
          if (n.timer_id) t_.commands.push_back(CancelTimer{n.timer_id});
          n.timer_id = 0;
          n.inbox = Node::Inbox::kTimer;
          return;
        default:
          break;
      }
    }
    for (auto& c : n.children) Freeze(*c);
  }

  Node* FindParked(Node& n) {
    if (n.type == Node::Type::kTask && n.phase == Node::Phase::kParked) return &n;
    for (auto& c : n.children) {
      if (Node* p = FindParked(*c)) return p;
    }
    return nullptr;
  }
  template <typename F>
  static void ForEachParked(Node& n, F&& f) {
    if (n.type == Node::Type::kTask && n.phase == Node::Phase::kParked) {
      f(n);
      return;
    }
    for (auto& c : n.children) ForEachParked(*c, f);
  }
  static Node* FailedSaga(Node& n) {
    if (n.type == Node::Type::kTask && n.phase == Node::Phase::kCompensating && !n.error.IsNull()) {
      return &n;
    }
    for (auto& c : n.children) {
      if (Node* p = FailedSaga(*c)) return p;
    }
    return nullptr;
  }

  static bool IsCompensable(const Json& record) { return !record.Has("skip"); }
  bool HasCompensation() const { return HasCompensableRecords(s_); }

  // Moves the saga records of scope `scope` (all when 0) out of the log, newest first: the
  // order in which they are undone.
  Json TakeSagaRecords(uint64_t scope) {
    Json kept = Json::Array();
    std::vector<std::pair<double, Json>> mine;
    s_.saga.ForEachItem([&](size_t, const Json& r) {
      bool in_scope = scope == 0;
      r.Get("scopes").ForEachItem([&](size_t, const Json& id) {
        in_scope = in_scope || id.AsNumber() == static_cast<double>(scope);
      });
      if (in_scope) {
        mine.emplace_back(r.Get("seq").AsNumber(), r);
      } else {
        kept.Append(r);
      }
    });
    // Records given back by a stopped try come after newer ones in the log: order by seq.
    std::stable_sort(mine.begin(), mine.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    Json taken = Json::Array();
    for (auto& [seq, r] : mine) taken.Append(std::move(r));
    s_.saga = std::move(kept);
    return taken;
  }

  void RecordSaga(const Node& n, const Json& output) {
    const TaskDef& task = *n.task;
    // A function's body is recorded as the call that ran it.
    if (task.ref.rfind("/use/", 0) == 0) return;
    Json record = Json::Object();
    record.Set("seq", Json::Number(static_cast<double>(NewId())));
    record.Set("ref", Json::String(task.ref));
    if (task.compensate) {
      record.Set("input", n.input);
      record.Set("output", output);
      // The compensation runs outside the task's scope: keep the variables it saw ($item,
      // $index, a catch's $error, ...). Inner bindings come later and win.
      if (!bindings_.scoped.empty()) {
        Json vars = Json::Object();
        for (const auto& [name, value] : bindings_.scoped) vars.Set(name, *value);
        record.Set("vars", std::move(vars));
      }
      Json scopes = Json::Array();
      for (const Node* a : ancestors_) {
        if (a->type == Node::Type::kTask && a->task && a->task->type == TaskType::kTry &&
            a->activity_id != 0 && a != &n) {
          scopes.Append(Json::Number(static_cast<double>(a->activity_id)));
        }
      }
      if (!scopes.empty()) record.Set("scopes", std::move(scopes));
    } else if ((task.type == TaskType::kCall || task.type == TaskType::kRun ||
                task.type == TaskType::kEmit) &&
               s_.saga.size() < kMaxNotCompensable) {
      // Only to say "not compensable" in history: bounded, so that a polling loop in a
      // compensating workflow does not grow its state without end.
      record.Set("skip", Json::Bool(true));
    } else {
      return;
    }
    s_.saga.Append(std::move(record));
  }
  static constexpr size_t kMaxNotCompensable = 1000;

  // Whether a failure at `n` is handled above it: by a running `try` body, or by a saga
  // driver (a failed compensation makes the instance compensation_failed).
  enum class Handler : uint8_t { kNone, kTry, kSaga };
  Handler HandlerAbove(const Node& n) const {
    for (auto it = ancestors_.rbegin(); it != ancestors_.rend(); ++it) {
      const Node* a = *it;
      if (a == &n || a->type != Node::Type::kTask) continue;
      if (a->phase == Node::Phase::kCompensating) return Handler::kSaga;
      if (a->task && a->task->type == TaskType::kTry && a->phase == Node::Phase::kRunning) {
        return Handler::kTry;
      }
    }
    return Handler::kNone;
  }
  bool InSaga() const {
    for (const Node* a : ancestors_) {
      if (a->type == Node::Type::kTask && a->phase == Node::Phase::kCompensating) return true;
    }
    return false;
  }

  // Workflow level: the root becomes a saga driver over the whole log; the tree is dropped.
  void StartCompensation(Json error) {
    if (s_.root) CancelSubtree(*s_.root);
    FinishWorkflowTimers();
    s_.error = error;
    s_.ended_at = 0;
    s_.status = WorkflowStatus::kCompensating;
    Record(LifecycleKind::kWorkflowCompensating, nullptr, std::move(error));
    auto driver = std::make_unique<Node>();
    driver->phase = Node::Phase::kCompensating;
    driver->items = TakeSagaRecords(0);
    s_.root = std::move(driver);
    StepWorkflowSaga();
  }

  void StepWorkflowSaga() {
    Outcome o = StepSaga(*s_.root);
    if (o.blocked()) return;
    if (o.failed()) return CompensationFailed(std::move(o.value));
    s_.status = WorkflowStatus::kCompensated;
    s_.ended_at = now_;
    s_.root.reset();
    Record(LifecycleKind::kWorkflowCompensated, nullptr, s_.error);
  }

  // A compensation failed after its retries: the instance waits for an operator, and an
  // alert goes out on the event bus.
  void CompensationFailed(Json error) {
    if (s_.root) Freeze(*s_.root);
    FinishWorkflowTimers();
    s_.status = WorkflowStatus::kCompensationFailed;
    s_.ended_at = now_;
    if (s_.error.IsNull()) s_.error = error;
    Record(LifecycleKind::kWorkflowCompensationFailed, nullptr, error);
    Json event = Json::Object();
    event.Set("specversion", Json::String("1.0"));
    event.Set("id", Json::String(NewUuid()));
    event.Set("time", Json::String(FormatIso8601(now_)));
    event.Set("source", Json::String("baton"));
    event.Set("type", Json::String("io.baton.alert.compensation_failed.v1"));
    event.Set("datacontenttype", Json::String("application/json"));
    Json data = Json::Object();
    data.Set("instance", Json::String(s_.instance_id));
    data.Set("workflow", Json::String(wf_.namespace_ + "/" + wf_.name + ":" + wf_.version));
    data.Set("error", std::move(error));
    event.Set("data", std::move(data));
    t_.commands.push_back(PublishEvent{std::move(event)});
  }

  // Undoes d.items[d.next...] one at a time. Done when all are undone; Failed (and d.error
  // set) when a compensation fails; a failed driver stays Blocked until an operator acts.
  Outcome StepSaga(Node& d) {
    ScopeGuard scope(*this, d);
    while (true) {
      if (!d.error.IsNull()) return Outcome::Blocked();
      if (d.children.empty()) {
        while (d.next < d.items.size() && !IsCompensable(d.items.At(d.next))) {
          RecordRef(LifecycleKind::kTaskNotCompensable, d.items.At(d.next), Json());
          ++d.next;
        }
        if (d.next >= d.items.size()) return Outcome::Done(Json(), {});
        Json record = d.items.At(d.next);
        const TaskDef* def = wf_.FindTask(std::string(record.Get("ref").AsString()));
        if (!def || !def->compensate) {
          d.error = MakeError(ErrorKind::kRuntime, 500, "Compensation not found",
                              "the definition has no compensation for " + record.Dump(), "/");
          return Outcome::Failed(d.error);
        }
        Json original = Json::Object();
        original.Set("name", Json::String(def->name));
        original.Set("reference", Json::String(def->ref));
        original.Set("input", record.Get("input"));
        original.Set("output", record.Get("output"));
        auto list = NewList(*def->compensate, record.Get("input"));
        record.Get("vars").ForEachMember([&](std::string_view name, const Json& value) {
          list->vars.emplace_back(std::string(name), value);
        });
        list->vars.emplace_back("original", std::move(original));
        d.children.push_back(std::move(list));
      }
      Json original_output = d.items.At(d.next).Get("output");
      const Json* saved = compensated_output_;
      compensated_output_ = &original_output;
      Outcome o = StepList(*d.children.front());
      compensated_output_ = saved;
      if (o.blocked()) return o;
      d.children.clear();
      if (o.failed()) {
        d.error = o.value;
        return Outcome::Failed(std::move(o.value));
      }
      RecordRef(LifecycleKind::kTaskCompensated, d.items.At(d.next), std::move(o.value));
      ++d.next;
    }
  }

  void CompleteWorkflow(Json output) {
    if (s_.root) CancelSubtree(*s_.root);
    if (wf_.output_as) {
      auto r = EvalTemplate(*wf_.output_as, output, nullptr, nullptr, nullptr, "/output/as");
      if (!r.ok()) return FaultWorkflow(error_);
      output = std::move(r).value();
    }
    if (wf_.output_schema) {
      Status st = wf_.output_schema->Validate(output);
      if (!st.ok()) {
        return FaultWorkflow(MakeError(ErrorKind::kValidation, 400, "Invalid workflow output",
                                       st.message(), "/output"));
      }
    }
    FinishWorkflowTimers();
    s_.status = WorkflowStatus::kCompleted;
    s_.ended_at = now_;
    s_.output = output;
    s_.root.reset();
    Record(LifecycleKind::kWorkflowCompleted, nullptr, std::move(output));
  }

  void FaultWorkflow(Json error) {
    if (s_.status != WorkflowStatus::kCompensating && HasCompensation()) {
      return StartCompensation(std::move(error));
    }
    if (s_.root) CancelSubtree(*s_.root);
    FinishWorkflowTimers();
    s_.status = WorkflowStatus::kFaulted;
    s_.ended_at = now_;
    s_.error = error;
    s_.root.reset();
    Record(LifecycleKind::kWorkflowFaulted, nullptr, std::move(error));
  }

  void FinishWorkflowTimers() {
    if (s_.workflow_timeout_timer) {
      t_.commands.push_back(CancelTimer{s_.workflow_timeout_timer});
      s_.workflow_timeout_timer = 0;
    }
    if (s_.yield_timer) {
      t_.commands.push_back(CancelTimer{s_.yield_timer});
      s_.yield_timer = 0;
    }
  }

  // ---- lists ----------------------------------------------------------------------------
  Outcome StepList(Node& n) {
    ScopeGuard scope(*this, n);
    const TaskList& list = *n.list;
    while (true) {
      if (n.children.empty()) {
        if (n.index >= list.tasks.size()) return Outcome::Done(n.data, {});
        if (budget_ == 0) {
          Yield();
          return Outcome::Blocked();
        }
        --budget_;
        auto child = std::make_unique<Node>();
        child->task = &list.tasks[n.index];
        child->raw_input = n.data;
        n.children.push_back(std::move(child));
      }
      Outcome o = StepTask(*n.children.front());
      if (o.blocked()) return o;
      n.children.clear();
      if (o.failed()) return o;
      n.data = std::move(o.value);
      switch (o.flow.kind) {
        case Kind::kContinue:
          ++n.index;
          break;
        case Kind::kGoto:
          n.index = o.flow.index;
          break;
        case Kind::kExit:
          n.index = list.tasks.size();
          return Outcome::Done(n.data, {});
        case Kind::kEnd:
          n.index = list.tasks.size();
          return Outcome::Done(n.data, o.flow);
      }
    }
  }

  void Yield() {
    if (s_.yield_timer == 0) {
      s_.yield_timer = NewId();
      t_.commands.push_back(StartTimer{s_.yield_timer, now_});
    }
  }

  std::unique_ptr<Node> NewList(const TaskList& list, Json input) {
    auto n = std::make_unique<Node>();
    n->type = Node::Type::kList;
    n->list = &list;
    n->data = std::move(input);
    return n;
  }

  // ---- tasks ----------------------------------------------------------------------------
  Outcome StepTask(Node& n) {
    if (n.phase == Node::Phase::kNew) return StartTask(n);
    if (n.phase == Node::Phase::kParked) return StepParked(n);
    if (n.inbox == Node::Inbox::kTimeout) {
      n.inbox = Node::Inbox::kNone;
      ScopeGuard scope(*this, n);
      bool activity = n.phase == Node::Phase::kActivity;
      CancelSubtree(n, /*record_self=*/false);
      Json error = MakeError(ErrorKind::kTimeout, 408, "Task timed out",
                             "the task's timeout elapsed", n.task->ref);
      if (activity) return FailActivity(n, std::move(error));
      return FailTask(n, std::move(error));
    }
    ScopeGuard scope(*this, n);
    switch (n.task->type) {
      case TaskType::kCall:
        if (n.task->function) return StepChildTask(n);
        return StepActivity(n);
      case TaskType::kRun:
        return StepActivity(n);
      case TaskType::kWait:
        if (n.inbox != Node::Inbox::kTimer) return Outcome::Blocked();
        n.inbox = Node::Inbox::kNone;
        return FinishTask(n, n.input, n.task->then);
      case TaskType::kDo:
        return StepChildList(n);
      case TaskType::kFor:
        return n.task->concurrency > 0 ? StepParallelFor(n) : StepFor(n);
      case TaskType::kFork:
        return StepFork(n);
      case TaskType::kTry:
        return StepTry(n);
      case TaskType::kListen:
        return StepListen(n);
      case TaskType::kSet:
      case TaskType::kSwitch:
      case TaskType::kRaise:
      case TaskType::kEmit:
        break;
    }
    return Outcome::Blocked();
  }

  // A parked task completes when an operator skips it (inbox kOk with the given output).
  Outcome StepParked(Node& n) {
    if (n.inbox != Node::Inbox::kOk) return Outcome::Blocked();
    n.inbox = Node::Inbox::kNone;
    n.error = Json();
    n.phase = Node::Phase::kDone;
    Json output = std::move(n.result);
    n.result = Json();
    if (options_.record_task_lifecycle) Record(LifecycleKind::kTaskCompleted, &n, output);
    return Outcome::Done(std::move(output), n.task->then);
  }

  Outcome StartTask(Node& n) {
    const TaskDef& task = *n.task;
    n.started_at = now_;
    n.phase = Node::Phase::kRunning;
    if (task.if_expr) {
      auto r = Eval(*task.if_expr, n.raw_input, &n, nullptr, nullptr, {});
      if (!r.ok()) return FailTask(n, error_);
      if (!r->Truthy()) {
        n.phase = Node::Phase::kDone;
        Record(LifecycleKind::kTaskSkipped, &n, Json());
        return Outcome::Done(n.raw_input, {});
      }
    }
    Record(LifecycleKind::kTaskStarted, &n, Json());
    n.input = n.raw_input;
    if (task.input_schema) {
      Status st = task.input_schema->Validate(n.input);
      if (!st.ok()) {
        return FailTask(n, MakeError(ErrorKind::kValidation, 400, "Invalid task input",
                                     st.message(), task.ref));
      }
    }
    if (task.input_from) {
      auto r = EvalTemplate(*task.input_from, n.raw_input, &n, nullptr, nullptr, {});
      if (!r.ok()) return FailTask(n, error_);
      n.input = std::move(r).value();
    }
    int64_t timeout_ms = 0;
    if (task.timeout) {
      auto ms = EvalDuration(*task.timeout, n.input, &n);
      if (!ms.ok()) return FailTask(n, error_);
      timeout_ms = *ms;
      n.timeout_timer_id = NewId();
      t_.commands.push_back(StartTimer{n.timeout_timer_id, now_ + timeout_ms});
    }
    ScopeGuard scope(*this, n);
    switch (task.type) {
      case TaskType::kSet: {
        auto r = EvalTemplate(task.args, n.input, &n, &n.input, nullptr, {});
        if (!r.ok()) return FailTask(n, error_);
        return FinishTask(n, std::move(r).value(), task.then);
      }
      case TaskType::kRaise:
        return StartRaise(n);
      case TaskType::kSwitch:
        return StartSwitch(n);
      case TaskType::kEmit:
        return StartEmit(n);
      case TaskType::kWait: {
        auto ms = EvalDuration(task.args, n.input, &n);
        if (!ms.ok()) return FailTask(n, error_);
        n.timer_id = NewId();
        n.phase = Node::Phase::kTimer;
        t_.commands.push_back(StartTimer{n.timer_id, now_ + *ms});
        Record(LifecycleKind::kTaskWaiting, &n, Json());
        return Outcome::Blocked();
      }
      case TaskType::kDo:
        n.children.push_back(NewList(task.children, n.input));
        return StepChildList(n);
      case TaskType::kFor:
        return StartFor(n);
      case TaskType::kFork:
        n.outputs = Json::Array();
        for (size_t i = 0; i < task.children.tasks.size(); ++i) {
          auto branch = std::make_unique<Node>();
          branch->task = &task.children.tasks[i];
          branch->raw_input = n.input;
          branch->slot = static_cast<int64_t>(i);
          n.children.push_back(std::move(branch));
          n.outputs.Append(Json());
        }
        n.pending = task.children.tasks.size();
        return StepFork(n);
      case TaskType::kTry:
        // A run of a try that undoes its body has its own saga scope (n.activity_id).
        if (task.catch_def->compensate) n.activity_id = NewId();
        n.children.push_back(NewList(task.children, n.input));
        return StepTry(n);
      case TaskType::kListen:
        if (!task.listen->unsupported.empty()) {
          return FailTask(n, MakeError(ErrorKind::kRuntime, 501, "Not supported",
                                       task.listen->unsupported, task.ref));
        }
        n.activity_id = NewId();
        n.phase = Node::Phase::kListening;
        n.events = Json::Array();
        n.matched.assign(task.listen->filters.size(), 0);
        t_.commands.push_back(Subscribe{n.activity_id, task.body.Get("listen").Get("to")});
        Record(LifecycleKind::kTaskWaiting, &n, Json());
        return StepListen(n);
      case TaskType::kCall:
      case TaskType::kRun:
        return StartActivity(n, timeout_ms);
    }
    return Outcome::Blocked();
  }

  // Output processing shared by every task: output.as, output.schema, export.as.
  Outcome FinishTask(Node& n, Json raw_output, FlowTarget flow) {
    const TaskDef& task = *n.task;
    Json output = std::move(raw_output);
    if (task.output_as) {
      auto r = EvalTemplate(*task.output_as, output, &n, &n.input, nullptr, {});
      if (!r.ok()) return FailTask(n, error_);
      output = std::move(r).value();
    }
    if (task.output_schema) {
      Status st = task.output_schema->Validate(output);
      if (!st.ok()) {
        return FailTask(n, MakeError(ErrorKind::kValidation, 400, "Invalid task output",
                                     st.message(), task.ref));
      }
    }
    if (task.export_as) {
      auto r = EvalTemplate(*task.export_as, output, &n, &n.input, &output, {});
      if (!r.ok()) return FailTask(n, error_);
      if (task.export_schema) {
        Status st = task.export_schema->Validate(*r);
        if (!st.ok()) {
          return FailTask(n, MakeError(ErrorKind::kValidation, 400, "Invalid exported context",
                                       st.message(), task.ref));
        }
      }
      s_.context = std::move(r).value();
    }
    ClearTimeout(n);
    n.phase = Node::Phase::kDone;
    if (options_.record_task_lifecycle) Record(LifecycleKind::kTaskCompleted, &n, output);
    if (wf_.uses_compensation && !InSaga()) RecordSaga(n, output);
    return Outcome::Done(std::move(output), flow);
  }

  Outcome FailTask(Node& n, Json error) {
    if (error.IsObject() && !error.Has("instance"))
      error.Set("instance", Json::String(n.task->ref));
    ClearTimeout(n);
    CancelSubtree(n, /*record_self=*/false);
    Record(LifecycleKind::kTaskFaulted, &n, error);
    if (HandlerAbove(n) == Handler::kNone) {
      // Nothing above handles it: the task parks here and the instance faults (Settle),
      // keeping its place for an operator's retry or skip.
      n.phase = Node::Phase::kParked;
      n.inbox = Node::Inbox::kNone;
      n.activity_id = 0;
      n.error = error;
      if (parked_error_.IsNull()) parked_error_ = std::move(error);
      return Outcome::Blocked();
    }
    n.phase = Node::Phase::kDone;
    return Outcome::Failed(std::move(error));
  }

  // A call or run attempt failed: the server's default policy retries transient errors of
  // tasks no `try` encloses; otherwise the task fails.
  Outcome FailActivity(Node& n, Json error) {
    const RetryPolicy* policy = DefaultPolicy();
    // A sub-workflow retried its own steps: it is started again only for an error it marked
    // `retryable: true`.
    bool eligible = n.task->call_kind != "workflow" || error.Get("retryable").AsBool();
    if (policy && eligible && HandlerAbove(n) != Handler::kTry && IsTransient(error)) {
      int64_t delay = NextDelay(n, *policy, error);
      if (delay >= 0) {
        if (error.IsObject() && !error.Has("instance"))
          error.Set("instance", Json::String(n.task->ref));
        ClearTimeout(n);
        Record(LifecycleKind::kTaskFaulted, &n, error);
        ScheduleRetry(n, std::move(error), delay);
        return Outcome::Blocked();
      }
    }
    return FailTask(n, std::move(error));
  }

  const RetryPolicy* DefaultPolicy() const {
    if (!options_.namespace_retry.empty()) {
      auto it = options_.namespace_retry.find(wf_.namespace_);
      if (it != options_.namespace_retry.end()) return &it->second;
    }
    return options_.default_retry ? &*options_.default_retry : nullptr;
  }

  // When the retry delay of `n` has ended (its timer is in the inbox), its next attempt
  // begins in `phase`; false while the delay runs.
  bool BeginNextAttempt(Node& n, Node::Phase phase) {
    if (n.inbox != Node::Inbox::kTimer) return false;
    n.inbox = Node::Inbox::kNone;
    ++n.attempt;
    n.error = Json();
    n.retry_at = 0;
    n.phase = phase;
    Record(LifecycleKind::kTaskRetried, &n, Json());
    return true;
  }

  // `n` waits `delay` ms for its next attempt (a try, or a call/run under the default policy).
  void ScheduleRetry(Node& n, Json error, int64_t delay) {
    n.phase = Node::Phase::kRetryWait;
    n.timer_id = NewId();
    n.retry_at = now_ + delay;
    n.error = error;
    t_.commands.push_back(StartTimer{n.timer_id, n.retry_at});
    Json data = Json::Object();
    data.Set("error", std::move(error));
    data.Set("delayMs", Json::Number(static_cast<double>(delay)));
    data.Set("nextAttemptAt", Json::String(FormatIso8601(n.retry_at)));
    Record(LifecycleKind::kTaskRetrying, &n, std::move(data));
  }

  void ClearTimeout(Node& n) {
    if (n.timeout_timer_id && n.timeout_timer_id != Node::kDroppedTimeout) {
      t_.commands.push_back(CancelTimer{n.timeout_timer_id});
    }
    n.timeout_timer_id = 0;
  }

  // Stops everything running under `n` (and `n` itself when record_self).
  void CancelSubtree(Node& n, bool record_self = true) {
    for (auto& c : n.children) CancelSubtree(*c, true);
    n.children.clear();
    if (n.type == Node::Type::kTask && n.phase == Node::Phase::kCompensating && n.task) {
      // A try stopped while undoing its body: what it had not finished undoing (the one in
      // progress included) goes back to the log, so that a later undo does it.
      for (size_t i = n.next; i < n.items.size(); ++i) s_.saga.Append(n.items.At(i));
      n.items = Json::Array();
      n.next = 0;
    }
    if (n.type != Node::Type::kTask) return;
    bool was_running = n.phase != Node::Phase::kDone && n.phase != Node::Phase::kNew;
    if (n.phase == Node::Phase::kActivity && n.activity_id) {
      t_.commands.push_back(CancelActivity{n.activity_id});
      n.activity_id = 0;
    }
    if (n.phase == Node::Phase::kListening && n.activity_id) {
      t_.commands.push_back(Unsubscribe{n.activity_id});
      n.activity_id = 0;
    }
    if (n.timer_id) t_.commands.push_back(CancelTimer{n.timer_id});
    n.timer_id = 0;
    if (record_self) {
      ClearTimeout(n);
      if (was_running) Record(LifecycleKind::kTaskCancelled, &n, Json());
      n.phase = Node::Phase::kDone;
    }
  }

  // ---- local tasks ----------------------------------------------------------------------
  Outcome StartRaise(Node& n) {
    const TaskDef& task = *n.task;
    auto r = EvalTemplate(task.args, n.input, &n, &n.input, nullptr, {});
    if (!r.ok()) return FailTask(n, error_);
    Json error = std::move(r).value();
    if (!error.IsObject()) {
      return FailTask(n, MakeError(ErrorKind::kConfiguration, 400, "Invalid error",
                                   "raise.error must be an object", task.ref));
    }
    if (!error.Get("status").IsNumber()) {
      error.Set("status", Json::Number(500));
    }
    if (!error.Has("instance")) error.Set("instance", Json::String(task.ref));
    return FailTask(n, std::move(error));
  }

  Outcome StartSwitch(Node& n) {
    const TaskDef& task = *n.task;
    const SwitchCase* chosen = nullptr;
    const SwitchCase* fallback = nullptr;
    for (const auto& c : task.cases) {
      if (!c.when) {
        if (!fallback) fallback = &c;
        continue;
      }
      auto r = Eval(*c.when, n.input, &n, &n.input, nullptr, {});
      if (!r.ok()) return FailTask(n, error_);
      if (r->Truthy()) {
        chosen = &c;
        break;
      }
    }
    if (!chosen) chosen = fallback;
    return FinishTask(n, n.input, chosen ? chosen->then : task.then);
  }

  Outcome StartEmit(Node& n) {
    const TaskDef& task = *n.task;
    auto r = EvalTemplate(task.args, n.input, &n, &n.input, nullptr, {});
    if (!r.ok()) return FailTask(n, error_);
    Json attributes = std::move(r).value();
    Json event = Json::Object();
    event.Set("specversion", Json::String("1.0"));
    event.Set("id", Json::String(NewUuid()));
    event.Set("time", Json::String(FormatIso8601(now_)));
    attributes.ForEachMember([&](std::string_view key, const Json& v) { event.Set(key, v); });
    if (event.Has("data") && !event.Has("datacontenttype")) {
      event.Set("datacontenttype", Json::String("application/json"));
    }
    if (!event.Get("source").IsString() || !event.Get("type").IsString()) {
      return FailTask(n, MakeError(ErrorKind::kValidation, 400, "Invalid event",
                                   "an emitted event needs string 'source' and 'type'", task.ref));
    }
    t_.commands.push_back(PublishEvent{event});
    return FinishTask(n, std::move(event), task.then);
  }

  // ---- composite tasks ------------------------------------------------------------------
  Outcome StepChildList(Node& n) {
    Outcome o = StepList(*n.children.front());
    if (o.blocked()) return o;
    n.children.clear();
    if (o.failed()) return FailTask(n, std::move(o.value));
    return FinishTask(n, std::move(o.value), o.flow.kind == Kind::kEnd ? o.flow : n.task->then);
  }

  Outcome StepChildTask(Node& n) {
    Outcome o = StepTask(*n.children.front());
    if (o.blocked()) return o;
    n.children.clear();
    if (o.failed()) return FailTask(n, std::move(o.value));
    return FinishTask(n, std::move(o.value), n.task->then);
  }

  Outcome StartFor(Node& n) {
    const TaskDef& task = *n.task;
    auto r = Eval(*task.for_in, n.input, &n, &n.input, nullptr, {});
    if (!r.ok()) return FailTask(n, error_);
    Json items = std::move(r).value();
    if (items.IsNull()) items = Json::Array();
    if (items.IsObject()) {
      Json values = Json::Array();
      items.ForEachMember([&](std::string_view, const Json& v) { values.Append(v); });
      items = values;
    }
    if (!items.IsArray()) {
      return FailTask(n,
                      MakeError(ErrorKind::kExpression, 400, "Invalid collection",
                                std::string("for.in must give an array, not ") + items.KindName(),
                                task.ref + "/for/in"));
    }
    n.items = std::move(items);
    n.next = 0;
    n.result = n.input;  // sequential: the value flowing through iterations
    if (task.concurrency > 0) {
      n.outputs = Json::Array();
      for (size_t i = 0; i < n.items.size(); ++i) n.outputs.Append(Json());
      n.pending = n.items.size();
      return StepParallelFor(n);
    }
    return StepFor(n);
  }

  std::unique_ptr<Node> NewIteration(Node& n, size_t index, Json input) {
    auto child = NewList(n.task->children, std::move(input));
    child->vars.emplace_back(n.task->for_each, n.items.At(index));
    child->vars.emplace_back(n.task->for_at, Json::Number(static_cast<double>(index)));
    child->slot = static_cast<int64_t>(index);
    return child;
  }

  Outcome StepFor(Node& n) {
    const TaskDef& task = *n.task;
    while (true) {
      if (n.children.empty()) {
        if (n.next >= n.items.size()) return FinishTask(n, n.result, task.then);
        auto child = NewIteration(n, n.next, n.result);
        if (task.for_while) {
          ScopeGuard scope(*this, *child);
          auto w = Eval(*task.for_while, n.result, &n, &n.input, nullptr, {});
          if (!w.ok()) return FailTask(n, error_);
          if (!w->Truthy()) return FinishTask(n, n.result, task.then);
        }
        ++n.next;
        n.children.push_back(std::move(child));
      }
      Outcome o = StepList(*n.children.front());
      if (o.blocked()) return o;
      n.children.clear();
      if (o.failed()) return FailTask(n, std::move(o.value));
      n.result = std::move(o.value);
      if (o.flow.kind == Kind::kEnd) return FinishTask(n, n.result, o.flow);
    }
  }

  // True when stepping `n` could only answer Blocked, with no effect: a call, process or
  // wait whose result has not arrived (or an iteration list whose current task is one).
  // Forks and parallel fors skip such branches, so an event costs a few comparisons per
  // idle branch instead of a step of each (a fork of 1,000 got 1,000 steps per result).
  static bool IdleLeaf(const Node& n) {
    if (n.type != Node::Type::kTask || n.inbox != Node::Inbox::kNone || !n.task) return false;
    const TaskDef& t = *n.task;
    if (n.phase == Node::Phase::kParked) return true;
    if (n.phase == Node::Phase::kActivity || n.phase == Node::Phase::kRetryWait) {
      return (t.type == TaskType::kCall && !t.function) || t.type == TaskType::kRun;
    }
    return n.phase == Node::Phase::kTimer && t.type == TaskType::kWait;
  }
  static bool Idle(const Node& n) {
    if (n.type == Node::Type::kList) return n.children.size() == 1 && IdleLeaf(*n.children.front());
    return IdleLeaf(n);
  }

  Outcome StepParallelFor(Node& n) {
    const TaskDef& task = *n.task;
    while (true) {
      while (n.children.size() < static_cast<size_t>(task.concurrency) && n.next < n.items.size()) {
        n.children.push_back(NewIteration(n, n.next, n.input));
        ++n.next;
      }
      bool progressed = false;
      for (size_t i = 0; i < n.children.size();) {
        if (Idle(*n.children[i])) {
          ++i;
          continue;
        }
        Outcome o = StepList(*n.children[i]);
        if (o.blocked()) {
          ++i;
          continue;
        }
        int64_t slot = n.children[i]->slot;
        n.children.erase(n.children.begin() + static_cast<std::ptrdiff_t>(i));
        if (o.failed()) return FailTask(n, std::move(o.value));
        n.outputs.SetAt(static_cast<size_t>(slot), std::move(o.value));
        --n.pending;
        progressed = true;
        if (o.flow.kind == Kind::kEnd) return FinishTask(n, n.outputs, o.flow);
      }
      if (n.pending == 0) return FinishTask(n, n.outputs, task.then);
      if (!progressed || n.next >= n.items.size()) return Outcome::Blocked();
    }
  }

  Outcome StepFork(Node& n) {
    const TaskDef& task = *n.task;
    for (size_t i = 0; i < n.children.size();) {
      if (Idle(*n.children[i])) {
        ++i;
        continue;
      }
      Outcome o = StepTask(*n.children[i]);
      if (o.blocked()) {
        ++i;
        continue;
      }
      int64_t slot = n.children[i]->slot;
      n.children.erase(n.children.begin() + static_cast<std::ptrdiff_t>(i));
      if (o.failed()) return FailTask(n, std::move(o.value));
      if (task.compete) {
        CancelSubtree(n, /*record_self=*/false);
        return FinishTask(n, std::move(o.value), task.then);
      }
      n.outputs.SetAt(static_cast<size_t>(slot), std::move(o.value));
      --n.pending;
    }
    if (n.pending == 0) return FinishTask(n, n.outputs, task.then);
    return Outcome::Blocked();
  }

  Outcome StepTry(Node& n) {
    const TaskDef& task = *n.task;
    const CatchDef& c = *task.catch_def;
    while (true) {
      if (n.phase == Node::Phase::kCompensating) {
        // catch.compensate: the try body's compensable tasks are undone before catch.do.
        Outcome o = StepSaga(n);
        if (o.blocked()) return o;
        if (o.failed()) {
          if (saga_failed_.IsNull()) saga_failed_ = std::move(o.value);
          return Outcome::Blocked();
        }
        Json error = std::move(n.result);
        n.result = Json();
        n.items = Json();
        n.next = 0;
        n.phase = Node::Phase::kRunning;
        if (!c.has_do) return FinishTask(n, n.input, task.then);
        EnterCatch(n, c, std::move(error));
        continue;
      }
      if (n.phase == Node::Phase::kRetryWait) {
        if (!BeginNextAttempt(n, Node::Phase::kRunning)) return Outcome::Blocked();
        n.children.push_back(NewList(task.children, n.input));
      }
      Outcome o = StepList(*n.children.front());
      if (o.blocked()) return o;
      n.children.clear();
      if (o.done()) {
        return FinishTask(n, std::move(o.value), o.flow.kind == Kind::kEnd ? o.flow : task.then);
      }
      if (n.phase == Node::Phase::kCatching) return FailTask(n, std::move(o.value));
      Json error = std::move(o.value);
      auto caught = Catches(n, c, error);
      if (!caught.ok()) return FailTask(n, error_);
      if (!*caught) return FailTask(n, std::move(error));
      auto delay = c.retry ? RetryDelay(n, *c.retry, error) : Result<int64_t>(int64_t{-1});
      if (!delay.ok()) return FailTask(n, error_);
      if (*delay >= 0) {
        ScheduleRetry(n, std::move(error), *delay);
        return Outcome::Blocked();
      }
      if (c.compensate && !InSaga()) {
        Json records = TakeSagaRecords(n.activity_id);
        if (!records.empty()) {
          n.phase = Node::Phase::kCompensating;
          n.items = std::move(records);
          n.next = 0;
          n.result = std::move(error);
          continue;
        }
      }
      if (!c.has_do) return FinishTask(n, n.input, task.then);
      EnterCatch(n, c, std::move(error));
    }
  }

  void EnterCatch(Node& n, const CatchDef& c, Json error) {
    n.phase = Node::Phase::kCatching;
    auto handler = NewList(c.do_list, n.input);
    handler->vars.emplace_back(c.as, std::move(error));
    n.children.push_back(std::move(handler));
  }

  Result<bool> Catches(Node& n, const CatchDef& c, const Json& error) {
    if (!ErrorMatches(c.errors_with, error)) return false;
    return ErrorGuard(n, c.as, error, c.when, c.except_when);
  }

  // `when` true (if given) and `exceptWhen` false (if given), evaluated on the error with the
  // error also bound to `$<as>`: the shared rule of catch and retry policies.
  Result<bool> ErrorGuard(Node& n, const std::string& as, const Json& error,
                          const std::optional<expr::ExprId>& when,
                          const std::optional<expr::ExprId>& except_when) {
    if (!when && !except_when) return true;
    Node holder;
    holder.vars.emplace_back(as, error);
    ScopeGuard scope(*this, holder);
    if (when) {
      auto r = Eval(*when, error, &n, &n.input, nullptr, {});
      if (!r.ok()) return r.status();
      if (!r->Truthy()) return false;
    }
    if (except_when) {
      auto r = Eval(*except_when, error, &n, &n.input, nullptr, {});
      if (!r.ok()) return r.status();
      if (r->Truthy()) return false;
    }
    return true;
  }

  // The delay before the next attempt, or -1 when the policy allows no more.
  Result<int64_t> RetryDelay(Node& n, const RetryPolicy& p, const Json& error) {
    if (p.max_retries >= 0 && n.attempt >= p.max_retries) return int64_t{-1};
    auto allowed = ErrorGuard(n, n.task->catch_def->as, error, p.when, p.except_when);
    if (!allowed.ok()) return allowed.status();
    if (!*allowed) return int64_t{-1};
    return NextDelay(n, p, error);
  }

  // The delay before attempt n.attempt + 1 under `p` (-1: no more attempts): backoff, then
  // jitter, then at least the error's Retry-After (capped at the policy's maxDelay).
  int64_t NextDelay(Node& n, const RetryPolicy& p, const Json& error) {
    if (p.max_retries >= 0 && n.attempt >= p.max_retries) return -1;
    int64_t delay = BackoffDelay(p, n.attempt + 1);
    if (p.jitter_to_ms > p.jitter_from_ms) {
      uint64_t span = static_cast<uint64_t>(p.jitter_to_ms - p.jitter_from_ms) + 1;
      delay += p.jitter_from_ms + static_cast<int64_t>(SplitMix64(&s_.rng) % span);
    } else {
      delay += p.jitter_from_ms;
    }
    if (p.jitter_ratio > 0 && delay > 0) {
      auto span = static_cast<uint64_t>(static_cast<double>(delay) * p.jitter_ratio);
      if (span > 0) {
        delay +=
            static_cast<int64_t>(SplitMix64(&s_.rng) % (2 * span + 1)) - static_cast<int64_t>(span);
      }
    }
    Json retry_after = error.Get("retryAfter");
    if (retry_after.IsNumber() && retry_after.AsNumber() > 0) {
      double ms = std::min(retry_after.AsNumber() * 1000.0, 9e15);
      if (p.max_delay_ms >= 0) ms = std::min(ms, static_cast<double>(p.max_delay_ms));
      delay = std::max(delay, static_cast<int64_t>(ms));
    }
    if (p.limit_ms >= 0 && now_ + delay - n.started_at > p.limit_ms) return -1;
    return delay;
  }

  Outcome StepListen(Node& n) {
    const TaskDef& task = *n.task;
    const ListenDef& l = *task.listen;
    while (!n.queued_events.empty()) {
      Json event = std::move(n.queued_events.front());
      n.queued_events.erase(n.queued_events.begin());
      int matched_filter = -1;
      for (size_t i = 0; i < l.filters.size(); ++i) {
        if (l.mode == ListenDef::Mode::kAll && n.matched[i]) continue;
        auto m = FilterMatches(n, l, i, event);
        if (!m.ok()) return FailTask(n, error_);
        if (*m) {
          matched_filter = static_cast<int>(i);
          break;
        }
      }
      bool any_all = l.mode == ListenDef::Mode::kAny && l.filters.empty();
      if (matched_filter < 0 && !any_all) continue;
      if (matched_filter >= 0) n.matched[static_cast<size_t>(matched_filter)] = 1;
      Json item = l.read == "envelope" ? event : event.Get("data");
      bool finished = false;
      if (l.mode == ListenDef::Mode::kOne) {
        n.events.Append(item);
        finished = true;
      } else if (l.mode == ListenDef::Mode::kAll) {
        n.events.Append(item);
        finished = std::all_of(n.matched.begin(), n.matched.end(), [](uint8_t m) { return m; });
      } else if (l.until_expr) {
        auto u = Eval(*l.until_expr, event, &n, &n.input, nullptr, {});
        if (!u.ok()) return FailTask(n, error_);
        // Events that only satisfy `until` are not part of the output.
        if (u->Truthy()) {
          finished = true;
        } else {
          n.events.Append(item);
        }
      } else {
        n.events.Append(item);
        finished = true;
      }
      if (finished) {
        t_.commands.push_back(Unsubscribe{n.activity_id});
        n.activity_id = 0;
        n.queued_events.clear();
        return FinishTask(n, n.events, task.then);
      }
    }
    return Outcome::Blocked();
  }

  Result<bool> FilterMatches(Node& n, const ListenDef& l, size_t i, const Json& event) {
    const Json& filter = l.filters[i];
    for (const auto& [key, expr_id] : l.filter_exprs[i]) {
      Json actual = event.Get(key);
      if (!event.Has(key)) return false;
      if (expr_id) {
        auto r = Eval(*expr_id, actual, &n, &n.input, nullptr, {});
        if (!r.ok()) return r.status();
        if (!r->Truthy()) return false;
        continue;
      }
      Json expected = filter.Get(key);
      if (actual == expected) continue;
      if (expected.IsString() && actual.IsString()) {
        try {
          std::regex re(std::string(expected.AsString()));
          if (std::regex_match(std::string(actual.AsString()), re)) continue;
        } catch (const std::regex_error&) {
          // Not a regex: plain equality already failed.
        }
      }
      return false;
    }
    return true;
  }

  // ---- activities -----------------------------------------------------------------------
  Outcome StartActivity(Node& n, int64_t timeout_ms) {
    const TaskDef& task = *n.task;
    const std::string& kind = task.call_kind;
    if (kind == "function") {
      auto r = EvalTemplate(task.args, n.input, &n, &n.input, nullptr, {});
      if (!r.ok()) return FailTask(n, error_);
      auto child = std::make_unique<Node>();
      child->task = task.function.get();
      child->raw_input = std::move(r).value();
      n.children.push_back(std::move(child));
      return StepChildTask(n);
    }
    if (kind == "catalog") {
      return FailTask(n, MakeError(ErrorKind::kConfiguration, 400, "Unsupported function",
                                   "function '" + std::string(task.body.Get("call").AsString()) +
                                       "' is not in use.functions, and catalogs are not supported "
                                       "by this runtime yet",
                                   task.ref));
    }
    if (kind == "grpc" || kind == "asyncapi" || kind == "a2a" || kind == "mcp" ||
        kind == "container") {
      return FailTask(n, MakeError(ErrorKind::kRuntime, 501, "Not supported",
                                   std::string(task.type == TaskType::kCall ? "call: " : "run: ") +
                                       kind + " is not supported by this runtime yet",
                                   task.ref));
    }
    auto r = EvalTemplate(task.args, n.input, &n, &n.input, nullptr, {});
    if (!r.ok()) return FailTask(n, error_);
    Json request = std::move(r).value();
    n.activity_id = NewId();
    n.phase = Node::Phase::kActivity;
    if (kind == "workflow") {
      StartChild child;
      child.activity_id = n.activity_id;
      child.task_ref = task.ref;
      child.namespace_ = std::string(request.Get("namespace").AsString());
      child.name = std::string(request.Get("name").AsString());
      child.version = request.Get("version").IsString()
                          ? std::string(request.Get("version").AsString())
                          : "latest";
      child.input = request.Has("input") ? request.Get("input") : n.input;
      child.await = task.await;
      t_.commands.push_back(std::move(child));
      if (!task.await) {
        n.phase = Node::Phase::kRunning;
        return FinishTask(n, n.input, task.then);
      }
      return Outcome::Blocked();
    }
    if (kind == "http") {
      auto built = BuildHttpRequest(n, std::move(request));
      if (!built.ok()) return FailTask(n, error_);
      request = std::move(built).value();
    } else if (kind == "shell" || kind == "script") {
      request.Set("return", Json::String(task.return_mode));
      request.Set("await", Json::Bool(task.await));
    }
    ExecuteTask exec;
    exec.activity_id = n.activity_id;
    exec.task_ref = task.ref;
    exec.kind = kind;
    exec.request = std::move(request);
    exec.attempt = AttemptOf(n);
    // The activity id makes the key unique per run of the task (for iterations and loops
    // reuse the ref); it is stable across re-deliveries because it is part of the state.
    exec.idempotency_key = s_.instance_id + ":" + task.ref + ":" + std::to_string(exec.attempt) +
                           ":" + std::to_string(n.activity_id);
    exec.timeout_ms = timeout_ms;
    t_.commands.push_back(std::move(exec));
    return Outcome::Blocked();
  }

  // The retry attempt of the nearest enclosing try: stable keys across a crash, new per retry.
  uint32_t AttemptOf(const Node& n) const {
    uint32_t attempt = n.task && n.task->type != TaskType::kTry ? n.attempt : 0;
    for (const Node* a : ancestors_) {
      if (a->type == Node::Type::kTask && a->task && a->task->type == TaskType::kTry) {
        attempt += a->attempt;
      }
    }
    return attempt;
  }

  Result<Json> BuildHttpRequest(Node& n, Json with) {
    const TaskDef& task = *n.task;
    Json endpoint = with.Get("endpoint");
    Json auth = with.Get("authentication");
    std::string uri;
    if (endpoint.IsObject()) {
      uri = std::string(endpoint.Get("uri").AsString());
      if (auth.IsNull()) auth = endpoint.Get("authentication");
    } else {
      uri = std::string(endpoint.AsString());
    }
    Json raw_endpoint = task.body.Get("with").Get("endpoint");
    if (raw_endpoint.IsObject()) raw_endpoint = raw_endpoint.Get("uri");
    std::string_view inner;
    if (!(raw_endpoint.IsString() && expr::IsRuntimeExpression(raw_endpoint.AsString(), &inner))) {
      auto expanded = ExpandUriTemplate(uri, n.input);
      if (!expanded.ok()) {
        error_ = MakeError(ErrorKind::kExpression, 400, "Invalid URI template",
                           expanded.status().message(), task.ref + "/with/endpoint");
        return expanded.status();
      }
      uri = std::move(expanded).value();
    }
    Json request = Json::Object();
    std::string method(with.Get("method").IsString() ? with.Get("method").AsString() : "get");
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    request.Set("method", Json::String(method));
    request.Set("endpoint", Json::String(uri));
    Json headers = Json::Object();
    with.Get("headers").ForEachMember([&](std::string_view k, const Json& v) {
      headers.Set(k, v.IsString() ? v : Json::String(v.Dump()));
    });
    request.Set("headers", headers);
    Json query = Json::Object();
    with.Get("query").ForEachMember([&](std::string_view k, const Json& v) {
      query.Set(k, v.IsString() ? v : Json::String(v.Dump()));
    });
    request.Set("query", query);
    if (with.Has("body")) request.Set("body", with.Get("body"));
    request.Set("output",
                with.Get("output").IsString() ? with.Get("output") : Json::String("content"));
    request.Set("redirect", Json::Bool(with.Get("redirect").AsBool()));
    if (!auth.IsNull()) request.Set("authentication", auth);
    return request;
  }

  Outcome StepActivity(Node& n) {
    if (n.task->function) return StepChildTask(n);
    if (n.phase == Node::Phase::kRetryWait) {
      if (!BeginNextAttempt(n, Node::Phase::kNew)) return Outcome::Blocked();
      return StartTask(n);
    }
    switch (n.inbox) {
      case Node::Inbox::kOk: {
        n.inbox = Node::Inbox::kNone;
        n.activity_id = 0;
        Json result = std::move(n.result);
        if (n.task->type == TaskType::kRun && !n.task->await) result = n.input;
        return FinishTask(n, std::move(result), n.task->then);
      }
      case Node::Inbox::kFailed: {
        n.inbox = Node::Inbox::kNone;
        n.activity_id = 0;
        n.phase = Node::Phase::kRunning;
        Json error = std::move(n.result);
        n.result = Json();
        return FailActivity(n, std::move(error));
      }
      case Node::Inbox::kNone:
      case Node::Inbox::kTimer:
      case Node::Inbox::kTimeout:
        break;
    }
    return Outcome::Blocked();
  }

  // ---- expressions ----------------------------------------------------------------------
  struct ScopeGuard {
    ScopeGuard(Run& run, Node& node) : run_(run), pushed_(node.vars.size()) {
      run_.ancestors_.push_back(&node);
      for (auto& [name, value] : node.vars) run_.bindings_.scoped.emplace_back(name, &value);
    }
    ~ScopeGuard() {
      run_.ancestors_.pop_back();
      run_.bindings_.scoped.resize(run_.bindings_.scoped.size() - pushed_);
    }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    Run& run_;
    size_t pushed_;
  };

  // Evaluates; on failure sets error_ to the DSL's expression error and returns its status.
  // The error's `instance` is the task's reference, or `where` outside any task.
  Result<Json> Eval(expr::ExprId id, const Json& data, const Node* task_node, const Json* input,
                    const Json* output, std::string_view where) {
    bindings_.args[static_cast<int>(expr::Arg::kContext)] = &s_.context;
    bindings_.args[static_cast<int>(expr::Arg::kInput)] = input;
    // In a compensation, $output is the output of the task being undone.
    bindings_.args[static_cast<int>(expr::Arg::kOutput)] = output ? output : compensated_output_;
    bindings_.args[static_cast<int>(expr::Arg::kSecrets)] = &options_.secrets;
    bindings_.args[static_cast<int>(expr::Arg::kRuntime)] = &options_.runtime;
    // $workflow (with its date descriptors) is built once per transition, and only for an
    // expression that reads it.
    bindings_.args[static_cast<int>(expr::Arg::kWorkflow)] =
        id < wf_.uses_workflow.size() && wf_.uses_workflow[id] ? &WorkflowArg() : nullptr;
    Json task_arg;
    if (task_node && task_node->task && id < wf_.uses_task.size() && wf_.uses_task[id]) {
      task_arg = TaskArg(*task_node);
      bindings_.args[static_cast<int>(expr::Arg::kTask)] = &task_arg;
    } else {
      bindings_.args[static_cast<int>(expr::Arg::kTask)] = nullptr;
    }
    auto r = wf_.programs->Evaluate(id, data, bindings_);
    bindings_.args[static_cast<int>(expr::Arg::kTask)] = nullptr;
    if (!r.ok()) {
      error_ = MakeError(ErrorKind::kExpression, 400, "Expression evaluation failed",
                         r.status().message() + " (in '" + wf_.programs->Text(id) + "')",
                         task_node && task_node->task ? task_node->task->ref : where);
    }
    return r;
  }

  Result<Json> EvalTemplate(const ValueTemplate& t, const Json& data, const Node* task_node,
                            const Json* input, const Json* output, std::string_view where) {
    switch (t.mode) {
      case ValueTemplate::Mode::kConstant:
        return t.constant;
      case ValueTemplate::Mode::kExpression:
        return Eval(t.expr, data, task_node, input, output, where);
      case ValueTemplate::Mode::kObject: {
        Json out = Json::Object();
        for (const auto& [key, member] : t.members) {
          auto r = EvalTemplate(member, data, task_node, input, output, where);
          if (!r.ok()) return r;
          out.Set(key, std::move(r).value());
        }
        return out;
      }
      case ValueTemplate::Mode::kArray: {
        Json out = Json::Array();
        for (const auto& item : t.items) {
          auto r = EvalTemplate(item, data, task_node, input, output, where);
          if (!r.ok()) return r;
          out.Append(std::move(r).value());
        }
        return out;
      }
    }
    return Json();
  }

  Result<int64_t> EvalDuration(const ValueTemplate& t, const Json& data, const Node* task_node) {
    auto v = EvalTemplate(t, data, task_node, &data, nullptr, "");
    if (!v.ok()) return v.status();
    auto ms = DurationToMillis(*v);
    if (!ms.ok()) {
      error_ = MakeError(ErrorKind::kConfiguration, 400, "Invalid duration", ms.status().message(),
                         task_node && task_node->task ? task_node->task->ref : "/timeout");
    }
    return ms;
  }

  const Json& WorkflowArg() {
    if (workflow_arg_.IsNull()) {
      workflow_arg_ = Json::Object();
      workflow_arg_.Set("id", Json::String(s_.instance_id));
      workflow_arg_.Set("definition", wf_.document);
      workflow_arg_.Set("input", s_.raw_input);
      workflow_arg_.Set("startedAt", DateTimeDescriptor(s_.started_at));
    }
    return workflow_arg_;
  }

  Json TaskArg(const Node& n) {
    Json t = Json::Object();
    t.Set("name", Json::String(n.task->name));
    t.Set("reference", Json::String(n.task->ref));
    t.Set("definition", n.task->body);
    t.Set("input", n.raw_input);
    t.Set("output", Json());
    t.Set("startedAt", DateTimeDescriptor(n.started_at));
    return t;
  }

  // ---- small helpers --------------------------------------------------------------------
  uint64_t NewId() { return s_.next_id++; }

  std::string NewUuid() {
    uint64_t a = SplitMix64(&s_.rng);
    uint64_t b = SplitMix64(&s_.rng);
    a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
                  static_cast<unsigned long long>(a >> 32),
                  static_cast<unsigned long long>((a >> 16) & 0xffff),
                  static_cast<unsigned long long>(a & 0xffff),
                  static_cast<unsigned long long>(b >> 48),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
  }

  void Record(LifecycleKind kind, const Node* n, Json data) {
    bool task_entry = static_cast<uint8_t>(kind) >= 10;
    if (task_entry && !options_.record_task_lifecycle && kind != LifecycleKind::kTaskFaulted)
      return;
    LifecycleEntry& e =
        t_.lifecycle.emplace_back(LifecycleEntry{kind, now_, {}, {}, 0, std::move(data)});
    if (n && n->task) {
      e.task_ref = n->task->shared_ref;
      e.task_name = n->task->shared_name;
      e.attempt = n->attempt;
    }
  }

  // An entry about the task a saga record names.
  void RecordRef(LifecycleKind kind, const Json& record, Json data) {
    LifecycleEntry e{kind, now_, std::string(record.Get("ref").AsString()), {}, 0, std::move(data)};
    if (const TaskDef* def = wf_.FindTask(e.task_ref)) e.task_name = def->name;
    t_.lifecycle.push_back(std::move(e));
  }

  const CompiledWorkflow& wf_;
  const Interpreter::Options& options_;
  Transition& t_;
  InstanceState& s_;
  Millis now_;
  size_t budget_ = 0;
  bool step_root_ = false;
  expr::Bindings bindings_;
  std::vector<Node*> ancestors_;
  Json workflow_arg_;
  Json error_;         // the DSL error of the last failed evaluation
  Json parked_error_;  // the first error that parked a task in this transition
  Json saga_failed_;   // the error of a try's compensation that failed in this transition
  const Json* compensated_output_ = nullptr;  // $output inside a compensation

 public:
  void SetBudget(size_t b) { budget_ = b; }
};

}  // namespace

int64_t BackoffDelay(const RetryPolicy& p, uint32_t retry) {
  double d = static_cast<double>(p.delay_ms);
  switch (p.backoff) {
    case RetryPolicy::Backoff::kConstant:
      break;
    case RetryPolicy::Backoff::kLinear: {
      double inc = p.increment_ms >= 0 ? static_cast<double>(p.increment_ms) : d;
      d += inc * (retry - 1);
      if (p.max_delay_ms >= 0) d = std::min(d, static_cast<double>(p.max_delay_ms));
      break;
    }
    case RetryPolicy::Backoff::kExponential:
      d *= std::pow(p.multiplier, std::min<uint32_t>(retry - 1, 64));
      if (p.max_delay_ms >= 0) d = std::min(d, static_cast<double>(p.max_delay_ms));
      break;
  }
  return static_cast<int64_t>(std::min(d, 9e15));
}

RetryPolicy BuiltinDefaultRetryPolicy() {
  RetryPolicy p;
  p.delay_ms = 1000;
  p.backoff = RetryPolicy::Backoff::kExponential;
  p.multiplier = 2;
  p.max_delay_ms = 60000;
  p.max_retries = 3;
  p.jitter_ratio = 0.1;
  return p;
}

Result<RetryPolicy> ParseDefaultRetryPolicy(const Json& config, const RetryPolicy& base) {
  if (!config.IsObject()) {
    return Status::InvalidArgument(std::string("a retry policy must be an object, got ") +
                                   config.KindName());
  }
  RetryPolicy p = base;
  Status status;
  auto duration = [&](std::string_view key, const Json& v, int64_t* out) {
    auto ms = DurationToMillis(v);
    if (!ms.ok()) {
      status = Status::InvalidArgument("'" + std::string(key) + "': " + ms.status().message());
    } else {
      *out = *ms;
    }
  };
  config.ForEachMember([&](std::string_view key, const Json& v) {
    if (!status.ok()) return;
    if (key == "attempts") {
      if (!v.IsInteger() || v.AsInt() < 0 || v.AsInt() > 1000000) {
        status = Status::InvalidArgument(
            "'attempts' must be an integer from 0 to 1000000 (retries after the first attempt)");
      } else {
        p.max_retries = v.AsInt();
      }
    } else if (key == "delay") {
      duration(key, v, &p.delay_ms);
    } else if (key == "maxDelay") {
      duration(key, v, &p.max_delay_ms);
    } else if (key == "multiplier") {
      if (!v.IsNumber() || v.AsNumber() < 1 || v.AsNumber() > 1e6) {
        status = Status::InvalidArgument("'multiplier' must be a number from 1 to 1000000");
      } else {
        p.multiplier = v.AsNumber();
        p.backoff = v.AsNumber() == 1 ? RetryPolicy::Backoff::kConstant
                                      : RetryPolicy::Backoff::kExponential;
      }
    } else if (key == "jitter") {
      if (!v.IsNumber() || v.AsNumber() < 0 || v.AsNumber() > 1) {
        status = Status::InvalidArgument("'jitter' must be a fraction from 0 to 1");
      } else {
        p.jitter_ratio = v.AsNumber();
      }
    } else {
      status =
          Status::InvalidArgument("unknown retry policy key '" + std::string(key) +
                                  "' (expected attempts, delay, multiplier, maxDelay, jitter)");
    }
  });
  if (!status.ok()) return status;
  return p;
}

namespace {
const Node* FindNode(const Node& n, Node::Phase phase, bool with_error) {
  if (n.type == Node::Type::kTask && n.phase == phase && (!with_error || !n.error.IsNull())) {
    return &n;
  }
  for (const auto& c : n.children) {
    if (const Node* found = FindNode(*c, phase, with_error)) return found;
  }
  return nullptr;
}
}  // namespace

std::string Interpreter::RepairRefusal(const InstanceState& s, const OperatorAction& a) {
  using K = OperatorAction::Kind;
  std::string status = WorkflowStatusName(s.status);
  bool compensation_failed = s.status == WorkflowStatus::kCompensationFailed;
  bool parked = s.root && FindNode(*s.root, Node::Phase::kParked, false);
  switch (a.kind) {
    case K::kDiscard:
      if (!IsDeadLetter(s.status)) {
        return "instance is " + status +
               "; discard applies to faulted or compensation_failed instances (cancel stops a "
               "live one)";
      }
      return {};
    case K::kRetry:
    case K::kSkip: {
      std::string verb = a.kind == K::kRetry ? "retry" : "skip";
      if (!IsDeadLetter(s.status)) {
        return "instance is " + status + "; " + verb +
               " applies to faulted or compensation_failed instances";
      }
      if (compensation_failed) {
        if (!s.root || !FindNode(*s.root, Node::Phase::kCompensating, true)) {
          return "instance has no failed compensation to " + verb;
        }
        if (a.has_input || a.has_context) {
          return "input and context cannot be replaced when a compensation is retried";
        }
        return {};
      }
      if (!s.root) {
        return "instance faulted outside its tasks (its input, output or timeout expression); "
               "start a new instance instead";
      }
      if (a.kind == K::kSkip && !parked) {
        return "instance has no failed task to skip (it timed out); retry restarts what was "
               "running";
      }
      if (a.has_input && !parked) {
        return "instance has no failed task to give input to (it timed out)";
      }
      return {};
    }
    case K::kCompensate: {
      if (compensation_failed) return {};
      if (s.status == WorkflowStatus::kPending || s.status == WorkflowStatus::kCompleted ||
          s.status == WorkflowStatus::kCancelled || s.status == WorkflowStatus::kCompensated ||
          s.status == WorkflowStatus::kCompensating) {
        return "instance is " + status + "; compensate applies to faulted, compensation_failed " +
               "and live instances";
      }
      if (!HasCompensableRecords(s)) {
        return "no completed task of this instance declares a compensation";
      }
      return {};
    }
  }
  return "unknown action";
}

Interpreter::Interpreter() : Interpreter(Options{}) {}
Interpreter::Interpreter(Options options) : options_(std::move(options)) {}

Result<Transition> Interpreter::Advance(const CompiledWorkflow& workflow, InstanceState state,
                                        const Event& event) const {
  Transition t;
  t.state = std::move(state);
  Run run(workflow, options_, t, event.now);
  run.SetBudget(options_.step_budget);
  run.Apply(event);
  return t;
}

}  // namespace baton::engine
