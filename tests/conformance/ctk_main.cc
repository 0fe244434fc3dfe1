// ctk_tests: the Serverless Workflow conformance kit (CTK), run offline.
//
// At start-up this reads every `*.feature` file in BATON_CTK_DIR (in place) and registers
// one GoogleTest case per scenario, named `Ctk.<Feature>/<Scenario>`. A scenario runs on
// runtime::LocalRunner; the public hosts it calls are rewritten to an in-process
// HttpFixture serving the routes of fixture_routes.h. `CtkFixture.*` tests rerun the
// scenarios that call those hosts and check the requests the fixture received, and a
// listener prints pass/fail counts per feature at the end. See
// docs/architecture/conformance.md.
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "conformance/fixture_routes.h"
#include "conformance/gherkin.h"
#include "conformance/steps.h"
#include "model/document.h"
#include "runtime/local_runner.h"
#include "testing/http_fixture.h"

namespace baton::conformance {
namespace {

using testing::FixtureRequest;
using testing::HttpFixture;

// Per scenario; a hang (a jq loop, a fork branch never cancelled) fails fast instead of
// reaching ctest's timeout.
constexpr int64_t kScenarioDeadlineMs = 10'000;

// The CTK's hosts; every URL under them goes to the fixture instead.
constexpr const char* kFixtureHosts[] = {
    "https://petstore.swagger.io",
    "http://petstore.swagger.io",
    "https://httpbin.org",
    "http://httpbin.org",
};

std::string FileName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string DescribeRequest(const FixtureRequest& request) {
  std::string out = request.method + " " + request.target;
  auto auth = request.headers.find("authorization");
  if (auth != request.headers.end()) out += " (Authorization: " + auth->second + ")";
  return out;
}

std::string DescribeRequests(const std::vector<FixtureRequest>& requests) {
  if (requests.empty()) return "none";
  std::string out;
  for (const FixtureRequest& request : requests) out += "\n  " + DescribeRequest(request);
  return out;
}

// Runs workflows on LocalRunner with the CTK hosts mapped to the fixture.
class LocalRunnerBackend : public Backend {
 public:
  // `fixture_url` is the fixture's base URL, or empty with `fixture_error` saying why not.
  LocalRunnerBackend(std::string fixture_url, std::string fixture_error)
      : fixture_url_(std::move(fixture_url)), fixture_error_(std::move(fixture_error)) {}

  Result<model::Document> Parse(std::string_view text, const std::string& origin) override {
    return model::ParseDocument(text, origin);
  }

  Result<runtime::RunResult> Run(const model::Document& workflow, const Json& input) override {
    if (!fixture_error_.empty()) return Status::Unavailable(fixture_error_);
    // Validate first, as `baton run` does, so that an invalid definition reads as such.
    std::string errors;
    for (const model::Diagnostic& diagnostic : model::Validate(workflow, {})) {
      if (!diagnostic.is_warning) errors += "\n  " + diagnostic.ToString();
    }
    if (!errors.empty()) return Status::InvalidArgument("invalid workflow:" + errors);

    runtime::RunOptions options;
    options.input = input;
    options.deadline_ms = kScenarioDeadlineMs;
    for (const char* host : kFixtureHosts) {
      options.executor_options.url_rewrites.emplace_back(host, fixture_url_);
    }
    options.executor_options.loopback_only = true;
    runtime::LocalRunner runner(std::move(options));
    return runner.Run(workflow);
  }

 private:
  const std::string fixture_url_;
  const std::string fixture_error_;
};

// What the registered tests share: the parsed features and one fixture server for the whole
// process (one port, so that a document cached by a runtime never names a dead port).
class CtkSuite {
 public:
  struct Run {
    ScenarioOutcome outcome;
    std::vector<FixtureRequest> requests;  // received by the fixture during this run
  };

  std::deque<Feature>& features() { return features_; }

  // Runs one scenario. REQUIRES: called from one thread at a time.
  Run RunWithFixture(const Feature& feature, const Scenario& scenario) {
    StartFixtureOnce();
    const size_t before = fixture_ok_ ? fixture_.requests().size() : 0;
    LocalRunnerBackend backend(fixture_ok_ ? fixture_.base_url() : "", fixture_error_);
    Run run{RunScenario(feature, scenario, backend), {}};
    if (fixture_ok_) {
      std::vector<FixtureRequest> all = fixture_.requests();
      run.requests.assign(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
    }
    return run;
  }

  // The scenario named `scenario` of the feature file named `file` ("call.feature").
  std::pair<const Feature*, const Scenario*> Find(std::string_view file,
                                                  std::string_view scenario) const {
    for (const Feature& feature : features_) {
      if (FileName(feature.file) != file) continue;
      for (const Scenario& candidate : feature.scenarios) {
        if (candidate.name == scenario) return {&feature, &candidate};
      }
    }
    return {nullptr, nullptr};
  }

 private:
  // Lazy, so that listing the tests (ctest discovery) starts no server.
  void StartFixtureOnce() {
    if (fixture_started_) return;
    fixture_started_ = true;
    const std::string template_path =
        std::string(BATON_CTK_FIXTURE_DIR) + "/petstore_swagger.template.json";
    std::ifstream in(template_path);
    std::ostringstream swagger;
    swagger << in.rdbuf();
    if (!in || swagger.str().empty()) {
      fixture_error_ = "cannot read the swagger template " + template_path;
      return;
    }
    // The handler runs on the server thread; it reads only its own copies and port(),
    // which Start() sets before that thread begins.
    fixture_.Fallback([this, text = swagger.str()](const FixtureRequest& request) {
      return HandleCtkRequest(request, "127.0.0.1:" + std::to_string(fixture_.port()), text);
    });
    if (!fixture_.Start()) {
      fixture_error_ = "the fixture HTTP server did not start";
      return;
    }
    fixture_ok_ = true;
  }

  std::deque<Feature> features_;  // a deque: tests keep pointers into it
  HttpFixture fixture_;
  bool fixture_started_ = false;
  bool fixture_ok_ = false;
  std::string fixture_error_;
};

// Ctk.<Feature>/<Scenario>: runs the scenario's steps; the first failing step is reported at
// its line in the feature file.
class ScenarioTest : public ::testing::Test {
 public:
  ScenarioTest(CtkSuite* suite, const Feature* feature, const Scenario* scenario)
      : suite_(suite), feature_(feature), scenario_(scenario) {}

  void TestBody() override {
    CtkSuite::Run run = suite_->RunWithFixture(*feature_, *scenario_);
    const ScenarioOutcome& outcome = run.outcome;
    if (!outcome.failure) return;
    const Step* step = outcome.failure->step;
    std::string message;
    if (step != nullptr) message = "step `" + step->keyword + " " + step->text + "` failed:\n";
    message += outcome.failure->message;
    if (outcome.steps_not_run > 0) {
      message += "\n(" + std::to_string(outcome.steps_not_run) + " later step(s) not run)";
    }
    if (!run.requests.empty()) {
      message += "\nrequests the fixture received:" + DescribeRequests(run.requests);
    }
    ADD_FAILURE_AT(feature_->file.c_str(), step != nullptr ? step->line : scenario_->line)
        << message;
  }

 private:
  CtkSuite* const suite_;
  const Feature* const feature_;
  const Scenario* const scenario_;
};

// CtkLoad.<file>: a feature file (or the directory) that could not be read or parsed.
class LoadErrorTest : public ::testing::Test {
 public:
  LoadErrorTest(std::string file, int line, std::string error)
      : file_(std::move(file)), line_(line), error_(std::move(error)) {}
  void TestBody() override { ADD_FAILURE_AT(file_.c_str(), line_) << error_; }

 private:
  const std::string file_;
  const int line_;
  const std::string error_;
};

// ---- CtkFixture: what the scenarios that call a public host really sent ----

struct ExpectedRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string authorization;  // the exact header value; empty = not checked
  // The OpenAPI document may come from a runtime's cache by URI, so it is fetched at most
  // once; the operation call after it proves the document was read either way.
  bool at_most_once = false;
};

struct RequestCheck {
  std::string test_name;
  std::string file;
  std::string scenario;
  std::vector<ExpectedRequest> requests;  // exactly these, in this order
};

std::vector<RequestCheck> RequestChecks() {
  const ExpectedRequest pet1{"GET", "/v2/pet/1", {}, "", false};
  const ExpectedRequest pet2{"GET", "/v2/pet/2", {}, "", false};
  const ExpectedRequest available{
      "GET", "/v2/pet/findByStatus", {{"status", "available"}}, "", false};
  const ExpectedRequest swagger{"GET", "/v2/swagger.json", {}, "", true};
  const ExpectedRequest milou{"GET", "/v2/pet/getPetByName/Milou", {}, "", false};
  // base64("serverless-workflow:conformance-test"), as given in IMPLEMENTERS-NOTES.md.
  const ExpectedRequest login{"GET",
                              "/basic-auth/serverless-workflow/conformance-test",
                              {},
                              "Basic c2VydmVybGVzcy13b3JrZmxvdzpjb25mb3JtYW5jZS10ZXN0",
                              false};
  return {
      {"CallHttpWithContentOutputQueriesByStatus",
       "call.feature",
       "Call HTTP With Content Output",
       {available}},
      {"CallHttpWithResponseOutputGetsPet1",
       "call.feature",
       "Call HTTP With Response Output",
       {pet1}},
      {"CallHttpWithBasicAuthSendsTheCredentials",
       "call.feature",
       "Call HTTP Using Basic Authentication",
       {login}},
      {"CallOpenApiWithContentOutputReadsTheDocumentThenQueries",
       "call.feature",
       "Call OpenAPI With Content Output",
       {swagger, available}},
      {"CallOpenApiWithResponseOutputReadsTheDocumentThenGetsPet1",
       "call.feature",
       "Call OpenAPI With Response Output",
       {swagger, pet1}},
      {"OutputFilteringGetsPet1", "data-flow.feature", "Output Filtering", {pet1}},
      {"NonObjectOutputGetsPet1ThenPet2",
       "data-flow.feature",
       "Use Non-object Output",
       {pet1, pet2}},
      {"TryHandleCaughtErrorGetsMilouByName", "try.feature", "Try Handle Caught Error", {milou}},
      {"TryRaiseUncaughtErrorGetsMilouByName", "try.feature", "Try Raise Uncaught Error", {milou}},
  };
}

bool Matches(const FixtureRequest& got, const ExpectedRequest& want) {
  if (got.method != want.method || got.path != want.path || ParseQuery(got.query) != want.query) {
    return false;
  }
  if (want.authorization.empty()) return true;
  auto auth = got.headers.find("authorization");
  return auth != got.headers.end() && auth->second == want.authorization;
}

std::string DescribeExpected(const ExpectedRequest& want) {
  std::string out = want.method + " " + want.path;
  for (size_t index = 0; index < want.query.size(); ++index) {
    out += (index == 0 ? "?" : "&") + want.query[index].first + "=" + want.query[index].second;
  }
  if (!want.authorization.empty()) out += " (Authorization: " + want.authorization + ")";
  return out;
}

// Reruns the scenario and compares the fixture's requests with the check. The scenario's
// own verdict is Ctk.*'s business; this only judges what went over the wire.
class RequestCheckTest : public ::testing::Test {
 public:
  RequestCheckTest(CtkSuite* suite, RequestCheck check) : suite_(suite), check_(std::move(check)) {}

  void TestBody() override {
    auto [feature, scenario] = suite_->Find(check_.file, check_.scenario);
    ASSERT_NE(scenario, nullptr) << "no scenario '" << check_.scenario << "' in " << check_.file
                                 << " (was the CTK updated? then update RequestChecks())";
    std::vector<FixtureRequest> got = suite_->RunWithFixture(*feature, *scenario).requests;
    const std::string all = "\nrequests the fixture received:" + DescribeRequests(got);
    size_t next = 0;
    for (const ExpectedRequest& want : check_.requests) {
      if (next < got.size() && Matches(got[next], want)) {
        ++next;
      } else if (!want.at_most_once) {
        ADD_FAILURE() << "request #" << next + 1 << " should be " << DescribeExpected(want)
                      << ", got " << (next < got.size() ? DescribeRequest(got[next]) : "no request")
                      << all;
        return;
      }
    }
    EXPECT_EQ(next, got.size()) << "more requests than expected" << all;
  }

 private:
  CtkSuite* const suite_;
  const RequestCheck check_;
};

// Scenarios that call no public host must not reach the fixture at all.
class NoRequestsTest : public ::testing::Test {
 public:
  explicit NoRequestsTest(CtkSuite* suite) : suite_(suite) {}

  void TestBody() override {
    std::set<std::pair<std::string, std::string>> checked;
    for (const RequestCheck& check : RequestChecks()) checked.emplace(check.file, check.scenario);
    for (const Feature& feature : suite_->features()) {
      for (const Scenario& scenario : feature.scenarios) {
        if (checked.count({FileName(feature.file), scenario.name}) > 0) continue;
        std::vector<FixtureRequest> got = suite_->RunWithFixture(feature, scenario).requests;
        EXPECT_TRUE(got.empty()) << FileName(feature.file) << " / " << scenario.name
                                 << ": requests the fixture received:" << DescribeRequests(got);
      }
    }
  }

 private:
  CtkSuite* const suite_;
};

// Prints, after the run, how many scenarios of each feature passed, failed or were skipped.
class FeatureSummary : public ::testing::EmptyTestEventListener {
 public:
  // `label` groups tests: "call.feature (Call Task)".
  void Expect(const std::string& full_test_name, const std::string& label) {
    label_of_[full_test_name] = label;
    ++counts_[label].registered;
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    auto label = label_of_.find(std::string(info.test_suite_name()) + "." + info.name());
    if (label == label_of_.end()) return;
    Counts& counts = counts_[label->second];
    if (info.result()->Skipped()) {
      ++counts.skipped;
    } else if (info.result()->Passed()) {
      ++counts.passed;
    } else {
      ++counts.failed;
    }
    ran_any_ = true;
  }

  // Rows only for files with a test that ran (a filtered run or one ctest shows only its
  // own); the total counts every registered test.
  void OnTestProgramEnd(const ::testing::UnitTest&) override {
    if (!ran_any_) return;
    Counts total;
    std::printf("[ CTK      ] %-40s passed / failed / skipped / not run\n", "feature file");
    for (const auto& [label, counts] : counts_) {
      const int ran = counts.passed + counts.failed + counts.skipped;
      if (ran > 0) {
        std::printf("[ CTK      ] %-40s %6d / %6d / %7d / %7d\n", label.c_str(), counts.passed,
                    counts.failed, counts.skipped, counts.registered - ran);
      }
      total.registered += counts.registered;
      total.passed += counts.passed;
      total.failed += counts.failed;
      total.skipped += counts.skipped;
    }
    std::printf("[ CTK      ] %-40s %6d / %6d / %7d / %7d\n", "total", total.passed, total.failed,
                total.skipped, total.registered - total.passed - total.failed - total.skipped);
    std::fflush(stdout);
  }

 private:
  struct Counts {
    int registered = 0;
    int passed = 0;
    int failed = 0;
    int skipped = 0;
  };
  std::map<std::string, std::string> label_of_;
  std::map<std::string, Counts> counts_;  // by label, so by file name
  bool ran_any_ = false;
};

template <typename Factory>
void Register(const char* suite, const std::string& name, const std::string& file, int line,
              Factory factory) {
  ::testing::RegisterTest(suite, name.c_str(), nullptr, nullptr, file.c_str(), line,
                          [factory]() -> ::testing::Test* { return factory(); });
}

// Reads the features and registers every test. `suite` and `summary` must outlive the run.
void RegisterAll(CtkSuite& suite, FeatureSummary& summary) {
  const std::string dir = BATON_CTK_DIR;
  Result<std::vector<std::string>> files = ListFeatureFiles(dir);
  if (!files.ok() || files->empty()) {
    const std::string error =
        files.ok() ? "no .feature files in " + dir : files.status().ToString();
    Register("CtkLoad", "FeatureDirectory", dir, -1,
             [dir, error] { return new LoadErrorTest(dir, -1, error); });
    summary.Expect("CtkLoad.FeatureDirectory", "(feature directory)");
    return;
  }
  std::set<std::string> used_names;
  for (const std::string& file : *files) {
    Result<Feature> feature = LoadFeatureFile(file);
    if (!feature.ok()) {
      const std::string name = CamelCaseName(FileName(file));
      const std::string error = feature.status().ToString();
      Register("CtkLoad", name, file, -1,
               [file, error] { return new LoadErrorTest(file, -1, error); });
      summary.Expect("CtkLoad." + name, FileName(file) + " (unreadable)");
      continue;
    }
    suite.features().push_back(std::move(feature).value());
    const Feature* loaded = &suite.features().back();
    const std::string label = FileName(file) + " (" + loaded->name + ")";
    if (loaded->scenarios.empty()) {
      const std::string name = CamelCaseName(FileName(file));
      Register("CtkLoad", name, file, loaded->line, [file, line = loaded->line] {
        return new LoadErrorTest(file, line, "the feature has no scenarios");
      });
      summary.Expect("CtkLoad." + name, label);
    }
    for (const Scenario& scenario : loaded->scenarios) {
      std::string name = CamelCaseName(loaded->name) + "/" + CamelCaseName(scenario.name);
      for (int suffix = 2; used_names.count(name) > 0; ++suffix) {
        name = CamelCaseName(loaded->name) + "/" + CamelCaseName(scenario.name) + "_" +
               std::to_string(suffix);
      }
      used_names.insert(name);
      CtkSuite* suite_ptr = &suite;
      const Scenario* scenario_ptr = &scenario;
      Register("Ctk", name, loaded->file, scenario.line, [suite_ptr, loaded, scenario_ptr] {
        return new ScenarioTest(suite_ptr, loaded, scenario_ptr);
      });
      summary.Expect("Ctk." + name, label);
    }
  }

  CtkSuite* suite_ptr = &suite;
  for (const RequestCheck& check : RequestChecks()) {
    Register("CtkFixture", check.test_name, __FILE__, __LINE__,
             [suite_ptr, check] { return new RequestCheckTest(suite_ptr, check); });
  }
  Register("CtkFixture", "ScenariosWithoutPublicHostsSendNoRequests", __FILE__, __LINE__,
           [suite_ptr] { return new NoRequestsTest(suite_ptr); });
}

}  // namespace
}  // namespace baton::conformance

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  baton::conformance::CtkSuite suite;
  // gtest owns its listeners; the summary must outlive RUN_ALL_TESTS, which it does there.
  auto* summary = new baton::conformance::FeatureSummary();
  baton::conformance::RegisterAll(suite, *summary);
  ::testing::UnitTest::GetInstance()->listeners().Append(summary);
  return RUN_ALL_TESTS();
}
