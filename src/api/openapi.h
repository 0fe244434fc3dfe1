// The OpenAPI 3.0 document of baton's REST API, served at GET /api/v1/openapi.json.
//
// The text is src/api/openapi.json, embedded at build time: the top-level CMakeLists.txt
// turns it into a generated openapi_document.cc (via src/api/embed_openapi.cmake) that
// defines OpenApiDocument(). Edit the JSON file, never the generated source.
#pragma once

#include <string_view>

namespace baton::api {

// Static storage; valid for the life of the process.
std::string_view OpenApiDocument();

}  // namespace baton::api
