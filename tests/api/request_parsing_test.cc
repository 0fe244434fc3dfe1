#include "api/request_parsing.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace baton::api {
namespace {

using ::testing::HasSubstr;

std::string Error(const Status& s) { return s.ok() ? "OK" : s.message(); }
template <typename T>
std::string Error(const Result<T>& r) {
  return r.ok() ? "OK" : r.status().message();
}

Json MustParse(std::string_view text) {
  Result<Json> j = Json::Parse(text);
  EXPECT_TRUE(j.ok()) << text;
  return j.ok() ? *j : Json();
}

TEST(ParseJsonBodyTest, ReportsPositionOfSyntaxErrors) {
  auto r = ParseJsonBody("{\"workflow\": \"a/b\",\n \"input\": }");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("malformed JSON in the request body"));
  EXPECT_THAT(r.status().message(), HasSubstr("line 2, column"));
  // jq quotes the whole text after the message: it must not reach the client.
  EXPECT_THAT(r.status().message(), ::testing::Not(HasSubstr("while parsing")));
  EXPECT_THAT(Error(ParseJsonBody("[1, 2")), HasSubstr("line 1, column"));
}

TEST(ParseJsonBodyTest, EmptyBodyAsksForJson) {
  EXPECT_THAT(Error(ParseJsonBody("")), HasSubstr("the request body is empty"));
  EXPECT_THAT(Error(ParseJsonBody(" \r\n")), HasSubstr("the request body is empty"));
  EXPECT_TRUE(ParseJsonBody(" {} ").ok());
}

TEST(ParseJsonBodyTest, SurvivesDeepNestingAndBinary) {
  EXPECT_FALSE(ParseJsonBody(std::string(100000, '[')).ok());
  EXPECT_THAT(Error(ParseJsonBody(std::string("{\"a\":\0}", 7))),
              HasSubstr("NUL byte at offset 5"));
  EXPECT_FALSE(ParseJsonBody("\xff\xfe{}").ok());
}

TEST(ParseStartRequestTest, AcceptsFullAndMinimalRequests) {
  auto r = ParseStartRequest(
      MustParse(R"({"workflow": "ns/order:1.2.0", "input": {"n": 1}, "idempotencyKey": "k-1"})"));
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->workflow, "ns/order:1.2.0");
  EXPECT_EQ(r->input.Dump(), R"({"n":1})");
  EXPECT_EQ(r->idempotency_key, "k-1");

  auto minimal = ParseStartRequest(MustParse(R"({"workflow": "ns/order"})"));
  ASSERT_TRUE(minimal.ok()) << Error(minimal);
  EXPECT_TRUE(minimal->input.IsObject());
  EXPECT_TRUE(minimal->input.empty());
  EXPECT_EQ(minimal->idempotency_key, "");
}

TEST(ParseStartRequestTest, NamesTheJsonPathOfEachProblem) {
  EXPECT_EQ(Error(ParseStartRequest(MustParse(R"({"workflow": 3})"))),
            "/workflow: expected a string \"namespace/name[:version]\", got number");
  EXPECT_THAT(Error(ParseStartRequest(MustParse(R"({})"))),
              HasSubstr("/workflow: required member is missing"));
  EXPECT_THAT(Error(ParseStartRequest(MustParse(R"({"workflow": "noslash"})"))),
              HasSubstr("/workflow: expected \"namespace/name[:version]\", got \"noslash\""));
  EXPECT_THAT(Error(ParseStartRequest(MustParse(R"({"workflow": "-bad/x"})"))),
              HasSubstr("/workflow: namespace must be 1 to 63"));
  EXPECT_THAT(Error(ParseStartRequest(MustParse(R"({"workflow": "a/b:1 0"})"))),
              HasSubstr("/workflow: version must be"));
  EXPECT_EQ(Error(ParseStartRequest(MustParse(R"({"workflow": "a/b", "input": [1]})"))),
            "/input: expected an object, got array");
  EXPECT_EQ(Error(ParseStartRequest(MustParse(R"({"workflow": "a/b", "input": null})"))),
            "/input: expected an object, got null");
  EXPECT_EQ(Error(ParseStartRequest(MustParse(R"({"workflow": "a/b", "idempotencyKey": 7})"))),
            "/idempotencyKey: expected a string, got number");
  EXPECT_THAT(Error(ParseStartRequest(MustParse(R"({"workflow": "a/b", "idempotencyKey": ""})"))),
              HasSubstr("/idempotencyKey: expected 1 to 256 characters"));
  EXPECT_EQ(Error(ParseStartRequest(MustParse(R"({"workflow": "a/b", "idempotency_key": "x"})"))),
            "/idempotency_key: unknown member (expected workflow, input, idempotencyKey)");
  EXPECT_EQ(Error(ParseStartRequest(MustParse(R"({"workflow": "a/b", "x/y": 1})"))),
            "/x~1y: unknown member (expected workflow, input, idempotencyKey)");
  EXPECT_EQ(Error(ParseStartRequest(MustParse(R"(["a/b"])"))),
            "request body: expected a JSON object {\"workflow\": ...}, got array");
}

TEST(ParseStartRequestTest, InputSharesNothingWithTheBody) {
  Json body = MustParse(R"({"workflow": "a/b", "input": {"deep": {"x": [1, 2]}}})");
  auto r = ParseStartRequest(body);
  ASSERT_TRUE(r.ok());
  // Different storage: the jv pointers differ even though the values are equal.
  Json from_body = body.Get("input");
  EXPECT_EQ(from_body, r->input);
  EXPECT_NE(from_body.Peek().u.ptr, r->input.Peek().u.ptr);
}

TEST(ParseCancelBodyTest, AcceptsNothingOrAReason) {
  EXPECT_EQ(ParseCancelBody("").value(), "");
  EXPECT_EQ(ParseCancelBody("{}").value(), "");
  EXPECT_EQ(ParseCancelBody(R"({"reason": "operator request"})").value(), "operator request");
  EXPECT_EQ(Error(ParseCancelBody(R"({"reason": 1})")), "/reason: expected a string, got number");
  EXPECT_THAT(Error(ParseCancelBody(R"({"why": "x"})")), HasSubstr("/why: unknown member"));
  EXPECT_THAT(Error(ParseCancelBody("[]")), HasSubstr("expected a JSON object"));
  EXPECT_THAT(Error(ParseCancelBody("{")), HasSubstr("malformed JSON"));
}

TEST(ParseEmptyBodyTest, AcceptsOnlyNothing) {
  EXPECT_TRUE(ParseEmptyBody("").ok());
  EXPECT_TRUE(ParseEmptyBody(" {} ").ok());
  EXPECT_THAT(Error(ParseEmptyBody(R"({"a": 1})")), HasSubstr("/a: unknown member"));
  EXPECT_FALSE(ParseEmptyBody("1").ok());
}

TEST(ParseListFilterTest, ReadsEveryParameter) {
  Fields q = {{"status", "running"},
              {"workflow", "ns/wf:1.0.0"},
              {"since", "2024-05-01T12:00:00Z"},
              {"until", "1714600000000"},
              {"limit", "10"},
              {"cursor", "abc123"}};
  auto f = ParseListFilter(q);
  ASSERT_TRUE(f.ok()) << Error(f);
  EXPECT_EQ(f->status, "running");
  EXPECT_EQ(f->workflow, "ns/wf:1.0.0");
  EXPECT_EQ(f->since_ms, 1714564800000);
  EXPECT_EQ(f->until_ms, 1714600000000);
  EXPECT_EQ(f->limit, 10);
  EXPECT_EQ(f->cursor, "abc123");
  auto defaults = ParseListFilter({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->limit, 50);
}

TEST(ParseListFilterTest, RejectsBadValues) {
  EXPECT_THAT(Error(ParseListFilter({{"status", "done"}})),
              HasSubstr("query parameter 'status': unknown status \"done\""));
  EXPECT_THAT(Error(ParseListFilter({{"since", "yesterday"}})),
              HasSubstr("query parameter 'since': expected an RFC 3339 time"));
  EXPECT_THAT(Error(ParseListFilter({{"until", "2024-02-30T00:00:00Z"}})),
              HasSubstr("query parameter 'until'"));
  EXPECT_THAT(Error(ParseListFilter({{"limit", "0"}})),
              HasSubstr("query parameter 'limit': expected an integer from 1 to 1000"));
  EXPECT_THAT(Error(ParseListFilter({{"limit", "1001"}})), HasSubstr("'limit'"));
  EXPECT_THAT(Error(ParseListFilter({{"limit", "5x"}})), HasSubstr("'limit'"));
  EXPECT_THAT(Error(ParseListFilter({{"workflow", "nope"}})), HasSubstr("'workflow'"));
  EXPECT_THAT(Error(ParseListFilter({{"cursor", "a b"}})), HasSubstr("'cursor'"));
  EXPECT_THAT(Error(ParseListFilter({{"stauts", "running"}})),
              HasSubstr("unknown query parameter \"stauts\""));
  EXPECT_THAT(Error(ParseListFilter({{"limit", "1"}, {"limit", "2"}})),
              HasSubstr("given more than once"));
  EXPECT_THAT(Error(ParseListFilter({{"since", "2000"}, {"until", "1000"}})),
              HasSubstr("'since' must be before 'until'"));
  EXPECT_THAT(Error(ParseListFilter({{"since", "0"}})), HasSubstr("1970"));
}

TEST(ParseTimestampTest, AcceptsRfc3339AndEpochMillis) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(ParseTimestamp("2024-05-01T14:00:00.250+02:00").value(), 1714564800250);
  EXPECT_EQ(ParseTimestamp("2024-05-01t12:00:00z").value(), 1714564800000);
  EXPECT_EQ(ParseTimestamp("1714564800000").value(), 1714564800000);
  EXPECT_FALSE(ParseTimestamp("").ok());
  EXPECT_FALSE(ParseTimestamp("2024-05-01").ok());
  EXPECT_FALSE(ParseTimestamp("2024-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseTimestamp("-5").ok());
  EXPECT_FALSE(ParseTimestamp("99999999999999999999").ok());
}

TEST(ParseWaitSecondsTest, AcceptsZeroToThreeHundredExclusive) {
  EXPECT_EQ(ParseWaitSeconds("1").value(), 1000);
  EXPECT_EQ(ParseWaitSeconds("0.5").value(), 500);
  EXPECT_EQ(ParseWaitSeconds("300").value(), 300000);
  EXPECT_EQ(ParseWaitSeconds("0.0001").value(), 1);
  for (const char* bad : {"0", "-1", "301", "", "abc", "1s", "inf", "nan", "1e9"}) {
    EXPECT_THAT(Error(ParseWaitSeconds(bad)), HasSubstr("query parameter 'wait'")) << bad;
  }
}

TEST(ValidateIdsTest, SeparatesGarbageFromWellFormed) {
  EXPECT_TRUE(ValidateInstanceId("01hx3k5z8q9r7v6w5t4s3r2q1p").ok());
  EXPECT_TRUE(ValidateInstanceId("a.b_c-d").ok());
  EXPECT_FALSE(ValidateInstanceId("").ok());
  EXPECT_FALSE(ValidateInstanceId(std::string(129, 'a')).ok());
  EXPECT_FALSE(ValidateInstanceId("a/b").ok());
  EXPECT_THAT(Error(ValidateInstanceId(std::string("a\0b", 3))), HasSubstr("\\x00"));
  EXPECT_TRUE(ValidateDnsLabel("namespace", "my-ns1").ok());
  EXPECT_FALSE(ValidateDnsLabel("namespace", "-x").ok());
  EXPECT_FALSE(ValidateDnsLabel("namespace", std::string(64, 'a')).ok());
  EXPECT_TRUE(ValidateVersion("1.0.0-rc.1+build.5").ok());
  EXPECT_FALSE(ValidateVersion("1.0 0").ok());
  EXPECT_TRUE(ValidateWorkflowRef("ns/name").ok());
  EXPECT_TRUE(ValidateWorkflowRef("ns/name:1.0.0").ok());
  EXPECT_FALSE(ValidateWorkflowRef("ns/").ok());
  EXPECT_FALSE(ValidateWorkflowRef("ns/name:").ok());
}

TEST(ParseDeadLetterFilterTest, TakesEpochMillisAndFullErrorTypeUris) {
  const std::string uri = "https://serverlessworkflow.io/spec/1.0.0/errors/communication";
  auto f = ParseDeadLetterFilter({{"errorType", uri}, {"since", "1714564800000"}});
  ASSERT_TRUE(f.ok()) << Error(f);
  EXPECT_EQ(f->error_type, uri);
  EXPECT_EQ(f->since_ms, 1714564800000);
  EXPECT_EQ(f->until_ms, 0);
  EXPECT_EQ(f->limit, 50);  // the default page
  EXPECT_THAT(Error(ParseDeadLetterFilter({{"since", "0"}})), HasSubstr("not supported"));
  EXPECT_THAT(Error(ParseDeadLetterFilter({{"errorType", ""}})),
              HasSubstr("query parameter 'errorType': expected an error type"));
  EXPECT_FALSE(ParseDeadLetterFilter({{"errorType", std::string(513, 'a')}}).ok());
}

TEST(ParseRepairBodyTest, BoundsReasonAndAuthor) {
  std::string long_reason = R"({"reason": ")" + std::string(4097, 'x') + R"("})";
  EXPECT_EQ(Error(ParseRepairBody("retry", long_reason, "")), "/reason: longer than 4096 bytes");
  std::string long_by = R"({"reason": "r", "by": ")" + std::string(257, 'x') + R"("})";
  EXPECT_EQ(Error(ParseRepairBody("retry", long_by, "")), "/by: longer than 256 bytes");
  EXPECT_EQ(Error(ParseRepairBody("retry", R"({"reason": "r"})", std::string(257, 'u'))),
            "header X-Baton-User: longer than 256 bytes");
  // A long header does not matter when the body names the author.
  EXPECT_EQ(
      ParseRepairBody("retry", R"({"reason": "r", "by": "ada"})", std::string(257, 'u')).value().by,
      "ada");
  EXPECT_THAT(Error(ParseRepairBody("restart", R"({"reason": "r"})", "")),
              HasSubstr("unknown repair action \"restart\""));
}

TEST(ParseRepairBodyTest, KeepsAbsentAndNullApartAndCopiesValues) {
  auto absent = ParseRepairBody("retry", R"({"reason": "r"})", "");
  ASSERT_TRUE(absent.ok()) << Error(absent);
  EXPECT_EQ(absent->action, "retry");
  EXPECT_FALSE(absent->input.has_value());
  EXPECT_FALSE(absent->context.has_value());
  auto given = ParseRepairBody("retry", R"({"reason": "r", "input": null, "context": [1]})", "");
  ASSERT_TRUE(given.ok()) << Error(given);
  ASSERT_TRUE(given->input.has_value());
  EXPECT_TRUE(given->input->IsNull());
  EXPECT_EQ(given->context->Dump(), "[1]");
  // Any JSON value may be a skipped task's output.
  auto skip = ParseRepairBody("skip", R"({"reason": "r", "output": "done"})", "");
  ASSERT_TRUE(skip.ok()) << Error(skip);
  EXPECT_EQ(skip->output->AsString(), "done");
}

TEST(ParseRedriveBodyTest, FillsTheFilterAndTheRepair) {
  auto r = ParseRedriveBody(
      R"({"filter": {"errorType": "timeout", "until": "2024-05-01T12:00:00.500Z"},
          "action": "discard", "reason": "stale", "dryRun": false})",
      "ops");
  ASSERT_TRUE(r.ok()) << Error(r);
  EXPECT_EQ(r->filter.error_type, "timeout");
  EXPECT_EQ(r->filter.until_ms, 1714564800500);
  EXPECT_EQ(r->filter.limit, kMaxRedrive);
  EXPECT_EQ(r->repair.action, "discard");
  EXPECT_EQ(r->repair.reason, "stale");
  EXPECT_EQ(r->repair.by, "ops");
  EXPECT_FALSE(r->repair.input.has_value());
  EXPECT_FALSE(r->dry_run);
  EXPECT_EQ(
      ParseRedriveBody(R"({"filter": {}, "action": "retry", "reason": "r"})", "").value().repair.by,
      "anonymous");
  EXPECT_EQ(Error(ParseRedriveBody(R"({"filter": {}, "action": 1, "reason": "r"})", "")),
            "/action: expected a string, got number");
}

}  // namespace
}  // namespace baton::api
