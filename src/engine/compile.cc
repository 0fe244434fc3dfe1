// Compile: document → CompiledWorkflow. The document is assumed to have passed
// model::Validate, but every shape is still checked defensively: a surprise becomes a
// diagnostic, never a crash.
#include <algorithm>
#include <set>
#include <utility>

#include "engine/duration.h"
#include "engine/workflow.h"

namespace baton::engine {

const char* TaskTypeName(TaskType type) {
  switch (type) {
    case TaskType::kCall:
      return "call";
    case TaskType::kDo:
      return "do";
    case TaskType::kEmit:
      return "emit";
    case TaskType::kFor:
      return "for";
    case TaskType::kFork:
      return "fork";
    case TaskType::kListen:
      return "listen";
    case TaskType::kRaise:
      return "raise";
    case TaskType::kRun:
      return "run";
    case TaskType::kSet:
      return "set";
    case TaskType::kSwitch:
      return "switch";
    case TaskType::kTry:
      return "try";
    case TaskType::kWait:
      return "wait";
  }
  return "unknown";
}

const TaskDef* CompiledWorkflow::FindTask(const std::string& ref) const {
  auto it = by_ref.find(ref);
  return it == by_ref.end() ? nullptr : it->second;
}

namespace {

class Compiler {
 public:
  Compiler(const model::Document& doc, CompiledWorkflow& out,
           std::vector<model::Diagnostic>& diagnostics)
      : doc_(doc), out_(out), diags_(diagnostics) {}

  void Run() {
    const Json& root = doc_.root;
    Json document = root.Get("document");
    out_.dsl = std::string(document.Get("dsl").AsString());
    out_.namespace_ = std::string(document.Get("namespace").AsString());
    out_.name = std::string(document.Get("name").AsString());
    out_.version = std::string(document.Get("version").AsString());
    use_ = root.Get("use");
    Json input = root.Get("input");
    if (input.Has("from")) out_.input_from = FromAs(input.Get("from"), "/input/from");
    if (input.Has("schema")) out_.input_schema = Schema(input.Get("schema"), "/input/schema");
    Json output = root.Get("output");
    if (output.Has("as")) out_.output_as = FromAs(output.Get("as"), "/output/as");
    if (output.Has("schema")) out_.output_schema = Schema(output.Get("schema"), "/output/schema");
    if (root.Has("timeout")) out_.timeout = Timeout(root.Get("timeout"), "/timeout");
    CompileList(root.Get("do"), "/do", out_.main);
  }

  void Finish(bool evaluable) {
    std::vector<expr::CompileError> errors;
    Status st = evaluable ? out_.programs->Compile(&errors) : out_.programs->Check(&errors);
    if (!st.ok() && errors.empty()) {
      diags_.push_back(doc_.MakeDiagnostic("", "expressions do not compile: " + st.message()));
    }
    for (const auto& e : errors) {
      diags_.push_back(doc_.MakeDiagnostic(
          expr_pointers_[e.id],
          "invalid jq expression '" + out_.programs->Text(e.id) + "': " + e.message));
    }
    out_.uses_task.assign(out_.programs->size(), 0);
    out_.uses_workflow.assign(out_.programs->size(), 0);
    for (size_t i = 0; i < out_.programs->size(); ++i) {
      auto id = static_cast<expr::ExprId>(i);
      out_.uses_task[i] = out_.programs->Binds(id, expr::Arg::kTask);
      out_.uses_workflow[i] = out_.programs->Binds(id, expr::Arg::kWorkflow);
    }
  }

 private:
  void Error(const std::string& pointer, std::string message) {
    diags_.push_back(doc_.MakeDiagnostic(pointer, std::move(message)));
  }

  expr::ExprId AddExpr(std::string_view text, const std::string& pointer) {
    expr::ExprId id = out_.programs->Add(text, scope_);
    if (expr_pointers_.size() <= id) expr_pointers_.resize(id + 1);
    if (expr_pointers_[id].empty()) expr_pointers_[id] = pointer;
    return id;
  }

  // A field that is always an expression (if, when, for.in, ...): `${}` is optional.
  std::optional<expr::ExprId> AlwaysExpr(const Json& v, const std::string& pointer) {
    if (v.IsNull()) return std::nullopt;
    if (v.IsBool()) return AddExpr(v.AsBool() ? "true" : "false", pointer);
    if (!v.IsString()) {
      Error(pointer, std::string("expected a jq expression (string), found ") + v.KindName());
      return std::nullopt;
    }
    std::string_view inner;
    if (expr::IsRuntimeExpression(v.AsString(), &inner)) return AddExpr(inner, pointer);
    return AddExpr(v.AsString(), pointer);
  }

  // input.from / output.as / export.as: a string is an expression, objects are templates.
  ValueTemplate FromAs(const Json& v, const std::string& pointer) {
    if (v.IsString()) {
      ValueTemplate t;
      t.mode = ValueTemplate::Mode::kExpression;
      auto id = AlwaysExpr(v, pointer);
      t.expr = id.value_or(0);
      return t;
    }
    return Template(v, pointer);
  }

  ValueTemplate Template(const Json& v, const std::string& pointer) {
    ValueTemplate t;
    t.constant = v;
    if (v.IsString()) {
      std::string_view inner;
      if (expr::IsRuntimeExpression(v.AsString(), &inner)) {
        t.mode = ValueTemplate::Mode::kExpression;
        t.expr = AddExpr(inner, pointer);
      }
      return t;
    }
    if (v.IsObject()) {
      bool dynamic = false;
      std::vector<std::pair<std::string, ValueTemplate>> members;
      v.ForEachMember([&](std::string_view key, const Json& value) {
        members.emplace_back(std::string(key), Template(value, pointer + "/" + PointerEscape(key)));
        dynamic = dynamic || !members.back().second.IsConstant();
      });
      if (dynamic) {
        t.mode = ValueTemplate::Mode::kObject;
        t.members = std::move(members);
      }
      return t;
    }
    if (v.IsArray()) {
      bool dynamic = false;
      std::vector<ValueTemplate> items;
      v.ForEachItem([&](size_t i, const Json& value) {
        items.push_back(Template(value, pointer + "/" + std::to_string(i)));
        dynamic = dynamic || !items.back().IsConstant();
      });
      if (dynamic) {
        t.mode = ValueTemplate::Mode::kArray;
        t.items = std::move(items);
      }
    }
    return t;
  }

  std::optional<JsonSchema> Schema(const Json& schema, const std::string& pointer) {
    Json document = schema.Get("document");
    if (document.IsNull()) {
      if (schema.Has("resource")) {
        Error(pointer,
              "external schema resources are not supported by this runtime yet; "
              "inline the schema with 'document'");
      }
      return std::nullopt;
    }
    auto compiled = JsonSchema::Compile(document);
    if (!compiled.ok()) {
      Error(pointer + "/document", "invalid JSON Schema: " + compiled.status().message());
      return std::nullopt;
    }
    return std::move(compiled).value();
  }

  std::optional<ValueTemplate> Timeout(const Json& v, const std::string& pointer) {
    Json t = v;
    if (v.IsString()) {
      t = use_.Get("timeouts").Get(v.AsString());
      if (t.IsNull()) {
        Error(pointer,
              "timeout '" + std::string(v.AsString()) + "' is not defined in use.timeouts");
        return std::nullopt;
      }
    }
    if (!t.Has("after")) {
      Error(pointer, "a timeout needs 'after'");
      return std::nullopt;
    }
    return Template(t.Get("after"), pointer + "/after");
  }

  // Replaces `{use: name}` authentication references by the policy they name.
  Json ResolveAuthentication(const Json& auth, const std::string& pointer) {
    if (!auth.IsObject() || !auth.Has("use")) return auth;
    std::string name(auth.Get("use").AsString());
    Json policy = use_.Get("authentications").Get(name);
    if (policy.IsNull()) {
      Error(pointer + "/use",
            "authentication '" + name + "' is not defined in use.authentications");
    }
    return policy;
  }

  FlowTarget Then(const Json& v, const TaskList& list, const std::string& pointer) {
    FlowTarget f;
    if (v.IsNull()) return f;
    std::string_view s = v.AsString();
    if (s == "continue") return f;
    if (s == "exit") {
      f.kind = FlowTarget::Kind::kExit;
      return f;
    }
    if (s == "end") {
      f.kind = FlowTarget::Kind::kEnd;
      return f;
    }
    auto it = list.by_name.find(std::string(s));
    if (it == list.by_name.end()) {
      Error(pointer, "'then' target '" + std::string(s) + "' does not exist in this task list");
      return f;
    }
    f.kind = FlowTarget::Kind::kGoto;
    f.index = it->second;
    return f;
  }

  void CompileList(const Json& list_json, const std::string& pointer, TaskList& list) {
    if (!list_json.IsArray()) {
      Error(pointer, "expected a task list");
      return;
    }
    size_t n = list_json.size();
    list.tasks.resize(n);
    // Names first, so that `then` may jump forward.
    for (size_t i = 0; i < n; ++i) {
      Json entry = list_json.At(i);
      if (!entry.IsObject() || entry.size() != 1) {
        Error(pointer + "/" + std::to_string(i), "a task entry must be a map with one task name");
        continue;
      }
      entry.ForEachMember([&](std::string_view key, const Json&) {
        list.tasks[i].name = std::string(key);
        list.by_name.emplace(std::string(key), i);
      });
    }
    for (size_t i = 0; i < n; ++i) {
      TaskDef& task = list.tasks[i];
      if (task.name.empty()) continue;
      task.ref = pointer + "/" + std::to_string(i) + "/" + PointerEscape(task.name);
      task.body = list_json.At(i).Get(task.name);
      CompileTask(task, list);
    }
  }

  void CompileTask(TaskDef& task, const TaskList& list) {
    const Json& b = task.body;
    const std::string& p = task.ref;
    if (!b.IsObject()) {
      Error(p, "a task must be an object");
      return;
    }
    out_.by_ref[p] = &task;
    task.shared_name = task.name;
    task.shared_ref = task.ref;
    if (b.Has("if")) task.if_expr = AlwaysExpr(b.Get("if"), p + "/if");
    Json input = b.Get("input");
    if (input.Has("from")) task.input_from = FromAs(input.Get("from"), p + "/input/from");
    if (input.Has("schema")) task.input_schema = Schema(input.Get("schema"), p + "/input/schema");
    Json output = b.Get("output");
    if (output.Has("as")) task.output_as = FromAs(output.Get("as"), p + "/output/as");
    if (output.Has("schema"))
      task.output_schema = Schema(output.Get("schema"), p + "/output/schema");
    Json exp = b.Get("export");
    if (exp.Has("as")) task.export_as = FromAs(exp.Get("as"), p + "/export/as");
    if (exp.Has("schema")) task.export_schema = Schema(exp.Get("schema"), p + "/export/schema");
    if (b.Has("timeout")) task.timeout = Timeout(b.Get("timeout"), p + "/timeout");
    task.then = Then(b.Get("then"), list, p + "/then");

    if (b.Has("for")) {
      CompileFor(task);
    } else if (b.Has("try")) {
      CompileTry(task);
    } else if (b.Has("call")) {
      CompileCall(task);
    } else if (b.Has("do")) {
      task.type = TaskType::kDo;
      CompileList(b.Get("do"), p + "/do", task.children);
    } else if (b.Has("emit")) {
      task.type = TaskType::kEmit;
      task.args = Template(b.Get("emit").Get("event").Get("with"), p + "/emit/event/with");
    } else if (b.Has("fork")) {
      task.type = TaskType::kFork;
      Json fork = b.Get("fork");
      task.compete = fork.Get("compete").AsBool();
      CompileList(fork.Get("branches"), p + "/fork/branches", task.children);
    } else if (b.Has("listen")) {
      CompileListen(task);
    } else if (b.Has("raise")) {
      task.type = TaskType::kRaise;
      Json error = b.Get("raise").Get("error");
      std::string ep = p + "/raise/error";
      if (error.IsString()) {
        Json named = use_.Get("errors").Get(error.AsString());
        if (named.IsNull()) {
          Error(ep, "error '" + std::string(error.AsString()) + "' is not defined in use.errors");
        }
        error = named;
        ep = "/use/errors/" + PointerEscape(b.Get("raise").Get("error").AsString());
      }
      task.args = Template(error, ep);
    } else if (b.Has("run")) {
      CompileRun(task);
    } else if (b.Has("set")) {
      task.type = TaskType::kSet;
      task.args = Template(b.Get("set"), p + "/set");
    } else if (b.Has("switch")) {
      CompileSwitch(task, list);
    } else if (b.Has("wait")) {
      task.type = TaskType::kWait;
      task.args = Template(b.Get("wait"), p + "/wait");
    } else {
      Error(p, "unknown task type");
    }
    if (b.Has("compensate")) CompileCompensate(task);
  }

  // A compensation sees `$original` ({name, reference, input, output} of the task it undoes).
  void CompileCompensate(TaskDef& task) {
    Json c = task.body.Get("compensate");
    std::string p = task.ref + "/compensate";
    task.compensate = std::make_unique<TaskList>();
    out_.uses_compensation = true;
    scope_.push_back("original");
    if (c.IsArray()) {
      CompileList(c, p, *task.compensate);
    } else {
      TaskList& list = *task.compensate;
      list.tasks.resize(1);
      list.by_name.emplace("compensate", 0);
      TaskDef& only = list.tasks[0];
      only.name = "compensate";
      only.ref = p;
      only.body = c;
      CompileTask(only, list);
    }
    scope_.pop_back();
  }

  void CompileFor(TaskDef& task) {
    const std::string& p = task.ref;
    task.type = TaskType::kFor;
    Json f = task.body.Get("for");
    if (f.Has("each")) task.for_each = std::string(f.Get("each").AsString());
    if (f.Has("at")) task.for_at = std::string(f.Get("at").AsString());
    task.for_in = AlwaysExpr(f.Get("in"), p + "/for/in");
    if (!task.for_in) Error(p + "/for", "'for' needs 'in'");
    if (f.Has("concurrency")) task.concurrency = f.Get("concurrency").AsInt();
    scope_.push_back(task.for_each);
    scope_.push_back(task.for_at);
    if (task.body.Has("while")) task.for_while = AlwaysExpr(task.body.Get("while"), p + "/while");
    CompileList(task.body.Get("do"), p + "/do", task.children);
    scope_.resize(scope_.size() - 2);
  }

  void CompileTry(TaskDef& task) {
    const std::string& p = task.ref;
    task.type = TaskType::kTry;
    CompileList(task.body.Get("try"), p + "/try", task.children);
    auto c = std::make_unique<CatchDef>();
    Json cj = task.body.Get("catch");
    c->errors_with = cj.Get("errors").Get("with");
    if (cj.Has("as")) c->as = std::string(cj.Get("as").AsString());
    scope_.push_back(c->as);
    if (cj.Has("when")) c->when = AlwaysExpr(cj.Get("when"), p + "/catch/when");
    if (cj.Has("exceptWhen")) {
      c->except_when = AlwaysExpr(cj.Get("exceptWhen"), p + "/catch/exceptWhen");
    }
    if (cj.Has("retry")) {
      Json r = cj.Get("retry");
      std::string rp = p + "/catch/retry";
      if (r.IsString()) {
        Json named = use_.Get("retries").Get(r.AsString());
        if (named.IsNull()) {
          Error(rp,
                "retry policy '" + std::string(r.AsString()) + "' is not defined in use.retries");
        }
        rp = "/use/retries/" + PointerEscape(r.AsString());
        r = named;
      }
      c->retry = Retry(r, rp);
    }
    c->compensate = cj.Get("compensate").IsBool() && cj.Get("compensate").AsBool();
    if (cj.Has("do")) {
      c->has_do = true;
      CompileList(cj.Get("do"), p + "/catch/do", c->do_list);
    }
    scope_.pop_back();
    task.catch_def = std::move(c);
  }

  int64_t DurationField(const Json& v, const std::string& pointer) {
    auto ms = DurationToMillis(v);
    if (!ms.ok()) {
      Error(pointer, ms.status().message());
      return 0;
    }
    return *ms;
  }

  RetryPolicy Retry(const Json& r, const std::string& p) {
    RetryPolicy policy;
    if (r.Has("when")) policy.when = AlwaysExpr(r.Get("when"), p + "/when");
    if (r.Has("exceptWhen"))
      policy.except_when = AlwaysExpr(r.Get("exceptWhen"), p + "/exceptWhen");
    if (r.Has("delay")) policy.delay_ms = DurationField(r.Get("delay"), p + "/delay");
    Json backoff = r.Get("backoff");
    if (backoff.Has("linear")) {
      policy.backoff = RetryPolicy::Backoff::kLinear;
      Json inc = backoff.Get("linear").Get("increment");
      if (!inc.IsNull()) policy.increment_ms = DurationField(inc, p + "/backoff/linear/increment");
      Json cap = backoff.Get("linear").Get("maxDelay");
      if (!cap.IsNull()) policy.max_delay_ms = DurationField(cap, p + "/backoff/linear/maxDelay");
    } else if (backoff.Has("exponential")) {
      policy.backoff = RetryPolicy::Backoff::kExponential;
      Json e = backoff.Get("exponential");
      if (e.Has("multiplier")) policy.multiplier = e.Get("multiplier").AsNumber();
      if (e.Has("maxDelay")) {
        policy.max_delay_ms = DurationField(e.Get("maxDelay"), p + "/backoff/exponential/maxDelay");
      }
    }
    Json limit = r.Get("limit");
    Json attempt = limit.Get("attempt");
    if (attempt.Has("count")) policy.max_retries = attempt.Get("count").AsInt();
    if (attempt.Has("duration")) {
      policy.attempt_limit_ms =
          DurationField(attempt.Get("duration"), p + "/limit/attempt/duration");
    }
    if (limit.Has("duration"))
      policy.limit_ms = DurationField(limit.Get("duration"), p + "/limit/duration");
    Json jitter = r.Get("jitter");
    if (!jitter.IsNull()) {
      policy.jitter_from_ms = DurationField(jitter.Get("from"), p + "/jitter/from");
      policy.jitter_to_ms = DurationField(jitter.Get("to"), p + "/jitter/to");
      if (policy.jitter_to_ms < policy.jitter_from_ms) {
        Error(p + "/jitter", "jitter 'to' must not be smaller than 'from'");
      }
    }
    return policy;
  }

  void CompileCall(TaskDef& task) {
    const std::string& p = task.ref;
    task.type = TaskType::kCall;
    std::string kind(task.body.Get("call").AsString());
    Json with = task.body.Get("with");
    static const char* kBuiltin[] = {"http", "openapi", "grpc", "asyncapi", "a2a", "mcp"};
    bool builtin = std::find_if(std::begin(kBuiltin), std::end(kBuiltin),
                                [&](const char* k) { return kind == k; }) != std::end(kBuiltin);
    if (builtin) {
      task.call_kind = kind;
      if (with.IsObject()) {
        Json endpoint = with.Get("endpoint");
        if (endpoint.IsObject() && endpoint.Has("authentication")) {
          endpoint.Set("authentication",
                       ResolveAuthentication(endpoint.Get("authentication"),
                                             p + "/with/endpoint/authentication"));
          with.Set("endpoint", endpoint);
        }
        if (with.Has("authentication")) {
          with.Set("authentication",
                   ResolveAuthentication(with.Get("authentication"), p + "/with/authentication"));
        }
        Json document = with.Get("document");
        if (document.IsObject() && document.Get("endpoint").IsObject() &&
            document.Get("endpoint").Has("authentication")) {
          Json ep = document.Get("endpoint");
          ep.Set("authentication",
                 ResolveAuthentication(ep.Get("authentication"),
                                       p + "/with/document/endpoint/authentication"));
          document.Set("endpoint", ep);
          with.Set("document", document);
        }
      }
      // asyncapi's subscription.foreach binds its item/index variables for its tasks.
      Json foreach = with.Get("subscription").Get("foreach");
      size_t scoped = 0;
      if (!foreach.IsNull()) {
        scope_.push_back(foreach.Has("item") ? std::string(foreach.Get("item").AsString())
                                             : "item");
        scope_.push_back(foreach.Has("at") ? std::string(foreach.Get("at").AsString()) : "index");
        scoped = 2;
      }
      task.args = Template(with, p + "/with");
      scope_.resize(scope_.size() - scoped);
      return;
    }
    // A custom function: a use.functions entry is a task definition run with `with` as input.
    Json fn = use_.Get("functions").Get(kind);
    task.call_kind = "function";
    task.args = Template(with.IsNull() ? Json::Object() : with, p + "/with");
    if (fn.IsNull()) {
      // name:version@catalog and URLs are resolved by catalogs, which this runtime lacks.
      task.call_kind = "catalog";
      return;
    }
    auto def = std::make_unique<TaskDef>();
    def->name = kind;
    def->ref = "/use/functions/" + PointerEscape(kind);
    def->body = fn;
    if (!compiling_functions_.insert(kind).second) {
      Error(p + "/call", "function '" + kind + "' calls itself");
      return;
    }
    TaskList empty;
    CompileTask(*def, empty);
    compiling_functions_.erase(kind);
    task.function = std::move(def);
  }

  void CompileRun(TaskDef& task) {
    const std::string& p = task.ref;
    task.type = TaskType::kRun;
    Json run = task.body.Get("run");
    task.await = !run.Has("await") || run.Get("await").AsBool();
    if (run.Has("return")) task.return_mode = std::string(run.Get("return").AsString());
    for (const char* kind : {"shell", "script", "workflow", "container"}) {
      if (run.Has(kind)) {
        task.call_kind = kind;
        task.args = Template(run.Get(kind), p + "/run/" + kind);
        return;
      }
    }
    Error(p + "/run", "'run' needs one of: shell, script, workflow, container");
  }

  void CompileSwitch(TaskDef& task, const TaskList& list) {
    const std::string& p = task.ref;
    task.type = TaskType::kSwitch;
    Json cases = task.body.Get("switch");
    cases.ForEachItem([&](size_t i, const Json& entry) {
      entry.ForEachMember([&](std::string_view name, const Json& c) {
        SwitchCase sc;
        sc.name = std::string(name);
        std::string cp = p + "/switch/" + std::to_string(i) + "/" + PointerEscape(name);
        if (c.Has("when")) sc.when = AlwaysExpr(c.Get("when"), cp + "/when");
        sc.then = Then(c.Get("then"), list, cp + "/then");
        task.cases.push_back(std::move(sc));
      });
    });
  }

  void CompileListen(TaskDef& task) {
    const std::string& p = task.ref;
    task.type = TaskType::kListen;
    auto l = std::make_unique<ListenDef>();
    Json listen = task.body.Get("listen");
    if (listen.Has("read")) l->read = std::string(listen.Get("read").AsString());
    Json to = listen.Get("to");
    std::string tp = p + "/listen/to";
    auto add_filter = [&](const Json& filter, const std::string& fp) {
      Json with = filter.Get("with");
      std::vector<std::pair<std::string, std::optional<expr::ExprId>>> exprs;
      with.ForEachMember([&](std::string_view key, const Json& value) {
        std::string_view inner;
        if (value.IsString() && expr::IsRuntimeExpression(value.AsString(), &inner)) {
          exprs.emplace_back(std::string(key), AddExpr(inner, fp + "/with/" + PointerEscape(key)));
        } else {
          exprs.emplace_back(std::string(key), std::nullopt);
        }
      });
      l->filters.push_back(with);
      l->filter_exprs.push_back(std::move(exprs));
    };
    if (to.Has("one")) {
      l->mode = ListenDef::Mode::kOne;
      add_filter(to.Get("one"), tp + "/one");
    } else if (to.Has("all")) {
      l->mode = ListenDef::Mode::kAll;
      to.Get("all").ForEachItem(
          [&](size_t i, const Json& f) { add_filter(f, tp + "/all/" + std::to_string(i)); });
    } else if (to.Has("any")) {
      l->mode = ListenDef::Mode::kAny;
      to.Get("any").ForEachItem(
          [&](size_t i, const Json& f) { add_filter(f, tp + "/any/" + std::to_string(i)); });
      Json until = to.Get("until");
      if (until.IsString()) {
        l->until_expr = AlwaysExpr(until, tp + "/until");
      } else if (!until.IsNull()) {
        l->unsupported =
            "an event-strategy 'until' is not supported by this runtime yet; use an "
            "expression";
      }
    } else {
      Error(tp, "'listen.to' needs one of: one, any, all");
    }
    Json foreach = task.body.Get("foreach");
    if (foreach.IsNull())
      foreach
        = listen.Get("foreach");
    if (!foreach.IsNull()) {
      l->unsupported = "'foreach' on listen is not supported by this runtime yet";
      scope_.push_back(foreach.Has("item") ? std::string(foreach.Get("item").AsString()) : "item");
      scope_.push_back(foreach.Has("at") ? std::string(foreach.Get("at").AsString()) : "index");
      if (foreach.Has("do")) CompileList(foreach.Get("do"), p + "/foreach/do", l->foreach_do);
      scope_.resize(scope_.size() - 2);
    }
    task.listen = std::move(l);
  }

  const model::Document& doc_;
  CompiledWorkflow& out_;
  std::vector<model::Diagnostic>& diags_;
  Json use_;
  std::vector<std::string> scope_;
  std::vector<std::string> expr_pointers_;
  std::set<std::string> compiling_functions_;
};

}  // namespace

Result<std::shared_ptr<const CompiledWorkflow>> Compile(const model::Document& doc,
                                                        std::vector<model::Diagnostic>* diagnostics,
                                                        bool evaluable) {
  auto out = std::make_shared<CompiledWorkflow>();
  out->document = doc.root;
  out->programs = std::make_unique<expr::ProgramSet>();
  std::vector<model::Diagnostic> local;
  std::vector<model::Diagnostic>& diags = diagnostics ? *diagnostics : local;
  size_t before = diags.size();
  Compiler compiler(doc, *out, diags);
  compiler.Run();
  compiler.Finish(evaluable);
  if (diags.size() > before) {
    std::string message;
    for (size_t i = before; i < diags.size(); ++i) {
      if (!message.empty()) message += "\n";
      message += diags[i].ToString();
    }
    return Status::InvalidArgument(message);
  }
  return std::shared_ptr<const CompiledWorkflow>(std::move(out));
}

}  // namespace baton::engine
