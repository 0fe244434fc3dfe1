// Gherkin: a minimal reader for the CTK's `.feature` files (the Serverless Workflow
// conformance kit). It knows the subset the CTK uses and rejects the rest loudly, so that a
// new construct in an updated CTK fails a test instead of being skipped.
//
// Supported: `Feature:` (with a free-text description), `Background:` (its steps are
// prepended to every scenario), `Scenario:`/`Example:`, steps starting with Given, When,
// Then, And, But or `*`, `#` comments, `@tags`, and doc strings delimited by `"""` or ```.
// A doc-string line loses up to as many leading spaces as its opening delimiter is indented
// (Gherkin's rule; the CTK indents some doc strings deeper than their step). Trailing spaces
// and a missing final newline are fine. Rejected: `Scenario Outline:`/`Examples:`, `Rule:`,
// data tables (`|`), and anything else that is not a known line kind.
//
// Thread-safety: plain functions over values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace baton::conformance {

struct DocString {
  std::string media_type;  // what follows the opening delimiter, e.g. "yaml"; may be empty
  std::string content;     // lines joined with '\n', without a final newline
  int line = 0;            // 1-based line of the opening delimiter
};

struct Step {
  std::string keyword;  // as written: "Given", "When", "Then", "And", "But" or "*"
  std::string text;     // after the keyword, trimmed
  int line = 0;
  std::optional<DocString> doc_string;
};

struct Scenario {
  std::string name;
  int line = 0;
  std::vector<std::string> tags;  // "@tag" as written
  std::vector<Step> steps;        // Background steps first
};

struct Feature {
  std::string file;  // as given to ParseFeature
  std::string name;
  int line = 0;
  std::string description;  // free text between `Feature:` and the first scenario
  std::vector<std::string> tags;
  std::vector<Scenario> scenarios;
};

// Parses the text of one feature file. Errors are InvalidArgument "FILE:LINE: message".
Result<Feature> ParseFeature(std::string_view text, std::string file);

// Reads and parses one file (NotFound when it cannot be read).
Result<Feature> LoadFeatureFile(const std::string& path);

// The `*.feature` files directly inside `dir`, sorted by name (NotFound when `dir` is not a
// readable directory).
Result<std::vector<std::string>> ListFeatureFiles(const std::string& dir);

}  // namespace baton::conformance
