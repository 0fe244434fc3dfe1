#include "api/test_client.h"

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace baton::api::testing {

namespace {

using Clock = std::chrono::steady_clock;

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

}  // namespace

std::string HttpReply::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

TestClient::~TestClient() { Close(); }

TestClient::TestClient(TestClient&& other) noexcept
    : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

TestClient& TestClient::operator=(TestClient&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

bool TestClient::Connect(uint16_t port) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Close();
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool TestClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void TestClient::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void TestClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

long TestClient::ReadSome(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return -1;
  char chunk[16384];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n < 0) return -1;
  buffer_.append(chunk, static_cast<size_t>(n));
  return static_cast<long>(n);
}

std::optional<HttpReply> TestClient::Read(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  const auto deadline = Clock::now() + timeout;
  auto left = [&] {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return d.count() < 0 ? std::chrono::milliseconds(0) : d;
  };
  bool eof = false;
  // Skips interim 1xx answers (100 Continue).
  for (;;) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (eof || left().count() == 0) return std::nullopt;
      long n = ReadSome(left());
      if (n < 0) return std::nullopt;
      if (n == 0) eof = true;
    }
    HttpReply reply;
    std::string_view head(buffer_.data(), end);
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) return std::nullopt;
    reply.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string_view::npos) next = head.size();
      std::string_view line = head.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        reply.headers[Lower(std::string(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
      }
      pos = next + 2;
    }
    buffer_.erase(0, end + 4);
    if (reply.status >= 100 && reply.status < 200) continue;
    std::string length = reply.Header("content-length");
    if (!length.empty()) {
      size_t want = std::stoul(length);
      while (buffer_.size() < want) {
        if (eof || left().count() == 0) return std::nullopt;
        long n = ReadSome(left());
        if (n < 0) return std::nullopt;
        if (n == 0) eof = true;
      }
      reply.body = buffer_.substr(0, want);
      buffer_.erase(0, want);
    } else {
      while (!eof && left().count() > 0) {
        long n = ReadSome(left());
        if (n <= 0) eof = true;
      }
      reply.body = std::move(buffer_);
      buffer_.clear();
    }
    return reply;
  }
}

std::optional<std::string> TestClient::ReadHead(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  const auto deadline = Clock::now() + timeout;
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || ReadSome(left) <= 0) return std::nullopt;
  }
  std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  return head;
}

bool TestClient::WaitClosed(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready <= 0) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return true;  // EOF or reset
  }
}

std::optional<HttpReply> RoundTrip(uint16_t port, std::string_view raw) {
  TestClient client;
  if (!client.Connect(port) || !client.Send(raw)) return std::nullopt;
  return client.Read();
}

std::string MakeRequest(std::string_view method, std::string_view target, std::string_view body,
                        std::string_view extra_headers) {
  std::string out = std::string(method) + " " + std::string(target) +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra_headers);
  if (!body.empty() || method == "POST") {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace baton::api::testing
