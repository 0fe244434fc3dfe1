#include "engine/error.h"

#include <string>

namespace baton::engine {
namespace {

// The base that sdk-net/Synapse (and the CTK's try.feature) use for the same types.
constexpr std::string_view kDslAliasBase = "https://serverlessworkflow.io/dsl/errors/types/";

// "https://serverlessworkflow.io/dsl/errors/types/x" → the spec's ".../errors/x"; anything
// else unchanged.
std::string Canonical(std::string_view type) {
  if (type.substr(0, kDslAliasBase.size()) == kDslAliasBase) {
    std::string out(kErrorTypeBase);
    out.append(type.substr(kDslAliasBase.size()));
    return out;
  }
  return std::string(type);
}

}  // namespace

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConfiguration:
      return "configuration";
    case ErrorKind::kValidation:
      return "validation";
    case ErrorKind::kExpression:
      return "expression";
    case ErrorKind::kAuthentication:
      return "authentication";
    case ErrorKind::kAuthorization:
      return "authorization";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kCommunication:
      return "communication";
    case ErrorKind::kRuntime:
      return "runtime";
  }
  return "runtime";
}

int DefaultStatus(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConfiguration:
    case ErrorKind::kValidation:
    case ErrorKind::kExpression:
      return 400;
    case ErrorKind::kAuthentication:
      return 401;
    case ErrorKind::kAuthorization:
      return 403;
    case ErrorKind::kTimeout:
      return 408;
    case ErrorKind::kCommunication:
    case ErrorKind::kRuntime:
      return 500;
  }
  return 500;
}

namespace {

// "configuration" → "Configuration Error": the default title of a standard kind.
std::string DefaultTitle(ErrorKind kind) {
  std::string title = ErrorKindName(kind);
  title[0] = static_cast<char>(title[0] - 'a' + 'A');
  return title + " Error";
}

}  // namespace

Json MakeError(ErrorKind kind, int status, std::string_view title, std::string_view detail,
               std::string_view instance) {
  Json error = Json::Object();
  std::string type(kErrorTypeBase);
  type += ErrorKindName(kind);
  error.Set("type", Json::String(type));
  error.Set("status", Json::Number(status));
  error.Set("title", title.empty() ? Json::String(DefaultTitle(kind)) : Json::String(title));
  if (!detail.empty()) error.Set("detail", Json::String(detail));
  if (!instance.empty()) error.Set("instance", Json::String(instance));
  return error;
}

Json MakeError(ErrorKind kind, std::string_view detail, std::string_view instance) {
  return MakeError(kind, DefaultStatus(kind), {}, detail, instance);
}

bool SameErrorType(std::string_view a, std::string_view b) {
  if (a == b) return true;
  return Canonical(a) == Canonical(b);
}

bool IsTransient(const Json& error) {
  if (!error.IsObject()) return false;
  Json retryable = error.Get("retryable");
  if (retryable.IsBool()) return retryable.AsBool();
  Json type = error.Get("type");
  if (!type.IsString()) return false;
  std::string_view name = ErrorTypeName(type.AsString());
  if (name == "timeout") return true;
  if (name != "communication") return false;
  Json status = error.Get("status");
  if (!status.IsNumber()) return false;
  double s = status.AsNumber();
  return s == 408 || s == 429 || s >= 500;
}

std::string_view ErrorTypeName(std::string_view type) {
  size_t slash = type.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == type.size()) return type;
  // Only the spec's own type URIs (and their aliases) are shortened.
  std::string_view base = type.substr(0, slash + 1);
  if (base == kErrorTypeBase || base == kDslAliasBase) {
    return type.substr(slash + 1);
  }
  return type;
}

}  // namespace baton::engine
