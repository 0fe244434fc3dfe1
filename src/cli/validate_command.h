// `baton validate FILE...`: parse, validate and compile documents; report every problem
// compiler-style. Exit 0 when all are valid, 1 otherwise.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/workflow.h"
#include "model/document.h"

namespace baton::cli {

struct ValidateArgs {
  bool strict = false;
  std::string output = "text";
  std::vector<std::string> files;
};

int RunValidate(const ValidateArgs& args);

// Loads, validates and compiles one document; appends every problem to `problems`.
// Returns the document when it is valid. With `evaluable` false its workflow must not run
// (expressions only checked: faster, for `baton validate`).
struct ValidDocument {
  model::Document document;
  std::shared_ptr<const engine::CompiledWorkflow> workflow;
};
std::optional<ValidDocument> LoadValidDocument(const std::string& path, bool strict,
                                               std::vector<std::string>* problems,
                                               bool evaluable = true);

}  // namespace baton::cli
