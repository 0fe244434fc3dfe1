// Request parsing and validation for the REST routes: bodies, query parameters and path ids.
//
// Every failure is an InvalidArgument whose message is the problem's `detail`: it names the
// JSON path or the parameter and says what was expected, e.g.
//   /workflow: expected a string "namespace/name[:version]", got number
//   query parameter 'since': expected an RFC 3339 time or epoch milliseconds, got "yesterday"
//
// Thread-safety: pure functions. Values returned share no JSON storage with their inputs
// (inputs handed to the service are deep copies), so they may be passed to another thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api/http.h"
#include "base/json.h"
#include "base/status.h"
#include "runtime/service.h"

namespace baton::api {

// The largest ?wait= of POST /api/v1/instances, in seconds.
inline constexpr int64_t kMaxWaitSeconds = 300;

// Parses a JSON request body. Empty (or all-whitespace) bodies are an error that says a
// JSON value was expected; syntax errors carry jq's line and column.
Result<Json> ParseJsonBody(std::string_view body);

// {"workflow": "ns/name[:version]", "input": {...}?, "idempotencyKey": "..."?}; unknown
// members are rejected (a misspelt idempotency key must not silently start duplicates).
Result<runtime::StartRequest> ParseStartRequest(const Json& body);

// Optional body of the cancel control: empty, or {"reason": "..."}. Returns the reason.
Result<std::string> ParseCancelBody(std::string_view body);

// Body of controls that take no arguments: empty, or an empty JSON object.
Status ParseEmptyBody(std::string_view body);

// GET /api/v1/instances query: status, workflow, since, until, limit, cursor. Unknown
// parameters and repeated ones are rejected.
Result<runtime::ListFilter> ParseListFilter(const Fields& query);

// GET /api/v1/dead-letters query: workflow, errorType, since, until (bounds of endedAt),
// limit, cursor. Unknown parameters and repeated ones are rejected.
Result<runtime::DeadLetterFilter> ParseDeadLetterFilter(const Fields& query);

// Body of POST /api/v1/instances/{id}/retry|skip|compensate|discard: a JSON object with
// `reason` (required, not blank) and `by` (optional), plus per action: retry `input` and
// `context`, skip `output` (any JSON value each). Any other member is rejected, naming it.
// `action` is the route's ("retry", ...); `user` is the X-Baton-User header's value (empty
// when absent), the author when the body has no `by`; "anonymous" when neither names one.
Result<runtime::RepairRequest> ParseRepairBody(std::string_view action, std::string_view body,
                                               std::string_view user);

// Body of POST /api/v1/dead-letters/redrive:
//   {"filter": {workflow?, errorType?, since?, until?}, "action": "retry"|"compensate"|
//    "discard", "reason": "...", "by"?: "...", "dryRun"?: bool}
// `filter` is required ({} matches every dead letter); `skip` is refused (it needs each
// instance's output). The filter's limit is kMaxRedrive. `user` as for ParseRepairBody.
inline constexpr int kMaxRedrive = 1000;
struct RedriveRequest {
  runtime::DeadLetterFilter filter;
  runtime::RepairRequest repair;
  bool dry_run = false;
};
Result<RedriveRequest> ParseRedriveBody(std::string_view body, std::string_view user);

// An RFC 3339 date-time ("2024-05-01T12:00:00Z", "…T14:00:00.250+02:00") or non-negative
// epoch milliseconds ("1714564800000"); returns epoch milliseconds.
Result<int64_t> ParseTimestamp(std::string_view text);

// ?wait=SECONDS: a number with 0 < s <= kMaxWaitSeconds (fractions allowed); returns ms.
Result<int64_t> ParseWaitSeconds(std::string_view text);

// Path ids. Instance ids: 1 to 128 of [A-Za-z0-9._-]. Namespaces and names: DNS labels as
// the DSL requires (1 to 63 letters, digits or '-', not starting or ending with '-').
// Versions: 1 to 128 of [A-Za-z0-9.+-]. Garbage is a 400; a well-formed unknown id is the
// service's 404.
Status ValidateInstanceId(std::string_view id);
Status ValidateDnsLabel(std::string_view what, std::string_view value);
Status ValidateVersion(std::string_view version);
// "namespace/name" or "namespace/name:version", each part valid as above.
Status ValidateWorkflowRef(std::string_view ref);

// Known instance statuses (the DSL's phases plus baton's): "pending", "running", ...
bool IsKnownInstanceStatus(std::string_view status);

}  // namespace baton::api
