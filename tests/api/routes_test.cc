// The REST routes against a scripted service (fake_service.h), driven through the Router
// the way the server drives it: handlers run on a "strand" thread, service callbacks come
// from the fake's commit thread.
#include "api/routes.h"

#include <future>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/fake_service.h"
#include "api/openapi.h"

namespace baton::api {
namespace {

using testing::CallbackThread;
using ::testing::ElementsAre;
using testing::FakeService;
using ::testing::HasSubstr;

class RoutesTest : public ::testing::Test {
 protected:
  RoutesTest() { AddRoutes(router_, service_); }
  ~RoutesTest() override { EXPECT_EQ(service_.reentrant_calls.load(), 0); }

  Response Call(const std::string& method, const std::string& target, const std::string& body = "",
                const Fields& headers = {}) {
    Request req;
    req.method = method;
    req.target = target;
    req.headers = headers;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      auto query = ParseQueryString(target.substr(q + 1));
      EXPECT_TRUE(query.ok());
      if (query.ok()) req.query = *query;
    }
    req.body = body;
    auto promise = std::make_shared<std::promise<Response>>();
    std::future<Response> future = promise->get_future();
    Responder responder([promise](Response r) { promise->set_value(std::move(r)); },
                        [this](std::function<void()> fn) { strand_.Run(std::move(fn)); });
    strand_.Run([this, req, responder] { router_.Handle(req, responder); });
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << method << " " << target << ": no answer";
      return Response{};
    }
    return future.get();
  }

  static Json Body(const Response& r) {
    Result<Json> j = Json::Parse(r.body);
    EXPECT_TRUE(j.ok()) << r.body;
    return j.ok() ? *j : Json();
  }
  static std::string Detail(const Response& r) {
    EXPECT_EQ(r.content_type, "application/problem+json") << r.body;
    return std::string(Body(r).Get("detail").AsString());
  }
  static std::string HeaderOf(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  // Destroyed last: the router and the service's callbacks post to it.
  CallbackThread strand_;
  FakeService service_;
  Router router_;
};

// --- definitions -----------------------------------------------------------------------------

TEST_F(RoutesTest, DeployAnswers201ThenIdempotent200) {
  Response r = Call("POST", "/api/v1/definitions", "document: {}");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"namespace":"ns","name":"wf","version":"1.0.0"})");
  EXPECT_EQ(HeaderOf(r, "Location"), "/api/v1/definitions/ns/wf/1.0.0");
  service_.deploy = [](const std::string&) -> Result<runtime::DeployResult> {
    return runtime::DeployResult{"ns", "wf", "1.0.0", false};
  };
  EXPECT_EQ(Call("POST", "/api/v1/definitions", "document: {}").status, 200);
}

TEST_F(RoutesTest, DeployListsValidationErrors) {
  service_.deploy = [](const std::string&) -> Result<runtime::DeployResult> {
    return Status::InvalidArgument(
        "2:3: error: 'dsl' is required (at /document)\n4:1: error: unknown task (at /do/0)");
  };
  Response r = Call("POST", "/api/v1/definitions", "document:\n  name: x\n");
  EXPECT_EQ(r.status, 400);
  Json body = Body(r);
  EXPECT_EQ(body.Get("type").AsString(), "urn:baton:problem:invalid-argument");
  EXPECT_EQ(body.Get("status").AsInt(), 400);
  EXPECT_THAT(std::string(body.Get("detail").AsString()), HasSubstr("'dsl' is required"));
  ASSERT_EQ(body.Get("errors").size(), 2u);
  EXPECT_EQ(body.Get("errors").At(1).AsString(), "4:1: error: unknown task (at /do/0)");
}

TEST_F(RoutesTest, DeployConflictIs409AndEmptyBodyIs400) {
  service_.deploy = [](const std::string&) -> Result<runtime::DeployResult> {
    return Status::AlreadyExists("ns/wf:1.0.0 is already deployed with different content");
  };
  Response r = Call("POST", "/api/v1/definitions", "x");
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(Detail(r), HasSubstr("different content"));
  EXPECT_THAT(Detail(Call("POST", "/api/v1/definitions", "  \n")),
              HasSubstr("expected a workflow document"));
}

TEST_F(RoutesTest, ListsAndGetsDefinitions) {
  Response list = Call("GET", "/api/v1/definitions");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body, R"({"items":[]})");
  Response versions = Call("GET", "/api/v1/definitions/ns/wf");
  EXPECT_EQ(versions.status, 404);
  EXPECT_EQ(Detail(versions), "workflow ns/wf is not deployed");
  Response one = Call("GET", "/api/v1/definitions/ns/wf/1.0.0");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(Body(one).Get("version").AsString(), "1.0.0");
  EXPECT_EQ(Call("GET", "/api/v1/definitions/n_s/wf").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/definitions/ns/wf/1.0%200").status, 400);
  EXPECT_THAT(service_.Calls(), ElementsAre("ListDefinitions", "GetDefinitionVersions ns/wf",
                                            "GetDefinition ns/wf:1.0.0"));
}

// --- starting instances ----------------------------------------------------------------------

TEST_F(RoutesTest, StartAnswers201WithIdAfterCommit) {
  Response r = Call("POST", "/api/v1/instances",
                    R"({"workflow": "ns/wf", "input": {"a": 1}, "idempotencyKey": "k"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"id":"01hx0000000000000000000000"})");
  EXPECT_EQ(HeaderOf(r, "Location"), "/api/v1/instances/01hx0000000000000000000000");
  std::lock_guard<std::mutex> lock(service_.mu);
  EXPECT_EQ(service_.last_start.workflow, "ns/wf");
  EXPECT_EQ(service_.last_start.input.Dump(), R"({"a":1})");
  EXPECT_EQ(service_.last_start.idempotency_key, "k");
}

TEST_F(RoutesTest, StartWithUsedKeyAnswers200) {
  service_.start = [](const runtime::StartRequest&) -> Result<runtime::StartResult> {
    return runtime::StartResult{"old", false};
  };
  Response r = Call("POST", "/api/v1/instances", R"({"workflow": "ns/wf", "idempotencyKey": "k"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"id":"old"})");
}

TEST_F(RoutesTest, StartWithWaitAnswersTheViewFromAnotherThread) {
  service_.async_delay = std::chrono::milliseconds(50);
  Response r = Call("POST", "/api/v1/instances?wait=2.5", R"({"workflow": "ns/wf"})");
  EXPECT_EQ(r.status, 201);
  Json view = Body(r);
  EXPECT_EQ(view.Get("id").AsString(), "01hx0000000000000000000000");
  EXPECT_EQ(view.Get("status").AsString(), "completed");
  std::lock_guard<std::mutex> lock(service_.mu);
  EXPECT_EQ(service_.last_wait_ms, 2500);
  // WaitInstance was called from the strand, not from the commit callback.
  EXPECT_THAT(service_.calls,
              ElementsAre("StartInstance ns/wf", "WaitInstance 01hx0000000000000000000000"));
}

TEST_F(RoutesTest, StartErrorsAreProblems) {
  EXPECT_THAT(Detail(Call("POST", "/api/v1/instances", "{\"workflow\": ")),
              HasSubstr("line 1, column"));
  EXPECT_EQ(Detail(Call("POST", "/api/v1/instances", R"({"workflow": 1})")),
            "/workflow: expected a string \"namespace/name[:version]\", got number");
  EXPECT_EQ(Detail(Call("POST", "/api/v1/instances", R"({"workflow": "a/b", "input": 1})")),
            "/input: expected an object, got number");
  EXPECT_THAT(Detail(Call("POST", "/api/v1/instances?wait=0", R"({"workflow": "a/b"})")),
              HasSubstr("'wait'"));
  EXPECT_THAT(Detail(Call("POST", "/api/v1/instances?wait=301", R"({"workflow": "a/b"})")),
              HasSubstr("'wait'"));
  EXPECT_THAT(Detail(Call("POST", "/api/v1/instances?nowait=1", R"({"workflow": "a/b"})")),
              HasSubstr("unknown query parameter 'nowait'"));
  service_.start = [](const runtime::StartRequest&) -> Result<runtime::StartResult> {
    return Status::NotFound("workflow a/b is not deployed");
  };
  Response r = Call("POST", "/api/v1/instances", R"({"workflow": "a/b"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Detail(r), "workflow a/b is not deployed");
  service_.start = [](const runtime::StartRequest&) -> Result<runtime::StartResult> {
    return Status::Unavailable("the server is shutting down");
  };
  EXPECT_EQ(Call("POST", "/api/v1/instances", R"({"workflow": "a/b"})").status, 503);
}

// --- reading instances -----------------------------------------------------------------------

TEST_F(RoutesTest, GetsInstanceAndValidatesIds) {
  Response r = Call("GET", "/api/v1/instances/abc");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r).Get("id").AsString(), "abc");
  Response garbage = Call("GET", "/api/v1/instances/a%00b");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_THAT(Detail(garbage), HasSubstr("instance id must be"));
  EXPECT_EQ(Call("GET", "/api/v1/instances/" + std::string(200, 'x')).status, 400);
  service_.get_instance = [](const std::string& id) -> Result<Json> {
    return Status::NotFound("instance " + id + " not found");
  };
  EXPECT_EQ(Call("GET", "/api/v1/instances/unknown1").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/instances/unknown1/history").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/instances/a%2Fb/history").status, 400);
}

TEST_F(RoutesTest, ListPassesTheFilter) {
  Response r = Call("GET",
                    "/api/v1/instances?status=waiting&workflow=ns%2Fwf&since=2024-05-01T12:00:00Z"
                    "&limit=5&cursor=c1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"items":[]})");
  std::lock_guard<std::mutex> lock(service_.mu);
  EXPECT_EQ(service_.last_filter.status, "waiting");
  EXPECT_EQ(service_.last_filter.workflow, "ns/wf");
  EXPECT_EQ(service_.last_filter.since_ms, 1714564800000);
  EXPECT_EQ(service_.last_filter.limit, 5);
  EXPECT_EQ(service_.last_filter.cursor, "c1");
}

TEST_F(RoutesTest, ListRejectsBadQueries) {
  EXPECT_THAT(Detail(Call("GET", "/api/v1/instances?since=tomorrow")), HasSubstr("'since'"));
  EXPECT_THAT(Detail(Call("GET", "/api/v1/instances?limit=-1")), HasSubstr("'limit'"));
  EXPECT_EQ(Call("GET", "/api/v1/instances?status=weird").status, 400);
  EXPECT_TRUE(service_.Calls().empty());
}

// --- controls --------------------------------------------------------------------------------

TEST_F(RoutesTest, CancelAnswersWithTheStatusAfterCommit) {
  service_.get_instance = [](const std::string& id) -> Result<Json> {
    Json v = Json::Object();
    v.Set("id", Json::String(id));
    v.Set("status", Json::String("cancelled"));
    return v;
  };
  Response r = Call("POST", "/api/v1/instances/i1/cancel", R"({"reason": "not needed"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"id":"i1","status":"cancelled"})");
  {
    std::lock_guard<std::mutex> lock(service_.mu);
    EXPECT_EQ(service_.last_cancel_reason, "not needed");
  }
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/cancel").status, 200);  // no body is fine
}

TEST_F(RoutesTest, ControlStillInProgressIs202) {
  service_.get_instance = [](const std::string& id) -> Result<Json> {
    Json v = Json::Object();
    v.Set("id", Json::String(id));
    v.Set("status", Json::String("compensating"));
    return v;
  };
  Response r = Call("POST", "/api/v1/instances/i1/cancel");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, R"({"id":"i1","status":"compensating"})");
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/suspend").status, 202);  // still "compensating"
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/resume").status, 200);
}

TEST_F(RoutesTest, ControlErrorsMapToProblems) {
  service_.control = [](const std::string& id) {
    return id == "done" ? Status::Conflict("instance done is already completed")
                        : Status::NotFound("instance " + id + " not found");
  };
  Response conflict = Call("POST", "/api/v1/instances/done/cancel");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Detail(conflict), "instance done is already completed");
  EXPECT_EQ(Call("POST", "/api/v1/instances/nope/suspend").status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/instances/nope/resume").status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/cancel", R"({"reason": 5})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/suspend", R"({"force": true})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/instances/%01/cancel").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/instances/i1/cancel").status, 405);
}

// --- operator repair -------------------------------------------------------------------------

TEST_F(RoutesTest, RetryPassesTheRequestAndAnswersTheViewAfterCommit) {
  service_.async_delay = std::chrono::milliseconds(20);
  service_.repair = [](const std::string& id, const runtime::RepairRequest&) -> Result<Json> {
    Json v = Json::Object();
    v.Set("id", Json::String(id));
    v.Set("status", Json::String("running"));
    v.Set("input", Json::Object());
    return v;
  };
  Response r = Call("POST", "/api/v1/instances/i1/retry",
                    R"({"reason": "fixed the DNS", "by": "ada", "input": {"n": 2},
                        "context": {"token": "t"}})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"id":"i1","status":"running","input":{}})");
  EXPECT_THAT(service_.Calls(), ElementsAre("Repair retry i1"));
  std::lock_guard<std::mutex> lock(service_.mu);
  EXPECT_EQ(service_.last_repair.action, "retry");
  EXPECT_EQ(service_.last_repair.reason, "fixed the DNS");
  EXPECT_EQ(service_.last_repair.by, "ada");
  ASSERT_TRUE(service_.last_repair.input.has_value());
  EXPECT_EQ(service_.last_repair.input->Dump(), R"({"n":2})");
  ASSERT_TRUE(service_.last_repair.context.has_value());
  EXPECT_EQ(service_.last_repair.context->Dump(), R"({"token":"t"})");
  EXPECT_FALSE(service_.last_repair.output.has_value());
}

TEST_F(RoutesTest, RepairAuthorIsByElseTheUserHeaderElseAnonymous) {
  auto author = [this] {
    std::lock_guard<std::mutex> lock(service_.mu);
    return service_.last_repair.by;
  };
  const Fields header = {{"x-baton-user", "grace"}};
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/discard", R"({"reason": "r", "by": "ada"})", header)
                .status,
            200);
  EXPECT_EQ(author(), "ada");
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/discard", R"({"reason": "r"})", header).status, 200);
  EXPECT_EQ(author(), "grace");
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/discard", R"({"reason": "r", "by": ""})").status,
            200);
  EXPECT_EQ(author(), "anonymous");
}

TEST_F(RoutesTest, EachRepairRouteNamesItsActionAndTakesItsOwnMembers) {
  EXPECT_EQ(
      Call("POST", "/api/v1/instances/i1/skip", R"({"reason": "r", "output": [1, 2]})").status,
      200);
  {
    std::lock_guard<std::mutex> lock(service_.mu);
    EXPECT_EQ(service_.last_repair.action, "skip");
    ASSERT_TRUE(service_.last_repair.output.has_value());
    EXPECT_EQ(service_.last_repair.output->Dump(), "[1,2]");
  }
  // An explicit null output is passed on as null, not as "absent".
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/skip", R"({"reason": "r", "output": null})").status,
            200);
  {
    std::lock_guard<std::mutex> lock(service_.mu);
    ASSERT_TRUE(service_.last_repair.output.has_value());
    EXPECT_TRUE(service_.last_repair.output->IsNull());
  }
  EXPECT_EQ(Call("POST", "/api/v1/instances/i2/compensate", R"({"reason": "r"})").status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/instances/i3/discard", R"({"reason": "r"})").status, 200);
  EXPECT_THAT(service_.Calls(), ElementsAre("Repair skip i1", "Repair skip i1",
                                            "Repair compensate i2", "Repair discard i3"));
}

TEST_F(RoutesTest, RepairBodiesAreValidatedBeforeTheServiceIsCalled) {
  auto detail = [this](const std::string& route, const std::string& body) {
    Response r = Call("POST", "/api/v1/instances/i1/" + route, body);
    EXPECT_EQ(r.status, 400) << route << " " << body;
    return Detail(r);
  };
  EXPECT_EQ(detail("retry", R"({"by": "ada"})"),
            "/reason: required member is missing (a non-empty string saying why; it is kept in "
            "the instance's history)");
  EXPECT_EQ(detail("retry", R"({"reason": " \t"})"), "/reason: must not be empty");
  EXPECT_EQ(detail("skip", R"({"reason": 7})"), "/reason: expected a string, got number");
  EXPECT_EQ(detail("discard", R"({"reason": "r", "by": false})"),
            "/by: expected a string, got boolean");
  EXPECT_EQ(detail("retry", R"({"reason": "r", "force": true})"),
            "/force: unknown member of a retry request (expected reason, by, input, context)");
  EXPECT_EQ(detail("skip", R"({"reason": "r", "input": {}})"),
            "/input: unknown member of a skip request (expected reason, by, output)");
  EXPECT_EQ(detail("retry", R"({"reason": "r", "output": 1})"),
            "/output: unknown member of a retry request (expected reason, by, input, context)");
  EXPECT_EQ(detail("compensate", R"({"reason": "r", "context": {}})"),
            "/context: unknown member of a compensate request (expected reason, by)");
  EXPECT_EQ(detail("discard", R"(["reason"])"),
            "request body: expected a JSON object {\"reason\": \"...\"}, got array");
  EXPECT_EQ(detail("retry", ""),
            "the request body is empty: expected a JSON object {\"reason\": \"...\"}");
  EXPECT_THAT(detail("retry", R"({"reason": )"), HasSubstr("malformed JSON in the request body"));
  EXPECT_THAT(Detail(Call("POST", "/api/v1/instances/a%01b/retry", R"({"reason": "r"})")),
              HasSubstr("instance id must be"));
  EXPECT_TRUE(service_.Calls().empty());
}

TEST_F(RoutesTest, RepairPassesTheServicesNotFoundAndConflictThrough) {
  service_.repair = [](const std::string& id, const runtime::RepairRequest& r) -> Result<Json> {
    if (id == "gone") return Status::NotFound("no instance with id 'gone'");
    if (r.action == "skip")
      return Status::Conflict("instance has no failed task to skip (it timed out)");
    return Status::Conflict(
        "instance is completed; retry applies to faulted or compensation_failed instances");
  };
  Response missing = Call("POST", "/api/v1/instances/gone/retry", R"({"reason": "r"})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing).Get("type").AsString(), "urn:baton:problem:not-found");
  EXPECT_EQ(Detail(missing), "no instance with id 'gone'");
  Response done = Call("POST", "/api/v1/instances/i1/retry", R"({"reason": "r"})");
  EXPECT_EQ(done.status, 409);
  EXPECT_EQ(Body(done).Get("type").AsString(), "urn:baton:problem:conflict");
  EXPECT_EQ(Detail(done),
            "instance is completed; retry applies to faulted or compensation_failed instances");
  Response skip = Call("POST", "/api/v1/instances/i1/skip", R"({"reason": "r"})");
  EXPECT_EQ(skip.status, 409);
  EXPECT_EQ(Detail(skip), "instance has no failed task to skip (it timed out)");
  service_.repair = [](const std::string&, const runtime::RepairRequest&) -> Result<Json> {
    return Status::Unavailable("the server is shutting down");
  };
  EXPECT_EQ(Call("POST", "/api/v1/instances/i1/compensate", R"({"reason": "r"})").status, 503);
  EXPECT_EQ(Call("GET", "/api/v1/instances/i1/retry").status, 405);
}

// --- dead letters ----------------------------------------------------------------------------

TEST_F(RoutesTest, DeadLettersPassTheFilterAndAnswerTheServicesPage) {
  service_.list_dead_letters = [](const runtime::DeadLetterFilter&) -> Result<Json> {
    return Json::Parse(R"({"items":[{"id":"i1","status":"faulted"}],"nextCursor":"c2"})");
  };
  Response r = Call("GET",
                    "/api/v1/dead-letters?workflow=ns%2Fwf:1.0.0&errorType=communication"
                    "&since=2024-05-01T12:00:00Z&until=2024-05-01T16:00:00%2B02:00&limit=7"
                    "&cursor=c1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"items":[{"id":"i1","status":"faulted"}],"nextCursor":"c2"})");
  std::lock_guard<std::mutex> lock(service_.mu);
  const runtime::DeadLetterFilter& f = service_.last_dead_letter_filter;
  EXPECT_EQ(f.workflow, "ns/wf:1.0.0");
  EXPECT_EQ(f.error_type, "communication");
  EXPECT_EQ(f.since_ms, 1714564800000);
  EXPECT_EQ(f.until_ms, 1714572000000);  // 16:00+02:00 = 14:00Z
  EXPECT_EQ(f.limit, 7);
  EXPECT_EQ(f.cursor, "c1");
}

TEST_F(RoutesTest, DeadLettersRejectBadQueries) {
  auto detail = [this](const std::string& query) {
    Response r = Call("GET", "/api/v1/dead-letters?" + query);
    EXPECT_EQ(r.status, 400) << query;
    return Detail(r);
  };
  EXPECT_THAT(detail("since=yesterday"),
              HasSubstr("query parameter 'since': expected an RFC 3339 time"));
  EXPECT_THAT(detail("until=2024-13-01T00:00:00Z"), HasSubstr("query parameter 'until'"));
  EXPECT_THAT(detail("status=faulted"), HasSubstr("unknown query parameter \"status\""));
  EXPECT_THAT(detail("limit=0"), HasSubstr("query parameter 'limit'"));
  EXPECT_THAT(detail("errorType=a%20b"), HasSubstr("query parameter 'errorType'"));
  EXPECT_THAT(detail("workflow=nope"), HasSubstr("query parameter 'workflow'"));
  EXPECT_THAT(detail("limit=1&limit=2"), HasSubstr("given more than once"));
  EXPECT_EQ(detail("since=2024-05-02T00:00:00Z&until=2024-05-01T00:00:00Z"),
            "query parameters: 'since' must be before 'until'");
  EXPECT_TRUE(service_.Calls().empty());
}

TEST_F(RoutesTest, RedrivePassesFilterActionAndDryRun) {
  service_.redrive = [](const runtime::DeadLetterFilter&, const runtime::RepairRequest&,
                        bool dry_run) -> Result<Json> {
    Json out = *Json::Parse(R"({"matched":1,"items":[{"id":"i1","result":"applied"}]})");
    out.Set("dryRun", Json::Bool(dry_run));
    return out;
  };
  Response r = Call("POST", "/api/v1/dead-letters/redrive",
                    R"({"filter": {"workflow": "ns/wf", "errorType": "timeout",
                                   "since": "2024-05-01T12:00:00Z", "until": "1714600000000"},
                        "action": "compensate", "reason": "supplier down", "dryRun": true})",
                    {{"X-Baton-User", "ops-bot"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"matched":1,"items":[{"id":"i1","result":"applied"}],"dryRun":true})");
  EXPECT_THAT(service_.Calls(), ElementsAre("Redrive compensate"));
  {
    std::lock_guard<std::mutex> lock(service_.mu);
    const runtime::DeadLetterFilter& f = service_.last_dead_letter_filter;
    EXPECT_EQ(f.workflow, "ns/wf");
    EXPECT_EQ(f.error_type, "timeout");
    EXPECT_EQ(f.since_ms, 1714564800000);
    EXPECT_EQ(f.until_ms, 1714600000000);
    EXPECT_EQ(f.limit, 1000);  // a redrive acts on up to 1000 instances, not one page
    EXPECT_EQ(service_.last_repair.action, "compensate");
    EXPECT_EQ(service_.last_repair.reason, "supplier down");
    EXPECT_EQ(service_.last_repair.by, "ops-bot");
    EXPECT_TRUE(service_.last_dry_run);
  }
  // dryRun defaults to false; an empty filter matches every dead letter.
  EXPECT_EQ(Call("POST", "/api/v1/dead-letters/redrive",
                 R"({"filter": {}, "action": "retry", "reason": "r", "by": "ada"})")
                .status,
            200);
  std::lock_guard<std::mutex> lock(service_.mu);
  EXPECT_FALSE(service_.last_dry_run);
  EXPECT_EQ(service_.last_dead_letter_filter.workflow, "");
  EXPECT_EQ(service_.last_dead_letter_filter.since_ms, 0);
  EXPECT_EQ(service_.last_repair.by, "ada");
}

TEST_F(RoutesTest, RedriveRejectsBadBodies) {
  auto detail = [this](const std::string& body) {
    Response r = Call("POST", "/api/v1/dead-letters/redrive", body);
    EXPECT_EQ(r.status, 400) << body;
    return Detail(r);
  };
  EXPECT_EQ(detail(R"({"filter": {}, "action": "skip", "reason": "r"})"),
            "/action: skip is not allowed in bulk, since each skipped task needs its own output; "
            "skip instances one at a time (POST /api/v1/instances/{id}/skip)");
  EXPECT_EQ(detail(R"({"filter": {}, "action": "restart", "reason": "r"})"),
            "/action: expected retry, compensate or discard, got \"restart\"");
  EXPECT_EQ(detail(R"({"filter": {}, "reason": "r"})"),
            "/action: required member is missing (expected retry, compensate or discard)");
  EXPECT_THAT(detail(R"({"filter": {}, "action": "retry"})"),
              HasSubstr("/reason: required member is missing"));
  EXPECT_THAT(detail(R"({"action": "retry", "reason": "r"})"),
              HasSubstr("/filter: required member is missing"));
  EXPECT_EQ(detail(R"({"filter": [], "action": "retry", "reason": "r"})"),
            "/filter: expected an object, got array");
  EXPECT_EQ(detail(R"({"filter": {"status": "faulted"}, "action": "retry", "reason": "r"})"),
            "/filter/status: unknown member of the filter (expected workflow, errorType, since, "
            "until)");
  EXPECT_EQ(detail(R"({"filter": {}, "action": "retry", "reason": "r", "input": {}})"),
            "/input: unknown member of a redrive request (expected filter, action, reason, by, "
            "dryRun)");
  EXPECT_THAT(detail(R"({"filter": {"since": "last week"}, "action": "retry", "reason": "r"})"),
              HasSubstr("/filter/since: expected an RFC 3339 time"));
  EXPECT_EQ(detail(R"({"filter": {"until": 5}, "action": "retry", "reason": "r"})"),
            "/filter/until: expected a string, got number");
  EXPECT_THAT(detail(R"({"filter": {"workflow": "x"}, "action": "retry", "reason": "r"})"),
              HasSubstr("/filter/workflow: expected \"namespace/name[:version]\""));
  EXPECT_EQ(detail(R"({"filter": {"since": "2024-05-02T00:00:00Z", "until": "2024-05-01T00:00:00Z"},
                       "action": "retry", "reason": "r"})"),
            "/filter: 'since' must be before 'until'");
  EXPECT_EQ(detail(R"({"filter": {}, "action": "retry", "reason": "r", "dryRun": "yes"})"),
            "/dryRun: expected a boolean, got string");
  EXPECT_THAT(detail(""), HasSubstr("the request body is empty"));
  EXPECT_TRUE(service_.Calls().empty());
}

TEST_F(RoutesTest, RedriveErrorsMapToProblems) {
  service_.redrive = [](const runtime::DeadLetterFilter&, const runtime::RepairRequest&,
                        bool) -> Result<Json> {
    return Status::Unavailable("the store is not ready");
  };
  Response r = Call("POST", "/api/v1/dead-letters/redrive",
                    R"({"filter": {}, "action": "discard", "reason": "r"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Detail(r), "the store is not ready");
  EXPECT_EQ(Call("GET", "/api/v1/dead-letters/redrive").status, 405);
}

// --- operations ------------------------------------------------------------------------------

TEST_F(RoutesTest, HealthAndReadiness) {
  EXPECT_EQ(Call("GET", "/healthz").body, R"({"status":"ok"})");
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  service_.ready = false;
  Response r = Call("GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_F(RoutesTest, ServesTheOpenApiDocument) {
  Response r = Call("GET", "/api/v1/openapi.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, OpenApiDocument());
}

TEST_F(RoutesTest, ServiceErrorCodesMapToHttp) {
  const std::pair<Status, int> cases[] = {
      {Status::InvalidArgument("x"), 400}, {Status::NotFound("x"), 404},
      {Status::AlreadyExists("x"), 409},   {Status::Conflict("x"), 409},
      {Status::Unavailable("x"), 503},     {Status::DeadlineExceeded("x"), 504},
      {Status::Internal("x"), 500},        {Status(StatusCode::kCommitUnknown, "x"), 500},
  };
  for (const auto& [status, http] : cases) {
    service_.get_instance = [status = status](const std::string&) -> Result<Json> {
      return status;
    };
    Response r = Call("GET", "/api/v1/instances/i1");
    EXPECT_EQ(r.status, http) << status.ToString();
    EXPECT_EQ(Body(r).Get("status").AsInt(), http);
    EXPECT_EQ(Body(r).Get("detail").AsString(), "x");
  }
}

}  // namespace
}  // namespace baton::api
