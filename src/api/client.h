// ApiClient: a small blocking HTTP/1.1 client for baton's REST API (docs/cli.md), used by
// the CLI's client verbs (`baton start`, `ls`, `get` ...).
//
// It sends one request at a time and returns the answer as it came: any HTTP status is a
// successful Result (a 404 problem+json is an answer, not a transport failure). A Status is
// returned only when no answer arrived:
//   * kUnavailable: the server cannot be reached (connection refused, unknown host, reset);
//     the message names the URL, e.g. "cannot reach baton server at http://127.0.0.1:8080:
//     connection refused (is `baton serve` running?)";
//   * kDeadlineExceeded: no complete answer within ClientOptions::timeout_ms;
//   * kInvalidArgument: the base URL is not an http(s) URL.
//
// Thread-safety: not thread-safe; use one ApiClient per thread. The connection is kept
// open between requests (HTTP keep-alive) and closed by the destructor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace baton::api {

struct ClientOptions {
  // Whole-request limit (connect, send, wait for and read the answer), in milliseconds.
  int64_t timeout_ms = 30'000;
};

struct ApiResponse {
  int status = 0;            // HTTP status code
  std::string content_type;  // e.g. "application/problem+json"; empty if the server sent none
  std::string body;
};

class ApiClient {
 public:
  // `base_url` is the server's root, e.g. "http://127.0.0.1:8080" (a trailing slash is
  // ignored; a URL without a scheme gets "http://").
  explicit ApiClient(std::string base_url, ClientOptions options = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // `path` starts with '/' and may carry a query: "/api/v1/instances?status=running".
  // The caller percent-encodes path segments and query values.
  Result<ApiResponse> Get(const std::string& path);
  Result<ApiResponse> Post(const std::string& path, const std::string& body,
                           const std::string& content_type = "application/json");

  // The normalized base URL (no trailing slash).
  const std::string& base_url() const { return base_url_; }

 private:
  struct Impl;

  Result<ApiResponse> Perform(bool post, const std::string& path, const std::string& body,
                              const std::string& content_type);

  std::string base_url_;
  const ClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::api
