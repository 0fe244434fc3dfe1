#include "api/request_parsing.h"

#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <set>
#include <utility>

#include "base/time.h"

namespace baton::api {

namespace {

constexpr size_t kMaxIdempotencyKey = 256;
constexpr size_t kMaxReason = 4096;
constexpr size_t kMaxCursor = 1024;
constexpr size_t kMaxBy = 256;
constexpr size_t kMaxErrorType = 512;
constexpr std::array<std::string_view, 11> kStatuses = {
    "pending",   "running",  "waiting",      "suspended",   "cancelled",          "faulted",
    "completed", "retrying", "compensating", "compensated", "compensation_failed"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A client's value for a message: quoted, non-printable bytes escaped, at most 64 bytes.
std::string Quote(std::string_view value) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (size_t i = 0; i < value.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > kMax) out += "...";
  out += '"';
  return out;
}

std::string MemberPath(std::string_view key) { return "/" + PointerEscape(key); }

// Rejects members outside `allowed`, naming the first one found by its JSON pointer:
// `prefix` is the pointer of `object` ("" for the body), `what` names the object in the
// message ("a skip request") when not empty.
Status CheckMembers(const Json& object, std::initializer_list<std::string_view> allowed,
                    std::string_view prefix = "", std::string_view what = "") {
  Status status;
  object.ForEachMember([&](std::string_view key, const Json&) {
    if (!status.ok()) return;
    for (std::string_view a : allowed) {
      if (a == key) return;
    }
    std::string expected;
    for (std::string_view a : allowed) {
      if (!expected.empty()) expected += ", ";
      expected += a;
    }
    std::string of = what.empty() ? "" : " of " + std::string(what);
    status = Status::InvalidArgument(std::string(prefix) + MemberPath(key) + ": unknown member" +
                                     of + " (expected " + expected + ")");
  });
  return status;
}

Status QueryError(std::string_view name, const std::string& message) {
  return Status::InvalidArgument("query parameter '" + std::string(name) + "': " + message);
}

bool IsBlank(std::string_view text) {
  for (char c : text) {
    if (!IsSpace(c)) return false;
  }
  return true;
}

// The parameters the list routes share. Each returns the parsed value or the problem,
// naming the parameter.
Result<std::string> QueryWorkflow(std::string_view name, const std::string& value) {
  Status s = ValidateWorkflowRef(value);
  if (!s.ok()) return QueryError(name, s.message());
  return value;
}

Result<int64_t> QueryTime(std::string_view name, std::string_view value) {
  Result<int64_t> t = ParseTimestamp(value);
  if (!t.ok()) return QueryError(name, t.status().message());
  if (*t <= 0) return QueryError(name, "times at or before 1970-01-01T00:00:00Z are not supported");
  return t;
}

Result<int> QueryLimit(std::string_view name, std::string_view value) {
  int limit = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
  if (ec != std::errc() || end != value.data() + value.size() || limit < 1 || limit > 1000) {
    return QueryError(name, "expected an integer from 1 to 1000, got " + Quote(value));
  }
  return limit;
}

Result<std::string> QueryCursor(std::string_view name, const std::string& value) {
  bool printable = !value.empty() && value.size() <= kMaxCursor;
  for (char c : value) printable = printable && c > 0x20 && c < 0x7f;
  if (!printable) {
    return QueryError(name, "expected the nextCursor of a previous page, got " + Quote(value));
  }
  return value;
}

// An error type: a URI ("https://serverlessworkflow.io/spec/1.0.0/errors/communication") or
// its last segment ("communication"): 1 to kMaxErrorType printable ASCII bytes, no spaces.
Status ValidateErrorType(std::string_view type) {
  bool ok = !type.empty() && type.size() <= kMaxErrorType;
  for (char c : type) ok = ok && c > 0x20 && c < 0x7f;
  if (!ok) {
    return Status::InvalidArgument(
        "expected an error type, a URI such as "
        "https://serverlessworkflow.io/spec/1.0.0/errors/communication or its last segment "
        "(communication), got " +
        Quote(type));
  }
  return Status::Ok();
}

// `reason` of a repair or redrive body: required, a string that is not blank.
Result<std::string> ParseReason(const Json& body) {
  if (!body.Has("reason")) {
    return Status::InvalidArgument(
        "/reason: required member is missing (a non-empty string saying why; it is kept in "
        "the instance's history)");
  }
  Json reason = body.Get("reason");
  if (!reason.IsString()) {
    return Status::InvalidArgument(std::string("/reason: expected a string, got ") +
                                   reason.KindName());
  }
  if (IsBlank(reason.AsString())) return Status::InvalidArgument("/reason: must not be empty");
  if (reason.AsString().size() > kMaxReason) {
    return Status::InvalidArgument("/reason: longer than " + std::to_string(kMaxReason) + " bytes");
  }
  return std::string(reason.AsString());
}

// `by` of a repair or redrive body, else the X-Baton-User header (`user`), else "anonymous".
// A blank `by` counts as absent.
Result<std::string> ParseBy(const Json& body, std::string_view user) {
  if (body.Has("by")) {
    Json by = body.Get("by");
    if (!by.IsString()) {
      return Status::InvalidArgument(std::string("/by: expected a string, got ") + by.KindName());
    }
    if (by.AsString().size() > kMaxBy) {
      return Status::InvalidArgument("/by: longer than " + std::to_string(kMaxBy) + " bytes");
    }
    if (!IsBlank(by.AsString())) return std::string(by.AsString());
  }
  if (user.size() > kMaxBy) {
    return Status::InvalidArgument("header X-Baton-User: longer than " + std::to_string(kMaxBy) +
                                   " bytes");
  }
  if (!IsBlank(user)) return std::string(user);
  return std::string("anonymous");
}

// The body of a repair or redrive: JSON, an object. `shape` is what an empty body is told
// to send.
Result<Json> ParseObjectBody(std::string_view body, std::string_view shape) {
  if (IsBlank(body)) {
    return Status::InvalidArgument("the request body is empty: expected a JSON object " +
                                   std::string(shape));
  }
  BATON_ASSIGN_OR_RETURN(Json json, ParseJsonBody(body));
  if (!json.IsObject()) {
    return Status::InvalidArgument("request body: expected a JSON object " + std::string(shape) +
                                   ", got " + json.KindName());
  }
  return json;
}

}  // namespace

Result<Json> ParseJsonBody(std::string_view body) {
  bool blank = true;
  for (char c : body) blank = blank && IsSpace(c);
  if (blank) return Status::InvalidArgument("the request body is empty: expected a JSON object");
  // jq reads a raw NUL outside strings as a number; JSON never contains one.
  if (size_t nul = body.find('\0'); nul != std::string_view::npos) {
    return Status::InvalidArgument("malformed JSON in the request body: NUL byte at offset " +
                                   std::to_string(nul));
  }
  Result<Json> parsed = Json::Parse(body);
  if (!parsed.ok()) {
    // jq appends " (while parsing '<the whole text>')": keep only its own message.
    std::string message = parsed.status().message();
    size_t cut = message.find(" (while parsing '");
    if (cut != std::string::npos) message.resize(cut);
    return Status::InvalidArgument("malformed JSON in the request body: " + message);
  }
  return parsed;
}

Result<runtime::StartRequest> ParseStartRequest(const Json& body) {
  if (!body.IsObject()) {
    return Status::InvalidArgument(
        std::string("request body: expected a JSON object {\"workflow\": ...}, got ") +
        body.KindName());
  }
  BATON_RETURN_IF_ERROR(CheckMembers(body, {"workflow", "input", "idempotencyKey"}));
  runtime::StartRequest request;
  if (!body.Has("workflow")) {
    return Status::InvalidArgument(
        "/workflow: required member is missing (expected a string \"namespace/name[:version]\")");
  }
  Json workflow = body.Get("workflow");
  if (!workflow.IsString()) {
    return Status::InvalidArgument(
        std::string("/workflow: expected a string \"namespace/name[:version]\", got ") +
        workflow.KindName());
  }
  Status ref = ValidateWorkflowRef(workflow.AsString());
  if (!ref.ok()) return Status::InvalidArgument("/workflow: " + ref.message());
  request.workflow = std::string(workflow.AsString());

  if (body.Has("input")) {
    Json input = body.Get("input");
    if (!input.IsObject()) {
      return Status::InvalidArgument(std::string("/input: expected an object, got ") +
                                     input.KindName());
    }
    // The request goes to the service's threads: share nothing with `body`.
    request.input = input.DeepCopy();
  }
  if (body.Has("idempotencyKey")) {
    Json key = body.Get("idempotencyKey");
    if (!key.IsString()) {
      return Status::InvalidArgument(std::string("/idempotencyKey: expected a string, got ") +
                                     key.KindName());
    }
    if (key.AsString().empty() || key.AsString().size() > kMaxIdempotencyKey) {
      return Status::InvalidArgument("/idempotencyKey: expected 1 to " +
                                     std::to_string(kMaxIdempotencyKey) + " characters, got " +
                                     std::to_string(key.AsString().size()));
    }
    request.idempotency_key = std::string(key.AsString());
  }
  return request;
}

Result<std::string> ParseCancelBody(std::string_view body) {
  bool blank = true;
  for (char c : body) blank = blank && IsSpace(c);
  if (blank) return std::string();
  BATON_ASSIGN_OR_RETURN(Json json, ParseJsonBody(body));
  if (!json.IsObject()) {
    return Status::InvalidArgument(
        std::string("request body: expected a JSON object {\"reason\": ...} or no body, got ") +
        json.KindName());
  }
  BATON_RETURN_IF_ERROR(CheckMembers(json, {"reason"}));
  if (!json.Has("reason")) return std::string();
  Json reason = json.Get("reason");
  if (!reason.IsString()) {
    return Status::InvalidArgument(std::string("/reason: expected a string, got ") +
                                   reason.KindName());
  }
  if (reason.AsString().size() > kMaxReason) {
    return Status::InvalidArgument("/reason: longer than " + std::to_string(kMaxReason) + " bytes");
  }
  return std::string(reason.AsString());
}

Status ParseEmptyBody(std::string_view body) {
  bool blank = true;
  for (char c : body) blank = blank && IsSpace(c);
  if (blank) return Status::Ok();
  Result<Json> json = ParseJsonBody(body);
  if (!json.ok()) return json.status();
  if (!json->IsObject()) {
    return Status::InvalidArgument(
        std::string("request body: expected no body or an empty JSON object, got ") +
        json->KindName());
  }
  return CheckMembers(*json, {});
}

Result<runtime::ListFilter> ParseListFilter(const Fields& query) {
  runtime::ListFilter filter;
  std::set<std::string, std::less<>> seen;
  for (const auto& [name, value] : query) {
    if (!seen.insert(name).second) return QueryError(name, "given more than once");
    if (name == "status") {
      if (!IsKnownInstanceStatus(value)) {
        std::string known;
        for (std::string_view s : kStatuses) {
          if (!known.empty()) known += ", ";
          known += s;
        }
        return QueryError(name,
                          "unknown status " + Quote(value) + " (expected one of " + known + ")");
      }
      filter.status = value;
    } else if (name == "workflow") {
      BATON_ASSIGN_OR_RETURN(filter.workflow, QueryWorkflow(name, value));
    } else if (name == "since" || name == "until") {
      BATON_ASSIGN_OR_RETURN((name == "since" ? filter.since_ms : filter.until_ms),
                             QueryTime(name, value));
    } else if (name == "limit") {
      BATON_ASSIGN_OR_RETURN(filter.limit, QueryLimit(name, value));
    } else if (name == "cursor") {
      BATON_ASSIGN_OR_RETURN(filter.cursor, QueryCursor(name, value));
    } else {
      return Status::InvalidArgument("unknown query parameter " + Quote(name) +
                                     " (expected status, workflow, since, until, limit or cursor)");
    }
  }
  if (filter.since_ms > 0 && filter.until_ms > 0 && filter.since_ms >= filter.until_ms) {
    return Status::InvalidArgument("query parameters: 'since' must be before 'until'");
  }
  return filter;
}

Result<runtime::DeadLetterFilter> ParseDeadLetterFilter(const Fields& query) {
  runtime::DeadLetterFilter filter;
  std::set<std::string, std::less<>> seen;
  for (const auto& [name, value] : query) {
    if (!seen.insert(name).second) return QueryError(name, "given more than once");
    if (name == "workflow") {
      BATON_ASSIGN_OR_RETURN(filter.workflow, QueryWorkflow(name, value));
    } else if (name == "errorType") {
      Status s = ValidateErrorType(value);
      if (!s.ok()) return QueryError(name, s.message());
      filter.error_type = value;
    } else if (name == "since" || name == "until") {
      BATON_ASSIGN_OR_RETURN((name == "since" ? filter.since_ms : filter.until_ms),
                             QueryTime(name, value));
    } else if (name == "limit") {
      BATON_ASSIGN_OR_RETURN(filter.limit, QueryLimit(name, value));
    } else if (name == "cursor") {
      BATON_ASSIGN_OR_RETURN(filter.cursor, QueryCursor(name, value));
    } else {
      return Status::InvalidArgument(
          "unknown query parameter " + Quote(name) +
          " (expected workflow, errorType, since, until, limit or cursor)");
    }
  }
  if (filter.since_ms > 0 && filter.until_ms > 0 && filter.since_ms >= filter.until_ms) {
    return Status::InvalidArgument("query parameters: 'since' must be before 'until'");
  }
  return filter;
}

Result<runtime::RepairRequest> ParseRepairBody(std::string_view action, std::string_view body,
                                               std::string_view user) {
  const bool retry = action == "retry";
  const bool skip = action == "skip";
  if (!retry && !skip && action != "compensate" && action != "discard") {
    return Status::InvalidArgument("unknown repair action " + Quote(action) +
                                   " (expected retry, skip, compensate or discard)");
  }
  BATON_ASSIGN_OR_RETURN(Json json, ParseObjectBody(body, "{\"reason\": \"...\"}"));
  const std::string what = "a " + std::string(action) + " request";
  if (retry) {
    BATON_RETURN_IF_ERROR(CheckMembers(json, {"reason", "by", "input", "context"}, "", what));
  } else if (skip) {
    BATON_RETURN_IF_ERROR(CheckMembers(json, {"reason", "by", "output"}, "", what));
  } else {
    BATON_RETURN_IF_ERROR(CheckMembers(json, {"reason", "by"}, "", what));
  }
  runtime::RepairRequest request;
  request.action = std::string(action);
  BATON_ASSIGN_OR_RETURN(request.reason, ParseReason(json));
  BATON_ASSIGN_OR_RETURN(request.by, ParseBy(json, user));
  // The request goes to the service's threads: share nothing with `json`.
  if (json.Has("input")) request.input = json.Get("input").DeepCopy();
  if (json.Has("context")) request.context = json.Get("context").DeepCopy();
  if (json.Has("output")) request.output = json.Get("output").DeepCopy();
  return request;
}

Result<RedriveRequest> ParseRedriveBody(std::string_view body, std::string_view user) {
  BATON_ASSIGN_OR_RETURN(
      Json json,
      ParseObjectBody(body, "{\"filter\": {...}, \"action\": \"...\", \"reason\": \"...\"}"));
  BATON_RETURN_IF_ERROR(
      CheckMembers(json, {"filter", "action", "reason", "by", "dryRun"}, "", "a redrive request"));
  RedriveRequest request;
  request.filter.limit = kMaxRedrive;

  if (!json.Has("filter")) {
    return Status::InvalidArgument(
        "/filter: required member is missing (an object with workflow, errorType, since and "
        "until, each optional; {} matches every dead letter)");
  }
  Json filter = json.Get("filter");
  if (!filter.IsObject()) {
    return Status::InvalidArgument(std::string("/filter: expected an object, got ") +
                                   filter.KindName());
  }
  BATON_RETURN_IF_ERROR(
      CheckMembers(filter, {"workflow", "errorType", "since", "until"}, "/filter", "the filter"));
  Status bad;
  filter.ForEachMember([&](std::string_view key, const Json& value) {
    if (!bad.ok()) return;
    std::string path = "/filter" + MemberPath(key);
    if (!value.IsString()) {
      bad = Status::InvalidArgument(path + ": expected a string, got " + value.KindName());
      return;
    }
    std::string_view text = value.AsString();
    if (key == "workflow") {
      Status s = ValidateWorkflowRef(text);
      if (!s.ok()) bad = Status::InvalidArgument(path + ": " + s.message());
      request.filter.workflow = std::string(text);
    } else if (key == "errorType") {
      Status s = ValidateErrorType(text);
      if (!s.ok()) bad = Status::InvalidArgument(path + ": " + s.message());
      request.filter.error_type = std::string(text);
    } else {
      Result<int64_t> t = ParseTimestamp(text);
      if (!t.ok()) {
        bad = Status::InvalidArgument(path + ": " + t.status().message());
      } else if (*t <= 0) {
        bad = Status::InvalidArgument(
            path + ": times at or before 1970-01-01T00:00:00Z are not supported");
      } else {
        (key == "since" ? request.filter.since_ms : request.filter.until_ms) = *t;
      }
    }
  });
  BATON_RETURN_IF_ERROR(bad);
  if (request.filter.since_ms > 0 && request.filter.until_ms > 0 &&
      request.filter.since_ms >= request.filter.until_ms) {
    return Status::InvalidArgument("/filter: 'since' must be before 'until'");
  }

  if (!json.Has("action")) {
    return Status::InvalidArgument(
        "/action: required member is missing (expected retry, compensate or discard)");
  }
  Json action = json.Get("action");
  if (!action.IsString()) {
    return Status::InvalidArgument(std::string("/action: expected a string, got ") +
                                   action.KindName());
  }
  if (action.AsString() == "skip") {
    return Status::InvalidArgument(
        "/action: skip is not allowed in bulk, since each skipped task needs its own output; "
        "skip instances one at a time (POST /api/v1/instances/{id}/skip)");
  }
  if (action.AsString() != "retry" && action.AsString() != "compensate" &&
      action.AsString() != "discard") {
    return Status::InvalidArgument("/action: expected retry, compensate or discard, got " +
                                   Quote(action.AsString()));
  }
  request.repair.action = std::string(action.AsString());
  BATON_ASSIGN_OR_RETURN(request.repair.reason, ParseReason(json));
  BATON_ASSIGN_OR_RETURN(request.repair.by, ParseBy(json, user));
  if (json.Has("dryRun")) {
    Json dry_run = json.Get("dryRun");
    if (!dry_run.IsBool()) {
      return Status::InvalidArgument(std::string("/dryRun: expected a boolean, got ") +
                                     dry_run.KindName());
    }
    request.dry_run = dry_run.AsBool();
  }
  return request;
}

Result<int64_t> ParseTimestamp(std::string_view text) {
  bool all_digits = !text.empty() && text.size() <= 15;
  for (char c : text) all_digits = all_digits && IsDigit(c);
  if (all_digits) {
    int64_t ms = 0;
    for (char c : text) ms = ms * 10 + (c - '0');
    return ms;
  }
  std::optional<int64_t> ms = baton::ParseRfc3339(text);
  if (!ms) {
    return Status::InvalidArgument(
        "expected an RFC 3339 time such as 2024-05-01T12:00:00Z or epoch milliseconds, got " +
        Quote(text));
  }
  return *ms;
}

Result<int64_t> ParseWaitSeconds(std::string_view text) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(seconds) || seconds <= 0 || seconds > static_cast<double>(kMaxWaitSeconds)) {
    return Status::InvalidArgument(
        "query parameter 'wait': expected seconds, a number with 0 < s <= " +
        std::to_string(kMaxWaitSeconds) + ", got " + Quote(text));
  }
  int64_t ms = std::llround(seconds * 1000);
  return ms < 1 ? 1 : ms;
}

Status ValidateInstanceId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 128;
  for (char c : id) ok = ok && (IsAlnum(c) || c == '.' || c == '_' || c == '-');
  if (!ok) {
    return Status::InvalidArgument(
        "instance id must be 1 to 128 letters, digits, '.', '_' or '-'; got " + Quote(id));
  }
  return Status::Ok();
}

Status ValidateDnsLabel(std::string_view what, std::string_view value) {
  bool ok = !value.empty() && value.size() <= 63 && IsAlnum(value.front()) && IsAlnum(value.back());
  for (char c : value) ok = ok && (IsAlnum(c) || c == '-');
  if (!ok) {
    return Status::InvalidArgument(
        std::string(what) +
        " must be 1 to 63 letters, digits or '-', starting and ending with a letter or digit; "
        "got " +
        Quote(value));
  }
  return Status::Ok();
}

Status ValidateVersion(std::string_view version) {
  bool ok = !version.empty() && version.size() <= 128;
  for (char c : version) ok = ok && (IsAlnum(c) || c == '.' || c == '+' || c == '-');
  if (!ok) {
    return Status::InvalidArgument(
        "version must be 1 to 128 letters, digits, '.', '+' or '-' (a semantic version such as "
        "1.0.0); got " +
        Quote(version));
  }
  return Status::Ok();
}

Status ValidateWorkflowRef(std::string_view ref) {
  size_t slash = ref.find('/');
  if (slash == std::string_view::npos) {
    return Status::InvalidArgument("expected \"namespace/name[:version]\", got " + Quote(ref));
  }
  std::string_view ns = ref.substr(0, slash);
  std::string_view rest = ref.substr(slash + 1);
  size_t colon = rest.find(':');
  std::string_view name = rest.substr(0, colon);
  BATON_RETURN_IF_ERROR(ValidateDnsLabel("namespace", ns));
  BATON_RETURN_IF_ERROR(ValidateDnsLabel("name", name));
  if (colon != std::string_view::npos)
    BATON_RETURN_IF_ERROR(ValidateVersion(rest.substr(colon + 1)));
  return Status::Ok();
}

bool IsKnownInstanceStatus(std::string_view status) {
  for (std::string_view s : kStatuses) {
    if (s == status) return true;
  }
  return false;
}

}  // namespace baton::api
