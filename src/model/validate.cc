// Structural validation of Serverless Workflow DSL 1.0.x documents.
//
// Written by hand after schema/workflow.yaml (1.0.3) rather than run through a JSON Schema
// validator: the schema's oneOf/unevaluatedProperties combinations make a generic validator
// report "does not match any of 12 alternatives" where an author needs "unknown property
// 'methd' in call 'http' arguments". Every check reports and carries on, so one run lists
// every problem. Where the schema and the reference prose disagree, the choice is noted.
#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "expr/program_set.h"
#include "model/document.h"
#include "model/duration_syntax.h"

namespace baton::model {
namespace {

using Names = std::initializer_list<std::string_view>;

// A document with more problems than this is not worth listing exhaustively (and a hostile
// one must not produce a million messages).
constexpr size_t kMaxDiagnostics = 1000;

const Names kTaskTypes = {"call",  "do",  "emit", "for",    "fork", "listen",
                          "raise", "run", "set",  "switch", "try",  "wait"};
const Names kCommonTaskProperties = {"if",      "input", "output",   "export",
                                     "timeout", "then",  "metadata", "compensate"};
const Names kBuiltinCalls = {"http", "openapi", "grpc", "asyncapi", "a2a", "mcp"};
const Names kAuthSchemes = {"basic", "bearer", "digest", "oauth2", "oidc"};
const Names kSupportedDsl = {"1.0.0", "1.0.1", "1.0.2", "1.0.3"};

bool In(std::string_view s, Names names) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

std::string Join(Names names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string Child(const std::string& pointer, std::string_view key) {
  return pointer + "/" + PointerEscape(key);
}
std::string Child(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

// "number", "string 'abc'", ...: what the author wrote, for "got ..." in messages.
std::string Describe(const Json& v) {
  if (v.IsString()) {
    std::string_view s = v.AsString();
    if (s.size() > 40) {
      size_t cut = 37;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;  // UTF-8
      return "string '" + std::string(s.substr(0, cut)) + "...'";
    }
    return "string " + Quoted(s);
  }
  if (v.IsNumber()) return "number " + v.Dump();
  return v.KindName();
}

bool IsRuntimeExpression(std::string_view s) { return expr::IsRuntimeExpression(s, nullptr); }

// RFC 3986 scheme followed by "://", as the schema's uriTemplate pattern requires.
bool IsAbsoluteUri(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (s.empty() || !alpha(s[0])) return false;
  size_t i = 1;
  while (i < s.size() && (alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
                          s[i] == '-' || s[i] == '.')) {
    ++i;
  }
  return s.substr(i, 3) == "://";
}

// The shape of an identifier, to tell "not an identifier" from "a jq keyword" in messages.
// Whether a name is acceptable is expr::IsValidVariableName's call, so that the validator
// and the expression compiler never disagree.
bool IsJqIdentifier(std::string_view s) {
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || !start(s[0])) return false;
  for (char c : s.substr(1)) {
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// ^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$ (schema 1.0.3, a DNS label).
bool IsDnsLabel(std::string_view s) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

// Semantic Versioning 2.0.0, exactly as the schema's pattern.
bool IsSemver(std::string_view s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto ident_char = [&](char c) {
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
  };
  auto numeric = [&](std::string_view n) {
    if (n.empty() || !std::all_of(n.begin(), n.end(), digit)) return false;
    return n.size() == 1 || n[0] != '0';
  };
  auto dotted = [&](std::string_view part, bool prerelease) {
    size_t start = 0;
    while (true) {
      size_t dot = part.find('.', start);
      std::string_view id = part.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (id.empty() || !std::all_of(id.begin(), id.end(), ident_char)) return false;
      if (prerelease && std::all_of(id.begin(), id.end(), digit) && !numeric(id)) return false;
      if (dot == std::string_view::npos) return true;
      start = dot + 1;
    }
  };
  size_t plus = s.find('+');
  if (plus != std::string_view::npos) {
    if (!dotted(s.substr(plus + 1), false)) return false;
    s = s.substr(0, plus);
  }
  size_t dash = s.find('-');
  if (dash != std::string_view::npos) {
    if (!dotted(s.substr(dash + 1), true)) return false;
    s = s.substr(0, dash);
  }
  size_t d1 = s.find('.');
  if (d1 == std::string_view::npos) return false;
  size_t d2 = s.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  return numeric(s.substr(0, d1)) && numeric(s.substr(d1 + 1, d2 - d1 - 1)) &&
         numeric(s.substr(d2 + 1));
}

// The names of one task list, so that `then` can be checked against its own list only.
using Siblings = std::unordered_set<std::string>;

class Validator {
 public:
  Validator(const Document& doc, const ValidateOptions& options) : doc_(doc), options_(options) {}

  std::vector<Diagnostic> Run() {
    Workflow(doc_.root);
    std::stable_sort(out_.begin(), out_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      if (a.position.line != b.position.line) return a.position.line < b.position.line;
      return a.position.column < b.position.column;
    });
    if (truncated_) {
      out_.push_back(doc_.MakeDiagnostic("", "too many problems; only the first " +
                                                 std::to_string(kMaxDiagnostics) + " are listed"));
    }
    return std::move(out_);
  }

 private:
  // ---- Reporting -------------------------------------------------------------------------

  // True once no more problems will be listed: skip work that only builds a message.
  bool Full() const { return out_.size() >= kMaxDiagnostics; }

  void Error(const std::string& pointer, std::string message) {
    if (Full()) {
      truncated_ = true;
      return;
    }
    out_.push_back(doc_.MakeDiagnostic(pointer, std::move(message)));
  }

  void Warning(const std::string& pointer, std::string message) {
    if (Full()) {
      truncated_ = true;
      return;
    }
    Diagnostic d = doc_.MakeDiagnostic(pointer, std::move(message));
    d.is_warning = true;
    out_.push_back(std::move(d));
  }

  void Extension(const std::string& pointer, std::string_view name) {
    if (!options_.strict) return;
    Error(pointer, "baton extension " + Quoted(name) + " is not portable (flagged by --strict)");
  }

  void TypeError(const std::string& pointer, std::string_view label, std::string_view expected,
                 const Json& got) {
    Error(pointer,
          std::string(label) + " must be " + std::string(expected) + ", got " + Describe(got));
  }

  // ---- Generic shape checks ---------------------------------------------------------------
  // Each returns false after reporting when the value has the wrong kind, so that callers
  // can skip the checks that need the right kind.

  bool ExpectObject(const Json& v, const std::string& p, std::string_view label) {
    if (v.IsObject()) return true;
    TypeError(p, label, "an object", v);
    return false;
  }
  bool ExpectArray(const Json& v, const std::string& p, std::string_view label) {
    if (v.IsArray()) return true;
    TypeError(p, label, "an array", v);
    return false;
  }
  bool ExpectString(const Json& v, const std::string& p, std::string_view label) {
    if (v.IsString()) return true;
    TypeError(p, label, "a string", v);
    return false;
  }
  bool ExpectBool(const Json& v, const std::string& p, std::string_view label) {
    if (v.IsBool()) return true;
    TypeError(p, label, "a boolean (true or false)", v);
    return false;
  }
  bool ExpectInteger(const Json& v, const std::string& p, std::string_view label) {
    if (v.IsInteger()) return true;
    TypeError(p, label, "an integer", v);
    return false;
  }

  // Reports every member of `obj` that is not in `allowed`.
  void KnownProperties(const Json& obj, const std::string& p, std::string_view what,
                       Names allowed) {
    obj.ForEachMember([&](std::string_view key, const Json&) {
      if (In(key, allowed)) return;
      Error(Child(p, key), "unknown property " + Quoted(key) + " in " + std::string(what) +
                               "; expected one of: " + Join(allowed));
    });
  }

  void RequiredProperties(const Json& obj, const std::string& p, std::string_view what,
                          Names required) {
    for (std::string_view key : required) {
      if (!obj.Has(key)) {
        Error(p, "missing required property " + Quoted(key) + " in " + std::string(what));
      }
    }
  }

  // Checks that exactly one of `choices` is present. Returns it, or "" after reporting.
  std::string_view ExactlyOne(const Json& obj, const std::string& p, std::string_view what,
                              Names choices) {
    std::vector<std::string_view> found;  // in document order, to blame the later one
    obj.ForEachMember([&](std::string_view key, const Json&) {
      for (std::string_view c : choices) {
        if (key == c) found.push_back(c);
      }
    });
    if (found.size() == 1) return found[0];
    if (found.empty()) {
      Error(p, std::string(what) + " needs one of: " + Join(choices));
    } else {
      Error(Child(p, found[1]), std::string(what) + " has both " + Quoted(found[0]) + " and " +
                                    Quoted(found[1]) + "; use exactly one of: " + Join(choices));
    }
    return {};
  }

  // Typed optional members: nothing happens when `key` is absent.
  void OptString(const Json& obj, const std::string& p, std::string_view key) {
    if (obj.Has(key)) ExpectString(obj.Get(key), Child(p, key), Quoted(key));
  }
  void OptBool(const Json& obj, const std::string& p, std::string_view key) {
    if (obj.Has(key)) ExpectBool(obj.Get(key), Child(p, key), Quoted(key));
  }
  void OptObject(const Json& obj, const std::string& p, std::string_view key) {
    if (obj.Has(key)) ExpectObject(obj.Get(key), Child(p, key), Quoted(key));
  }
  void OptEnum(const Json& obj, const std::string& p, std::string_view key, Names values) {
    if (!obj.Has(key)) return;
    Json v = obj.Get(key);
    std::string vp = Child(p, key);
    if (!ExpectString(v, vp, Quoted(key))) return;
    if (!In(v.AsString(), values)) {
      Error(vp, Quoted(key) + " must be one of: " + Join(values) + "; got " + Quoted(v.AsString()));
    }
  }
  void OptStringArray(const Json& obj, const std::string& p, std::string_view key) {
    if (!obj.Has(key)) return;
    Json v = obj.Get(key);
    std::string vp = Child(p, key);
    if (!ExpectArray(v, vp, Quoted(key))) return;
    v.ForEachItem([&](size_t i, const Json& item) {
      ExpectString(item, Child(vp, i), "item " + std::to_string(i) + " of " + Quoted(key));
    });
  }
  void OptStringMap(const Json& obj, const std::string& p, std::string_view key) {
    if (!obj.Has(key)) return;
    Json v = obj.Get(key);
    std::string vp = Child(p, key);
    if (!ExpectObject(v, vp, Quoted(key))) return;
    v.ForEachMember([&](std::string_view k, const Json& item) {
      ExpectString(item, Child(vp, k), Quoted(k) + " in " + Quoted(key));
    });
  }
  // A map of strings or one runtime expression (http headers and query).
  void OptStringMapOrExpression(const Json& obj, const std::string& p, std::string_view key) {
    if (!obj.Has(key)) return;
    Json v = obj.Get(key);
    if (v.IsString()) {
      if (!IsRuntimeExpression(v.AsString())) {
        Error(Child(p, key), Quoted(key) + " must be a map of strings or a runtime expression " +
                                 "'${ ... }', got " + Describe(v));
      }
      return;
    }
    OptStringMap(obj, p, key);
  }
  // A string that is always evaluated as an expression (`if`, `when`, `for.in`, ...).
  void OptExpression(const Json& obj, const std::string& p, std::string_view key) {
    if (!obj.Has(key)) return;
    ExpectString(obj.Get(key), Child(p, key), Quoted(key) + " (a runtime expression)");
  }
  // `input.from`, `output.as`, `export.as`: an expression or an object whose leaves may be.
  void OptFromAs(const Json& obj, const std::string& p, std::string_view key) {
    if (!obj.Has(key)) return;
    Json v = obj.Get(key);
    if (v.IsString() || v.IsObject()) return;
    TypeError(Child(p, key), Quoted(key), "a runtime expression (string) or an object", v);
  }

  void VariableName(const Json& obj, const std::string& p, std::string_view key) {
    if (!obj.Has(key)) return;
    Json v = obj.Get(key);
    std::string vp = Child(p, key);
    if (!ExpectString(v, vp, Quoted(key))) return;
    std::string_view name = v.AsString();
    if (expr::IsValidVariableName(name)) return;
    if (!name.empty() && name[0] == '$' && IsJqIdentifier(name.substr(1))) {
      Error(vp, Quoted(key) + " names a variable without its '$': write " + Quoted(name.substr(1)) +
                    ", not " + Quoted(name));
    } else if (!IsJqIdentifier(name)) {
      Error(vp, Quoted(key) +
                    " must be a valid jq variable name (a letter or '_' followed by "
                    "letters, digits or '_'), got " +
                    Quoted(name));
    } else {
      Error(vp, Quoted(key) + " cannot be " + Quoted(name) + ": it is a jq keyword, so $" +
                    std::string(name) + " would not compile");
    }
  }

  // ---- Durations --------------------------------------------------------------------------

  void Duration(const Json& v, const std::string& p, std::string_view label) {
    if (v.IsString()) {
      std::string_view s = v.AsString();
      if (IsRuntimeExpression(s)) return;
      switch (internal::CheckIsoDuration(s)) {
        case internal::IsoDurationCheck::kValid:
          return;
        case internal::IsoDurationCheck::kVariableLength:
          Error(p, std::string(label) + " uses years or months (" + Quoted(s) +
                       "), which have no fixed length; use weeks, days or smaller units");
          return;
        case internal::IsoDurationCheck::kInvalid:
          break;
      }
      Error(p, std::string(label) +
                   " must be an ISO 8601 duration such as 'PT30S' or "
                   "'P1DT2H', a map {days, hours, minutes, seconds, "
                   "milliseconds}, or a runtime expression; got " +
                   Quoted(s));
      return;
    }
    if (!v.IsObject()) {
      TypeError(p, label,
                "an ISO 8601 duration string, a map {days, hours, minutes, seconds, "
                "milliseconds}, or a runtime expression",
                v);
      return;
    }
    static const Names kUnits = {"days", "hours", "minutes", "seconds", "milliseconds"};
    KnownProperties(v, p, "duration " + std::string(label), kUnits);
    bool any = false;
    for (std::string_view unit : kUnits) {
      if (!v.Has(unit)) continue;
      any = true;
      Json n = v.Get(unit);
      if (!n.IsInteger() || n.AsNumber() < 0) {
        TypeError(Child(p, unit), Quoted(unit), "a non-negative integer", n);
      }
    }
    if (!any && v.empty()) {
      Error(p, std::string(label) + " needs at least one of: " + Join(kUnits));
    }
  }

  void OptDuration(const Json& obj, const std::string& p, std::string_view key) {
    if (obj.Has(key)) Duration(obj.Get(key), Child(p, key), Quoted(key));
  }

  // ---- Workflow ---------------------------------------------------------------------------

  void Workflow(const Json& root) {
    if (!root.IsObject()) {
      Error("", "a workflow must be a mapping with 'document' and 'do', got " + Describe(root));
      return;
    }
    use_ = root.Get("use");
    if (!use_.IsObject()) use_ = Json::Object();
    KnownProperties(
        root, "", "the workflow",
        {"document", "input", "use", "do", "timeout", "output", "schedule", "evaluate"});
    RequiredProperties(root, "", "the workflow", {"document", "do"});
    if (root.Has("document")) DocumentSection(root.Get("document"), "/document");
    if (root.Has("input")) Input(root.Get("input"), "/input");
    if (root.Has("use")) Use(root.Get("use"), "/use");
    if (root.Has("timeout")) Timeout(root.Get("timeout"), "/timeout");
    if (root.Has("output")) Output(root.Get("output"), "/output", "'output'");
    if (root.Has("schedule")) Schedule(root.Get("schedule"), "/schedule");
    if (root.Has("evaluate")) Evaluate(root.Get("evaluate"), "/evaluate");
    if (root.Has("do")) TaskList(root.Get("do"), "/do", "'do'");
  }

  void DocumentSection(const Json& d, const std::string& p) {
    if (!ExpectObject(d, p, "'document'")) return;
    KnownProperties(
        d, p, "'document'",
        {"dsl", "namespace", "name", "version", "title", "summary", "tags", "metadata"});
    RequiredProperties(d, p, "'document'", {"dsl", "namespace", "name", "version"});
    if (d.Has("dsl")) {
      Json v = d.Get("dsl");
      std::string vp = Child(p, "dsl");
      if (!v.IsString()) {
        TypeError(vp, "'dsl'", "a string such as '1.0.3' (quote numbers)", v);
      } else if (!IsSemver(v.AsString())) {
        Error(vp, "'dsl' must be a semantic version such as '1.0.3', got " + Quoted(v.AsString()));
      } else if (!In(v.AsString(), kSupportedDsl)) {
        Error(vp, "unsupported DSL version " + Quoted(v.AsString()) +
                      "; baton supports 1.0.0 to 1.0.3");
      }
    }
    for (std::string_view key : {"namespace", "name"}) {
      if (!d.Has(key)) continue;
      Json v = d.Get(key);
      std::string vp = Child(p, key);
      if (!ExpectString(v, vp, Quoted(key))) continue;
      if (!IsDnsLabel(v.AsString())) {
        Error(vp, Quoted(key) +
                      " must be 1 to 63 letters, digits or '-', starting and ending "
                      "with a letter or digit; got " +
                      Quoted(v.AsString()));
      }
    }
    if (d.Has("version")) {
      Json v = d.Get("version");
      std::string vp = Child(p, "version");
      if (!v.IsString()) {
        TypeError(vp, "'version'", "a string such as '1.0.0' (quote numbers)", v);
      } else if (!IsSemver(v.AsString())) {
        Error(vp,
              "'version' must be a semantic version such as '1.0.0', got " + Quoted(v.AsString()));
      }
    }
    OptString(d, p, "title");
    OptString(d, p, "summary");
    OptObject(d, p, "tags");
    OptObject(d, p, "metadata");
  }

  void Input(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "'input'")) return;
    KnownProperties(v, p, "'input'", {"schema", "from"});
    if (v.Has("schema")) Schema(v.Get("schema"), Child(p, "schema"));
    OptFromAs(v, p, "from");
  }

  void Output(const Json& v, const std::string& p, std::string_view label) {
    if (!ExpectObject(v, p, label)) return;
    KnownProperties(v, p, label, {"schema", "as"});
    if (v.Has("schema")) Schema(v.Get("schema"), Child(p, "schema"));
    OptFromAs(v, p, "as");
  }

  void Schema(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "'schema'")) return;
    KnownProperties(v, p, "'schema'", {"format", "document", "resource"});
    OptString(v, p, "format");
    std::string_view kind = ExactlyOne(v, p, "'schema'", {"document", "resource"});
    if (kind == "resource") ExternalResource(v.Get("resource"), Child(p, "resource"));
  }

  void Use(const Json& use, const std::string& p) {
    if (!ExpectObject(use, p, "'use'")) return;
    KnownProperties(use, p, "'use'",
                    {"authentications", "errors", "extensions", "functions", "retries", "secrets",
                     "timeouts", "catalogs"});
    auto each = [&](std::string_view key, auto&& fn) {
      if (!use.Has(key)) return;
      Json map = use.Get(key);
      std::string mp = Child(p, key);
      if (!ExpectObject(map, mp, Quoted(key))) return;
      map.ForEachMember(
          [&](std::string_view name, const Json& v) { fn(name, v, Child(mp, name)); });
    };
    each("authentications", [&](std::string_view, const Json& v, const std::string& vp) {
      AuthenticationPolicy(v, vp);
    });
    each("errors",
         [&](std::string_view, const Json& v, const std::string& vp) { ErrorDefinition(v, vp); });
    each("functions", [&](std::string_view name, const Json& v, const std::string& vp) {
      Task(v, vp, "function " + Quoted(name), nullptr);
    });
    each("retries",
         [&](std::string_view, const Json& v, const std::string& vp) { RetryPolicy(v, vp); });
    each("timeouts",
         [&](std::string_view, const Json& v, const std::string& vp) { TimeoutDefinition(v, vp); });
    each("catalogs", [&](std::string_view name, const Json& v, const std::string& vp) {
      std::string what = "catalog " + Quoted(name);
      if (!ExpectObject(v, vp, what)) return;
      KnownProperties(v, vp, what, {"endpoint"});
      RequiredProperties(v, vp, what, {"endpoint"});
      if (v.Has("endpoint")) Endpoint(v.Get("endpoint"), Child(vp, "endpoint"), "'endpoint'");
    });
    OptStringArray(use, p, "secrets");
    if (use.Has("extensions")) {
      Json list = use.Get("extensions");
      std::string lp = Child(p, "extensions");
      if (ExpectArray(list, lp, "'extensions'")) {
        list.ForEachItem([&](size_t i, const Json& item) {
          std::string ip = Child(lp, i);
          if (!item.IsObject() || item.size() != 1) {
            TypeError(ip, "an 'extensions' entry", "a map with one extension name", item);
            return;
          }
          item.ForEachMember([&](std::string_view name, const Json& ext) {
            ExtensionDefinition(ext, Child(ip, name), name);
          });
        });
      }
    }
  }

  void ExtensionDefinition(const Json& v, const std::string& p, std::string_view name) {
    std::string what = "extension " + Quoted(name);
    if (!ExpectObject(v, p, what)) return;
    KnownProperties(v, p, what, {"extend", "when", "before", "after"});
    RequiredProperties(v, p, what, {"extend"});
    OptEnum(v, p, "extend",
            {"call", "composite", "emit", "for", "listen", "raise", "run", "set", "switch", "try",
             "wait", "all"});
    OptExpression(v, p, "when");
    if (v.Has("before")) TaskList(v.Get("before"), Child(p, "before"), "'before'");
    if (v.Has("after")) TaskList(v.Get("after"), Child(p, "after"), "'after'");
  }

  // `timeout:` on the workflow or a task: a definition or the name of a use.timeouts entry.
  void Timeout(const Json& v, const std::string& p) {
    if (v.IsString()) {
      if (!use_.Get("timeouts").Has(v.AsString())) {
        Error(p, "timeout " + Quoted(v.AsString()) + " is not defined in use.timeouts");
      }
      return;
    }
    if (!v.IsObject()) {
      TypeError(p, "'timeout'", "an object {after: duration} or the name of a use.timeouts entry",
                v);
      return;
    }
    TimeoutDefinition(v, p);
  }

  void TimeoutDefinition(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "a timeout")) return;
    KnownProperties(v, p, "'timeout'", {"after"});
    RequiredProperties(v, p, "'timeout'", {"after"});
    OptDuration(v, p, "after");
  }

  void Schedule(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "'schedule'")) return;
    KnownProperties(v, p, "'schedule'", {"every", "cron", "after", "on"});
    OptDuration(v, p, "every");
    OptString(v, p, "cron");
    OptDuration(v, p, "after");
    if (v.Has("on")) EventConsumptionStrategy(v.Get("on"), Child(p, "on"), true);
  }

  void Evaluate(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "'evaluate'")) return;
    KnownProperties(v, p, "'evaluate'", {"language", "mode"});
    if (v.Has("language")) {
      Json lang = v.Get("language");
      std::string lp = Child(p, "language");
      if (ExpectString(lang, lp, "'language'") && lang.AsString() != "jq") {
        Error(lp, "expression language " + Quoted(lang.AsString()) +
                      " is not supported; baton evaluates 'jq'");
      }
    }
    OptEnum(v, p, "mode", {"strict", "loose"});
  }

  // ---- Task lists and tasks ---------------------------------------------------------------

  void TaskList(const Json& v, const std::string& p, std::string_view label) {
    if (!v.IsArray()) {
      TypeError(p, label, "a task list (an array of '- taskName: {...}' entries)", v);
      return;
    }
    Siblings names;
    std::vector<std::string> entry_names(v.size());
    std::unordered_map<std::string, std::string> first_pointer;
    v.ForEachItem([&](size_t i, const Json& item) {
      std::string ip = Child(p, i);
      if (!item.IsObject()) {
        TypeError(ip, "a task list entry", "a map with one task name ('- taskName: {...}')", item);
        return;
      }
      if (item.size() != 1) {
        std::string keys;
        item.ForEachMember([&](std::string_view k, const Json&) {
          keys += (keys.empty() ? "" : ", ") + Quoted(k);
        });
        Error(ip, "a task list entry must have exactly one key, the task name; this one has " +
                      std::to_string(item.size()) + (item.empty() ? "" : ": " + keys) +
                      " (is the task body indented under its name?)");
        return;
      }
      item.ForEachMember([&](std::string_view name, const Json&) {
        std::string n(name);
        std::string np = Child(ip, name);
        auto [it, inserted] = first_pointer.emplace(n, np);
        if (!inserted) {
          SourcePosition first = Full() ? SourcePosition{} : doc_.PositionOf(it->second);
          Error(np, "duplicate task name " + Quoted(name) + " in this task list (first at line " +
                        std::to_string(first.line) + ")");
        }
        names.insert(n);
        entry_names[i] = n;
      });
    });
    v.ForEachItem([&](size_t i, const Json& item) {
      if (!item.IsObject() || item.size() != 1) return;
      const std::string& name = entry_names[i];
      Task(item.Get(name), Child(Child(p, i), name), "task " + Quoted(name), &names);
    });
  }

  // `siblings` is the task's own list (for `then`), or null for a task that stands alone
  // (a use.functions entry, a single-task `compensate`).
  void Task(const Json& body, const std::string& p, const std::string& label,
            const Siblings* siblings) {
    if (!body.IsObject()) {
      TypeError(p, label, "a map of task properties", body);
      return;
    }
    std::vector<std::string_view> types;
    body.ForEachMember([&](std::string_view key, const Json&) {
      if (In(key, kTaskTypes)) types.push_back(key);
    });
    // `for` and `try` own a second key that is also a type name or a partner.
    std::string_view type;
    if (body.Has("for")) {
      type = "for";
    } else if (body.Has("try")) {
      type = "try";
    }
    std::vector<std::string_view> others;
    for (std::string_view t : types) {
      if (t == type || (type == "for" && t == "do")) continue;
      others.push_back(t);
    }
    if (type.empty() && others.size() == 1) {
      type = others[0];
      others.clear();
    }
    CommonTaskProperties(body, p, siblings);
    if (!others.empty()) {
      std::string all = type.empty() ? "" : Quoted(type);
      for (std::string_view t : others) all += (all.empty() ? "" : ", ") + Quoted(t);
      Error(p, label + " has more than one task type (" + all +
                   "); a task must have exactly one of: " + Join(kTaskTypes));
      return;
    }
    if (type.empty()) {
      NoTaskType(body, p, label);
      return;
    }
    if (type == "call") {
      CallTask(body, p, label);
    } else if (type == "do") {
      Allowed(body, p, label, "do");
      TaskList(body.Get("do"), Child(p, "do"), "'do'");
    } else if (type == "emit") {
      EmitTask(body, p, label);
    } else if (type == "for") {
      ForTask(body, p, label);
    } else if (type == "fork") {
      ForkTask(body, p, label);
    } else if (type == "listen") {
      ListenTask(body, p, label);
    } else if (type == "raise") {
      RaiseTask(body, p, label);
    } else if (type == "run") {
      RunTask(body, p, label);
    } else if (type == "set") {
      SetTask(body, p, label);
    } else if (type == "switch") {
      SwitchTask(body, p, label, siblings);
    } else if (type == "try") {
      TryTask(body, p, label);
    } else if (type == "wait") {
      Allowed(body, p, label, "wait");
      Duration(body.Get("wait"), Child(p, "wait"), "'wait'");
    }
  }

  // Unknown properties of a task of one type: its own keys plus the common ones.
  void Allowed(const Json& body, const std::string& p, const std::string& label,
               std::string_view k1, std::string_view k2 = {}, std::string_view k3 = {}) {
    std::vector<std::string_view> allowed{k1};
    if (!k2.empty()) allowed.push_back(k2);
    if (!k3.empty()) allowed.push_back(k3);
    allowed.insert(allowed.end(), kCommonTaskProperties.begin(), kCommonTaskProperties.end());
    std::string listing;
    for (std::string_view a : allowed) listing += (listing.empty() ? "" : ", ") + std::string(a);
    body.ForEachMember([&](std::string_view key, const Json&) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) return;
      Error(Child(p, key),
            "unknown property " + Quoted(key) + " in " + label + "; expected one of: " + listing);
    });
  }

  void NoTaskType(const Json& body, const std::string& p, const std::string& label) {
    // Keys that only make sense next to a task type say which one is missing.
    auto partner_of = [](std::string_view key) -> std::string_view {
      if (key == "with") return "call";
      if (key == "catch") return "try";
      if (key == "while") return "for";
      if (key == "foreach") return "listen";
      return {};
    };
    bool reported = false;
    body.ForEachMember([&](std::string_view key, const Json&) {
      if (In(key, kCommonTaskProperties)) return;
      reported = true;
      std::string_view partner = partner_of(key);
      if (!partner.empty()) {
        Error(Child(p, key), Quoted(key) + " needs " + Quoted(partner) + " in " + label);
        return;
      }
      Error(Child(p, key), "unknown task type " + Quoted(key) + " in " + label +
                               "; expected one of: " + Join(kTaskTypes));
    });
    if (!reported) {
      Error(p, label + " has no task type; expected one of: " + Join(kTaskTypes));
    }
  }

  void CommonTaskProperties(const Json& body, const std::string& p, const Siblings* siblings) {
    OptExpression(body, p, "if");
    if (body.Has("input")) Input(body.Get("input"), Child(p, "input"));
    if (body.Has("output")) Output(body.Get("output"), Child(p, "output"), "'output'");
    if (body.Has("export")) Output(body.Get("export"), Child(p, "export"), "'export'");
    if (body.Has("timeout")) Timeout(body.Get("timeout"), Child(p, "timeout"));
    if (body.Has("then")) FlowDirective(body.Get("then"), Child(p, "then"), siblings);
    OptObject(body, p, "metadata");
    if (body.Has("compensate")) Compensate(body.Get("compensate"), Child(p, "compensate"));
  }

  void FlowDirective(const Json& v, const std::string& p, const Siblings* siblings) {
    if (!ExpectString(v, p, "'then'")) return;
    std::string_view target = v.AsString();
    if (target == "continue" || target == "exit" || target == "end") return;
    if (siblings == nullptr) {
      Error(p, "'then' of a task outside a task list can only be continue, exit or end; got " +
                   Quoted(target));
      return;
    }
    if (!siblings->count(std::string(target))) {
      Error(p, "'then' target " + Quoted(target) + " does not exist in this task list");
    }
  }

  void Compensate(const Json& v, const std::string& p) {
    Extension(p, "compensate");
    if (v.IsArray()) {
      TaskList(v, p, "'compensate'");
    } else if (v.IsObject()) {
      Task(v, p, "the compensation task", nullptr);
    } else {
      TypeError(p, "'compensate'", "a task list or a task", v);
    }
  }

  // ---- call -------------------------------------------------------------------------------

  void CallTask(const Json& body, const std::string& p, const std::string& label) {
    Allowed(body, p, label, "call", "with");
    Json call = body.Get("call");
    std::string cp = Child(p, "call");
    if (!ExpectString(call, cp, "'call'")) return;
    std::string_view kind = call.AsString();
    Json with = body.Get("with");
    std::string wp = Child(p, "with");
    if (!In(kind, kBuiltinCalls)) {
      FunctionReference(kind, cp);
      if (body.Has("with")) ExpectObject(with, wp, "'with'");
      return;
    }
    if (!body.Has("with")) {
      Error(p, "missing required property 'with' in " + label + " (call " + Quoted(kind) +
                   " needs arguments)");
      return;
    }
    if (!ExpectObject(with, wp, "'with'")) return;
    std::string what = "call " + Quoted(kind) + " arguments";
    if (kind == "http") {
      HttpArguments(with, wp, what);
    } else if (kind == "openapi") {
      OpenApiArguments(with, wp, what);
    } else if (kind == "grpc") {
      GrpcArguments(with, wp, what);
    } else if (kind == "asyncapi") {
      AsyncApiArguments(with, wp, what);
    } else if (kind == "a2a") {
      A2aArguments(with, wp, what);
    } else if (kind == "mcp") {
      McpArguments(with, wp, what);
    }
  }

  // `call: name` must name a use.functions entry, a catalog function (name:version@catalog),
  // or the URL of a function definition.
  void FunctionReference(std::string_view ref, const std::string& p) {
    if (IsAbsoluteUri(ref)) return;
    size_t at = ref.rfind('@');
    if (at != std::string_view::npos) {
      std::string_view left = ref.substr(0, at);
      std::string_view catalog = ref.substr(at + 1);
      size_t colon = left.find(':');
      if (colon == std::string_view::npos || colon == 0 || colon + 1 == left.size() ||
          catalog.empty()) {
        Error(p, "catalog function reference " + Quoted(ref) +
                     " must have the form name:version@catalog");
        return;
      }
      if (catalog != "default" && !use_.Get("catalogs").Has(catalog)) {
        Error(p, "catalog " + Quoted(catalog) + " is not defined in use.catalogs");
      }
      return;
    }
    if (!use_.Get("functions").Has(ref)) {
      Error(p, "call " + Quoted(ref) + " is not a built-in call (" + Join(kBuiltinCalls) +
                   ") and is not defined in use.functions");
    }
  }

  void HttpArguments(const Json& w, const std::string& p, const std::string& what) {
    KnownProperties(w, p, what,
                    {"method", "endpoint", "headers", "query", "body", "output", "redirect"});
    RequiredProperties(w, p, what, {"method", "endpoint"});
    OptString(w, p, "method");
    if (w.Has("endpoint")) Endpoint(w.Get("endpoint"), Child(p, "endpoint"), "'endpoint'");
    OptStringMapOrExpression(w, p, "headers");
    OptStringMapOrExpression(w, p, "query");
    OptEnum(w, p, "output", {"raw", "content", "response"});
    OptBool(w, p, "redirect");
  }

  void OpenApiArguments(const Json& w, const std::string& p, const std::string& what) {
    KnownProperties(
        w, p, what,
        {"document", "operationId", "parameters", "authentication", "output", "redirect"});
    RequiredProperties(w, p, what, {"document", "operationId"});
    if (w.Has("document")) ExternalResource(w.Get("document"), Child(p, "document"));
    OptString(w, p, "operationId");
    OptObject(w, p, "parameters");
    if (w.Has("authentication")) {
      ReferenceableAuthentication(w.Get("authentication"), Child(p, "authentication"));
    }
    OptEnum(w, p, "output", {"raw", "content", "response"});
    OptBool(w, p, "redirect");
  }

  void GrpcArguments(const Json& w, const std::string& p, const std::string& what) {
    KnownProperties(w, p, what, {"proto", "service", "method", "arguments"});
    RequiredProperties(w, p, what, {"proto", "service", "method"});
    if (w.Has("proto")) ExternalResource(w.Get("proto"), Child(p, "proto"));
    if (w.Has("service")) {
      Json s = w.Get("service");
      std::string sp = Child(p, "service");
      if (ExpectObject(s, sp, "'service'")) {
        KnownProperties(s, sp, "'service'", {"name", "host", "port", "authentication"});
        RequiredProperties(s, sp, "'service'", {"name", "host"});
        OptString(s, sp, "name");
        OptString(s, sp, "host");
        if (s.Has("port")) {
          Json port = s.Get("port");
          if (!port.IsInteger() || port.AsNumber() < 0 || port.AsNumber() > 65535) {
            TypeError(Child(sp, "port"), "'port'", "an integer from 0 to 65535", port);
          }
        }
        if (s.Has("authentication")) {
          ReferenceableAuthentication(s.Get("authentication"), Child(sp, "authentication"));
        }
      }
    }
    OptString(w, p, "method");
    OptObject(w, p, "arguments");
  }

  void AsyncApiArguments(const Json& w, const std::string& p, const std::string& what) {
    KnownProperties(w, p, what,
                    {"document", "channel", "operation", "server", "protocol", "message",
                     "subscription", "authentication"});
    RequiredProperties(w, p, what, {"document"});
    if (w.Has("document")) ExternalResource(w.Get("document"), Child(p, "document"));
    ExactlyOne(w, p, what, {"operation", "channel"});
    OptString(w, p, "operation");
    OptString(w, p, "channel");
    ExactlyOne(w, p, what, {"message", "subscription"});
    if (w.Has("server")) {
      Json s = w.Get("server");
      std::string sp = Child(p, "server");
      if (ExpectObject(s, sp, "'server'")) {
        KnownProperties(s, sp, "'server'", {"name", "variables"});
        RequiredProperties(s, sp, "'server'", {"name"});
        OptString(s, sp, "name");
        OptObject(s, sp, "variables");
      }
    }
    OptEnum(
        w, p, "protocol",
        {"amqp", "amqp1", "anypointmq", "googlepubsub", "http", "ibmmq", "jms", "kafka", "mercure",
         "mqtt", "mqtt5", "nats", "pulsar", "redis", "sns", "solace", "sqs", "stomp", "ws"});
    if (w.Has("message")) {
      Json m = w.Get("message");
      std::string mp = Child(p, "message");
      if (ExpectObject(m, mp, "'message'")) {
        KnownProperties(m, mp, "'message'", {"payload", "headers"});
        OptObject(m, mp, "payload");
        OptObject(m, mp, "headers");
      }
    }
    if (w.Has("subscription")) Subscription(w.Get("subscription"), Child(p, "subscription"));
    if (w.Has("authentication")) {
      ReferenceableAuthentication(w.Get("authentication"), Child(p, "authentication"));
    }
  }

  void Subscription(const Json& s, const std::string& p) {
    if (!ExpectObject(s, p, "'subscription'")) return;
    KnownProperties(s, p, "'subscription'", {"filter", "consume", "foreach"});
    RequiredProperties(s, p, "'subscription'", {"consume"});
    OptExpression(s, p, "filter");
    if (s.Has("consume")) {
      Json c = s.Get("consume");
      std::string cp = Child(p, "consume");
      if (ExpectObject(c, cp, "'consume'")) {
        KnownProperties(c, cp, "'consume'", {"amount", "while", "until", "for"});
        ExactlyOne(c, cp, "'consume'", {"amount", "while", "until"});
        if (c.Has("amount")) {
          Json a = c.Get("amount");
          if (!a.IsInteger() || a.AsNumber() < 0) {
            TypeError(Child(cp, "amount"), "'amount'", "a non-negative integer", a);
          }
        }
        OptExpression(c, cp, "while");
        OptExpression(c, cp, "until");
        OptDuration(c, cp, "for");
      }
    }
    if (s.Has("foreach")) SubscriptionIterator(s.Get("foreach"), Child(p, "foreach"));
  }

  void SubscriptionIterator(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "'foreach'")) return;
    KnownProperties(v, p, "'foreach'", {"item", "at", "do", "output", "export"});
    VariableName(v, p, "item");
    VariableName(v, p, "at");
    if (v.Has("do")) TaskList(v.Get("do"), Child(p, "do"), "'do'");
    if (v.Has("output")) Output(v.Get("output"), Child(p, "output"), "'output'");
    if (v.Has("export")) Output(v.Get("export"), Child(p, "export"), "'export'");
  }

  void A2aArguments(const Json& w, const std::string& p, const std::string& what) {
    KnownProperties(w, p, what, {"agentCard", "server", "method", "parameters"});
    RequiredProperties(w, p, what, {"method"});
    if (w.Has("agentCard")) ExternalResource(w.Get("agentCard"), Child(p, "agentCard"));
    if (w.Has("server")) Endpoint(w.Get("server"), Child(p, "server"), "'server'");
    OptEnum(w, p, "method",
            {"message/send", "message/stream", "tasks/get", "tasks/list", "tasks/cancel",
             "tasks/resubscribe", "tasks/pushNotificationConfig/set",
             "tasks/pushNotificationConfig/get", "tasks/pushNotificationConfig/list",
             "tasks/pushNotificationConfig/delete", "agent/getAuthenticatedExtendedCard"});
    if (w.Has("parameters")) {
      Json v = w.Get("parameters");
      std::string vp = Child(p, "parameters");
      if (v.IsObject()) {
        if (v.empty()) Error(vp, "'parameters' must not be empty");
      } else if (!v.IsString()) {
        TypeError(vp, "'parameters'", "an object or a runtime expression", v);
      }
    }
  }

  void McpArguments(const Json& w, const std::string& p, const std::string& what) {
    KnownProperties(w, p, what,
                    {"protocolVersion", "method", "parameters", "timeout", "transport", "client"});
    RequiredProperties(w, p, what, {"method", "transport"});
    OptString(w, p, "protocolVersion");
    OptEnum(w, p, "method",
            {"tools/list", "tools/call", "prompts/list", "prompts/get", "resources/list",
             "resources/read", "resources/templates/list"});
    if (w.Has("parameters")) {
      Json v = w.Get("parameters");
      if (!v.IsObject() && !v.IsString()) {
        TypeError(Child(p, "parameters"), "'parameters'", "an object or a runtime expression", v);
      }
    }
    OptDuration(w, p, "timeout");
    if (w.Has("transport")) {
      Json t = w.Get("transport");
      std::string tp = Child(p, "transport");
      if (ExpectObject(t, tp, "'transport'")) {
        KnownProperties(t, tp, "'transport'", {"http", "stdio", "options"});
        ExactlyOne(t, tp, "'transport'", {"http", "stdio"});
        if (t.Has("http")) {
          Json h = t.Get("http");
          std::string hp = Child(tp, "http");
          if (ExpectObject(h, hp, "'http'")) {
            KnownProperties(h, hp, "'http' transport", {"endpoint", "headers"});
            RequiredProperties(h, hp, "'http' transport", {"endpoint"});
            if (h.Has("endpoint")) Endpoint(h.Get("endpoint"), Child(hp, "endpoint"), "'endpoint'");
            OptStringMap(h, hp, "headers");
          }
        }
        if (t.Has("stdio")) {
          Json s = t.Get("stdio");
          std::string sp = Child(tp, "stdio");
          if (ExpectObject(s, sp, "'stdio'")) {
            KnownProperties(s, sp, "'stdio' transport", {"command", "arguments", "environment"});
            RequiredProperties(s, sp, "'stdio' transport", {"command"});
            OptString(s, sp, "command");
            OptStringArray(s, sp, "arguments");
            OptStringMap(s, sp, "environment");
          }
        }
        OptStringMap(t, tp, "options");
      }
    }
    if (w.Has("client")) {
      Json c = w.Get("client");
      std::string cp = Child(p, "client");
      if (ExpectObject(c, cp, "'client'")) {
        // The schema lists `description` but requires `version`; accept all three.
        KnownProperties(c, cp, "'client'", {"name", "version", "description"});
        RequiredProperties(c, cp, "'client'", {"name", "version"});
        OptString(c, cp, "name");
        OptString(c, cp, "version");
        OptString(c, cp, "description");
      }
    }
  }

  // ---- Endpoints, resources, authentication -------------------------------------------------

  void UriOrExpression(const Json& v, const std::string& p, std::string_view label) {
    if (!v.IsString()) {
      TypeError(p, label, "an absolute URI or a runtime expression", v);
      return;
    }
    std::string_view s = v.AsString();
    if (IsRuntimeExpression(s) || IsAbsoluteUri(s)) return;
    Error(p, std::string(label) + " must be an absolute URI such as 'https://host/path' or a " +
                 "runtime expression, got " + Quoted(s));
  }

  void Endpoint(const Json& v, const std::string& p, std::string_view label) {
    if (v.IsString()) {
      UriOrExpression(v, p, label);
      return;
    }
    if (!v.IsObject()) {
      TypeError(p, label, "a URI, a runtime expression or an object {uri, authentication}", v);
      return;
    }
    KnownProperties(v, p, label, {"uri", "authentication"});
    RequiredProperties(v, p, label, {"uri"});
    if (v.Has("uri")) UriOrExpression(v.Get("uri"), Child(p, "uri"), "'uri'");
    if (v.Has("authentication")) {
      ReferenceableAuthentication(v.Get("authentication"), Child(p, "authentication"));
    }
  }

  void ExternalResource(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "an external resource")) return;
    KnownProperties(v, p, "external resource", {"name", "endpoint"});
    RequiredProperties(v, p, "external resource", {"endpoint"});
    OptString(v, p, "name");
    if (v.Has("endpoint")) Endpoint(v.Get("endpoint"), Child(p, "endpoint"), "'endpoint'");
  }

  // `{use: name}` (a use.authentications entry) or an inline policy.
  void ReferenceableAuthentication(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "'authentication'")) return;
    if (!v.Has("use")) {
      AuthenticationPolicy(v, p);
      return;
    }
    KnownProperties(v, p, "an authentication reference", {"use"});
    Json name = v.Get("use");
    std::string np = Child(p, "use");
    if (!ExpectString(name, np, "'use'")) return;
    if (!use_.Get("authentications").Has(name.AsString())) {
      Error(np,
            "authentication " + Quoted(name.AsString()) + " is not defined in use.authentications");
    }
  }

  void AuthenticationPolicy(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "an authentication policy")) return;
    KnownProperties(v, p, "authentication policy", kAuthSchemes);
    ExactlyOne(v, p, "an authentication policy", kAuthSchemes);
    // Even when several schemes are given, each is checked, so that one run shows all.
    for (std::string_view scheme : kAuthSchemes) {
      if (v.Has(scheme)) AuthenticationScheme(v.Get(scheme), Child(p, scheme), scheme);
    }
  }

  void AuthenticationScheme(const Json& c, const std::string& cp, std::string_view scheme) {
    std::string what = Quoted(scheme) + " authentication";
    if (!ExpectObject(c, cp, what)) return;
    if (c.Has("use")) {
      SecretReference(c, cp, what);
      return;
    }
    if (scheme == "basic" || scheme == "digest") {
      KnownProperties(c, cp, what, {"username", "password", "use"});
      RequiredProperties(c, cp, what, {"username", "password"});
      OptString(c, cp, "username");
      OptString(c, cp, "password");
    } else if (scheme == "bearer") {
      KnownProperties(c, cp, what, {"token", "use"});
      RequiredProperties(c, cp, what, {"token"});
      OptString(c, cp, "token");
    } else {
      OAuth2Properties(c, cp, what, scheme == "oauth2");
    }
  }

  // `{use: secretName}` inside a scheme: the policy's properties come from a secret.
  void SecretReference(const Json& v, const std::string& p, const std::string& what) {
    KnownProperties(v, p, what + " (from a secret)", {"use"});
    Json name = v.Get("use");
    std::string np = Child(p, "use");
    if (!ExpectString(name, np, "'use'")) return;
    if (name.AsString().empty()) {
      Error(np, "'use' must name a secret");
      return;
    }
    bool declared = false;
    use_.Get("secrets").ForEachItem([&](size_t, const Json& s) {
      if (s.IsString() && s.AsString() == name.AsString()) declared = true;
    });
    if (!declared) {
      Warning(np, "secret " + Quoted(name.AsString()) + " is not declared in use.secrets");
    }
  }

  void OAuth2Properties(const Json& c, const std::string& p, const std::string& what,
                        bool endpoints) {
    if (endpoints) {
      KnownProperties(c, p, what,
                      {"authority", "grant", "client", "request", "issuers", "scopes", "audiences",
                       "username", "password", "subject", "actor", "endpoints", "use"});
    } else {
      KnownProperties(c, p, what,
                      {"authority", "grant", "client", "request", "issuers", "scopes", "audiences",
                       "username", "password", "subject", "actor", "use"});
    }
    if (c.Has("authority"))
      UriOrExpression(c.Get("authority"), Child(p, "authority"), "'authority'");
    OptEnum(c, p, "grant",
            {"authorization_code", "client_credentials", "password", "refresh_token",
             "urn:ietf:params:oauth:grant-type:token-exchange"});
    if (c.Has("client")) {
      Json cl = c.Get("client");
      std::string clp = Child(p, "client");
      if (ExpectObject(cl, clp, "'client'")) {
        KnownProperties(cl, clp, "'client'", {"id", "secret", "assertion", "authentication"});
        OptString(cl, clp, "id");
        OptString(cl, clp, "secret");
        OptString(cl, clp, "assertion");
        OptEnum(cl, clp, "authentication",
                {"client_secret_basic", "client_secret_post", "client_secret_jwt",
                 "private_key_jwt", "none"});
      }
    }
    if (c.Has("request")) {
      Json r = c.Get("request");
      std::string rp = Child(p, "request");
      if (ExpectObject(r, rp, "'request'")) {
        KnownProperties(r, rp, "'request'", {"encoding"});
        OptEnum(r, rp, "encoding", {"application/x-www-form-urlencoded", "application/json"});
      }
    }
    OptStringArray(c, p, "issuers");
    OptStringArray(c, p, "scopes");
    OptStringArray(c, p, "audiences");
    OptString(c, p, "username");
    OptString(c, p, "password");
    for (std::string_view key : {"subject", "actor"}) {
      if (!c.Has(key)) continue;
      Json t = c.Get(key);
      std::string tp = Child(p, key);
      if (!ExpectObject(t, tp, Quoted(key))) continue;
      KnownProperties(t, tp, Quoted(key), {"token", "type"});
      RequiredProperties(t, tp, Quoted(key), {"token", "type"});
      OptString(t, tp, "token");
      OptString(t, tp, "type");
    }
    if (endpoints && c.Has("endpoints")) {
      Json e = c.Get("endpoints");
      std::string ep = Child(p, "endpoints");
      if (ExpectObject(e, ep, "'endpoints'")) {
        KnownProperties(e, ep, "'endpoints'", {"token", "revocation", "introspection"});
        OptString(e, ep, "token");
        OptString(e, ep, "revocation");
        OptString(e, ep, "introspection");
      }
    }
  }

  // ---- Events -----------------------------------------------------------------------------

  // CloudEvent attributes; unknown ones are extension attributes and allowed.
  void EventProperties(const Json& v, const std::string& p, bool emitting) {
    if (!ExpectObject(v, p, "'with'")) return;
    if (emitting) {
      RequiredProperties(v, p, "the event's 'with'", {"source", "type"});
    } else if (v.empty()) {
      Error(p, "an event filter's 'with' needs at least one attribute");
    }
    OptString(v, p, "id");
    OptString(v, p, "source");
    OptString(v, p, "type");
    OptString(v, p, "time");
    OptString(v, p, "subject");
    OptString(v, p, "datacontenttype");
    OptString(v, p, "dataschema");
  }

  void EventFilter(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "an event filter")) return;
    KnownProperties(v, p, "event filter", {"with", "correlate"});
    RequiredProperties(v, p, "event filter", {"with"});
    if (v.Has("with")) EventProperties(v.Get("with"), Child(p, "with"), false);
    if (v.Has("correlate")) {
      Json c = v.Get("correlate");
      std::string cp = Child(p, "correlate");
      if (ExpectObject(c, cp, "'correlate'")) {
        c.ForEachMember([&](std::string_view name, const Json& k) {
          std::string kp = Child(cp, name);
          std::string what = "correlation " + Quoted(name);
          if (!ExpectObject(k, kp, what)) return;
          KnownProperties(k, kp, what, {"from", "expect"});
          RequiredProperties(k, kp, what, {"from"});
          OptExpression(k, kp, "from");
          OptString(k, kp, "expect");
        });
      }
    }
  }

  void EventConsumptionStrategy(const Json& v, const std::string& p, bool allow_until) {
    if (!ExpectObject(v, p, "an event consumption strategy")) return;
    if (allow_until) {
      KnownProperties(v, p, "event consumption strategy", {"all", "any", "one", "until"});
    } else {
      KnownProperties(v, p, "the 'until' strategy", {"all", "any", "one"});
    }
    std::string_view kind =
        ExactlyOne(v, p, "an event consumption strategy", {"all", "any", "one"});
    for (std::string_view key : {"all", "any"}) {
      if (!v.Has(key)) continue;
      Json list = v.Get(key);
      std::string lp = Child(p, key);
      if (!ExpectArray(list, lp, Quoted(key))) continue;
      list.ForEachItem([&](size_t i, const Json& f) { EventFilter(f, Child(lp, i)); });
    }
    if (v.Has("one")) EventFilter(v.Get("one"), Child(p, "one"));
    if (allow_until && v.Has("until")) {
      Json u = v.Get("until");
      std::string up = Child(p, "until");
      if (!kind.empty() && kind != "any") {
        Error(up, "'until' is only allowed with 'any'");
      } else if (u.IsObject()) {
        EventConsumptionStrategy(u, up, false);
      } else if (!u.IsString()) {
        TypeError(up, "'until'", "a runtime expression or an event consumption strategy", u);
      }
    }
  }

  // ---- Other task types -------------------------------------------------------------------

  void EmitTask(const Json& body, const std::string& p, const std::string& label) {
    Allowed(body, p, label, "emit");
    Json e = body.Get("emit");
    std::string ep = Child(p, "emit");
    if (!ExpectObject(e, ep, "'emit'")) return;
    KnownProperties(e, ep, "'emit'", {"event"});
    RequiredProperties(e, ep, "'emit'", {"event"});
    if (!e.Has("event")) return;
    Json ev = e.Get("event");
    std::string evp = Child(ep, "event");
    if (!ExpectObject(ev, evp, "'event'")) return;
    // The schema allows other members next to `with`; only `with` is emitted.
    RequiredProperties(ev, evp, "'event'", {"with"});
    if (ev.Has("with")) EventProperties(ev.Get("with"), Child(evp, "with"), true);
  }

  void ForTask(const Json& body, const std::string& p, const std::string& label) {
    Allowed(body, p, label, "for", "while", "do");
    RequiredProperties(body, p, label, {"do"});
    Json f = body.Get("for");
    std::string fp = Child(p, "for");
    if (ExpectObject(f, fp, "'for'")) {
      KnownProperties(f, fp, "'for'", {"each", "in", "at", "concurrency"});
      RequiredProperties(f, fp, "'for'", {"in"});
      VariableName(f, fp, "each");
      VariableName(f, fp, "at");
      OptExpression(f, fp, "in");
      if (f.Has("concurrency")) {
        std::string cp = Child(fp, "concurrency");
        Extension(cp, "for.concurrency");
        Json c = f.Get("concurrency");
        if (!c.IsInteger() || c.AsNumber() < 1) {
          TypeError(cp, "'concurrency'", "a positive integer", c);
        }
      }
    }
    OptExpression(body, p, "while");
    if (body.Has("do")) TaskList(body.Get("do"), Child(p, "do"), "'do'");
  }

  void ForkTask(const Json& body, const std::string& p, const std::string& label) {
    Allowed(body, p, label, "fork");
    Json f = body.Get("fork");
    std::string fp = Child(p, "fork");
    if (!ExpectObject(f, fp, "'fork'")) return;
    KnownProperties(f, fp, "'fork'", {"branches", "compete"});
    RequiredProperties(f, fp, "'fork'", {"branches"});
    if (f.Has("branches")) TaskList(f.Get("branches"), Child(fp, "branches"), "'branches'");
    OptBool(f, fp, "compete");
  }

  void ListenTask(const Json& body, const std::string& p, const std::string& label) {
    Allowed(body, p, label, "listen", "foreach");
    Json l = body.Get("listen");
    std::string lp = Child(p, "listen");
    if (ExpectObject(l, lp, "'listen'")) {
      KnownProperties(l, lp, "'listen'", {"to", "read"});
      RequiredProperties(l, lp, "'listen'", {"to"});
      if (l.Has("to")) EventConsumptionStrategy(l.Get("to"), Child(lp, "to"), true);
      OptEnum(l, lp, "read", {"data", "envelope", "raw"});
    }
    if (body.Has("foreach")) SubscriptionIterator(body.Get("foreach"), Child(p, "foreach"));
  }

  void RaiseTask(const Json& body, const std::string& p, const std::string& label) {
    Allowed(body, p, label, "raise");
    Json r = body.Get("raise");
    std::string rp = Child(p, "raise");
    if (!ExpectObject(r, rp, "'raise'")) return;
    KnownProperties(r, rp, "'raise'", {"error"});
    RequiredProperties(r, rp, "'raise'", {"error"});
    if (!r.Has("error")) return;
    Json e = r.Get("error");
    std::string errp = Child(rp, "error");
    if (e.IsString()) {
      if (!use_.Get("errors").Has(e.AsString())) {
        Error(errp, "error " + Quoted(e.AsString()) + " is not defined in use.errors");
      }
      return;
    }
    if (!e.IsObject()) {
      TypeError(errp, "'error'", "an error definition or the name of a use.errors entry", e);
      return;
    }
    ErrorDefinition(e, errp);
  }

  void ErrorDefinition(const Json& e, const std::string& p) {
    if (!ExpectObject(e, p, "an error")) return;
    KnownProperties(e, p, "error", {"type", "status", "instance", "title", "detail", "retryable"});
    RequiredProperties(e, p, "error", {"type", "status"});
    if (e.Has("retryable")) {
      Extension(Child(p, "retryable"), "error.retryable");
      Json r = e.Get("retryable");
      if (!r.IsBool() && !(r.IsString() && IsRuntimeExpression(r.AsString()))) {
        TypeError(Child(p, "retryable"), "'retryable'", "a boolean", r);
      }
    }
    if (e.Has("type")) UriOrExpression(e.Get("type"), Child(p, "type"), "'type'");
    if (e.Has("status")) ExpectInteger(e.Get("status"), Child(p, "status"), "'status'");
    OptString(e, p, "instance");
    OptString(e, p, "title");
    OptString(e, p, "detail");
  }

  void RunTask(const Json& body, const std::string& p, const std::string& label) {
    Allowed(body, p, label, "run");
    Json r = body.Get("run");
    std::string rp = Child(p, "run");
    if (!ExpectObject(r, rp, "'run'")) return;
    KnownProperties(r, rp, "'run'",
                    {"container", "script", "shell", "workflow", "await", "return"});
    OptBool(r, rp, "await");
    OptEnum(r, rp, "return", {"stdout", "stderr", "code", "all", "none"});
    ExactlyOne(r, rp, "'run'", {"container", "script", "shell", "workflow"});
    for (std::string_view kind : {"container", "script", "shell", "workflow"}) {
      if (r.Has(kind)) Process(r.Get(kind), Child(rp, kind), kind);
    }
  }

  void Process(const Json& v, const std::string& vp, std::string_view kind) {
    std::string what = Quoted(kind);
    if (!ExpectObject(v, vp, what)) return;
    if (kind == "container") {
      KnownProperties(v, vp, what,
                      {"image", "name", "command", "ports", "volumes", "environment", "stdin",
                       "arguments", "lifetime", "pullPolicy"});
      RequiredProperties(v, vp, what, {"image"});
      OptString(v, vp, "image");
      OptString(v, vp, "name");
      OptString(v, vp, "command");
      OptObject(v, vp, "ports");
      OptObject(v, vp, "volumes");
      OptObject(v, vp, "environment");
      OptString(v, vp, "stdin");
      OptStringArray(v, vp, "arguments");
      OptEnum(v, vp, "pullPolicy", {"ifNotPresent", "always", "never"});
      if (v.Has("lifetime")) ContainerLifetime(v.Get("lifetime"), Child(vp, "lifetime"));
    } else if (kind == "script") {
      KnownProperties(v, vp, what,
                      {"language", "code", "source", "stdin", "arguments", "environment"});
      RequiredProperties(v, vp, what, {"language"});
      OptString(v, vp, "language");
      ExactlyOne(v, vp, what, {"code", "source"});
      OptString(v, vp, "code");
      if (v.Has("source")) ExternalResource(v.Get("source"), Child(vp, "source"));
      OptString(v, vp, "stdin");
      OptStringArray(v, vp, "arguments");
      OptObject(v, vp, "environment");
    } else if (kind == "shell") {
      KnownProperties(v, vp, what, {"command", "stdin", "arguments", "environment"});
      RequiredProperties(v, vp, what, {"command"});
      OptString(v, vp, "command");
      OptString(v, vp, "stdin");
      OptStringArray(v, vp, "arguments");
      OptObject(v, vp, "environment");
    } else {
      // The schema also requires `version` but gives it a default ('latest'); we follow the
      // default.
      KnownProperties(v, vp, what, {"namespace", "name", "version", "input"});
      RequiredProperties(v, vp, what, {"namespace", "name"});
      OptString(v, vp, "namespace");
      OptString(v, vp, "name");
      OptString(v, vp, "version");
      OptObject(v, vp, "input");
    }
  }

  void ContainerLifetime(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "'lifetime'")) return;
    KnownProperties(v, p, "'lifetime'", {"cleanup", "after"});
    RequiredProperties(v, p, "'lifetime'", {"cleanup"});
    OptEnum(v, p, "cleanup", {"always", "never", "eventually"});
    bool eventually = v.Get("cleanup").IsString() && v.Get("cleanup").AsString() == "eventually";
    if (eventually && !v.Has("after")) {
      Error(p, "'lifetime' with cleanup 'eventually' needs 'after'");
    } else if (!eventually && v.Has("after") && v.Get("cleanup").IsString()) {
      Error(Child(p, "after"), "'after' is only allowed when 'cleanup' is 'eventually'");
    }
    OptDuration(v, p, "after");
  }

  void SetTask(const Json& body, const std::string& p, const std::string& label) {
    Allowed(body, p, label, "set");
    Json s = body.Get("set");
    std::string sp = Child(p, "set");
    if (s.IsObject()) {
      if (s.empty()) Error(sp, "'set' must not be empty");
    } else if (!s.IsString()) {
      TypeError(sp, "'set'", "an object or a runtime expression", s);
    }
  }

  void SwitchTask(const Json& body, const std::string& p, const std::string& label,
                  const Siblings* siblings) {
    Allowed(body, p, label, "switch");
    Json s = body.Get("switch");
    std::string sp = Child(p, "switch");
    if (!ExpectArray(s, sp, "'switch'")) return;
    if (s.empty()) Error(sp, "'switch' needs at least one case");
    std::string first_default;
    std::unordered_set<std::string> case_names;
    s.ForEachItem([&](size_t i, const Json& item) {
      std::string ip = Child(sp, i);
      if (!item.IsObject() || item.size() != 1) {
        TypeError(ip, "a switch case", "a map with one case name ('- caseName: {when, then}')",
                  item);
        return;
      }
      item.ForEachMember([&](std::string_view name, const Json& c) {
        std::string cp = Child(ip, name);
        std::string what = "switch case " + Quoted(name);
        if (!case_names.insert(std::string(name)).second) {
          Error(cp, "duplicate switch case name " + Quoted(name));
        }
        if (!ExpectObject(c, cp, what)) return;
        KnownProperties(c, cp, what, {"when", "then"});
        RequiredProperties(c, cp, what, {"then"});
        OptExpression(c, cp, "when");
        if (c.Has("then")) FlowDirective(c.Get("then"), Child(cp, "then"), siblings);
        if (!c.Has("when")) {
          if (first_default.empty()) {
            first_default = std::string(name);
          } else {
            Error(cp, "'switch' has more than one default case (a case without 'when'): " +
                          Quoted(first_default) + " and " + Quoted(name));
          }
        }
      });
    });
  }

  void TryTask(const Json& body, const std::string& p, const std::string& label) {
    Allowed(body, p, label, "try", "catch");
    RequiredProperties(body, p, label, {"catch"});
    TaskList(body.Get("try"), Child(p, "try"), "'try'");
    if (!body.Has("catch")) return;
    Json c = body.Get("catch");
    std::string cp = Child(p, "catch");
    if (!ExpectObject(c, cp, "'catch'")) return;
    KnownProperties(c, cp, "'catch'",
                    {"errors", "as", "when", "exceptWhen", "retry", "do", "compensate"});
    if (c.Has("errors")) {
      Json e = c.Get("errors");
      std::string ep = Child(cp, "errors");
      if (ExpectObject(e, ep, "'errors'")) {
        KnownProperties(e, ep, "'errors'", {"with"});
        if (e.Has("with")) ErrorFilter(e.Get("with"), Child(ep, "with"));
      }
    }
    VariableName(c, cp, "as");
    OptExpression(c, cp, "when");
    OptExpression(c, cp, "exceptWhen");
    if (c.Has("retry")) {
      Json r = c.Get("retry");
      std::string rp = Child(cp, "retry");
      if (r.IsString()) {
        if (!use_.Get("retries").Has(r.AsString())) {
          Error(rp, "retry policy " + Quoted(r.AsString()) + " is not defined in use.retries");
        }
      } else if (r.IsObject()) {
        RetryPolicy(r, rp);
      } else {
        TypeError(rp, "'retry'", "a retry policy or the name of a use.retries entry", r);
      }
    }
    if (c.Has("do")) TaskList(c.Get("do"), Child(cp, "do"), "'do'");
    if (c.Has("compensate")) {
      std::string pp = Child(cp, "compensate");
      Extension(pp, "catch.compensate");
      ExpectBool(c.Get("compensate"), pp, "'compensate'");
    }
  }

  void ErrorFilter(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "an error filter")) return;
    // The schema spells the field `details` while errors carry `detail`; accept both.
    KnownProperties(v, p, "error filter",
                    {"type", "status", "instance", "title", "detail", "details"});
    if (v.empty())
      Error(p,
            "an error filter needs at least one of: type, status, instance, "
            "title, detail");
    OptString(v, p, "type");
    if (v.Has("status")) ExpectInteger(v.Get("status"), Child(p, "status"), "'status'");
    OptString(v, p, "instance");
    OptString(v, p, "title");
    OptString(v, p, "detail");
    OptString(v, p, "details");
  }

  void RetryPolicy(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "a retry policy")) return;
    KnownProperties(v, p, "retry policy",
                    {"when", "exceptWhen", "delay", "backoff", "limit", "jitter"});
    OptExpression(v, p, "when");
    OptExpression(v, p, "exceptWhen");
    OptDuration(v, p, "delay");
    if (v.Has("backoff")) Backoff(v.Get("backoff"), Child(p, "backoff"));
    if (v.Has("limit")) {
      Json l = v.Get("limit");
      std::string lp = Child(p, "limit");
      if (ExpectObject(l, lp, "'limit'")) {
        KnownProperties(l, lp, "'limit'", {"attempt", "duration"});
        OptDuration(l, lp, "duration");
        if (l.Has("attempt")) {
          Json a = l.Get("attempt");
          std::string ap = Child(lp, "attempt");
          if (ExpectObject(a, ap, "'attempt'")) {
            KnownProperties(a, ap, "'attempt'", {"count", "duration"});
            if (a.Has("count")) {
              Json n = a.Get("count");
              if (!n.IsInteger() || n.AsNumber() < 0) {
                TypeError(Child(ap, "count"), "'count'", "a non-negative integer", n);
              }
            }
            OptDuration(a, ap, "duration");
          }
        }
      }
    }
    if (v.Has("jitter")) {
      Json j = v.Get("jitter");
      std::string jp = Child(p, "jitter");
      if (ExpectObject(j, jp, "'jitter'")) {
        KnownProperties(j, jp, "'jitter'", {"from", "to"});
        RequiredProperties(j, jp, "'jitter'", {"from", "to"});
        OptDuration(j, jp, "from");
        OptDuration(j, jp, "to");
      }
    }
  }

  // The spec leaves the three backoff objects empty; their parameters are baton's.
  void Backoff(const Json& v, const std::string& p) {
    if (!ExpectObject(v, p, "'backoff'")) return;
    KnownProperties(v, p, "'backoff'", {"constant", "linear", "exponential"});
    ExactlyOne(v, p, "'backoff'", {"constant", "linear", "exponential"});
    for (std::string_view kind : {"constant", "linear", "exponential"}) {
      if (v.Has(kind)) BackoffParameters(v.Get(kind), Child(p, kind), kind);
    }
  }

  void BackoffParameters(const Json& params, const std::string& pp, std::string_view kind) {
    std::string what = Quoted(kind) + " backoff";
    if (!ExpectObject(params, pp, what)) return;
    if (kind == "constant") {
      params.ForEachMember([&](std::string_view key, const Json&) {
        Error(Child(pp, key),
              "unknown property " + Quoted(key) + " in " + what + "; it takes no parameters");
      });
      return;
    }
    if (kind == "linear") {
      KnownProperties(params, pp, what, {"increment", "maxDelay"});
      if (params.Has("increment")) {
        Extension(Child(pp, "increment"), "backoff.linear.increment");
        OptDuration(params, pp, "increment");
      }
      if (params.Has("maxDelay")) {
        Extension(Child(pp, "maxDelay"), "backoff.linear.maxDelay");
        OptDuration(params, pp, "maxDelay");
      }
      return;
    }
    KnownProperties(params, pp, what, {"multiplier", "maxDelay"});
    if (params.Has("multiplier")) {
      std::string mp = Child(pp, "multiplier");
      Extension(mp, "backoff.exponential.multiplier");
      Json m = params.Get("multiplier");
      if (!m.IsNumber() || !(m.AsNumber() >= 1) || m.AsNumber() > 1e6) {
        TypeError(mp, "'multiplier'", "a number from 1 to 1000000", m);
      }
    }
    if (params.Has("maxDelay")) {
      Extension(Child(pp, "maxDelay"), "backoff.exponential.maxDelay");
      OptDuration(params, pp, "maxDelay");
    }
  }

  const Document& doc_;
  const ValidateOptions& options_;
  Json use_;
  std::vector<Diagnostic> out_;
  bool truncated_ = false;
};

}  // namespace

std::vector<Diagnostic> Validate(const Document& doc, const ValidateOptions& options) {
  return Validator(doc, options).Run();
}

}  // namespace baton::model
