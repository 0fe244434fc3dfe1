// Steps: the CTK's step definitions, and the execution of one scenario through them.
//
// A scenario's steps run in order against a Backend, which parses doc strings and runs the
// workflow (ctk_main.cc's backend uses model::ParseDocument and runtime::LocalRunner; the
// step tests use a fake). The first failing step ends the scenario; a step that matches no
// definition fails it too, so nothing is ever skipped silently. The definitions, with
// their regexes, are listed in docs/architecture/conformance.md.
//
// Thread-safety: RunScenario keeps its state on the stack; one Backend per thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "conformance/gherkin.h"
#include "model/document.h"
#include "runtime/local_runner.h"

namespace baton::conformance {

// What the steps need from baton.
class Backend {
 public:
  virtual ~Backend() = default;
  // Parses a doc string (YAML or JSON). `origin` ("call.feature:12") names it in messages.
  virtual Result<model::Document> Parse(std::string_view text, const std::string& origin) = 0;
  // Runs `workflow` with `input` to its end. Not OK when the workflow could not run at all
  // (invalid, or past the deadline); faults are a RunResult with status "faulted".
  virtual Result<runtime::RunResult> Run(const model::Document& workflow, const Json& input) = 0;
};

struct StepFailure {
  const Step* step = nullptr;  // points into the Scenario given to RunScenario
  std::string message;
};

struct ScenarioOutcome {
  std::optional<StepFailure> failure;  // the first failing step; none = the scenario passed
  size_t steps_passed = 0;
  size_t steps_not_run = 0;                  // after the failing step
  std::optional<runtime::RunResult> result;  // set once "the workflow is executed" ran it
};

// Runs every step of `scenario` (from `feature`) in order, stopping at the first failure.
ScenarioOutcome RunScenario(const Feature& feature, const Scenario& scenario, Backend& backend);

// The regex of every step definition, in matching order (for documentation and for the
// message of an unknown step).
std::vector<std::string> StepPatterns();

// A short description of a run for failure messages: status, output or error, and the
// order in which tasks started.
std::string DescribeRun(const runtime::RunResult& result);

// Follows a dotted path ("request.headers", "items.0.id") through objects and arrays.
// nullopt when a segment is missing; a present null is returned as Json::Null().
std::optional<Json> LookupPath(const Json& value, std::string_view dotted_path);

// True when every member of `expected` equals the same member of `actual` (when both are
// objects), or when they are equal (otherwise). On false, `*why` says which member differs.
bool ContainsAll(const Json& actual, const Json& expected, std::string* why);

// "Call HTTP With Content Output" → "CallHTTPWithContentOutput": the words, each starting
// with an upper-case letter, with everything but ASCII letters and digits dropped.
// Never empty ("Unnamed" instead).
std::string CamelCaseName(std::string_view text);

}  // namespace baton::conformance
