// ProgramSet: every jq expression of one workflow document, compiled as ONE jq program.
//
// Why one program: libjq 1.6 re-parses its whole builtin library on every jq_compile
// (~20 ms), so compiling per expression would make loading a 300-expression document take
// seconds. All expressions are added first, then Compile() builds a single program that
// dispatches on the expression id with a balanced if-tree (O(log n) per evaluation):
//
//   def env: {}; {} as $ENV | .[0] as $__i |
//   if $__i < 2 then (if $__i < 1 then (.[2] as $input | .[1] | (E0)) else ... end) else ... end
//
// The evaluation input is [id, data, v1, v2, ...]: each expression binds only the variables
// its text references (so an unused $task costs nothing), in the order recorded at Add().
// `def env: {}; {} as $ENV` hides the process environment from workflow authors.
//
// Thread-safety: Add/Compile from one thread before any Evaluate (and again only when no
// Evaluate runs). Evaluate is thread-safe, and evaluations of one set on different threads do
// not wait for each other: each thread evaluates on a jq_state of its own.
//
// Why one state per thread: a jq_state is not thread-safe, and libjq 1.6 cannot interrupt an
// evaluation (`"abc" | gsub(""; "-")` never ends). The server's watchdog abandons a worker
// thread stuck in such an expression and starts another. With one state per set behind a
// mutex, the stuck thread would hold the mutex forever and stall every instance of that
// document; with a state per thread, only the stuck thread is lost.
//
// How: Compile() compiles on the calling thread and keeps that jq_state for it, plus the
// program text. Any other thread compiles its own state on its first Evaluate of the set:
// one jq_compile of the whole program, about 20 ms of CPU for 1 expression, 30 ms for 30,
// 100-170 ms for 300 (compiles are serialised process-wide, see HomeHidden in the .cc).
// The states are owned by the set (about 0.1 MB for 1 expression, 0.8 MB for 300), so a
// thread that exits leaves its state until the set is destroyed: memory is bounded by
// threads x documents.
// Each thread remembers its last few (set, state) pairs in a thread_local cache, keyed by a
// process-wide compile generation that is never reused, so the hot path costs a few
// compares and never reads the state of a destroyed or recompiled set. The set may be
// destroyed on any thread; a state still in use by an abandoned thread's evaluation is
// then left to that thread, which frees it if the evaluation ever returns.
// A hot expression (kHotEvaluations on one thread) also gets a program of its own on that
// thread, owned like the thread's state (see SoloState in the .cc).
// Results are detached from the state's program constants (see expr/detach.h) unless
// SetSingleThreaded(true), because the caller may hand them to another thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/status.h"

struct jq_state;

namespace baton::expr {

using ExprId = uint32_t;

// The spec's expression arguments (dsl.md "Runtime expression arguments").
enum class Arg : uint8_t {
  kContext = 0,
  kInput,
  kOutput,
  kSecrets,
  kTask,
  kWorkflow,
  kRuntime,
  kAuthorization,
};
inline constexpr int kArgCount = 8;
// "context", "input", ... (without '$').
const char* ArgName(Arg arg);

// Values for one evaluation. Pointers may be null (the variable is then null).
// Scoped variables (for's $item/$index, catch's $error, ...) are looked up by name,
// innermost (last) first. All pointees must outlive the Evaluate call.
struct Bindings {
  const Json* args[kArgCount] = {};
  std::vector<std::pair<std::string_view, const Json*>> scoped;
};

struct CompileError {
  ExprId id;
  std::string message;  // jq's message, e.g. "syntax error, unexpected INVALID_CHARACTER"
};

class ProgramSet {
 public:
  ProgramSet();
  ~ProgramSet();
  ProgramSet(const ProgramSet&) = delete;
  ProgramSet& operator=(const ProgramSet&) = delete;

  // Registers `text` (jq source, without the `${ }` wrapper). `scoped_vars` are the names
  // of scoped variables visible where the expression sits (without '$'). Identical
  // (text, scoped_vars) pairs return the same id.
  ExprId Add(std::string_view text, const std::vector<std::string>& scoped_vars);
  size_t size() const;

  // Compiles everything added so far into one program. When some expressions do not
  // compile, returns InvalidArgument and fills `errors` with one entry per failing
  // expression (found by bisection, so a bad document costs O(k log n) compiles).
  Status Compile(std::vector<CompileError>* errors);

  // Like Compile, but only judges the expressions (`baton validate`): the same errors, from
  // a program without the dispatch tree (the expressions one after another), which compiles
  // in about half the time and cannot be evaluated: Evaluate may not be called after it.
  Status Check(std::vector<CompileError>* errors);

  // Evaluates expression `id` with `data` as `.`; returns its first result, or null when it
  // yields none. A runtime error (or `halt_error`) returns InvalidArgument with jq's message.
  // The first call on a thread compiles that thread's state (Internal if that fails; the
  // next call tries again).
  // REQUIRES: Compile() succeeded.
  Result<Json> Evaluate(ExprId id, const Json& data, const Bindings& bindings) const;

  // Promises that every Evaluate call, and every use of its results, happens on one thread.
  // Evaluate then skips the work that makes results safe to hand to other threads
  // (detaching them from the program's constants and resetting the jq state), about a third
  // of the cost of a small expression. `baton run` evaluates on one thread only.
  void SetSingleThreaded(bool single) { single_threaded_ = single; }

  // An expression evaluated this many times on one thread gets a program of its own on that
  // thread (see program_set.cc, SoloState): the same results, without the shared program's
  // dispatch (~0.8 us per evaluation), at the price of one more jq_compile (~20 ms) for that
  // thread. The default is about where the two costs meet (the ski-rental rule: never more
  // than twice the cost of the best choice made in hindsight). Tests lower it.
  static constexpr uint32_t kHotEvaluations = 20000;
  void SetHotEvaluations(uint32_t n) { hot_evaluations_ = n; }
  // How many such programs exist in the process (at most 256).
  static int SoloPrograms();

  // Whether expression `id` reads the spec argument `arg` (so that its value, when costly,
  // is built only for the expressions that read it).
  bool Binds(ExprId id, Arg arg) const;

  // The source text of an expression (for error messages).
  const std::string& Text(ExprId id) const;

 private:
  Status Build(std::vector<CompileError>* errors, bool check_only);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool single_threaded_ = false;
  uint32_t hot_evaluations_ = kHotEvaluations;
};

// Strict-mode test of the spec: is `s` a runtime expression `${ ... }`? If so, returns true
// and sets *inner to the text between the first `${` and the last `}`.
bool IsRuntimeExpression(std::string_view s, std::string_view* inner);

// Returns true when `name` can be a jq variable name in jq 1.6 (identifier, not a keyword).
bool IsValidVariableName(std::string_view name);

}  // namespace baton::expr
