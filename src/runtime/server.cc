#include "runtime/server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "base/thread_name.h"
#include "engine/codec.h"
#include "engine/error.h"
#include "engine/interpreter.h"
#include "engine/workflow.h"
#include "model/document.h"
#include "runtime/definition_cache.h"
#include "runtime/views.h"

namespace baton::runtime {

namespace {

using engine::Millis;

Millis NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 26 characters of lowercase Crockford base32: 48 bits of milliseconds, then 80 random
// bits (a ULID), so ids sort by creation time.
std::string NewId() {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<uint64_t>(NowMillis()) * 0x9e3779b97f4a7c15ULL};
  uint64_t ms = static_cast<uint64_t>(NowMillis());
  std::string id(26, '0');
  for (int i = 9; i >= 0; --i) {
    id[static_cast<size_t>(i)] = kAlphabet[ms & 31];
    ms >>= 5;
  }
  uint64_t r1 = rng();
  uint64_t r2 = rng();
  for (int i = 10; i < 26; ++i) {
    uint64_t& r = i < 22 ? r1 : r2;
    id[static_cast<size_t>(i)] = kAlphabet[r & 31];
    r >>= 5;
  }
  return id;
}

const char* StatusText(engine::WorkflowStatus s) { return engine::WorkflowStatusName(s); }

engine::WorkflowStatus StatusFromText(const std::string& text) {
  for (int i = 0; i <= static_cast<int>(engine::WorkflowStatus::kCompensationFailed); ++i) {
    auto s = static_cast<engine::WorkflowStatus>(i);
    if (text == engine::WorkflowStatusName(s)) return s;
  }
  return engine::WorkflowStatus::kFaulted;
}

bool IsTerminalText(const std::string& status) {
  return status == "completed" || status == "faulted" || status == "cancelled" ||
         status == "compensated" || status == "compensation_failed";
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Mail: something that happens to one instance, queued until its worker takes it.
struct Mail {
  // kConsume: only removes the work row `work_id` (a child started without `await`).
  // kRepair: an operator action (body: OperatorAction); `view` receives the instance's view
  // once it is built, for `done` to hand out after the commit.
  enum class Kind : uint8_t { kStart, kEvent, kCancel, kSuspend, kResume, kConsume, kRepair };
  Kind kind = Kind::kEvent;
  engine::EventBody body = engine::CancelRequested{};  // kStart / kEvent
  bool consumes_work = false;  // the event is the result of work row `work_id`
  uint64_t work_id = 0;
  bool consumes_timer = false;  // the event is the firing of timer row `timer_id`
  uint64_t timer_id = 0;
  std::string reason;          // kCancel
  std::shared_ptr<Json> view;  // kRepair
  std::function<void(Result<StartResult>)> started;
  std::function<void(Status)> done;
};

// What the commit thread does once a write is durable. Values are unshared (deep copies
// made on the instance's worker) because the commit thread is another thread.
struct Dispatch {
  std::vector<engine::ExecuteTask> tasks;
  std::vector<engine::StartChild> children;
  std::vector<uint64_t> cancel_activities;  // local activity ids
  std::vector<store::TimerRow> timers;
  std::vector<uint64_t> cancel_timers;
  std::vector<Json> publish;
  std::vector<uint64_t> subscribe;  // local activity ids
  std::vector<uint64_t> unsubscribe;
};

struct Instance {
  std::string id;
  int shard = 0;

  // Worker-owned (touched only by the instance's worker, or by the commit thread while
  // `busy` says the worker does not touch it).
  bool loaded = false;
  uint64_t generation = 0;  // the worker generation whose definitions `wf` belongs to
  std::shared_ptr<const engine::CompiledWorkflow> wf;
  engine::InstanceState state;
  engine::EncodeMemo memo;  // of `state`'s large arrays, between two snapshots
  store::InstanceRow row;   // without snapshot
  bool exists = false;      // a committed row exists
  int64_t in_flight = 0;    // activities and children dispatched, result not consumed
  int64_t inbox_next = 0;   // seq of the next held event (suspended instances)

  // Guarded by mu.
  std::mutex mu;
  std::deque<Mail> mailbox;
  bool scheduled = false;
  bool busy = false;       // a worker is advancing it or its write is being committed
  bool abandoned = false;  // its worker was abandoned by the watchdog

  // Its last committed transition left it running (not terminal). Set by the commit thread
  // before it notifies waiters, so WaitInstance may trust `true` without reading the row.
  std::atomic<bool> running{false};
};

struct PendingWrite {
  std::shared_ptr<Instance> inst;
  store::InstanceWrite write;
  Dispatch dispatch;
  std::vector<std::function<void(Result<StartResult>)>> started;
  std::vector<std::pair<std::function<void(Status)>, Status>> done;
  bool terminal = false;
  ViewText terminal_view;  // for waiters and RecentView
  Json child_result;       // output or error for the parent (unshared)
  bool child_ok = false;
  bool evictable = false;                    // nothing in flight: drop from memory after commit
  bool revived = false;                      // an operator made an ended instance live again
  std::vector<std::shared_ptr<Json>> views;  // repairs: filled with the view before commit
};

struct Waiter {
  std::function<void(Result<ViewText>)> done;
  std::shared_ptr<std::atomic<bool>> answered;
};

struct Server::Impl {
  Impl(ServerOptions o, store::Store* s, executors::ExecutorRegistry* e)
      : options(std::move(o)), store(s), executors(e), shared_defs(s) {}

  ServerOptions options;
  store::Store* store;
  executors::ExecutorRegistry* executors;
  DefinitionSources shared_defs;  // definition text by key, thread-safe

  std::atomic<bool> started{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopping{false};

  // --- resident instances ---
  std::mutex resident_mu;
  std::unordered_map<std::string, std::shared_ptr<Instance>> resident;

  // --- workers ---
  struct Worker {
    int shard = 0;
    uint64_t generation = 0;
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::shared_ptr<Instance>> ready;
    bool stop = false;
    // Watchdog: when the current Advance began (0 = idle) and for which instance.
    std::atomic<int64_t> busy_since{0};
    std::shared_ptr<Instance> current;                  // guarded by mu
    std::vector<std::function<void(Status)>> inflight;  // guarded by mu; see GuardCallbacks
    std::atomic<bool> abandoned{false};
  };
  std::mutex workers_mu;  // guards the vector entries being replaced
  std::vector<std::shared_ptr<Worker>> workers;
  std::vector<std::shared_ptr<Worker>> abandoned_workers;
  std::atomic<uint64_t> next_generation{1};

  // --- group commit ---
  std::mutex commit_mu;
  std::condition_variable commit_cv;
  std::condition_variable commit_idle_cv;
  std::deque<PendingWrite> commit_queue;
  bool commit_stop = false;
  bool committing = false;
  std::thread commit_thread;

  // --- activities in flight (global id → owner) ---
  struct Activity {
    std::string instance;
    uint64_t local = 0;
    std::string kind;      // executor kind, or "child"
    std::string child_id;  // kind == "child"
  };
  std::mutex activities_mu;
  std::unordered_map<uint64_t, Activity> activities;
  std::unordered_map<std::string, uint64_t> global_of;       // "instance/local" → global id
  std::unordered_map<std::string, int64_t> in_flight_count;  // instance → activities
  uint64_t next_global = 1;

  // --- subscriptions (listen) ---
  std::mutex subs_mu;
  std::map<std::pair<std::string, uint64_t>, bool> subscriptions;  // (instance, activity)

  // --- timers ---
  struct TimerEntry {
    Millis due;
    std::string instance;
    uint64_t timer_id;
    bool operator>(const TimerEntry& o) const { return due > o.due; }
  };
  struct WaitDeadline {
    Millis due;
    std::string instance;
    std::shared_ptr<std::atomic<bool>> answered;
    std::function<void(Result<ViewText>)> done;
    bool operator>(const WaitDeadline& o) const { return due > o.due; }
  };
  std::mutex timer_mu;
  std::condition_variable timer_cv;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timer_heap;
  std::set<std::pair<std::string, uint64_t>> timer_known;  // loaded or fired, row not gone
  std::set<std::pair<std::string, uint64_t>> timer_cancelled;
  // A min-heap by due (std::push_heap with std::greater). Answered waits stay until their
  // deadline, as a heap cannot remove from its middle: PushWaitLocked drops them whenever
  // the heap doubled, else thousands of `?wait` starts a second, each 60 s away, would hold
  // hundreds of thousands of spent callbacks (and what they hold).
  std::vector<WaitDeadline> wait_heap;
  size_t wait_purge_at = 1024;
  Millis loaded_until = 0;
  // When the timer thread wakes next (guarded by timer_mu); 0 while it is awake, when it
  // sees every entry before it sleeps again. A new entry due later needs no wake-up: a
  // `?wait` start registers one per request, 60 s away.
  Millis timer_sleeps_until = 0;
  bool timer_stop = false;
  std::thread timer_thread;

  // --- views of instances that ended recently (see RememberView) ---
  static constexpr size_t kRecentViews = 4096;
  std::mutex recent_mu;
  std::unordered_map<std::string, ViewText> recent_views;
  std::deque<std::string> recent_order;

  // --- waiters (WaitInstance) ---
  std::mutex waiters_mu;
  std::unordered_map<std::string, std::vector<Waiter>> waiters;

  // --- idempotency keys of starts not committed yet ---
  std::mutex keys_mu;
  struct PendingKey {
    std::string id;
    std::vector<std::function<void(Result<StartResult>)>> also;
  };
  std::unordered_map<std::string, PendingKey> pending_keys;

  // --- maintenance ---
  std::mutex maint_mu;
  std::condition_variable maint_cv;
  bool maint_stop = false;
  std::thread maint_thread;
  std::thread recovery_thread;

  // --- counters ---
  std::atomic<uint64_t> c_commits{0}, c_transitions{0}, c_dispatched{0}, c_redispatched{0},
      c_timers_fired{0}, c_abandoned{0};

  // =====================================================================================
  // Posting mail

  int ShardOf(const std::string& id) const {
    return static_cast<int>(std::hash<std::string>{}(id) % static_cast<size_t>(options.workers));
  }

  std::shared_ptr<Instance> ResidentOrShell(const std::string& id) {
    std::lock_guard<std::mutex> lock(resident_mu);
    auto it = resident.find(id);
    if (it != resident.end()) return it->second;
    auto inst = std::make_shared<Instance>();
    inst->id = id;
    inst->shard = ShardOf(id);
    resident.emplace(id, inst);
    return inst;
  }

  void Post(const std::string& id, Mail mail) {
    while (true) {
      auto inst = ResidentOrShell(id);
      std::unique_lock<std::mutex> lock(inst->mu);
      if (inst->abandoned) {
        // Replaced under our feet by the watchdog: retry with the fresh shell.
        lock.unlock();
        continue;
      }
      inst->mailbox.push_back(std::move(mail));
      if (!inst->busy && !inst->scheduled) {
        inst->scheduled = true;
        lock.unlock();
        Schedule(inst);
      }
      return;
    }
  }

  void Schedule(const std::shared_ptr<Instance>& inst) {
    while (true) {
      std::shared_ptr<Worker> w;
      {
        std::lock_guard<std::mutex> lock(workers_mu);
        w = workers[static_cast<size_t>(inst->shard)];
      }
      std::lock_guard<std::mutex> lock(w->mu);
      if (w->abandoned.load()) continue;  // replaced meanwhile: its successor takes it
      w->ready.push_back(inst);
      w->cv.notify_one();
      return;
    }
  }

  // =====================================================================================
  // Workers

  void WorkerLoop(const std::shared_ptr<Worker>& w) {
    engine::Interpreter::Options io;
    io.secrets = options.secrets.DeepCopy();
    Json runtime = Json::Object();
    runtime.Set("name", Json::String("baton"));
    runtime.Set("version", Json::String("0.1.0"));
    runtime.Set("metadata", Json::Object());
    io.runtime = runtime;
    io.record_task_lifecycle = true;
    io.default_retry = options.default_retry;
    io.namespace_retry = options.namespace_retry;
    engine::Interpreter interpreter(io);
    DefinitionCache defs(&shared_defs, /*single_threaded=*/true);

    while (true) {
      std::shared_ptr<Instance> inst;
      {
        std::unique_lock<std::mutex> lock(w->mu);
        w->cv.wait(lock, [&] { return w->stop || !w->ready.empty(); });
        if (w->ready.empty()) return;
        inst = std::move(w->ready.front());
        w->ready.pop_front();
        w->current = inst;
      }
      std::deque<Mail> mails;
      {
        std::lock_guard<std::mutex> lock(inst->mu);
        inst->scheduled = false;
        if (inst->busy || inst->abandoned) continue;  // rescheduled after its commit
        inst->busy = true;
        mails.swap(inst->mailbox);
      }
      GuardCallbacks(*w, mails);
      Process(*w, interpreter, defs, inst, std::move(mails));
      {
        std::lock_guard<std::mutex> lock(w->mu);
        w->current.reset();
        w->inflight.clear();
      }
      if (w->abandoned.load()) return;  // the watchdog replaced us; our result is void
    }
  }

  // Wraps the callbacks of `mails` so that each answers once, and keeps a failing twin of
  // each in `w.inflight`: if the watchdog abandons this worker mid-transition, it answers
  // them with an error instead of leaving API requests hanging.
  static void GuardCallbacks(Worker& w, std::deque<Mail>& mails) {
    std::vector<std::function<void(Status)>> fails;
    for (auto& m : mails) {
      if (m.started) {
        auto once = std::make_shared<std::atomic<bool>>(false);
        auto fn = std::make_shared<std::function<void(Result<StartResult>)>>(std::move(m.started));
        m.started = [once, fn](Result<StartResult> r) {
          if (!once->exchange(true)) (*fn)(std::move(r));
        };
        fails.push_back([once, fn](Status st) {
          if (!once->exchange(true)) (*fn)(std::move(st));
        });
      }
      if (m.done) {
        auto once = std::make_shared<std::atomic<bool>>(false);
        auto fn = std::make_shared<std::function<void(Status)>>(std::move(m.done));
        m.done = [once, fn](Status st) {
          if (!once->exchange(true)) (*fn)(std::move(st));
        };
        fails.push_back([once, fn](Status st) {
          if (!once->exchange(true)) (*fn)(std::move(st));
        });
      }
    }
    std::lock_guard<std::mutex> lock(w.mu);
    w.inflight = std::move(fails);
  }

  static void FailMails(std::deque<Mail>& mails, const Status& status) {
    for (auto& m : mails) {
      if (m.started) m.started(status);
      if (m.done) m.done(status);
    }
  }

  // Loads an instance's row and snapshot (on its worker).
  Status Load(Worker& w, DefinitionCache& defs, Instance& inst) {
    BATON_ASSIGN_OR_RETURN(auto row, store->GetInstance(inst.id));
    if (!row) return Status::NotFound("no instance with id '" + inst.id + "'");
    BATON_ASSIGN_OR_RETURN(auto wf, defs.Get(row->namespace_, row->name, row->version));
    inst.wf = wf;
    inst.generation = w.generation;
    inst.exists = true;
    if (!row->snapshot.empty()) {
      auto state = engine::DecodeState(*wf, row->snapshot);
      if (!state.ok()) {
        return Status::Internal("instance " + inst.id +
                                ": snapshot cannot be decoded: " + state.status().message());
      }
      inst.state = std::move(state).value();
    } else {
      inst.state = engine::InstanceState();
      inst.state.instance_id = inst.id;
      if (row->ended_at > 0) {
        // Ended without a snapshot (the watchdog faulted it): the row says how.
        inst.state.status = StatusFromText(row->status);
        if (!row->error_json.empty()) {
          auto error = Json::Parse(row->error_json);
          if (error.ok()) inst.state.error = std::move(error).value();
        }
        inst.state.ended_at = row->ended_at;
      }
    }
    row->snapshot.clear();
    inst.row = std::move(*row);
    inst.loaded = true;
    // Activities of this instance that are in flight (dispatched by recovery or before an
    // eviction) keep it resident.
    inst.in_flight = CountInFlight(inst.id);
    inst.inbox_next = 0;
    if (inst.row.suspended) {
      BATON_ASSIGN_OR_RETURN(auto held, store->GetInbox(inst.id));
      if (!held.empty()) inst.inbox_next = held.back().seq + 1;
    }
    return Status::Ok();
  }

  int64_t CountInFlight(const std::string& id) {
    std::lock_guard<std::mutex> lock(activities_mu);
    auto it = in_flight_count.find(id);
    return it == in_flight_count.end() ? 0 : it->second;
  }

  // The activity maps change only through these two (activities_mu held), which keep
  // in_flight_count true, so a load after recovery does not scan every activity.
  void AddActivityLocked(uint64_t global, Activity a) {
    global_of[a.instance + "/" + std::to_string(a.local)] = global;
    ++in_flight_count[a.instance];
    activities[global] = std::move(a);
  }
  void EraseActivityLocked(std::unordered_map<std::string, uint64_t>::iterator it) {
    auto a = activities.find(it->second);
    if (a != activities.end()) {
      auto c = in_flight_count.find(a->second.instance);
      if (c != in_flight_count.end() && --c->second <= 0) in_flight_count.erase(c);
      activities.erase(a);
    }
    global_of.erase(it);
  }

  void Process(Worker& w, const engine::Interpreter& interpreter, DefinitionCache& defs,
               const std::shared_ptr<Instance>& inst, std::deque<Mail> mails) {
    Instance& in = *inst;
    bool is_start = !mails.empty() && mails.front().kind == Mail::Kind::kStart && !in.exists;
    if (is_start) {
      auto wf = defs.Get(in.row.namespace_, in.row.name, in.row.version);
      if (!wf.ok()) {
        FailMails(mails, wf.status());
        Release(inst, /*evict=*/true);
        return;
      }
      in.wf = std::move(wf).value();
      in.generation = w.generation;
      in.loaded = true;
      in.state = engine::InstanceState();
    } else if (!in.loaded || in.generation != w.generation) {
      Status st = Load(w, defs, in);
      if (!st.ok()) {
        if (st.code() != StatusCode::kNotFound) {
          std::fprintf(stderr, "baton: %s\n", st.ToString().c_str());
        }
        FailMails(mails, st);
        Release(inst, /*evict=*/true);
        return;
      }
    }

    PendingWrite pw;
    pw.inst = inst;
    store::InstanceWrite& write = pw.write;
    write.expected_version = in.exists ? in.row.row_version : 0;
    std::string history;  // JSON array items (views.h)
    bool changed = false;
    bool terminal_before = in.exists && IsTerminalText(in.row.status);
    const std::string status_before = in.row.status;
    bool repaired = false;  // an operator action applied in this batch
    Millis now = NowMillis();

    auto advance = [&](engine::EventBody body) -> bool {
      engine::Event event{now, std::move(body)};
      // Only the interpreter's time counts for the watchdog (not loads or compiles).
      w.busy_since.store(NowMillis());
      auto t = interpreter.Advance(*in.wf, std::move(in.state), event);
      w.busy_since.store(0);
      if (!t.ok()) {
        // The engine's own failure (a state that does not fit its definition): fault the
        // instance rather than retry forever.
        std::fprintf(stderr, "baton: instance %s: engine error: %s\n", in.id.c_str(),
                     t.status().ToString().c_str());
        in.state = engine::InstanceState();
        in.state.instance_id = in.id;
        in.state.status = engine::WorkflowStatus::kFaulted;
        in.state.error = engine::MakeError(engine::ErrorKind::kRuntime, t.status().message());
        in.state.ended_at = now;
        changed = true;
        return false;
      }
      in.state = std::move(t->state);
      if (!t->lifecycle.empty()) {
        // The codec writes "[e1,e2,...]"; history keeps the items of every advance.
        std::string entries = engine::EncodeLifecycle(t->lifecycle);
        if (!history.empty()) history.push_back(',');
        history.append(entries, 1, entries.size() - 2);
      }
      CollectCommands(in, t->commands, write, pw.dispatch);
      changed = true;
      return true;
    };

    for (auto& m : mails) {
      if (m.consumes_work) {
        write.remove_work.push_back(m.work_id);
        if (in.in_flight > 0) --in.in_flight;
        changed = true;
      }
      if (m.consumes_timer) {
        write.remove_timers.push_back(m.timer_id);
        changed = true;
      }
      bool terminal = in.exists && engine::IsTerminal(in.state.status);
      switch (m.kind) {
        case Mail::Kind::kStart: {
          if (in.exists) {  // a duplicate start of the same id: cannot happen, but be safe
            if (m.started) m.started(StartResult{in.id, false});
            break;
          }
          in.exists = true;  // from now on, for this batch
          advance(std::move(m.body));
          if (m.started) pw.started.push_back(std::move(m.started));
          break;
        }
        case Mail::Kind::kConsume:
          break;  // the work row went above
        case Mail::Kind::kEvent:
          if (terminal) break;  // late result for an ended instance: only the row goes
          if (in.row.suspended) {
            store::InboxRow row;
            row.instance_id = in.id;
            row.seq = in.inbox_next++;
            row.payload = engine::EncodeEvent(engine::Event{now, std::move(m.body)});
            write.add_inbox.push_back(std::move(row));
            changed = true;
            break;
          }
          advance(std::move(m.body));
          break;
        case Mail::Kind::kCancel:
          if (terminal) {
            pw.done.emplace_back(std::move(m.done),
                                 Status::Conflict("instance " + in.id + " is already " +
                                                  StatusText(in.state.status)));
            break;
          }
          AppendRuntimeEntryJson(&history, now, "instance.cancel_requested", m.reason);
          if (in.row.suspended) {
            in.row.suspended = false;
            write.clear_inbox = true;
            in.inbox_next = 0;
          }
          advance(engine::CancelRequested{m.reason});
          pw.done.emplace_back(std::move(m.done), Status::Ok());
          break;
        case Mail::Kind::kSuspend:
          if (terminal) {
            pw.done.emplace_back(std::move(m.done),
                                 Status::Conflict("instance " + in.id + " is already " +
                                                  StatusText(in.state.status)));
          } else if (in.row.suspended) {
            pw.done.emplace_back(std::move(m.done),
                                 Status::Conflict("instance " + in.id + " is already suspended"));
          } else {
            in.row.suspended = true;
            AppendRuntimeEntryJson(&history, now, "instance.suspended", "");
            changed = true;
            pw.done.emplace_back(std::move(m.done), Status::Ok());
          }
          break;
        case Mail::Kind::kRepair: {
          const auto& action = std::get<engine::OperatorAction>(m.body);
          std::string refusal = engine::Interpreter::RepairRefusal(in.state, action);
          if (refusal.empty() && !in.row.parent_id.empty() && in.row.parent_activity != 0 &&
              action.kind != engine::OperatorAction::Kind::kDiscard &&
              engine::IsTerminal(in.state.status)) {
            // Its parent's task already received this failure: a repaired child's result
            // would reach no one.
            refusal = "instance is a sub-workflow of " + in.row.parent_id +
                      ", whose task already received its failure: repair the parent instead";
          }
          if (!refusal.empty()) {
            pw.done.emplace_back(std::move(m.done),
                                 Status::Conflict("instance " + in.id + ": " + refusal));
            break;
          }
          repaired = true;
          if (in.row.suspended) {
            // compensate on a suspended instance: what was held is dropped with what runs.
            in.row.suspended = false;
            write.clear_inbox = true;
            in.inbox_next = 0;
          }
          advance(std::move(m.body));
          pw.views.push_back(std::move(m.view));
          pw.done.emplace_back(std::move(m.done), Status::Ok());
          break;
        }
        case Mail::Kind::kResume: {
          if (!in.row.suspended) {
            pw.done.emplace_back(
                std::move(m.done),
                Status::Conflict("instance " + in.id + " is not suspended (it is " +
                                 StatusText(in.state.status) + ")"));
            break;
          }
          auto held = store->GetInbox(in.id);
          if (!held.ok()) {
            pw.done.emplace_back(std::move(m.done), held.status());
            break;
          }
          in.row.suspended = false;
          write.clear_inbox = true;
          AppendRuntimeEntryJson(&history, now, "instance.resumed", "");
          changed = true;
          for (const auto& row : *held) {
            auto ev = engine::DecodeEvent(row.payload);
            if (!ev.ok()) {
              std::fprintf(stderr, "baton: instance %s: held event dropped: %s\n", in.id.c_str(),
                           ev.status().ToString().c_str());
              continue;
            }
            advance(std::move(ev->body));
          }
          // Events held in this very batch (before the resume) are replayed too.
          std::vector<store::InboxRow> batch_held;
          batch_held.swap(write.add_inbox);
          for (auto& row : batch_held) {
            auto ev = engine::DecodeEvent(row.payload);
            if (ev.ok()) advance(std::move(ev->body));
          }
          pw.done.emplace_back(std::move(m.done), Status::Ok());
          break;
        }
      }
    }

    if (!changed) {
      // Nothing to write (e.g. a control refused): answer now.
      for (auto& [fn, st] : pw.done) {
        if (fn) fn(st);
      }
      Release(inst, in.in_flight == 0);
      return;
    }

    // Limits, before the commit point.
    std::string output_text = EnforceSizeLimits(in, now);

    // The row.
    store::InstanceRow& row = write.row;
    row = in.row;
    if (!in.exists || write.expected_version == 0) {
      row.id = in.id;
      row.namespace_ = in.wf->namespace_;
      row.name = in.wf->name;
      row.version = in.wf->version;
      row.created_at = now;
      // A start through the API measured (and so wrote) the input already.
      if (row.input_json.empty()) row.input_json = in.state.raw_input.Dump();
    }
    row.status = in.row.suspended && !engine::IsTerminal(in.state.status)
                     ? "suspended"
                     : StatusText(in.state.status);
    row.updated_at = now;
    bool terminal = engine::IsTerminal(in.state.status);
    // Ended now, or ended differently (an operator discarded or compensated a dead letter).
    bool ended_now = terminal && (!terminal_before || row.status != status_before || repaired);
    if (ended_now) {
      row.ended_at = now;
      row.output_json = std::move(output_text);
      row.error_json = in.state.error.IsNull() ? std::string() : in.state.error.Dump();
    } else if (!terminal && terminal_before) {
      // Repaired: live again.
      row.ended_at = 0;
      row.output_json.clear();
      row.error_json = in.state.error.IsNull() ? std::string() : in.state.error.Dump();
      pw.revived = true;
    } else if (!terminal && in.state.status == engine::WorkflowStatus::kCompensating) {
      row.error_json = in.state.error.IsNull() ? std::string() : in.state.error.Dump();
    }
    row.snapshot = engine::EncodeState(*in.wf, in.state, &in.memo);
    if (!history.empty()) {
      store::HistoryRow h;
      h.instance_id = in.id;
      h.seq = in.row.history_length;
      h.time = now;
      h.entries = "[" + history + "]";
      write.history.push_back(std::move(h));
      row.history_length = in.row.history_length + 1;
    }
    // Keep the row (without the snapshot) for the next transition.
    in.row = row;
    in.row.snapshot.clear();

    pw.terminal = ended_now;
    for (auto& v : pw.views) {
      if (v) *v = BuildView(in.row, in.wf.get(), &in.state).DeepCopy();
    }
    if (pw.terminal) {
      // Waiters, and starts that ended in their first transition (`?wait` asks right
      // after), get the view built here instead of re-reading and decoding the row.
      if (!pw.started.empty() || HasWaiters(in.id)) {
        pw.terminal_view = MakeViewText(BuildView(in.row, in.wf.get(), &in.state));
      }
      if (!in.row.parent_id.empty() && in.row.parent_activity != 0) {
        pw.child_ok = in.state.status == engine::WorkflowStatus::kCompleted;
        pw.child_result = (pw.child_ok ? in.state.output : in.state.error).DeepCopy();
        if (!pw.child_ok && pw.child_result.IsNull()) {
          pw.child_result =
              engine::MakeError(engine::ErrorKind::kRuntime, 500, "Sub-workflow cancelled",
                                "the sub-workflow " + in.id + " was cancelled");
        }
      }
    }
    in.in_flight += static_cast<int64_t>(pw.dispatch.tasks.size() + pw.dispatch.children.size());
    pw.evictable = in.in_flight == 0;
    if (w.abandoned.load()) {
      // The watchdog gave up on this transition and faulted the instance from the last
      // committed row: this late result must not be written over it.
      return;
    }
    Submit(std::move(pw));
  }

  // Faults an instance whose context or output outgrew max_instance_bytes. Returns the
  // output as JSON text when the instance completed (measured once, written once).
  std::string EnforceSizeLimits(Instance& in, Millis now) {
    if (engine::IsTerminal(in.state.status) &&
        in.state.status != engine::WorkflowStatus::kCompleted) {
      return {};
    }
    const size_t limit = options.max_instance_bytes;
    auto fault = [&](size_t n, const char* what) {
      // Whatever is running stops here: the instance ends.
      in.state.root.reset();
      in.state.status = engine::WorkflowStatus::kFaulted;
      in.state.output = Json();
      in.state.error = engine::MakeError(
          engine::ErrorKind::kRuntime, 413, "Instance data too large",
          std::string("the workflow ") + what + " is " + std::to_string(n) +
              " bytes; the limit is " + std::to_string(limit) + " bytes (config maxInstanceBytes)",
          "/");
      in.state.ended_at = now;
    };
    // An empty context (the common case) needs no measuring.
    if (!in.state.context.IsNull() && !in.state.context.empty()) {
      size_t n = in.state.context.Dump().size();
      if (n > limit) {
        fault(n, "context");
        return {};
      }
    }
    if (in.state.status != engine::WorkflowStatus::kCompleted) return {};
    std::string output = in.state.output.Dump();
    if (output.size() > limit) {
      fault(output.size(), "output");
      return {};
    }
    return output;
  }

  // Turns the transition's commands into rows of the write and actions after the commit.
  void CollectCommands(Instance& in, std::vector<engine::Command>& commands,
                       store::InstanceWrite& write, Dispatch& d) {
    for (auto& command : commands) {
      std::visit(
          [&](auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, engine::ExecuteTask>) {
              AddWork(in, write, c.activity_id, "task", engine::Command{c});
              engine::ExecuteTask copy = c;
              copy.request = c.request.DeepCopy();
              d.tasks.push_back(std::move(copy));
            } else if constexpr (std::is_same_v<T, engine::StartChild>) {
              AddWork(in, write, c.activity_id, "child", engine::Command{c});
              engine::StartChild copy = c;
              copy.input = c.input.DeepCopy();
              d.children.push_back(std::move(copy));
            } else if constexpr (std::is_same_v<T, engine::CancelActivity>) {
              if (!NetOut(write.add_work, c.activity_id, d)) {
                write.remove_work.push_back(c.activity_id);
                d.cancel_activities.push_back(c.activity_id);
              }
              if (in.in_flight > 0) --in.in_flight;
            } else if constexpr (std::is_same_v<T, engine::StartTimer>) {
              write.add_timers.push_back(store::TimerRow{in.id, c.timer_id, c.due_at});
              d.timers.push_back(store::TimerRow{in.id, c.timer_id, c.due_at});
            } else if constexpr (std::is_same_v<T, engine::CancelTimer>) {
              auto it =
                  std::find_if(write.add_timers.begin(), write.add_timers.end(),
                               [&](const store::TimerRow& t) { return t.timer_id == c.timer_id; });
              if (it != write.add_timers.end()) {
                write.add_timers.erase(it);
                std::erase_if(d.timers,
                              [&](const store::TimerRow& t) { return t.timer_id == c.timer_id; });
              } else {
                write.remove_timers.push_back(c.timer_id);
                d.cancel_timers.push_back(c.timer_id);
              }
            } else if constexpr (std::is_same_v<T, engine::PublishEvent>) {
              d.publish.push_back(c.event.DeepCopy());
            } else if constexpr (std::is_same_v<T, engine::Subscribe>) {
              AddWork(in, write, c.activity_id, "subscribe", engine::Command{c});
              d.subscribe.push_back(c.activity_id);
            } else if constexpr (std::is_same_v<T, engine::Unsubscribe>) {
              if (!NetOut(write.add_work, c.activity_id, d)) {
                write.remove_work.push_back(c.activity_id);
              }
              d.unsubscribe.push_back(c.activity_id);
            }
          },
          command);
    }
  }

  static void AddWork(const Instance& in, store::InstanceWrite& write, uint64_t activity,
                      const char* kind, const engine::Command& command) {
    store::WorkRow row;
    row.instance_id = in.id;
    row.activity_id = activity;
    row.kind = kind;
    row.payload = engine::EncodeCommand(command);
    write.add_work.push_back(std::move(row));
  }

  // A work row added and cancelled within one write is never written nor dispatched.
  static bool NetOut(std::vector<store::WorkRow>& added, uint64_t activity, Dispatch& d) {
    auto it = std::find_if(added.begin(), added.end(),
                           [&](const store::WorkRow& w) { return w.activity_id == activity; });
    if (it == added.end()) return false;
    added.erase(it);
    std::erase_if(d.tasks, [&](const engine::ExecuteTask& t) { return t.activity_id == activity; });
    std::erase_if(d.children,
                  [&](const engine::StartChild& c) { return c.activity_id == activity; });
    std::erase(d.subscribe, activity);
    return true;
  }

  // The worker is done with `inst` without a write (or the write failed before commit).
  void Release(const std::shared_ptr<Instance>& inst, bool evict) {
    bool reschedule = false;
    {
      std::lock_guard<std::mutex> rl(resident_mu);
      std::lock_guard<std::mutex> lock(inst->mu);
      inst->busy = false;
      if (!inst->mailbox.empty()) {
        inst->scheduled = true;
        reschedule = true;
      } else if (evict && !inst->scheduled) {
        auto it = resident.find(inst->id);
        if (it != resident.end() && it->second == inst) resident.erase(it);
      }
    }
    if (reschedule) Schedule(inst);
  }

  // =====================================================================================
  // Group commit

  void Submit(PendingWrite pw) {
    std::lock_guard<std::mutex> lock(commit_mu);
    commit_queue.push_back(std::move(pw));
    commit_cv.notify_one();
  }

  void CommitLoop() {
    std::vector<PendingWrite> batch;
    std::vector<store::InstanceWrite> writes;
    std::vector<store::WriteResult> results;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(commit_mu);
        committing = false;
        commit_idle_cv.notify_all();
        commit_cv.wait(lock, [&] { return commit_stop || !commit_queue.empty(); });
        if (commit_queue.empty()) return;
        committing = true;
        size_t n = std::min(commit_queue.size(), options.max_batch);
        batch.clear();
        for (size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(commit_queue.front()));
          commit_queue.pop_front();
        }
      }
      writes.clear();
      writes.reserve(batch.size());
      for (auto& pw : batch) writes.push_back(std::move(pw.write));
      results.clear();
      Status st = store->CommitTransitions(writes, &results);
      if (!st.ok()) {
        // The in-memory state is ahead of the disk now: stop, and let a restart resume
        // from the last commit (fail-stop, as databases do on fsync failure).
        std::fprintf(stderr, "baton: FATAL: commit failed: %s; stopping\n", st.ToString().c_str());
        std::fflush(stderr);
        std::_Exit(70);
      }
      c_commits.fetch_add(1);
      c_transitions.fetch_add(batch.size());
      for (size_t i = 0; i < batch.size(); ++i) {
        AfterCommit(batch[i], writes[i], results[i]);
      }
    }
  }

  void AfterCommit(PendingWrite& pw, store::InstanceWrite& write, const store::WriteResult& r) {
    Instance& in = *pw.inst;
    if (!r.status.ok()) {
      // Conflict or duplicate: this transition did not happen. Forget the in-memory state;
      // the next event reloads from the store.
      std::fprintf(stderr, "baton: instance %s: transition not committed: %s\n", in.id.c_str(),
                   r.status.ToString().c_str());
      Status st = r.status.code() == StatusCode::kAlreadyExists
                      ? Status::AlreadyExists(r.status.message())
                      : Status::Unavailable("the instance changed concurrently; retry");
      for (auto& fn : pw.started) fn(st);
      for (auto& [fn, s] : pw.done) {
        if (fn) fn(st);
      }
      in.loaded = false;
      in.exists = false;
      ForgetPendingKey(write.row.idempotency_key, st);
      Release(pw.inst, true);
      return;
    }
    in.row.row_version = r.row_version;
    in.exists = true;
    in.running.store(!pw.terminal);

    Dispatch& d = pw.dispatch;
    for (uint64_t t : write.remove_timers) ForgetTimer(in.id, t);
    for (auto& t : d.timers) AddTimer(t);
    for (uint64_t t : d.cancel_timers) CancelTimerEntry(in.id, t);
    for (uint64_t a : d.cancel_activities) CancelActivity(in.id, a);
    for (uint64_t a : write.remove_work) ForgetActivity(in.id, a);
    for (uint64_t a : d.unsubscribe) {
      std::lock_guard<std::mutex> lock(subs_mu);
      subscriptions.erase({in.id, a});
    }
    for (uint64_t a : d.subscribe) {
      std::lock_guard<std::mutex> lock(subs_mu);
      subscriptions[{in.id, a}] = true;
    }
    for (auto& t : d.tasks) DispatchTask(in.id, std::move(t), false);
    for (auto& c : d.children) DispatchChild(in.id, std::move(c));
    for (auto& e : d.publish) Publish(e);

    if (pw.revived) ForgetView(in.id);
    // Before the start callbacks: a `?wait` start asks for the view as soon as its callback
    // runs (on another thread), and a miss would read the row back from the store, decode
    // the snapshot and, the first time, compile the definition on the HTTP thread.
    if (pw.terminal && pw.terminal_view) RememberView(in.id, pw.terminal_view);
    StartResult sr{in.id, true};
    for (auto& fn : pw.started) fn(sr);
    AnswerPendingKey(write.row.idempotency_key, in.id);
    for (auto& [fn, s] : pw.done) {
      if (fn) fn(s);
    }
    if (pw.terminal) {
      NotifyWaiters(in.id, pw.terminal_view);
      if (!write.row.parent_id.empty() && write.row.parent_activity != 0) {
        Mail m;
        m.kind = Mail::Kind::kEvent;
        m.consumes_work = true;
        m.work_id = write.row.parent_activity;
        if (pw.child_ok) {
          m.body = engine::TaskSucceeded{write.row.parent_activity, std::move(pw.child_result)};
        } else {
          m.body = engine::TaskFailed{write.row.parent_activity, std::move(pw.child_result)};
        }
        ForgetActivity(write.row.parent_id, write.row.parent_activity);
        Post(write.row.parent_id, std::move(m));
      }
    }
    Release(pw.inst, pw.evictable);
  }

  // =====================================================================================
  // Activities

  void DispatchTask(const std::string& instance, engine::ExecuteTask task, bool recovered) {
    executors::Executor* ex = executors->Find(task.kind);
    uint64_t local = task.activity_id;
    if (!ex) {
      Mail m;
      m.consumes_work = true;
      m.work_id = local;
      m.body = engine::TaskFailed{
          local,
          engine::MakeError(engine::ErrorKind::kRuntime, 501, "Not supported",
                            "no executor for '" + task.kind + "' in this server", task.task_ref)};
      Post(instance, std::move(m));
      return;
    }
    uint64_t global;
    {
      std::lock_guard<std::mutex> lock(activities_mu);
      global = next_global++;
      AddActivityLocked(global, Activity{instance, local, task.kind, {}});
    }
    c_dispatched.fetch_add(1);
    if (recovered) c_redispatched.fetch_add(1);
    task.activity_id = global;
    ex->Start(std::move(task), [this, global](engine::EventBody result) {
      Activity a;
      {
        std::lock_guard<std::mutex> lock(activities_mu);
        auto it = activities.find(global);
        if (it == activities.end()) return;  // cancelled and forgotten
        a = it->second;
      }
      if (stopping.load()) return;  // left for the restart (the work row stays)
      std::visit(
          [&](auto& b) {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<T, engine::TaskSucceeded> ||
                          std::is_same_v<T, engine::TaskFailed>) {
              b.activity_id = a.local;
            }
          },
          result);
      Mail m;
      m.consumes_work = true;
      m.work_id = a.local;
      m.body = std::move(result);
      Post(a.instance, std::move(m));
    });
  }

  void ForgetActivity(const std::string& instance, uint64_t local) {
    std::lock_guard<std::mutex> lock(activities_mu);
    auto it = global_of.find(instance + "/" + std::to_string(local));
    if (it == global_of.end()) return;
    EraseActivityLocked(it);
  }

  void CancelActivity(const std::string& instance, uint64_t local) {
    Activity a;
    uint64_t global = 0;
    {
      std::lock_guard<std::mutex> lock(activities_mu);
      auto it = global_of.find(instance + "/" + std::to_string(local));
      if (it == global_of.end()) return;
      global = it->second;
      a = activities[global];
      EraseActivityLocked(it);
    }
    if (a.kind == "child") {
      if (!a.child_id.empty()) {
        Mail m;
        m.kind = Mail::Kind::kCancel;
        m.reason = "the parent cancelled the task";
        m.done = [](const Status&) {};
        Post(a.child_id, std::move(m));
      }
      return;
    }
    if (auto* ex = executors->Find(a.kind)) ex->Cancel(global);
  }

  void DispatchChild(const std::string& parent, engine::StartChild c) {
    // Idempotent across restarts: the child's idempotency key names the parent activity.
    std::string key = "child:" + parent + ":" + std::to_string(c.activity_id);
    auto existing = store->FindByIdempotencyKey(key);
    auto fail = [&](Json error) {
      Mail m;
      m.consumes_work = true;
      m.work_id = c.activity_id;
      m.body = engine::TaskFailed{c.activity_id, std::move(error)};
      Post(parent, std::move(m));
    };
    if (existing.ok() && existing->has_value()) {
      const std::string& child_id = **existing;
      RegisterChild(parent, c.activity_id, child_id);
      auto row = store->GetInstance(child_id);
      if (row.ok() && row->has_value() && IsTerminalText((*row)->status) && c.await) {
        Mail m;
        m.consumes_work = true;
        m.work_id = c.activity_id;
        if ((*row)->status == "completed") {
          auto out = Json::Parse((*row)->output_json.empty() ? "null" : (*row)->output_json);
          m.body = engine::TaskSucceeded{c.activity_id, out.ok() ? *out : Json()};
        } else {
          auto err = Json::Parse((*row)->error_json.empty() ? "null" : (*row)->error_json);
          m.body = engine::TaskFailed{c.activity_id, err.ok() ? *err : Json()};
        }
        ForgetActivity(parent, c.activity_id);
        Post(parent, std::move(m));
      }
      if (!c.await) ReleaseChildWork(parent, c.activity_id);
      return;
    }
    auto def = shared_defs.Find(c.namespace_, c.name, c.version == "latest" ? "" : c.version);
    if (!def.ok()) {
      fail(engine::MakeError(engine::ErrorKind::kConfiguration, 404, "Workflow not found",
                             def.status().message(), c.task_ref));
      return;
    }
    std::string child_id = NewId();
    RegisterChild(parent, c.activity_id, child_id);
    auto inst = ResidentOrShell(child_id);
    {
      std::lock_guard<std::mutex> lock(inst->mu);
      inst->row.namespace_ = def->namespace_;
      inst->row.name = def->name;
      inst->row.version = def->version;
      inst->row.idempotency_key = key;
      inst->row.parent_id = parent;
      inst->row.parent_activity = c.await ? c.activity_id : 0;
    }
    Mail m;
    m.kind = Mail::Kind::kStart;
    m.body = engine::InstanceStarted{child_id, std::move(c.input), Seed()};
    if (!c.await) {
      // Nobody waits for this child's result: once it exists, the parent's work row goes.
      uint64_t activity = c.activity_id;
      m.started = [this, parent, activity](const Result<StartResult>& r) {
        if (r.ok()) ReleaseChildWork(parent, activity);
      };
    }
    Post(child_id, std::move(m));
  }

  // A child started without `await` exists: the parent's work row for it goes.
  void ReleaseChildWork(const std::string& parent, uint64_t activity) {
    ForgetActivity(parent, activity);
    Mail consume;
    consume.kind = Mail::Kind::kConsume;
    consume.consumes_work = true;
    consume.work_id = activity;
    Post(parent, std::move(consume));
  }

  void RegisterChild(const std::string& parent, uint64_t local, const std::string& child) {
    std::lock_guard<std::mutex> lock(activities_mu);
    uint64_t global = next_global++;
    AddActivityLocked(global, Activity{parent, local, "child", child});
  }

  void Publish(const Json& event) {
    std::vector<std::string> targets;
    {
      std::lock_guard<std::mutex> lock(subs_mu);
      for (const auto& [key, on] : subscriptions) {
        if (targets.empty() || targets.back() != key.first) targets.push_back(key.first);
      }
    }
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    for (const auto& id : targets) {
      Mail m;
      m.body = engine::CloudEventReceived{event.DeepCopy()};
      Post(id, std::move(m));
    }
  }

  static uint64_t Seed() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng();
  }

  // =====================================================================================
  // Timers

  void AddTimer(const store::TimerRow& t) {
    std::lock_guard<std::mutex> lock(timer_mu);
    if (t.due_at > loaded_until) return;  // the loader picks it up when it comes closer
    if (!timer_known.insert({t.instance_id, t.timer_id}).second) return;
    timer_cancelled.erase({t.instance_id, t.timer_id});
    timer_heap.push(TimerEntry{t.due_at, t.instance_id, t.timer_id});
    WakeTimersLocked(t.due_at);
  }

  // REQUIRES timer_mu.
  void PushWaitLocked(WaitDeadline w) {
    if (wait_heap.size() >= wait_purge_at) {
      std::erase_if(wait_heap, [](const WaitDeadline& d) { return d.answered->load(); });
      std::make_heap(wait_heap.begin(), wait_heap.end(), std::greater<>());
      wait_purge_at = std::max<size_t>(1024, 2 * wait_heap.size());
    }
    const Millis due = w.due;
    wait_heap.push_back(std::move(w));
    std::push_heap(wait_heap.begin(), wait_heap.end(), std::greater<>());
    WakeTimersLocked(due);
  }

  // REQUIRES timer_mu. Wakes the timer thread if an entry due at `due` comes before its
  // next wake-up.
  void WakeTimersLocked(Millis due) {
    if (timer_sleeps_until != 0 && due < timer_sleeps_until) timer_cv.notify_one();
  }

  void CancelTimerEntry(const std::string& instance, uint64_t timer) {
    std::lock_guard<std::mutex> lock(timer_mu);
    if (timer_known.count({instance, timer})) timer_cancelled.insert({instance, timer});
  }

  // The timer's row is gone (fired and consumed, or cancelled): forget it.
  void ForgetTimer(const std::string& instance, uint64_t timer) {
    std::lock_guard<std::mutex> lock(timer_mu);
    timer_known.erase({instance, timer});
  }

  void TimerLoop() {
    std::unique_lock<std::mutex> lock(timer_mu);
    Millis next_load = 0;
    while (!timer_stop) {
      Millis now = NowMillis();
      if (now >= next_load) {
        // Load the timers due within the horizon from the store.
        Millis until = now + options.timer_horizon_ms;
        lock.unlock();
        std::vector<store::TimerRow> rows;
        bool ok = true;
        const int kPage = 20000;
        auto r = store->TimersDueBefore(until, kPage);
        if (r.ok()) {
          rows = std::move(r).value();
        } else {
          ok = false;
          std::fprintf(stderr, "baton: loading timers: %s\n", r.status().ToString().c_str());
        }
        lock.lock();
        if (ok) {
          // When the page is full, later timers of the window wait for the next load.
          loaded_until = static_cast<int>(rows.size()) < kPage
                             ? until
                             : (rows.empty() ? now : rows.back().due_at - 1);
          for (auto& row : rows) {
            if (row.due_at > loaded_until) continue;
            if (!timer_known.insert({row.instance_id, row.timer_id}).second) continue;
            timer_heap.push(TimerEntry{row.due_at, row.instance_id, row.timer_id});
          }
        }
        next_load = now + std::max<Millis>(50, options.timer_horizon_ms / 2);
      }
      // Fire what is due.
      std::vector<TimerEntry> due;
      now = NowMillis();
      while (!timer_heap.empty() && timer_heap.top().due <= now) {
        TimerEntry t = timer_heap.top();
        timer_heap.pop();
        if (timer_cancelled.erase({t.instance, t.timer_id})) {
          timer_known.erase({t.instance, t.timer_id});
          continue;
        }
        due.push_back(std::move(t));
      }
      std::vector<WaitDeadline> expired;
      while (!wait_heap.empty() && wait_heap.front().due <= now) {
        std::pop_heap(wait_heap.begin(), wait_heap.end(), std::greater<>());
        expired.push_back(std::move(wait_heap.back()));
        wait_heap.pop_back();
      }
      if (!due.empty() || !expired.empty()) {
        lock.unlock();
        for (auto& t : due) {
          Mail m;
          m.consumes_timer = true;
          m.timer_id = t.timer_id;
          m.body = engine::TimerFired{t.timer_id};
          c_timers_fired.fetch_add(1);
          Post(t.instance, std::move(m));
        }
        for (auto& w : expired) {
          if (w.answered->exchange(true)) continue;
          ForgetAnsweredWaiters(w.instance);  // before the answer: the caller may ask again
          w.done(GetViewText(w.instance));
        }
        lock.lock();
        continue;
      }
      Millis wake = next_load;
      if (!timer_heap.empty()) wake = std::min(wake, timer_heap.top().due);
      if (!wait_heap.empty()) wake = std::min(wake, wait_heap.front().due);
      timer_sleeps_until = std::max<Millis>(now + 1, wake);
      timer_cv.wait_for(lock, std::chrono::milliseconds(timer_sleeps_until - now));
      timer_sleeps_until = 0;
    }
  }

  // =====================================================================================
  // Waiters

  bool HasWaiters(const std::string& id) {
    std::lock_guard<std::mutex> lock(waiters_mu);
    return waiters.count(id) > 0;
  }

  // A wait that timed out leaves its instance's list of waiters (which the instance's end
  // empties): clients polling a long-running instance with `?wait` would pile up there.
  void ForgetAnsweredWaiters(const std::string& id) {
    std::lock_guard<std::mutex> lock(waiters_mu);
    auto it = waiters.find(id);
    if (it == waiters.end()) return;
    std::erase_if(it->second, [](const Waiter& w) { return w.answered->load(); });
    if (it->second.empty()) waiters.erase(it);
  }

  // `view`: the instance's view as it ended, or null to read it.
  void NotifyWaiters(const std::string& id, const ViewText& view) {
    std::vector<Waiter> ws;
    {
      std::lock_guard<std::mutex> lock(waiters_mu);
      auto it = waiters.find(id);
      if (it == waiters.end()) return;
      ws = std::move(it->second);
      waiters.erase(it);
    }
    for (auto& w : ws) {
      if (w.answered->exchange(true)) continue;
      if (view) {
        w.done(view);
      } else {
        w.done(GetViewText(id));
      }
    }
  }

  // Views of recently ended instances (committed), for WaitInstance right after a start.
  void RememberView(const std::string& id, ViewText view) {
    std::lock_guard<std::mutex> lock(recent_mu);
    if (recent_views.insert_or_assign(id, std::move(view)).second) recent_order.push_back(id);
    while (recent_order.size() > kRecentViews) {
      recent_views.erase(recent_order.front());
      recent_order.pop_front();
    }
  }

  void ForgetView(const std::string& id) {
    std::lock_guard<std::mutex> lock(recent_mu);
    recent_views.erase(id);  // its recent_order entry goes when it comes first
  }

  bool RecentView(const std::string& id, ViewText* view) {
    std::lock_guard<std::mutex> lock(recent_mu);
    auto it = recent_views.find(id);
    if (it == recent_views.end()) return false;
    *view = it->second;
    return true;
  }

  // Whether `id` is in memory and its last commit left it running: a waiter registered before
  // this answer is then notified by the commit that ends it (see Instance::running).
  bool KnownRunning(const std::string& id) {
    std::lock_guard<std::mutex> lock(resident_mu);
    auto it = resident.find(id);
    return it != resident.end() && it->second->running.load();
  }

  Result<ViewText> GetViewText(const std::string& id) {
    BATON_ASSIGN_OR_RETURN(Json view, GetInstanceView(id));
    return MakeViewText(view);
  }

  // =====================================================================================
  // Views (any thread)

  Result<Json> GetInstanceView(const std::string& id) {
    BATON_ASSIGN_OR_RETURN(auto row, store->GetInstance(id));
    if (!row) return Status::NotFound("no instance with id '" + id + "'");
    auto wf = ThreadDefinitions().Get(row->namespace_, row->name, row->version);
    if (!wf.ok()) return BuildView(*row, nullptr, nullptr);
    if (row->snapshot.empty()) return BuildView(*row, wf->get(), nullptr);
    auto state = engine::DecodeState(**wf, row->snapshot);
    if (!state.ok()) return BuildView(*row, wf->get(), nullptr);
    return BuildView(*row, wf->get(), &*state);
  }

  // Compiled definitions for threads that are not workers (API threads, the timer
  // thread): one cache per thread, because compiled values must not cross threads.
  DefinitionCache& ThreadDefinitions() {
    thread_local std::unordered_map<const void*, std::unique_ptr<DefinitionCache>> caches;
    auto& c = caches[this];
    if (!c) c = std::make_unique<DefinitionCache>(&shared_defs, /*single_threaded=*/false);
    return *c;
  }

  // =====================================================================================
  // Idempotency keys

  // True when `key` is being started: `done` is queued on it.
  bool JoinPendingKey(const std::string& key, std::function<void(Result<StartResult>)>& done) {
    std::lock_guard<std::mutex> lock(keys_mu);
    auto it = pending_keys.find(key);
    if (it == pending_keys.end()) return false;
    it->second.also.push_back(std::move(done));
    return true;
  }

  void AnswerPendingKey(const std::string& key, const std::string& id) {
    if (key.empty()) return;
    std::vector<std::function<void(Result<StartResult>)>> also;
    {
      std::lock_guard<std::mutex> lock(keys_mu);
      auto it = pending_keys.find(key);
      if (it == pending_keys.end() || it->second.id != id) return;
      also = std::move(it->second.also);
      pending_keys.erase(it);
    }
    for (auto& fn : also) fn(StartResult{id, false});
  }

  void ForgetPendingKey(const std::string& key, const Status& st) {
    if (key.empty()) return;
    std::vector<std::function<void(Result<StartResult>)>> also;
    {
      std::lock_guard<std::mutex> lock(keys_mu);
      auto it = pending_keys.find(key);
      if (it == pending_keys.end()) return;
      also = std::move(it->second.also);
      pending_keys.erase(it);
    }
    // A duplicate key found at commit (another node, or a race with a committed start):
    // answer with the instance that holds it.
    auto existing = store->FindByIdempotencyKey(key);
    for (auto& fn : also) {
      if (existing.ok() && existing->has_value()) {
        fn(StartResult{**existing, false});
      } else {
        fn(st);
      }
    }
  }

  // =====================================================================================
  // Recovery, maintenance

  void Recover() {
    std::string after_instance;
    uint64_t after_activity = 0;
    size_t n = 0;
    while (!stopping.load()) {
      auto page = store->ListWork(after_instance, after_activity, 1000);
      if (!page.ok()) {
        std::fprintf(stderr, "baton: recovery: %s\n", page.status().ToString().c_str());
        return;
      }
      if (page->empty()) break;
      for (auto& row : *page) {
        after_instance = row.instance_id;
        after_activity = row.activity_id;
        auto command = engine::DecodeCommand(row.payload);
        if (!command.ok()) {
          std::fprintf(stderr, "baton: recovery: instance %s activity %llu: %s\n",
                       row.instance_id.c_str(), static_cast<unsigned long long>(row.activity_id),
                       command.status().ToString().c_str());
          continue;
        }
        ++n;
        std::visit(
            [&](auto& c) {
              using T = std::decay_t<decltype(c)>;
              if constexpr (std::is_same_v<T, engine::ExecuteTask>) {
                DispatchTask(row.instance_id, std::move(c), true);
              } else if constexpr (std::is_same_v<T, engine::StartChild>) {
                DispatchChild(row.instance_id, std::move(c));
              } else if constexpr (std::is_same_v<T, engine::Subscribe>) {
                std::lock_guard<std::mutex> lock(subs_mu);
                subscriptions[{row.instance_id, c.activity_id}] = true;
              }
            },
            *command);
      }
    }
    if (n > 0) std::fprintf(stderr, "baton: recovery: %zu outstanding activities resumed\n", n);
  }

  void MaintenanceLoop() {
    Millis next_prune = NowMillis() + std::min<int64_t>(5000, options.prune_interval_ms);
    std::unique_lock<std::mutex> lock(maint_mu);
    while (!maint_stop) {
      maint_cv.wait_for(lock, std::chrono::milliseconds(
                                  std::clamp<int64_t>(options.evaluation_timeout_ms / 10, 5, 200)));
      if (maint_stop) break;
      lock.unlock();
      Watchdog();
      Millis now = NowMillis();
      if (now >= next_prune) {
        next_prune = now + options.prune_interval_ms;
        Prune(now);
      }
      lock.lock();
    }
  }

  void Prune(Millis now) {
    Millis cutoff = now - options.retention_ms;
    for (int i = 0; i < 1000 && !stopping.load(); ++i) {
      auto n = store->PruneEnded(cutoff, 200);
      if (!n.ok()) {
        std::fprintf(stderr, "baton: pruning: %s\n", n.status().ToString().c_str());
        return;
      }
      if (*n < 200) return;
    }
  }

  // An Advance that exceeds evaluation_timeout_ms (a jq expression that never ends, which
  // libjq cannot interrupt) is abandoned: its thread is left to spin, a new worker takes
  // the shard over with freshly compiled definitions, and the instance faults with a
  // timeout error committed from here.
  void Watchdog() {
    Millis now = NowMillis();
    for (int shard = 0; shard < options.workers; ++shard) {
      std::shared_ptr<Worker> w;
      {
        std::lock_guard<std::mutex> lock(workers_mu);
        w = workers[static_cast<size_t>(shard)];
      }
      int64_t since = w->busy_since.load();
      if (since == 0 || now - since < options.evaluation_timeout_ms) continue;
      std::shared_ptr<Instance> stuck;
      std::vector<std::function<void(Status)>> inflight;
      {
        std::lock_guard<std::mutex> lock(w->mu);
        stuck = w->current;
        inflight = std::move(w->inflight);
        w->inflight.clear();
      }
      if (!stuck) continue;
      ReplaceWorker(shard, w);
      FaultStuck(stuck, now - since);
      for (auto& fail : inflight) {
        fail(Status::DeadlineExceeded(
            "instance " + stuck->id + ": a transition ran longer than " +
            std::to_string(options.evaluation_timeout_ms) +
            " ms (config evaluationTimeoutMs); the instance is faulted, or was not "
            "created if this was its start"));
      }
    }
  }

  void ReplaceWorker(int shard, const std::shared_ptr<Worker>& old) {
    auto fresh = std::make_shared<Worker>();
    fresh->shard = shard;
    fresh->generation = next_generation.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(workers_mu);
      workers[static_cast<size_t>(shard)] = fresh;
      abandoned_workers.push_back(old);
    }
    {
      // Schedule() checks `abandoned` under old->mu, so nothing is queued on `old` after
      // this block: its queue moves to the successor whole.
      std::lock_guard<std::mutex> lock(old->mu);
      old->abandoned.store(true);
      fresh->ready = std::move(old->ready);
      old->ready.clear();
      old->stop = true;
    }
    c_abandoned.fetch_add(1);
    fresh->thread = std::thread([this, fresh] { WorkerLoop(fresh); });
    NameThread(fresh->thread, "baton-worker");
  }

  void FaultStuck(const std::shared_ptr<Instance>& stuck, int64_t elapsed) {
    std::fprintf(stderr,
                 "baton: instance %s: a transition ran %lld ms (an expression that never "
                 "ends?); faulting it and replacing its worker thread\n",
                 stuck->id.c_str(), static_cast<long long>(elapsed));
    std::deque<Mail> mails;
    stuck->running.store(false);  // (it also leaves `resident`: waiters read its row)
    {
      std::lock_guard<std::mutex> rl(resident_mu);
      std::lock_guard<std::mutex> lock(stuck->mu);
      stuck->abandoned = true;
      mails.swap(stuck->mailbox);
      auto it = resident.find(stuck->id);
      if (it != resident.end() && it->second == stuck) resident.erase(it);
    }
    // Its start may never commit now: later starts with the same key must not wait for it.
    ForgetPendingKey(stuck->row.idempotency_key,
                     Status::DeadlineExceeded("the start of instance " + stuck->id +
                                              " was abandoned by the watchdog"));
    // Its activities in flight are cancelled, their work rows go with the fault.
    std::vector<uint64_t> locals;
    {
      std::lock_guard<std::mutex> lock(activities_mu);
      for (const auto& [global, a] : activities) {
        if (a.instance == stuck->id) locals.push_back(a.local);
      }
    }
    for (uint64_t local : locals) CancelActivity(stuck->id, local);
    // The stuck thread owns the instance's in-memory state; the committed row is the
    // truth. Fault it there.
    auto row = store->GetInstance(stuck->id);
    if (row.ok() && row->has_value()) {
      store::InstanceWrite write;
      write.row = **row;
      write.expected_version = (*row)->row_version;
      Millis now = NowMillis();
      write.row.status = "faulted";
      write.row.ended_at = now;
      write.row.updated_at = now;
      write.row.suspended = false;
      Json error =
          engine::MakeError(engine::ErrorKind::kTimeout, 408, "Evaluation timed out",
                            "a transition of this instance ran longer than " +
                                std::to_string(options.evaluation_timeout_ms) +
                                " ms (config evaluationTimeoutMs); an expression that never ends?",
                            "/");
      write.row.error_json = error.Dump();
      write.row.snapshot.clear();  // terminal: nothing to resume
      write.remove_work = locals;
      Json entry = Json::Object();
      entry.Set("kind", Json::String("workflow.faulted"));
      entry.Set("time", Json::Number(static_cast<double>(now)));
      entry.Set("error", error);
      Json entries = Json::Array();
      entries.Append(entry);
      store::HistoryRow h;
      h.instance_id = stuck->id;
      h.seq = (*row)->history_length;
      h.time = now;
      h.entries = entries.Dump();
      write.history.push_back(std::move(h));
      write.row.history_length = (*row)->history_length + 1;
      std::vector<store::InstanceWrite> writes;
      writes.push_back(std::move(write));
      std::vector<store::WriteResult> results;
      Status st = store->CommitTransitions(writes, &results);
      if (!st.ok() || results.empty() || !results[0].status.ok()) {
        std::fprintf(stderr, "baton: instance %s: could not record the timeout fault\n",
                     stuck->id.c_str());
      }
    }
    // Mail that was waiting for it goes to the fresh shell (which sees the faulted row).
    for (auto& m : mails) Post(stuck->id, std::move(m));
    NotifyWaiters(stuck->id, nullptr);
  }
};

// =========================================================================================

Server::Server(ServerOptions options, store::Store* store, executors::ExecutorRegistry* executors)
    : impl_(std::make_unique<Impl>(std::move(options), store, executors)) {
  if (impl_->options.workers < 1) impl_->options.workers = 1;
}

Server::~Server() { Shutdown(); }

Status Server::Start() {
  Impl& s = *impl_;
  if (s.started.exchange(true)) return Status::Ok();
  BATON_RETURN_IF_ERROR(s.shared_defs.LoadAll());
  for (int i = 0; i < s.options.workers; ++i) {
    auto w = std::make_shared<Impl::Worker>();
    w->shard = i;
    w->generation = s.next_generation.fetch_add(1);
    s.workers.push_back(w);
  }
  for (auto& w : s.workers) {
    w->thread = std::thread([&s, w] { s.WorkerLoop(w); });
    NameThread(w->thread, "baton-worker");
  }
  s.commit_thread = std::thread([&s] { s.CommitLoop(); });
  NameThread(s.commit_thread, "baton-commit");
  s.timer_thread = std::thread([&s] { s.TimerLoop(); });
  NameThread(s.timer_thread, "baton-timers");
  s.maint_thread = std::thread([&s] { s.MaintenanceLoop(); });
  NameThread(s.maint_thread, "baton-maint");
  s.recovery_thread = std::thread([&s] { s.Recover(); });
  NameThread(s.recovery_thread, "baton-recover");
  return Status::Ok();
}

void Server::Shutdown() {
  Impl& s = *impl_;
  if (!s.started.load() || s.draining.exchange(true)) return;
  // 1. Let running activities finish (their results are committed) until the deadline.
  Millis deadline = NowMillis() + s.options.shutdown_deadline_ms;
  while (NowMillis() < deadline) {
    size_t n;
    {
      std::lock_guard<std::mutex> lock(s.activities_mu);
      n = 0;
      for (const auto& [g, a] : s.activities) {
        if (a.kind != "child") ++n;
      }
    }
    if (n == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  s.stopping.store(true);
  if (s.recovery_thread.joinable()) s.recovery_thread.join();
  {
    std::lock_guard<std::mutex> lock(s.timer_mu);
    s.timer_stop = true;
    s.timer_cv.notify_all();
  }
  if (s.timer_thread.joinable()) s.timer_thread.join();
  {
    std::lock_guard<std::mutex> lock(s.maint_mu);
    s.maint_stop = true;
    s.maint_cv.notify_all();
  }
  if (s.maint_thread.joinable()) s.maint_thread.join();
  // 2. Workers finish what is queued (their writes go to the commit queue), then stop.
  std::vector<std::shared_ptr<Impl::Worker>> ws;
  {
    std::lock_guard<std::mutex> lock(s.workers_mu);
    ws = s.workers;
  }
  for (auto& w : ws) {
    std::lock_guard<std::mutex> lock(w->mu);
    w->stop = true;
    w->cv.notify_all();
  }
  for (auto& w : ws) {
    if (w->thread.joinable()) w->thread.join();
  }
  // 3. Commit what is pending, then stop the commit thread.
  {
    std::lock_guard<std::mutex> lock(s.commit_mu);
    s.commit_stop = true;
    s.commit_cv.notify_all();
  }
  if (s.commit_thread.joinable()) s.commit_thread.join();
  // Abandoned workers spin inside jq forever: they cannot be joined.
  for (auto& w : s.abandoned_workers) {
    if (w->thread.joinable()) w->thread.detach();
  }
  // Executor callbacks may still arrive until the registry is destroyed: they see
  // `stopping` and drop their result (the work row stays for the restart).
}

bool Server::Ready() const { return impl_->started.load() && !impl_->draining.load(); }

Server::Counters Server::counters() const {
  Counters c;
  c.commits = impl_->c_commits.load();
  c.transitions = impl_->c_transitions.load();
  c.dispatched = impl_->c_dispatched.load();
  c.redispatched = impl_->c_redispatched.load();
  c.timers_fired = impl_->c_timers_fired.load();
  c.abandoned_workers = impl_->c_abandoned.load();
  {
    std::lock_guard<std::mutex> lock(impl_->resident_mu);
    c.resident = impl_->resident.size();
  }
  {
    std::lock_guard<std::mutex> lock(impl_->timer_mu);
    c.wait_deadlines = impl_->wait_heap.size();
  }
  {
    std::lock_guard<std::mutex> lock(impl_->waiters_mu);
    for (const auto& [id, list] : impl_->waiters) c.waiters += list.size();
  }
  return c;
}

// --- definitions ---

Result<DeployResult> Server::Deploy(const std::string& content) {
  Impl& s = *impl_;
  if (content.size() > s.options.max_document_bytes) {
    return Status::InvalidArgument(
        "the document is " + std::to_string(content.size()) + " bytes; the limit is " +
        std::to_string(s.options.max_document_bytes) + " bytes (config maxDocumentBytes)");
  }
  return s.shared_defs.Deploy(content);
}

Result<Json> Server::ListDefinitions() { return impl_->shared_defs.ListView(); }

Result<Json> Server::GetDefinitionVersions(const std::string& namespace_, const std::string& name) {
  return impl_->shared_defs.VersionsView(namespace_, name);
}

Result<Json> Server::GetDefinition(const std::string& namespace_, const std::string& name,
                                   const std::string& version) {
  return impl_->shared_defs.DefinitionView(namespace_, name, version);
}

// --- instances ---

void Server::StartInstance(StartRequest request, std::function<void(Result<StartResult>)> done) {
  Impl& s = *impl_;
  if (s.draining.load()) {
    done(Status::Unavailable("the server is shutting down"));
    return;
  }
  auto ref = ParseWorkflowRef(request.workflow);
  if (!ref.ok()) {
    done(ref.status());
    return;
  }
  auto def = s.shared_defs.Find(ref->namespace_, ref->name, ref->version);
  if (!def.ok()) {
    done(def.status());
    return;
  }
  std::string input_text = request.input.Dump();
  if (input_text.size() > s.options.max_instance_bytes) {
    done(Status::InvalidArgument(
        "/input: the input is " + std::to_string(input_text.size()) + " bytes; the limit is " +
        std::to_string(s.options.max_instance_bytes) + " bytes (config maxInstanceBytes)"));
    return;
  }
  std::string id = NewId();
  if (!request.idempotency_key.empty()) {
    const std::string& key = request.idempotency_key;
    if (key.size() > 256) {
      done(Status::InvalidArgument("/idempotencyKey: longer than 256 characters"));
      return;
    }
    if (s.JoinPendingKey(key, done)) return;
    auto existing = s.store->FindByIdempotencyKey(key);
    if (!existing.ok()) {
      done(existing.status());
      return;
    }
    if (existing->has_value()) {
      done(StartResult{**existing, false});
      return;
    }
    std::lock_guard<std::mutex> lock(s.keys_mu);
    auto [it, inserted] = s.pending_keys.try_emplace(key);
    if (!inserted) {
      it->second.also.push_back(std::move(done));
      return;
    }
    it->second.id = id;
  }
  auto inst = s.ResidentOrShell(id);
  {
    std::lock_guard<std::mutex> lock(inst->mu);
    inst->row.namespace_ = def->namespace_;
    inst->row.name = def->name;
    inst->row.version = def->version;
    inst->row.idempotency_key = request.idempotency_key;
    inst->row.input_json = std::move(input_text);
  }
  Mail m;
  m.kind = Mail::Kind::kStart;
  m.body = engine::InstanceStarted{id, request.input.DeepCopy(), Impl::Seed()};
  m.started = std::move(done);
  s.Post(id, std::move(m));
}

void Server::WaitInstance(const std::string& id, int64_t timeout_ms,
                          std::function<void(Result<ViewText>)> done) {
  Impl& s = *impl_;
  if (ViewText view; s.RecentView(id, &view)) {
    done(std::move(view));
    return;
  }
  Waiter w{std::move(done), std::make_shared<std::atomic<bool>>(false)};
  auto answered = w.answered;
  auto fn = w.done;
  {
    std::lock_guard<std::mutex> lock(s.waiters_mu);
    s.waiters[id].push_back(w);
  }
  // Registered first, then checked: a commit in between notifies us. Running in memory is
  // the common case (a `?wait` start) and needs no read of the row.
  if (timeout_ms <= 0 || !s.KnownRunning(id)) {
    auto view = s.GetInstanceView(id);
    bool finished = !view.ok();
    if (view.ok()) {
      Json status = view->Get("status");
      finished = status.IsString() && IsTerminalText(std::string(status.AsString()));
    }
    if (finished || timeout_ms <= 0) {
      if (answered->exchange(true)) return;
      if (!view.ok()) return fn(view.status());
      fn(MakeViewText(*view));
      return;
    }
  }
  std::lock_guard<std::mutex> lock(s.timer_mu);
  const Millis due = NowMillis() + timeout_ms;
  s.PushWaitLocked(Impl::WaitDeadline{due, id, answered, fn});
}

Result<Json> Server::GetInstance(const std::string& id) { return impl_->GetInstanceView(id); }

Result<Json> Server::ListInstances(const ListFilter& filter) {
  store::InstanceFilter f;
  f.status = filter.status;
  if (!filter.workflow.empty()) {
    BATON_ASSIGN_OR_RETURN(auto ref, ParseWorkflowRef(filter.workflow));
    f.namespace_ = ref.namespace_;
    f.name = ref.name;
    f.version = ref.version;
  }
  f.since = filter.since_ms;
  f.until = filter.until_ms;
  f.limit = std::clamp(filter.limit, 1, 1000);
  f.cursor = filter.cursor;
  BATON_ASSIGN_OR_RETURN(auto page, impl_->store->ListInstances(f));
  Json items = Json::Array();
  for (const auto& row : page.rows) items.Append(BuildSummary(row));
  Json out = Json::Object();
  out.Set("items", items);
  if (!page.next_cursor.empty()) out.Set("nextCursor", Json::String(page.next_cursor));
  return out;
}

Result<Json> Server::GetHistory(const std::string& id) {
  BATON_ASSIGN_OR_RETURN(auto row, impl_->store->GetInstance(id));
  if (!row) return Status::NotFound("no instance with id '" + id + "'");
  std::vector<store::HistoryRow> rows;
  int64_t from = 0;
  while (true) {
    BATON_ASSIGN_OR_RETURN(auto page, impl_->store->GetHistory(id, from, 1000));
    if (page.empty()) break;
    from = page.back().seq + 1;
    for (auto& r : page) rows.push_back(std::move(r));
    if (page.size() < 1000) break;
  }
  return BuildHistoryView(id, rows);
}

void Server::Cancel(const std::string& id, std::string reason, std::function<void(Status)> done) {
  Mail m;
  m.kind = Mail::Kind::kCancel;
  m.reason = reason.empty() ? "cancelled through the API" : std::move(reason);
  m.done = std::move(done);
  impl_->Post(id, std::move(m));
}

void Server::Suspend(const std::string& id, std::function<void(Status)> done) {
  Mail m;
  m.kind = Mail::Kind::kSuspend;
  m.done = std::move(done);
  impl_->Post(id, std::move(m));
}

void Server::Resume(const std::string& id, std::function<void(Status)> done) {
  Mail m;
  m.kind = Mail::Kind::kResume;
  m.done = std::move(done);
  impl_->Post(id, std::move(m));
}

namespace {

Result<engine::OperatorAction> ToOperatorAction(const RepairRequest& r, size_t max_bytes) {
  engine::OperatorAction a;
  using K = engine::OperatorAction::Kind;
  if (r.action == "retry") {
    a.kind = K::kRetry;
  } else if (r.action == "skip") {
    a.kind = K::kSkip;
  } else if (r.action == "compensate") {
    a.kind = K::kCompensate;
  } else if (r.action == "discard") {
    a.kind = K::kDiscard;
  } else {
    return Status::InvalidArgument("unknown action '" + r.action +
                                   "' (expected retry, skip, compensate or discard)");
  }
  if (r.reason.empty()) return Status::InvalidArgument("a reason is required");
  if ((r.input || r.context) && a.kind != K::kRetry) {
    return Status::InvalidArgument("input and context apply to retry only");
  }
  if (r.output && a.kind != K::kSkip) return Status::InvalidArgument("output applies to skip only");
  auto measured = [&](const std::optional<Json>& v, const char* what) -> Result<Json> {
    if (!v) return Json();
    size_t n = v->Dump().size();
    if (n > max_bytes) {
      return Status::InvalidArgument(std::string(what) + " is " + std::to_string(n) +
                                     " bytes; the limit is " + std::to_string(max_bytes) +
                                     " bytes (config maxInstanceBytes)");
    }
    return v->DeepCopy();
  };
  BATON_ASSIGN_OR_RETURN(a.input, measured(r.input, "input"));
  BATON_ASSIGN_OR_RETURN(a.context, measured(r.context, "context"));
  BATON_ASSIGN_OR_RETURN(a.output, measured(r.output, "output"));
  a.has_input = r.input.has_value();
  a.has_context = r.context.has_value();
  a.by = r.by.empty() ? "anonymous" : r.by;
  a.reason = r.reason;
  return a;
}

bool ErrorTypeMatches(const std::string& wanted, const std::string& error_json) {
  if (wanted.empty()) return true;
  auto error = Json::Parse(error_json);
  if (!error.ok()) return false;
  Json type = error->Get("type");
  if (!type.IsString()) return false;
  return engine::SameErrorType(type.AsString(), wanted) ||
         engine::ErrorTypeName(type.AsString()) == wanted;
}

// A dead letter for the view: the summary plus where it failed and for how long it waits.
Json DeadLetterItem(const store::InstanceRow& row, const engine::CompiledWorkflow* wf, Millis now) {
  Json item = BuildSummary(row);
  Json failed;
  if (wf && !row.snapshot.empty()) {
    auto state = engine::DecodeState(*wf, row.snapshot);
    if (state.ok() && state->root) {
      std::vector<const engine::Node*> stack{state->root.get()};
      while (!stack.empty() && failed.IsNull()) {
        const engine::Node* n = stack.back();
        stack.pop_back();
        bool parked = n->phase == engine::Node::Phase::kParked;
        bool saga = n->phase == engine::Node::Phase::kCompensating && !n->error.IsNull();
        if (n->type == engine::Node::Type::kTask && (parked || saga)) {
          failed = Json::Object();
          if (saga && n->next < n->items.size()) {
            std::string ref(n->items.At(n->next).Get("ref").AsString());
            failed.Set("ref", Json::String(ref + "/compensate"));
            const engine::TaskDef* def = wf->FindTask(ref);
            failed.Set("name", Json::String(def ? def->name + " (compensation)" : ref));
            failed.Set("attempt", Json::Number(0));
          } else if (n->task) {
            failed.Set("ref", Json::String(n->task->ref));
            failed.Set("name", Json::String(n->task->name));
            failed.Set("attempt", Json::Number(n->attempt));
          }
          break;
        }
        for (const auto& c : n->children) stack.push_back(c.get());
      }
    }
  }
  item.Set("failedTask", failed);
  item.Set("attempts", Json::Number(failed.IsObject() ? failed.Get("attempt").AsNumber() + 1 : 0));
  if (!row.error_json.empty()) {
    auto error = Json::Parse(row.error_json);
    item.Set("error", error.ok() ? std::move(error).value() : Json::String(row.error_json));
  }
  item.Set("inViewMs", Json::Number(static_cast<double>(std::max<Millis>(0, now - row.ended_at))));
  return item;
}

}  // namespace

void Server::Repair(const std::string& id, RepairRequest request,
                    std::function<void(Result<Json>)> done) {
  auto action = ToOperatorAction(request, impl_->options.max_instance_bytes);
  if (!action.ok()) {
    done(action.status());
    return;
  }
  auto view = std::make_shared<Json>();
  Mail m;
  m.kind = Mail::Kind::kRepair;
  m.body = std::move(action).value();
  m.view = view;
  m.done = [view, done = std::move(done)](Status st) {
    if (!st.ok()) {
      done(std::move(st));
    } else {
      done(std::move(*view));
    }
  };
  impl_->Post(id, std::move(m));
}

// Scans dead letters newest first, filtering by error type and end time in memory (they
// are few; the store filters status and workflow). `scan_limit` bounds the rows read.
Result<Json> Server::ListDeadLetters(const DeadLetterFilter& filter) {
  store::InstanceFilter f;
  f.statuses = {"faulted", "compensation_failed"};
  if (!filter.workflow.empty()) {
    BATON_ASSIGN_OR_RETURN(auto ref, ParseWorkflowRef(filter.workflow));
    f.namespace_ = ref.namespace_;
    f.name = ref.name;
    f.version = ref.version;
  }
  const int limit = std::clamp(filter.limit, 1, 1000);
  f.cursor = filter.cursor;
  Millis now = NowMillis();
  Json items = Json::Array();
  std::string next;
  size_t scanned = 0;
  const size_t scan_limit = static_cast<size_t>(limit) * 20;
  while (true) {
    // Never more rows than items still wanted, so a page is never cut and its cursor holds.
    f.limit = limit - static_cast<int>(items.size());
    BATON_ASSIGN_OR_RETURN(auto page, impl_->store->ListInstances(f));
    for (const auto& listed : page.rows) {
      ++scanned;
      bool wanted = ErrorTypeMatches(filter.error_type, listed.error_json) &&
                    (filter.since_ms == 0 || listed.ended_at >= filter.since_ms) &&
                    (filter.until_ms == 0 || listed.ended_at < filter.until_ms);
      if (!wanted) continue;
      // The list leaves the snapshot out; the failed task needs it.
      BATON_ASSIGN_OR_RETURN(auto row, impl_->store->GetInstance(listed.id));
      if (row && (row->status == "faulted" || row->status == "compensation_failed")) {
        auto wf = impl_->ThreadDefinitions().Get(row->namespace_, row->name, row->version);
        items.Append(DeadLetterItem(*row, wf.ok() ? wf->get() : nullptr, now));
      }
    }
    if (page.next_cursor.empty()) break;
    f.cursor = page.next_cursor;
    if (static_cast<int>(items.size()) >= limit || scanned >= scan_limit) {
      next = page.next_cursor;
      break;
    }
  }
  Json out = Json::Object();
  out.Set("items", items);
  if (!next.empty()) out.Set("nextCursor", Json::String(next));
  return out;
}

void Server::Redrive(const DeadLetterFilter& filter, RepairRequest request, bool dry_run,
                     std::function<void(Result<Json>)> done) {
  if (request.action == "skip") {
    done(Status::InvalidArgument(
        "skip cannot be applied in bulk (each failed task needs its own output)"));
    return;
  }
  auto action = ToOperatorAction(request, impl_->options.max_instance_bytes);
  if (!action.ok()) {
    done(action.status());
    return;
  }
  // Every match (up to 1000), oldest first.
  std::vector<Json> matched;
  DeadLetterFilter page_filter = filter;
  page_filter.limit = 1000;
  while (matched.size() < 1000) {
    auto page = ListDeadLetters(page_filter);
    if (!page.ok()) {
      done(page.status());
      return;
    }
    page->Get("items").ForEachItem([&](size_t, const Json& item) {
      if (matched.size() < 1000) matched.push_back(item);
    });
    Json next = page->Get("nextCursor");
    if (!next.IsString()) break;
    page_filter.cursor = std::string(next.AsString());
  }
  std::reverse(matched.begin(), matched.end());
  struct Shared {
    std::mutex mu;
    Json items = Json::Array();
    std::vector<Json> results;
    size_t left = 0;
    std::function<void(Result<Json>)> done;
    bool dry_run = false;
  };
  auto shared = std::make_shared<Shared>();
  shared->done = std::move(done);
  shared->dry_run = dry_run;
  shared->left = matched.size();
  for (const Json& m : matched) {
    Json item = Json::Object();
    item.Set("id", m.Get("id"));
    item.Set("workflow", m.Get("workflow"));
    item.Set("status", m.Get("status"));
    Json type = m.Get("error").Get("type");
    item.Set("errorType", type.IsString() ? type : Json());
    shared->results.push_back(item.DeepCopy());
  }
  auto finish = [](const std::shared_ptr<Shared>& sh) {
    Json out = Json::Object();
    out.Set("dryRun", Json::Bool(sh->dry_run));
    out.Set("matched", Json::Number(static_cast<double>(sh->results.size())));
    Json items = Json::Array();
    for (auto& r : sh->results) items.Append(std::move(r));
    out.Set("items", std::move(items));
    sh->done(std::move(out));
  };
  if (dry_run || matched.empty()) {
    finish(shared);
    return;
  }
  for (size_t i = 0; i < matched.size(); ++i) {
    std::string id(matched[i].Get("id").AsString());
    RepairRequest one = request;
    Repair(id, std::move(one), [shared, i, finish](const Result<Json>& r) {
      bool last = false;
      {
        std::lock_guard<std::mutex> lock(shared->mu);
        Json& item = shared->results[i];
        item.Set("result", Json::String(r.ok() ? "applied" : "failed"));
        if (!r.ok()) item.Set("detail", Json::String(r.status().message()));
        last = --shared->left == 0;
      }
      if (last) finish(shared);
    });
  }
}

}  // namespace baton::runtime
