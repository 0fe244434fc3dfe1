#include "testing/http_fixture.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace baton::testing {
namespace {

// Requests larger than this are answered 413 and the connection is closed.
constexpr size_t kMaxRequestBytes = 64 << 20;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// One client connection: bytes read but not yet parsed, bytes to write.
struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  bool sent_continue = false;
  bool close_after_write = false;
};

enum class Parse { kNeedMore, kDone, kBad };

// Decodes a chunked body starting at `pos` of `buf`. On kDone sets *body and *end (the
// offset just past the final CRLF of the trailer section).
Parse DecodeChunked(const std::string& buf, size_t pos, std::string* body, size_t* end) {
  body->clear();
  while (true) {
    size_t line_end = buf.find("\r\n", pos);
    if (line_end == std::string::npos) return Parse::kNeedMore;
    std::string size_text = buf.substr(pos, line_end - pos);
    size_t semi = size_text.find(';');
    if (semi != std::string::npos) size_text.resize(semi);
    size_text = Trim(size_text);
    if (size_text.empty()) return Parse::kBad;
    char* parse_end = nullptr;
    unsigned long long size = std::strtoull(size_text.c_str(), &parse_end, 16);
    if (*parse_end != '\0' || size > kMaxRequestBytes) return Parse::kBad;
    pos = line_end + 2;
    if (size == 0) {
      // Trailer fields until an empty line.
      while (true) {
        size_t trailer_end = buf.find("\r\n", pos);
        if (trailer_end == std::string::npos) return Parse::kNeedMore;
        bool empty = trailer_end == pos;
        pos = trailer_end + 2;
        if (empty) {
          *end = pos;
          return Parse::kDone;
        }
      }
    }
    if (buf.size() < pos + size + 2) return Parse::kNeedMore;
    body->append(buf, pos, size);
    pos += size;
    if (buf.compare(pos, 2, "\r\n") != 0) return Parse::kBad;
    pos += 2;
  }
}

}  // namespace

struct HttpFixture::Impl {
  std::map<std::pair<std::string, std::string>, Handler> routes;  // (method, path)
  Handler fallback;

  int listen_fd = -1;
  int wake_fds[2] = {-1, -1};  // Stop() writes to [1]
  int port = 0;
  std::thread thread;

  mutable std::mutex mu;
  std::vector<FixtureRequest> requests;  // guarded by mu

  void Serve();
  // Parses and answers every complete request buffered on `c`. Returns false when the
  // connection must be closed right away (malformed input).
  bool HandleInput(Connection& c);
  FixtureResponse Dispatch(const FixtureRequest& request);
};

FixtureResponse HttpFixture::Impl::Dispatch(const FixtureRequest& request) {
  auto it = routes.find({request.method, request.path});
  if (it == routes.end()) it = routes.find({"*", request.path});
  if (it != routes.end()) return it->second(request);
  if (fallback) return fallback(request);
  FixtureResponse not_found;
  not_found.status = 404;
  not_found.headers["Content-Type"] = "application/json";
  not_found.body = R"({"code":404})";
  return not_found;
}

bool HttpFixture::Impl::HandleInput(Connection& c) {
  while (!c.close_after_write) {
    size_t header_end = c.in.find("\r\n\r\n");
    if (header_end == std::string::npos) {
      if (c.in.size() > kMaxRequestBytes) return false;
      return true;
    }
    FixtureRequest request;
    std::string_view head(c.in.data(), header_end);
    size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return false;
    request.method = std::string(request_line.substr(0, sp1));
    request.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    std::string version(request_line.substr(sp2 + 1));
    size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);

    size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string_view::npos) next = head.size();
      std::string_view line = head.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name = Lower(std::string(line.substr(0, colon)));
        std::string value = Trim(line.substr(colon + 1));
        auto [it, inserted] = request.headers.emplace(name, value);
        if (!inserted) it->second += ", " + value;
      }
      pos = next + 2;
    }

    size_t body_start = header_end + 4;
    size_t request_end = body_start;
    auto te = request.headers.find("transfer-encoding");
    auto cl = request.headers.find("content-length");
    auto expect = request.headers.find("expect");
    if (te != request.headers.end() && Lower(te->second).find("chunked") != std::string::npos) {
      Parse p = DecodeChunked(c.in, body_start, &request.body, &request_end);
      if (p == Parse::kBad) return false;
      if (p == Parse::kNeedMore) {
        if (expect != request.headers.end() && !c.sent_continue) {
          c.out += "HTTP/1.1 100 Continue\r\n\r\n";
          c.sent_continue = true;
        }
        return true;
      }
    } else if (cl != request.headers.end()) {
      char* parse_end = nullptr;
      unsigned long long length = std::strtoull(cl->second.c_str(), &parse_end, 10);
      if (*parse_end != '\0' || length > kMaxRequestBytes) return false;
      if (c.in.size() < body_start + length) {
        if (expect != request.headers.end() && !c.sent_continue) {
          c.out += "HTTP/1.1 100 Continue\r\n\r\n";
          c.sent_continue = true;
        }
        return true;
      }
      request.body = c.in.substr(body_start, length);
      request_end = body_start + length;
    }
    c.in.erase(0, request_end);
    c.sent_continue = false;

    std::string connection = Lower(
        request.headers.count("connection") != 0 ? request.headers["connection"] : std::string());
    bool keep_alive = version == "HTTP/1.1" ? connection.find("close") == std::string::npos
                                            : connection.find("keep-alive") != std::string::npos;
    {
      std::lock_guard<std::mutex> lock(mu);
      requests.push_back(request);
    }
    FixtureResponse response = Dispatch(request);

    std::string out =
        "HTTP/1.1 " + std::to_string(response.status) + " " + Reason(response.status) + "\r\n";
    bool has_length = false;
    for (const auto& [name, value] : response.headers) {
      std::string lower = Lower(name);
      if (lower == "content-length") has_length = true;
      if (lower == "connection") continue;
      out += name + ": " + value + "\r\n";
    }
    if (!has_length) out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    out += "\r\n";
    if (request.method != "HEAD") out += response.body;
    c.out += out;
    if (!keep_alive) c.close_after_write = true;
  }
  return true;
}

void HttpFixture::Impl::Serve() {
  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  char buf[16384];
  while (true) {
    fds.clear();
    fds.push_back({wake_fds[0], POLLIN, 0});
    fds.push_back({listen_fd, POLLIN, 0});
    for (const Connection& c : conns) {
      short events = c.close_after_write ? 0 : POLLIN;
      if (!c.out.empty()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
    }
    int n = poll(fds.data(), fds.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;  // Stop()

    std::vector<bool> dead(conns.size(), false);
    for (size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      short revents = fds[i + 2].revents;
      if (revents == 0) continue;
      if ((revents & POLLIN) != 0) {
        while (true) {
          ssize_t got = recv(c.fd, buf, sizeof(buf), 0);
          if (got > 0) {
            c.in.append(buf, static_cast<size_t>(got));
            continue;
          }
          if (got == 0) {
            // Peer closed: answer what is complete, then drop the connection.
            c.close_after_write = true;
            if (c.out.empty() && c.in.empty()) dead[i] = true;
          } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            dead[i] = true;
          }
          break;
        }
        if (!dead[i]) {
          bool was_closing = c.close_after_write;
          c.close_after_write = false;
          if (!HandleInput(c)) {
            dead[i] = true;
          } else if (was_closing) {
            c.close_after_write = true;
          }
        }
      } else if ((revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 && (revents & POLLOUT) == 0) {
        dead[i] = true;
      }
      if (!dead[i] && !c.out.empty()) {
        while (!c.out.empty()) {
          ssize_t sent = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
          if (sent > 0) {
            c.out.erase(0, static_cast<size_t>(sent));
          } else {
            if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
              dead[i] = true;
            }
            break;
          }
        }
      }
      if (!dead[i] && c.close_after_write && c.out.empty()) dead[i] = true;
    }
    for (size_t i = conns.size(); i-- > 0;) {
      if (dead[i]) {
        close(conns[i].fd);
        conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }

    if ((fds[1].revents & POLLIN) != 0) {
      while (true) {
        int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        Connection c;
        c.fd = fd;
        conns.push_back(std::move(c));
      }
    }
  }
  for (Connection& c : conns) close(c.fd);
}

HttpFixture::HttpFixture() : impl_(std::make_unique<Impl>()) {}

HttpFixture::~HttpFixture() { Stop(); }

void HttpFixture::Route(const std::string& method, const std::string& path, Handler handler) {
  impl_->routes[{method, path}] = std::move(handler);
}

void HttpFixture::Fallback(Handler handler) { impl_->fallback = std::move(handler); }

bool HttpFixture::Start() {
  if (impl_->thread.joinable()) return false;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, SOMAXCONN) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      pipe2(impl_->wake_fds, O_CLOEXEC) != 0) {
    close(fd);
    return false;
  }
  SetNonBlocking(fd);
  impl_->listen_fd = fd;
  impl_->port = ntohs(addr.sin_port);
  impl_->thread = std::thread([this] { impl_->Serve(); });
  return true;
}

void HttpFixture::Stop() {
  if (impl_->thread.joinable()) {
    char byte = 1;
    ssize_t ignored = write(impl_->wake_fds[1], &byte, 1);
    (void)ignored;
    impl_->thread.join();
  }
  for (int* fd : {&impl_->listen_fd, &impl_->wake_fds[0], &impl_->wake_fds[1]}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

int HttpFixture::port() const { return impl_->port; }

std::string HttpFixture::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

std::vector<FixtureRequest> HttpFixture::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

}  // namespace baton::testing
