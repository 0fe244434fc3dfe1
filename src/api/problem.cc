#include "api/problem.h"

#include <utility>

#include "base/json.h"

namespace baton::api {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kUnavailable:
    case StatusCode::kCancelled:  // the server is shutting down under the request
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kCommitUnknown:
    case StatusCode::kInternal:
    case StatusCode::kUnimplemented:
      return 500;
  }
  return 500;
}

namespace {

struct Kind {
  std::string_view urn_suffix;
  std::string_view title;
};

Kind KindFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return {"ok", "OK"};
    case StatusCode::kInvalidArgument:
      return {"invalid-argument", "Invalid request"};
    case StatusCode::kNotFound:
      return {"not-found", "Not found"};
    case StatusCode::kAlreadyExists:
      return {"already-exists", "Already exists"};
    case StatusCode::kConflict:
      return {"conflict", "Conflict with the current state"};
    case StatusCode::kUnavailable:
      return {"unavailable", "Service unavailable"};
    case StatusCode::kDeadlineExceeded:
      return {"deadline-exceeded", "Deadline exceeded"};
    case StatusCode::kCancelled:
      return {"cancelled", "Request cancelled"};
    case StatusCode::kCommitUnknown:
      return {"commit-unknown", "Outcome unknown"};
    case StatusCode::kInternal:
      return {"internal", "Internal error"};
    case StatusCode::kUnimplemented:
      return {"unimplemented", "Not implemented"};
  }
  return {"internal", "Internal error"};
}

std::vector<std::string> NonEmptyLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.emplace_back(line);
    start = end + 1;
  }
  return lines;
}

}  // namespace

Problem ProblemFromStatus(const Status& status) {
  Kind kind = KindFor(status.code());
  Problem p = MakeProblem(HttpStatusFor(status.code()), kind.urn_suffix, kind.title,
                          status.message().empty() ? std::string(kind.title) : status.message());
  if (status.code() == StatusCode::kInvalidArgument) {
    std::vector<std::string> lines = NonEmptyLines(status.message());
    if (lines.size() > 1) p.errors = std::move(lines);
  }
  return p;
}

Problem MakeProblem(int status, std::string_view kind, std::string_view title, std::string detail) {
  Problem p;
  p.status = status;
  p.type = "urn:baton:problem:" + std::string(kind);
  p.title = std::string(title);
  p.detail = std::move(detail);
  return p;
}

Problem BadRequest(std::string detail) {
  return MakeProblem(400, "invalid-argument", "Invalid request", std::move(detail));
}

Problem NotFound(std::string detail) {
  return MakeProblem(404, "not-found", "Not found", std::move(detail));
}

std::string ProblemBody(const Problem& problem) {
  Json body = Json::Object();
  body.Set("type", Json::String(problem.type));
  body.Set("title", Json::String(problem.title));
  body.Set("status", Json::Number(problem.status));
  body.Set("detail", Json::String(problem.detail));
  if (!problem.errors.empty()) {
    Json errors = Json::Array();
    for (const std::string& e : problem.errors) errors.Append(Json::String(e));
    body.Set("errors", std::move(errors));
  }
  return body.Dump();
}

Response ProblemResponse(const Problem& problem) {
  Response r;
  r.status = problem.status;
  r.content_type = std::string(kProblemContentType);
  r.body = ProblemBody(problem);
  return r;
}

}  // namespace baton::api
