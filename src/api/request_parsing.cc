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

// Rejects members outside `allowed`, naming the first one found.
Status CheckMembers(const Json& object, std::initializer_list<std::string_view> allowed) {
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
    status =
        Status::InvalidArgument(MemberPath(key) + ": unknown member (expected " + expected + ")");
  });
  return status;
}

Status QueryError(std::string_view name, const std::string& message) {
  return Status::InvalidArgument("query parameter '" + std::string(name) + "': " + message);
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
      Status s = ValidateWorkflowRef(value);
      if (!s.ok()) return QueryError(name, s.message());
      filter.workflow = value;
    } else if (name == "since" || name == "until") {
      Result<int64_t> t = ParseTimestamp(value);
      if (!t.ok()) return QueryError(name, t.status().message());
      if (*t <= 0)
        return QueryError(name, "times at or before 1970-01-01T00:00:00Z are not supported");
      (name == "since" ? filter.since_ms : filter.until_ms) = *t;
    } else if (name == "limit") {
      int limit = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit < 1 || limit > 1000) {
        return QueryError(name, "expected an integer from 1 to 1000, got " + Quote(value));
      }
      filter.limit = limit;
    } else if (name == "cursor") {
      bool printable = !value.empty() && value.size() <= kMaxCursor;
      for (char c : value) printable = printable && c > 0x20 && c < 0x7f;
      if (!printable) {
        return QueryError(name, "expected the nextCursor of a previous page, got " + Quote(value));
      }
      filter.cursor = value;
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
