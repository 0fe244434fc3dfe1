// Workflow errors: RFC 7807 problem objects as the DSL defines them (dsl.md "Errors").
// They are data (Json), not C++ errors: a failed HTTP call becomes a TaskFailed event
// carrying one of these, and the interpreter applies try/retry to it.
#pragma once

#include <string>
#include <string_view>

#include "base/json.h"

namespace baton::engine {

// Base URI of the spec's standard error types.
inline constexpr std::string_view kErrorTypeBase =
    "https://serverlessworkflow.io/spec/1.0.0/errors/";

// Standard error kinds and their default status.
enum class ErrorKind : uint8_t {
  kConfiguration,   // 400
  kValidation,      // 400
  kExpression,      // 400
  kAuthentication,  // 401
  kAuthorization,   // 403
  kTimeout,         // 408
  kCommunication,   // 500 (or the remote status)
  kRuntime,         // 500
};

const char* ErrorKindName(ErrorKind kind);  // "configuration", ...
int DefaultStatus(ErrorKind kind);

// {type, status, title, detail?, instance?}; empty detail/instance are left out.
Json MakeError(ErrorKind kind, int status, std::string_view title, std::string_view detail,
               std::string_view instance = {});
Json MakeError(ErrorKind kind, std::string_view detail, std::string_view instance = {});

// True when two error type URIs name the same type. Accepts the SDKs' alias
// `https://serverlessworkflow.io/dsl/errors/types/X` for the spec's `.../spec/1.0.0/errors/X`.
bool SameErrorType(std::string_view a, std::string_view b);

// Transient errors may succeed when tried again (docs/errors.md): an explicit boolean
// `retryable` member decides; else communication errors with status 408, 429 or >= 500 and
// timeouts are transient; everything else (validation, expression, configuration,
// authentication, authorization, other 4xx, runtime, raised errors) is permanent.
bool IsTransient(const Json& error);

// The last segment of an error type URI ("communication"), or the type itself.
std::string_view ErrorTypeName(std::string_view type);

}  // namespace baton::engine
