// The only translation unit that includes Boost.Beast: it is heavy to compile, and nothing
// outside this file needs to know which HTTP library serves the API.

#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__)
// GCC's ThreadSanitizer does not model std::atomic_thread_fence, which Asio uses, and says
// so with -Wtsan. For the whole file: <atomic> may come in through any include below.
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "api/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "api/problem.h"
#include "base/thread_name.h"

namespace baton::api {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// After a response that closes the connection, how long unread request bytes are drained
// before the socket closes. Closing with unread input makes the kernel send a reset, which
// can destroy our answer (a 413, say) before the client has read it.
constexpr std::chrono::seconds kLingerTimeout{2};
// Connections being turned away with a 503 at once; beyond it they are just closed.
constexpr size_t kMaxRejecting = 64;
// Pause before accepting again after the process ran out of file descriptors.
constexpr std::chrono::milliseconds kAcceptBackoff{100};
// After shutdown_grace, how long Stop() waits for forcibly closed connections to unwind.
constexpr std::chrono::seconds kForcedCloseWait{2};
constexpr size_t kReadChunk = 4096;

class Session;

// State shared by the server, its sessions and every Responder. Responders may outlive the
// server (a service can keep one in a callback), so they hold only this, a weak reference
// to their session, and nothing that belongs to the io_context; `running` (under `mu`) says
// whether the io_context still exists to post to.
struct Core {
  Core(HttpServerOptions o, Router& r) : options(std::move(o)), router(r) {}

  const HttpServerOptions options;
  Router& router;  // used on io threads only

  std::mutex mu;
  std::condition_variable sessions_changed;
  bool running = false;   // GUARDED_BY(mu): the io_context accepts posts
  bool draining = false;  // GUARDED_BY(mu): Stop() has begun; no new sessions
  // Set before `running`: a plain pointer to the io_context (no work counting), so copies
  // may be destroyed on any thread at any time, unlike strand executors.
  std::optional<net::io_context::executor_type> io;
  uint64_t next_session_id = 0;                                   // GUARDED_BY(mu)
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;  // GUARDED_BY(mu)

  std::atomic<size_t> served{0};     // sessions being served (not turned away)
  std::atomic<size_t> rejecting{0};  // sessions writing their 503
};

// Runs fn(session) on the session's strand, from any thread, unless the server has stopped
// or the session is gone. A dropped `fn` is destroyed outside the lock: it may own
// Responders, whose destructor sends (and so locks).
template <typename Fn>
void PostToSession(Core& core, std::weak_ptr<Session> weak, Fn fn);

bool IsParseError(const beast::error_code& ec) {
  static const beast::error_code kSample = http::error::bad_method;
  return ec.category() == kSample.category() && ec != http::error::end_of_stream &&
         ec != http::error::partial_message && ec != http::error::need_more &&
         ec != http::error::need_buffer && ec != http::error::unexpected_body &&
         ec != http::error::buffer_overflow && ec != http::error::stale_parser;
}

bool SafeHeaderText(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == 0; });
}

// One TCP connection. Lives as long as an asynchronous operation (or the handler timer)
// holds it; every member is used on its strand only.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Core> core, uint64_t id, bool served)
      : stream_(std::move(socket)),
        handler_timer_(stream_.get_executor()),
        core_(std::move(core)),
        options_(core_->options),
        id_(id),
        served_(served) {
    beast::error_code ec;
    tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string() + ":" + std::to_string(peer.port());
    stream_.socket().set_option(tcp::no_delay(true), ec);  // small answers, keep-alive
  }

  ~Session() {
    (served_ ? core_->served : core_->rejecting).fetch_sub(1);
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->sessions.erase(id_);
    }
    core_->sessions_changed.notify_all();
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  net::any_io_executor executor() { return stream_.get_executor(); }

  // Serves requests until the client or a limit ends the connection.
  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }

  // Answers 503 at once and closes: the server is full.
  void Reject() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->Write(ProblemResponse(MakeProblem(503, "too-many-connections", "Too many connections",
                                              "the server already serves " +
                                                  std::to_string(self->options_.max_connections) +
                                                  " connections; retry later")),
                  /*close=*/true);
    });
  }

  // Stop() has begun: close now if idle, else after the answer in progress.
  void Drain() {
    draining_ = true;
    if (phase_ == Phase::kIdle) Close();
  }

  // Stop()'s grace period is over.
  void ForceClose() { Close(); }

  // The handler's answer to request number `seq`.
  void OnResponse(uint64_t seq, Response response) {
    if (seq != seq_ || phase_ != Phase::kHandling) return;  // answered by the 504 already
    handler_timer_.cancel();
    Write(std::move(response), !keep_alive_ || draining_);
  }

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kClosing };

  void WaitForRequest() {
    if (draining_) return Close();
    phase_ = Phase::kIdle;
    if (buffer_.size() > 0) {
      // The client sent its next request before reading our answer (pipelining): serve it,
      // one at a time.
      stream_.expires_after(options_.request_timeout);
      return ReadHeader();
    }
    // A new connection's first request must be complete within request_timeout of the
    // accept; later ones get idle_timeout to begin and request_timeout from their first byte.
    stream_.expires_after(first_request_ ? options_.request_timeout : options_.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kReadChunk),
        [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnFirstBytes(ec, n); });
  }

  void OnFirstBytes(beast::error_code ec, size_t n) {
    if (ec) return Close();  // closed by the client, idle timeout, or Drain()
    buffer_.commit(n);
    if (draining_) return Close();
    if (!first_request_) stream_.expires_after(options_.request_timeout);
    ReadHeader();
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(options_.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser_->body_limit(static_cast<uint64_t>(options_.max_body_bytes));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& req = parser_->get();
    version_ = req.version();  // 10 or 11: Beast refuses other versions (bad version)
    if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
      // The client waits for our go-ahead before sending the body. The request deadline
      // keeps running through this write.
      continue_ = http::response<http::empty_body>(http::status::continue_, version_);
      return http::async_write(stream_, continue_,
                               [self = shared_from_this()](beast::error_code wec, size_t) {
                                 if (wec) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->OnRequest();
                     });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Write(
          ProblemResponse(MakeProblem(413, "payload-too-large", "Request body too large",
                                      "the request body exceeds the limit of " +
                                          std::to_string(options_.max_body_bytes) + " bytes")),
          /*close=*/true);
    }
    if (ec == http::error::header_limit) {
      return Write(
          ProblemResponse(MakeProblem(431, "header-too-large", "Request header fields too large",
                                      "the request line and header fields exceed the limit of " +
                                          std::to_string(options_.max_header_bytes) + " bytes")),
          /*close=*/true);
    }
    if (IsParseError(ec)) {
      return Write(ProblemResponse(MakeProblem(400, "malformed-request", "Malformed HTTP request",
                                               "malformed HTTP request: " + ec.message())),
                   /*close=*/true);
    }
    // Timeout (a client too slow to deserve an answer), reset, or the client hung up.
    Close();
  }

  void OnRequest() {
    http::request<http::string_body> msg = parser_->release();
    parser_.reset();
    first_request_ = false;
    keep_alive_ = msg.keep_alive();

    Request request;
    request.method = std::string(msg.method_string());
    request.target = std::string(msg.target());
    size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) {
      Result<Fields> query =
          ParseQueryString(std::string_view(request.target).substr(question + 1));
      if (!query.ok()) {
        return Write(ProblemResponse(BadRequest(query.status().message())), !keep_alive_);
      }
      request.query = std::move(query).value();
    }
    for (const auto& field : msg) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(msg.body());
    request.remote = remote_;

    phase_ = Phase::kHandling;
    const uint64_t seq = ++seq_;
    stream_.expires_never();  // the handler, not the client, is the one to wait for now
    // The pending wait also keeps this session alive while the handler works: Responders
    // hold only a weak reference, so nothing outlives the server's io_context.
    handler_timer_.expires_after(options_.handler_timeout);
    handler_timer_.async_wait([self = shared_from_this(), seq](beast::error_code ec) {
      if (!ec) self->OnHandlerTimeout(seq);
    });

    std::weak_ptr<Session> weak = shared_from_this();
    std::shared_ptr<Core> core = core_;
    Responder responder(
        [core, weak, seq](Response response) {
          PostToSession(*core, weak, [seq, response = std::move(response)](Session& s) mutable {
            s.OnResponse(seq, std::move(response));
          });
        },
        [core, weak](std::function<void()> fn) {
          PostToSession(*core, weak, [fn = std::move(fn)](Session&) mutable { fn(); });
        });
    core_->router.Handle(std::move(request), responder);
  }

  void OnHandlerTimeout(uint64_t seq) {
    if (seq != seq_ || phase_ != Phase::kHandling) return;
    Write(
        ProblemResponse(MakeProblem(504, "handler-timeout", "Handler timeout",
                                    "the server did not answer within " +
                                        std::to_string(options_.handler_timeout.count()) + " ms")),
        /*close=*/true);
  }

  void Write(Response response, bool close) {
    phase_ = Phase::kWriting;
    close_after_write_ = close;
    int status = response.status >= 100 && response.status <= 599 ? response.status : 500;
    response_ = http::response<http::string_body>();
    response_.version(version_);
    response_.result(static_cast<unsigned>(status));
    response_.set(http::field::server, "baton");
    if (!response.content_type.empty() && SafeHeaderText(response.content_type)) {
      response_.set(http::field::content_type, response.content_type);
    }
    for (const auto& [name, value] : response.headers) {
      if (!name.empty() && SafeHeaderText(name) && SafeHeaderText(value)) {
        response_.insert(name, value);
      }
    }
    response_.body() = std::move(response.body);
    response_.keep_alive(!close);
    response_.prepare_payload();
    stream_.expires_after(options_.write_timeout);
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    response_ = http::response<http::string_body>();
    if (ec) return Close();
    if (close_after_write_) return Linger();
    WaitForRequest();
  }

  // Half-closes, then reads and discards what the client still sends until it closes too
  // or kLingerTimeout passes.
  void Linger() {
    phase_ = Phase::kClosing;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTimeout);
    DrainInput();
  }

  void DrainInput() {
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->DrainInput();
                            });
  }

  void Close() {
    phase_ = Phase::kClosing;
    handler_timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer handler_timer_;
  const std::shared_ptr<Core> core_;
  const HttpServerOptions& options_;  // owned by core_
  const uint64_t id_;
  const bool served_;  // counted in core_->served, else in core_->rejecting
  std::string remote_;

  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> response_;
  std::array<char, kReadChunk> drain_{};

  Phase phase_ = Phase::kIdle;
  uint64_t seq_ = 0;  // number of the request being handled; stale answers are dropped
  unsigned version_ = 11;
  bool first_request_ = true;
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  bool draining_ = false;
};

template <typename Fn>
void PostToSession(Core& core, std::weak_ptr<Session> weak, Fn fn) {
  {
    std::lock_guard<std::mutex> lock(core.mu);
    if (core.running) {
      // First to the io_context, then onto the strand: the caller's thread holds no strand
      // executor, whose destruction after the io_context would be a use after free.
      net::post(*core.io, [weak = std::move(weak), fn = std::move(fn)]() mutable {
        if (std::shared_ptr<Session> session = weak.lock()) {
          net::post(session->executor(), [session, fn = std::move(fn)]() mutable { fn(*session); });
        }
      });
      return;
    }
  }
}

void RunIoThread(net::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      // A handler threw. Its connection answers 500 (its Responder died) and the server
      // keeps serving the others.
      std::fprintf(stderr, "baton: http server: a request handler threw: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "baton: http server: a request handler threw\n");
    }
  }
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions options, Router& router)
      : core(std::make_shared<Core>(std::move(options), router)) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      OnAccept(ec, std::move(socket));
    });
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors or memory: accepting again at once would spin.
      if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
          ec == net::error::no_memory) {
        accept_backoff.expires_after(kAcceptBackoff);
        accept_backoff.async_wait([this](beast::error_code wec) {
          if (!wec && acceptor.is_open()) Accept();
        });
        return;
      }
      return Accept();
    }
    const HttpServerOptions& options = core->options;
    std::shared_ptr<Session> session;
    bool full = core->served.load() >= options.max_connections;
    if (full && core->rejecting.load() >= kMaxRejecting) {
      beast::error_code ignored;
      socket.close(ignored);  // a flood: not even a 503
      return Accept();
    }
    {
      std::lock_guard<std::mutex> lock(core->mu);
      if (!core->draining) {
        uint64_t id = core->next_session_id++;
        session = std::make_shared<Session>(std::move(socket), core, id, !full);
        core->sessions.emplace(id, session);
        if (full) {
          core->rejecting.fetch_add(1);
        } else {
          core->served.fetch_add(1);
        }
      }
    }
    if (session) {
      if (full) {
        session->Reject();
      } else {
        session->Run();
      }
    }
    Accept();
  }

  const std::shared_ptr<Core> core;
  bool started = false;
  bool stopped = false;
  std::vector<std::thread> threads;
  // Destroyed before `core` and `threads`: with it go every pending handler and the sessions
  // they hold, which still use `core`.
  net::io_context ioc;
  tcp::acceptor acceptor{net::make_strand(ioc)};
  net::steady_timer accept_backoff{acceptor.get_executor()};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
};

HttpServer::HttpServer(HttpServerOptions options, Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

HttpServer::~HttpServer() { Stop(); }

Result<uint16_t> HttpServer::Start() {
  Impl& impl = *impl_;
  const HttpServerOptions& options = impl.core->options;
  if (impl.started) return Status::InvalidArgument("the HTTP server was already started");
  if (options.io_threads < 1 || options.io_threads > 256) {
    return Status::InvalidArgument("io_threads must be from 1 to 256");
  }
  if (options.max_connections < 1 || options.max_header_bytes < 64) {
    return Status::InvalidArgument("max_connections must be >= 1 and max_header_bytes >= 64");
  }
  for (auto t : {options.request_timeout, options.idle_timeout, options.write_timeout,
                 options.handler_timeout}) {
    if (t.count() <= 0) return Status::InvalidArgument("HTTP server timeouts must be positive");
  }

  beast::error_code ec;
  net::ip::address address = net::ip::make_address(options.host, ec);
  if (ec) {
    tcp::resolver resolver(impl.ioc);
    auto results = resolver.resolve(options.host, "", ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument("cannot resolve listen host '" + options.host +
                                     "': " + (ec ? ec.message() : "no address"));
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, options.port);
  std::string where = options.host + ":" + std::to_string(options.port);
  impl.acceptor.open(endpoint.protocol(), ec);
  if (ec) return Status::Unavailable("cannot listen on " + where + ": " + ec.message());
  impl.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    return Status::Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  uint16_t port = impl.acceptor.local_endpoint(ec).port();
  if (ec) return Status::Unavailable("cannot listen on " + where + ": " + ec.message());

  impl.started = true;
  {
    std::lock_guard<std::mutex> lock(impl.core->mu);
    impl.core->io.emplace(impl.ioc.get_executor());
    impl.core->running = true;
  }
  impl.work.emplace(impl.ioc.get_executor());
  net::post(impl.acceptor.get_executor(), [&impl] { impl.Accept(); });
  for (int i = 0; i < options.io_threads; ++i) {
    impl.threads.emplace_back([&impl] { RunIoThread(impl.ioc); });
    NameThread(impl.threads.back(), "baton-http");
  }
  return port;
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  Core& core = *impl.core;

  // 1. No new connections; idle ones close, busy ones close after their answer.
  std::vector<std::weak_ptr<Session>> sessions;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    core.draining = true;
    for (const auto& [id, weak] : core.sessions) sessions.push_back(weak);
    net::post(impl.acceptor.get_executor(), [&impl] {
      beast::error_code ignored;
      impl.acceptor.close(ignored);
      impl.accept_backoff.cancel();
    });
  }
  for (const std::weak_ptr<Session>& weak : sessions) {
    if (std::shared_ptr<Session> s = weak.lock()) {
      net::post(s->executor(), [s] { s->Drain(); });
    }
  }

  // 2. Requests in flight get shutdown_grace to answer; then everything closes.
  std::unique_lock<std::mutex> lock(core.mu);
  if (!core.sessions_changed.wait_for(lock, core.options.shutdown_grace,
                                      [&] { return core.sessions.empty(); })) {
    sessions.clear();
    for (const auto& [id, weak] : core.sessions) sessions.push_back(weak);
    lock.unlock();
    for (const std::weak_ptr<Session>& weak : sessions) {
      if (std::shared_ptr<Session> s = weak.lock()) {
        net::post(s->executor(), [s] { s->ForceClose(); });
      }
    }
    sessions.clear();
    lock.lock();
    core.sessions_changed.wait_for(lock, kForcedCloseWait, [&] { return core.sessions.empty(); });
  }
  // 3. From here on Responders drop what they are given.
  core.running = false;
  lock.unlock();

  impl.work.reset();
  impl.ioc.stop();
  for (std::thread& t : impl.threads) t.join();
  impl.threads.clear();
  beast::error_code ignored;
  impl.acceptor.close(ignored);
}

size_t HttpServer::active_connections() const { return impl_->core->served.load(); }

}  // namespace baton::api
