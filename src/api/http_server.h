// HttpServer: baton's HTTP/1.1 server (Boost.Beast over Asio), which hands every complete
// request to a Router and writes back what the handler's Responder sends.
//
// Connections are kept alive (no pipelining: one request at a time per connection). Every
// limit below answers with an RFC 7807 problem and closes the connection, or just closes it
// when the client is too slow to deserve an answer:
//   body larger than max_body_bytes         → 413
//   request line + headers > max_header_bytes → 431
//   more than max_connections open           → 503 to the newcomer
//   malformed request (also HTTP versions other than 1.0 and 1.1) → 400
//   a request not complete within request_timeout of its first byte (of the accept, for a
//   connection's first request)             → closed (slowloris defence)
//   no new request within idle_timeout        → closed (keep-alive idle)
//   response not written within write_timeout → closed
//   handler silent for handler_timeout        → 504
// A handler that drops its Responder without answering yields a 500 (see api/http.h).
//
// Threads: Start() runs io_threads threads over one io_context. Each connection has its own
// strand; handlers run on it, and a Responder used from any other thread posts the answer
// back to it. Stop() and the destructor must not run on an io thread (i.e. not in a
// handler): they wait for those threads.
//
// Ownership: the Router is borrowed and must outlive the server. A server starts once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/router.h"
#include "base/status.h"

namespace baton::api {

struct HttpServerOptions {
  // Address to bind: an IP literal or a host name resolved once at Start().
  std::string host = "127.0.0.1";
  // 0 = any free port (Start() returns the one bound).
  uint16_t port = 8080;
  // Threads running the io_context. Handlers call the service's synchronous reads on
  // them, so more threads keep slow reads from delaying other connections.
  int io_threads = 1;

  // Largest request body accepted (Content-Length or the sum of chunks): 8 MiB.
  size_t max_body_bytes = size_t{8} << 20;
  // Largest request line plus header fields: 16 KiB.
  size_t max_header_bytes = size_t{16} << 10;
  // Open connections served at once; the next ones get a 503 and are closed.
  size_t max_connections = 1024;

  // From the first byte of a request to its last (from the accept for a connection's first
  // request): a client trickling bytes is cut off, however steadily it sends.
  std::chrono::milliseconds request_timeout{30'000};
  // Wait for the first byte of the next request on a kept-alive connection.
  std::chrono::milliseconds idle_timeout{60'000};
  // To write one response; a client that does not read is cut off.
  std::chrono::milliseconds write_timeout{30'000};
  // A handler that has not answered after this gets a 504 sent for it. Must exceed the
  // longest wait a route allows (POST /api/v1/instances?wait= up to 300 s).
  std::chrono::milliseconds handler_timeout{330'000};
  // Stop() lets requests in flight answer for up to this long, then closes everything.
  std::chrono::milliseconds shutdown_grace{10'000};
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Router& router);
  // Stops the server if it is running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port, starts the io threads and accepts. Returns the bound port.
  // InvalidArgument for a bad option or host, or when called twice; Unavailable when the
  // address cannot be bound (in use, no permission).
  Result<uint16_t> Start();

  // Stops accepting, closes idle connections, lets requests in flight answer for up to
  // shutdown_grace (their connections close after the answer), then closes the rest and
  // joins the io threads. Idempotent. REQUIRES: not called on an io thread.
  void Stop();

  // Connections open right now (served ones, not the ones being turned away). Any thread.
  size_t active_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton::api
