#include "conformance/steps.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <utility>

#include "engine/lifecycle.h"

namespace baton::conformance {
namespace {

using engine::LifecycleEntry;
using engine::LifecycleKind;

// What the steps of one scenario share.
struct World {
  const Feature& feature;
  Backend& backend;
  std::optional<model::Document> workflow;
  Json input = Json::Object();
  std::optional<runtime::RunResult> result;
};

struct StepResult {
  bool passed = true;
  std::string message;
};

StepResult Pass() { return {}; }
StepResult Fail(std::string message) { return {false, std::move(message)}; }

std::string Pretty(const Json& value) { return value.Dump(/*pretty=*/true); }

// Parses the step's doc string. REQUIRES: step.doc_string (RunStep checks it).
Result<Json> DocValue(World& world, const Step& step) {
  const std::string origin = world.feature.file + ":" + std::to_string(step.doc_string->line);
  Result<model::Document> doc = world.backend.Parse(step.doc_string->content, origin);
  if (!doc.ok()) return doc.status();
  return std::move(doc->root);
}

// The run's result, or a failure message when the workflow has not been executed yet.
const runtime::RunResult* RequireResult(const World& world, StepResult* failure) {
  if (!world.result) {
    *failure = Fail("the workflow has not been executed (missing 'When the workflow is executed')");
    return nullptr;
  }
  return &*world.result;
}

std::string StatusOf(std::string_view verb) {
  if (verb == "complete") return "completed";
  if (verb == "fault") return "faulted";
  return "cancelled";
}

// The workflow's output, or a failure when the workflow did not complete.
const Json* RequireOutput(const World& world, StepResult* failure) {
  const runtime::RunResult* result = RequireResult(world, failure);
  if (result == nullptr) return nullptr;
  if (result->status != "completed") {
    *failure = Fail("the workflow has no output: it did not complete\n" + DescribeRun(*result));
    return nullptr;
  }
  return &result->output;
}

// Names of started tasks, in start order, at any depth.
std::vector<std::string> StartedTasks(const runtime::RunResult& result) {
  std::vector<std::string> names;
  for (const LifecycleEntry& entry : result.lifecycle) {
    if (entry.kind == LifecycleKind::kTaskStarted) names.push_back(entry.task_name);
  }
  return names;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t index = 0; index < names.size(); ++index) {
    if (index > 0) out += ", ";
    out += names[index];
  }
  return out + "]";
}

// Compares `actual` with the doc string of `step`: exactly for outputs, as a subset for
// errors (the CTK's expected errors leave out `detail`).
StepResult CompareWithDocString(World& world, const Step& step, std::string_view what,
                                const Json& actual) {
  Result<Json> expected = DocValue(world, step);
  if (!expected.ok())
    return Fail("cannot parse the expected value: " + expected.status().message());
  if (what == "output") {
    if (actual == *expected) return Pass();
    return Fail("output differs\nexpected: " + Pretty(*expected) + "\nactual:   " + Pretty(actual));
  }
  std::string why;
  if (ContainsAll(actual, *expected, &why)) return Pass();
  return Fail("error differs (" + why + ")\nexpected (subset): " + Pretty(*expected) +
              "\nactual:            " + Pretty(actual));
}

// ---- Step definitions, in the order of IMPLEMENTERS-NOTES.md "Offline plan" ----

StepResult GivenDefinition(World& world, const std::smatch&, const Step& step) {
  const std::string origin = world.feature.file + ":" + std::to_string(step.doc_string->line);
  Result<model::Document> doc = world.backend.Parse(step.doc_string->content, origin);
  if (!doc.ok()) return Fail("cannot parse the workflow: " + doc.status().message());
  world.workflow = std::move(doc).value();
  return Pass();
}

StepResult GivenInput(World& world, const std::smatch&, const Step& step) {
  Result<Json> input = DocValue(world, step);
  if (!input.ok()) return Fail("cannot parse the input: " + input.status().message());
  world.input = std::move(input).value();
  return Pass();
}

StepResult WhenExecuted(World& world, const std::smatch&, const Step&) {
  if (!world.workflow) return Fail("no workflow definition was given before this step");
  Result<runtime::RunResult> result = world.backend.Run(*world.workflow, world.input);
  if (!result.ok()) return Fail("the workflow could not run: " + result.status().ToString());
  world.result = std::move(result).value();
  return Pass();
}

// the workflow should (complete|fault|cancel)( with (output|error):)?
StepResult ThenWorkflowShould(World& world, const std::smatch& match, const Step& step) {
  StepResult failure;
  const runtime::RunResult* result = RequireResult(world, &failure);
  if (result == nullptr) return failure;
  const std::string verb = match[1];
  const std::string what = match[2];
  if (!what.empty() && (what == "output") != (verb == "complete")) {
    return Fail("malformed step: a workflow that should " + verb + " has no " + what);
  }
  if (result->status != StatusOf(verb)) {
    return Fail("expected the workflow to " + verb + ", but it ended '" + result->status + "'\n" +
                DescribeRun(*result));
  }
  if (what.empty()) return Pass();
  return CompareWithDocString(world, step, what, what == "output" ? result->output : result->error);
}

// the workflow output should have properties 'a', 'b.c', ...
StepResult ThenOutputHasProperties(World& world, const std::smatch& match, const Step&) {
  StepResult failure;
  const Json* output = RequireOutput(world, &failure);
  if (output == nullptr) return failure;
  static const std::regex kQuoted("'([^']*)'");
  const std::string list = match[1];
  std::string missing;
  for (std::sregex_iterator it(list.begin(), list.end(), kQuoted), end; it != end; ++it) {
    const std::string path = (*it)[1];
    std::optional<Json> value = LookupPath(*output, path);
    if (!value) {
      missing += "\n  '" + path + "' is missing";
    } else if (value->IsNull()) {
      missing += "\n  '" + path + "' is null";
    }
  }
  if (missing.empty()) return Pass();
  return Fail("the workflow output lacks properties:" + missing + "\noutput: " + Pretty(*output));
}

// the workflow output should have a 'path' property with value:
StepResult ThenOutputPropertyValue(World& world, const std::smatch& match, const Step& step) {
  StepResult failure;
  const Json* output = RequireOutput(world, &failure);
  if (output == nullptr) return failure;
  const std::string path = match[1];
  std::optional<Json> value = LookupPath(*output, path);
  if (!value) return Fail("the workflow output has no '" + path + "'\noutput: " + Pretty(*output));
  Result<Json> expected = DocValue(world, step);
  if (!expected.ok())
    return Fail("cannot parse the expected value: " + expected.status().message());
  if (*value == *expected) return Pass();
  return Fail("'" + path + "' differs\nexpected: " + Pretty(*expected) +
              "\nactual:   " + Pretty(*value));
}

// the workflow output should have a 'path' property containing N items
StepResult ThenOutputPropertyCount(World& world, const std::smatch& match, const Step&) {
  StepResult failure;
  const Json* output = RequireOutput(world, &failure);
  if (output == nullptr) return failure;
  const std::string path = match[1];
  const size_t expected = std::stoul(match[2]);
  std::optional<Json> value = LookupPath(*output, path);
  if (!value) return Fail("the workflow output has no '" + path + "'\noutput: " + Pretty(*output));
  if (!value->IsArray()) {
    return Fail("'" + path + "' is " + std::string(value->KindName()) +
                ", not an array: " + value->Dump());
  }
  if (value->size() == expected) return Pass();
  return Fail("'" + path + "' has " + std::to_string(value->size()) + " items, expected " +
              std::to_string(expected) + ": " + value->Dump());
}

// X should run (first|last)
StepResult ThenTaskRunsFirstOrLast(World& world, const std::smatch& match, const Step&) {
  StepResult failure;
  const runtime::RunResult* result = RequireResult(world, &failure);
  if (result == nullptr) return failure;
  const std::string task = match[1];
  const bool first = match[2] == "first";
  std::vector<std::string> started = StartedTasks(*result);
  if (!started.empty() && (first ? started.front() : started.back()) == task) return Pass();
  return Fail(task + " did not run " + (first ? "first" : "last") +
              "; tasks started in this order: " + JoinNames(started));
}

// X should run (before|after) Y
StepResult ThenTaskRunsBeforeOrAfter(World& world, const std::smatch& match, const Step&) {
  StepResult failure;
  const runtime::RunResult* result = RequireResult(world, &failure);
  if (result == nullptr) return failure;
  const std::string task = match[1];
  const bool before = match[2] == "before";
  const std::string other = match[3];
  std::vector<std::string> started = StartedTasks(*result);
  auto task_at = std::find(started.begin(), started.end(), task);
  auto other_at = std::find(started.begin(), started.end(), other);
  const std::string order = "; tasks started in this order: " + JoinNames(started);
  if (task_at == started.end()) return Fail(task + " never started" + order);
  if (other_at == started.end()) return Fail(other + " never started" + order);
  if (before ? task_at < other_at : task_at > other_at) return Pass();
  return Fail(task + " did not run " + (before ? "before " : "after ") + other + order);
}

// X should (complete|fault|cancel)( with (output|error):)?
StepResult ThenTaskShould(World& world, const std::smatch& match, const Step& step) {
  StepResult failure;
  const runtime::RunResult* result = RequireResult(world, &failure);
  if (result == nullptr) return failure;
  const std::string task = match[1];
  const std::string verb = match[2];
  const std::string what = match[3];
  if (!what.empty() && (what == "output") != (verb == "complete")) {
    return Fail("malformed step: a task that should " + verb + " has no " + what);
  }
  const LifecycleKind wanted = verb == "complete" ? LifecycleKind::kTaskCompleted
                               : verb == "fault"  ? LifecycleKind::kTaskFaulted
                                                  : LifecycleKind::kTaskCancelled;
  // A task that ran several times (a loop body) is judged by its last such entry.
  const LifecycleEntry* found = nullptr;
  std::string seen;
  for (const LifecycleEntry& entry : result->lifecycle) {
    if (entry.task_name != task) continue;
    if (entry.kind == wanted) found = &entry;
    seen += std::string(seen.empty() ? "" : ", ") + engine::LifecycleKindName(entry.kind);
  }
  if (found == nullptr) {
    return Fail("task " + task + " did not " + verb + "; its lifecycle: [" + seen + "]");
  }
  if (what.empty()) return Pass();
  return CompareWithDocString(world, step, what, found->data);
}

using StepFn = StepResult (*)(World&, const std::smatch&, const Step&);

struct StepDefinition {
  std::string pattern;
  StepFn run;
};

const std::vector<StepDefinition>& Definitions() {
  static const std::vector<StepDefinition> kDefinitions = {
      {"a workflow with definition:", GivenDefinition},
      {"(?:given )?the workflow input is:", GivenInput},
      {"the workflow is executed", WhenExecuted},
      {"the workflow should (complete|fault|cancel)(?: with (output|error):)?", ThenWorkflowShould},
      {"the workflow output should have properties ('[^']*'(?:, '[^']*')*)",
       ThenOutputHasProperties},
      {"the workflow output should have a '([^']*)' property with value:", ThenOutputPropertyValue},
      {"the workflow output should have a '([^']*)' property containing (\\d{1,9}) items",
       ThenOutputPropertyCount},
      {"([\\w-]+) should run (first|last)", ThenTaskRunsFirstOrLast},
      {"([\\w-]+) should run (before|after) ([\\w-]+)", ThenTaskRunsBeforeOrAfter},
      {"([\\w-]+) should (complete|fault|cancel)(?: with (output|error):)?", ThenTaskShould},
  };
  return kDefinitions;
}

const std::vector<std::regex>& CompiledPatterns() {
  static const std::vector<std::regex> kCompiled = [] {
    std::vector<std::regex> compiled;
    for (const StepDefinition& definition : Definitions()) {
      compiled.emplace_back(definition.pattern, std::regex::ECMAScript);
    }
    return compiled;
  }();
  return kCompiled;
}

StepResult RunStep(World& world, const Step& step) {
  const std::vector<StepDefinition>& definitions = Definitions();
  const std::vector<std::regex>& patterns = CompiledPatterns();
  for (size_t index = 0; index < definitions.size(); ++index) {
    std::smatch match;
    if (!std::regex_match(step.text, match, patterns[index])) continue;
    // A step that ends with ':' takes a doc string; no other step does.
    const bool wants_doc = !step.text.empty() && step.text.back() == ':';
    if (wants_doc && !step.doc_string) return Fail("this step needs a doc string after it");
    if (!wants_doc && step.doc_string) return Fail("this step takes no doc string");
    return definitions[index].run(world, match, step);
  }
  std::string known;
  for (const StepDefinition& definition : definitions) known += "\n  " + definition.pattern;
  return Fail("unknown step (no step definition matches it); the known steps are:" + known);
}

}  // namespace

ScenarioOutcome RunScenario(const Feature& feature, const Scenario& scenario, Backend& backend) {
  World world{feature, backend, std::nullopt, Json::Object(), std::nullopt};
  ScenarioOutcome outcome;
  for (size_t index = 0; index < scenario.steps.size(); ++index) {
    const Step& step = scenario.steps[index];
    StepResult result = RunStep(world, step);
    if (!result.passed) {
      outcome.failure = StepFailure{&step, std::move(result.message)};
      outcome.steps_not_run = scenario.steps.size() - index - 1;
      break;
    }
    ++outcome.steps_passed;
  }
  if (scenario.steps.empty()) outcome.failure = StepFailure{nullptr, "the scenario has no steps"};
  outcome.result = std::move(world.result);
  return outcome;
}

std::vector<std::string> StepPatterns() {
  std::vector<std::string> patterns;
  for (const StepDefinition& definition : Definitions()) patterns.push_back(definition.pattern);
  return patterns;
}

std::string DescribeRun(const runtime::RunResult& result) {
  std::string out = "run: status " + result.status;
  if (result.status == "completed") out += ", output " + result.output.Dump();
  if (!result.error.IsNull()) out += ", error " + result.error.Dump();
  out += "; tasks started in this order: " + JoinNames(StartedTasks(result));
  return out;
}

std::optional<Json> LookupPath(const Json& value, std::string_view dotted_path) {
  Json current = value;
  while (true) {
    const size_t dot = dotted_path.find('.');
    const std::string_view segment = dotted_path.substr(0, dot);
    if (current.IsObject()) {
      if (!current.Has(segment)) return std::nullopt;
      current = current.Get(segment);
    } else if (current.IsArray()) {
      if (segment.empty() || segment.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
      }
      const size_t index = std::stoul(std::string(segment));
      if (index >= current.size()) return std::nullopt;
      current = current.At(index);
    } else {
      return std::nullopt;
    }
    if (dot == std::string_view::npos) return current;
    dotted_path.remove_prefix(dot + 1);
  }
}

bool ContainsAll(const Json& actual, const Json& expected, std::string* why) {
  if (!expected.IsObject() || !actual.IsObject()) {
    if (actual == expected) return true;
    *why = "the values differ";
    return false;
  }
  bool all = true;
  std::string problems;
  expected.ForEachMember([&](std::string_view key, const Json& value) {
    if (!actual.Has(key)) {
      problems += std::string(problems.empty() ? "" : "; ") + "'" + std::string(key) + "' missing";
      all = false;
    } else if (actual.Get(key) != value) {
      problems += std::string(problems.empty() ? "" : "; ") + "'" + std::string(key) + "' differs";
      all = false;
    }
  });
  *why = problems;
  return all;
}

std::string CamelCaseName(std::string_view text) {
  std::string out;
  bool word_start = true;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) || u >= 0x80) {
      word_start = true;
      continue;
    }
    out += word_start ? static_cast<char>(std::toupper(u)) : c;
    word_start = false;
  }
  return out.empty() ? "Unnamed" : out;
}

}  // namespace baton::conformance
