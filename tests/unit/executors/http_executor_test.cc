#include "executors/http/http_executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/error.h"
#include "executors/fault.h"
#include "executors/http/openapi.h"
#include "executors/http/url.h"
#include "testing/http_fixture.h"

namespace baton::executors {
namespace {

using std::chrono_literals::operator""s;
using testing::FixtureRequest;
using testing::FixtureResponse;
using testing::HttpFixture;

// Collects completions; waits on a condition variable (never a fixed sleep).
class Completions {
 public:
  Completion Callback() {
    return [this](engine::EventBody body) {
      std::lock_guard<std::mutex> lock(mu_);
      results_.push_back(std::move(body));
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n, std::chrono::seconds timeout = 20s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return results_.size() >= n; });
  }
  std::vector<engine::EventBody> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(results_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<engine::EventBody> results_;
};

// Holds a fixture handler until the test opens it (or 15 s pass), and tells when one entered.
class Gate {
 public:
  void Hold() {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait_for(lock, 15s, [&] { return open_; });
  }
  bool WaitEntered(std::chrono::seconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return entered_ > 0; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool open_ = false;
};

FixtureResponse JsonResponse(int status, std::string body) {
  FixtureResponse r;
  r.status = status;
  r.headers["Content-Type"] = "application/json";
  r.body = std::move(body);
  return r;
}

Json Parse(std::string_view text) {
  Result<Json> parsed = Json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? parsed.value() : Json();
}

struct Outcome {
  bool ok = false;
  Json value;  // output or error
  bool arrived = false;
};

Outcome Await(Completions& completions, uint64_t activity_id, std::chrono::seconds timeout = 20s) {
  Outcome outcome;
  if (!completions.WaitFor(1, timeout)) return outcome;
  std::vector<engine::EventBody> results = completions.Take();
  EXPECT_EQ(results.size(), 1u);
  outcome.arrived = true;
  if (auto* ok = std::get_if<engine::TaskSucceeded>(&results[0])) {
    EXPECT_EQ(ok->activity_id, activity_id);
    outcome.ok = true;
    outcome.value = ok->output;
  } else if (auto* failed = std::get_if<engine::TaskFailed>(&results[0])) {
    EXPECT_EQ(failed->activity_id, activity_id);
    outcome.value = failed->error;
  }
  return outcome;
}

std::string ErrorType(engine::ErrorKind kind) {
  return std::string(engine::kErrorTypeBase) + engine::ErrorKindName(kind);
}

class HttpExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_.Route("GET", "/pet/1", [](const FixtureRequest&) {
      return JsonResponse(200, R"({"id":1,"name":"Milou","status":"available"})");
    });
    fixture_.Route("*", "/echo", [](const FixtureRequest& req) {
      Json out = Json::Object();
      out.Set("method", Json::String(req.method));
      out.Set("target", Json::String(req.target));
      out.Set("body", Json::String(req.body));
      return JsonResponse(200, out.Dump());
    });
    fixture_.Route("GET", "/text", [](const FixtureRequest&) {
      FixtureResponse r;
      r.headers["Content-Type"] = "text/plain; charset=utf-8";
      r.headers["X-Trace"] = "abc";
      r.body = "hello";
      return r;
    });
    fixture_.Route("GET", "/binary", [](const FixtureRequest&) {
      FixtureResponse r;
      r.headers["Content-Type"] = "application/octet-stream";
      r.body = std::string("\x00\x01\xff", 3);
      return r;
    });
    fixture_.Route("GET", "/redirect", [](const FixtureRequest&) {
      FixtureResponse r;
      r.status = 302;
      r.headers["Location"] = "/pet/1";
      return r;
    });
    fixture_.Route("GET", "/slow", [this](const FixtureRequest&) {
      gate_.Hold();
      return JsonResponse(200, "{}");
    });
    ASSERT_TRUE(fixture_.Start());
  }

  void TearDown() override {
    gate_.Open();
    executor_.reset();
    fixture_.Stop();
  }

  HttpExecutor& executor(ExecutorOptions options = {}) {
    if (!executor_) executor_ = std::make_unique<HttpExecutor>(std::move(options));
    return *executor_;
  }

  // Runs one request to its completion.
  Outcome Call(std::string kind, Json request, int64_t timeout_ms = 0,
               std::string key = "wf-1/do/0/call/0") {
    engine::ExecuteTask task;
    task.activity_id = ++next_id_;
    task.kind = std::move(kind);
    task.request = std::move(request);
    task.idempotency_key = std::move(key);
    task.timeout_ms = timeout_ms;
    Completions completions;
    executor().Start(std::move(task), completions.Callback());
    return Await(completions, next_id_);
  }

  Json Get(const std::string& path) {
    Json request = Json::Object();
    request.Set("method", Json::String("get"));
    request.Set("endpoint", Json::String(fixture_.base_url() + path));
    return request;
  }

  HttpFixture fixture_;
  Gate gate_;
  std::unique_ptr<HttpExecutor> executor_;
  uint64_t next_id_ = 0;
};

TEST_F(HttpExecutorTest, GetParsesJsonContent) {
  Outcome out = Call("http", Get("/pet/1"));
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value, Parse(R"({"id":1,"name":"Milou","status":"available"})"));
}

TEST_F(HttpExecutorTest, QueryIsEncodedAndJoinedWithExistingQuery) {
  Json request = Get("/echo?x=1");
  request.Set("query", Parse(R"({"q":"a b&c","n":2,"tags":["p","q"]})"));
  Outcome out = Call("http", request);
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value.Get("target").AsString(), "/echo?x=1&q=a%20b%26c&n=2&tags=p&tags=q");

  Json plain = Get("/echo");
  plain.Set("query", Parse(R"({"status":"available"})"));
  out = Call("http", plain);
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.value.Get("target").AsString(), "/echo?status=available");
}

TEST_F(HttpExecutorTest, PostSendsJsonBody) {
  Json request = Get("/echo");
  request.Set("method", Json::String("POST"));
  request.Set("body", Parse(R"({"name":"Rex","tags":[1,2]})"));
  Outcome out = Call("http", request);
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value.Get("method").AsString(), "POST");
  EXPECT_EQ(Parse(out.value.Get("body").AsString()), Parse(R"({"name":"Rex","tags":[1,2]})"));
  std::vector<FixtureRequest> seen = fixture_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].headers["content-type"], "application/json");
}

TEST_F(HttpExecutorTest, StringBodyIsSentAsIs) {
  Json request = Get("/echo");
  request.Set("method", Json::String("put"));
  request.Set("body", Json::String("plain text"));
  request.Set("headers", Parse(R"({"Content-Type":"text/csv"})"));
  Outcome out = Call("http", request);
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value.Get("method").AsString(), "PUT");
  EXPECT_EQ(out.value.Get("body").AsString(), "plain text");
  EXPECT_EQ(fixture_.requests()[0].headers["content-type"], "text/csv");
}

TEST_F(HttpExecutorTest, SendsHeadersIdempotencyKeyAndUserAgent) {
  Json request = Get("/pet/1");
  request.Set("headers", Parse(R"({"X-Custom":"v1","X-Number":7})"));
  Outcome out = Call("http", request, 0, "instance-9/do/1/getPet/0");
  ASSERT_TRUE(out.ok);
  std::vector<FixtureRequest> seen = fixture_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].headers["x-custom"], "v1");
  EXPECT_EQ(seen[0].headers["x-number"], "7");
  EXPECT_EQ(seen[0].headers["idempotency-key"], "instance-9/do/1/getPet/0");
  EXPECT_EQ(seen[0].headers["user-agent"], "baton/0.1");
}

TEST_F(HttpExecutorTest, BasicAndBearerAuthentication) {
  Json basic = Get("/pet/1");
  basic.Set("authentication",
            Parse(R"({"basic":{"username":"serverless-workflow","password":"conformance-test"}})"));
  ASSERT_TRUE(Call("http", basic).ok);
  Json bearer = Get("/pet/1");
  bearer.Set("authentication", Parse(R"({"bearer":{"token":"t0k3n"}})"));
  ASSERT_TRUE(Call("http", bearer).ok);
  std::vector<FixtureRequest> seen = fixture_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].headers["authorization"],
            "Basic c2VydmVybGVzcy13b3JrZmxvdzpjb25mb3JtYW5jZS10ZXN0");
  EXPECT_EQ(seen[1].headers["authorization"], "Bearer t0k3n");
}

TEST_F(HttpExecutorTest, UnsupportedAuthenticationIsAConfigurationError) {
  Json request = Get("/pet/1");
  request.Set("authentication", Parse(R"({"oauth2":{"authority":"http://127.0.0.1:1"}})"));
  Outcome out = Call("http", request);
  ASSERT_TRUE(out.arrived);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kConfiguration));
  EXPECT_EQ(out.value.Get("status").AsInt(), 400);
  EXPECT_EQ(out.value.Get("detail").AsString(),
            "authentication scheme 'oauth2' is not supported by this runtime yet");
  EXPECT_TRUE(fixture_.requests().empty());
}

TEST_F(HttpExecutorTest, OutputModes) {
  Outcome text = Call("http", Get("/text"));
  ASSERT_TRUE(text.ok);
  EXPECT_EQ(text.value, Json::String("hello"));

  Outcome binary = Call("http", Get("/binary"));
  ASSERT_TRUE(binary.ok);
  EXPECT_EQ(binary.value, Json::String("AAH/"));

  Json raw = Get("/pet/1");
  raw.Set("output", Json::String("raw"));
  Outcome raw_out = Call("http", raw);
  ASSERT_TRUE(raw_out.ok);
  EXPECT_EQ(raw_out.value,
            Json::String(Base64Encode(R"({"id":1,"name":"Milou","status":"available"})")));

  Json response = Get("/text?a=1");
  response.Set("output", Json::String("response"));
  response.Set("authentication", Parse(R"({"bearer":{"token":"secret"}})"));
  Outcome resp = Call("http", response, 0, "key-1");
  ASSERT_TRUE(resp.ok) << resp.value.Dump();
  EXPECT_EQ(resp.value.Get("statusCode").AsInt(), 200);
  EXPECT_EQ(resp.value.Get("content"), Json::String("hello"));
  EXPECT_EQ(resp.value.Get("headers").Get("x-trace").AsString(), "abc");
  EXPECT_EQ(resp.value.Get("headers").Get("content-type").AsString(), "text/plain; charset=utf-8");
  Json sent = resp.value.Get("request");
  EXPECT_EQ(sent.Get("method").AsString(), "GET");
  EXPECT_EQ(sent.Get("uri").AsString(), fixture_.base_url() + "/text?a=1");
  EXPECT_EQ(sent.Get("headers").Get("Idempotency-Key").AsString(), "key-1");
  EXPECT_EQ(sent.Get("headers").Get("User-Agent").AsString(), "baton/0.1");
  // Credentials stay out of workflow data.
  EXPECT_FALSE(sent.Get("headers").Has("Authorization"));
}

TEST_F(HttpExecutorTest, NotFoundIsACommunicationErrorWithTheHttpStatus) {
  Outcome out = Call("http", Get("/v2/pet/getPetByName/Milou"));
  ASSERT_TRUE(out.arrived);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kCommunication));
  EXPECT_TRUE(
      engine::SameErrorType(out.value.Get("type").AsString(),
                            "https://serverlessworkflow.io/dsl/errors/types/communication"));
  EXPECT_EQ(out.value.Get("status").AsInt(), 404);
  EXPECT_EQ(out.value.Get("title").AsString(), "HTTP 404 Not Found");
  std::string detail(out.value.Get("detail").AsString());
  EXPECT_NE(detail.find("GET " + fixture_.base_url() + "/v2/pet/getPetByName/Milou"),
            std::string::npos)
      << detail;
  EXPECT_NE(detail.find(R"({"code":404})"), std::string::npos) << detail;
}

TEST_F(HttpExecutorTest, RedirectFalseFailsAndRedirectTrueFollows) {
  Outcome refused = Call("http", Get("/redirect"));
  ASSERT_TRUE(refused.arrived);
  ASSERT_FALSE(refused.ok);
  EXPECT_EQ(refused.value.Get("status").AsInt(), 302);
  EXPECT_EQ(fixture_.requests().size(), 1u);  // not followed

  Json follow = Get("/redirect");
  follow.Set("redirect", Json::Bool(true));
  Outcome followed = Call("http", follow);
  ASSERT_TRUE(followed.ok) << followed.value.Dump();
  EXPECT_EQ(followed.value.Get("id").AsInt(), 1);
  std::vector<FixtureRequest> seen = fixture_.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2].path, "/pet/1");
}

TEST_F(HttpExecutorTest, ConnectionRefusedIsCommunicationError503) {
  HttpFixture closed;
  ASSERT_TRUE(closed.Start());
  std::string url = closed.base_url() + "/x";
  closed.Stop();
  Json request = Json::Object();
  request.Set("method", Json::String("get"));
  request.Set("endpoint", Json::String(url));
  Outcome out = Call("http", request);
  ASSERT_TRUE(out.arrived);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kCommunication));
  EXPECT_EQ(out.value.Get("status").AsInt(), 503);
  EXPECT_FALSE(out.value.Get("detail").AsString().empty());
}

TEST_F(HttpExecutorTest, UrlRewritesAndLoopbackOnly) {
  ExecutorOptions options;
  options.url_rewrites = {{"https://petstore.swagger.io/v2", fixture_.base_url()}};
  options.loopback_only = true;
  executor(options);

  Json rewritten = Json::Object();
  rewritten.Set("method", Json::String("get"));
  rewritten.Set("endpoint", Json::String("https://petstore.swagger.io/v2/pet/1"));
  rewritten.Set("output", Json::String("response"));
  Outcome ok = Call("http", rewritten);
  ASSERT_TRUE(ok.ok) << ok.value.Dump();
  EXPECT_EQ(ok.value.Get("content").Get("id").AsInt(), 1);
  // The workflow still sees the URI it asked for.
  EXPECT_EQ(ok.value.Get("request").Get("uri").AsString(), "https://petstore.swagger.io/v2/pet/1");

  Json outside = Json::Object();
  outside.Set("method", Json::String("get"));
  outside.Set("endpoint", Json::String("http://example.com/anything"));
  Outcome refused = Call("http", outside);
  ASSERT_TRUE(refused.arrived);
  ASSERT_FALSE(refused.ok);
  EXPECT_EQ(refused.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kCommunication));
  EXPECT_NE(refused.value.Get("detail").AsString().find("example.com"), std::string_view::npos);
  EXPECT_EQ(fixture_.requests().size(), 1u);
}

TEST_F(HttpExecutorTest, TimeoutIsATimeoutError) {
  auto started = std::chrono::steady_clock::now();
  Outcome out = Call("http", Get("/slow"), /*timeout_ms=*/300);
  ASSERT_TRUE(out.arrived);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kTimeout));
  EXPECT_EQ(out.value.Get("status").AsInt(), 408);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST_F(HttpExecutorTest, CancelCompletesPromptly) {
  engine::ExecuteTask task;
  task.activity_id = 77;
  task.kind = "http";
  task.request = Get("/slow");
  Completions completions;
  executor().Start(std::move(task), completions.Callback());
  ASSERT_TRUE(gate_.WaitEntered());
  auto cancelled_at = std::chrono::steady_clock::now();
  executor().Cancel(77);
  Outcome out = Await(completions, 77, 5s);
  ASSERT_TRUE(out.arrived);
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 2s);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kRuntime));
  EXPECT_EQ(out.value.Get("title").AsString(), "Cancelled");
}

TEST_F(HttpExecutorTest, ManyConcurrentRequestsAllComplete) {
  constexpr int kCount = 200;
  Completions completions;
  for (int i = 0; i < kCount; ++i) {
    engine::ExecuteTask task;
    task.activity_id = 1000 + i;
    task.kind = "http";
    task.request = Get("/echo?i=" + std::to_string(i));
    task.idempotency_key = "k" + std::to_string(i);
    executor().Start(std::move(task), completions.Callback());
  }
  ASSERT_TRUE(completions.WaitFor(kCount, 60s));
  std::vector<engine::EventBody> results = completions.Take();
  ASSERT_EQ(results.size(), static_cast<size_t>(kCount));
  std::vector<bool> seen(kCount, false);
  for (auto& result : results) {
    auto* ok = std::get_if<engine::TaskSucceeded>(&result);
    ASSERT_NE(ok, nullptr) << std::get<engine::TaskFailed>(result).error.Dump();
    int i = static_cast<int>(ok->activity_id) - 1000;
    ASSERT_GE(i, 0);
    ASSERT_LT(i, kCount);
    EXPECT_EQ(ok->output.Get("target").AsString(), "/echo?i=" + std::to_string(i));
    seen[i] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kCount);
}

TEST_F(HttpExecutorTest, UnknownKindIsAConfigurationError) {
  Outcome out = Call("grpc", Json::Object());
  ASSERT_TRUE(out.arrived);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kConfiguration));
}

// --- OpenAPI ------------------------------------------------------------------------------

constexpr const char* kSwagger = R"({
  "swagger": "2.0",
  "info": {"title": "Petstore", "version": "1"},
  "host": "petstore.swagger.io",
  "basePath": "/v2",
  "schemes": ["https", "http"],
  "paths": {
    "/pet/findByStatus": {"get": {
      "operationId": "findPetsByStatus",
      "parameters": [{"name": "status", "in": "query", "required": true, "type": "array",
                      "items": {"type": "string"}, "collectionFormat": "multi"}],
      "responses": {"200": {"description": "ok"}}}},
    "/pet/{petId}": {
      "parameters": [{"$ref": "#/parameters/petId"}],
      "get": {"operationId": "getPetById", "responses": {"200": {"description": "ok"}}},
      "post": {"operationId": "updatePetWithForm", "consumes": ["application/x-www-form-urlencoded"],
               "parameters": [{"name": "name", "in": "formData", "type": "string"}],
               "responses": {"200": {"description": "ok"}}}},
    "/pet": {"post": {"operationId": "addPet", "consumes": ["application/json"],
      "parameters": [{"name": "body", "in": "body", "schema": {"type": "object"}},
                     {"name": "X-Request-Id", "in": "header", "type": "string"}],
      "responses": {"200": {"description": "ok"}}}}
  },
  "parameters": {"petId": {"name": "petId", "in": "path", "required": true, "type": "integer"}}
})";

class OpenApiTest : public HttpExecutorTest {
 protected:
  void SetUp() override {
    HttpExecutorTest::SetUp();
    fixture_.Route("GET", "/v2/swagger.json",
                   [](const FixtureRequest&) { return JsonResponse(200, kSwagger); });
    fixture_.Route("GET", "/v2/pet/findByStatus", [](const FixtureRequest& req) {
      return JsonResponse(200, req.query.find("available") != std::string::npos
                                   ? R"([{"id":1,"name":"Milou","status":"available"}])"
                                   : "[]");
    });
    fixture_.Route("GET", "/v2/pet/1", [](const FixtureRequest&) {
      return JsonResponse(200, R"({"id":1,"name":"Milou","status":"available"})");
    });
    fixture_.Route("*", "/v2/pet",
                   [](const FixtureRequest& req) { return JsonResponse(200, req.body); });
    fixture_.Route("POST", "/v2/pet/5", [](const FixtureRequest& req) {
      Json out = Json::Object();
      out.Set("body", Json::String(req.body));
      return JsonResponse(200, out.Dump());
    });
    ExecutorOptions options;
    options.url_rewrites = {{"https://petstore.swagger.io", fixture_.base_url()}};
    options.loopback_only = true;
    executor(options);
  }

  Json Op(const std::string& operation_id, std::string_view parameters,
          const std::string& document = "https://petstore.swagger.io/v2/swagger.json") {
    Json request = Json::Object();
    Json doc = Json::Object();
    doc.Set("endpoint", Json::String(document));
    request.Set("document", doc);
    request.Set("operationId", Json::String(operation_id));
    request.Set("parameters", Parse(parameters));
    return request;
  }
};

TEST_F(OpenApiTest, Swagger2QueryArrayIsRepeated) {
  Outcome out = Call("openapi", Op("findPetsByStatus", R"({"status":["available","pending"]})"));
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value.size(), 1u);
  std::vector<FixtureRequest> seen = fixture_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].path, "/v2/swagger.json");
  EXPECT_EQ(seen[1].target, "/v2/pet/findByStatus?status=available&status=pending");
  EXPECT_EQ(seen[1].headers["idempotency-key"], "wf-1/do/0/call/0");
}

TEST_F(OpenApiTest, Swagger2PathParameterAndDocumentCache) {
  Json request = Op("getPetById", R"({"petId":1})");
  request.Set("output", Json::String("response"));
  Outcome out = Call("openapi", request);
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value.Get("statusCode").AsInt(), 200);
  EXPECT_EQ(out.value.Get("content").Get("name").AsString(), "Milou");
  EXPECT_EQ(out.value.Get("request").Get("uri").AsString(), "https://petstore.swagger.io/v2/pet/1");

  ASSERT_TRUE(Call("openapi", Op("getPetById", R"({"petId":1})")).ok);
  std::vector<FixtureRequest> seen = fixture_.requests();
  ASSERT_EQ(seen.size(), 3u);  // one document fetch, two calls
  EXPECT_EQ(seen[1].target, "/v2/pet/1");
  EXPECT_EQ(seen[2].target, "/v2/pet/1");
}

TEST_F(OpenApiTest, Swagger2BodyHeaderAndFormParameters) {
  Outcome out = Call("openapi", Op("addPet", R"({"body":{"name":"Rex"},"X-Request-Id":"r-1"})"));
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value, Parse(R"({"name":"Rex"})"));
  Outcome form = Call("openapi", Op("updatePetWithForm", R"({"petId":5,"name":"Rex Junior"})"));
  ASSERT_TRUE(form.ok) << form.value.Dump();
  EXPECT_EQ(form.value.Get("body").AsString(), "name=Rex%20Junior");
  std::vector<FixtureRequest> seen = fixture_.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].method, "POST");
  EXPECT_EQ(seen[1].headers["x-request-id"], "r-1");
  EXPECT_EQ(seen[1].headers["content-type"], "application/json");
  EXPECT_EQ(seen[2].headers["content-type"], "application/x-www-form-urlencoded");
}

TEST_F(OpenApiTest, UnknownOperationIsAConfigurationError) {
  Outcome out = Call("openapi", Op("deletePlanet", "{}"));
  ASSERT_TRUE(out.arrived);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kConfiguration));
  EXPECT_EQ(out.value.Get("status").AsInt(), 400);
  EXPECT_NE(out.value.Get("detail").AsString().find("deletePlanet"), std::string_view::npos);
}

TEST_F(OpenApiTest, MissingDocumentIsACommunicationError) {
  Outcome out =
      Call("openapi", Op("getPetById", R"({"petId":1})", fixture_.base_url() + "/nope.json"));
  ASSERT_TRUE(out.arrived);
  ASSERT_FALSE(out.ok);
  EXPECT_EQ(out.value.Get("type").AsString(), ErrorType(engine::ErrorKind::kCommunication));
  EXPECT_EQ(out.value.Get("status").AsInt(), 404);
}

constexpr const char* kOas3Yaml = R"(openapi: 3.0.3
info: {title: Users, version: "1"}
servers:
  - url: /api/{version}
    variables:
      version: {default: v3}
paths:
  /users/{userId}/notes:
    post:
      operationId: addNote
      parameters:
        - {name: userId, in: path, required: true, schema: {type: string}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: flags, in: query, explode: false, schema: {type: array}}
        - {name: X-Trace, in: header, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        "200": {description: ok}
)";

TEST_F(OpenApiTest, OpenApi3YamlWithRelativeServer) {
  fixture_.Route("GET", "/specs/users.yaml", [](const FixtureRequest&) {
    FixtureResponse r;
    r.headers["Content-Type"] = "application/yaml";
    r.body = kOas3Yaml;
    return r;
  });
  fixture_.Route("POST", "/api/v3/users/ann%20b/notes", [](const FixtureRequest& req) {
    Json out = Json::Object();
    out.Set("query", Json::String(req.query));
    out.Set("body", Json::String(req.body));
    return JsonResponse(200, out.Dump());
  });
  Outcome out =
      Call("openapi", Op("addNote",
                         R"({"userId":"ann b","tags":["a","b"],"flags":["x","y"],"X-Trace":"t1",
                            "text":"hi","pinned":true})",
                         fixture_.base_url() + "/specs/users.yaml"));
  ASSERT_TRUE(out.ok) << out.value.Dump();
  EXPECT_EQ(out.value.Get("query").AsString(), "tags=a&tags=b&flags=x%2Cy");
  EXPECT_EQ(Parse(out.value.Get("body").AsString()), Parse(R"({"text":"hi","pinned":true})"));
  std::vector<FixtureRequest> seen = fixture_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].headers["x-trace"], "t1");
}

TEST(OpenApiDocumentTest, ParsesYamlScalarsByTheCoreSchema) {
  Result<Json> doc =
      http::ParseApiDocument("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: text\ng: [x, 2]\nh: 0x10\n");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc.value(),
            Parse(R"({"a":1,"b":1.5,"c":true,"d":null,"e":"1","f":"text","g":["x",2],"h":16})"));
  EXPECT_FALSE(http::ParseApiDocument("a: [unclosed").ok());
}

TEST(UrlTest, AppendQueryAndLoopback) {
  EXPECT_EQ(http::AppendQuery("http://h/p", {{"a", "1"}}), "http://h/p?a=1");
  EXPECT_EQ(http::AppendQuery("http://h/p?", {{"a", "1"}}), "http://h/p?a=1");
  EXPECT_EQ(http::AppendQuery("http://h/p?x=1#frag", {{"a b", "é"}}),
            "http://h/p?x=1&a%20b=%C3%A9#frag");
  EXPECT_TRUE(http::IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(http::IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(http::IsLoopbackHost("localhost"));
  EXPECT_TRUE(http::IsLoopbackHost("::1"));
  EXPECT_FALSE(http::IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(http::IsLoopbackHost("127.0.0.1.nip.io"));
  EXPECT_FALSE(http::IsLoopbackHost("example.com"));
  Result<std::string> resolved = http::ResolveUrl("http://h:8/specs/a.yaml", "/api/v3");
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved.value(), "http://h:8/api/v3");
}

}  // namespace
}  // namespace baton::executors
