#include "executors/http/fetch.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include <curl/curl.h>

#include "executors/http/http_call.h"
#include "executors/http/url.h"

namespace baton::executors::http {
namespace {

constexpr size_t kMaxResourceBytes = size_t{16} << 20;
constexpr int kMaxRedirects = 10;

struct EasyDeleter {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Sink {
  std::string body;
  bool too_large = false;
  const std::atomic<bool>* abort = nullptr;
};

size_t OnData(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  if (sink->body.size() + n > kMaxResourceBytes) {
    sink->too_large = true;
    return 0;
  }
  sink->body.append(data, n);
  return n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* sink = static_cast<Sink*>(user);
  return sink->abort != nullptr && sink->abort->load() ? 1 : 0;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<std::string> FetchResource(std::string_view uri, const ExecutorOptions& options,
                                  int64_t timeout_ms, const std::atomic<bool>* abort) {
  if (uri.substr(0, 7) == "file://") return ReadFile(std::string(uri.substr(7)));
  if (!uri.empty() && uri[0] == '/') return ReadFile(std::string(uri));

  EnsureCurlInitialized();
  std::unique_ptr<curl_slist, SlistDeleter> headers(
      curl_slist_append(nullptr, ("User-Agent: " + std::string(kUserAgent)).c_str()));
  std::string next(uri);
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    std::string url = ApplyRewrites(next, options.url_rewrites);
    BATON_ASSIGN_OR_RETURN(UrlParts parts, ParseHttpUrl(url));
    if (options.loopback_only && !IsLoopbackHost(parts.host)) {
      return Status::InvalidArgument("refusing to contact '" + parts.host +
                                     "': this runtime only allows loopback hosts");
    }
    std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
    if (!easy) return Status::Internal("curl_easy_init failed");
    Sink sink;
    sink.abort = abort;
    char error[CURL_ERROR_SIZE] = {};
    CURL* e = easy.get();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnData);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &sink);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
    if (timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    CURLcode rc = curl_easy_perform(e);
    if (rc == CURLE_ABORTED_BY_CALLBACK) return Status::Cancelled("fetch of " + url + " aborted");
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Status::DeadlineExceeded("fetching " + url + " timed out");
    }
    if (rc != CURLE_OK) {
      std::string message = sink.too_large     ? "the resource is larger than 16 MiB"
                            : error[0] != '\0' ? std::string(error)
                                               : std::string(curl_easy_strerror(rc));
      std::string text = "fetching ";
      text.append(url).append(" failed: ").append(message);
      return Status::Unavailable(std::move(text));
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    char* location = nullptr;
    curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &location);
    if (status >= 300 && status < 400 && location != nullptr) {
      next = location;
      continue;
    }
    if (status < 200 || status >= 300) {
      return Status::Unavailable("fetching " + url + " returned HTTP " + std::to_string(status));
    }
    return std::move(sink.body);
  }
  return Status::Unavailable("fetching " + std::string(uri) + ": too many redirects");
}

}  // namespace baton::executors::http
