// URL helpers of the HTTP executor: query building, test rewrites, loopback checks and
// reference resolution (RFC 3986, through libcurl's URL API).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace baton::executors::http {

using QueryParams = std::vector<std::pair<std::string, std::string>>;
using UrlRewrites = std::vector<std::pair<std::string, std::string>>;

// curl_global_init, once per process (thread-safe). Call before the first curl handle.
void EnsureCurlInitialized();

// Appends `params` (raw, encoded here) to `url`'s query, before any fragment, joining with
// '?' or '&' as the URL needs.
std::string AppendQuery(std::string_view url, const QueryParams& params);

// Replaces the first matching prefix of `url` (in the order given).
std::string ApplyRewrites(std::string_view url, const UrlRewrites& rewrites);

struct UrlParts {
  std::string scheme;  // lower-case
  std::string host;    // without brackets for IPv6
  std::string port;    // empty when the URL has none
};

// Parses an absolute http(s) URL. Anything else is InvalidArgument.
Result<UrlParts> ParseHttpUrl(std::string_view url);

// localhost, *.localhost, 127.0.0.0/8 and ::1.
bool IsLoopbackHost(std::string_view host);

// Resolves `reference` (absolute, or relative as in an href) against the absolute `base`.
Result<std::string> ResolveUrl(std::string_view base, std::string_view reference);

// "scheme://host[:port]" of an absolute URL, or "" when it does not parse.
std::string Origin(std::string_view url);

}  // namespace baton::executors::http
