#include "engine/check.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace baton::engine {

std::shared_ptr<const CompiledWorkflow> CheckAndCompile(const model::Document& doc,
                                                        const model::ValidateOptions& options,
                                                        std::vector<model::Diagnostic>* diagnostics,
                                                        bool evaluable) {
  std::vector<model::Diagnostic> found = model::Validate(doc, options);
  bool errors = false;
  for (const auto& d : found) errors = errors || !d.is_warning;
  std::shared_ptr<const CompiledWorkflow> workflow;
  std::vector<model::Diagnostic> compile;
  auto compiled = Compile(doc, &compile, evaluable);
  if (compiled.ok() && !errors) workflow = *compiled;
  for (auto& d : compile) {
    if (errors && d.message.rfind("invalid jq expression", 0) != 0) continue;
    errors = errors || !d.is_warning;
    found.push_back(std::move(d));
  }
  if (!compiled.ok() && !errors) {
    // The compiler refused without saying where: report it at the root.
    found.push_back(doc.MakeDiagnostic("", compiled.status().message()));
    errors = true;
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const model::Diagnostic& a, const model::Diagnostic& b) {
                     return std::tie(a.position.line, a.position.column) <
                            std::tie(b.position.line, b.position.column);
                   });
  for (auto& d : found) diagnostics->push_back(std::move(d));
  return errors ? nullptr : workflow;
}

}  // namespace baton::engine
