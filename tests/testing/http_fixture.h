// HttpFixture: a small HTTP/1.1 server on 127.0.0.1 with an ephemeral port, for tests.
// It stands in for third-party hosts (petstore, httpbin, echo services); it is never used
// to fake baton's own components.
//
// Thread-safety: routes are set before Start(); requests() may be read from any thread.
// The server runs on its own thread; Stop() (or the destructor) joins it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace baton::testing {

struct FixtureRequest {
  std::string method;
  std::string target;  // path and query as received, e.g. "/v2/pet/findByStatus?status=x"
  std::string path;    // without the query
  std::string query;   // after '?', undecoded
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct FixtureResponse {
  int status = 200;
  std::map<std::string, std::string> headers;  // e.g. {"Content-Type", "application/json"}
  std::string body;
};

class HttpFixture {
 public:
  using Handler = std::function<FixtureResponse(const FixtureRequest&)>;

  HttpFixture();
  ~HttpFixture();

  // Exact-path route for a method ("*" = any method). Unmatched requests get the fallback.
  void Route(const std::string& method, const std::string& path, Handler handler);
  // Handler for everything no route matched (default: 404 {"code":404}).
  void Fallback(Handler handler);

  // Binds 127.0.0.1:0 and serves on a background thread. Returns false on failure.
  bool Start();
  void Stop();
  int port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>"

  // Every request received so far, in arrival order.
  std::vector<FixtureRequest> requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::testing
