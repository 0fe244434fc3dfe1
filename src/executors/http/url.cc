#include "executors/http/url.h"

#include <cctype>
#include <memory>
#include <mutex>

#include <curl/curl.h>

#include "base/uri.h"

namespace baton::executors::http {
namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

// One part of a parsed URL, or "" when it is absent.
std::string GetPart(CURLU* u, CURLUPart part) {
  char* raw = nullptr;
  if (curl_url_get(u, part, &raw, 0) != CURLUE_OK || raw == nullptr) return {};
  CurlString owned(raw);
  return std::string(owned.get());
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string AppendQuery(std::string_view url, const QueryParams& params) {
  if (params.empty()) return std::string(url);
  size_t hash = url.find('#');
  std::string_view head = url.substr(0, hash);
  std::string_view fragment = hash == std::string_view::npos ? "" : url.substr(hash);
  std::string out(head);
  size_t question = head.find('?');
  char separator = '&';
  if (question == std::string_view::npos) {
    separator = '?';
  } else if (head.back() == '?' || head.back() == '&') {
    separator = '\0';
  }
  for (const auto& [key, value] : params) {
    if (separator != '\0') out += separator;
    separator = '&';
    out += PercentEncode(key);
    out += '=';
    out += PercentEncode(value);
  }
  out += fragment;
  return out;
}

std::string ApplyRewrites(std::string_view url, const UrlRewrites& rewrites) {
  for (const auto& [from, to] : rewrites) {
    if (!from.empty() && url.substr(0, from.size()) == from) {
      return to + std::string(url.substr(from.size()));
    }
  }
  return std::string(url);
}

Result<UrlParts> ParseHttpUrl(std::string_view url) {
  UrlHandle u(curl_url());
  if (!u) return Status::Internal("out of memory");
  std::string text(url);
  CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Status::InvalidArgument("invalid URL '" + text + "': " + curl_url_strerror(rc));
  }
  UrlParts parts;
  parts.scheme = Lower(GetPart(u.get(), CURLUPART_SCHEME));
  if (parts.scheme != "http" && parts.scheme != "https") {
    return Status::InvalidArgument("unsupported URL scheme '" + parts.scheme + "' in '" + text +
                                   "' (only http and https)");
  }
  parts.host = Lower(GetPart(u.get(), CURLUPART_HOST));
  if (parts.host.size() >= 2 && parts.host.front() == '[' && parts.host.back() == ']') {
    parts.host = parts.host.substr(1, parts.host.size() - 2);
  }
  if (parts.host.empty()) return Status::InvalidArgument("URL '" + text + "' has no host");
  parts.port = GetPart(u.get(), CURLUPART_PORT);
  return parts;
}

bool IsLoopbackHost(std::string_view host) {
  std::string h = Lower(std::string(host));
  if (!h.empty() && h.back() == '.') h.pop_back();
  if (h == "localhost" || h == "::1") return true;
  constexpr std::string_view kLocalSuffix = ".localhost";
  if (h.size() > kLocalSuffix.size() &&
      h.compare(h.size() - kLocalSuffix.size(), kLocalSuffix.size(), kLocalSuffix) == 0) {
    return true;
  }
  // Dotted-quad 127.a.b.c only: curl normalises other IPv4 spellings before we see them.
  int parts = 0;
  size_t pos = 0;
  std::string first;
  while (pos <= h.size()) {
    size_t dot = h.find('.', pos);
    if (dot == std::string::npos) dot = h.size();
    std::string_view label(h.data() + pos, dot - pos);
    if (label.empty() || label.size() > 3) return false;
    for (char c : label) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
    }
    if (std::stoi(std::string(label)) > 255) return false;
    if (parts == 0) first = std::string(label);
    ++parts;
    pos = dot + 1;
  }
  return parts == 4 && first == "127";
}

Result<std::string> ResolveUrl(std::string_view base, std::string_view reference) {
  UrlHandle u(curl_url());
  if (!u) return Status::Internal("out of memory");
  std::string base_text(base);
  std::string ref_text(reference);
  CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, base_text.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Status::InvalidArgument("invalid base URL '" + base_text +
                                   "': " + curl_url_strerror(rc));
  }
  rc = curl_url_set(u.get(), CURLUPART_URL, ref_text.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Status::InvalidArgument("cannot resolve '" + ref_text + "' against '" + base_text +
                                   "': " + curl_url_strerror(rc));
  }
  std::string out = GetPart(u.get(), CURLUPART_URL);
  if (out.empty()) return Status::InvalidArgument("cannot resolve '" + ref_text + "'");
  return out;
}

std::string Origin(std::string_view url) {
  Result<UrlParts> parts = ParseHttpUrl(url);
  if (!parts.ok()) return {};
  std::string host =
      parts->host.find(':') != std::string::npos ? "[" + parts->host + "]" : parts->host;
  std::string port = parts->port;
  if (port.empty()) port = parts->scheme == "https" ? "443" : "80";
  return parts->scheme + "://" + host + ":" + port;
}

}  // namespace baton::executors::http
