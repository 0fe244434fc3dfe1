// baton_load: the load generator of the server benchmarks (bench/server_bench.sh).
//
// One io_context thread drives K keep-alive HTTP/1.1 connections (Boost.Beast, C++20
// coroutines), one request in flight per connection. It measures its own CPU time
// (getrusage) so that a run can show that the load tool was not the bottleneck.
//
// Modes (run `baton_load help` for the options):
//   throughput     N starts with ?wait, C in flight; wf/s from the first start to the last
//                  completion, latency percentiles, errors
//   latency        sequential starts with ?wait after a warm-up: p50/p90/p99/max
//   start          N fire-and-forget starts (no wait); the ids can be written to a file
//   poll-complete  polls instances until every one is terminal: by id (--ids FILE) or by
//                  server-side count (--workflow W --count N)
//   count          server-side count of instances by workflow/status (paged listing)
//   http           N plain requests (--method, --path, --body): the tool's own ceiling
//
// A non-2xx answer, a transport error or an instance that did not end "completed" (or whose
// output lacks --expect) is an error; the first few are printed. Exit status 1 on any error.
// The last line of every mode is "RESULT key=value ..." for scripts.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/json/src.hpp>  // Boost.JSON header-only, in this one translation unit
#include <sys/resource.h>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string Clip(std::string_view s, size_t n = 300) {
  std::string out(s.substr(0, n));
  if (s.size() > n) out += "...";
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Options: --key value or --key=value.

class Options {
 public:
  bool Parse(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        std::fprintf(stderr, "baton_load: unexpected argument '%s'\n", a.c_str());
        return false;
      }
      a = a.substr(2);
      if (size_t eq = a.find('='); eq != std::string::npos) {
        values_[a.substr(0, eq)] = a.substr(eq + 1);
      } else if (i + 1 < argc) {
        values_[a] = argv[++i];
      } else {
        std::fprintf(stderr, "baton_load: --%s needs a value\n", a.c_str());
        return false;
      }
    }
    return true;
  }
  std::string Str(const std::string& key, const std::string& def = "") {
    used_.insert(key);
    auto it = values_.find(key);
    return it == values_.end() ? def : it->second;
  }
  int64_t Int(const std::string& key, int64_t def) {
    std::string s = Str(key);
    if (s.empty()) return def;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (end == nullptr || *end != '\0') {
      std::fprintf(stderr, "baton_load: --%s: not an integer: %s\n", key.c_str(), s.c_str());
      std::exit(2);
    }
    return v;
  }
  bool Has(const std::string& key) {
    used_.insert(key);
    return values_.count(key) != 0;
  }
  // False (after printing them) if options were given that the mode did not read.
  bool CheckAllUsed() const {
    bool ok = true;
    for (const auto& [k, v] : values_) {
      if (!used_.count(k)) {
        std::fprintf(stderr, "baton_load: unknown option --%s for this mode\n", k.c_str());
        ok = false;
      }
    }
    return ok;
  }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

// ---------------------------------------------------------------------------------------------
// Driver: K connections, each pulling jobs from a source and handing results to a sink.

struct Job {
  http::verb method = http::verb::get;
  std::string target;
  std::string body;
  size_t index = 0;
};

struct Outcome {
  beast::error_code ec;
  unsigned status = 0;
  std::string body;
  int64_t latency_ns = 0;
};

enum class Next { kJob, kWait, kDone };

class Driver {
 public:
  // Source: fill the job and return kJob, or ask to come back after `delay`, or stop.
  using Source = std::function<Next(Job& job, std::chrono::milliseconds& delay)>;
  using Sink = std::function<void(const Job& job, Outcome& outcome)>;

  Driver(tcp::endpoint endpoint, std::string host, int connections, double timeout_s)
      : io_(1), endpoint_(std::move(endpoint)), host_(std::move(host)), timeout_s_(timeout_s) {
    for (int i = 0; i < connections; ++i) sockets_.emplace_back(io_);
  }

  // Connects every connection, then runs the jobs. False if no connection could be made or
  // the run timed out.
  bool Run(Source source, Sink sink) {
    source_ = std::move(source);
    sink_ = std::move(sink);
    asio::co_spawn(io_, Main(), [](const std::exception_ptr& e) {
      if (e) std::rethrow_exception(e);
    });
    io_.run();
    return connected_ && !timed_out_;
  }

  bool timed_out() const { return timed_out_; }
  Clock::time_point first_send() const { return first_send_; }
  Clock::time_point last_done() const { return last_done_; }
  Clock::time_point started() const { return started_; }
  double cpu_start() const { return cpu_start_; }

 private:
  asio::awaitable<void> Main() {
    for (auto& s : sockets_) {
      beast::error_code ec;
      co_await s.async_connect(endpoint_, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        std::fprintf(stderr, "baton_load: cannot connect to %s:%u: %s\n",
                     endpoint_.address().to_string().c_str(), endpoint_.port(),
                     ec.message().c_str());
        co_return;
      }
      s.set_option(tcp::no_delay(true));
    }
    connected_ = true;
    started_ = Clock::now();
    cpu_start_ = CpuSeconds();
    auto deadline = std::make_shared<asio::steady_timer>(io_);
    deadline->expires_after(std::chrono::milliseconds(static_cast<int64_t>(timeout_s_ * 1000)));
    deadline->async_wait([this](beast::error_code ec) {
      if (ec) return;
      timed_out_ = true;
      std::fprintf(stderr, "baton_load: timed out after %.0f s; stopping\n", timeout_s_);
      io_.stop();
    });
    running_ = static_cast<int>(sockets_.size());
    for (size_t i = 0; i < sockets_.size(); ++i) {
      asio::co_spawn(io_, Worker(i, deadline), [](const std::exception_ptr& e) {
        if (e) std::rethrow_exception(e);
      });
    }
  }

  asio::awaitable<void> Worker(size_t idx, std::shared_ptr<asio::steady_timer> deadline) {
    tcp::socket& sock = sockets_[idx];
    beast::flat_buffer buf;
    asio::steady_timer pause(io_);
    Job job;
    for (;;) {
      std::chrono::milliseconds delay{0};
      Next next = source_(job, delay);
      if (next == Next::kDone) break;
      if (next == Next::kWait) {
        pause.expires_after(delay);
        beast::error_code ec;
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      Outcome out;
      Clock::time_point t0 = Clock::now();
      if (!sent_any_) {
        sent_any_ = true;
        first_send_ = t0;
      }
      if (!sock.is_open()) {
        co_await sock.async_connect(endpoint_, asio::redirect_error(asio::use_awaitable, out.ec));
        if (!out.ec) sock.set_option(tcp::no_delay(true), out.ec);
      }
      bool keep_alive = false;
      if (!out.ec) {
        http::request<http::string_body> req{job.method, job.target, 11};
        req.set(http::field::host, host_);
        if (job.method == http::verb::post || !job.body.empty()) {
          req.set(http::field::content_type, "application/json");
          req.body() = job.body;
        }
        req.keep_alive(true);
        req.prepare_payload();
        co_await http::async_write(sock, req, asio::redirect_error(asio::use_awaitable, out.ec));
      }
      if (!out.ec) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::uint64_t{1} << 32);
        co_await http::async_read(sock, buf, parser,
                                  asio::redirect_error(asio::use_awaitable, out.ec));
        if (!out.ec) {
          out.status = parser.get().result_int();
          keep_alive = parser.get().keep_alive();
          out.body = std::move(parser.get().body());
        }
      }
      Clock::time_point t1 = Clock::now();
      last_done_ = t1;
      out.latency_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
      if (out.ec || !keep_alive) {
        beast::error_code ignored;
        sock.shutdown(tcp::socket::shutdown_both, ignored);
        sock.close(ignored);
        buf.clear();
      }
      sink_(job, out);
    }
    beast::error_code ignored;
    sock.close(ignored);
    if (--running_ == 0) deadline->cancel();
  }

  asio::io_context io_;
  tcp::endpoint endpoint_;
  std::string host_;
  double timeout_s_;
  std::vector<tcp::socket> sockets_;
  Source source_;
  Sink sink_;
  int running_ = 0;
  bool connected_ = false;
  bool timed_out_ = false;
  bool sent_any_ = false;
  Clock::time_point started_{}, first_send_{}, last_done_{};
  double cpu_start_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Results.

struct Stats {
  std::vector<int64_t> latencies_ns;
  int64_t ok = 0;
  int64_t errors = 0;
  int printed = 0;

  void Error(const std::string& what) {
    ++errors;
    if (printed < 5) {
      std::fprintf(stderr, "baton_load: error: %s\n", what.c_str());
    } else if (printed == 5) {
      std::fprintf(stderr, "baton_load: (further errors not printed)\n");
    }
    ++printed;
  }

  double PercentileMs(double p) {
    if (latencies_ns.empty()) return 0;
    std::sort(latencies_ns.begin(), latencies_ns.end());
    size_t n = latencies_ns.size();
    size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(n) + 0.999999);
    k = std::clamp<size_t>(k, 1, n);
    return static_cast<double>(latencies_ns[k - 1]) / 1e6;
  }
};

std::string Fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// Prints the latency line, the CPU line and returns the "p50_ms=... cpu_pct=..." fields.
std::string LatencyAndCpu(Stats& st, double wall_s, double cpu_s) {
  double p50 = st.PercentileMs(50), p90 = st.PercentileMs(90), p99 = st.PercentileMs(99),
         max = st.PercentileMs(100);
  std::printf("  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (%zu samples)\n", p50, p90,
              p99, max, st.latencies_ns.size());
  double pct = wall_s > 0 ? 100.0 * cpu_s / wall_s : 0;
  std::printf("  load tool CPU: %.3f s over %.3f s = %.0f%% of one core\n", cpu_s, wall_s, pct);
  return " p50_ms=" + Fmt("%.3f", p50) + " p90_ms=" + Fmt("%.3f", p90) +
         " p99_ms=" + Fmt("%.3f", p99) + " max_ms=" + Fmt("%.3f", max) +
         " cpu_s=" + Fmt("%.3f", cpu_s) + " cpu_pct=" + Fmt("%.1f", pct);
}

// Empty if `o` is a 2xx answer describing a completed instance (whose output contains
// `expect`, compact JSON); otherwise what is wrong.
std::string CheckInstance(const Outcome& o, const std::string& expect) {
  if (o.ec) return "transport: " + o.ec.message();
  if (o.status < 200 || o.status >= 300) {
    return "HTTP " + std::to_string(o.status) + ": " + Clip(o.body);
  }
  json::error_code jec;
  json::value v = json::parse(o.body, jec);
  if (jec || !v.is_object()) return "not a JSON object: " + Clip(o.body);
  const json::value* status = v.as_object().if_contains("status");
  if (status == nullptr || !status->is_string() || status->as_string() != "completed") {
    return "instance not completed: " + Clip(o.body);
  }
  if (!expect.empty()) {
    const json::value* out = v.as_object().if_contains("output");
    std::string s = out ? json::serialize(*out) : "";
    if (s.find(expect) == std::string::npos) {
      return "output lacks '" + expect + "': " + Clip(s);
    }
  }
  return "";
}

bool IsTerminal(std::string_view status) {
  return status != "pending" && status != "running" && status != "waiting" &&
         status != "suspended" && status != "retrying" && status != "compensating";
}

// ---------------------------------------------------------------------------------------------

struct Server {
  tcp::endpoint endpoint;
  std::string host;  // Host header
};

std::optional<Server> ResolveServer(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  } else if (rest.find("://") != std::string::npos) {
    std::fprintf(stderr, "baton_load: only http:// URLs: %s\n", url.c_str());
    return std::nullopt;
  }
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, port);
    return Server{results.begin()->endpoint(), rest};
  } catch (const std::exception& e) {
    std::fprintf(stderr, "baton_load: cannot resolve %s: %s\n", rest.c_str(), e.what());
    return std::nullopt;
  }
}

std::string StartBody(const std::string& workflow, const std::string& input) {
  return "{\"workflow\":" + json::serialize(json::value(workflow)) + ",\"input\":" + input + "}";
}

struct Common {
  Server server;
  int connections = 32;
  double timeout_s = 600;
};

// Runs `count` copies of a request (`make` fills target/body) with `conc` connections and
// checks each outcome with `check` (empty = ok). Prints the summary; returns the exit code.
int RunBatch(const Common& c, const char* mode, const std::string& what, int64_t count,
             int64_t warmup, int conc, const std::function<void(Job&)>& make,
             const std::function<std::string(const Outcome&)>& check,
             const std::function<void(const Outcome&)>& on_ok = nullptr) {
  if (warmup > 0) {
    Driver w(c.server.endpoint, c.server.host, conc, c.timeout_s);
    int64_t next = 0;
    Stats ws;
    bool ran = w.Run(
        [&](Job& j, std::chrono::milliseconds&) {
          if (next >= warmup) return Next::kDone;
          j.index = static_cast<size_t>(next++);
          make(j);
          return Next::kJob;
        },
        [&](const Job&, Outcome& o) {
          std::string e = check(o);
          if (!e.empty()) ws.Error("warm-up: " + e);
        });
    if (!ran || ws.errors > 0) {
      std::printf("%s: warm-up failed (%" PRId64 " errors)\nRESULT mode=%s errors=%" PRId64 "\n",
                  mode, ws.errors, mode, ws.errors + 1);
      return 1;
    }
  }
  Driver d(c.server.endpoint, c.server.host, conc, c.timeout_s);
  Stats st;
  st.latencies_ns.reserve(static_cast<size_t>(count));
  int64_t next = 0;
  bool ran = d.Run(
      [&](Job& j, std::chrono::milliseconds&) {
        if (next >= count) return Next::kDone;
        j.index = static_cast<size_t>(next++);
        make(j);
        return Next::kJob;
      },
      [&](const Job&, Outcome& o) {
        st.latencies_ns.push_back(o.latency_ns);
        std::string e = check(o);
        if (e.empty()) {
          ++st.ok;
          if (on_ok) on_ok(o);
        } else {
          st.Error(e);
        }
      });
  double cpu = CpuSeconds() - d.cpu_start();
  int64_t missing = count - st.ok - st.errors;
  if (missing > 0) st.errors += missing;  // not answered (timeout or no connection)
  double wall = Seconds(d.last_done() - d.first_send());
  if (!ran && st.ok == 0) wall = 0;
  double rate = wall > 0 ? static_cast<double>(st.ok) / wall : 0;
  std::printf("%s: %s, %" PRId64 " requests, %d connections: %" PRId64 " ok, %" PRId64
              " errors in %.3f s = %.1f /s\n",
              mode, what.c_str(), count, conc, st.ok, st.errors, wall, rate);
  std::string fields = LatencyAndCpu(st, Seconds(Clock::now() - d.started()), cpu);
  std::printf("RESULT mode=%s count=%" PRId64 " requests=%" PRId64 " ok=%" PRId64 " errors=%" PRId64
              " seconds=%.4f rate=%.1f%s\n",
              mode, count, count + warmup, st.ok, st.errors, wall, rate, fields.c_str());
  return st.errors == 0 && ran ? 0 : 1;
}

// Pages through GET /api/v1/instances; returns the number of items, or -1 on error.
int64_t CountInstances(const Common& c, const std::string& workflow, const std::string& status) {
  Driver d(c.server.endpoint, c.server.host, 1, c.timeout_s);
  std::string base = "/api/v1/instances?limit=1000";
  if (!workflow.empty()) base += "&workflow=" + UrlEncode(workflow);
  if (!status.empty()) base += "&status=" + UrlEncode(status);
  std::string cursor;
  bool done = false, failed = false;
  int64_t total = 0;
  d.Run(
      [&](Job& j, std::chrono::milliseconds&) {
        if (done) return Next::kDone;
        j.method = http::verb::get;
        j.target = base + (cursor.empty() ? "" : "&cursor=" + UrlEncode(cursor));
        return Next::kJob;
      },
      [&](const Job&, Outcome& o) {
        done = true;
        json::error_code jec;
        json::value v;
        if (!o.ec && o.status == 200) v = json::parse(o.body, jec);
        const json::object* obj = v.if_object();
        const json::value* items = obj ? obj->if_contains("items") : nullptr;
        if (o.ec || o.status != 200 || jec || items == nullptr || !items->is_array()) {
          std::fprintf(stderr, "baton_load: listing failed: %s %u %s\n", o.ec.message().c_str(),
                       o.status, Clip(o.body).c_str());
          failed = true;
          return;
        }
        total += static_cast<int64_t>(items->as_array().size());
        const json::value* next = obj->if_contains("nextCursor");
        if (next && next->is_string() && !next->as_string().empty()) {
          cursor = std::string(next->as_string());
          done = false;
        }
      });
  return failed || d.timed_out() ? -1 : total;
}

// ---------------------------------------------------------------------------------------------

int Usage() {
  std::printf(
      "usage: baton_load MODE [--server http://127.0.0.1:8080] [--connections K] [--timeout S]\n"
      "  throughput    --workflow NS/NAME[:VER] --count N [--concurrency C] [--input JSON]\n"
      "                [--wait S] [--expect STR] [--warmup W]\n"
      "  latency       --workflow ... --count N [--input JSON] [--wait S] [--expect STR]\n"
      "                [--warmup W]   (sequential, one connection)\n"
      "  start         --workflow ... --count N [--concurrency C] [--input JSON] [--ids-out F]\n"
      "  poll-complete --ids FILE | --workflow W --count N  [--interval MS] [--concurrency C]\n"
      "  count         [--workflow W] [--status S]\n"
      "  http          [--method GET|POST] [--path /echo] [--body STR] --count N\n"
      "                [--concurrency C]\n"
      "--concurrency is the number of connections (default 32; 4 for poll-complete); --expect is\n"
      "a string the compact JSON of the instance's output must contain.\n");
  return 2;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string mode = argv[1];
  if (mode == "help" || mode == "--help" || mode == "-h") {
    Usage();
    return 0;
  }
  Options o;
  if (!o.Parse(argc, argv, 2)) return 2;
  Common c;
  auto server = ResolveServer(o.Str("server", "http://127.0.0.1:8080"));
  if (!server) return 2;
  c.server = *server;
  c.timeout_s = static_cast<double>(o.Int("timeout", 600));
  int64_t default_conc = mode == "poll-complete" ? 4 : mode == "latency" ? 1 : 32;
  int conc = static_cast<int>(o.Int("concurrency", o.Int("connections", default_conc)));
  if (conc < 1) conc = 1;
  c.connections = conc;

  if (mode == "throughput" || mode == "latency" || mode == "start") {
    std::string workflow = o.Str("workflow");
    int64_t count = o.Int("count", 1000);
    std::string input = o.Str("input", "{}");
    json::error_code jec;
    json::parse(input, jec);
    if (workflow.empty() || jec) {
      std::fprintf(stderr, "baton_load: --workflow NS/NAME and a JSON --input are needed\n");
      return 2;
    }
    std::string body = StartBody(workflow, input);
    if (mode == "start") {
      std::string ids_out = o.Str("ids-out");
      if (!o.CheckAllUsed()) return 2;
      std::vector<std::string> ids;
      int rc = RunBatch(
          c, "start", workflow, count, 0, conc,
          [&](Job& j) {
            j.method = http::verb::post;
            j.target = "/api/v1/instances";
            j.body = body;
          },
          [](const Outcome& r) -> std::string {
            if (r.ec) return "transport: " + r.ec.message();
            if (r.status < 200 || r.status >= 300) {
              return "HTTP " + std::to_string(r.status) + ": " + Clip(r.body);
            }
            json::error_code e;
            json::value v = json::parse(r.body, e);
            const json::value* id = v.is_object() ? v.as_object().if_contains("id") : nullptr;
            if (e || id == nullptr || !id->is_string()) return "no id in: " + Clip(r.body);
            return "";
          },
          [&](const Outcome& r) {
            if (!ids_out.empty()) {
              ids.emplace_back(json::parse(r.body).as_object().at("id").as_string());
            }
          });
      if (!ids_out.empty()) {
        std::ofstream f(ids_out, std::ios::app);
        for (const auto& id : ids) f << id << '\n';
      }
      return rc;
    }
    std::string expect = o.Str("expect");
    int64_t wait_s = o.Int("wait", 60);
    std::string target = "/api/v1/instances?wait=" + std::to_string(wait_s);
    int64_t warmup = o.Int("warmup", mode == "latency" ? 100 : 0);
    if (mode == "latency") conc = 1;
    if (!o.CheckAllUsed()) return 2;
    return RunBatch(
        c, mode.c_str(), workflow, count, warmup, conc,
        [&](Job& j) {
          j.method = http::verb::post;
          j.target = target;
          j.body = body;
        },
        [&](const Outcome& r) { return CheckInstance(r, expect); });
  }

  if (mode == "http") {
    std::string method = o.Str("method", "GET");
    std::string path = o.Str("path", "/echo");
    std::string body = o.Str("body");
    int64_t count = o.Int("count", 10000);
    int64_t warmup = o.Int("warmup", 0);
    if (!o.CheckAllUsed()) return 2;
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
      std::fprintf(stderr, "baton_load: unknown method %s\n", method.c_str());
      return 2;
    }
    return RunBatch(
        c, "http", method + " " + path, count, warmup, conc,
        [&](Job& j) {
          j.method = verb;
          j.target = path;
          j.body = body;
        },
        [](const Outcome& r) -> std::string {
          if (r.ec) return "transport: " + r.ec.message();
          if (r.status < 200 || r.status >= 300) {
            return "HTTP " + std::to_string(r.status) + ": " + Clip(r.body);
          }
          return "";
        });
  }

  if (mode == "count") {
    std::string workflow = o.Str("workflow");
    std::string status = o.Str("status");
    if (!o.CheckAllUsed()) return 2;
    int64_t n = CountInstances(c, workflow, status);
    std::printf("count: %" PRId64 " instances (workflow '%s', status '%s')\n", n, workflow.c_str(),
                status.c_str());
    std::printf("RESULT mode=count count=%" PRId64 " errors=%d\n", n, n < 0 ? 1 : 0);
    return n < 0 ? 1 : 0;
  }

  if (mode == "poll-complete") {
    std::string ids_file = o.Str("ids");
    std::string workflow = o.Str("workflow");
    int64_t want = o.Int("count", -1);
    auto interval = std::chrono::milliseconds(o.Int("interval", ids_file.empty() ? 500 : 100));
    if (!o.CheckAllUsed()) return 2;
    Clock::time_point t0 = Clock::now();
    double cpu0 = CpuSeconds();
    if (ids_file.empty()) {
      // Server-side: count completed (and ended otherwise) instances of the workflow.
      if (workflow.empty() || want < 0) {
        std::fprintf(stderr,
                     "baton_load: poll-complete needs --ids FILE or --workflow W "
                     "--count N\n");
        return 2;
      }
      int64_t completed = 0, failed = 0;
      Clock::time_point last_print = t0;
      for (;;) {
        completed = CountInstances(c, workflow, "completed");
        failed = 0;
        for (const char* s : {"faulted", "cancelled", "compensated", "compensation_failed"}) {
          int64_t n = CountInstances(c, workflow, s);
          failed += n > 0 ? n : 0;
        }
        bool out_of_time = Seconds(Clock::now() - t0) > c.timeout_s;
        if (completed + failed >= want || out_of_time) break;
        if (Seconds(Clock::now() - last_print) >= 5) {
          last_print = Clock::now();
          std::fprintf(stderr,
                       "poll: %" PRId64 " completed, %" PRId64 " failed of %" PRId64
                       " after %.1f s\n",
                       completed, failed, want, Seconds(last_print - t0));
        }
        std::this_thread::sleep_for(interval);
      }
      double wall = Seconds(Clock::now() - t0);
      int64_t pending = std::max<int64_t>(0, want - completed - failed);
      std::printf("poll-complete: %" PRId64 " of %" PRId64 " completed, %" PRId64
                  " ended otherwise, %" PRId64 " not ended, after %.3f s\n",
                  completed, want, failed, pending, wall);
      std::printf("RESULT mode=poll total=%" PRId64 " ok=%" PRId64 " errors=%" PRId64
                  " pending=%" PRId64 " seconds=%.4f cpu_s=%.3f\n",
                  want, completed, failed + pending, pending, wall, CpuSeconds() - cpu0);
      return failed + pending == 0 ? 0 : 1;
    }
    std::ifstream f(ids_file);
    std::vector<std::string> ids;
    for (std::string line; std::getline(f, line);) {
      if (!line.empty()) ids.push_back(line);
    }
    if (ids.empty()) {
      std::fprintf(stderr, "baton_load: no ids in %s\n", ids_file.c_str());
      return 2;
    }
    // Ids are polled in file order, at most C at a time; an id not yet ended goes back to the
    // front and is polled again after --interval. So the polls cost about one per id plus C
    // per interval, instead of loading the server with N polls per interval.
    std::deque<std::pair<size_t, Clock::time_point>> queue;
    for (size_t i = 0; i < ids.size(); ++i) queue.emplace_back(i, t0);
    Stats st;
    int64_t outstanding = 0, transient = 0, polls = 0;
    Clock::time_point last_print = t0;
    Driver d(c.server.endpoint, c.server.host, conc, c.timeout_s);
    d.Run(
        [&](Job& j, std::chrono::milliseconds& delay) {
          if (queue.empty()) {
            if (outstanding == 0) return Next::kDone;
            delay = std::chrono::milliseconds(5);
            return Next::kWait;
          }
          Clock::time_point now = Clock::now();
          if (queue.front().second > now) {
            delay =
                std::chrono::duration_cast<std::chrono::milliseconds>(queue.front().second - now) +
                std::chrono::milliseconds(1);
            return Next::kWait;
          }
          j.index = queue.front().first;
          queue.pop_front();
          j.method = http::verb::get;
          j.target = "/api/v1/instances/" + ids[j.index];
          ++outstanding;
          ++polls;
          return Next::kJob;
        },
        [&](const Job& j, Outcome& r) {
          --outstanding;
          Clock::time_point now = Clock::now();
          if (Seconds(now - last_print) >= 5) {
            last_print = now;
            std::fprintf(stderr,
                         "poll: %" PRId64 " completed, %" PRId64
                         " failed, %zu pending "
                         "after %.1f s\n",
                         st.ok, st.errors, queue.size() + static_cast<size_t>(outstanding) + 1,
                         Seconds(now - t0));
          }
          if (r.ec || r.status >= 500) {  // e.g. the server restarting: try again
            ++transient;
            queue.emplace_front(j.index, now + interval);
            return;
          }
          json::error_code jec;
          json::value v = json::parse(r.body, jec);
          const json::value* s =
              !jec && v.is_object() ? v.as_object().if_contains("status") : nullptr;
          if (r.status != 200 || s == nullptr || !s->is_string()) {
            st.Error(ids[j.index] + ": HTTP " + std::to_string(r.status) + ": " + Clip(r.body));
            return;
          }
          std::string_view status = s->as_string();
          if (status == "completed") {
            ++st.ok;
          } else if (IsTerminal(status)) {
            st.Error(ids[j.index] + " ended " + std::string(status) + ": " + Clip(r.body));
          } else {
            queue.emplace_front(j.index, now + interval);
          }
        });
    double wall = Seconds(Clock::now() - t0);
    int64_t pending = static_cast<int64_t>(ids.size()) - st.ok - st.errors;
    std::printf("poll-complete: %" PRId64 " of %zu completed, %" PRId64 " ended otherwise, %" PRId64
                " not ended, after %.3f s (%" PRId64 " polls, %" PRId64 " transport retries)\n",
                st.ok, ids.size(), st.errors, pending, wall, polls, transient);
    std::printf("RESULT mode=poll total=%zu ok=%" PRId64 " errors=%" PRId64 " pending=%" PRId64
                " seconds=%.4f cpu_s=%.3f\n",
                ids.size(), st.ok, st.errors + pending, pending, wall, CpuSeconds() - cpu0);
    return st.errors + pending == 0 ? 0 : 1;
  }
  std::fprintf(stderr, "baton_load: unknown mode '%s'\n", mode.c_str());
  return Usage();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "baton_load: %s\n", e.what());
    return 1;
  }
}
