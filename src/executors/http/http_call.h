// HttpCall: one fully specified HTTP request of a `call: http` (or a resolved `call: openapi`)
// task, and the rules that turn its response into the task's output or error.
//
// Built from the ExecuteTask request shape of engine/command.h:
//   {method, endpoint, headers{}, query{}, body?, output, redirect, authentication?}
//
// Thread-safety: plain values and pure functions. The Json they take and return belong to
// the calling thread (base/json.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "executors/fault.h"

namespace baton::executors::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

enum class OutputMode : uint8_t { kContent, kResponse, kRaw };

struct HttpCall {
  std::string method = "GET";  // upper-case
  std::string uri;             // as the workflow named it, query appended (before rewrites)
  HeaderList headers;          // sent as given (names keep their case), in order
  bool has_body = false;
  std::string body;
  OutputMode output = OutputMode::kContent;
  bool redirect = false;  // follow 3xx; statuses 200-399 succeed instead of 200-299
};

struct HttpResponse {
  long status = 0;
  std::string reason;  // the status line's reason phrase (may be empty)
  HeaderList headers;  // names lower-cased, in arrival order
  std::string body;
};

inline constexpr std::string_view kUserAgent = "baton/0.1";

// Builds `call` from an http request. Adds `User-Agent: baton/0.1` and
// `Idempotency-Key: <idempotency_key>` unless the request sets them itself, and the
// Authorization header of `authentication`. Returns a configuration fault for a malformed
// request or an unsupported authentication scheme.
std::optional<Fault> BuildHttpCall(const Json& request, std::string_view idempotency_key,
                                   HttpCall* call);

// Adds the Authorization header for {basic:{username,password}} or {bearer:{token}}
// (replacing one already present). Other schemes are a configuration fault.
std::optional<Fault> ApplyAuthentication(const Json& authentication, HeaderList* headers);

// Case-insensitive header lookup; nullptr when absent.
const std::string* FindHeader(const HeaderList& headers, std::string_view name);

// True when the response status is a success for this call (see HttpCall::redirect).
bool IsSuccess(const HttpCall& call, long status);

// Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date, RFC 9110 §10.2.3)
// at `now_s` (Unix seconds); 0 when absent, malformed or already past.
double RetryAfterSeconds(std::string_view value, int64_t now_s);

// The communication fault of a response that is not a success: status = the HTTP status,
// title "HTTP 404 Not Found", detail with method, URI and a short body excerpt.
Fault StatusFault(const HttpCall& call, const HttpResponse& response);

// Decodes a body by its Content-Type: JSON (application/json, */*+json) parsed, text/*
// (and XML/YAML/JavaScript) as a string, anything else base64. Without a Content-Type, JSON
// text is parsed, other UTF-8 is a string and the rest base64. An empty body is null.
Json DecodeContent(const std::string* content_type, std::string_view body);

// The task output for `call.output`: content, the response object or the raw body (base64).
Json BuildOutput(const HttpCall& call, const HttpResponse& response);

// Reason phrase of common statuses ("Not Found"), "" for others.
const char* StatusReason(long status);

}  // namespace baton::executors::http
