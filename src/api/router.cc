#include "api/router.h"

#include <algorithm>
#include <set>
#include <utility>

#include "base/check.h"

namespace baton::api {

namespace {

// Splits "/a/b" into {"a", "b"}; "/" into {""}; keeps empty segments ("/a//b").
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

void Router::Add(std::string_view method, std::string_view pattern, Handler handler) {
  BATON_CHECK(!method.empty());
  BATON_CHECK(!pattern.empty() && pattern.front() == '/');
  BATON_CHECK(handler != nullptr);
  Route route;
  route.method = std::string(method);
  route.pattern = std::string(pattern);
  route.handler = std::move(handler);
  std::set<std::string, std::less<>> names;
  for (std::string_view seg : SplitPath(pattern)) {
    Segment s;
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      s.is_param = true;
      s.text = std::string(seg.substr(1, seg.size() - 2));
      BATON_CHECK(!s.text.empty());
      BATON_CHECK(names.insert(s.text).second);
    } else {
      BATON_CHECK(seg.find_first_of("{}") == std::string_view::npos);
      s.text = std::string(seg);
    }
    route.segments.push_back(std::move(s));
  }
  for (const Route& r : routes_) {
    BATON_CHECK(!(r.method == route.method && r.pattern == route.pattern));
  }
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(std::string_view method, std::string_view raw_path) const {
  Match m;
  if (raw_path.empty() || raw_path.front() != '/') {
    m.problem = BadRequest("the request target must be an absolute path such as /api/v1/...");
    return m;
  }
  std::vector<std::string> segments;
  for (std::string_view raw : SplitPath(raw_path)) {
    Result<std::string> decoded = PercentDecode(raw, /*plus_is_space=*/false);
    if (!decoded.ok()) {
      m.problem =
          BadRequest("path segment '" + std::string(raw) + "': " + decoded.status().message());
      return m;
    }
    segments.push_back(std::move(decoded).value());
  }

  // Patterns that match the path, whatever the method.
  std::vector<const Route*> candidates;
  for (const Route& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const Segment& s = r.segments[i];
      ok = s.is_param ? !segments[i].empty() : s.text == segments[i];
    }
    if (ok) candidates.push_back(&r);
  }
  if (candidates.empty()) {
    m.problem = NotFound("no resource at " + std::string(raw_path));
    return m;
  }
  // Most specific first: a literal beats a parameter at the first differing position.
  auto more_specific = [](const Route* a, const Route* b) {
    for (size_t i = 0; i < a->segments.size(); ++i) {
      if (a->segments[i].is_param != b->segments[i].is_param) return !a->segments[i].is_param;
    }
    return false;
  };
  std::stable_sort(candidates.begin(), candidates.end(), more_specific);
  // The best pattern decides the resource; its methods make the Allow list.
  const std::string& best = candidates.front()->pattern;
  std::vector<std::string> allowed;
  for (const Route* r : candidates) {
    if (r->pattern != best) continue;
    if (r->method == method) {
      m.handler = &r->handler;
      for (size_t i = 0; i < segments.size(); ++i) {
        if (r->segments[i].is_param) m.params[r->segments[i].text] = std::move(segments[i]);
      }
      return m;
    }
    allowed.push_back(r->method);
  }
  for (const std::string& a : allowed) {
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += a;
  }
  m.problem = MakeProblem(
      405, "method-not-allowed", "Method not allowed",
      "method " + std::string(method) + " is not allowed on " + best + "; allowed: " + m.allow);
  return m;
}

void Router::Handle(Request request, const Responder& responder) const {
  Match m = Find(request.method, request.path);
  if (m.problem) {
    Response r = ProblemResponse(*m.problem);
    if (!m.allow.empty()) r.headers.emplace_back("Allow", m.allow);
    responder.Send(std::move(r));
    return;
  }
  request.params = std::move(m.params);
  (*m.handler)(request, responder);
}

std::vector<Router::RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.push_back({r.method, r.pattern});
  return out;
}

}  // namespace baton::api
