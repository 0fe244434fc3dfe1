#include "executors/http/http_executor.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include <curl/curl.h>

#include "base/check.h"
#include "base/thread_name.h"
#include "executors/fault.h"
#include "executors/http/http_call.h"
#include "executors/http/openapi.h"
#include "executors/http/url.h"

namespace baton::executors {
namespace {

using engine::ErrorKind;
using http::HeaderList;
using http::HttpCall;

constexpr int64_t kConnectTimeoutMs = 10'000;
constexpr int64_t kDocumentTimeoutMs = 30'000;
constexpr size_t kMaxResponseBytes = size_t{64} << 20;
constexpr int kMaxRedirects = 10;
constexpr int kIdlePollMs = 1000;
// A transfer that fails with CURLE_OPERATION_TIMEDOUT this close to the task deadline ran
// out of the task's time (rather than hitting the connect timeout).
constexpr int64_t kDeadlineSlackMs = 50;

// Monotonic milliseconds. Executors measure real durations (timeouts of real calls), so
// they read the steady clock directly.
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// One curl easy handle in flight, with what it sends and what came back.
struct Transfer {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  bool added = false;  // to `multi`
  curl_slist* header_list = nullptr;
  std::string method;
  std::string url;  // after rewrites, as contacted
  bool has_body = false;
  std::string body;
  http::HttpResponse response;
  bool too_large = false;
  char error[CURL_ERROR_SIZE] = {};

  // Who waits: a job (by serial) or, when 0, the document fetch of `document_uri`.
  uint64_t job_serial = 0;
  std::string document_uri;

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (added) curl_multi_remove_handle(multi, easy);
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(header_list);
  }
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->response.body.size() + n > kMaxResponseBytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (an interim 100 Continue came first, say): keep only the last one.
    t->response.headers.clear();
    t->response.reason.clear();
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 != std::string_view::npos) t->response.reason = std::string(line.substr(sp2 + 1));
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return n;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  t->response.headers.emplace_back(std::move(name), std::string(value));
  return n;
}

}  // namespace

struct HttpExecutor::Impl {
  // One started activity.
  struct Job {
    uint64_t serial = 0;
    engine::ExecuteTask task;
    Completion done;
    int64_t deadline_ms = 0;  // steady clock; 0 = none
    HttpCall call;
    // The current hop (redirects change these).
    std::string hop_uri;
    std::string hop_method;
    bool hop_body = true;
    bool hop_cross_origin = false;
    int redirects = 0;
    std::unique_ptr<Transfer> transfer;
    std::string waiting_for_document;  // non-empty while the OpenAPI document loads
  };

  struct DocumentFetch {
    std::unique_ptr<Transfer> transfer;
    HeaderList headers;
    int redirects = 0;
    std::vector<uint64_t> waiters;  // job serials
  };

  // A request from another thread: start `job`, or cancel `cancel_id` when job is null.
  struct Op {
    std::unique_ptr<Job> job;
    uint64_t cancel_id = 0;
  };

  explicit Impl(ExecutorOptions opts) : options(std::move(opts)) {
    http::EnsureCurlInitialized();
    multi = curl_multi_init();
    BATON_CHECK(multi != nullptr);
    // Keep-alive connections are reused across calls. curl's default cache holds 4 per
    // easy handle *in use*, so a burst that ends closes most of them and the next burst
    // reconnects (measured: 800 new connections for 11,000 calls to one host).
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 1024L);
    worker = std::thread([this] { Run(); });
    NameThread(worker, "baton-curl");
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    curl_multi_wakeup(multi);
    worker.join();
    curl_multi_cleanup(multi);
  }

  // Wakes the worker only for the first op of an inbox: the others find it woken (or about
  // to be) and ride along. A commit of many transitions starts many calls at once, and each
  // wake-up is a system call on both sides.
  void Post(Op op) {
    bool first;
    {
      std::lock_guard<std::mutex> lock(mu);
      first = inbox.empty();
      inbox.push_back(std::move(op));
    }
    if (first) curl_multi_wakeup(multi);
  }

  // --- Worker thread only below ---------------------------------------------------------

  void Run();
  void Begin(std::unique_ptr<Job> owned);
  void ContinueOpenApi(Job& job, const Json& document);
  void StartHop(Job& job);
  void OnTransferDone(Transfer* transfer, CURLcode rc);
  void OnCallDone(Job& job, CURLcode rc);
  void OnDocumentDone(const std::string& uri, CURLcode rc);
  void CancelActivity(uint64_t activity_id);
  int CheckDeadlines();
  void Complete(uint64_t serial, const Fault& fault);
  void Complete(uint64_t serial, engine::EventBody result);

  // Opens and adds a transfer. On failure returns the fault and leaves *out empty.
  std::optional<Fault> Open(std::string_view uri, std::string_view method,
                            const HeaderList& headers, bool has_body, const std::string& body,
                            int64_t timeout_ms, std::unique_ptr<Transfer>* out);

  const ExecutorOptions options;
  CURLM* multi = nullptr;
  std::thread worker;

  std::mutex mu;
  std::vector<Op> inbox;  // guarded by mu
  bool stop = false;      // guarded by mu

  uint64_t next_serial = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Job>> jobs;
  std::map<std::string, DocumentFetch> fetches;  // by document URI
  std::map<std::string, Json> documents;         // parsed OpenAPI documents, by URI
};

void HttpExecutor::Impl::Run() {
  while (true) {
    std::vector<Op> ops;
    bool stopping = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      ops.swap(inbox);
      stopping = stop;
    }
    for (Op& op : ops) {
      if (stopping) {
        if (op.job) {
          op.job->done(CancelledFault("the call").ToEvent(op.job->task.activity_id));
        }
      } else if (op.job) {
        Begin(std::move(op.job));
      } else {
        CancelActivity(op.cancel_id);
      }
    }
    if (stopping) break;

    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      char* priv = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      OnTransferDone(reinterpret_cast<Transfer*>(priv), msg->data.result);
    }
    int wait_ms = CheckDeadlines();
    {
      // Work posted by a Completion that ran above must not wait for the poll timeout.
      std::lock_guard<std::mutex> lock(mu);
      if (!inbox.empty() || stop) wait_ms = 0;
    }
    curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }

  // Shutting down: every activity still running ends as cancelled, including any that a
  // Completion started meanwhile.
  while (true) {
    std::vector<uint64_t> serials;
    for (const auto& [serial, job] : jobs) serials.push_back(serial);
    for (uint64_t serial : serials) Complete(serial, CancelledFault("the call"));
    std::vector<Op> late;
    {
      std::lock_guard<std::mutex> lock(mu);
      late.swap(inbox);
    }
    if (late.empty() && jobs.empty()) break;
    for (Op& op : late) {
      if (op.job) op.job->done(CancelledFault("the call").ToEvent(op.job->task.activity_id));
    }
  }
  fetches.clear();
  documents.clear();
}

void HttpExecutor::Impl::Begin(std::unique_ptr<Job> owned) {
  Job& job = *owned;
  job.serial = next_serial++;
  jobs.emplace(job.serial, std::move(owned));
  if (job.task.timeout_ms > 0) job.deadline_ms = NowMs() + job.task.timeout_ms;

  if (job.task.kind == "http") {
    if (std::optional<Fault> fault =
            http::BuildHttpCall(job.task.request, job.task.idempotency_key, &job.call)) {
      Complete(job.serial, *fault);
      return;
    }
    StartHop(job);
    return;
  }
  if (job.task.kind != "openapi") {
    Complete(job.serial, MakeFault(ErrorKind::kConfiguration,
                                   "the HTTP executor does not run '" + job.task.kind + "' tasks"));
    return;
  }

  Json authentication;
  std::string uri = http::DocumentUri(job.task.request, &authentication);
  if (uri.empty()) {
    Complete(job.serial,
             MakeFault(ErrorKind::kConfiguration, "openapi call needs document.endpoint (a URI)"));
    return;
  }
  if (auto cached = documents.find(uri); cached != documents.end()) {
    ContinueOpenApi(job, cached->second);
    return;
  }
  job.waiting_for_document = uri;
  if (auto pending = fetches.find(uri); pending != fetches.end()) {
    pending->second.waiters.push_back(job.serial);
    return;
  }
  DocumentFetch fetch;
  fetch.headers = {{"User-Agent", std::string(http::kUserAgent)},
                   {"Accept", "application/json, application/yaml;q=0.9, */*;q=0.8"}};
  std::optional<Fault> fault = http::ApplyAuthentication(authentication, &fetch.headers);
  if (!fault)
    fault = Open(uri, "GET", fetch.headers, false, {}, kDocumentTimeoutMs, &fetch.transfer);
  if (fault) {
    fault->detail = "loading OpenAPI document " + uri + ": " + fault->detail;
    Complete(job.serial, *fault);
    return;
  }
  fetch.transfer->document_uri = uri;
  fetch.waiters.push_back(job.serial);
  fetches.emplace(uri, std::move(fetch));
}

void HttpExecutor::Impl::ContinueOpenApi(Job& job, const Json& document) {
  job.waiting_for_document.clear();
  Json unused_authentication;
  std::string uri = http::DocumentUri(job.task.request, &unused_authentication);
  Json http_request;
  std::optional<Fault> fault =
      http::ResolveOperation(document, uri, job.task.request, &http_request);
  if (!fault) {
    fault = http::BuildHttpCall(http_request, job.task.idempotency_key, &job.call);
  }
  if (fault) {
    Complete(job.serial, *fault);
    return;
  }
  StartHop(job);
}

void HttpExecutor::Impl::StartHop(Job& job) {
  if (job.redirects == 0) {
    job.hop_uri = job.call.uri;
    job.hop_method = job.call.method;
    job.hop_body = job.call.has_body;
  }
  int64_t timeout_ms = 0;
  if (job.deadline_ms > 0) {
    timeout_ms = job.deadline_ms - NowMs();
    if (timeout_ms <= 0) {
      Complete(job.serial,
               Fault{ErrorKind::kTimeout, 408, "Timeout",
                     job.call.method + " " + job.call.uri + " did not complete within " +
                         std::to_string(job.task.timeout_ms) + " ms"});
      return;
    }
  }
  HeaderList headers;
  for (const auto& header : job.call.headers) {
    if (!job.hop_body && EqualsIgnoreCase(header.first, "Content-Type")) continue;
    // Like browsers and curl: credentials are not replayed to another origin.
    if (job.hop_cross_origin && EqualsIgnoreCase(header.first, "Authorization")) continue;
    headers.push_back(header);
  }
  std::optional<Fault> fault = Open(job.hop_uri, job.hop_method, headers, job.hop_body,
                                    job.call.body, timeout_ms, &job.transfer);
  if (fault) {
    Complete(job.serial, *fault);
    return;
  }
  job.transfer->job_serial = job.serial;
}

std::optional<Fault> HttpExecutor::Impl::Open(std::string_view uri, std::string_view method,
                                              const HeaderList& headers, bool has_body,
                                              const std::string& body, int64_t timeout_ms,
                                              std::unique_ptr<Transfer>* out) {
  out->reset();
  std::string url = http::ApplyRewrites(uri, options.url_rewrites);
  Result<http::UrlParts> parts = http::ParseHttpUrl(url);
  if (!parts.ok()) return MakeFault(ErrorKind::kConfiguration, parts.status().message());
  if (options.loopback_only && !http::IsLoopbackHost(parts->host)) {
    return Fault{ErrorKind::kCommunication, 503, "Host Not Allowed",
                 "refusing to contact '" + parts->host + "' (" + url +
                     "): this runtime only allows loopback hosts"};
  }

  auto t = std::make_unique<Transfer>();
  t->multi = multi;
  t->easy = curl_easy_init();
  if (t->easy == nullptr) return MakeFault(ErrorKind::kRuntime, "curl_easy_init failed");
  t->method = std::string(method);
  t->url = url;
  t->has_body = has_body;
  if (has_body) t->body = body;
  for (const auto& [name, value] : headers) {
    // "Name;" is curl's spelling of a header with an empty value.
    std::string line = name;
    line.append(value.empty() ? ";" : ": ").append(value);
    t->header_list = curl_slist_append(t->header_list, line.c_str());
  }
  // No "Expect: 100-continue" round trip before bodies.
  t->header_list = curl_slist_append(t->header_list, "Expect:");

  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(timeout_ms > 0 ? std::min(timeout_ms, kConnectTimeoutMs)
                                                    : kConnectTimeoutMs));
  if (timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));

  if (t->method == "GET" && !has_body) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (t->method == "HEAD" && !has_body) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    if (has_body || t->method == "POST" || t->method == "PUT" || t->method == "PATCH") {
      // POSTFIELDS sends the body (Content-Length: 0 when empty); CUSTOMREQUEST names the
      // method actually used.
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.data());
    }
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method.c_str());
  }

  if (curl_multi_add_handle(multi, e) != CURLM_OK) {
    return MakeFault(ErrorKind::kRuntime, "curl_multi_add_handle failed");
  }
  t->added = true;
  *out = std::move(t);
  return std::nullopt;
}

void HttpExecutor::Impl::OnTransferDone(Transfer* transfer, CURLcode rc) {
  if (transfer->job_serial != 0) {
    auto it = jobs.find(transfer->job_serial);
    BATON_CHECK(it != jobs.end());
    OnCallDone(*it->second, rc);
  } else {
    std::string uri = transfer->document_uri;
    OnDocumentDone(uri, rc);
  }
}

void HttpExecutor::Impl::OnCallDone(Job& job, CURLcode rc) {
  std::unique_ptr<Transfer> t = std::move(job.transfer);
  const std::string what = job.call.method + " " + job.call.uri;
  if (rc != CURLE_OK) {
    if (t->too_large) {
      Complete(job.serial, Fault{ErrorKind::kCommunication, 502, "Response Too Large",
                                 what + ": the response is larger than " +
                                     std::to_string(kMaxResponseBytes >> 20) + " MiB"});
    } else if (rc == CURLE_OPERATION_TIMEDOUT && job.deadline_ms > 0 &&
               NowMs() + kDeadlineSlackMs >= job.deadline_ms) {
      Complete(job.serial, Fault{ErrorKind::kTimeout, 408, "Timeout",
                                 what + " did not complete within " +
                                     std::to_string(job.task.timeout_ms) + " ms"});
    } else {
      std::string message = t->error[0] != '\0' ? t->error : curl_easy_strerror(rc);
      Complete(job.serial, Fault{ErrorKind::kCommunication, 503, "Service Unavailable",
                                 what + " failed: " + message});
    }
    return;
  }
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  t->response.status = status;

  if (job.call.redirect && status >= 300 && status < 400 && status != 304) {
    char* location = nullptr;
    curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &location);
    if (location != nullptr) {
      if (++job.redirects > kMaxRedirects) {
        Complete(job.serial,
                 Fault{ErrorKind::kCommunication, 508, "Too Many Redirects",
                       what + ": more than " + std::to_string(kMaxRedirects) + " redirects"});
        return;
      }
      std::string next = location;
      if (http::Origin(next) != http::Origin(t->url)) job.hop_cross_origin = true;
      // 303, and 301/302 after a POST, continue as a GET without the body (RFC 9110 §15.4).
      if ((status == 303 && job.hop_method != "HEAD") ||
          ((status == 301 || status == 302) && job.hop_method == "POST")) {
        job.hop_method = "GET";
        job.hop_body = false;
      }
      job.hop_uri = std::move(next);
      StartHop(job);
      return;
    }
  }
  if (!http::IsSuccess(job.call, status)) {
    Complete(job.serial, http::StatusFault(job.call, t->response));
    return;
  }
  Json output = http::BuildOutput(job.call, t->response);
  Complete(job.serial, engine::TaskSucceeded{job.task.activity_id, std::move(output)});
}

void HttpExecutor::Impl::OnDocumentDone(const std::string& uri, CURLcode rc) {
  auto it = fetches.find(uri);
  BATON_CHECK(it != fetches.end());
  DocumentFetch& fetch = it->second;
  std::unique_ptr<Transfer> t = std::move(fetch.transfer);

  std::optional<Fault> fault;
  long status = 0;
  if (rc != CURLE_OK) {
    std::string message = t->error[0] != '\0' ? t->error : curl_easy_strerror(rc);
    fault = Fault{ErrorKind::kCommunication, 503, "Service Unavailable",
                  "loading OpenAPI document " + uri + " failed: " + message};
  } else {
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    char* location = nullptr;
    curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &location);
    if (status >= 300 && status < 400 && location != nullptr && fetch.redirects < kMaxRedirects) {
      ++fetch.redirects;
      std::string next = location;
      fault = Open(next, "GET", fetch.headers, false, {}, kDocumentTimeoutMs, &fetch.transfer);
      if (!fault) {
        fetch.transfer->document_uri = uri;
        return;
      }
    } else if (status < 200 || status >= 300) {
      HttpCall call;
      call.uri = uri;
      t->response.status = status;
      fault = http::StatusFault(call, t->response);
      fault->detail = "loading OpenAPI document: " + fault->detail;
    }
  }
  Json document;
  if (!fault) {
    Result<Json> parsed = http::ParseApiDocument(t->response.body);
    if (parsed.ok()) {
      document = std::move(parsed).value();
    } else {
      fault =
          MakeFault(ErrorKind::kConfiguration,
                    "OpenAPI document " + uri + " does not parse: " + parsed.status().message());
    }
  }

  std::vector<uint64_t> waiters = std::move(fetch.waiters);
  fetches.erase(it);
  t.reset();
  if (!fault) documents[uri] = document;
  for (uint64_t serial : waiters) {
    auto job = jobs.find(serial);
    if (job == jobs.end()) continue;
    if (fault) {
      Complete(serial, *fault);
    } else {
      ContinueOpenApi(*job->second, document);
    }
  }
}

void HttpExecutor::Impl::CancelActivity(uint64_t activity_id) {
  std::vector<uint64_t> serials;
  for (const auto& [serial, job] : jobs) {
    if (job->task.activity_id == activity_id) serials.push_back(serial);
  }
  for (uint64_t serial : serials) Complete(serial, CancelledFault("the call"));
}

int HttpExecutor::Impl::CheckDeadlines() {
  int64_t now = NowMs();
  int64_t wait = kIdlePollMs;
  std::vector<uint64_t> expired;
  // Calls in flight carry their own curl timeout; only jobs waiting for a document are
  // checked here, and they all wait on a fetch.
  for (const auto& [uri, fetch] : fetches) {
    for (uint64_t serial : fetch.waiters) {
      auto it = jobs.find(serial);
      if (it == jobs.end() || it->second->deadline_ms == 0) continue;
      if (it->second->deadline_ms <= now) {
        expired.push_back(serial);
      } else {
        wait = std::min(wait, it->second->deadline_ms - now);
      }
    }
  }
  for (uint64_t serial : expired) {
    const Job& job = *jobs[serial];
    Complete(serial, Fault{ErrorKind::kTimeout, 408, "Timeout",
                           "loading OpenAPI document " + job.waiting_for_document +
                               " took longer than " + std::to_string(job.task.timeout_ms) + " ms"});
  }
  return expired.empty() ? static_cast<int>(wait) : 0;
}

void HttpExecutor::Impl::Complete(uint64_t serial, const Fault& fault) {
  auto it = jobs.find(serial);
  if (it == jobs.end()) return;
  Complete(serial, fault.ToEvent(it->second->task.activity_id));
}

void HttpExecutor::Impl::Complete(uint64_t serial, engine::EventBody result) {
  auto it = jobs.find(serial);
  if (it == jobs.end()) return;
  std::unique_ptr<Job> job = std::move(it->second);
  jobs.erase(it);
  if (!job->waiting_for_document.empty()) {
    auto fetch = fetches.find(job->waiting_for_document);
    if (fetch != fetches.end()) {
      auto& waiters = fetch->second.waiters;
      waiters.erase(std::remove(waiters.begin(), waiters.end(), serial), waiters.end());
    }
  }
  job->transfer.reset();  // removes its easy handle from the multi handle
  Completion done = std::move(job->done);
  job.reset();
  done(std::move(result));
}

HttpExecutor::HttpExecutor(ExecutorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpExecutor::~HttpExecutor() = default;

std::vector<std::string> HttpExecutor::Kinds() const { return {"http", "openapi"}; }

void HttpExecutor::Start(engine::ExecuteTask task, Completion done) {
  auto job = std::make_unique<Impl::Job>();
  job->task = std::move(task);
  job->done = std::move(done);
  impl_->Post(Impl::Op{std::move(job), 0});
}

void HttpExecutor::Cancel(uint64_t activity_id) { impl_->Post(Impl::Op{nullptr, activity_id}); }

}  // namespace baton::executors
