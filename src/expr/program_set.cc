#include "expr/program_set.h"

// libjq's headers have no extern "C" of their own.
extern "C" {
#include <jq.h>
}

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <optional>
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
constexpr std::string_view kPrelude =
    "def env: {}; def __baton_builtins: builtins; def builtins: [__baton_builtins[]]; "
    "def __baton_leaf(f): f; .[0] as $__i |\n";

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
// file there could break or change every workflow. HOME is unset for the duration of the
// compile (slurp_lib ignores a missing HOME). setenv/unsetenv are not thread-safe with
// respect to getenv: a thread that reads the environment during a compile may see HOME
// missing (or worse). Compiles happen when documents are loaded, not on the hot path, and
// are serialised among themselves by this mutex.
class HomeHidden {
 public:
  HomeHidden() : lock_(Mutex()) {
    if (const char* home = std::getenv("HOME")) {
      saved_ = std::string(home);
      ::unsetenv("HOME");
    }
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
  JqStatePtr jq;                                      // guarded by mutex once compiled
  bool compiled = false;
  mutable std::mutex mutex;

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
    std::string out(kPrelude);
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
    std::string unwrapped(kPrelude);
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

const std::string& ProgramSet::Text(ExprId id) const {
  BATON_CHECK(id < impl_->exprs.size());
  return impl_->exprs[id].text;
}

Status ProgramSet::Compile(std::vector<CompileError>* errors) {
  std::vector<CompileError> local_errors;
  if (errors == nullptr) errors = &local_errors;
  errors->clear();
  impl_->jq.reset();
  impl_->compiled = false;

  std::vector<ExprId> candidates;
  for (ExprId id = 0; id < impl_->exprs.size(); ++id) {
    if (impl_->exprs[id].balanced) {
      candidates.push_back(id);
      continue;
    }
    // Unbalanced text would escape its parentheses; let jq judge it without them.
    std::string program(kPrelude);
    impl_->AppendLeaf(id, false, &program);
    std::string message;
    if (CompileJq(program, &message) == nullptr) {
      errors->push_back({id, message});
    } else {
      candidates.push_back(id);  // Our scan was wrong: jq's lexer sees balanced brackets.
    }
  }

  if (!candidates.empty()) {
    std::string message;
    JqStatePtr jq = CompileJq(impl_->Program(candidates), &message);
    if (jq == nullptr) {
      impl_->Bisect(candidates, errors);
    } else if (errors->empty()) {
      impl_->jq = std::move(jq);
    }
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
  impl_->compiled = true;
  return Status::Ok();
}

Result<Json> ProgramSet::Evaluate(ExprId id, const Json& data, const Bindings& bindings) const {
  BATON_CHECK(impl_->compiled);
  BATON_CHECK(id < impl_->exprs.size());
  const Expr& e = impl_->exprs[id];

  jv input = jv_array_sized(static_cast<int>(2 + e.vars.size()));
  input = jv_array_append(input, jv_number(id));
  input = jv_array_append(input, data.CopyJv());
  for (const VarSlot& var : e.vars) {
    const Json* value = var.arg >= 0 ? bindings.args[var.arg] : FindScoped(bindings, var.name);
    input = jv_array_append(input, value != nullptr ? value->CopyJv() : jv_null());
  }

  std::lock_guard<std::mutex> lock(impl_->mutex);
  jq_state* jq = impl_->jq.get();
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
  if (single_threaded_ && !halted) {
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
  return Json::Adopt(DetachFromProgram(result, e.max_constant_weight));
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
