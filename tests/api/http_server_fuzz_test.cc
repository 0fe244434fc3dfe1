// Garbage on the socket never crashes or wedges the server (run it under ASan/UBSan: the
// debug preset). Deterministic: a fixed seed, printed on failure.
#include <chrono>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "api/fake_service.h"
#include "api/http_server.h"
#include "api/routes.h"
#include "api/test_client.h"

namespace baton::api {
namespace {

using namespace std::chrono_literals;
using testing::MakeRequest;
using testing::RoundTrip;
using testing::TestClient;

constexpr uint32_t kSeed = 20240501;

// A valid request, then a few random edits: byte flips, CR/LF and ':' insertions, cuts,
// duplicated spans, huge numbers.
std::string Mutate(std::mt19937& rng, std::string s) {
  static const char* kTokens[] = {"\r\n",
                                  "\r",
                                  "\n",
                                  ":",
                                  " ",
                                  "\0",
                                  "%",
                                  "99999999999999999999",
                                  "chunked",
                                  "Content-Length: ",
                                  "Transfer-Encoding: ",
                                  "\r\n\r\n",
                                  "HTTP/1.1",
                                  "{",
                                  "\xff"};
  int edits = 1 + static_cast<int>(rng() % 6);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    size_t pos = rng() % s.size();
    switch (rng() % 5) {
      case 0:
        s[pos] = static_cast<char>(rng() & 0xff);
        break;
      case 1:
        s.insert(pos, kTokens[rng() % (sizeof kTokens / sizeof *kTokens)]);
        break;
      case 2:
        s.erase(pos, 1 + rng() % 8);
        break;
      case 3:
        s.insert(pos, s.substr(pos, rng() % 64));
        break;
      default:
        s.resize(pos);
        break;
    }
  }
  return s;
}

std::string RandomBytes(std::mt19937& rng) {
  std::string s(1 + rng() % 3000, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

TEST(HttpServerFuzzTest, GarbageNeverCrashesTheServer) {
  Router router;
  router.Add("GET", "/hello", [](const Request&, Responder res) {
    res.Send(Response{200, "text/plain", {}, "hello"});
  });
  router.Add("POST", "/echo", [](const Request& req, Responder res) {
    res.Send(Response{200, "application/octet-stream", {}, req.body});
  });
  HttpServerOptions options;
  options.port = 0;
  options.max_body_bytes = 4096;
  options.max_header_bytes = 2048;
  options.request_timeout = 2s;
  options.idle_timeout = 2s;
  HttpServer server(options, router);
  Result<uint16_t> port = server.Start();
  ASSERT_TRUE(port.ok());

  std::mt19937 rng(kSeed);
  const std::string valid[] = {
      MakeRequest("GET", "/hello?a=1&b=%20"),
      MakeRequest("POST", "/echo", "{\"workflow\": \"a/b\"}", "Content-Type: application/json\r\n"),
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  };
  for (int i = 0; i < 400; ++i) {
    std::string bytes = i % 4 == 0 ? RandomBytes(rng) : Mutate(rng, valid[rng() % 3]);
    TestClient c;
    ASSERT_TRUE(c.Connect(*port)) << "seed " << kSeed << " iteration " << i;
    c.Send(bytes);  // the server may close before all is sent
    c.ShutdownWrite();
    // Whatever it answers, the server ends the connection once we are done sending.
    EXPECT_TRUE(c.WaitClosed(5s)) << "seed " << kSeed << " iteration " << i;
  }
  // Still serving, and nothing leaked.
  auto reply = RoundTrip(*port, MakeRequest("GET", "/hello"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.active_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server.active_connections(), 0u);
}

// Mutated API requests reach the real routes: each gets a well-formed answer that is never a
// server error (the fake service itself never fails), and the service sees only valid calls.
TEST(HttpServerFuzzTest, MutatedApiRequestsGetClientErrorsNotServerErrors) {
  testing::FakeService service;
  Router router;
  AddRoutes(router, service);
  HttpServerOptions options;
  options.port = 0;
  options.request_timeout = 2s;
  HttpServer server(options, router);
  Result<uint16_t> port = server.Start();
  ASSERT_TRUE(port.ok());

  std::mt19937 rng(kSeed + 1);
  const std::string valid[] = {
      MakeRequest(
          "POST", "/api/v1/instances?wait=1",
          R"({"workflow": "ns/wf:1.0.0", "input": {"a": [1, {"b": null}]}, "idempotencyKey": "k"})"),
      MakeRequest("GET", "/api/v1/instances?status=running&since=2024-05-01T12:00:00Z&limit=5"),
      MakeRequest("POST", "/api/v1/instances/01hx0000000000000000000000/cancel",
                  R"({"reason": "r"})"),
      MakeRequest("GET", "/api/v1/definitions/ns/wf/1.0.0"),
      MakeRequest("POST", "/api/v1/definitions", "document:\n  dsl: '1.0.0'\n"),
      MakeRequest("POST", "/api/v1/instances/01hx0000000000000000000000/retry",
                  R"({"reason": "r", "by": "ops", "input": {"a": 1}, "context": {"c": [2]}})"),
      MakeRequest("POST", "/api/v1/instances/01hx0000000000000000000000/skip",
                  R"({"reason": "r", "output": {"x": "y"}})"),
      MakeRequest("GET", "/api/v1/dead-letters?workflow=ns/wf&errorType=communication&limit=3"),
      MakeRequest("POST", "/api/v1/dead-letters/redrive",
                  R"({"filter": {"workflow": "ns/wf", "since": "2024-05-01T12:00:00Z"},)"
                  R"( "action": "retry", "reason": "r", "dryRun": true})"),
  };
  constexpr size_t kValid = sizeof(valid) / sizeof(valid[0]);
  for (int i = 0; i < 600; ++i) {
    std::string bytes = Mutate(rng, valid[rng() % kValid]);
    TestClient c;
    ASSERT_TRUE(c.Connect(*port));
    c.Send(bytes);
    c.ShutdownWrite();
    std::optional<testing::HttpReply> reply = c.Read(5s);
    if (!reply) continue;  // an incomplete request: the server closed without answering
    EXPECT_LT(reply->status, 500) << "seed " << kSeed + 1 << " iteration " << i << ": "
                                  << reply->body;
    if (reply->status >= 400) {
      EXPECT_EQ(reply->Header("content-type"), "application/problem+json") << reply->body;
    }
  }
  server.Stop();
  EXPECT_EQ(service.reentrant_calls.load(), 0);
}

}  // namespace
}  // namespace baton::api
