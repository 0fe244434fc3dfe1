// The HTTP values route handlers see: Request, Response and the Responder that answers.
//
// These types carry no Boost.Beast: the server (api/http_server.cc) converts to and from
// Beast's messages, so a handler, the router and their tests compile without it.
//
// Thread-safety: Request and Response are plain values. A Responder may be copied and used
// from ANY thread (a service answers from its commit thread); the first Send wins.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace baton::api {

// Header and query lists keep the order and repetitions of the request.
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // as received ("GET"); methods are case-sensitive (RFC 9110 §9.1)
  std::string target;  // path and query as received, undecoded
  std::string path;    // target up to '?', undecoded
  Fields query;        // decoded name/value pairs of the query ('+' is a space)
  Fields headers;      // names as received; look up with Header()
  std::string body;
  std::string remote;  // "ip:port" of the peer, for logs
  // Decoded values of the pattern's {name} segments; filled by the Router.
  std::map<std::string, std::string, std::less<>> params;

  // First header with this name (case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
  // Value of the path parameter `name`; "" when the route has no such parameter.
  const std::string& Param(std::string_view name) const;
  // First query value named `name`, if any.
  std::optional<std::string_view> Query(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  Fields headers;  // extra headers (Location, Allow, ...); the server sets the framing ones
  std::string body;
};

// Answers one request, once. Handlers receive it by value and may keep copies (in service
// callbacks, for example) and Send from any thread; the server moves the answer onto the
// connection's strand. Later Sends are ignored. If every copy is destroyed without a Send
// the client receives a 500 problem, so a lost callback never hangs a connection.
class Responder {
 public:
  using SendFn = std::function<void(Response)>;
  using PostFn = std::function<void(std::function<void()>)>;

  // `send` delivers the answer and `post` runs a function later on the request's executor
  // (never inline). Both must be callable from any thread. Tests build their own.
  Responder(SendFn send, PostFn post);

  // Thread-safe. The first call delivers `response`; later calls do nothing.
  void Send(Response response) const;
  // Runs `fn` later on the connection's strand (never inline), or drops it if the server
  // has stopped. Use it to leave a service's callback thread before calling the service
  // again (its callbacks must not call back into it) or before heavy work such as
  // serialising a large value.
  void Post(std::function<void()> fn) const;
  // True once Send has been called on any copy.
  bool sent() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Decodes %XX escapes (and '+' as a space when `plus_is_space`). InvalidArgument for a '%'
// not followed by two hex digits.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Splits "a=1&b=x%20y" into decoded pairs; a name without '=' has an empty value and empty
// pieces ("a=1&&b") are skipped. InvalidArgument names the bad piece.
Result<Fields> ParseQueryString(std::string_view query);

}  // namespace baton::api
