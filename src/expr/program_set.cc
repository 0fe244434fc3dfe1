#include "expr/program_set.h"

// libjq's headers have no extern "C" of their own.
extern "C" {
#include <jq.h>
}

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>
#include <unordered_map>

#include "base/check.h"
#include "expr/detach.h"
#include "expr/jq_scan.h"

namespace baton::expr {
namespace {

constexpr const char* kArgNames[kArgCount] = {
    "context", "input", "output", "secrets", "task", "workflow", "runtime", "authorization",
};

// Starts every program. `env` would expose the process environment (`$ENV` is hidden in
// AppendLeaf), and `builtins` returns a constant too large for DetachFromProgram's bound:
// the shadow builds it afresh.
// `__baton_leaf(f)` runs each expression as a closure, so that its variables live in a
// frame of their own: jq 1.6 initialises and frees every local of a frame at each call, and
// the top-level frame would otherwise hold the locals of all the expressions.
constexpr std::string_view kDefinitions =
    "def env: {}; def __baton_builtins: builtins; def builtins: [__baton_builtins[]]; "
    "def __baton_leaf(f): f; ";
// Then the shared program binds the expression id (programs that dispatch nothing, solo and
// Check programs, start with the definitions alone).
constexpr std::string_view kDispatch = ".[0] as $__i |\n";

std::string Prelude() { return std::string(kDefinitions).append(kDispatch); }

// Bounds the weight of the constants an expression can reach besides its own literals:
// `$__loc__`, `""`, `{}` and the strings of jq's builtin library (the longest is 38 bytes).
constexpr size_t kBuiltinConstantWeight = 128;

// Where an expression's variable gets its value.
struct VarSlot {
  int arg;           // index into Bindings::args, or -1 for a scoped variable
  std::string name;  // without '$'
};

struct Expr {
  std::string text;
  std::vector<VarSlot> vars;  // bound in this order: evaluation input [id, data, vars...]
  bool balanced;              // see JqScan::balanced
  size_t max_constant_weight;
  // May get a program of its own when hot (see SoloState). Not when the text mentions
  // `__loc__`: its line number would change with the program it sits in.
  bool may_go_solo;
};

struct JqStateDeleter {
  void operator()(jq_state* jq) const { jq_teardown(&jq); }
};
using JqStatePtr = std::unique_ptr<jq_state, JqStateDeleter>;

std::string JvToText(jv v) {
  if (jv_get_kind(v) == JV_KIND_STRING) {
    return std::string(jv_string_value(v), static_cast<size_t>(jv_string_length_bytes(jv_copy(v))));
  }
  jv dumped = jv_dump_string(jv_copy(v), 0);
  std::string out = JvToText(dumped);
  jv_free(dumped);
  return out;
}

// jq's compile messages look like "jq: error: MESSAGE at <top-level>, line N:\n<line>...".
// Keeps MESSAGE (the location is in the combined program, meaningless to an author).
std::string CleanCompileMessage(std::string message) {
  constexpr std::string_view kPrefix = "jq: error: ";
  if (message.compare(0, kPrefix.size(), kPrefix) == 0) message.erase(0, kPrefix.size());
  size_t end = std::min(message.find(" at <top-level>, line "), message.find('\n'));
  if (end != std::string::npos) message.resize(end);
  constexpr std::string_view kShellHint = " (Unix shell quoting issues?)";
  size_t hint = message.find(kShellHint);
  if (hint != std::string::npos) message.erase(hint, kShellHint.size());
  return message;
}

void CollectCompileMessage(void* data, jv message) {
  auto* messages = static_cast<std::vector<std::string>*>(data);
  std::string text = JvToText(message);
  jv_free(message);
  // The summary jq adds after the errors ("jq: 2 compile errors") says nothing new.
  if (text.compare(0, 4, "jq: ") == 0 && text.find(" compile error") != std::string::npos &&
      text.compare(0, 11, "jq: error: ") != 0) {
    return;
  }
  messages->push_back(CleanCompileMessage(std::move(text)));
}

void IgnoreMessage(void*, jv message) { jv_free(message); }

// Expressions have exactly one input, `.`: `input` and `inputs` fail with this message.
jv NoMoreInput(jq_state*, void*) {
  return jv_invalid_with_msg(jv_string("input is not available in workflow expressions"));
}

// jq prints "cannot allocate memory" and aborts after this returns (STYLE.md: OOM ends the
// process).
void OutOfMemory(void*) {}

// jq 1.6 reads $HOME/.jq on every compile and puts it in front of the program, so a stray
// file there could break or change every workflow. When that file exists, HOME is unset for
// the duration of the compile (slurp_lib ignores a missing HOME). setenv/unsetenv are not
// thread-safe with respect to getenv: a thread that reads the environment during a compile
// may see HOME missing (or worse). Since worker threads compile their own states on their
// first evaluation of a document (see ProgramSet), compiles also happen at run time, so the
// environment is left alone when there is no file to hide: run the service with a HOME
// that has no .jq (IMPLEMENTERS-NOTES §4) and no compile ever touches it. (A .jq created
// between the check and jq's read would be used by that one compile.) Compiles are
// serialised among themselves by this mutex, as they always were.
class HomeHidden {
 public:
  HomeHidden() : lock_(Mutex()) {
    const char* home = std::getenv("HOME");
    if (home == nullptr) return;
    std::string saved(home);
    std::error_code error;
    // The path slurp_lib reads. An error other than "absent" hides HOME, to be safe.
    if (!std::filesystem::exists(saved + "/.jq", error) && !error) return;
    saved_ = std::move(saved);
    ::unsetenv("HOME");
  }
  ~HomeHidden() {
    if (saved_) ::setenv("HOME", saved_->c_str(), 1);
  }
  HomeHidden(const HomeHidden&) = delete;
  HomeHidden& operator=(const HomeHidden&) = delete;

 private:
  static std::mutex& Mutex() {
    static std::mutex mutex;
    return mutex;
  }
  std::lock_guard<std::mutex> lock_;
  std::optional<std::string> saved_;
};

// Compiles `program`; on failure returns null and sets *message to jq's messages.
JqStatePtr CompileJq(const std::string& program, std::string* message) {
  JqStatePtr jq(jq_init());
  BATON_CHECK(jq != nullptr);
  // jq 1.6's jq_init leaves these uninitialised: `input` or `debug` would call garbage.
  jq_set_nomem_handler(jq.get(), OutOfMemory, nullptr);
  jq_set_input_cb(jq.get(), NoMoreInput, nullptr);
  jq_set_debug_cb(jq.get(), IgnoreMessage, nullptr);
  std::vector<std::string> messages;
  jq_set_error_cb(jq.get(), CollectCompileMessage, &messages);
  int ok;
  {
    HomeHidden hidden;
    ok = jq_compile_args(jq.get(), program.c_str(), jv_object());
  }
  // Evaluation reports nothing through the callback in jq 1.6; do not keep a dangling one.
  jq_set_error_cb(jq.get(), IgnoreMessage, nullptr);
  if (ok) return jq;
  message->clear();
  for (const std::string& m : messages) {
    if (!message->empty()) message->append("; ");
    message->append(m);
  }
  if (message->empty()) *message = "does not compile";
  return nullptr;
}

// One thread's compiled copy of a set's program.
//
// `use` lets a set be destroyed (or recompiled) while a thread it abandoned is still inside
// an evaluation on this state (the server's watchdog gives up on a thread stuck in a
// never-ending expression): the set marks the state kOrphaned instead of freeing it, and
// the evaluating thread frees it when (if ever) the evaluation returns. Only the owning
// thread sets kBusy and kIdle.
enum class StateUse : uint8_t { kIdle, kBusy, kOrphaned };

// A hot expression's program of its own, on one thread. The shared program pays for its
// dispatch on every evaluation: the `[id, data, vars...]` array, the if-tree, a closure
// call and `.[1]` cost about as much as a small expression itself (measured: 18k vs 9k
// instructions for `{count: (.count + 1), label: "x"}`). An expression evaluated
// ProgramSet::kHotEvaluations times on a thread is compiled on its own for that thread (one
// more jq_compile, ~20 ms) and then evaluated directly on its data, as bare libjq would.
// Process-wide at most kMaxSoloStates of them exist (~0.1 MB each), first come first served;
// the others stay on the shared program.
constexpr int kMaxSoloStates = 256;
std::atomic<int> g_solo_states{0};

struct SoloState {
  SoloState() = default;
  SoloState(SoloState&&) = default;
  SoloState& operator=(SoloState&&) = default;
  ~SoloState() {
    if (jq != nullptr) g_solo_states.fetch_sub(1, std::memory_order_relaxed);
  }
  JqStatePtr jq;
  uint32_t evaluations = 0;  // on the shared program, until the set's hot_evaluations_
  bool given_up = false;     // no budget left, or the solo program did not compile
};

struct ThreadJq {
  explicit ThreadJq(JqStatePtr state) : jq(std::move(state)) {}
  JqStatePtr jq;
  std::vector<SoloState> solos;  // by ExprId, grown on demand; only the owning thread's
  std::atomic<StateUse> use{StateUse::kIdle};
};

// Gives up the set's ownership of `state`.
void Abandon(std::unique_ptr<ThreadJq> state) {
  if (state->use.exchange(StateUse::kOrphaned, std::memory_order_acq_rel) == StateUse::kBusy) {
    // Still evaluating on its thread, which frees it on the way out (RunOn).
    static_cast<void>(state.release());
  }
}

// Identifies one successful Compile() of one set, process-wide; never reused (2^64).
std::atomic<uint64_t> g_next_generation{1};
// Thread ids for ProgramSet's maps; never reused, unlike std::thread::id.
std::atomic<uint64_t> g_next_thread_id{1};

constinit thread_local uint64_t t_thread_id = 0;

uint64_t ThisThreadId() {
  if (t_thread_id == 0) t_thread_id = g_next_thread_id.fetch_add(1, std::memory_order_relaxed);
  return t_thread_id;
}

// This thread's last few (generation -> state) lookups. Zero-initialised and trivially
// destructible: no TLS guard on the hot path and nothing to do at thread exit. An entry of
// a destroyed or recompiled set keeps a dangling pointer, but its generation never matches
// again, so the pointer is never read. Four entries: a worker thread usually advances
// instances of a few documents in turn.
struct ThreadCache {
  static constexpr size_t kSize = 4;
  struct Entry {
    uint64_t generation;
    ThreadJq* state;
  };
  Entry entries[kSize];
  size_t next_victim;
};
constinit thread_local ThreadCache t_cache{};

ThreadJq* CachedState(uint64_t generation) {
  for (const ThreadCache::Entry& entry : t_cache.entries) {
    if (entry.generation == generation) return entry.state;
  }
  return nullptr;
}

void CacheState(uint64_t generation, ThreadJq* state) {
  t_cache.entries[t_cache.next_victim] = {generation, state};
  t_cache.next_victim = (t_cache.next_victim + 1) % ThreadCache::kSize;
}

// Evaluates `input` on `jq` and returns the first result (see ProgramSet::Evaluate).
Result<Json> RunOnState(jq_state* jq, jv input, size_t max_constant_weight, bool single_threaded) {
  jq_start(jq, input, 0);
  jv result = jq_next(jq);
  std::optional<std::string> error;
  bool halted = jq_halted(jq);
  if (halted) {
    // halt_error: its input is the message. A bare `halt` has none.
    jv message = jq_get_error_message(jq);
    error = jv_is_valid(message) ? JvToText(message) : std::string("halted");
    jv_free(message);
    jv_free(result);
    result = jv_null();
  } else if (!jv_is_valid(result)) {
    if (jv_invalid_has_msg(jv_copy(result))) {
      jv message = jv_invalid_get_msg(result);
      error = JvToText(message);
      if (jv_get_kind(message) != JV_KIND_STRING) error->append(" (not a string)");
      jv_free(message);
    } else {
      jv_free(result);  // No result at all.
    }
    result = jv_null();
  }
  if (single_threaded && !halted) {
    if (error) {
      jv_free(result);
      return Status::InvalidArgument(std::move(*error));
    }
    return Json::Adopt(result);
  }
  // Restart on null so the state drops its references to this evaluation's values (they
  // belong to the caller's thread), then detach the result from the program's constants.
  jq_start(jq, jv_null(), 0);
  if (halted) {
    // jq 1.6's reset frees the halt's exit code and message but keeps them, so every later
    // reset would free them again. Halting once more with values that own no memory makes
    // those frees harmless; the restart clears the halt.
    jq_halt(jq, jv_invalid(), jv_invalid());
    jq_start(jq, jv_null(), 0);
  }
  if (error) {
    jv_free(result);
    return Status::InvalidArgument(std::move(*error));
  }
  return Json::Adopt(DetachFromProgram(result, max_constant_weight));
}

// Evaluates `input` on `jq`, `state`'s shared program or one of its solo programs; `state`
// belongs to the calling thread. Reads nothing but its arguments: the set that owns `state`
// may be destroyed meanwhile (see ThreadJq).
Result<Json> RunOn(ThreadJq* state, jq_state* jq, jv input, size_t max_constant_weight,
                   bool single_threaded) {
  // Release: when Abandon sees kBusy, everything Evaluate read from the set before this
  // point happens-before the set's destruction. (Only an evaluation that started long
  // before, an abandoned thread's, may overlap the destruction; on x86 this is a plain store.)
  state->use.store(StateUse::kBusy, std::memory_order_release);
  Result<Json> result = RunOnState(jq, input, max_constant_weight, single_threaded);
  if (state->use.exchange(StateUse::kIdle, std::memory_order_acq_rel) == StateUse::kOrphaned) {
    std::unique_ptr<ThreadJq> orphan(state);  // Its set is gone: freeing it is ours to do.
  }
  return result;
}

const Json* FindScoped(const Bindings& bindings, std::string_view name) {
  for (auto it = bindings.scoped.rbegin(); it != bindings.scoped.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return nullptr;
}

}  // namespace

const char* ArgName(Arg arg) { return kArgNames[static_cast<int>(arg)]; }

struct ProgramSet::Impl {
  std::vector<Expr> exprs;
  std::unordered_map<std::string, ExprId> id_by_key;  // see Add
  bool compiled = false;
  bool check_only = false;  // Program() builds Check()'s program
  // Set by a successful Compile(), for the threads that compile their own state.
  std::string program;
  uint64_t generation = 0;  // of the last successful Compile(); 0: none
  mutable std::mutex states_mutex;
  // Each thread's state, by ThisThreadId(); guarded by states_mutex.
  mutable std::unordered_map<uint64_t, std::unique_ptr<ThreadJq>> states;

  ~Impl() { DropStates(); }

  void DropStates() {
    std::lock_guard<std::mutex> lock(states_mutex);
    for (auto& [thread_id, state] : states) Abandon(std::move(state));
    states.clear();
  }

  // Makes `state` (compiled from `program` on this thread, or null when there is nothing to
  // evaluate) this thread's state of a new generation.
  void Publish(std::string compiled_program, JqStatePtr state) {
    program = std::move(compiled_program);
    generation = g_next_generation.fetch_add(1, std::memory_order_relaxed);
    compiled = true;
    if (state == nullptr) return;
    auto owned = std::make_unique<ThreadJq>(std::move(state));
    CacheState(generation, owned.get());
    std::lock_guard<std::mutex> lock(states_mutex);
    states[ThisThreadId()] = std::move(owned);
  }

  // This thread's state when it is not in the thread's cache: from `states`, else compiled
  // now. Either way it enters the cache.
  Result<ThreadJq*> FindOrCompileState() const {
    uint64_t thread_id = ThisThreadId();
    {
      std::lock_guard<std::mutex> lock(states_mutex);
      auto it = states.find(thread_id);
      if (it != states.end()) {
        CacheState(generation, it->second.get());
        return it->second.get();
      }
    }
    // Outside states_mutex: a compile takes up to a few hundred milliseconds, and the other
    // threads' cache misses should not wait for it. Only this thread adds its own entry.
    std::string message;
    JqStatePtr jq = CompileJq(program, &message);
    if (jq == nullptr) {
      return Status::Internal("compiling the workflow's expressions for this thread failed: " +
                              message);
    }
    auto owned = std::make_unique<ThreadJq>(std::move(jq));
    ThreadJq* state = owned.get();
    {
      std::lock_guard<std::mutex> lock(states_mutex);
      states.emplace(thread_id, std::move(owned));
    }
    CacheState(generation, state);
    return state;
  }

  // "__baton_leaf(.[2] as $input | .[3] as $item | .[1] | (TEXT\n))": the newline ends a
  // trailing comment in TEXT, the parentheses keep its `|`, `,` and `as` inside. Without
  // `wrap`, no brackets at all (to let jq judge the brackets of TEXT on their own).
  void AppendLeaf(ExprId id, bool wrap, std::string* out) const {
    const Expr& e = exprs[id];
    if (wrap) out->append("__baton_leaf(");
    // `$ENV` is hidden per expression, only where it may be mentioned: binding it costs a
    // few instructions on every evaluation. The test is on the bare name, not on "$ENV":
    // jq 1.6 also reads `$ ENV` and `$ # comment` + newline + `ENV` as the variable, and an
    // unbound `$ENV` is the whole process environment.
    if (e.text.find("ENV") != std::string::npos) out->append("{} as $ENV | ");
    for (size_t i = 0; i < e.vars.size(); ++i) {
      out->append(".[").append(std::to_string(i + 2)).append("] as $").append(e.vars[i].name);
      out->append(" | ");
    }
    out->append(".[1] | ");
    if (wrap) out->append("(");
    out->append(e.text).append("\n");
    if (wrap) out->append("))");
  }

  // The program of expression `id` on its own (see SoloState): evaluated on `data` itself
  // when it binds no variables, else on [data, vars...].
  std::string SoloProgram(ExprId id) const {
    const Expr& e = exprs[id];
    std::string out(kDefinitions);
    if (e.text.find("ENV") != std::string::npos) out.append("{} as $ENV | ");
    for (size_t i = 0; i < e.vars.size(); ++i) {
      out.append(".[").append(std::to_string(i + 1)).append("] as $").append(e.vars[i].name);
      out.append(" | ");
    }
    if (!e.vars.empty()) out.append(".[0] | ");
    out.append("(").append(e.text).append("\n)");
    return out;
  }

  // This thread's solo program of `id`, or null while it stays on the shared program.
  jq_state* Solo(ThreadJq* state, ExprId id, uint32_t hot_evaluations) const {
    if (state->solos.size() <= id) state->solos.resize(exprs.size());
    SoloState& solo = state->solos[id];
    if (solo.jq != nullptr) return solo.jq.get();
    if (solo.given_up || ++solo.evaluations < hot_evaluations) return nullptr;
    if (g_solo_states.fetch_add(1, std::memory_order_relaxed) >= kMaxSoloStates) {
      g_solo_states.fetch_sub(1, std::memory_order_relaxed);
      solo.given_up = true;
      return nullptr;
    }
    std::string ignored;
    solo.jq = CompileJq(SoloProgram(id), &ignored);
    if (solo.jq == nullptr) {  // Compiled in the shared program: never expected.
      g_solo_states.fetch_sub(1, std::memory_order_relaxed);
      solo.given_up = true;
      return nullptr;
    }
    return solo.jq.get();
  }

  // A balanced if-tree over `ids` (ascending).
  void AppendTree(const ExprId* ids, size_t n, std::string* out) const {
    if (n == 1) {
      AppendLeaf(ids[0], true, out);
      return;
    }
    size_t half = n / 2;
    out->append("if $__i < ").append(std::to_string(ids[half])).append(" then ");
    AppendTree(ids, half, out);
    out->append("\nelse ");
    AppendTree(ids + half, n - half, out);
    out->append(" end");
  }

  std::string Program(const std::vector<ExprId>& ids) const {
    if (check_only) {
      // `empty, (leaf), (leaf), ...`: each leaf with its own bindings, as in the tree, so that
      // a variable out of its expression's scope is still an error.
      std::string out(kDefinitions);
      out.append("empty");
      for (ExprId id : ids) {
        out.append(",\n");
        AppendLeaf(id, true, &out);
      }
      return out;
    }
    std::string out = Prelude();
    AppendTree(ids.data(), ids.size(), &out);
    return out;
  }

  bool Compiles(const std::vector<ExprId>& ids) const {
    std::string ignored;
    return CompileJq(Program(ids), &ignored) != nullptr;
  }

  // The message for one failing expression, as jq gives it for the text on its own (inside
  // the wrapper, `.a |` would be "unexpected ')'" instead of "unexpected $end").
  std::string MessageFor(ExprId id) const {
    std::string unwrapped = Prelude();
    AppendLeaf(id, false, &unwrapped);
    std::string message;
    if (CompileJq(unwrapped, &message) == nullptr) return message;
    if (CompileJq(Program({id}), &message) == nullptr) return message;
    // Compiles alone but not with its neighbours (never seen; a jq limit?). Blame it so that
    // the failure is reported rather than lost.
    return "does not compile together with the other expressions";
  }

  // Finds the failing expressions among `ids`, whose program is known not to compile: a
  // bisection, so k bad expressions among n cost O(k log n) compiles.
  void Bisect(const std::vector<ExprId>& ids, std::vector<CompileError>* errors) const {
    if (ids.size() == 1) {
      errors->push_back({ids[0], MessageFor(ids[0])});
      return;
    }
    auto middle = ids.begin() + static_cast<std::ptrdiff_t>(ids.size() / 2);
    std::vector<ExprId> left(ids.begin(), middle);
    std::vector<ExprId> right(middle, ids.end());
    if (Compiles(left)) {
      Bisect(right, errors);  // The right half must be what fails.
      return;
    }
    Bisect(left, errors);
    if (!Compiles(right)) Bisect(right, errors);
  }
};

ProgramSet::ProgramSet() : impl_(std::make_unique<Impl>()) {}
ProgramSet::~ProgramSet() = default;

ExprId ProgramSet::Add(std::string_view text, const std::vector<std::string>& scoped_vars) {
  JqScan scan = ScanJq(text);
  Expr e;
  e.text = std::string(text);
  e.balanced = scan.balanced;
  e.max_constant_weight = text.size() + kBuiltinConstantWeight;
  e.may_go_solo = scan.balanced && text.find("__loc__") == std::string_view::npos;
  for (std::string_view name : scan.variables) {
    bool scoped = std::find(scoped_vars.begin(), scoped_vars.end(), name) != scoped_vars.end();
    int arg = -1;
    if (!scoped) {
      for (int i = 0; i < kArgCount; ++i) {
        if (name == kArgNames[i]) arg = i;
      }
      // Not ours to bind: the author's own `as $x`, or a mistake jq will report.
      if (arg < 0) continue;
    }
    e.vars.push_back({arg, std::string(name)});
  }
  // Two expressions with the same text and the same bindings are the same program.
  std::string key = e.text;
  key.push_back('\0');
  for (const VarSlot& var : e.vars) {
    key.append(var.arg < 0 ? "s" : "a").append(var.name).push_back('\0');
  }
  auto [it, inserted] = impl_->id_by_key.emplace(std::move(key), static_cast<ExprId>(0));
  if (!inserted) return it->second;
  it->second = static_cast<ExprId>(impl_->exprs.size());
  impl_->exprs.push_back(std::move(e));
  return it->second;
}

size_t ProgramSet::size() const { return impl_->exprs.size(); }

bool ProgramSet::Binds(ExprId id, Arg arg) const {
  BATON_CHECK(id < impl_->exprs.size());
  for (const VarSlot& var : impl_->exprs[id].vars) {
    if (var.arg == static_cast<int>(arg)) return true;
  }
  return false;
}

int ProgramSet::SoloPrograms() { return g_solo_states.load(std::memory_order_relaxed); }

const std::string& ProgramSet::Text(ExprId id) const {
  BATON_CHECK(id < impl_->exprs.size());
  return impl_->exprs[id].text;
}

Status ProgramSet::Compile(std::vector<CompileError>* errors) { return Build(errors, false); }

Status ProgramSet::Check(std::vector<CompileError>* errors) { return Build(errors, true); }

Status ProgramSet::Build(std::vector<CompileError>* errors, bool check_only) {
  std::vector<CompileError> local_errors;
  if (errors == nullptr) errors = &local_errors;
  errors->clear();
  impl_->DropStates();
  impl_->compiled = false;
  impl_->program.clear();
  impl_->generation = 0;
  impl_->check_only = check_only;
  struct Reset {
    Impl* impl;
    ~Reset() { impl->check_only = false; }
  } reset{impl_.get()};

  std::vector<ExprId> candidates;
  for (ExprId id = 0; id < impl_->exprs.size(); ++id) {
    if (impl_->exprs[id].balanced) {
      candidates.push_back(id);
      continue;
    }
    // Unbalanced text would escape its parentheses; let jq judge it without them.
    std::string program = Prelude();
    impl_->AppendLeaf(id, false, &program);
    std::string message;
    if (CompileJq(program, &message) == nullptr) {
      errors->push_back({id, message});
    } else {
      candidates.push_back(id);  // Our scan was wrong: jq's lexer sees balanced brackets.
    }
  }

  std::string program;
  JqStatePtr jq;
  if (!candidates.empty()) {
    program = impl_->Program(candidates);
    std::string message;
    jq = CompileJq(program, &message);
    if (jq == nullptr) impl_->Bisect(candidates, errors);
  }
  if (!errors->empty()) {
    std::sort(errors->begin(), errors->end(),
              [](const CompileError& a, const CompileError& b) { return a.id < b.id; });
    const CompileError& first = errors->front();
    return Status::InvalidArgument(std::to_string(errors->size()) + " of " +
                                   std::to_string(impl_->exprs.size()) +
                                   " expressions do not compile; first: `" +
                                   impl_->exprs[first.id].text + "`: " + first.message);
  }
  if (check_only) return Status::Ok();
  impl_->Publish(std::move(program), std::move(jq));
  return Status::Ok();
}

Result<Json> ProgramSet::Evaluate(ExprId id, const Json& data, const Bindings& bindings) const {
  BATON_CHECK(impl_->compiled);
  BATON_CHECK(id < impl_->exprs.size());
  const Expr& e = impl_->exprs[id];
  ThreadJq* state = CachedState(impl_->generation);  // the hot path: a few compares
  if (state == nullptr) {
    Result<ThreadJq*> found = impl_->FindOrCompileState();
    if (!found.ok()) return found.status();
    state = *found;
  }

  jq_state* solo = e.may_go_solo ? impl_->Solo(state, id, hot_evaluations_) : nullptr;
  jv input;
  if (solo != nullptr && e.vars.empty()) {
    input = data.CopyJv();
  } else {
    input = jv_array_sized(static_cast<int>(2 + e.vars.size()));
    if (solo == nullptr) input = jv_array_append(input, jv_number(id));
    input = jv_array_append(input, data.CopyJv());
    for (const VarSlot& var : e.vars) {
      const Json* value = var.arg >= 0 ? bindings.args[var.arg] : FindScoped(bindings, var.name);
      input = jv_array_append(input, value != nullptr ? value->CopyJv() : jv_null());
    }
  }
  return RunOn(state, solo != nullptr ? solo : state->jq.get(), input, e.max_constant_weight,
               single_threaded_);
}

bool IsRuntimeExpression(std::string_view s, std::string_view* inner) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  size_t begin = 0;
  while (begin < s.size() && is_space(s[begin])) ++begin;
  size_t end = s.size();
  while (end > begin && is_space(s[end - 1])) --end;
  // `${` + at least one character + `}`.
  if (end - begin < 4 || s.compare(begin, 2, "${") != 0 || s[end - 1] != '}') return false;
  if (inner != nullptr) {
    size_t first = begin + 2;
    size_t last = end - 1;
    while (first < last && is_space(s[first])) ++first;
    while (last > first && is_space(s[last - 1])) --last;
    *inner = s.substr(first, last - first);
  }
  return true;
}

bool IsValidVariableName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  // The jq 1.6 lexer's keywords (src/lexer.l). `not` is a builtin function, not a keyword:
  // `1 as $not | $not` works in jq 1.6.
  static constexpr std::string_view kKeywords[] = {
      "as", "import", "include", "module",  "def", "if",    "then",  "else",  "elif",    "and",
      "or", "end",    "reduce",  "foreach", "try", "catch", "label", "break", "__loc__",
  };
  return std::find(std::begin(kKeywords), std::end(kKeywords), name) == std::end(kKeywords);
}

}  // namespace baton::expr
