#include "api/http.h"

#include <atomic>

#include "api/problem.h"

namespace baton::api {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

const std::string& Request::Param(std::string_view name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

// Shared by every copy of a Responder. `sent` makes the first Send win; the destructor of
// the last copy answers 500 when no Send happened.
struct Responder::State {
  State(SendFn s, PostFn p) : send(std::move(s)), post(std::move(p)) {}
  ~State() {
    if (!sent.exchange(true)) {
      send(ProblemResponse(MakeProblem(500, "internal", "Internal error",
                                       "the request handler finished without answering")));
    }
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  const SendFn send;
  const PostFn post;
  std::atomic<bool> sent{false};
};

Responder::Responder(SendFn send, PostFn post)
    : state_(std::make_shared<State>(std::move(send), std::move(post))) {}

void Responder::Send(Response response) const {
  if (state_->sent.exchange(true)) return;
  state_->send(std::move(response));
}

void Responder::Post(std::function<void()> fn) const { state_->post(std::move(fn)); }

bool Responder::sent() const { return state_->sent.load(); }

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("bad percent-encoding at offset " + std::to_string(i) +
                                       ": '%' must be followed by two hexadecimal digits");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<Fields> ParseQueryString(std::string_view query) {
  Fields fields;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view raw_name = piece.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? "" : piece.substr(eq + 1);
    Result<std::string> name = PercentDecode(raw_name, true);
    if (!name.ok()) {
      return Status::InvalidArgument("query parameter name '" + std::string(raw_name) +
                                     "': " + name.status().message());
    }
    Result<std::string> value = PercentDecode(raw_value, true);
    if (!value.ok()) {
      return Status::InvalidArgument("query parameter '" + *name +
                                     "': " + value.status().message());
    }
    fields.emplace_back(std::move(name).value(), std::move(value).value());
  }
  return fields;
}

}  // namespace baton::api
