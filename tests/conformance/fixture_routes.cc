#include "conformance/fixture_routes.h"

#include <cstdint>

#include "base/json.h"

namespace baton::conformance {
namespace {

using testing::FixtureRequest;
using testing::FixtureResponse;

constexpr std::string_view kMilou = R"({"id":1,"name":"Milou","status":"available"})";
constexpr std::string_view kRantanplan = R"({"id":2,"name":"Rantanplan","status":"available"})";

FixtureResponse JsonResponse(int status, std::string body) {
  FixtureResponse response;
  response.status = status;
  response.headers["Content-Type"] = "application/json";
  response.body = std::move(body);
  return response;
}

FixtureResponse NotFound() { return JsonResponse(404, R"({"code":404})"); }

FixtureResponse FindByStatus(const FixtureRequest& request) {
  // collectionFormat "multi" repeats the parameter; accept comma-separated values too.
  bool available = false;
  for (const auto& [name, value] : ParseQuery(request.query)) {
    if (name != "status") continue;
    size_t start = 0;
    while (start <= value.size()) {
      const size_t comma = value.find(',', start);
      if (value.substr(start, comma - start) == "available") available = true;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (!available) return JsonResponse(200, "[]");
  return JsonResponse(200, "[" + std::string(kMilou) + "," + std::string(kRantanplan) + "]");
}

// httpbin's /basic-auth/{user}/{passwd}: 200 only with exactly these credentials.
FixtureResponse BasicAuth(const FixtureRequest& request, std::string_view rest) {
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || rest.find('/', slash + 1) != std::string_view::npos) {
    return NotFound();
  }
  const std::string user = PercentDecode(rest.substr(0, slash), /*plus_is_space=*/false);
  const std::string password = PercentDecode(rest.substr(slash + 1), /*plus_is_space=*/false);
  const auto header = request.headers.find("authorization");
  if (header != request.headers.end() &&
      header->second == "Basic " + Base64Encode(user + ":" + password)) {
    return JsonResponse(200, R"({"authenticated":true,"user":)" + Json::String(user).Dump() + "}");
  }
  FixtureResponse response;
  response.status = 401;
  response.headers["WWW-Authenticate"] = R"(Basic realm="Fake Realm")";
  return response;
}

std::string Render(std::string_view swagger_template, std::string_view host) {
  constexpr std::string_view kPlaceholder = "@HOST@";
  std::string out;
  size_t start = 0;
  for (size_t at = swagger_template.find(kPlaceholder); at != std::string_view::npos;
       at = swagger_template.find(kPlaceholder, start)) {
    out.append(swagger_template.substr(start, at - start)).append(host);
    start = at + kPlaceholder.size();
  }
  out.append(swagger_template.substr(start));
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

FixtureResponse HandleCtkRequest(const FixtureRequest& request, std::string_view host,
                                 std::string_view swagger_template) {
  const std::string& path = request.path;
  constexpr std::string_view kBasicAuth = "/basic-auth/";
  const bool known = path == "/v2/pet/findByStatus" || path == "/v2/pet/1" || path == "/v2/pet/2" ||
                     path == "/v2/pet/getPetByName/Milou" || path == "/v2/swagger.json" ||
                     path.rfind(kBasicAuth, 0) == 0;
  if (!known) return NotFound();
  if (request.method != "GET") {
    FixtureResponse response = JsonResponse(405, R"({"code":405})");
    response.headers["Allow"] = "GET";
    return response;
  }
  if (path == "/v2/pet/findByStatus") return FindByStatus(request);
  if (path == "/v2/pet/1") return JsonResponse(200, std::string(kMilou));
  if (path == "/v2/pet/2") return JsonResponse(200, std::string(kRantanplan));
  if (path == "/v2/pet/getPetByName/Milou") {
    return JsonResponse(404, R"({"code":404,"type":"unknown","message":"not found"})");
  }
  if (path == "/v2/swagger.json") return JsonResponse(200, Render(swagger_template, host));
  return BasicAuth(request, std::string_view(path).substr(kBasicAuth.size()));
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> parameters;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      parameters.emplace_back(PercentDecode(pair.substr(0, eq), /*plus_is_space=*/true),
                              eq == std::string_view::npos
                                  ? ""
                                  : PercentDecode(pair.substr(eq + 1), /*plus_is_space=*/true));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return parameters;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t index = 0; index < text.size(); ++index) {
    const char c = text[index];
    if (c == '%' && index + 2 < text.size() && HexValue(text[index + 1]) >= 0 &&
        HexValue(text[index + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[index + 1]) * 16 + HexValue(text[index + 2]));
      index += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t index = 0;
  for (; index + 2 < bytes.size(); index += 3) {
    const uint32_t chunk = static_cast<uint8_t>(bytes[index]) << 16 |
                           static_cast<uint8_t>(bytes[index + 1]) << 8 |
                           static_cast<uint8_t>(bytes[index + 2]);
    out += kAlphabet[chunk >> 18 & 63];
    out += kAlphabet[chunk >> 12 & 63];
    out += kAlphabet[chunk >> 6 & 63];
    out += kAlphabet[chunk & 63];
  }
  const size_t left = bytes.size() - index;
  if (left > 0) {
    uint32_t chunk = static_cast<uint8_t>(bytes[index]) << 16;
    if (left == 2) chunk |= static_cast<uint8_t>(bytes[index + 1]) << 8;
    out += kAlphabet[chunk >> 18 & 63];
    out += kAlphabet[chunk >> 12 & 63];
    out += left == 2 ? kAlphabet[chunk >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace baton::conformance
