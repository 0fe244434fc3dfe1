// Interpreter: the pure core of baton. Advance(definition, state, event) → transition.
//
// It runs every local task (set, switch, do, raise, for bookkeeping, try, emit) inside one
// call, and stops where the outside world must act: the commands of the transition (calls,
// processes, timers, child workflows, subscriptions). No clock, I/O, threads or randomness
// except what the event carries: the same inputs always give the same transition.
//
// A long run of local tasks (a 1,000,000-iteration `for`) is cut into slices of
// `Options::step_budget` tasks; between slices the interpreter asks for a timer due now,
// so one instance cannot monopolise a thread and cancellation gets through.
//
// Thread-safety: Advance is const and may run concurrently for different instances.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "engine/command.h"
#include "engine/event.h"
#include "engine/lifecycle.h"
#include "engine/state.h"
#include "engine/workflow.h"

namespace baton::engine {

struct Transition {
  InstanceState state;
  std::vector<Command> commands;
  std::vector<LifecycleEntry> lifecycle;
};

class Interpreter {
 public:
  struct Options {
    Json secrets = Json::Object();      // `$secrets`
    Json runtime = Json::Object();      // `$runtime` ({name, version, metadata})
    size_t step_budget = 100000;        // local tasks per Advance before yielding
    bool record_task_lifecycle = true;  // task.* entries (workflow.* are always recorded)
    // The server's default retry policy (docs/errors.md) for call/run tasks outside any
    // `try`, on transient errors; none = such tasks fail at their first error.
    // `namespace_retry` replaces it for workflows of a namespace.
    std::optional<RetryPolicy> default_retry;
    std::unordered_map<std::string, RetryPolicy> namespace_retry;
  };

  Interpreter();
  explicit Interpreter(Options options);

  // Applies `event` to `state`. Returns an error only for the engine's own failures
  // (a state that does not match the definition); workflow faults are in the state.
  Result<Transition> Advance(const CompiledWorkflow& workflow, InstanceState state,
                             const Event& event) const;

  // Why `action` cannot apply to `state` (a sentence for a 409), or empty when it can.
  static std::string RepairRefusal(const InstanceState& state, const OperatorAction& action);

 private:
  Options options_;
};

}  // namespace baton::engine
