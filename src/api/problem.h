// Problem: an RFC 7807 error answer (application/problem+json), and the single place where a
// baton::StatusCode becomes an HTTP status (STYLE.md §3.4 rule 5).
//
// Body: {"type", "title", "status", "detail"} plus "errors" (an array of strings) when the
// problem lists several findings, such as the validation errors of a document. `type` is a
// stable URN per kind ("urn:baton:problem:not-found"); `title` is a fixed summary of the
// kind; `detail` says precisely what went wrong with this request. Details come from our
// own messages and never contain stack traces or internals.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "base/status.h"

namespace baton::api {

inline constexpr std::string_view kProblemContentType = "application/problem+json";

struct Problem {
  int status = 500;
  std::string type;   // "urn:baton:problem:<kind>"
  std::string title;  // short, fixed per kind
  std::string detail;
  std::vector<std::string> errors;  // serialised as "errors" when not empty
};

// InvalidArgument → 400, NotFound → 404, AlreadyExists/Conflict → 409, Unavailable and
// Cancelled → 503, DeadlineExceeded → 504, every other code → 500 (see runtime/service.h).
int HttpStatusFor(StatusCode code);

// The problem for a non-OK status: HttpStatusFor(code), the status message as detail.
// InvalidArgument messages with several lines also fill `errors`, one per line.
Problem ProblemFromStatus(const Status& status);

// A problem of an HTTP-level kind, e.g. MakeProblem(413, "payload-too-large",
// "Payload too large", "..."). `kind` is the URN suffix.
Problem MakeProblem(int status, std::string_view kind, std::string_view title, std::string detail);

// Shorthands for the kinds handlers use most.
Problem BadRequest(std::string detail);
Problem NotFound(std::string detail);

// The problem+json text.
std::string ProblemBody(const Problem& problem);
// A complete response (status, content type, body).
Response ProblemResponse(const Problem& problem);

}  // namespace baton::api
