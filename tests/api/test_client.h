// Raw-socket HTTP/1.1 client for the server tests: it sends exactly the bytes a test wants
// (malformed, trickled, oversized) and reads answers with a deadline, so a server that hangs
// fails the test instead of blocking it.
//
// Thread-safety: one TestClient per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace baton::api::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const;
};

class TestClient {
 public:
  TestClient() = default;
  ~TestClient();
  TestClient(TestClient&& other) noexcept;
  TestClient& operator=(TestClient&& other) noexcept;
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // Connects to 127.0.0.1:port. False on failure.
  bool Connect(uint16_t port);
  bool connected() const { return fd_ >= 0; }

  // Sends all bytes; false when the peer has closed or reset.
  bool Send(std::string_view bytes);
  void ShutdownWrite();
  void Close();

  // Reads one response (Content-Length framed, or up to EOF). nullopt on timeout, on a
  // closed connection before a full response, or on garbage.
  std::optional<HttpReply> Read(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // The next raw header block (status line and headers, without the blank line), also for
  // interim 1xx answers that Read() skips. nullopt on timeout or close.
  std::optional<std::string> ReadHead(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // True when the server closes the connection (EOF or reset) within `timeout`; bytes
  // received meanwhile are discarded.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  // Appends what arrives within `timeout` to buffer_. 0: EOF, <0: error/timeout, >0: bytes.
  long ReadSome(std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::string buffer_;
};

// One request on a new connection: sends `raw`, reads the answer.
std::optional<HttpReply> RoundTrip(uint16_t port, std::string_view raw);

// "METHOD target" with an optional body, as a complete HTTP/1.1 request.
std::string MakeRequest(std::string_view method, std::string_view target,
                        std::string_view body = "", std::string_view extra_headers = "");

}  // namespace baton::api::testing
