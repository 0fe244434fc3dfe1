// CompiledWorkflow: a validated DSL document turned into what the interpreter walks: a tree
// of TaskDefs whose expressions are compiled once, into one jq program per document.
//
// Thread-safety: immutable after Compile() (its ProgramSet serialises evaluations), so one
// CompiledWorkflow may be shared by many instances: use shared_ptr<const CompiledWorkflow>.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/json.h"
#include "base/shared_string.h"
#include "base/status.h"
#include "engine/json_schema.h"
#include "expr/program_set.h"
#include "model/document.h"

namespace baton::engine {

// A value whose leaves may be runtime expressions. Constant parts are kept as they are.
struct ValueTemplate {
  enum class Mode : uint8_t { kConstant, kExpression, kObject, kArray };
  Mode mode = Mode::kConstant;
  Json constant;
  expr::ExprId expr = 0;
  std::vector<std::pair<std::string, ValueTemplate>> members;  // kObject
  std::vector<ValueTemplate> items;                            // kArray
  bool IsConstant() const { return mode == Mode::kConstant; }
};

enum class TaskType : uint8_t {
  kCall,
  kDo,
  kEmit,
  kFor,
  kFork,
  kListen,
  kRaise,
  kRun,
  kSet,
  kSwitch,
  kTry,
  kWait,
};
const char* TaskTypeName(TaskType type);

// Where control goes after a task (a flow directive).
struct FlowTarget {
  enum class Kind : uint8_t { kContinue, kExit, kEnd, kGoto };
  Kind kind = Kind::kContinue;
  size_t index = 0;  // kGoto: index in the same list
};

struct TaskDef;

struct TaskList {
  std::vector<TaskDef> tasks;
  std::unordered_map<std::string, size_t> by_name;
};

struct SwitchCase {
  std::string name;
  std::optional<expr::ExprId> when;  // none: the default case
  FlowTarget then;
};

struct RetryPolicy {
  std::optional<expr::ExprId> when;
  std::optional<expr::ExprId> except_when;
  int64_t delay_ms = 0;
  enum class Backoff : uint8_t { kConstant, kLinear, kExponential } backoff = Backoff::kConstant;
  double multiplier = 2;          // exponential (baton extension)
  int64_t increment_ms = -1;      // linear (baton extension); -1 = `delay`
  int64_t max_delay_ms = -1;      // exponential/linear cap (baton extension); -1 = none
  int64_t max_retries = -1;       // limit.attempt.count; -1 = unlimited
  int64_t limit_ms = -1;          // limit.duration: total window; -1 = none
  int64_t attempt_limit_ms = -1;  // limit.attempt.duration: per-attempt cap; -1 = none
  int64_t jitter_from_ms = 0;
  int64_t jitter_to_ms = 0;
  double jitter_ratio = 0;  // ± this fraction of the delay (the server's default policy)
};

struct CatchDef {
  Json errors_with;  // filter object (type/status/instance/title/detail); may be null
  std::string as = "error";
  std::optional<expr::ExprId> when;
  std::optional<expr::ExprId> except_when;
  std::optional<RetryPolicy> retry;
  bool has_do = false;
  TaskList do_list;
  bool compensate = false;  // baton: undo the try body's compensable tasks first
};

struct ListenDef {
  enum class Mode : uint8_t { kOne, kAny, kAll } mode = Mode::kOne;
  // Each filter: {with: {attr: ValueTemplate-ish}}; matched by the interpreter.
  std::vector<Json> filters;
  std::vector<std::vector<std::pair<std::string, std::optional<expr::ExprId>>>> filter_exprs;
  std::optional<expr::ExprId> until_expr;
  std::string read = "data";  // data | envelope | raw
  TaskList foreach_do;        // compiled so that its expressions are checked
  std::string unsupported;    // non-empty: running this listen faults with this detail
};

struct TaskDef {
  std::string name;
  std::string ref;  // JSON pointer, e.g. "/do/0/getPet"
  // The same two, for lifecycle entries (set by Compile).
  SharedString shared_name;
  SharedString shared_ref;
  TaskType type = TaskType::kSet;
  Json body;  // the task's object as written

  std::optional<expr::ExprId> if_expr;
  std::optional<ValueTemplate> input_from;
  std::optional<JsonSchema> input_schema;
  std::optional<ValueTemplate> output_as;
  std::optional<JsonSchema> output_schema;
  std::optional<ValueTemplate> export_as;
  std::optional<JsonSchema> export_schema;
  std::optional<ValueTemplate> timeout;  // a duration (maybe an expression)
  FlowTarget then;

  // Kind-specific.
  std::string call_kind;  // call: http/openapi/grpc/...; run: shell/script/workflow/container
  ValueTemplate
      args;  // call `with`, run process object, set value, emit event, raise error, wait duration
  TaskList children;                  // do, for.do, try, fork branches
  std::unique_ptr<TaskDef> function;  // call of a use.functions entry
  // for
  std::optional<expr::ExprId> for_in;
  std::optional<expr::ExprId> for_while;
  std::string for_each = "item";
  std::string for_at = "index";
  int64_t concurrency = 0;  // 0 = sequential (spec); N = baton's parallel for
  // fork
  bool compete = false;
  // switch
  std::vector<SwitchCase> cases;
  // try
  std::unique_ptr<CatchDef> catch_def;
  // listen
  std::unique_ptr<ListenDef> listen;
  // run
  bool await = true;
  std::string return_mode = "stdout";
  // baton's saga extension: what undoes this task (a task is compiled as a list of one).
  std::unique_ptr<TaskList> compensate;
};

struct CompiledWorkflow {
  Json document;  // the whole document
  std::string dsl, namespace_, name, version;
  std::unique_ptr<expr::ProgramSet> programs;
  // Which spec arguments each expression mentions (so unused ones are never built).
  std::vector<uint8_t> uses_task;
  std::vector<uint8_t> uses_workflow;
  TaskList main;
  std::optional<ValueTemplate> input_from;
  std::optional<JsonSchema> input_schema;
  std::optional<ValueTemplate> output_as;
  std::optional<JsonSchema> output_schema;
  std::optional<ValueTemplate> timeout;
  std::unordered_map<std::string, const TaskDef*> by_ref;
  bool uses_compensation = false;  // some task declares `compensate`

  const TaskDef* FindTask(const std::string& ref) const;
};

// Compiles a validated document. Problems (expressions that do not compile, bad schemas,
// unresolvable references) are returned as diagnostics with JSON pointers; on any, the
// result is an error whose message joins them.
// With `evaluable` false the expressions are only checked (ProgramSet::Check): the result
// gives the same diagnostics, faster, but must not run.
Result<std::shared_ptr<const CompiledWorkflow>> Compile(const model::Document& doc,
                                                        std::vector<model::Diagnostic>* diagnostics,
                                                        bool evaluable = true);

}  // namespace baton::engine

namespace baton::engine {
// The delay before retry number `retry` (1-based) of policy `p`, jitter excluded:
// constant: delay; linear: delay + increment × (retry − 1) (increment defaults to delay),
// capped at maxDelay; exponential: delay × multiplier^(retry − 1), capped at maxDelay.
int64_t BackoffDelay(const RetryPolicy& p, uint32_t retry);

// The server's default retry policy from its configuration object (docs/errors.md):
// {attempts, delay, multiplier, maxDelay, jitter}, durations in ISO 8601; missing keys keep
// `base`'s values. Errors name the key and what was expected.
Result<RetryPolicy> ParseDefaultRetryPolicy(const Json& config, const RetryPolicy& base);
// 3 retries, 1 s exponential ×2 up to 60 s, ±10 % jitter.
RetryPolicy BuiltinDefaultRetryPolicy();
}  // namespace baton::engine
