// HttpServer over real sockets: keep-alive, asynchronous answers from other threads, every
// limit (body, header, connections, slow clients, idle, silent handlers) and shutdown.
#include "api/http_server.h"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/fake_service.h"
#include "api/routes.h"
#include "api/test_client.h"
#include "base/json.h"

namespace baton::api {
namespace {

using ::testing::HasSubstr;
using testing::HttpReply;
using testing::MakeRequest;
using testing::RoundTrip;
using testing::TestClient;
using namespace std::chrono_literals;

// Options with short limits, so each limit is reached quickly.
HttpServerOptions TestOptions() {
  HttpServerOptions o;
  o.port = 0;
  o.max_body_bytes = 1024;
  o.max_header_bytes = 2048;
  o.max_connections = 8;
  o.request_timeout = 1s;
  o.idle_timeout = 2s;
  o.write_timeout = 2s;
  o.handler_timeout = 3s;
  o.shutdown_grace = 2s;
  return o;
}

std::string ProblemType(const HttpReply& reply) {
  Result<Json> j = Json::Parse(reply.body);
  if (!j.ok()) return "not JSON: " + reply.body;
  return std::string(j->Get("type").AsString());
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    router_.Add("GET", "/hello", [](const Request&, Responder res) {
      res.Send(Response{200, "text/plain", {{"X-Test", "1"}}, "hello"});
    });
    router_.Add("POST", "/echo", [](const Request& req, Responder res) {
      std::string body = req.body;
      body += "|" + std::string(req.Header("x-tag").value_or(""));
      for (const auto& [k, v] : req.query) body += "|" + k + "=" + v;
      res.Send(Response{200, "text/plain", {}, body});
    });
    // Answers 150 ms later from a thread the server does not know.
    router_.Add("GET", "/later", [this](const Request&, Responder res) {
      helper_.Run([res] {
        std::this_thread::sleep_for(150ms);
        res.Send(Response{200, "text/plain", {}, "later"});
      });
    });
    router_.Add("GET", "/dropped", [](const Request&, Responder) {});
    router_.Add("GET", "/silent", [this](const Request&, Responder res) {
      std::lock_guard<std::mutex> lock(mu_);
      kept_.push_back(res);
    });
  }

  ~HttpServerTest() override {
    if (server_) server_->Stop();
    // Answers after Stop() are dropped without harm.
    std::lock_guard<std::mutex> lock(mu_);
    for (Responder& r : kept_) r.Send(Response{});
  }

  uint16_t Start(HttpServerOptions options = TestOptions()) {
    server_ = std::make_unique<HttpServer>(std::move(options), router_);
    Result<uint16_t> port = server_->Start();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    return port.ok() ? *port : 0;
  }

  // Polls a condition that the server reaches asynchronously.
  template <typename Pred>
  static bool Eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  testing::CallbackThread helper_;
  std::mutex mu_;
  std::vector<Responder> kept_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesOnAnyFreePort) {
  uint16_t port = Start();
  ASSERT_NE(port, 0);
  auto reply = RoundTrip(port, MakeRequest("GET", "/hello"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "hello");
  EXPECT_EQ(reply->Header("content-type"), "text/plain");
  EXPECT_EQ(reply->Header("x-test"), "1");
  EXPECT_EQ(reply->Header("server"), "baton");
}

TEST_F(HttpServerTest, BindingABusyPortIsUnavailable) {
  uint16_t port = Start();
  HttpServerOptions o = TestOptions();
  o.port = port;
  HttpServer second(o, router_);
  Result<uint16_t> r = second.Start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot listen on 127.0.0.1:"));
  HttpServerOptions bad = TestOptions();
  bad.io_threads = 0;
  EXPECT_EQ(HttpServer(bad, router_).Start().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpServerTest, KeepAliveReusesTheConnection) {
  uint16_t port = Start();
  TestClient c;
  ASSERT_TRUE(c.Connect(port));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        c.Send(MakeRequest("POST", "/echo?n=" + std::to_string(i), "body", "X-Tag: t\r\n")));
    auto reply = c.Read();
    ASSERT_TRUE(reply) << i;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "body|t|n=" + std::to_string(i));
    EXPECT_NE(reply->Header("connection"), "close");
  }
  EXPECT_EQ(server_->active_connections(), 1u);
  // HTTP/1.0 without keep-alive closes after the answer.
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.0\r\n\r\n"));
  auto reply = c.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_TRUE(c.WaitClosed());
  c.Close();  // else the server lingers up to 2 s for our end of the connection
  EXPECT_TRUE(Eventually([&] { return server_->active_connections() == 0; }));
}

TEST_F(HttpServerTest, AnswersFromAnotherThreadArriveOnTheConnection) {
  uint16_t port = Start();
  TestClient c;
  ASSERT_TRUE(c.Connect(port));
  ASSERT_TRUE(c.Send(MakeRequest("GET", "/later")));
  auto reply = c.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "later");
  // The connection is still usable afterwards.
  ASSERT_TRUE(c.Send(MakeRequest("GET", "/hello")));
  reply = c.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "hello");
}

TEST_F(HttpServerTest, ConcurrentSlowAnswersDoNotBlockOtherClients) {
  HttpServerOptions o = TestOptions();
  o.io_threads = 4;
  uint16_t port = Start(o);
  std::vector<std::future<std::optional<HttpReply>>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::async(std::launch::async,
                              [port] { return RoundTrip(port, MakeRequest("GET", "/later")); }));
  }
  for (int i = 0; i < 10; ++i) {
    auto reply = RoundTrip(port, MakeRequest("GET", "/hello"));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
  }
  for (auto& f : slow) {
    auto reply = f.get();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "later");
  }
}

TEST_F(HttpServerTest, UnknownPathAndWrongMethodAreProblems) {
  uint16_t port = Start();
  auto missing = RoundTrip(port, MakeRequest("GET", "/nope"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->Header("content-type"), "application/problem+json");
  EXPECT_EQ(ProblemType(*missing), "urn:baton:problem:not-found");
  auto wrong = RoundTrip(port, MakeRequest("DELETE", "/hello"));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->Header("allow"), "GET");
  auto bad_query = RoundTrip(port, MakeRequest("POST", "/echo?a=%zz", "x"));
  ASSERT_TRUE(bad_query);
  EXPECT_EQ(bad_query->status, 400);
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  uint16_t port = Start();
  // Announced by Content-Length: refused before the body is read.
  TestClient c;
  ASSERT_TRUE(c.Connect(port));
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                     std::string(100, 'a')));
  auto reply = c.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(ProblemType(*reply), "urn:baton:problem:payload-too-large");
  EXPECT_THAT(reply->body, HasSubstr("exceeds the limit of 1024 bytes"));
  EXPECT_EQ(reply->Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
  // Chunked: refused once the chunks add up past the limit.
  TestClient chunked;
  ASSERT_TRUE(chunked.Connect(port));
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) req += "200\r\n" + std::string(512, 'b') + "\r\n";
  req += "0\r\n\r\n";
  ASSERT_TRUE(chunked.Send(req));
  reply = chunked.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  // A body at the limit is fine.
  auto ok = RoundTrip(port, MakeRequest("POST", "/echo", std::string(1024, 'c')));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, HugeHeaderIs431) {
  uint16_t port = Start();
  auto reply = RoundTrip(
      port, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'h') + "\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 431);
  EXPECT_EQ(ProblemType(*reply), "urn:baton:problem:header-too-large");
  auto long_target = RoundTrip(port, MakeRequest("GET", "/" + std::string(4000, 'p')));
  ASSERT_TRUE(long_target);
  EXPECT_EQ(long_target->status, 431);
}

TEST_F(HttpServerTest, MalformedRequestsAre400) {
  uint16_t port = Start();
  for (const std::string& raw :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /hello\r\n\r\n"),
        std::string("GET /hello HTTP/1.1 extra\r\n\r\n"),
        std::string("GET /hello HTTP/1.1\r\nNo colon here\r\n\r\n"),
        std::string("GET /hello HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
        std::string("G\x01T /hello HTTP/1.1\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    auto reply = RoundTrip(port, raw);
    ASSERT_TRUE(reply) << raw;
    EXPECT_EQ(reply->status, 400) << raw;
    EXPECT_EQ(ProblemType(*reply), "urn:baton:problem:malformed-request") << raw;
    EXPECT_THAT(reply->body, HasSubstr("malformed HTTP request: ")) << raw;
  }
  auto v2 = RoundTrip(port, "GET /hello HTTP/2.0\r\n\r\n");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->status, 400);
  EXPECT_THAT(v2->body, HasSubstr("bad version"));
}

TEST_F(HttpServerTest, ExpectContinueGetsAGoAhead) {
  uint16_t port = Start();
  TestClient c;
  ASSERT_TRUE(c.Connect(port));
  ASSERT_TRUE(c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  // The interim answer comes before the body is sent.
  auto interim = c.ReadHead();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->substr(0, 12), "HTTP/1.1 100");
  ASSERT_TRUE(c.Send("data"));
  auto reply = c.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "data|");
}

TEST_F(HttpServerTest, TooManyConnectionsGet503) {
  HttpServerOptions o = TestOptions();
  o.max_connections = 2;
  uint16_t port = Start(o);
  TestClient a, b;
  for (TestClient* c : {&a, &b}) {
    ASSERT_TRUE(c->Connect(port));
    ASSERT_TRUE(c->Send(MakeRequest("GET", "/hello")));
    ASSERT_TRUE(c->Read());
  }
  EXPECT_EQ(server_->active_connections(), 2u);
  TestClient third;
  ASSERT_TRUE(third.Connect(port));
  auto reply = third.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(ProblemType(*reply), "urn:baton:problem:too-many-connections");
  EXPECT_TRUE(third.WaitClosed());
  // The served connections are unaffected, and a slot frees when one closes.
  ASSERT_TRUE(a.Send(MakeRequest("GET", "/hello")));
  ASSERT_TRUE(a.Read());
  b.Close();
  ASSERT_TRUE(Eventually([&] { return server_->active_connections() == 1; }));
  auto after = RoundTrip(port, MakeRequest("GET", "/hello"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(HttpServerTest, SlowlorisIsCutOffWhileOthersAreServed) {
  uint16_t port = Start();  // request_timeout 1 s
  std::atomic<bool> cut{false};
  auto start = std::chrono::steady_clock::now();
  std::thread slow([&] {
    TestClient c;
    if (!c.Connect(port)) return;
    // A header that never ends, one byte every 250 ms: each byte arrives well within any
    // per-read timeout, but the request as a whole must not take longer than 1 s.
    std::string trickle = "GET /hello HTTP/1.1\r\nX-Slow: " + std::string(100, 'z');
    for (char ch : trickle) {
      if (!c.Send(std::string_view(&ch, 1))) break;
      if (c.WaitClosed(250ms)) break;
    }
    cut = true;
  });
  // Meanwhile other clients are served.
  int served = 0;
  while (!cut && std::chrono::steady_clock::now() - start < 5s) {
    auto reply = RoundTrip(port, MakeRequest("GET", "/hello"));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
    ++served;
    std::this_thread::sleep_for(50ms);
  }
  slow.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(cut);
  EXPECT_GT(served, 3);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(HttpServerTest, SilentNewConnectionAndIdleKeepAliveAreClosed) {
  HttpServerOptions o = TestOptions();
  o.request_timeout = 300ms;
  o.idle_timeout = 300ms;
  uint16_t port = Start(o);
  TestClient silent;
  ASSERT_TRUE(silent.Connect(port));
  EXPECT_TRUE(silent.WaitClosed(3s));
  TestClient idle;
  ASSERT_TRUE(idle.Connect(port));
  ASSERT_TRUE(idle.Send(MakeRequest("GET", "/hello")));
  ASSERT_TRUE(idle.Read());
  EXPECT_TRUE(idle.WaitClosed(3s));
  EXPECT_TRUE(Eventually([&] { return server_->active_connections() == 0; }));
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  uint16_t port = Start();
  auto reply = RoundTrip(port, MakeRequest("GET", "/dropped"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_THAT(reply->body, HasSubstr("the request handler finished without answering"));
}

TEST_F(HttpServerTest, SilentHandlerGets504AndLateAnswerIsIgnored) {
  HttpServerOptions o = TestOptions();
  o.handler_timeout = 200ms;
  uint16_t port = Start(o);
  TestClient c;
  ASSERT_TRUE(c.Connect(port));
  ASSERT_TRUE(c.Send(MakeRequest("GET", "/silent")));
  auto reply = c.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 504);
  EXPECT_TRUE(c.WaitClosed());
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(kept_.size(), 1u);
  kept_[0].Send(Response{200, "text/plain", {}, "too late"});  // dropped, no crash
}

TEST_F(HttpServerTest, StopLetsInFlightRequestsAnswerAndClosesIdleOnes) {
  uint16_t port = Start();
  TestClient idle;
  ASSERT_TRUE(idle.Connect(port));
  ASSERT_TRUE(idle.Send(MakeRequest("GET", "/hello")));
  ASSERT_TRUE(idle.Read());
  TestClient busy;
  ASSERT_TRUE(busy.Connect(port));
  ASSERT_TRUE(busy.Send(MakeRequest("GET", "/later")));
  ASSERT_TRUE(Eventually([&] { return server_->active_connections() == 2; }));
  std::thread stopper([&] { server_->Stop(); });
  auto reply = busy.Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "later");
  EXPECT_EQ(reply->Header("connection"), "close");
  busy.Close();
  EXPECT_TRUE(idle.WaitClosed());
  stopper.join();
}

TEST_F(HttpServerTest, StopGivesUpOnSilentHandlersAfterTheGrace) {
  HttpServerOptions o = TestOptions();
  o.shutdown_grace = 200ms;
  uint16_t port = Start(o);
  TestClient c;
  ASSERT_TRUE(c.Connect(port));
  ASSERT_TRUE(c.Send(MakeRequest("GET", "/silent")));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu_);
    return kept_.size() == 1;
  }));
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, RoutesOverHttpWithAsyncService) {
  testing::FakeService service;
  service.async_delay = 20ms;
  Router router;
  AddRoutes(router, service);
  HttpServerOptions o = TestOptions();
  HttpServer server(o, router);
  Result<uint16_t> port = server.Start();
  ASSERT_TRUE(port.ok());
  auto reply = RoundTrip(*port, MakeRequest("POST", "/api/v1/instances?wait=1",
                                            R"({"workflow": "ns/wf", "input": {}})",
                                            "Content-Type: application/json\r\n"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 201);
  EXPECT_THAT(reply->body, HasSubstr("\"status\":\"completed\""));
  auto bad = RoundTrip(*port, MakeRequest("POST", "/api/v1/instances", "{\"workflow\":"));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("line 1, column"));
  server.Stop();
  EXPECT_EQ(service.reentrant_calls.load(), 0);
}

}  // namespace
}  // namespace baton::api
