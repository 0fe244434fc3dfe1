// FixtureRoutes: what the fixture server answers in place of the third-party hosts that CTK
// scenarios call (petstore.swagger.io and httpbin.org), as tabled in IMPLEMENTERS-NOTES.md
// "Offline plan". One pure function over a request, so that the table is testable without
// sockets; ctk_main.cc installs it as the HttpFixture's fallback handler.
//
// Thread-safety: plain functions; safe from the fixture's server thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "testing/http_fixture.h"

namespace baton::conformance {

// Answers one request:
//   GET /v2/pet/findByStatus?status=available     200 [Milou, Rantanplan] (other status: [])
//   GET /v2/pet/1, /v2/pet/2                      200 the pet
//   GET /v2/pet/getPetByName/Milou                404 {"code":404,"type":"unknown",...}
//   GET /v2/swagger.json                          200 `swagger_template`, "@HOST@" → `host`
//   GET /basic-auth/{user}/{password}             200 with the exact Basic credentials, else 401
//   a known path with another method              405
//   anything else                                 404 {"code":404}
// `host` is "127.0.0.1:<port>" of the fixture.
testing::FixtureResponse HandleCtkRequest(const testing::FixtureRequest& request,
                                          std::string_view host, std::string_view swagger_template);

// The query's parameters in order, percent-decoded ('+' is a space): "a=1&a=2&b" →
// {{"a","1"},{"a","2"},{"b",""}}.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

// RFC 3986 percent-decoding; malformed escapes are kept as they are.
std::string PercentDecode(std::string_view text, bool plus_is_space);

// RFC 4648 base64 with padding.
std::string Base64Encode(std::string_view bytes);

}  // namespace baton::conformance
