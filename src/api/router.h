// Router: maps a method and a path pattern such as "/api/v1/instances/{id}" to a handler.
//
// A pattern is a sequence of '/'-separated segments; a segment is either literal text or a
// whole-segment parameter "{name}", which matches one non-empty segment. Request paths are
// split on '/' first and each segment is percent-decoded after, so "%2F" inside an id does
// not split it. When several patterns match a path, the one with a literal segment at the
// first position where they differ wins ("/a/new" before "/a/{id}").
//
// Unknown paths answer 404, a known path with another method 405 with an Allow header, a
// path that is not "/..." or has bad percent-encoding 400; all as problem+json.
//
// Thread-safety: Add() during set-up only; Handle(), Match() and Routes() are const and may
// run concurrently on any threads once set-up is over.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "api/problem.h"

namespace baton::api {

// Gets the request (with params filled) and answers through the Responder, now or later
// (copy it to answer later: copies share one answer).
using Handler = std::function<void(const Request&, const Responder&)>;

class Router {
 public:
  struct RouteInfo {
    std::string method;
    std::string pattern;
  };

  // The outcome of matching a method and raw path.
  struct Match {
    const Handler* handler = nullptr;  // null when `problem` is set
    std::map<std::string, std::string, std::less<>> params;
    std::optional<Problem> problem;  // 400, 404 or 405
    std::string allow;               // for 405: "GET, POST"
  };

  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // REQUIRES: `method` is non-empty; `pattern` starts with '/', its parameters are whole
  // segments "{name}" with distinct names, and (method, pattern) is not registered yet.
  // Violations are programming errors and abort.
  void Add(std::string_view method, std::string_view pattern, Handler handler);

  // Matches `raw_path` (undecoded, without the query).
  Match Find(std::string_view method, std::string_view raw_path) const;

  // Dispatches: fills request.params and calls the handler, or answers the problem.
  void Handle(Request request, const Responder& responder) const;

  // Every registered route, in registration order.
  std::vector<RouteInfo> Routes() const;

 private:
  struct Segment {
    bool is_param = false;
    std::string text;  // the literal, or the parameter's name
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };

  std::vector<Route> routes_;
};

}  // namespace baton::api
