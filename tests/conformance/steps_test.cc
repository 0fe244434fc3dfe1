// The step definitions, against a fake backend: doc strings are JSON here (so that these
// tests need neither the YAML loader nor the runtime), and runs return a canned RunResult.
#include "conformance/steps.h"

#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace baton::conformance {
namespace {

using engine::LifecycleEntry;
using engine::LifecycleKind;

Json ParseJson(std::string_view text) {
  Result<Json> value = Json::Parse(text);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? std::move(value).value() : Json();
}

class FakeBackend : public Backend {
 public:
  Result<model::Document> Parse(std::string_view text, const std::string& origin) override {
    origins.push_back(origin);
    Result<Json> value = Json::Parse(text);
    if (!value.ok()) return value.status();
    model::Document doc;
    doc.file = origin;
    doc.root = std::move(value).value();
    return doc;
  }

  Result<runtime::RunResult> Run(const model::Document& workflow, const Json& input) override {
    ran_workflow = workflow.root;
    ran_input = input;
    ++runs;
    if (!run_status.ok()) return run_status;
    return result;
  }

  runtime::RunResult result;
  Status run_status;
  std::vector<std::string> origins;
  Json ran_workflow;
  Json ran_input;
  int runs = 0;
};

LifecycleEntry Entry(LifecycleKind kind, std::string name = "", Json data = Json()) {
  LifecycleEntry entry;
  entry.kind = kind;
  entry.task_name = std::move(name);
  if (!entry.task_name.empty()) entry.task_ref = "/do/0/" + entry.task_name.str();
  entry.data = std::move(data);
  return entry;
}

// Builds a one-scenario feature from step lines; a line starting with '{', '[' or '"', or a
// number, becomes the doc string of the step before it.
Feature MakeFeature(const std::vector<std::string>& lines) {
  Feature feature;
  feature.file = "fake.feature";
  feature.name = "Fake";
  Scenario scenario;
  scenario.name = "S";
  int line_number = 1;
  for (const std::string& line : lines) {
    ++line_number;
    if (!line.empty() && (line[0] == '{' || line[0] == '[' || line[0] == '"' ||
                          std::isdigit(static_cast<unsigned char>(line[0])))) {
      scenario.steps.back().doc_string = DocString{"json", line, line_number};
      continue;
    }
    scenario.steps.push_back(Step{"*", line, line_number, std::nullopt});
  }
  feature.scenarios.push_back(std::move(scenario));
  return feature;
}

class StepsTest : public ::testing::Test {
 protected:
  // Runs the steps; returns "" when they all pass, else the failing step and message.
  std::string Run(const std::vector<std::string>& lines) {
    feature_ = MakeFeature(lines);
    outcome_ = RunScenario(feature_, feature_.scenarios[0], backend_);
    if (!outcome_.failure) return "";
    return (outcome_.failure->step ? outcome_.failure->step->text : "<none>") + ": " +
           outcome_.failure->message;
  }

  void Complete(std::string_view output) {
    backend_.result.status = "completed";
    backend_.result.output = ParseJson(output);
  }

  FakeBackend backend_;
  Feature feature_;
  ScenarioOutcome outcome_;
};

const std::vector<std::string> kPrelude = {"a workflow with definition:", R"({"do": []})"};

std::vector<std::string> With(std::vector<std::string> tail) {
  std::vector<std::string> lines = kPrelude;
  lines.insert(lines.end(), tail.begin(), tail.end());
  return lines;
}

TEST_F(StepsTest, GivenStepsFeedTheRun) {
  Complete("{}");
  EXPECT_EQ(Run(With({"given the workflow input is:", R"({"petId": 1})", "the workflow is executed",
                      "the workflow should complete"})),
            "");
  EXPECT_EQ(backend_.runs, 1);
  EXPECT_EQ(backend_.ran_workflow, ParseJson(R"({"do": []})"));
  EXPECT_EQ(backend_.ran_input, ParseJson(R"({"petId": 1})"));
  EXPECT_EQ(backend_.origins, (std::vector<std::string>{"fake.feature:3", "fake.feature:5"}));
  EXPECT_EQ(outcome_.steps_passed, 4u);
  ASSERT_TRUE(outcome_.result.has_value());
}

TEST_F(StepsTest, InputDefaultsToAnEmptyObject) {
  Complete("{}");
  EXPECT_EQ(Run(With({"the workflow is executed"})), "");
  EXPECT_EQ(backend_.ran_input, Json::Object());
}

TEST_F(StepsTest, TheWorkflowInputStepAcceptsGivenAsItsKeywordOrAsItsFirstWord) {
  Complete("{}");
  EXPECT_EQ(Run(With({"the workflow input is:", "[1]", "the workflow is executed"})), "");
  EXPECT_EQ(backend_.ran_input, ParseJson("[1]"));
}

TEST_F(StepsTest, UnknownStepFailsTheScenarioAndStopsIt) {
  Complete("{}");
  std::string failure = Run(With(
      {"the workflow is executed", "the moon should be full", "the workflow should complete"}));
  EXPECT_EQ(failure.rfind("the moon should be full: unknown step", 0), 0u) << failure;
  EXPECT_EQ(outcome_.steps_passed, 2u);
  EXPECT_EQ(outcome_.steps_not_run, 1u);
}

TEST_F(StepsTest, AnEmptyScenarioFails) { EXPECT_NE(Run({}), ""); }

TEST_F(StepsTest, DocStringsMustMatchTheTrailingColon) {
  EXPECT_EQ(Run({"a workflow with definition:"}),
            "a workflow with definition:: this step needs a doc string after it");
  Complete("{}");
  EXPECT_EQ(Run(With({"the workflow is executed", "{}"})),
            "the workflow is executed: this step takes no doc string");
}

TEST_F(StepsTest, RunErrorsAndMissingPrerequisitesFail) {
  EXPECT_EQ(Run({"the workflow is executed"}),
            "the workflow is executed: no workflow definition was given before this step");
  EXPECT_EQ(Run(With({"the workflow should complete"})).find("has not been executed") ==
                std::string::npos,
            false);
  backend_.run_status = Status::DeadlineExceeded("no end within 10000 ms");
  EXPECT_EQ(Run(With({"the workflow is executed"})),
            "the workflow is executed: the workflow could not run: DEADLINE_EXCEEDED: no end "
            "within 10000 ms");
}

TEST_F(StepsTest, WorkflowStatus) {
  backend_.result.status = "faulted";
  backend_.result.error = ParseJson(R"({"status": 400, "type": "t", "title": "x"})");
  EXPECT_EQ(Run(With({"the workflow is executed", "the workflow should fault"})), "");
  std::string failure = Run(With({"the workflow is executed", "the workflow should complete"}));
  EXPECT_NE(failure.find("expected the workflow to complete, but it ended 'faulted'"),
            std::string::npos)
      << failure;
  EXPECT_NE(failure.find(R"("status":400)"), std::string::npos) << failure;
  backend_.result.status = "cancelled";
  EXPECT_EQ(Run(With({"the workflow is executed", "the workflow should cancel"})), "");
}

TEST_F(StepsTest, WorkflowOutputIsComparedWhole) {
  Complete(R"({"colors": ["red", "green", "blue"]})");
  EXPECT_EQ(Run(With({"the workflow is executed", "the workflow should complete with output:",
                      R"({"colors": ["red", "green", "blue"]})"})),
            "");
  EXPECT_NE(Run(With({"the workflow is executed", "the workflow should complete with output:",
                      R"({"colors": ["red", "green"]})"})),
            "");
  // Extra members fail too: the comparison is exact.
  Complete(R"({"colors": ["red"], "color": "red"})");
  EXPECT_NE(Run(With({"the workflow is executed",
                      "the workflow should complete with output:", R"({"colors": ["red"]})"})),
            "");
}

TEST_F(StepsTest, IntegersEqualTheirDoubleSpelling) {
  Complete("1.0");
  EXPECT_EQ(
      Run(With({"the workflow is executed", "the workflow should complete with output:", "1"})),
      "");
}

TEST_F(StepsTest, WorkflowErrorIsComparedAsASubset) {
  backend_.result.status = "faulted";
  backend_.result.error = ParseJson(
      R"({"type": "https://x/compliance", "status": 400, "title": "T", "detail": "d",
          "instance": "/do/0/raiseError"})");
  EXPECT_EQ(Run(With({"the workflow is executed", "the workflow should fault with error:",
                      R"({"status": 400, "type": "https://x/compliance", "title": "T",
                          "instance": "/do/0/raiseError"})"})),
            "");
  std::string failure =
      Run(With({"the workflow is executed", "the workflow should fault with error:",
                R"({"status": 400, "instance": "/do/0/other", "x": 1})"}));
  EXPECT_NE(failure.find("'instance' differs; 'x' missing"), std::string::npos) << failure;
}

TEST_F(StepsTest, MismatchedStatusAndComparisonIsMalformed) {
  Complete("{}");
  EXPECT_NE(
      Run(With({"the workflow is executed", "the workflow should complete with error:", "{}"}))
          .find("malformed step"),
      std::string::npos);
}

TEST_F(StepsTest, OutputProperties) {
  Complete(R"({"request": {"method": "get", "headers": {}}, "statusCode": 200,
              "content": {"id": 1, "tags": [{"name": "a"}]}, "nothing": null})");
  EXPECT_EQ(Run(With({"the workflow is executed",
                      "the workflow output should have properties 'request', 'request.method', "
                      "'request.headers', 'statusCode', 'content.tags.0.name'"})),
            "");
  std::string failure =
      Run(With({"the workflow is executed",
                "the workflow output should have properties 'request.uri', 'nothing', 'content'"}));
  EXPECT_NE(failure.find("'request.uri' is missing\n  'nothing' is null\noutput:"),
            std::string::npos)
      << failure;
  EXPECT_EQ(failure.find("'content' is"), std::string::npos) << failure;
}

TEST_F(StepsTest, OutputPropertiesNeedACompletedWorkflow) {
  backend_.result.status = "faulted";
  std::string failure =
      Run(With({"the workflow is executed", "the workflow output should have properties 'a'"}));
  EXPECT_NE(failure.find("it did not complete"), std::string::npos) << failure;
}

TEST_F(StepsTest, OutputPropertyValue) {
  Complete(R"({"error": {"instance": "/do/0/tryGetPet/try/0/getPet"}, "data": {"g": "Hi"}})");
  EXPECT_EQ(Run(With({"the workflow is executed",
                      "the workflow output should have a 'error.instance' property with value:",
                      R"("/do/0/tryGetPet/try/0/getPet")",
                      "the workflow output should have a 'data' property with value:",
                      R"({"g": "Hi"})"})),
            "");
  EXPECT_NE(Run(With({"the workflow is executed",
                      "the workflow output should have a 'data' property with value:",
                      R"({"g": "Hi", "h": 1})"})),
            "");
  EXPECT_NE(Run(With({"the workflow is executed",
                      "the workflow output should have a 'nope' property with value:", "1"})),
            "");
}

TEST_F(StepsTest, OutputPropertyItemCount) {
  Complete(R"({"colors": ["red"], "one": "x"})");
  const std::string step = "the workflow output should have a 'colors' property containing 1 items";
  EXPECT_EQ(Run(With({"the workflow is executed", step})), "");
  Complete(R"({"colors": ["red", "green"]})");
  EXPECT_NE(Run(With({"the workflow is executed", step})).find("has 2 items, expected 1"),
            std::string::npos);
  Complete(R"({"colors": null})");
  EXPECT_NE(Run(With({"the workflow is executed", step})).find("not an array"), std::string::npos);
}

TEST_F(StepsTest, TaskOrderUsesTaskStartsAtAnyDepth) {
  Complete("{}");
  backend_.result.lifecycle = {
      Entry(LifecycleKind::kWorkflowStarted),
      Entry(LifecycleKind::kTaskStarted, "compositeExample"),
      Entry(LifecycleKind::kTaskStarted, "setRed"),
      Entry(LifecycleKind::kTaskCompleted, "setRed"),
      Entry(LifecycleKind::kTaskStarted, "setGreen"),
      Entry(LifecycleKind::kTaskCompleted, "setGreen"),
      Entry(LifecycleKind::kTaskCompleted, "compositeExample"),
      Entry(LifecycleKind::kWorkflowCompleted),
  };
  EXPECT_EQ(
      Run(With({"the workflow is executed", "compositeExample should run first",
                "setGreen should run last", "setGreen should run after setRed",
                "setRed should run before setGreen", "compositeExample should run before setRed"})),
      "");
  std::string failure = Run(With({"the workflow is executed", "setRed should run first"}));
  EXPECT_NE(failure.find("tasks started in this order: [compositeExample, setRed, setGreen]"),
            std::string::npos)
      << failure;
  EXPECT_NE(Run(With({"the workflow is executed", "setRed should run last"})), "");
  EXPECT_NE(Run(With({"the workflow is executed", "setRed should run after setGreen"})), "");
  EXPECT_NE(Run(With({"the workflow is executed", "setRed should run after setBlue"}))
                .find("setBlue never started"),
            std::string::npos);
}

TEST_F(StepsTest, TaskOrderFailsWhenNothingStarted) {
  Complete("{}");
  EXPECT_NE(Run(With({"the workflow is executed", "a should run first"})), "");
}

TEST_F(StepsTest, TaskOutcomes) {
  Complete("{}");
  backend_.result.lifecycle = {
      Entry(LifecycleKind::kTaskStarted, "getPet"),
      Entry(LifecycleKind::kTaskFaulted, "getPet",
            ParseJson(R"({"status": 404, "type": "comm", "title": "Not Found"})")),
      Entry(LifecycleKind::kTaskStarted, "setError"),
      Entry(LifecycleKind::kTaskCompleted, "setError", ParseJson(R"({"error": 1})")),
  };
  EXPECT_EQ(
      Run(With({"the workflow is executed", "getPet should fault",
                "getPet should fault with error:", R"({"status": 404})", "setError should complete",
                "setError should complete with output:", R"({"error": 1})"})),
      "");
  std::string failure = Run(With({"the workflow is executed", "getPet should complete"}));
  EXPECT_NE(failure.find("its lifecycle: [task.started, task.faulted]"), std::string::npos)
      << failure;
  EXPECT_NE(Run(With({"the workflow is executed",
                      "setError should complete with output:", R"({"error": 2})"})),
            "");
  EXPECT_NE(Run(With({"the workflow is executed", "setError should cancel"})), "");
}

TEST(LookupPathTest, FollowsObjectsAndArrayIndexes) {
  Json value = ParseJson(R"({"a": {"b": [10, {"c": null}]}, "": 1})");
  EXPECT_EQ(*LookupPath(value, "a.b.0"), Json::Number(10));
  EXPECT_TRUE(LookupPath(value, "a.b.1.c")->IsNull());
  EXPECT_FALSE(LookupPath(value, "a.b.2"));
  EXPECT_FALSE(LookupPath(value, "a.b.x"));
  EXPECT_FALSE(LookupPath(value, "a.c"));
  EXPECT_FALSE(LookupPath(value, "a.b.0.d"));
  EXPECT_EQ(*LookupPath(value, ""), Json::Number(1));
}

TEST(ContainsAllTest, ComparesExpectedMembersOnly) {
  std::string why;
  EXPECT_TRUE(
      ContainsAll(ParseJson(R"({"a": 1, "b": {"c": 2}})"), ParseJson(R"({"b": {"c": 2}})"), &why));
  // Nested objects are compared whole.
  EXPECT_FALSE(
      ContainsAll(ParseJson(R"({"b": {"c": 2, "d": 3}})"), ParseJson(R"({"b": {"c": 2}})"), &why));
  EXPECT_EQ(why, "'b' differs");
  EXPECT_FALSE(ContainsAll(ParseJson("null"), ParseJson(R"({"a": 1})"), &why));
  EXPECT_TRUE(ContainsAll(ParseJson("3"), ParseJson("3.0"), &why));
}

TEST(CamelCaseNameTest, KeepsLettersAndDigitsOnly) {
  EXPECT_EQ(CamelCaseName("Call HTTP With Content Output"), "CallHTTPWithContentOutput");
  EXPECT_EQ(CamelCaseName("Switch task with matching case"), "SwitchTaskWithMatchingCase");
  EXPECT_EQ(CamelCaseName("Use Non-object Output"), "UseNonObjectOutput");
  EXPECT_EQ(CamelCaseName("data-flow.feature / é 2x"), "DataFlowFeature2x");
  EXPECT_EQ(CamelCaseName(" / "), "Unnamed");
}

TEST(StepPatternsTest, ListsTheDefinitionsInMatchingOrder) {
  std::vector<std::string> patterns = StepPatterns();
  ASSERT_EQ(patterns.size(), 10u);
  EXPECT_EQ(patterns.front(), "a workflow with definition:");
}

}  // namespace
}  // namespace baton::conformance
