// The client verbs through cli::Main, against the fixture HTTP server standing in for a
// baton server's REST API: the requests each verb sends, what it prints, its exit code.
#include "cli/client_commands.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/json.h"
#include "cli/cli.h"
#include "cli/time_format.h"
#include "testing/http_fixture.h"

namespace baton::cli {
namespace {

using testing::FixtureRequest;
using testing::FixtureResponse;
using testing::HttpFixture;

FixtureResponse Answer(int status, std::string body, std::string type = "application/json") {
  FixtureResponse response;
  response.status = status;
  response.headers["Content-Type"] = std::move(type);
  response.body = std::move(body);
  return response;
}

FixtureResponse ProblemAnswer(int status, const std::string& title, const std::string& detail) {
  Json problem = Json::Object();
  problem.Set("type", Json::String("about:blank"));
  problem.Set("title", Json::String(title));
  problem.Set("status", Json::Number(status));
  problem.Set("detail", Json::String(detail));
  return Answer(status, problem.Dump(), "application/problem+json");
}

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

CliRun RunCli(std::vector<std::string> args, ServeFn serve = {}) {
  args.insert(args.begin(), "baton");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  std::ostringstream out;
  std::ostringstream err;
  CliRun run;
  run.code = Main(static_cast<int>(argv.size()), argv.data(), std::move(serve), out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

class ClientCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A temporary directory per test for documents and input files.
    char pattern[] = "/tmp/baton-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    server_.Stop();
    std::string command = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }

  void Start() { ASSERT_TRUE(server_.Start()); }
  std::string url() const { return server_.base_url(); }
  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
  CliRun Client(std::vector<std::string> args) {
    args.push_back("--server");
    args.push_back(url());
    return RunCli(std::move(args));
  }

  HttpFixture server_;
  std::string dir_;
};

// ---- deploy ----

TEST_F(ClientCommandsTest, DeployPrintsDeployedOrUnchangedPerFile) {
  server_.Route("POST", "/api/v1/definitions", [](const FixtureRequest& request) {
    bool is_new = request.body.find("hello") != std::string::npos;
    return Answer(is_new ? 201 : 200,
                  is_new ? R"({"namespace":"examples","name":"hello","version":"1.0.0"})"
                         : R"({"namespace":"examples","name":"other","version":"2.0.0"})");
  });
  Start();
  std::string a = WriteFile("a.yaml", "name: hello\n");
  std::string b = WriteFile("b.json", R"({"name":"other"})");
  CliRun run = Client({"deploy", a, b});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "deployed examples/hello:1.0.0\nunchanged examples/other:2.0.0\n");
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].headers["content-type"], "application/yaml");
  EXPECT_EQ(requests[0].body, "name: hello\n");
  EXPECT_EQ(requests[1].headers["content-type"], "application/json");
}

TEST_F(ClientCommandsTest, DeployPrintsTheServersValidationLinesPerFileAndExits1) {
  server_.Route("POST", "/api/v1/definitions", [](const FixtureRequest&) {
    return ProblemAnswer(400, "Invalid workflow document",
                         "document:9:9: error: invalid jq expression (at /do/0/a/set/x)\n"
                         "10:7: error: 'then' target 'nowhere' does not exist (at /do/0/a/then)\n"
                         "the document has 2 errors");
  });
  Start();
  std::string bad = WriteFile("bad.yaml", "x");
  CliRun run = Client({"deploy", bad});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err,
            bad + ":9:9: error: invalid jq expression (at /do/0/a/set/x)\n" + bad +
                ":10:7: error: 'then' target 'nowhere' does not exist (at /do/0/a/then)\n" + bad +
                ": error: the document has 2 errors\n");
}

TEST_F(ClientCommandsTest, DeployPrefersTheProblemsErrorsMember) {
  server_.Route("POST", "/api/v1/definitions", [](const FixtureRequest&) {
    return Answer(
        400,
        R"json({"title":"Invalid request","status":400,"detail":"ignored when errors exist",
                      "errors":["document:3:1: error: one (at /a)","document:4:2: error: two"]})json",
        "application/problem+json");
  });
  Start();
  std::string bad = WriteFile("bad.yaml", "x");
  CliRun run = Client({"deploy", bad});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.err, bad + ":3:1: error: one (at /a)\n" + bad + ":4:2: error: two\n");
}

TEST_F(ClientCommandsTest, DeployConflictIsOneLineAndTheOtherFilesStillDeploy) {
  server_.Route("POST", "/api/v1/definitions", [](const FixtureRequest& request) {
    if (request.body == "taken") {
      return ProblemAnswer(409, "Conflict", "examples/hello:1.0.0 exists with other content");
    }
    return Answer(201, R"({"namespace":"examples","name":"next","version":"1.0.0"})");
  });
  Start();
  std::string taken = WriteFile("taken.yaml", "taken");
  std::string next = WriteFile("next.yaml", "next");
  CliRun run = Client({"deploy", taken, next, dir_ + "/missing.yaml"});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out, "deployed examples/next:1.0.0\n");
  EXPECT_NE(
      run.err.find(taken + ": error: Conflict: examples/hello:1.0.0 exists with other content\n"),
      std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("error: cannot read '" + dir_ + "/missing.yaml'"), std::string::npos);
}

// ---- start ----

TEST_F(ClientCommandsTest, StartSendsWorkflowInputAndKeyAndPrintsTheId) {
  server_.Route("POST", "/api/v1/instances",
                [](const FixtureRequest&) { return Answer(201, R"({"id":"i-42"})"); });
  Start();
  CliRun run = Client({"start", "examples/hello:1.0.0", "--input", R"({"name":"Ada"})",
                       "--idempotency-key", "order-7"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "i-42\n");
  EXPECT_EQ(run.err, "");
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].query, "");
  auto body = Json::Parse(requests[0].body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->Get("workflow").AsString(), "examples/hello:1.0.0");
  EXPECT_EQ(body->Get("input").Get("name").AsString(), "Ada");
  EXPECT_EQ(body->Get("idempotencyKey").AsString(), "order-7");
}

TEST_F(ClientCommandsTest, StartWithAUsedIdempotencyKeySaysNothingNewStarted) {
  server_.Route("POST", "/api/v1/instances",
                [](const FixtureRequest&) { return Answer(200, R"({"id":"i-42"})"); });
  Start();
  CliRun run = Client({"start", "examples/hello", "--idempotency-key", "k"});
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.out, "i-42\n");
  EXPECT_NE(run.err.find("idempotency key 'k' names an existing instance"), std::string::npos);
}

TEST_F(ClientCommandsTest, StartReadsInputFromAFileAndDefaultsToAnEmptyObject) {
  server_.Route("POST", "/api/v1/instances",
                [](const FixtureRequest&) { return Answer(201, R"({"id":"x"})"); });
  Start();
  std::string input = WriteFile("in.json", R"({"n": 1})");
  ASSERT_EQ(Client({"start", "a/b", "--input-file", input}).code, 0);
  ASSERT_EQ(Client({"start", "a/b"}).code, 0);
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(Json::Parse(requests[0].body)->Get("input").Dump(), R"({"n":1})");
  EXPECT_EQ(Json::Parse(requests[1].body)->Get("input").Dump(), "{}");
  EXPECT_FALSE(Json::Parse(requests[1].body)->Has("idempotencyKey"));
}

TEST_F(ClientCommandsTest, StartWaitPrintsStatusAndOutputWhenCompleted) {
  server_.Route("POST", "/api/v1/instances", [](const FixtureRequest&) {
    return Answer(201, R"({"id":"i-1","status":"completed","output":{"greeting":"hi"}})");
  });
  Start();
  CliRun run = Client({"start", "examples/hello", "--wait", "--timeout", "20"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "i-1 completed\n{\n  \"greeting\": \"hi\"\n}\n");
  EXPECT_EQ(server_.requests().at(0).query, "wait=20");
}

TEST_F(ClientCommandsTest, StartWaitExits1WhenTheWorkflowFaults) {
  server_.Route("POST", "/api/v1/instances", [](const FixtureRequest&) {
    return Answer(201,
                  R"({"id":"i-1","status":"faulted","error":{"title":"Boom","detail":"bad"}})");
  });
  Start();
  CliRun run = Client({"start", "examples/hello", "--wait"});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out, "i-1 faulted\n");
  EXPECT_NE(run.err.find("error: instance i-1 faulted: Boom: bad\n"), std::string::npos);
  EXPECT_EQ(server_.requests().at(0).query, "wait=300");
}

TEST_F(ClientCommandsTest, StartWaitExits4WhenTheInstanceIsStillRunning) {
  server_.Route("POST", "/api/v1/instances", [](const FixtureRequest&) {
    return Answer(201, R"({"id":"i-1","status":"waiting"})");
  });
  Start();
  CliRun run = Client({"start", "examples/hello", "--wait", "--timeout", "1"});
  EXPECT_EQ(run.code, 4);
  EXPECT_EQ(run.err,
            "error: instance i-1 is still waiting after 1 s (follow it with `baton get i-1`)\n");
}

TEST_F(ClientCommandsTest, StartRefusedByTheServerPrintsTheProblemAndExits1) {
  server_.Route("POST", "/api/v1/instances", [](const FixtureRequest&) {
    return ProblemAnswer(404, "Not Found", "no workflow definition nope/nope");
  });
  Start();
  CliRun run = Client({"start", "nope/nope"});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "error: Not Found: no workflow definition nope/nope\n");
}

TEST_F(ClientCommandsTest, StartRejectsBadArgumentsBeforeSendingAnything) {
  Start();
  CliRun bad_json = Client({"start", "a/b", "--input", "{not json"});
  EXPECT_EQ(bad_json.code, 2);
  EXPECT_NE(bad_json.err.find("error: --input is not valid JSON: "), std::string::npos);

  CliRun bad_name = Client({"start", "hello"});
  EXPECT_EQ(bad_name.code, 2);
  EXPECT_EQ(bad_name.err, "error: the workflow must be NAMESPACE/NAME[:VERSION], got 'hello'\n");

  EXPECT_EQ(Client({"start", "a/b", "--timeout", "5"}).code, 2);  // --timeout needs --wait
  EXPECT_EQ(Client({"start", "a/b", "--input", "{}", "--input-file", "f"}).code, 2);
  EXPECT_EQ(Client({"start", "a/b", "--input-file", dir_ + "/none.json"}).code, 2);
  EXPECT_EQ(Client({"start"}).code, 2);
  EXPECT_TRUE(server_.requests().empty());
}

// ---- ls ----

TEST_F(ClientCommandsTest, LsSendsFiltersAndPrintsATable) {
  server_.Route("GET", "/api/v1/instances", [](const FixtureRequest&) {
    return Answer(200, R"({"items":[
      {"id":"i-1","workflow":{"namespace":"examples","name":"hello","version":"1.0.0"},
       "status":"completed","createdAt":"2024-05-01T12:00:00Z","elapsedMs":12},
      {"id":"i-22","workflow":{"namespace":"ops","name":"approve","version":"2.1.0"},
       "status":"waiting","createdAt":"2024-05-01T12:00:01.5Z","elapsedMs":184000}]})");
  });
  Start();
  CliRun run =
      Client({"ls", "--status", "running", "--workflow", "examples/hello:1.0.0", "--limit", "10"});
  EXPECT_EQ(run.code, 0) << run.err;
  std::string t1 = LocalTime("2024-05-01T12:00:00Z");
  std::string t2 = LocalTime("2024-05-01T12:00:01.5Z");
  std::string pad(t1.size() - 7, ' ');
  EXPECT_EQ(run.out, "ID    WORKFLOW              STATUS     STARTED" + pad + "  ELAPSED\n" +
                         "i-1   examples/hello:1.0.0  completed  " + t1 + "     12ms\n" +
                         "i-22  ops/approve:2.1.0     waiting    " + t2 + "    3m04s\n");
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(server_.requests().at(0).query,
            "status=running&workflow=examples/hello:1.0.0&limit=10");
}

TEST_F(ClientCommandsTest, LsAllFollowsNextCursor) {
  server_.Route("GET", "/api/v1/instances", [](const FixtureRequest& request) {
    if (request.query.find("cursor=c%2B2") != std::string::npos) {
      return Answer(200, R"({"items":[{"id":"i-3","status":"running"}]})");
    }
    return Answer(200, R"({"items":[{"id":"i-1"},{"id":"i-2"}],"nextCursor":"c+2"})");
  });
  Start();
  CliRun all = Client({"ls", "--all", "--limit", "2"});
  EXPECT_EQ(all.code, 0) << all.err;
  EXPECT_NE(all.out.find("i-1"), std::string::npos);
  EXPECT_NE(all.out.find("i-3"), std::string::npos);
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].query, "limit=2&cursor=c%2B2");

  CliRun json = Client({"ls", "--all", "--output", "json"});
  EXPECT_EQ(json.code, 0);
  auto merged = Json::Parse(json.out);
  ASSERT_TRUE(merged.ok()) << json.out;
  EXPECT_EQ(merged->Get("items").size(), 3u);

  CliRun page = Client({"ls"});
  EXPECT_EQ(page.code, 0);
  EXPECT_EQ(page.out.find("i-3"), std::string::npos);
  EXPECT_EQ(page.err, "more instances: use --all, or --cursor c+2\n");
}

TEST_F(ClientCommandsTest, LsWithNothingToShowSaysSo) {
  server_.Route("GET", "/api/v1/instances",
                [](const FixtureRequest&) { return Answer(200, R"({"items":[]})"); });
  Start();
  CliRun run = Client({"ls"});
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "no instances\n");
}

TEST_F(ClientCommandsTest, LsRejectsALimitOutOfRange) {
  Start();
  EXPECT_EQ(Client({"ls", "--limit", "0"}).code, 2);
  EXPECT_EQ(Client({"ls", "--limit", "5000"}).code, 2);
  EXPECT_EQ(Client({"ls", "--output", "yaml"}).code, 2);
}

// ---- get / history ----

TEST_F(ClientCommandsTest, GetPrintsASummaryWithRunningTasksAndOutput) {
  server_.Route("GET", "/api/v1/instances/i-1", [](const FixtureRequest&) {
    return Answer(200, R"({"id":"i-1",
      "workflow":{"namespace":"examples","name":"hello","version":"1.0.0"},
      "status":"running","input":{},"output":{"x":1},"context":{},
      "tasks":[{"ref":"/do/0/a","name":"a","status":"completed","attempt":1},
               {"ref":"/do/1/call","name":"call","status":"retrying","attempt":3}],
      "createdAt":"2024-05-01T12:00:00Z","updatedAt":"2024-05-01T12:00:02Z","elapsedMs":2000})");
  });
  Start();
  CliRun run = Client({"get", "i-1"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "ID        i-1\n"
            "Workflow  examples/hello:1.0.0\n"
            "Status    running\n"
            "Created   " +
                LocalTime("2024-05-01T12:00:00Z") + "\n" + "Updated   " +
                LocalTime("2024-05-01T12:00:02Z") + "\n" +
                "Elapsed   2.0s\n"
                "\n"
                "Running tasks:\n"
                "  REF         NAME  STATUS    ATTEMPT\n"
                "  /do/1/call  call  retrying        3\n"
                "\n"
                "Output:\n"
                "{\n  \"x\": 1\n}\n");
}

TEST_F(ClientCommandsTest, GetSaysWhenARetryingTaskTriesAgainAndWhy) {
  server_.Route("GET", "/api/v1/instances/i-2", [](const FixtureRequest&) {
    return Answer(200, R"({"id":"i-2",
      "workflow":{"namespace":"examples","name":"hello","version":"1.0.0"},
      "status":"retrying","input":{},"context":{},
      "tasks":[{"ref":"/do/1/call","name":"call","status":"retrying","attempt":1,
                "lastError":{"status":503,"title":"HTTP 503 Service Unavailable"},
                "nextAttemptAt":"2024-05-01T12:00:03.250Z"}],
      "createdAt":"2024-05-01T12:00:00Z","updatedAt":"2024-05-01T12:00:02Z","elapsedMs":2000})");
  });
  Start();
  CliRun run = Client({"get", "i-2"});
  EXPECT_EQ(run.code, 0) << run.err;
  std::string detail = "next attempt " + LocalTime("2024-05-01T12:00:03.250Z", true) +
                       " after HTTP 503 Service Unavailable";
  EXPECT_NE(run.out.find("DETAIL"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("  /do/1/call  call  retrying        1  " + detail + "\n"),
            std::string::npos)
      << run.out;
}

TEST_F(ClientCommandsTest, GetUnknownInstanceExits1WithTheProblem) {
  server_.Route("GET", "/api/v1/instances/nope", [](const FixtureRequest&) {
    return ProblemAnswer(404, "Not Found", "instance 'nope' does not exist");
  });
  Start();
  CliRun run = Client({"get", "nope"});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.err, "error: Not Found: instance 'nope' does not exist\n");
}

TEST_F(ClientCommandsTest, GetOutputJsonPrintsTheServersBodyPretty) {
  server_.Route("GET", "/api/v1/instances/i-1", [](const FixtureRequest&) {
    return Answer(200, R"({"id":"i-1","status":"completed"})");
  });
  Start();
  CliRun run = Client({"get", "i-1", "--output", "json"});
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.out, "{\n  \"id\": \"i-1\",\n  \"status\": \"completed\"\n}\n");
}

TEST_F(ClientCommandsTest, HistoryPrintsATable) {
  server_.Route("GET", "/api/v1/instances/i-1/history", [](const FixtureRequest&) {
    return Answer(200, R"({"items":[
      {"seq":1,"time":"2024-05-01T12:00:00.001Z","kind":"workflow.started","attempt":0},
      {"seq":2,"time":"2024-05-01T12:00:00.002Z","kind":"task.faulted","task":"/do/0/call",
       "name":"call","attempt":2,"durationMs":1500,"error":{"title":"Service down"}}]})");
  });
  Start();
  CliRun run = Client({"history", "i-1"});
  EXPECT_EQ(run.code, 0) << run.err;
  std::string t1 = LocalTime("2024-05-01T12:00:00.001Z", true);
  std::string t2 = LocalTime("2024-05-01T12:00:00.002Z", true);
  std::string pad(t1.size() - 4, ' ');
  EXPECT_EQ(run.out, "SEQ  TIME" + pad +
                         "  KIND              TASK        ATTEMPT  DURATION  ERROR\n" + "  1  " +
                         t1 + "  workflow.started                    0\n" + "  2  " + t2 +
                         "  task.faulted      /do/0/call        2      1.5s  Service down\n");
}

// ---- cancel / suspend / resume ----

TEST_F(ClientCommandsTest, ControlVerbsPostToTheInstanceAndPrintItsStatus) {
  server_.Fallback([](const FixtureRequest& request) {
    if (request.path == "/api/v1/instances/i-1/cancel") {
      return Answer(202, R"({"id":"i-1","status":"cancelled"})");
    }
    if (request.path == "/api/v1/instances/i-1/suspend") {
      return Answer(200, R"({"id":"i-1","status":"suspended"})");
    }
    if (request.path == "/api/v1/instances/i-1/resume") {
      return Answer(200, R"({"id":"i-1","status":"running"})");
    }
    return ProblemAnswer(409, "Conflict", "instance 'done' is completed: it cannot be cancelled");
  });
  Start();
  CliRun cancel = Client({"cancel", "i-1", "--reason", "no longer needed"});
  EXPECT_EQ(cancel.code, 0) << cancel.err;
  EXPECT_EQ(cancel.out, "i-1 cancelled\n");
  EXPECT_EQ(Client({"suspend", "i-1"}).out, "i-1 suspended\n");
  EXPECT_EQ(Client({"resume", "i-1"}).out, "i-1 running\n");
  CliRun conflict = Client({"cancel", "done"});
  EXPECT_EQ(conflict.code, 1);
  EXPECT_EQ(conflict.err,
            "error: Conflict: instance 'done' is completed: it cannot be cancelled\n");

  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(Json::Parse(requests[0].body)->Get("reason").AsString(), "no longer needed");
  EXPECT_EQ(requests[1].body, "{}");
  EXPECT_EQ(requests[1].method, "POST");
}

// ---- definitions ----

TEST_F(ClientCommandsTest, DefinitionsAndItsAliasPrintATable) {
  server_.Route("GET", "/api/v1/definitions", [](const FixtureRequest&) {
    return Answer(200, R"({"items":[
      {"namespace":"examples","name":"hello","versions":["1.0.0","1.1.0"]},
      {"namespace":"ops","name":"approve","versions":[{"version":"2.0.0","createdAt":"x"}]}]})");
  });
  Start();
  std::string expected =
      "NAMESPACE  NAME     VERSIONS\n"
      "examples   hello    1.0.0, 1.1.0\n"
      "ops        approve  2.0.0\n";
  CliRun run = Client({"definitions"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, expected);
  EXPECT_EQ(Client({"defs"}).out, expected);
}

// ---- dead letters and operator repair ----

TEST_F(ClientCommandsTest, DeadLettersSendFiltersAndPrintATable) {
  server_.Route("GET", "/api/v1/dead-letters", [](const FixtureRequest&) {
    return Answer(200, R"({"items":[
      {"id":"i-1","workflow":{"namespace":"shop","name":"order","version":"1.0.0"},
       "status":"faulted",
       "error":{"type":"https://serverlessworkflow.io/spec/1.0.0/errors/communication",
                "status":503,"title":"Service unavailable"},
       "failedTask":{"ref":"/do/1/charge","name":"charge","attempt":4},"attempts":4,
       "createdAt":"2024-05-01T11:59:00Z","endedAt":"2024-05-01T12:00:00Z","inViewMs":5},
      {"id":"i-22","workflow":{"namespace":"shop","name":"order","version":"1.0.0"},
       "status":"compensation_failed","error":{"type":"timeout","status":408},
       "failedTask":null,"attempts":1,"endedAt":"2024-05-01T12:00:01.5Z"}]})");
  });
  Start();
  CliRun run = Client({"dead-letters", "--workflow", "shop/order", "--error-type", "communication",
                       "--since", "2024-05-01T00:00:00+02:00", "--until", "2024-05-02T00:00:00Z",
                       "--limit", "20"});
  EXPECT_EQ(run.code, 0) << run.err;
  std::string t1 = LocalTime("2024-05-01T12:00:00Z");
  std::string t2 = LocalTime("2024-05-01T12:00:01.5Z");
  EXPECT_EQ(run.out,
            "ID    WORKFLOW          STATUS               ERROR              FAILED TASK  ATTEMPTS"
            "  ENDED\n"
            "i-1   shop/order:1.0.0  faulted              communication 503  charge              4"
            "  " +
                t1 +
                "\n"
                "i-22  shop/order:1.0.0  compensation_failed  timeout 408" +
                // ERROR padded by 6, the empty FAILED TASK, ATTEMPTS right-aligned.
                std::string(6 + 2 + 11 + 2 + 7, ' ') +
                "1"
                "  " +
                t2 + "\n");
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(server_.requests().at(0).query,
            "workflow=shop/order&errorType=communication&since=2024-05-01T00:00:00%2B02:00"
            "&until=2024-05-02T00:00:00Z&limit=20");
}

TEST_F(ClientCommandsTest, DeadLettersSayWhenThereAreNoneOrMore) {
  server_.Route("GET", "/api/v1/dead-letters", [](const FixtureRequest& request) {
    if (request.query == "limit=1") {
      return Answer(200, R"({"items":[{"id":"i-1","status":"faulted"}],"nextCursor":"c"})");
    }
    return Answer(200, R"({"items":[]})");
  });
  Start();
  CliRun none = Client({"dead-letters"});
  EXPECT_EQ(none.code, 0);
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(none.err, "no dead letters\n");
  CliRun more = Client({"dead-letters", "--limit", "1"});
  EXPECT_EQ(more.code, 0);
  EXPECT_NE(more.out.find("i-1"), std::string::npos);
  EXPECT_EQ(more.err, "more dead letters: raise --limit (up to 1000) or narrow --since/--until\n");
  CliRun json = Client({"dead-letters", "--output", "json"});
  EXPECT_EQ(json.code, 0);
  EXPECT_EQ(json.out, "{\n  \"items\": []\n}\n");
  EXPECT_EQ(Client({"dead-letters", "--limit", "0"}).code, 2);
}

TEST_F(ClientCommandsTest, RetrySendsReasonAuthorInputAndContextAndPrintsTheStatus) {
  server_.Route("POST", "/api/v1/instances/i-1/retry", [](const FixtureRequest&) {
    return Answer(200, R"({"id":"i-1","status":"running","input":{}})");
  });
  Start();
  CliRun run = Client({"retry", "i-1", "--reason", "DNS fixed", "--by", "ada", "--input",
                       R"({"n": 2})", "--context", R"({"token": "t"})"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "i-1 running\n");
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  EXPECT_EQ(requests[0].body,
            R"({"reason":"DNS fixed","by":"ada","input":{"n":2},"context":{"token":"t"}})");
}

TEST_F(ClientCommandsTest, RepairsDefaultTheAuthorToUserElseAnonymous) {
  server_.Fallback(
      [](const FixtureRequest&) { return Answer(200, R"({"id":"i-1","status":"cancelled"})"); });
  Start();
  const char* saved = std::getenv("USER");
  std::string saved_value = saved != nullptr ? saved : "";
  setenv("USER", "grace", 1);
  CliRun with_user = Client({"discard", "i-1", "--reason", "stale"});
  unsetenv("USER");
  CliRun without = Client({"compensate", "i-1", "--reason", "undo"});
  if (saved != nullptr) setenv("USER", saved_value.c_str(), 1);
  EXPECT_EQ(with_user.code, 0) << with_user.err;
  EXPECT_EQ(without.code, 0) << without.err;
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/api/v1/instances/i-1/discard");
  EXPECT_EQ(requests[0].body, R"({"reason":"stale","by":"grace"})");
  EXPECT_EQ(requests[1].path, "/api/v1/instances/i-1/compensate");
  EXPECT_EQ(requests[1].body, R"({"reason":"undo","by":"anonymous"})");
}

TEST_F(ClientCommandsTest, SkipOutputIsTheTasksOutputUnlessItNamesAFormat) {
  server_.Route("POST", "/api/v1/instances/i-1/skip", [](const FixtureRequest&) {
    return Answer(200, R"({"id":"i-1","status":"completed"})");
  });
  Start();
  CliRun text = Client(
      {"skip", "i-1", "--reason", "paid by hand", "--by", "ada", "--output", R"({"paid": true})"});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out, "i-1 completed\n");
  CliRun json = Client(
      {"skip", "--output", "json", "i-1", "--reason", "r", "--by", "ada", "--output", "null"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(json.out, "{\n  \"id\": \"i-1\",\n  \"status\": \"completed\"\n}\n");
  CliRun none = Client({"skip", "i-1", "--reason", "r", "--by", "ada"});
  EXPECT_EQ(none.code, 0) << none.err;
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, R"({"reason":"paid by hand","by":"ada","output":{"paid":true}})");
  EXPECT_EQ(requests[1].body, R"({"reason":"r","by":"ada","output":null})");
  EXPECT_EQ(requests[2].body, R"({"reason":"r","by":"ada"})");
}

TEST_F(ClientCommandsTest, RepairsRejectBadArgumentsBeforeSendingAnything) {
  Start();
  CliRun input = Client({"retry", "i-1", "--reason", "r", "--input", "{not json"});
  EXPECT_EQ(input.code, 2);
  EXPECT_NE(input.err.find("error: --input is not valid JSON: "), std::string::npos) << input.err;
  CliRun context = Client({"retry", "i-1", "--reason", "r", "--context", "[1,"});
  EXPECT_EQ(context.code, 2);
  EXPECT_NE(context.err.find("error: --context is not valid JSON: "), std::string::npos);
  CliRun output = Client({"skip", "i-1", "--reason", "r", "--output", "yaml: 1"});
  EXPECT_EQ(output.code, 2);
  EXPECT_NE(output.err.find("error: --output is not valid JSON (with skip, --output is the "
                            "task's output as JSON, or the word text or json for the output "
                            "format): "),
            std::string::npos)
      << output.err;
  CliRun twice = Client({"skip", "i-1", "--reason", "r", "--output", "1", "--output", "2"});
  EXPECT_EQ(twice.code, 2);
  EXPECT_EQ(twice.err, "error: --output: the task's output is given twice\n");
  CliRun blank = Client({"discard", "i-1", "--reason", "  "});
  EXPECT_EQ(blank.code, 2);
  EXPECT_NE(blank.err.find("error: --reason must not be empty"), std::string::npos);
  EXPECT_EQ(Client({"retry", "i-1"}).code, 2);                 // --reason required
  EXPECT_EQ(Client({"compensate", "--reason", "r"}).code, 2);  // id required
  EXPECT_EQ(Client({"skip", "i-1", "--reason", "r", "--input", "{}"}).code, 2);  // retry's
  EXPECT_EQ(Client({"discard", "i-1", "--reason", "r", "--output", "yaml"}).code, 2);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(ClientCommandsTest, RepairRefusalsExit1WithTheServersReason) {
  server_.Fallback([](const FixtureRequest& request) {
    if (request.path == "/api/v1/instances/gone/retry") {
      return ProblemAnswer(404, "Not found", "no instance with id 'gone'");
    }
    return ProblemAnswer(
        409, "Conflict with the current state",
        "instance is completed; retry applies to faulted or compensation_failed instances");
  });
  Start();
  CliRun conflict = Client({"retry", "done", "--reason", "r"});
  EXPECT_EQ(conflict.code, 1);
  EXPECT_EQ(conflict.out, "");
  EXPECT_EQ(conflict.err,
            "error: Conflict with the current state: instance is completed; retry applies to "
            "faulted or compensation_failed instances\n");
  CliRun missing = Client({"retry", "gone", "--reason", "r"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "error: Not found: no instance with id 'gone'\n");
}

TEST_F(ClientCommandsTest, RedriveSendsTheFilterAndReportsEachInstance) {
  server_.Route("POST", "/api/v1/dead-letters/redrive", [](const FixtureRequest&) {
    return Answer(200, R"({"dryRun":false,"matched":2,"items":[
      {"id":"i-1","workflow":{"namespace":"shop","name":"order","version":"1.0.0"},
       "status":"faulted","errorType":"https://serverlessworkflow.io/spec/1.0.0/errors/timeout",
       "result":"applied"},
      {"id":"i-2","workflow":{"namespace":"shop","name":"order","version":"1.0.0"},
       "status":"faulted","errorType":"timeout","result":"failed",
       "detail":"instance is running; retry applies to faulted instances"}]})");
  });
  Start();
  CliRun run = Client({"redrive", "--action", "retry", "--reason", "supplier back", "--by", "ada",
                       "--workflow", "shop/order", "--error-type", "timeout", "--since",
                       "2024-05-01T00:00:00Z", "--until", "2024-05-02T00:00:00Z"});
  EXPECT_EQ(run.code, 1);  // one instance failed
  EXPECT_EQ(run.out,
            "ID   WORKFLOW          STATUS   ERROR    RESULT   DETAIL\n"
            "i-1  shop/order:1.0.0  faulted  timeout  applied\n"
            "i-2  shop/order:1.0.0  faulted  timeout  failed   instance is running; retry applies "
            "to faulted instances\n"
            "retry: 1 applied, 1 failed (2 matched)\n");
  EXPECT_EQ(run.err, "error: retry failed for 1 of 2 dead letters\n");
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, R"({"filter":{"workflow":"shop/order","errorType":"timeout",)"
                              R"("since":"2024-05-01T00:00:00Z","until":"2024-05-02T00:00:00Z"},)"
                              R"("action":"retry","reason":"supplier back","by":"ada"})");
}

TEST_F(ClientCommandsTest, RedriveDryRunListsAndChangesNothing) {
  server_.Route("POST", "/api/v1/dead-letters/redrive", [](const FixtureRequest&) {
    return Answer(200, R"({"dryRun":true,"matched":1,"items":[
      {"id":"i-1","workflow":{"namespace":"a","name":"b","version":"1"},"status":"faulted",
       "errorType":"communication"}]})");
  });
  Start();
  CliRun run =
      Client({"redrive", "--action", "discard", "--reason", "stale", "--by", "ada", "--dry-run"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "ID   WORKFLOW  STATUS   ERROR          RESULT  DETAIL\n"
            "i-1  a/b:1     faulted  communication\n"
            "dry run: 1 dead letter matches; nothing was changed\n");
  CliRun json = Client(
      {"redrive", "--action", "discard", "--reason", "stale", "--dry-run", "--output", "json"});
  EXPECT_EQ(json.code, 0);
  EXPECT_EQ(Json::Parse(json.out)->Get("matched").AsInt(), 1);
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body,
            R"({"filter":{},"action":"discard","reason":"stale","by":"ada","dryRun":true})");
}

TEST_F(ClientCommandsTest, RedriveRejectsSkipAndUnknownActions) {
  Start();
  CliRun skip = Client({"redrive", "--action", "skip", "--reason", "r"});
  EXPECT_EQ(skip.code, 2);
  EXPECT_EQ(skip.err,
            "error: --action skip is not allowed in bulk (each skipped task needs its own "
            "output): skip instances one at a time with `baton skip ID --reason R`\n");
  CliRun other = Client({"redrive", "--action", "restart", "--reason", "r"});
  EXPECT_EQ(other.code, 2);
  EXPECT_EQ(other.err, "error: --action must be retry, compensate or discard, got 'restart'\n");
  EXPECT_EQ(Client({"redrive", "--action", "retry"}).code, 2);  // --reason required
  EXPECT_EQ(Client({"redrive", "--reason", "r"}).code, 2);      // --action required
  EXPECT_TRUE(server_.requests().empty());
}

// ---- transport failures and the server URL ----

TEST_F(ClientCommandsTest, ServerErrorsExit3) {
  server_.Route("GET", "/api/v1/instances/i-1", [](const FixtureRequest&) {
    return ProblemAnswer(503, "Service Unavailable", "the store is not ready");
  });
  server_.Route("GET", "/api/v1/instances/html", [](const FixtureRequest&) {
    return Answer(200, "<html>hello</html>", "text/html");
  });
  Start();
  CliRun unavailable = Client({"get", "i-1"});
  EXPECT_EQ(unavailable.code, 3);
  EXPECT_EQ(unavailable.err, "error: Service Unavailable: the store is not ready\n");
  CliRun html = Client({"get", "html"});
  EXPECT_EQ(html.code, 3);
  EXPECT_NE(html.err.find("is not JSON (is it a baton server?)"), std::string::npos);
}

TEST_F(ClientCommandsTest, AnUnreachableServerExits3WithAHint) {
  Start();
  std::string gone = url();
  server_.Stop();
  CliRun run = RunCli({"ls", "--server", gone});
  EXPECT_EQ(run.code, 3);
  EXPECT_EQ(run.err, "error: cannot reach baton server at " + gone +
                         ": connection refused (is `baton serve` running?)\n");
}

TEST_F(ClientCommandsTest, TheServerDefaultsToBatonServerFromTheEnvironment) {
  server_.Route("GET", "/api/v1/definitions",
                [](const FixtureRequest&) { return Answer(200, R"({"items":[]})"); });
  Start();
  const char* saved = std::getenv("BATON_SERVER");
  std::string saved_value = saved != nullptr ? saved : "";
  setenv("BATON_SERVER", url().c_str(), 1);
  EXPECT_EQ(DefaultServerUrl(), url());
  CliRun run = RunCli({"definitions"});
  unsetenv("BATON_SERVER");
  EXPECT_EQ(DefaultServerUrl(), "http://127.0.0.1:8080");
  if (saved != nullptr) setenv("BATON_SERVER", saved_value.c_str(), 1);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(ClientCommandsTest, AnInvalidServerUrlIsAUsageError) {
  CliRun run = RunCli({"ls", "--server", "ftp://example"});
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("invalid server URL"), std::string::npos);
}

// ---- helpers ----

TEST(ClientHelpersTest, DeadLettersPathCarriesOnlyTheGivenFilters) {
  DeadLetterArgs args;
  EXPECT_EQ(DeadLettersPath(args), "/api/v1/dead-letters");
  args.error_type = "https://serverlessworkflow.io/spec/1.0.0/errors/timeout";
  args.limit = 5;
  EXPECT_EQ(DeadLettersPath(args),
            "/api/v1/dead-letters?errorType=https://serverlessworkflow.io/spec/1.0.0/errors/"
            "timeout&limit=5");
}

TEST(ClientHelpersTest, ListPathCarriesOnlyTheGivenFilters) {
  ListArgs args;
  EXPECT_EQ(ListPath(args, ""), "/api/v1/instances");
  args.status = "faulted";
  args.since = "2024-05-01T00:00:00+02:00";
  EXPECT_EQ(ListPath(args, "abc"),
            "/api/v1/instances?status=faulted&since=2024-05-01T00:00:00%2B02:00&cursor=abc");
}

}  // namespace
}  // namespace baton::cli
