// The test HTTP server itself, spoken to over raw sockets: keep-alive, pipelining, chunked
// request bodies and Connection: close.
#include "testing/http_fixture.h"

#include <string>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace baton::testing {
namespace {

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void Send(const std::string& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `count` occurrences of `marker` arrived, EOF, or 10 s without data.
  std::string ReadUntil(const std::string& marker, int count, bool* eof = nullptr) {
    std::string got;
    while (Occurrences(got, marker) < count) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 10'000) <= 0) break;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        if (eof != nullptr) *eof = true;
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  // True when the server closed the connection (within 10 s).
  bool ClosedByPeer() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 10'000) <= 0) return false;
    char c;
    return recv(fd_, &c, 1, 0) <= 0;  // FIN, or RST for a never-accepted connection
  }

 private:
  static int Occurrences(const std::string& text, const std::string& marker) {
    int n = 0;
    for (size_t pos = text.find(marker); pos != std::string::npos;
         pos = text.find(marker, pos + marker.size())) {
      ++n;
    }
    return n;
  }
  int fd_ = -1;
  bool connected_ = false;
};

class HttpFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_.Route("POST", "/echo", [](const FixtureRequest& req) {
      FixtureResponse r;
      r.headers["Content-Type"] = "text/plain";
      r.body = "[" + req.body + "]";
      return r;
    });
    fixture_.Route("*", "/any", [](const FixtureRequest& req) {
      FixtureResponse r;
      r.body = req.method + " " + req.query;
      return r;
    });
    ASSERT_TRUE(fixture_.Start());
    ASSERT_GT(fixture_.port(), 0);
  }

  HttpFixture fixture_;
};

TEST_F(HttpFixtureTest, PipelinedKeepAliveRequests) {
  RawClient client(fixture_.port());
  ASSERT_TRUE(client.connected());
  client.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /any?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "PATCH /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  // The last response's body ends the stream of three responses.
  std::string got = client.ReadUntil(R"({"code":404})", 1);
  EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos) << got;
  EXPECT_NE(got.find("[hello]"), std::string::npos) << got;
  EXPECT_NE(got.find("GET a=1"), std::string::npos) << got;
  EXPECT_NE(got.find("HTTP/1.1 404 Not Found"), std::string::npos) << got;
  std::vector<FixtureRequest> seen = fixture_.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].headers["content-length"], "5");
  EXPECT_EQ(seen[1].target, "/any?a=1");
  EXPECT_EQ(seen[1].path, "/any");
  EXPECT_EQ(seen[1].query, "a=1");
  EXPECT_EQ(seen[2].method, "PATCH");
}

TEST_F(HttpFixtureTest, ChunkedBodyInPieces) {
  RawClient client(fixture_.port());
  ASSERT_TRUE(client.connected());
  client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
  client.Send("3;ext=1\r\nefg\r\n0\r\nX-Trailer: t\r\n\r\n");
  std::string got = client.ReadUntil("[abcdefg]", 1);
  EXPECT_NE(got.find("[abcdefg]"), std::string::npos) << got;
}

TEST_F(HttpFixtureTest, ExpectContinueGetsAnInterimResponse) {
  RawClient client(fixture_.port());
  ASSERT_TRUE(client.connected());
  client.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  std::string interim = client.ReadUntil("100 Continue\r\n\r\n", 1);
  EXPECT_NE(interim.find("HTTP/1.1 100 Continue"), std::string::npos) << interim;
  client.Send("ok");
  std::string got = client.ReadUntil("[ok]", 1);
  EXPECT_NE(got.find("[ok]"), std::string::npos) << got;
}

TEST_F(HttpFixtureTest, ConnectionCloseIsHonoured) {
  RawClient client(fixture_.port());
  ASSERT_TRUE(client.connected());
  client.Send("GET /any HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  bool eof = false;
  std::string got = client.ReadUntil("never-there", 1, &eof);
  EXPECT_TRUE(eof);
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  EXPECT_NE(got.find("GET "), std::string::npos) << got;
}

TEST_F(HttpFixtureTest, MalformedRequestClosesTheConnection) {
  RawClient client(fixture_.port());
  ASSERT_TRUE(client.connected());
  client.Send("POST /echo HTTP/1.1\r\nContent-Length: nope\r\n\r\n");
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(HttpFixtureTest, StopWithOpenConnectionsAndRestartability) {
  RawClient idle(fixture_.port());
  ASSERT_TRUE(idle.connected());
  std::string url = fixture_.base_url();
  EXPECT_EQ(url, "http://127.0.0.1:" + std::to_string(fixture_.port()));
  fixture_.Stop();
  fixture_.Stop();  // idempotent
  EXPECT_TRUE(idle.ClosedByPeer());
}

}  // namespace
}  // namespace baton::testing
