// Small helpers shared by the engine's unit tests (interpreter, codec, failure handling).
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/json.h"
#include "engine/error.h"
#include "engine/event.h"
#include "engine/interpreter.h"
#include "testing/engine_harness.h"

namespace baton::testing {

// A document with the test header (namespace test, name t) and `body` after it.
inline std::string Doc(const std::string& body) {
  return "document:\n  dsl: '1.0.3'\n  namespace: test\n  name: t\n  version: '1.0.0'\n" + body;
}

// Parses JSON text; fails the current test when it is not JSON.
inline Json J(const std::string& text) {
  auto r = Json::Parse(text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : Json();
}

// A communication error with `status`, as the HTTP executor reports a failed call.
inline Json Comm(int status) {
  return engine::MakeError(engine::ErrorKind::kCommunication, status, "HTTP", "failed");
}

// Interpreter options with the server's built-in default retry policy.
inline engine::Interpreter::Options Defaults() {
  engine::Interpreter::Options o;
  o.default_retry = engine::BuiltinDefaultRetryPolicy();
  return o;
}

inline std::string Uri(const Activity& a) {
  return std::string(a.request.Get("endpoint").AsString());
}
inline std::string Method(const Activity& a) {
  return std::string(a.request.Get("method").AsString());
}

// The endpoints of the DELETE calls, in the order they were made (undo calls in sagas).
inline std::vector<std::string> Deletes(const EngineHarness& h) {
  std::vector<std::string> out;
  for (const auto& a : h.activities()) {
    if (Method(a) == "DELETE") out.push_back(Uri(a));
  }
  return out;
}

// An operator action by "alice", reason "because".
inline engine::OperatorAction Action(engine::OperatorAction::Kind kind) {
  engine::OperatorAction a;
  a.kind = kind;
  a.by = "alice";
  a.reason = "because";
  return a;
}

}  // namespace baton::testing
