#include "api/router.h"

#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace baton::api {
namespace {

// A Responder that stores the answer; posts run inline (the router never posts).
struct Captured {
  std::optional<Response> response;
  Responder responder() {
    return Responder([this](Response r) { response = std::move(r); },
                     [](std::function<void()> fn) { fn(); });
  }
};

Handler Named(std::string name) {
  return [name](const Request& req, Responder res) {
    Response r;
    r.body = name;
    for (const auto& [k, v] : req.params) r.body += " " + k + "=" + v;
    res.Send(std::move(r));
  };
}

Response Dispatch(const Router& router, std::string method, std::string path) {
  Captured c;
  Request req;
  req.method = std::move(method);
  req.path = std::move(path);
  router.Handle(req, c.responder());
  EXPECT_TRUE(c.response.has_value());
  return c.response.value_or(Response{});
}

std::string AllowHeader(const Response& r) {
  for (const auto& [k, v] : r.headers) {
    if (k == "Allow") return v;
  }
  return "";
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.Add("GET", "/api/v1/instances", Named("list"));
    router_.Add("POST", "/api/v1/instances", Named("start"));
    router_.Add("GET", "/api/v1/instances/{id}", Named("get"));
    router_.Add("DELETE", "/api/v1/instances/{id}", Named("delete"));
    router_.Add("GET", "/api/v1/instances/{id}/history", Named("history"));
    router_.Add("GET", "/api/v1/instances/stats", Named("stats"));
    router_.Add("GET", "/api/v1/definitions/{namespace}/{name}/{version}", Named("def"));
    router_.Add("GET", "/", Named("root"));
  }
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralPaths) {
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances").body, "list");
  EXPECT_EQ(Dispatch(router_, "POST", "/api/v1/instances").body, "start");
  EXPECT_EQ(Dispatch(router_, "GET", "/").body, "root");
}

TEST_F(RouterTest, FillsParametersFromWholeSegments) {
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances/abc").body, "get id=abc");
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances/abc/history").body, "history id=abc");
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/definitions/ns/wf/1.0.0").body,
            "def name=wf namespace=ns version=1.0.0");
}

TEST_F(RouterTest, DecodesSegmentsAfterSplitting) {
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances/a%2Fb%20c").body, "get id=a/b c");
  // '+' is literal in paths.
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances/a+b").body, "get id=a+b");
}

TEST_F(RouterTest, LiteralSegmentBeatsParameter) {
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances/stats").body, "stats");
}

TEST_F(RouterTest, UnknownPathIs404Problem) {
  Response r = Dispatch(router_, "GET", "/api/v2/instances");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_NE(r.body.find("\"detail\":\"no resource at /api/v2/instances\""), std::string::npos)
      << r.body;
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances/").status, 404);  // empty {id}
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances/a/b").status, 404);
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1//instances").status, 404);
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  Response r = Dispatch(router_, "PUT", "/api/v1/instances/abc");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(AllowHeader(r), "GET, DELETE");
  EXPECT_NE(r.body.find("/api/v1/instances/{id}"), std::string::npos) << r.body;
  EXPECT_EQ(AllowHeader(Dispatch(router_, "DELETE", "/api/v1/instances")), "GET, POST");
  // Methods are case-sensitive.
  EXPECT_EQ(Dispatch(router_, "get", "/api/v1/instances").status, 405);
}

TEST_F(RouterTest, BadPathsAre400) {
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances/%zz").status, 400);
  EXPECT_EQ(Dispatch(router_, "GET", "/api/v1/instances/%4").status, 400);
  EXPECT_EQ(Dispatch(router_, "GET", "http://host/api/v1/instances").status, 400);
  EXPECT_EQ(Dispatch(router_, "GET", "*").status, 400);
  EXPECT_EQ(Dispatch(router_, "GET", "").status, 400);
}

TEST_F(RouterTest, ListsRoutesInRegistrationOrder) {
  auto routes = router_.Routes();
  ASSERT_EQ(routes.size(), 8u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].pattern, "/api/v1/instances");
  EXPECT_EQ(routes[3].method, "DELETE");
  EXPECT_EQ(routes[3].pattern, "/api/v1/instances/{id}");
}

TEST(RouterDeathTest, RejectsBadPatterns) {
  Router router;
  auto h = [](const Request&, Responder) {};
  EXPECT_DEATH(router.Add("GET", "no-slash", h), "BATON_CHECK");
  EXPECT_DEATH(router.Add("GET", "/a/{}", h), "BATON_CHECK");
  EXPECT_DEATH(router.Add("GET", "/a/{x}/{x}", h), "BATON_CHECK");
  EXPECT_DEATH(router.Add("GET", "/a/x{y}", h), "BATON_CHECK");
  router.Add("GET", "/a", h);
  EXPECT_DEATH(router.Add("GET", "/a", h), "BATON_CHECK");
}

TEST(ResponderTest, FirstSendWinsAndDroppingAnswers500) {
  std::vector<int> statuses;
  {
    Responder r([&](Response resp) { statuses.push_back(resp.status); },
                [](std::function<void()> fn) { fn(); });
    Responder copy = r;
    copy.Send(Response{201, "application/json", {}, "{}"});
    r.Send(Response{200, "application/json", {}, "{}"});
    EXPECT_TRUE(r.sent());
  }
  {
    Responder dropped([&](Response resp) { statuses.push_back(resp.status); },
                      [](std::function<void()> fn) { fn(); });
  }
  EXPECT_EQ(statuses, (std::vector<int>{201, 500}));
}

TEST(QueryStringTest, DecodesPairs) {
  auto q = ParseQueryString("a=1&b=x%20y+z&&c&d=");
  ASSERT_TRUE(q.ok());
  Fields expected = {{"a", "1"}, {"b", "x y z"}, {"c", ""}, {"d", ""}};
  EXPECT_EQ(*q, expected);
  EXPECT_FALSE(ParseQueryString("a=%G1").ok());
  EXPECT_FALSE(ParseQueryString("%=1").ok());
}

TEST(RequestTest, HeaderLookupIgnoresCase) {
  Request r;
  r.headers = {{"Content-Type", "text/plain"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(r.Header("content-type").value_or(""), "text/plain");
  EXPECT_EQ(r.Header("X-a").value_or(""), "1");
  EXPECT_FALSE(r.Header("missing").has_value());
  EXPECT_EQ(r.Param("none"), "");
}

}  // namespace
}  // namespace baton::api
