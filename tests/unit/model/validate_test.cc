#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/document.h"

namespace baton::model {
namespace {

using Lines = std::vector<std::string>;

const std::string kSharedDir = BATON_SHARED_DIR "/serverless-workflow";

// Lines 1-6; the first task of Wf() is on line 7.
constexpr char kHeader[] =
    "document:\n"
    "  dsl: '1.0.3'\n"
    "  namespace: test\n"
    "  name: t\n"
    "  version: '1.0.0'\n"
    "do:\n";

std::string Wf(std::string_view tasks) { return kHeader + std::string(tasks); }

Lines Problems(std::string_view text, bool strict = false) {
  Result<Document> doc = ParseDocument(text, "wf.yaml");
  if (!doc.ok()) return {"parse failed: " + doc.status().message()};
  Lines out;
  for (const Diagnostic& d : Validate(*doc, ValidateOptions{strict})) out.push_back(d.ToString());
  return out;
}

// ---- Documents that must be valid ---------------------------------------------------------

TEST(ValidateTest, EveryExampleOfTheSpecIsValid) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSharedDir + "/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    Result<Document> doc = LoadDocumentFile(entry.path().string());
    ASSERT_TRUE(doc.ok()) << doc.status().message();
    for (const Diagnostic& d : Validate(*doc, ValidateOptions{})) ADD_FAILURE() << d.ToString();
    // None of the examples uses a baton extension.
    for (const Diagnostic& d : Validate(*doc, ValidateOptions{true})) ADD_FAILURE() << d.ToString();
  }
  EXPECT_EQ(files, 66);
}

// The doc strings that follow "a workflow with definition:" in the CTK's Gherkin files.
std::vector<std::pair<std::string, std::string>> CtkWorkflows() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : std::filesystem::directory_iterator(kSharedDir + "/ctk/features")) {
    if (entry.path().extension() != ".feature") continue;
    std::ifstream in(entry.path());
    std::string line;
    int line_no = 0;
    bool want = false;
    bool inside = false;
    size_t indent = 0;
    std::string text;
    std::string name;
    while (std::getline(in, line)) {
      ++line_no;
      size_t first = line.find_first_not_of(' ');
      std::string_view trimmed =
          first == std::string::npos ? std::string_view() : std::string_view(line).substr(first);
      if (inside) {
        if (trimmed == "\"\"\"") {
          out.emplace_back(name, text);
          inside = false;
          continue;
        }
        text += (line.size() >= indent ? line.substr(indent) : std::string()) + "\n";
      } else if (trimmed.find("a workflow with definition:") != std::string_view::npos) {
        want = true;
      } else if (want && trimmed.substr(0, 3) == "\"\"\"") {
        inside = true;
        want = false;
        indent = first;
        text.clear();
        name = entry.path().filename().string() + ":" + std::to_string(line_no);
      }
    }
  }
  return out;
}

TEST(ValidateTest, EveryCtkWorkflowIsValid) {
  auto workflows = CtkWorkflows();
  EXPECT_EQ(workflows.size(), 21u);
  for (const auto& [name, text] : workflows) {
    Result<Document> doc = ParseDocument(text, name);
    ASSERT_TRUE(doc.ok()) << doc.status().message();
    EXPECT_TRUE(doc->root.Has("do")) << name;
    for (const Diagnostic& d : Validate(*doc, ValidateOptions{true})) ADD_FAILURE() << d.ToString();
  }
}

TEST(ValidateTest, JsonDocumentsAreValidatedWithTheirPositions) {
  Result<Document> doc = ParseDocument(
      "{\"document\": {\"dsl\": \"1.0.3\", \"namespace\": \"t\", \"name\": \"t\", "
      "\"version\": \"1.0.0\"},\n"
      " \"do\": [{\"a\": {\"wait\": \"PT1S\", \"then\": \"b\"}}]}\n",
      "wf.json");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  std::vector<Diagnostic> d = Validate(*doc, {});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].ToString(),
            "wf.json:2:32: error: 'then' target 'b' does not exist in this task list "
            "(at /do/0/a/then)");
  EXPECT_EQ(d[0].position.line, 2);
  EXPECT_EQ(d[0].pointer, "/do/0/a/then");
  EXPECT_FALSE(d[0].is_warning);
}

TEST(ValidateTest, DeeplyNestedTasksAreFine) {
  // Each level is three collections (list, entry, task), so 80 levels stay under the
  // reader's 256.
  std::string tasks;
  std::string indent = "  ";
  for (int i = 0; i < 80; ++i) {
    tasks += indent + "- t" + std::to_string(i) + ":\n" + indent + "    do:\n";
    indent += "      ";
  }
  tasks += indent + "- leaf: {wait: PT1S, then: exit}\n";
  EXPECT_EQ(Problems(Wf(tasks)), Lines{});
}

// ---- Top level ----------------------------------------------------------------------------

TEST(ValidateTest, WorkflowMustBeAMappingWithDocumentAndDo) {
  EXPECT_EQ(Problems("- a\n"),
            Lines{"wf.yaml:1:1: error: a workflow must be a mapping with 'document' and 'do', "
                  "got array (at /)"});
  EXPECT_EQ(Problems(""), Lines{"wf.yaml: error: a workflow must be a mapping with 'document' "
                                "and 'do', got null (at /)"});
  EXPECT_EQ(Problems("dsl: '1.0.3'\n"),
            (Lines{"wf.yaml:1:1: error: unknown property 'dsl' in the workflow; expected one of: "
                   "document, input, use, do, timeout, output, schedule, evaluate (at /dsl)",
                   "wf.yaml:1:1: error: missing required property 'document' in the workflow "
                   "(at /)",
                   "wf.yaml:1:1: error: missing required property 'do' in the workflow (at /)"}));
}

TEST(ValidateTest, DocumentSection) {
  EXPECT_EQ(Problems("document:\n"
                     "  dsl: 1.0\n"
                     "  namespace: My_Space\n"
                     "  title: 5\n"
                     "  nam: x\n"
                     "do: []\n"),
            (Lines{"wf.yaml:1:1: error: missing required property 'name' in 'document' "
                   "(at /document)",
                   "wf.yaml:1:1: error: missing required property 'version' in 'document' "
                   "(at /document)",
                   "wf.yaml:2:3: error: 'dsl' must be a string such as '1.0.3' (quote numbers), "
                   "got number 1 (at /document/dsl)",
                   "wf.yaml:3:3: error: 'namespace' must be 1 to 63 letters, digits or '-', "
                   "starting and ending with a letter or digit; got 'My_Space' "
                   "(at /document/namespace)",
                   "wf.yaml:4:3: error: 'title' must be a string, got number 5 "
                   "(at /document/title)",
                   "wf.yaml:5:3: error: unknown property 'nam' in 'document'; expected one of: "
                   "dsl, namespace, name, version, title, summary, tags, metadata "
                   "(at /document/nam)"}));
}

TEST(ValidateTest, DslVersionsAndSemver) {
  auto doc = [](std::string_view dsl, std::string_view version) {
    return "document:\n  dsl: '" + std::string(dsl) + "'\n  namespace: ns\n  name: n\n" +
           "  version: '" + std::string(version) + "'\ndo: []\n";
  };
  for (const char* ok : {"1.0.0", "1.0.1", "1.0.2", "1.0.3"}) {
    EXPECT_EQ(Problems(doc(ok, "0.1.0-rc.1+build.5")), Lines{}) << ok;
  }
  EXPECT_EQ(Problems(doc("0.9.0", "1.0.0")),
            Lines{"wf.yaml:2:3: error: unsupported DSL version '0.9.0'; baton supports 1.0.0 to "
                  "1.0.3 (at /document/dsl)"});
  EXPECT_EQ(Problems(doc("1.0", "1.0.0")),
            Lines{"wf.yaml:2:3: error: 'dsl' must be a semantic version such as '1.0.3', got "
                  "'1.0' (at /document/dsl)"});
  EXPECT_EQ(Problems(doc("1.0.3", "01.0.0")),
            Lines{"wf.yaml:5:3: error: 'version' must be a semantic version such as '1.0.0', "
                  "got '01.0.0' (at /document/version)"});
  EXPECT_EQ(Problems(doc("1.0.3", "1.0.0-")).size(), 1u);
  EXPECT_EQ(Problems(doc("1.0.3", "1.0.0-01")).size(), 1u);
  EXPECT_EQ(Problems(doc("1.0.3", "1.0.0+")).size(), 1u);
}

TEST(ValidateTest, NamespaceAndNameAreDnsLabels) {
  auto doc = [](std::string_view name) {
    return "document:\n  dsl: '1.0.3'\n  namespace: ns\n  name: '" + std::string(name) +
           "'\n  version: '1.0.0'\ndo: []\n";
  };
  EXPECT_EQ(Problems(doc("a")), Lines{});
  EXPECT_EQ(Problems(doc("My-Workflow-2")), Lines{});
  EXPECT_EQ(Problems(doc(std::string(63, 'a'))), Lines{});
  EXPECT_EQ(Problems(doc(std::string(64, 'a'))).size(), 1u);
  EXPECT_EQ(Problems(doc("-a")).size(), 1u);
  EXPECT_EQ(Problems(doc("a-")).size(), 1u);
  EXPECT_EQ(Problems(doc("a.b")).size(), 1u);
  EXPECT_EQ(Problems(doc("")).size(), 1u);
}

TEST(ValidateTest, TopLevelSections) {
  EXPECT_EQ(Problems(Wf("  - a: {wait: PT1S}\n"
                        "input:\n"
                        "  from: 5\n"
                        "  schema: {format: json}\n"
                        "output:\n"
                        "  as: .x\n"
                        "  schem: {}\n"
                        "timeout: {after: PT1H}\n"
                        "schedule:\n"
                        "  cron: 0 * * * *\n"
                        "  every: 5m\n"
                        "evaluate:\n"
                        "  language: js\n"
                        "  mode: lazy\n")),
            (Lines{"wf.yaml:9:3: error: 'from' must be a runtime expression (string) or an "
                   "object, got number 5 (at /input/from)",
                   "wf.yaml:10:3: error: 'schema' needs one of: document, resource "
                   "(at /input/schema)",
                   "wf.yaml:13:3: error: unknown property 'schem' in 'output'; expected one of: "
                   "schema, as (at /output/schem)",
                   "wf.yaml:17:3: error: 'every' must be an ISO 8601 duration such as 'PT30S' or "
                   "'P1DT2H', a map {days, hours, minutes, seconds, milliseconds}, or a runtime "
                   "expression; got '5m' (at /schedule/every)",
                   "wf.yaml:19:3: error: expression language 'js' is not supported; baton "
                   "evaluates 'jq' (at /evaluate/language)",
                   "wf.yaml:20:3: error: 'mode' must be one of: strict, loose; got 'lazy' "
                   "(at /evaluate/mode)"}));
}

// ---- Task lists and task shapes -----------------------------------------------------------

TEST(ValidateTest, UnknownPropertyInHttpArgumentsListsTheExpectedOnes) {
  EXPECT_EQ(Problems(Wf("  - getPet:\n"
                        "      call: http\n"
                        "      with:\n"
                        "        methd: get\n"
                        "        method: get\n"
                        "        endpoint: https://petstore.swagger.io/v2/pet/{petId}\n")),
            Lines{"wf.yaml:10:9: error: unknown property 'methd' in call 'http' arguments; "
                  "expected one of: method, endpoint, headers, query, body, output, redirect "
                  "(at /do/0/getPet/with/methd)"});
}

TEST(ValidateTest, ThenTargetsMustExistInTheSameList) {
  EXPECT_EQ(Problems(Wf("  - setRed:\n"
                        "      set: {color: red}\n"
                        "      then: setGreen\n"
                        "  - outer:\n"
                        "      do:\n"
                        "        - inner:\n"
                        "            set: {a: 1}\n"
                        "            then: outer\n"
                        "      then: end\n"
                        "  - last:\n"
                        "      set: {a: 1}\n"
                        "      then: outer\n")),
            (Lines{"wf.yaml:9:7: error: 'then' target 'setGreen' does not exist in this task "
                   "list (at /do/0/setRed/then)",
                   "wf.yaml:14:13: error: 'then' target 'outer' does not exist in this task list "
                   "(at /do/1/outer/do/0/inner/then)"}));
  EXPECT_EQ(Problems(Wf("  - a: {set: {x: 1}, then: continue}\n"
                        "  - b: {set: {x: 1}, then: exit}\n"
                        "  - c: {set: {x: 1}, then: end}\n"
                        "  - d: {set: {x: 1}, then: a}\n"
                        "  - e: {set: {x: 1}, then: 5}\n")),
            Lines{"wf.yaml:11:22: error: 'then' must be a string, got number 5 (at /do/4/e/then)"});
}

TEST(ValidateTest, TaskListMustBeAnArrayOfSingleKeyMaps) {
  EXPECT_EQ(Problems(Wf("  getPet:\n"
                        "    call: http\n")),
            Lines{"wf.yaml:6:1: error: 'do' must be a task list (an array of '- taskName: "
                  "{...}' entries), got object (at /do)"});
  EXPECT_EQ(Problems(Wf("  - justAString\n"
                        "  - name: getPet\n"
                        "    call: http\n"
                        "  - {}\n"
                        "  - t: set\n")),
            (Lines{"wf.yaml:7:5: error: a task list entry must be a map with one task name ('- "
                   "taskName: {...}'), got string 'justAString' (at /do/0)",
                   "wf.yaml:8:5: error: a task list entry must have exactly one key, the task "
                   "name; this one has 2: 'name', 'call' (is the task body indented under its "
                   "name?) (at /do/1)",
                   "wf.yaml:10:5: error: a task list entry must have exactly one key, the task "
                   "name; this one has 0 (is the task body indented under its name?) (at /do/2)",
                   "wf.yaml:11:5: error: task 't' must be a map of task properties, got string "
                   "'set' (at /do/3/t)"}));
}

TEST(ValidateTest, TaskTypeMustBeExactlyOneKnownOne) {
  EXPECT_EQ(
      Problems(Wf("  - a:\n"
                  "      cal: http\n"
                  "  - b:\n"
                  "      then: end\n"
                  "  - c:\n"
                  "      set: {x: 1}\n"
                  "      wait: PT1S\n"
                  "  - d:\n"
                  "      with: {x: 1}\n"
                  "  - e:\n"
                  "      try:\n"
                  "        - x: {wait: PT1S}\n"
                  "      do: []\n"
                  "      catch: {}\n")),
      (Lines{"wf.yaml:8:7: error: unknown task type 'cal' in task 'a'; expected one of: call, do, "
             "emit, for, fork, listen, raise, run, set, switch, try, wait (at /do/0/a/cal)",
             "wf.yaml:9:5: error: task 'b' has no task type; expected one of: call, do, emit, "
             "for, fork, listen, raise, run, set, switch, try, wait (at /do/1/b)",
             "wf.yaml:11:5: error: task 'c' has more than one task type ('set', 'wait'); a task "
             "must have exactly one of: call, do, emit, for, fork, listen, raise, run, set, "
             "switch, try, wait (at /do/2/c)",
             "wf.yaml:15:7: error: 'with' needs 'call' in task 'd' (at /do/3/d/with)",
             "wf.yaml:16:5: error: task 'e' has more than one task type ('try', 'do'); a task "
             "must have exactly one of: call, do, emit, for, fork, listen, raise, run, set, "
             "switch, try, wait (at /do/4/e)"}));
}

TEST(ValidateTest, UnknownTaskPropertiesListWhatTheTaskTypeAllows) {
  EXPECT_EQ(Problems(Wf("  - a:\n"
                        "      set: {x: 1}\n"
                        "      output: {as: .x}\n"
                        "      exports: {as: .x}\n")),
            Lines{"wf.yaml:10:7: error: unknown property 'exports' in task 'a'; expected one of: "
                  "set, if, input, output, export, timeout, then, metadata, compensate "
                  "(at /do/0/a/exports)"});
}

TEST(ValidateTest, TaskNamesAreUniqueWithinAList) {
  EXPECT_EQ(Problems(Wf("  - a: {set: {x: 1}}\n"
                        "  - b:\n"
                        "      do:\n"
                        "        - a: {set: {x: 1}}\n"
                        "  - a: {set: {x: 2}}\n")),
            Lines{"wf.yaml:11:5: error: duplicate task name 'a' in this task list (first at line "
                  "7) (at /do/2/a)"});
}

TEST(ValidateTest, CommonTaskProperties) {
  EXPECT_EQ(Problems(Wf("  - a:\n"
                        "      if: true\n"
                        "      set: {x: 1}\n"
                        "      input: {from: [1]}\n"
                        "      export: .x\n"
                        "      metadata: []\n"
                        "      timeout: 5\n")),
            (Lines{"wf.yaml:8:7: error: 'if' (a runtime expression) must be a string, got boolean "
                   "(at /do/0/a/if)",
                   "wf.yaml:10:15: error: 'from' must be a runtime expression (string) or an "
                   "object, got array (at /do/0/a/input/from)",
                   "wf.yaml:11:7: error: 'export' must be an object, got string '.x' "
                   "(at /do/0/a/export)",
                   "wf.yaml:12:7: error: 'metadata' must be an object, got array "
                   "(at /do/0/a/metadata)",
                   "wf.yaml:13:7: error: 'timeout' must be an object {after: duration} or the "
                   "name of a use.timeouts entry, got number 5 (at /do/0/a/timeout)"}));
}

// ---- Durations ----------------------------------------------------------------------------

TEST(ValidateTest, Durations) {
  EXPECT_EQ(Problems(Wf("  - a: {wait: PT1S}\n"
                        "  - b: {wait: P1DT2H30M}\n"
                        "  - c: {wait: PT0.5S}\n"
                        "  - d: {wait: P2W}\n"
                        "  - e: {wait: '${ .delay }'}\n"
                        "  - f: {wait: {days: 1, milliseconds: 0}}\n")),
            Lines{});
  EXPECT_EQ(
      Problems(Wf("  - a: {wait: 1S}\n"
                  "  - b: {wait: PT}\n"
                  "  - c: {wait: P1M}\n"
                  "  - d: {wait: PT1S1M}\n"
                  "  - e: {wait: {}}\n"
                  "  - f: {wait: {seconds: -1}}\n"
                  "  - g: {wait: {seconds: 1.5, mins: 2}}\n"
                  "  - h: {wait: 30}\n")),
      (Lines{"wf.yaml:7:9: error: 'wait' must be an ISO 8601 duration such as 'PT30S' or "
             "'P1DT2H', a map {days, hours, minutes, seconds, milliseconds}, or a runtime "
             "expression; got '1S' (at /do/0/a/wait)",
             "wf.yaml:8:9: error: 'wait' must be an ISO 8601 duration such as 'PT30S' or "
             "'P1DT2H', a map {days, hours, minutes, seconds, milliseconds}, or a runtime "
             "expression; got 'PT' (at /do/1/b/wait)",
             "wf.yaml:9:9: error: 'wait' uses years or months ('P1M'), which have no fixed "
             "length; use weeks, days or smaller units (at /do/2/c/wait)",
             "wf.yaml:10:9: error: 'wait' must be an ISO 8601 duration such as 'PT30S' or "
             "'P1DT2H', a map {days, hours, minutes, seconds, milliseconds}, or a runtime "
             "expression; got 'PT1S1M' (at /do/3/d/wait)",
             "wf.yaml:11:9: error: 'wait' needs at least one of: days, hours, minutes, seconds, "
             "milliseconds (at /do/4/e/wait)",
             "wf.yaml:12:16: error: 'seconds' must be a non-negative integer, got number -1 "
             "(at /do/5/f/wait/seconds)",
             "wf.yaml:13:16: error: 'seconds' must be a non-negative integer, got number 1.5 "
             "(at /do/6/g/wait/seconds)",
             "wf.yaml:13:30: error: unknown property 'mins' in duration 'wait'; expected one of: "
             "days, hours, minutes, seconds, milliseconds (at /do/6/g/wait/mins)",
             "wf.yaml:14:9: error: 'wait' must be an ISO 8601 duration string, a map {days, "
             "hours, minutes, seconds, milliseconds}, or a runtime expression, got number 30 "
             "(at /do/7/h/wait)"}));
}

// ---- References to `use` ------------------------------------------------------------------

TEST(ValidateTest, ReferencesMustResolveInUse) {
  EXPECT_EQ(
      Problems(Wf("  - a:\n"
                  "      raise: {error: notDefined}\n"
                  "      timeout: short\n"
                  "  - b:\n"
                  "      try:\n"
                  "        - c: {call: myFunction}\n"
                  "      catch:\n"
                  "        retry: again\n"
                  "  - d:\n"
                  "      call: http\n"
                  "      with:\n"
                  "        method: get\n"
                  "        endpoint:\n"
                  "          uri: https://example.com\n"
                  "          authentication: {use: petStoreAuth}\n"
                  "  - e: {call: 'log:1.0.0@myCatalog'}\n"
                  "  - f: {call: 'log:1.0.0@default'}\n"
                  "  - g: {call: 'log@default'}\n"
                  "  - h: {call: 'https://example.com/functions/log/function.yaml'}\n")),
      (Lines{"wf.yaml:8:15: error: error 'notDefined' is not defined in use.errors "
             "(at /do/0/a/raise/error)",
             "wf.yaml:9:7: error: timeout 'short' is not defined in use.timeouts "
             "(at /do/0/a/timeout)",
             "wf.yaml:12:15: error: call 'myFunction' is not a built-in call (http, openapi, "
             "grpc, asyncapi, a2a, mcp) and is not defined in use.functions "
             "(at /do/1/b/try/0/c/call)",
             "wf.yaml:14:9: error: retry policy 'again' is not defined in use.retries "
             "(at /do/1/b/catch/retry)",
             "wf.yaml:21:28: error: authentication 'petStoreAuth' is not defined in "
             "use.authentications (at /do/2/d/with/endpoint/authentication/use)",
             "wf.yaml:22:9: error: catalog 'myCatalog' is not defined in use.catalogs "
             "(at /do/3/e/call)",
             "wf.yaml:24:9: error: catalog function reference 'log@default' must have the form "
             "name:version@catalog (at /do/5/g/call)"}));
}

TEST(ValidateTest, ReferencesResolveWhenDefined) {
  EXPECT_EQ(Problems(Wf("  - a:\n"
                        "      raise: {error: notDefined}\n"
                        "      timeout: short\n"
                        "  - b:\n"
                        "      try:\n"
                        "        - c: {call: myFunction, with: {x: 1}}\n"
                        "      catch:\n"
                        "        retry: again\n"
                        "  - e: {call: 'log:1.0.0@myCatalog'}\n"
                        "use:\n"
                        "  errors:\n"
                        "    notDefined: {type: 'https://example.com/e', status: 400}\n"
                        "  timeouts:\n"
                        "    short: {after: PT1S}\n"
                        "  functions:\n"
                        "    myFunction: {set: '${ .x }'}\n"
                        "  retries:\n"
                        "    again: {limit: {attempt: {count: 3}}}\n"
                        "  catalogs:\n"
                        "    myCatalog: {endpoint: 'https://github.com/acme/catalog'}\n")),
            Lines{});
}

TEST(ValidateTest, ReusableComponentsAreValidated) {
  EXPECT_EQ(Problems(Wf("  - a: {set: {x: 1}}\n"
                        "use:\n"
                        "  errors:\n"
                        "    bad: {type: oops, title: x}\n"
                        "  functions:\n"
                        "    f: {call: http, with: {method: get}, then: somewhere}\n"
                        "  secrets: [a, 5]\n"
                        "  extensions:\n"
                        "    - log: {extend: everything}\n"
                        "  functons: {}\n")),
            (Lines{"wf.yaml:10:5: error: missing required property 'status' in error "
                   "(at /use/errors/bad)",
                   "wf.yaml:10:11: error: 'type' must be an absolute URI such as "
                   "'https://host/path' or a runtime expression, got 'oops' "
                   "(at /use/errors/bad/type)",
                   "wf.yaml:12:21: error: missing required property 'endpoint' in call 'http' "
                   "arguments (at /use/functions/f/with)",
                   "wf.yaml:12:42: error: 'then' of a task outside a task list can only be "
                   "continue, exit or end; got 'somewhere' (at /use/functions/f/then)",
                   "wf.yaml:13:16: error: item 1 of 'secrets' must be a string, got number 5 "
                   "(at /use/secrets/1)",
                   "wf.yaml:15:13: error: 'extend' must be one of: call, composite, emit, for, "
                   "listen, raise, run, set, switch, try, wait, all; got 'everything' "
                   "(at /use/extensions/0/log/extend)",
                   "wf.yaml:16:3: error: unknown property 'functons' in 'use'; expected one of: "
                   "authentications, errors, extensions, functions, retries, secrets, timeouts, "
                   "catalogs (at /use/functons)"}));
}

// ---- Authentication -----------------------------------------------------------------------

TEST(ValidateTest, AuthenticationPolicies) {
  EXPECT_EQ(Problems(Wf("  - a:\n"
                        "      call: http\n"
                        "      with:\n"
                        "        method: get\n"
                        "        endpoint:\n"
                        "          uri: https://example.com\n"
                        "          authentication:\n"
                        "            basic: {username: u}\n"
                        "            bearer: {token: t}\n"
                        "  - b:\n"
                        "      call: openapi\n"
                        "      with:\n"
                        "        document: {endpoint: 'https://example.com/openapi.json'}\n"
                        "        operationId: op\n"
                        "        authentication:\n"
                        "          oauth2:\n"
                        "            grant: magic\n"
                        "            client: {id: x, secrett: y}\n"
                        "  - c:\n"
                        "      call: http\n"
                        "      with:\n"
                        "        method: get\n"
                        "        endpoint:\n"
                        "          uri: https://example.com\n"
                        "          authentication:\n"
                        "            oidc: {use: undeclaredSecret}\n")),
            (Lines{"wf.yaml:14:13: error: missing required property 'password' in 'basic' "
                   "authentication (at /do/0/a/with/endpoint/authentication/basic)",
                   "wf.yaml:15:13: error: an authentication policy has both 'basic' and "
                   "'bearer'; use exactly one of: basic, bearer, digest, oauth2, oidc "
                   "(at /do/0/a/with/endpoint/authentication/bearer)",
                   "wf.yaml:23:13: error: 'grant' must be one of: authorization_code, "
                   "client_credentials, password, refresh_token, "
                   "urn:ietf:params:oauth:grant-type:token-exchange; got 'magic' "
                   "(at /do/1/b/with/authentication/oauth2/grant)",
                   "wf.yaml:24:29: error: unknown property 'secrett' in 'client'; expected one "
                   "of: id, secret, assertion, authentication "
                   "(at /do/1/b/with/authentication/oauth2/client/secrett)",
                   "wf.yaml:32:20: warning: secret 'undeclaredSecret' is not declared in "
                   "use.secrets (at /do/2/c/with/endpoint/authentication/oidc/use)"}));
}

// ---- Variable names -----------------------------------------------------------------------

TEST(ValidateTest, VariableNamesMustBeJqVariables) {
  EXPECT_EQ(
      Problems(Wf("  - a:\n"
                  "      for: {each: then, at: 1st, in: .items}\n"
                  "      do: [{x: {set: {a: 1}}}]\n"
                  "  - b:\n"
                  "      try: [{x: {wait: PT1S}}]\n"
                  "      catch: {as: $err}\n"
                  "  - c:\n"
                  "      listen:\n"
                  "        to: {one: {with: {type: t}}}\n"
                  "      foreach: {item: my-event, at: reduce}\n"
                  "  - d:\n"
                  "      for: {each: pet_2, at: _i, in: .pets}\n"
                  "      do: [{x: {set: {a: 1}}}]\n")),
      (Lines{"wf.yaml:8:13: error: 'each' cannot be 'then': it is a jq keyword, so $then would not "
             "compile (at /do/0/a/for/each)",
             "wf.yaml:8:25: error: 'at' must be a valid jq variable name (a letter or '_' "
             "followed by letters, digits or '_'), got '1st' (at /do/0/a/for/at)",
             "wf.yaml:12:15: error: 'as' names a variable without its '$': write 'err', not "
             "'$err' (at /do/1/b/catch/as)",
             "wf.yaml:16:17: error: 'item' must be a valid jq variable name (a letter or '_' "
             "followed by letters, digits or '_'), got 'my-event' (at /do/2/c/foreach/item)",
             "wf.yaml:16:33: error: 'at' cannot be 'reduce': it is a jq keyword, so $reduce would "
             "not compile (at /do/2/c/foreach/at)"}));
}

// ---- Task types ---------------------------------------------------------------------------

TEST(ValidateTest, CallArguments) {
  EXPECT_EQ(
      Problems(Wf("  - a: {call: http}\n"
                  "  - b:\n"
                  "      call: http\n"
                  "      with:\n"
                  "        method: 5\n"
                  "        endpoint: {url: 'https://x.com'}\n"
                  "        headers: {Accept: 1}\n"
                  "        query: .q\n"
                  "        output: json\n"
                  "        redirect: 'yes'\n"
                  "  - c:\n"
                  "      call: grpc\n"
                  "      with:\n"
                  "        proto: {endpoint: 'file://app/greet.proto'}\n"
                  "        service: {name: s, host: h, port: 70000}\n"
                  "  - d:\n"
                  "      call: asyncapi\n"
                  "      with:\n"
                  "        document: {endpoint: 'https://x.com/a.json'}\n"
                  "        operation: op\n"
                  "        channel: ch\n"
                  "  - e:\n"
                  "      call: mcp\n"
                  "      with:\n"
                  "        method: tools/run\n"
                  "        transport: {}\n"
                  "  - f:\n"
                  "      call: a2a\n"
                  "      with: {method: message/send, parameters: {}}\n")),
      (Lines{
          "wf.yaml:7:5: error: missing required property 'with' in task 'a' (call 'http' "
          "needs arguments) (at /do/0/a)",
          "wf.yaml:11:9: error: 'method' must be a string, got number 5 (at /do/1/b/with/method)",
          "wf.yaml:12:9: error: missing required property 'uri' in 'endpoint' "
          "(at /do/1/b/with/endpoint)",
          "wf.yaml:12:20: error: unknown property 'url' in 'endpoint'; expected one of: uri, "
          "authentication (at /do/1/b/with/endpoint/url)",
          "wf.yaml:13:19: error: 'Accept' in 'headers' must be a string, got number 1 "
          "(at /do/1/b/with/headers/Accept)",
          "wf.yaml:14:9: error: 'query' must be a map of strings or a runtime expression "
          "'${ ... }', got string '.q' (at /do/1/b/with/query)",
          "wf.yaml:15:9: error: 'output' must be one of: raw, content, response; got 'json' "
          "(at /do/1/b/with/output)",
          "wf.yaml:16:9: error: 'redirect' must be a boolean (true or false), got string "
          "'yes' (at /do/1/b/with/redirect)",
          "wf.yaml:19:7: error: missing required property 'method' in call 'grpc' arguments "
          "(at /do/2/c/with)",
          "wf.yaml:21:37: error: 'port' must be an integer from 0 to 65535, got number 70000 "
          "(at /do/2/c/with/service/port)",
          "wf.yaml:24:7: error: call 'asyncapi' arguments needs one of: message, "
          "subscription (at /do/3/d/with)",
          "wf.yaml:27:9: error: call 'asyncapi' arguments has both 'operation' and "
          "'channel'; use exactly one of: operation, channel (at /do/3/d/with/channel)",
          "wf.yaml:31:9: error: 'method' must be one of: tools/list, tools/call, "
          "prompts/list, prompts/get, resources/list, resources/read, "
          "resources/templates/list; got 'tools/run' (at /do/4/e/with/method)",
          "wf.yaml:32:9: error: 'transport' needs one of: http, stdio "
          "(at /do/4/e/with/transport)",
          "wf.yaml:35:36: error: 'parameters' must not be empty (at /do/5/f/with/parameters)"}));
}

TEST(ValidateTest, EmitForForkListenRaiseSet) {
  EXPECT_EQ(
      Problems(Wf("  - a:\n"
                  "      emit:\n"
                  "        event:\n"
                  "          with: {type: t, data: {x: 1}}\n"
                  "  - b:\n"
                  "      for: {each: x}\n"
                  "  - c:\n"
                  "      fork: {branches: [], compete: 1}\n"
                  "  - d:\n"
                  "      listen:\n"
                  "        to: {all: [], one: {with: {type: t}}}\n"
                  "        read: body\n"
                  "  - e:\n"
                  "      listen:\n"
                  "        to:\n"
                  "          all: [{with: {}}]\n"
                  "          until: .done\n"
                  "  - f:\n"
                  "      raise:\n"
                  "        error: {type: 'https://e.com/x', status: '400'}\n"
                  "  - g: {set: 5}\n")),
      (Lines{"wf.yaml:10:11: error: missing required property 'source' in the event's 'with' "
             "(at /do/0/a/emit/event/with)",
             "wf.yaml:11:5: error: missing required property 'do' in task 'b' (at /do/1/b)",
             "wf.yaml:12:7: error: missing required property 'in' in 'for' (at /do/1/b/for)",
             "wf.yaml:14:28: error: 'compete' must be a boolean (true or false), got number 1 "
             "(at /do/2/c/fork/compete)",
             "wf.yaml:17:23: error: an event consumption strategy has both 'all' and 'one'; use "
             "exactly one of: all, any, one (at /do/3/d/listen/to/one)",
             "wf.yaml:18:9: error: 'read' must be one of: data, envelope, raw; got 'body' "
             "(at /do/3/d/listen/read)",
             "wf.yaml:22:18: error: an event filter's 'with' needs at least one attribute "
             "(at /do/4/e/listen/to/all/0/with)",
             "wf.yaml:23:11: error: 'until' is only allowed with 'any' "
             "(at /do/4/e/listen/to/until)",
             "wf.yaml:26:42: error: 'status' must be an integer, got string '400' "
             "(at /do/5/f/raise/error/status)",
             "wf.yaml:27:9: error: 'set' must be an object or a runtime expression, got number "
             "5 (at /do/6/g/set)"}));
}

TEST(ValidateTest, RunNeedsExactlyOneProcess) {
  EXPECT_EQ(
      Problems(Wf("  - a: {run: {}}\n"
                  "  - b:\n"
                  "      run:\n"
                  "        shell: {command: ls}\n"
                  "        script: {language: js, code: '1'}\n"
                  "  - c:\n"
                  "      run:\n"
                  "        container:\n"
                  "          image: alpine\n"
                  "          lifetime: {cleanup: eventually}\n"
                  "        return: everything\n"
                  "  - d:\n"
                  "      run:\n"
                  "        container:\n"
                  "          image: alpine\n"
                  "          lifetime: {cleanup: always, after: PT1M}\n"
                  "  - e:\n"
                  "      run:\n"
                  "        script: {language: python, code: x, source: {endpoint: 'file://a.py'}}\n"
                  "  - f:\n"
                  "      run:\n"
                  "        workflow: {name: child, version: '1.0.0'}\n")),
      (Lines{"wf.yaml:7:9: error: 'run' needs one of: container, script, shell, workflow "
             "(at /do/0/a/run)",
             "wf.yaml:11:9: error: 'run' has both 'shell' and 'script'; use exactly one of: "
             "container, script, shell, workflow (at /do/1/b/run/script)",
             "wf.yaml:16:11: error: 'lifetime' with cleanup 'eventually' needs 'after' "
             "(at /do/2/c/run/container/lifetime)",
             "wf.yaml:17:9: error: 'return' must be one of: stdout, stderr, code, all, none; got "
             "'everything' (at /do/2/c/run/return)",
             "wf.yaml:22:39: error: 'after' is only allowed when 'cleanup' is 'eventually' "
             "(at /do/3/d/run/container/lifetime/after)",
             "wf.yaml:25:45: error: 'script' has both 'code' and 'source'; use exactly one of: "
             "code, source (at /do/4/e/run/script/source)",
             "wf.yaml:28:9: error: missing required property 'namespace' in 'workflow' "
             "(at /do/5/f/run/workflow)"}));
}

TEST(ValidateTest, SwitchCases) {
  EXPECT_EQ(Problems(Wf("  - s:\n"
                        "      switch:\n"
                        "        - red: {when: '.c == \"red\"', then: setRed}\n"
                        "        - fallback: {then: end}\n"
                        "        - other: {then: exit}\n"
                        "        - red: {when: .x, then: continue}\n"
                        "        - bad: {when: .y}\n"
                        "  - setRed: {set: {c: red}}\n"
                        "  - t: {switch: []}\n")),
            (Lines{"wf.yaml:11:11: error: 'switch' has more than one default case (a case without "
                   "'when'): 'fallback' and 'other' (at /do/0/s/switch/2/other)",
                   "wf.yaml:12:11: error: duplicate switch case name 'red' "
                   "(at /do/0/s/switch/3/red)",
                   "wf.yaml:13:11: error: missing required property 'then' in switch case 'bad' "
                   "(at /do/0/s/switch/4/bad)",
                   "wf.yaml:15:9: error: 'switch' needs at least one case (at /do/2/t/switch)"}));
  EXPECT_EQ(Problems(Wf("  - s:\n"
                        "      switch:\n"
                        "        - red: {when: .red, then: setRed}\n")),
            Lines{"wf.yaml:9:29: error: 'then' target 'setRed' does not exist in this task list "
                  "(at /do/0/s/switch/0/red/then)"});
}

TEST(ValidateTest, TryCatchAndRetry) {
  EXPECT_EQ(
      Problems(Wf("  - a:\n"
                  "      try: [{x: {wait: PT1S}}]\n"
                  "  - b:\n"
                  "      try: [{x: {wait: PT1S}}]\n"
                  "      catch:\n"
                  "        errors: {with: {status: '503', titel: x}}\n"
                  "        when: 5\n"
                  "        retry:\n"
                  "          delay: PT1S\n"
                  "          backoff: {exponential: {}, linear: {}}\n"
                  "          limit: {attempt: {count: -1}}\n"
                  "          jitter: {from: PT1S}\n"
                  "        do: [{y: {set: {failed: true}}}]\n"
                  "  - c:\n"
                  "      catch: {}\n")),
      (Lines{"wf.yaml:7:5: error: missing required property 'catch' in task 'a' (at /do/0/a)",
             "wf.yaml:12:25: error: 'status' must be an integer, got string '503' "
             "(at /do/1/b/catch/errors/with/status)",
             "wf.yaml:12:40: error: unknown property 'titel' in error filter; expected one of: "
             "type, status, instance, title, detail, details "
             "(at /do/1/b/catch/errors/with/titel)",
             "wf.yaml:13:9: error: 'when' (a runtime expression) must be a string, got number 5 "
             "(at /do/1/b/catch/when)",
             "wf.yaml:16:38: error: 'backoff' has both 'exponential' and 'linear'; use exactly "
             "one of: constant, linear, exponential (at /do/1/b/catch/retry/backoff/linear)",
             "wf.yaml:17:29: error: 'count' must be a non-negative integer, got number -1 "
             "(at /do/1/b/catch/retry/limit/attempt/count)",
             "wf.yaml:18:11: error: missing required property 'to' in 'jitter' "
             "(at /do/1/b/catch/retry/jitter)",
             "wf.yaml:21:7: error: 'catch' needs 'try' in task 'c' (at /do/2/c/catch)"}));
}

// ---- Baton extensions ---------------------------------------------------------------------

constexpr char kExtensions[] =
    "  - book:\n"
    "      call: http\n"
    "      with: {method: post, endpoint: 'https://example.com/book'}\n"
    "      compensate:\n"
    "        - cancel: {call: http, with: {method: delete, endpoint: 'https://example.com/b'}}\n"
    "  - each:\n"
    "      for: {in: .items, concurrency: 4}\n"
    "      do: [{x: {set: {a: 1}}}]\n"
    "      compensate: {set: {undone: true}}\n"
    "  - t:\n"
    "      try: [{x: {wait: PT1S}}]\n"
    "      catch:\n"
    "        compensate: true\n"
    "        retry:\n"
    "          backoff:\n"
    "            exponential: {multiplier: 3, maxDelay: {seconds: 60}}\n"
    "  - u:\n"
    "      try: [{x: {wait: PT1S}}]\n"
    "      catch:\n"
    "        retry:\n"
    "          backoff: {linear: {increment: PT2S}}\n";

TEST(ValidateTest, BatonExtensionsAreAcceptedByDefault) {
  EXPECT_EQ(Problems(Wf(kExtensions)), Lines{});
}

TEST(ValidateTest, StrictFlagsEveryBatonExtension) {
  EXPECT_EQ(Problems(Wf(kExtensions), /*strict=*/true),
            (Lines{"wf.yaml:10:7: error: baton extension 'compensate' is not portable (flagged by "
                   "--strict) (at /do/0/book/compensate)",
                   "wf.yaml:13:25: error: baton extension 'for.concurrency' is not portable "
                   "(flagged by --strict) (at /do/1/each/for/concurrency)",
                   "wf.yaml:15:7: error: baton extension 'compensate' is not portable (flagged by "
                   "--strict) (at /do/1/each/compensate)",
                   "wf.yaml:19:9: error: baton extension 'catch.compensate' is not portable "
                   "(flagged by --strict) (at /do/2/t/catch/compensate)",
                   "wf.yaml:22:27: error: baton extension 'backoff.exponential.multiplier' is not "
                   "portable (flagged by --strict) "
                   "(at /do/2/t/catch/retry/backoff/exponential/multiplier)",
                   "wf.yaml:22:42: error: baton extension 'backoff.exponential.maxDelay' is not "
                   "portable (flagged by --strict) "
                   "(at /do/2/t/catch/retry/backoff/exponential/maxDelay)",
                   "wf.yaml:27:30: error: baton extension 'backoff.linear.increment' is not "
                   "portable (flagged by --strict) "
                   "(at /do/3/u/catch/retry/backoff/linear/increment)"}));
}

TEST(ValidateTest, ExtensionValuesAreChecked) {
  EXPECT_EQ(
      Problems(Wf("  - a:\n"
                  "      for: {in: .items, concurrency: 0}\n"
                  "      do: [{x: {set: {a: 1}}}]\n"
                  "      compensate: undo\n"
                  "  - t:\n"
                  "      try: [{x: {wait: PT1S}}]\n"
                  "      catch:\n"
                  "        compensate: yes\n"
                  "        retry:\n"
                  "          backoff:\n"
                  "            exponential: {multiplier: 0.5, factor: 2}\n"
                  "  - u:\n"
                  "      try: [{x: {wait: PT1S}}]\n"
                  "      catch:\n"
                  "        retry:\n"
                  "          backoff: {constant: {delay: PT1S}}\n")),
      (Lines{"wf.yaml:8:25: error: 'concurrency' must be a positive integer, got number 0 "
             "(at /do/0/a/for/concurrency)",
             "wf.yaml:10:7: error: 'compensate' must be a task list or a task, got string 'undo' "
             "(at /do/0/a/compensate)",
             "wf.yaml:14:9: error: 'compensate' must be a boolean (true or false), got string "
             "'yes' (at /do/1/t/catch/compensate)",
             "wf.yaml:17:27: error: 'multiplier' must be a number from 1 to 1000000, got number "
             "0.5 (at /do/1/t/catch/retry/backoff/exponential/multiplier)",
             "wf.yaml:17:44: error: unknown property 'factor' in 'exponential' backoff; expected "
             "one of: multiplier, maxDelay (at /do/1/t/catch/retry/backoff/exponential/factor)",
             "wf.yaml:22:32: error: unknown property 'delay' in 'constant' backoff; it takes no "
             "parameters (at /do/2/u/catch/retry/backoff/constant/delay)"}));
}

// ---- Reporting ----------------------------------------------------------------------------

TEST(ValidateTest, ReportsEveryProblemInDocumentOrder) {
  Lines problems =
      Problems(Wf("  - a: {wait: soon}\n"
                  "  - b: {set: {x: 1}, then: nowhere}\n"
                  "  - c: {call: nothing}\n"
                  "timeout: later\n"));
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_NE(problems[0].find("wf.yaml:7:9:"), std::string::npos);
  EXPECT_NE(problems[1].find("wf.yaml:8:22:"), std::string::npos);
  EXPECT_NE(problems[2].find("wf.yaml:9:9:"), std::string::npos);
  EXPECT_NE(problems[3].find("wf.yaml:10:1:"), std::string::npos);
}

TEST(ValidateTest, StopsListingAfterAThousandProblems) {
  std::string tasks;
  for (int i = 0; i < 1500; ++i) tasks += "  - t" + std::to_string(i) + ": {bogus: 1}\n";
  Lines problems = Problems(Wf(tasks));
  ASSERT_EQ(problems.size(), 1001u);
  EXPECT_EQ(problems.back(),
            "wf.yaml:1:1: error: too many problems; only the first 1000 are listed (at /)");
}

}  // namespace
}  // namespace baton::model
