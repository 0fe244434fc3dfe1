#include "conformance/gherkin.h"

#include <string>

#include <gtest/gtest.h>

namespace baton::conformance {
namespace {

Feature ParseOk(std::string_view text) {
  Result<Feature> feature = ParseFeature(text, "t.feature");
  EXPECT_TRUE(feature.ok()) << feature.status().ToString();
  return feature.ok() ? std::move(feature).value() : Feature{};
}

std::string ParseError(std::string_view text) {
  Result<Feature> feature = ParseFeature(text, "t.feature");
  EXPECT_FALSE(feature.ok());
  return feature.status().message();
}

TEST(GherkinTest, ReadsFeatureScenariosAndSteps) {
  Feature feature = ParseOk(
      "Feature: Set Task\n"
      "  As an implementer\n"
      "  I want things\n"
      "\n"
      "  # a comment\n"
      "  Scenario: First\n"
      "    Given a workflow with definition:\n"
      "    When the workflow is executed\n"
      "    Then the workflow should complete\n"
      "    And setRed should run first\n"
      "    But setBlue should run last\n"
      "    * anything\n"
      "  Scenario: Second\n"
      "    When the workflow is executed\n");
  EXPECT_EQ(feature.name, "Set Task");
  EXPECT_EQ(feature.line, 1);
  EXPECT_EQ(feature.description, "As an implementer\nI want things");
  ASSERT_EQ(feature.scenarios.size(), 2u);
  const Scenario& first = feature.scenarios[0];
  EXPECT_EQ(first.name, "First");
  EXPECT_EQ(first.line, 6);
  ASSERT_EQ(first.steps.size(), 6u);
  EXPECT_EQ(first.steps[0].keyword, "Given");
  EXPECT_EQ(first.steps[0].text, "a workflow with definition:");
  EXPECT_EQ(first.steps[0].line, 7);
  EXPECT_EQ(first.steps[3].keyword, "And");
  EXPECT_EQ(first.steps[3].text, "setRed should run first");
  EXPECT_EQ(first.steps[4].keyword, "But");
  EXPECT_EQ(first.steps[5].keyword, "*");
  EXPECT_FALSE(first.steps[0].doc_string.has_value());
  EXPECT_EQ(feature.scenarios[1].steps.size(), 1u);
}

TEST(GherkinTest, DocStringIsStrippedByTheIndentationOfItsOpeningDelimiter) {
  Feature feature = ParseOk(
      "Feature: F\n"
      "  Scenario: S\n"
      "    Given a workflow with definition:\n"
      "    \"\"\"yaml\n"
      "    document:\n"
      "      dsl: '1.0.3'\n"
      "    do: []\n"
      "    \"\"\"\n"
      "    And given the workflow input is:\n"
      "      \"\"\"yaml\n"
      "      petId: 1\n"
      "      \"\"\"\n");
  const Scenario& scenario = feature.scenarios.at(0);
  ASSERT_EQ(scenario.steps.size(), 2u);
  ASSERT_TRUE(scenario.steps[0].doc_string.has_value());
  EXPECT_EQ(scenario.steps[0].doc_string->media_type, "yaml");
  EXPECT_EQ(scenario.steps[0].doc_string->content, "document:\n  dsl: '1.0.3'\ndo: []");
  EXPECT_EQ(scenario.steps[0].doc_string->line, 4);
  ASSERT_TRUE(scenario.steps[1].doc_string.has_value());
  EXPECT_EQ(scenario.steps[1].doc_string->content, "petId: 1");
}

TEST(GherkinTest, DocStringLinesIndentedLessThanTheDelimiterLoseOnlyTheirSpaces) {
  Feature feature = ParseOk(
      "Feature: F\n"
      "Scenario: S\n"
      "  Given x:\n"
      "      ```\n"
      "        deeper\n"
      "    shallower\n"
      "\n"
      "      ```\n");
  const Step& step = feature.scenarios.at(0).steps.at(0);
  ASSERT_TRUE(step.doc_string.has_value());
  EXPECT_EQ(step.doc_string->media_type, "");
  EXPECT_EQ(step.doc_string->content, "  deeper\nshallower\n");
}

TEST(GherkinTest, DocStringKeepsCommentsBlankLinesAndEscapedDelimiters) {
  Feature feature = ParseOk(
      "Feature: F\n"
      "Scenario: S\n"
      "  Given x:\n"
      "  \"\"\"\n"
      "  # not a comment\n"
      "\n"
      "  Scenario: not a scenario\n"
      "  say \\\"\\\"\\\"hi\\\"\\\"\\\"\n"
      "  \"\"\"\n");
  const Step& step = feature.scenarios.at(0).steps.at(0);
  ASSERT_TRUE(step.doc_string.has_value());
  EXPECT_EQ(step.doc_string->content,
            "# not a comment\n\nScenario: not a scenario\nsay \"\"\"hi\"\"\"");
}

TEST(GherkinTest, EmptyDocString) {
  Feature feature = ParseOk("Feature: F\nScenario: S\n  Given x:\n  \"\"\"\n  \"\"\"\n");
  const Step& step = feature.scenarios.at(0).steps.at(0);
  ASSERT_TRUE(step.doc_string.has_value());
  EXPECT_EQ(step.doc_string->content, "");
}

TEST(GherkinTest, CopesWithMissingFinalNewlineTrailingSpacesAndCrLf) {
  Feature feature = ParseOk(
      "Feature: F   \r\n"
      "  Scenario: S  \r\n"
      "    Given x:\r\n"
      "    \"\"\"yaml  \r\n"
      "    a: 1\r\n"
      "    \"\"\"   \r\n"
      "    Then the workflow should complete   \r\n"
      "   \r\n"
      "   ");
  EXPECT_EQ(feature.name, "F");
  const Scenario& scenario = feature.scenarios.at(0);
  EXPECT_EQ(scenario.name, "S");
  ASSERT_EQ(scenario.steps.size(), 2u);
  EXPECT_EQ(scenario.steps[0].doc_string->media_type, "yaml");
  EXPECT_EQ(scenario.steps[0].doc_string->content, "a: 1");
  EXPECT_EQ(scenario.steps[1].text, "the workflow should complete");

  Feature no_newline = ParseOk("Feature: F\nScenario: S\n  Then done");
  EXPECT_EQ(no_newline.scenarios.at(0).steps.at(0).text, "done");
  Feature doc_at_end = ParseOk("Feature: F\nScenario: S\n  Given x:\n  \"\"\"\n  v\n  \"\"\"");
  EXPECT_EQ(doc_at_end.scenarios.at(0).steps.at(0).doc_string->content, "v");
}

TEST(GherkinTest, BackgroundStepsArePrependedToEveryScenario) {
  Feature feature = ParseOk(
      "Feature: F\n"
      "  Background:\n"
      "    Given a workflow with definition:\n"
      "    \"\"\"\n"
      "    x\n"
      "    \"\"\"\n"
      "  Scenario: A\n"
      "    When run\n"
      "  Scenario: B\n"
      "    When run\n");
  ASSERT_EQ(feature.scenarios.size(), 2u);
  for (const Scenario& scenario : feature.scenarios) {
    ASSERT_EQ(scenario.steps.size(), 2u);
    EXPECT_EQ(scenario.steps[0].text, "a workflow with definition:");
    EXPECT_EQ(scenario.steps[0].doc_string->content, "x");
    EXPECT_EQ(scenario.steps[1].text, "run");
  }
}

TEST(GherkinTest, TagsAttachToTheNextFeatureOrScenario) {
  Feature feature = ParseOk("@ctk @core\nFeature: F\n  @slow # why\n  Scenario: S\n    When x\n");
  EXPECT_EQ(feature.tags, (std::vector<std::string>{"@ctk", "@core"}));
  EXPECT_EQ(feature.scenarios.at(0).tags, (std::vector<std::string>{"@slow"}));
}

TEST(GherkinTest, ScenarioDescriptionBeforeFirstStepIsAllowed) {
  Feature feature = ParseOk("Feature: F\nScenario: S\n  some prose\n  When x\n");
  EXPECT_EQ(feature.scenarios.at(0).steps.size(), 1u);
}

TEST(GherkinTest, RejectsWhatItDoesNotUnderstand) {
  EXPECT_EQ(ParseError("Feature: F\nScenario: S\n  When x\n  Whenever y\n"),
            "t.feature:4: expected a step (Given/When/Then/And/But), a doc string or a new "
            "scenario, got: Whenever y");
  EXPECT_EQ(ParseError("Feature: F\nScenario Outline: S\n"),
            "t.feature:2: `Scenario Outline:` is not supported by this reader");
  EXPECT_EQ(ParseError("Feature: F\nScenario: S\n  Given x\n  | a | b |\n"),
            "t.feature:4: data tables are not supported");
  EXPECT_EQ(ParseError("Feature: F\nScenario: S\n  Given x:\n  \"\"\"\n  y\n"),
            "t.feature:4: unterminated doc string (no closing \"\"\")");
  EXPECT_EQ(ParseError("Feature: F\nScenario: S\n  \"\"\"\n  y\n  \"\"\"\n"),
            "t.feature:3: a doc string must directly follow its step");
  EXPECT_EQ(ParseError("Feature: F\nScenario: S\n  Given x:\n  \"\"\"\n  y\n  \"\"\"\n"
                       "  \"\"\"\n  z\n  \"\"\"\n"),
            "t.feature:7: a doc string must directly follow its step");
  EXPECT_EQ(ParseError("Scenario: S\n  Given x\n"), "t.feature:1: `Scenario:` before `Feature:`");
  EXPECT_EQ(ParseError("Feature: F\nGiven x\n"), "t.feature:2: a step outside a scenario");
  EXPECT_EQ(ParseError("# only a comment\n"), "t.feature: no `Feature:` line");
  EXPECT_EQ(ParseError("Feature: A\nFeature: B\n"), "t.feature:2: a second `Feature:` in one file");
  EXPECT_EQ(ParseError("Feature: A\nScenario: S\n  When x\nBackground:\n"),
            "t.feature:4: `Background:` must come before the first scenario");
}

// The CTK's own files: every file parses, and the shapes the runner relies on are there.
TEST(GherkinTest, ReadsEveryCtkFeatureFile) {
  Result<std::vector<std::string>> files = ListFeatureFiles(BATON_CTK_DIR);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_FALSE(files->empty());
  size_t scenarios = 0;
  for (const std::string& file : *files) {
    Result<Feature> feature = LoadFeatureFile(file);
    ASSERT_TRUE(feature.ok()) << feature.status().ToString();
    EXPECT_FALSE(feature->name.empty()) << file;
    EXPECT_FALSE(feature->scenarios.empty()) << file;
    for (const Scenario& scenario : feature->scenarios) {
      ++scenarios;
      ASSERT_FALSE(scenario.steps.empty()) << file << ": " << scenario.name;
      EXPECT_EQ(scenario.steps[0].text, "a workflow with definition:") << file;
      ASSERT_TRUE(scenario.steps[0].doc_string.has_value()) << file << ": " << scenario.name;
      EXPECT_EQ(scenario.steps[0].doc_string->content.rfind("document:\n  dsl: ", 0), 0u)
          << file << ": " << scenario.name << "\n"
          << scenario.steps[0].doc_string->content;
      for (const Step& step : scenario.steps) {
        if (step.doc_string) {
          EXPECT_EQ(step.doc_string->media_type, "yaml") << file << ":" << step.line;
          // No line may keep the indentation of the feature file.
          EXPECT_EQ(step.doc_string->content.find("\n    \n"), std::string::npos);
          EXPECT_NE(step.doc_string->content.front(), ' ') << file << ":" << step.line;
        }
      }
    }
  }
  EXPECT_GE(scenarios, 21u);
}

TEST(GherkinTest, CtkDocStringIndentedDeeperThanItsStep) {
  Result<Feature> feature = LoadFeatureFile(std::string(BATON_CTK_DIR) + "/data-flow.feature");
  ASSERT_TRUE(feature.ok()) << feature.status().ToString();
  for (const Scenario& scenario : feature->scenarios) {
    if (scenario.name != "Use Non-object Output") continue;
    ASSERT_EQ(scenario.steps.size(), 4u);
    EXPECT_EQ(scenario.steps[1].text, "given the workflow input is:");
    EXPECT_EQ(scenario.steps[1].doc_string->content, "petId: 1");
    EXPECT_EQ(scenario.steps[3].doc_string->content, "ids: [ 1, 2 ]");
    return;
  }
  ADD_FAILURE() << "scenario 'Use Non-object Output' not found";
}

TEST(GherkinTest, ListFeatureFilesReportsAMissingDirectory) {
  Result<std::vector<std::string>> files = ListFeatureFiles("/nonexistent/ctk/features");
  EXPECT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace baton::conformance
