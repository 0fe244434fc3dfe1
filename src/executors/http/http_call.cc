#include "executors/http/http_call.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <curl/curl.h>

#include "executors/http/url.h"

namespace baton::executors::http {
namespace {

using engine::ErrorKind;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Fault ConfigFault(std::string detail) {
  return MakeFault(ErrorKind::kConfiguration, std::move(detail));
}

// RFC 9110 token characters (method and header names).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// A scalar as the text that goes into a header or a query string.
std::string ScalarText(const Json& value) {
  if (value.IsString()) return std::string(value.AsString());
  return value.Dump();
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t extra = 0;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<uint8_t>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

bool IsJsonType(std::string_view media_type) {
  return media_type == "application/json" || media_type == "text/json" ||
         (media_type.size() > 5 && media_type.substr(media_type.size() - 5) == "+json");
}

bool IsTextType(std::string_view media_type) {
  if (media_type.substr(0, 5) == "text/") return true;
  for (std::string_view t : {"application/xml", "application/yaml", "application/x-yaml",
                             "application/javascript", "application/x-www-form-urlencoded"}) {
    if (media_type == t) return true;
  }
  return media_type.size() > 4 && media_type.substr(media_type.size() - 4) == "+xml";
}

}  // namespace

const char* StatusReason(long status) {
  switch (status) {
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
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

const std::string* FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

std::optional<Fault> ApplyAuthentication(const Json& authentication, HeaderList* headers) {
  if (authentication.IsNull()) return std::nullopt;
  if (!authentication.IsObject() || authentication.size() != 1) {
    return ConfigFault("authentication must be an object with exactly one scheme, got " +
                       Excerpt(authentication.Dump(), 80));
  }
  std::string value;
  std::optional<Fault> fault;
  authentication.ForEachMember([&](std::string_view scheme, const Json& policy) {
    if (scheme == "basic") {
      if (!policy.IsObject() || !policy.Get("username").IsString()) {
        fault = ConfigFault("basic authentication needs a string 'username'");
        return;
      }
      std::string pair = std::string(policy.Get("username").AsString()) + ":" +
                         std::string(policy.Get("password").AsString());
      value = "Basic " + Base64Encode(pair);
    } else if (scheme == "bearer") {
      if (!policy.IsObject() || !policy.Get("token").IsString()) {
        fault = ConfigFault("bearer authentication needs a string 'token'");
        return;
      }
      value = "Bearer " + std::string(policy.Get("token").AsString());
    } else if (scheme == "use") {
      fault = ConfigFault("authentication policy '" + ScalarText(policy) +
                          "' was not resolved before the call");
    } else {
      fault = ConfigFault("authentication scheme '" + std::string(scheme) +
                          "' is not supported by this runtime yet");
    }
  });
  if (fault) return fault;
  if (value.find_first_of("\r\n") != std::string::npos) {
    return ConfigFault("authentication credentials contain a line break");
  }
  for (auto it = headers->begin(); it != headers->end();) {
    it = EqualsIgnoreCase(it->first, "Authorization") ? headers->erase(it) : it + 1;
  }
  headers->emplace_back("Authorization", std::move(value));
  return std::nullopt;
}

std::optional<Fault> BuildHttpCall(const Json& request, std::string_view idempotency_key,
                                   HttpCall* call) {
  if (!request.IsObject()) return ConfigFault("http request must be an object");

  Json method = request.Get("method");
  if (!method.IsNull()) {
    if (!method.IsString() || !IsToken(method.AsString())) {
      return ConfigFault("invalid HTTP method " + Excerpt(method.Dump(), 40));
    }
    call->method.clear();
    for (char c : method.AsString()) {
      call->method += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }

  Json endpoint = request.Get("endpoint");
  Json authentication = request.Get("authentication");
  if (endpoint.IsObject()) {
    if (authentication.IsNull()) authentication = endpoint.Get("authentication");
    endpoint = endpoint.Get("uri");
  }
  if (!endpoint.IsString() || endpoint.AsString().empty()) {
    return ConfigFault("http call needs an endpoint URI");
  }

  QueryParams query;
  Json query_json = request.Get("query");
  if (!query_json.IsNull() && !query_json.IsObject()) {
    return ConfigFault("http query must be an object, got " + std::string(query_json.KindName()));
  }
  query_json.ForEachMember([&](std::string_view key, const Json& value) {
    if (value.IsNull()) return;
    if (value.IsArray()) {
      value.ForEachItem([&](size_t, const Json& item) {
        if (!item.IsNull()) query.emplace_back(std::string(key), ScalarText(item));
      });
      return;
    }
    query.emplace_back(std::string(key), ScalarText(value));
  });
  call->uri = AppendQuery(endpoint.AsString(), query);

  Json headers = request.Get("headers");
  if (!headers.IsNull() && !headers.IsObject()) {
    return ConfigFault("http headers must be an object, got " + std::string(headers.KindName()));
  }
  std::optional<Fault> fault;
  headers.ForEachMember([&](std::string_view name, const Json& value) {
    if (fault || value.IsNull()) return;
    std::string text = ScalarText(value);
    if (!IsToken(name)) {
      fault = ConfigFault("invalid header name '" + Excerpt(name, 60) + "'");
    } else if (text.find_first_of("\r\n") != std::string::npos) {
      fault = ConfigFault("header '" + std::string(name) + "' contains a line break");
    } else {
      call->headers.emplace_back(std::string(name), std::move(text));
    }
  });
  if (fault) return fault;

  Json body = request.Get("body");
  if (!body.IsNull()) {
    call->has_body = true;
    if (body.IsString()) {
      call->body = std::string(body.AsString());
      if (FindHeader(call->headers, "Content-Type") == nullptr) {
        call->headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
      }
    } else {
      call->body = body.Dump();
      if (FindHeader(call->headers, "Content-Type") == nullptr) {
        call->headers.emplace_back("Content-Type", "application/json");
      }
    }
  }

  Json output = request.Get("output");
  if (output.IsNull() || (output.IsString() && output.AsString() == "content")) {
    call->output = OutputMode::kContent;
  } else if (output.IsString() && output.AsString() == "response") {
    call->output = OutputMode::kResponse;
  } else if (output.IsString() && output.AsString() == "raw") {
    call->output = OutputMode::kRaw;
  } else {
    return ConfigFault("http output must be content, response or raw, got " +
                       Excerpt(output.Dump(), 40));
  }
  call->redirect = request.Get("redirect").AsBool();

  if (FindHeader(call->headers, "User-Agent") == nullptr) {
    call->headers.emplace_back("User-Agent", std::string(kUserAgent));
  }
  if (!idempotency_key.empty() && FindHeader(call->headers, "Idempotency-Key") == nullptr) {
    call->headers.emplace_back("Idempotency-Key", std::string(idempotency_key));
  }
  return ApplyAuthentication(authentication, &call->headers);
}

bool IsSuccess(const HttpCall& call, long status) {
  return status >= 200 && status < (call.redirect ? 400 : 300);
}

Fault StatusFault(const HttpCall& call, const HttpResponse& response) {
  std::string reason = response.reason.empty() ? StatusReason(response.status) : response.reason;
  std::string title = "HTTP " + std::to_string(response.status);
  if (!reason.empty()) title += " " + reason;
  std::string detail = call.method + " " + call.uri + " returned " + title;
  if (!response.body.empty()) detail += ": " + Excerpt(response.body, 200);
  int status =
      response.status >= 100 && response.status <= 999 ? static_cast<int>(response.status) : 502;
  Fault fault{ErrorKind::kCommunication, status, std::move(title), std::move(detail)};
  if (const std::string* retry_after = FindHeader(response.headers, "retry-after")) {
    fault.retry_after_s = RetryAfterSeconds(*retry_after, std::time(nullptr));
  }
  return fault;
}

double RetryAfterSeconds(std::string_view value, int64_t now_s) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return 0;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (value.size() > 9) return 0;  // more than 30 years: not a delay anyone means
    return static_cast<double>(std::stol(std::string(value)));
  }
  time_t at = curl_getdate(std::string(value).c_str(), nullptr);
  if (at < 0 || at <= now_s) return 0;
  return static_cast<double>(at - now_s);
}

Json DecodeContent(const std::string* content_type, std::string_view body) {
  if (body.empty()) return Json::Null();
  if (content_type == nullptr) {
    Result<Json> parsed = Json::Parse(body);
    if (parsed.ok()) return std::move(parsed).value();
    return IsValidUtf8(body) ? Json::String(body) : Json::String(Base64Encode(body));
  }
  std::string media_type = Lower(content_type->substr(0, content_type->find(';')));
  while (!media_type.empty() && media_type.back() == ' ') media_type.pop_back();
  while (!media_type.empty() && media_type.front() == ' ') media_type.erase(0, 1);
  if (IsJsonType(media_type)) {
    Result<Json> parsed = Json::Parse(body);
    // A server that labels non-JSON as JSON: hand back the text rather than fail the call.
    if (parsed.ok()) return std::move(parsed).value();
    return Json::String(body);
  }
  if (IsTextType(media_type)) return Json::String(body);
  return Json::String(Base64Encode(body));
}

Json BuildOutput(const HttpCall& call, const HttpResponse& response) {
  if (call.output == OutputMode::kRaw) return Json::String(Base64Encode(response.body));
  Json content = DecodeContent(FindHeader(response.headers, "content-type"), response.body);
  if (call.output == OutputMode::kContent) return content;

  Json sent = Json::Object();
  for (const auto& [name, value] : call.headers) {
    // Credentials must not land in workflow data (and from there in history and logs).
    if (EqualsIgnoreCase(name, "Authorization") || EqualsIgnoreCase(name, "Proxy-Authorization")) {
      continue;
    }
    sent.Set(name, Json::String(value));
  }
  Json request = Json::Object();
  request.Set("method", Json::String(call.method));
  request.Set("uri", Json::String(call.uri));
  request.Set("headers", std::move(sent));

  Json received = Json::Object();
  for (const auto& [name, value] : response.headers) {
    Json previous = received.Get(name);
    if (previous.IsString()) {
      received.Set(name, Json::String(std::string(previous.AsString()) + ", " + value));
    } else {
      received.Set(name, Json::String(value));
    }
  }
  Json out = Json::Object();
  out.Set("request", std::move(request));
  out.Set("statusCode", Json::Number(static_cast<double>(response.status)));
  out.Set("headers", std::move(received));
  out.Set("content", std::move(content));
  return out;
}

}  // namespace baton::executors::http
