#include "api/client.h"

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <utility>

#include <curl/curl.h>

namespace baton::api {

namespace {

// An answer larger than this is not one of baton's; stop reading instead of filling memory.
constexpr size_t kMaxBodyBytes = size_t{256} << 20;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  std::string* body;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  if (sink->body->size() + n > kMaxBodyBytes) {
    sink->too_large = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

std::string Normalize(std::string url) {
  if (url.find("://") == std::string::npos) url = "http://" + url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool HasHttpScheme(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

}  // namespace

struct ApiClient::Impl {
  CURL* easy = nullptr;
  ~Impl() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

ApiClient::ApiClient(std::string base_url, ClientOptions options)
    : base_url_(Normalize(std::move(base_url))),
      options_(options),
      impl_(std::make_unique<Impl>()) {}

ApiClient::~ApiClient() = default;

Result<ApiResponse> ApiClient::Get(const std::string& path) { return Perform(false, path, "", ""); }

Result<ApiResponse> ApiClient::Post(const std::string& path, const std::string& body,
                                    const std::string& content_type) {
  return Perform(true, path, body, content_type);
}

Result<ApiResponse> ApiClient::Perform(bool post, const std::string& path, const std::string& body,
                                       const std::string& content_type) {
  if (!HasHttpScheme(base_url_)) {
    return Status::InvalidArgument("invalid server URL '" + base_url_ +
                                   "': only http:// and https:// are supported");
  }
  GlobalInit();
  if (impl_->easy == nullptr) {
    impl_->easy = curl_easy_init();
    if (impl_->easy == nullptr) return Status::Internal("curl_easy_init failed");
  }
  CURL* easy = impl_->easy;
  // Reset clears the options of the previous request but keeps its open connection.
  curl_easy_reset(easy);

  ApiResponse response;
  Sink sink{&response.body};
  char error_text[CURL_ERROR_SIZE] = {0};
  std::string url = base_url_ + path;

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json, application/problem+json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (post) {
    std::string type =
        "Content-Type: " + (content_type.empty() ? "application/json" : content_type);
    headers = curl_slist_append(headers, type.c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                           &curl_slist_free_all);

  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(options_.timeout_ms, 10'000)));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "baton-cli/0.1");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_text);
  if (post) {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }

  CURLcode rc = curl_easy_perform(easy);
  // The error buffer and header list live on this frame: detach them from the handle.
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);

  std::string where = "cannot reach baton server at " + base_url_ + ": ";
  std::string reason = error_text[0] != '\0' ? error_text : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED) reason = "connection refused";
      return Status::Unavailable(where + reason + " (is `baton serve` running?)");
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      return Status::Unavailable(where + reason);
    case CURLE_OPERATION_TIMEDOUT:
      return Status::DeadlineExceeded("baton server at " + base_url_ + " did not answer within " +
                                      std::to_string(options_.timeout_ms) + " ms");
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::InvalidArgument("invalid server URL '" + base_url_ + "': " + reason);
    case CURLE_WRITE_ERROR:
      if (sink.too_large) {
        return Status::Unavailable("the answer of " + base_url_ + path + " is larger than " +
                                   std::to_string(kMaxBodyBytes >> 20) + " MiB");
      }
      return Status::Unavailable(where + reason);
    default:
      return Status::Unavailable(where + reason);
  }

  long code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  response.status = static_cast<int>(code);
  char* type = nullptr;
  curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) response.content_type = type;
  return response;
}

}  // namespace baton::api
