// ApiClient (api/client.h) against the fixture HTTP server: requests as sent, answers as
// received, and the errors of a server that is not there or does not answer.
#include <string>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/client.h"
#include "testing/http_fixture.h"

namespace baton::api {
namespace {

using testing::FixtureRequest;
using testing::FixtureResponse;
using testing::HttpFixture;

FixtureResponse JsonAnswer(int status, std::string body, std::string type = "application/json") {
  FixtureResponse response;
  response.status = status;
  response.headers["Content-Type"] = std::move(type);
  response.body = std::move(body);
  return response;
}

// A TCP socket bound to 127.0.0.1:<ephemeral>, listening or not, that never accepts.
class SilentSocket {
 public:
  explicit SilentSocket(bool listening) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    if (listening) listen(fd_, 4);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentSocket() { close(fd_); }
  SilentSocket(const SilentSocket&) = delete;
  SilentSocket& operator=(const SilentSocket&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ApiClientTest, GetReturnsStatusContentTypeAndBody) {
  HttpFixture server;
  server.Route("GET", "/api/v1/instances/abc", [](const FixtureRequest&) {
    return JsonAnswer(200, R"({"id":"abc","status":"running"})");
  });
  ASSERT_TRUE(server.Start());
  ApiClient client(server.base_url());
  auto response = client.Get("/api/v1/instances/abc");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_EQ(response->body, R"({"id":"abc","status":"running"})");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].body, "");
  EXPECT_NE(requests[0].headers["accept"].find("application/problem+json"), std::string::npos);
}

TEST(ApiClientTest, PostSendsBodyContentTypeAndQuery) {
  HttpFixture server;
  server.Route("POST", "/api/v1/instances",
               [](const FixtureRequest&) { return JsonAnswer(201, R"({"id":"i-1"})"); });
  ASSERT_TRUE(server.Start());
  ApiClient client(server.base_url());
  auto response = client.Post("/api/v1/instances?wait=5", R"({"workflow":"a/b"})");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"id":"i-1"})");

  auto yaml = client.Post("/api/v1/instances", "document: {}\n", "application/yaml");
  ASSERT_TRUE(yaml.ok());

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/api/v1/instances");
  EXPECT_EQ(requests[0].query, "wait=5");
  EXPECT_EQ(requests[0].body, R"({"workflow":"a/b"})");
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  EXPECT_EQ(requests[0].headers.count("expect"), 0u);
  EXPECT_EQ(requests[1].headers["content-type"], "application/yaml");
  EXPECT_EQ(requests[1].body, "document: {}\n");
}

TEST(ApiClientTest, PostWithAnEmptyBodySendsContentLengthZero) {
  HttpFixture server;
  server.Route("POST", "/api/v1/instances/x/resume",
               [](const FixtureRequest&) { return JsonAnswer(200, "{}"); });
  ASSERT_TRUE(server.Start());
  ApiClient client(server.base_url());
  ASSERT_TRUE(client.Post("/api/v1/instances/x/resume", "").ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers["content-length"], "0");
}

TEST(ApiClientTest, ErrorStatusesAreAnswersNotFailures) {
  HttpFixture server;
  server.Route("GET", "/api/v1/instances/nope", [](const FixtureRequest&) {
    return JsonAnswer(404, R"({"title":"Not Found","status":404,"detail":"no instance nope"})",
                      "application/problem+json");
  });
  server.Route("GET", "/boom", [](const FixtureRequest&) { return JsonAnswer(503, ""); });
  ASSERT_TRUE(server.Start());
  ApiClient client(server.base_url() + "/");  // a trailing slash is ignored
  auto missing = client.Get("/api/v1/instances/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->content_type, "application/problem+json");
  EXPECT_NE(missing->body.find("no instance nope"), std::string::npos);
  auto unavailable = client.Get("/boom");
  ASSERT_TRUE(unavailable.ok());
  EXPECT_EQ(unavailable->status, 503);
  EXPECT_EQ(unavailable->body, "");
}

TEST(ApiClientTest, OneClientSendsManyRequests) {
  HttpFixture server;
  server.Route("GET", "/healthz",
               [](const FixtureRequest&) { return JsonAnswer(200, R"({"ok":true})"); });
  ASSERT_TRUE(server.Start());
  ApiClient client(server.base_url());
  for (int i = 0; i < 3; ++i) {
    auto response = client.Get("/healthz");
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ApiClientTest, AUrlWithoutSchemeMeansHttp) {
  HttpFixture server;
  server.Route("GET", "/readyz", [](const FixtureRequest&) { return JsonAnswer(200, "{}"); });
  ASSERT_TRUE(server.Start());
  ApiClient client("127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(client.base_url(), server.base_url());
  auto response = client.Get("/readyz");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
}

TEST(ApiClientTest, ConnectionRefusedSaysWhereAndWhatToCheck) {
  SilentSocket closed(/*listening=*/false);  // bound, not listening: connections are refused
  ApiClient client(closed.url());
  auto response = client.Get("/api/v1/instances");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(response.status().message(), "cannot reach baton server at " + closed.url() +
                                             ": connection refused (is `baton serve` running?)");
}

TEST(ApiClientTest, AServerThatDoesNotAnswerTimesOut) {
  SilentSocket silent(/*listening=*/true);  // accepts into the backlog, never answers
  ApiClient client(silent.url(), ClientOptions{200});
  auto response = client.Get("/api/v1/instances");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(response.status().message(),
            "baton server at " + silent.url() + " did not answer within 200 ms");
}

TEST(ApiClientTest, RejectsNonHttpUrls) {
  ApiClient client("ftp://127.0.0.1:21");
  auto response = client.Get("/x");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(response.status().message().find("only http:// and https://"), std::string::npos);
}

}  // namespace
}  // namespace baton::api
