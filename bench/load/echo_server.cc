// baton_echo: a minimal HTTP/1.1 service for the server benchmarks (bench/server_bench.sh), the
// far end of the workflows' `call: http` tasks. One thread, one level-triggered epoll loop,
// non-blocking sockets, keep-alive; requests of one connection are answered in order.
//
// Routes (any other path → 404):
//   POST /echo          → 200 application/json, the request body ("{}" when empty)
//   GET  /echo          → 200 {}
//   POST /inc           → 200 {"v":V+1} where V is the body's integer member "v" (0 if absent);
//                         the peers' step (bench-peers/baton/echo.mjs) so results can be checked
//   ANY  /slow?ms=N     → as /echo, answered after N ms by a timer (other connections go on)
//   GET  /healthz       → 200 ok
//   GET  /stats         → 200 {"requests":N,"slow":N,"slowPending":N,"connections":N,"open":N}
//                         (slowPending: /slow answers not yet sent, i.e. calls in flight)
//
// Usage: baton_echo [PORT] [--host ADDR]   (PORT 0, the default, picks a free port)
// Prints "echo: listening on ADDR:PORT" once listening. SIGINT/SIGTERM end it; it then prints its
// request count on stderr.
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IContains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (IEquals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

struct Conn {
  int fd = -1;
  uint64_t id = 0;
  std::string in;
  size_t in_pos = 0;        // start of the first unparsed request in `in`
  size_t continue_for = 0;  // in_pos + 1 of the request a "100 Continue" was sent for
  std::string out;
  size_t out_pos = 0;
  bool waiting = false;  // a /slow answer is pending: parse nothing further until it is sent
  std::string pending;   // that answer
  bool pending_close = false;
  bool close_after = false;
  bool want_write = false;
};

struct Timer {
  int64_t due_ms;
  int fd;
  uint64_t conn_id;
  bool operator>(const Timer& o) const { return due_ms > o.due_ms; }
};

// One parsed request; views point into Conn::in (or `chunked_body`).
struct Request {
  std::string_view method, target;
  std::string_view body;
  bool close = false;
  size_t end = 0;  // offset in Conn::in just past the request
};

enum class Parse { kComplete, kIncomplete, kBad };

class EchoServer {
 public:
  int Run(const char* host, int port);

 private:
  void Accept();
  void OnReadable(Conn& c);
  void Process(Conn& c);
  Parse ParseOne(Conn& c, Request& r, bool& headers_done, bool& expect_continue);
  void Respond(Conn& c, int code, std::string_view body, bool close);
  static void AppendResponse(std::string& out, int code, std::string_view body, bool close);
  void Flush(Conn& c);
  void Close(Conn& c);
  void FireTimers();
  void UpdateEvents(Conn& c);

  int epfd_ = -1;
  int listen_fd_ = -1;
  uint64_t next_id_ = 1;
  std::vector<std::unique_ptr<Conn>> conns_;  // by fd
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::string chunked_body_;
  uint64_t requests_ = 0;
  uint64_t slow_requests_ = 0;
  uint64_t connections_ = 0;
  uint64_t open_ = 0;
  uint64_t slow_pending_ = 0;
};

std::string_view StatusText(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Error";
  }
}

void EchoServer::Respond(Conn& c, int code, std::string_view body, bool close) {
  AppendResponse(c.out, code, body, close);
  if (close) c.close_after = true;
}

void EchoServer::AppendResponse(std::string& out, int code, std::string_view body, bool close) {
  char head[160];
  int n = std::snprintf(head, sizeof head,
                        "HTTP/1.1 %d %.*s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n%s\r\n",
                        code, static_cast<int>(StatusText(code).size()), StatusText(code).data(),
                        body.size(), close ? "Connection: close\r\n" : "");
  out.append(head, static_cast<size_t>(n));
  out.append(body);
}

// Parses the request at c.in[c.in_pos..]. Handles Content-Length and chunked bodies.
Parse EchoServer::ParseOne(Conn& c, Request& r, bool& headers_done, bool& expect_continue) {
  std::string_view buf(c.in);
  buf.remove_prefix(c.in_pos);
  size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    headers_done = false;
    return buf.size() > size_t{64} * 1024 ? Parse::kBad : Parse::kIncomplete;
  }
  headers_done = true;
  std::string_view head = buf.substr(0, head_end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return Parse::kBad;
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  bool http10 = version == "HTTP/1.0";
  bool keep_alive_header = false;
  r.close = false;
  size_t content_length = 0;
  bool chunked = false;
  expect_continue = false;
  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string_view::npos) e = head.size();
    std::string_view h = head.substr(pos, e - pos);
    pos = e + 2;
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = h.substr(0, colon);
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (IEquals(name, "content-length")) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), content_length);
      if (ec != std::errc()) return Parse::kBad;
    } else if (IEquals(name, "transfer-encoding")) {
      chunked = IContains(value, "chunked");
    } else if (IEquals(name, "connection")) {
      if (IContains(value, "close")) r.close = true;
      if (IContains(value, "keep-alive")) keep_alive_header = true;
    } else if (IEquals(name, "expect")) {
      expect_continue = IContains(value, "100-continue");
    }
  }
  if (http10 && !keep_alive_header) r.close = true;
  size_t body_start = head_end + 4;
  if (!chunked) {
    if (buf.size() - body_start < content_length) return Parse::kIncomplete;
    r.body = buf.substr(body_start, content_length);
    r.end = c.in_pos + body_start + content_length;
    return Parse::kComplete;
  }
  chunked_body_.clear();
  size_t p = body_start;
  for (;;) {
    size_t e = buf.find("\r\n", p);
    if (e == std::string_view::npos) return Parse::kIncomplete;
    size_t size = 0;
    std::string_view size_line = buf.substr(p, e - p);
    auto [q, ec] = std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
    if (ec != std::errc()) return Parse::kBad;
    p = e + 2;
    if (size == 0) break;
    if (buf.size() < p + size + 2) return Parse::kIncomplete;
    chunked_body_.append(buf.substr(p, size));
    p += size + 2;
  }
  // Trailers (usually none) end with an empty line.
  if (buf.size() < p + 2) return Parse::kIncomplete;
  if (buf.substr(p, 2) != "\r\n") {
    size_t e = buf.find("\r\n\r\n", p);
    if (e == std::string_view::npos) return Parse::kIncomplete;
    p = e + 2;
  }
  r.body = chunked_body_;
  r.end = c.in_pos + p + 2;
  return Parse::kComplete;
}

// The integer member "v" of a small JSON object (0 if absent or not an integer).
long long ReadV(std::string_view body) {
  size_t k = body.find("\"v\"");
  if (k == std::string_view::npos) return 0;
  size_t p = k + 3;
  while (p < body.size() && (body[p] == ' ' || body[p] == '\t' || body[p] == '\n')) ++p;
  if (p >= body.size() || body[p] != ':') return 0;
  ++p;
  while (p < body.size() && (body[p] == ' ' || body[p] == '\t' || body[p] == '\n')) ++p;
  long long v = 0;
  std::from_chars(body.data() + p, body.data() + body.size(), v);
  return v;
}

void EchoServer::Process(Conn& c) {
  while (!c.waiting && !c.close_after && c.in_pos < c.in.size()) {
    Request r;
    bool headers_done = false, expect_continue = false;
    Parse st = ParseOne(c, r, headers_done, expect_continue);
    if (st == Parse::kBad) {
      Respond(c, headers_done ? 400 : 431, "{}", true);
      break;
    }
    if (st == Parse::kIncomplete) {
      if (headers_done && expect_continue && c.continue_for != c.in_pos + 1) {
        c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
        c.continue_for = c.in_pos + 1;
      }
      break;
    }
    ++requests_;
    std::string_view path = r.target;
    std::string_view query;
    if (size_t q = path.find('?'); q != std::string_view::npos) {
      query = path.substr(q + 1);
      path = path.substr(0, q);
    }
    std::string_view echo = r.body.empty() ? std::string_view("{}") : r.body;
    if (path == "/echo") {
      Respond(c, 200, r.method == "GET" ? std::string_view("{}") : echo, r.close);
    } else if (path == "/inc") {
      char out[48];
      int n = std::snprintf(out, sizeof out, "{\"v\":%lld}", ReadV(r.body) + 1);
      Respond(c, 200, std::string_view(out, static_cast<size_t>(n)), r.close);
    } else if (path == "/slow") {
      ++slow_requests_;
      long long ms = 0;
      if (size_t m = query.find("ms="); m != std::string_view::npos) {
        std::from_chars(query.data() + m + 3, query.data() + query.size(), ms);
      }
      c.pending.clear();
      AppendResponse(c.pending, 200, echo, r.close);
      c.pending_close = r.close;
      c.waiting = true;
      ++slow_pending_;
      timers_.push(Timer{NowMs() + ms, c.fd, c.id});
    } else if (path == "/stats") {
      char out[200];
      int n = std::snprintf(out, sizeof out,
                            "{\"requests\":%llu,\"slow\":%llu,\"slowPending\":%llu,"
                            "\"connections\":%llu,\"open\":%llu}",
                            static_cast<unsigned long long>(requests_),
                            static_cast<unsigned long long>(slow_requests_),
                            static_cast<unsigned long long>(slow_pending_),
                            static_cast<unsigned long long>(connections_),
                            static_cast<unsigned long long>(open_));
      Respond(c, 200, std::string_view(out, static_cast<size_t>(n)), r.close);
    } else if (path == "/healthz") {
      Respond(c, 200, "\"ok\"", r.close);
    } else {
      Respond(c, 404, "{\"error\":\"not found\"}", r.close);
    }
    c.in_pos = r.end;
    c.continue_for = 0;
  }
  if (c.in_pos == c.in.size()) {
    c.in.clear();
    c.in_pos = 0;
  } else if (c.in_pos > size_t{64} * 1024 && c.in_pos * 2 > c.in.size()) {
    c.in.erase(0, c.in_pos);
    c.in_pos = 0;
  }
}

void EchoServer::UpdateEvents(Conn& c) {
  bool want = c.out_pos < c.out.size();
  if (want == c.want_write) return;
  c.want_write = want;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want ? uint32_t{EPOLLOUT} : uint32_t{0});
  ev.data.fd = c.fd;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void EchoServer::Flush(Conn& c) {
  while (c.out_pos < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Close(c);
    return;
  }
  if (c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
    if (c.close_after) {
      Close(c);
      return;
    }
  }
  UpdateEvents(c);
}

void EchoServer::Close(Conn& c) {
  int fd = c.fd;
  if (c.waiting) --slow_pending_;
  --open_;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  conns_[static_cast<size_t>(fd)].reset();
}

void EchoServer::Accept() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) std::perror("echo: accept");
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (conns_.size() <= static_cast<size_t>(fd)) conns_.resize(static_cast<size_t>(fd) + 1);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->id = next_id_++;
    conns_[static_cast<size_t>(fd)] = std::move(c);
    ++connections_;
    ++open_;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void EchoServer::OnReadable(Conn& c) {
  char buf[size_t{64} * 1024];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Close(c);  // EOF or error
    return;
  }
  Process(c);
  Flush(c);
}

void EchoServer::FireTimers() {
  int64_t now = NowMs();
  while (!timers_.empty() && timers_.top().due_ms <= now) {
    Timer t = timers_.top();
    timers_.pop();
    Conn* c = static_cast<size_t>(t.fd) < conns_.size() ? conns_[static_cast<size_t>(t.fd)].get()
                                                        : nullptr;
    if (c == nullptr || c->id != t.conn_id || !c->waiting) continue;
    c->out.append(c->pending);
    c->pending.clear();
    c->waiting = false;
    --slow_pending_;
    if (c->pending_close) c->close_after = true;
    Process(*c);
    Flush(*c);
  }
}

int EchoServer::Run(const char* host, int port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    std::perror("echo: socket");
    return 1;
  }
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    std::fprintf(stderr, "echo: bad address %s\n", host);
    return 2;
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
      ::listen(listen_fd_, SOMAXCONN) < 0) {
    std::perror("echo: bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  std::printf("echo: listening on %s:%d\n", host, ntohs(addr.sin_port));
  std::fflush(stdout);

  std::vector<epoll_event> events(512);
  while (!g_stop) {
    int timeout = -1;
    if (!timers_.empty()) {
      int64_t d = timers_.top().due_ms - NowMs();
      timeout = d < 0 ? 0 : static_cast<int>(d);
    }
    int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("echo: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        Accept();
        continue;
      }
      Conn* c =
          static_cast<size_t>(fd) < conns_.size() ? conns_[static_cast<size_t>(fd)].get() : nullptr;
      if (c == nullptr) continue;
      uint32_t e = events[i].events;
      if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        OnReadable(*c);
        c = conns_[static_cast<size_t>(fd)].get();
        if (c == nullptr) continue;
      }
      if (e & EPOLLOUT) Flush(*c);
    }
    FireTimers();
  }
  std::fprintf(stderr, "echo: %llu requests (%llu slow) on %llu connections\n",
               static_cast<unsigned long long>(requests_),
               static_cast<unsigned long long>(slow_requests_),
               static_cast<unsigned long long>(connections_));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: baton_echo [PORT] [--host ADDR]\n");
      return 0;
    } else if (!a.empty() && a[0] >= '0' && a[0] <= '9') {
      port = std::atoi(argv[i]);
    } else {
      std::fprintf(stderr, "baton_echo: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  // Many slow calls may be in flight at once (the recovery scenario): allow every descriptor.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  EchoServer server;
  return server.Run(host, port);
}
