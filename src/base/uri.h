// Percent-encoding (RFC 3986), shared by the interpreter (URI templates), the HTTP executor
// (query strings) and the CLI client (request paths).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace baton {

// Percent-encodes every byte but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~) and
// those in `keep`. ASCII only, whatever the locale.
std::string PercentEncode(std::string_view text, std::string_view keep = "");

}  // namespace baton
