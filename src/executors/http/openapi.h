// OpenAPI support of the HTTP executor: parse a Swagger 2.0 / OpenAPI 3.x document and turn
// a `call: openapi` request into the equivalent `call: http` request.
//
//   openapi request: {document{endpoint}, operationId, parameters{}, output, redirect,
//                     authentication?}
//
// Parameters are placed as the operation declares them (`in`: path, query, header, cookie,
// body, formData; OAS3 requestBody). The base URL comes from `schemes`/`host`/`basePath`
// (2.0) or `servers[0]` (3.x, operation and path-item servers first), resolved against the
// document's own URI when relative. Only local `$ref`s ("#/...") are followed.
//
// Thread-safety: pure functions over caller-owned Json.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/json.h"
#include "base/status.h"
#include "executors/fault.h"

namespace baton::executors::http {

// Parses a document given as JSON or YAML (1.2 core schema for plain scalars).
Result<Json> ParseApiDocument(std::string_view text);

// The document URI of an openapi request: `document` may be a URI string, {endpoint: URI}
// or {endpoint: {uri, authentication?}}. Sets *authentication to the endpoint's policy (or
// null). Empty string when the request names no document.
std::string DocumentUri(const Json& request, Json* authentication);

// Builds the http request for `request` (shape of engine/command.h) against `document`,
// fetched from `document_uri`. Unknown operationId and missing required path parameters
// are configuration faults.
std::optional<Fault> ResolveOperation(const Json& document, std::string_view document_uri,
                                      const Json& request, Json* http_request);

}  // namespace baton::executors::http
