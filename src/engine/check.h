// CheckAndCompile: the one way a document is judged before it runs (`baton validate`,
// `baton run`, deploys to a server): structural validation, then compilation, with every
// problem reported once, in source order.
#pragma once

#include <memory>
#include <vector>

#include "engine/workflow.h"
#include "model/document.h"

namespace baton::engine {

// Returns the compiled workflow when the document has no error; fills `diagnostics`
// (sorted by position) either way. Expressions are compiled even when the structure has
// problems, so that one pass reports everything; then only expression problems of the
// compiler are kept (the others would repeat the validator's).
// `evaluable` false: only the diagnostics matter (`baton validate`); the workflow returned
// must not run (see Compile).
std::shared_ptr<const CompiledWorkflow> CheckAndCompile(const model::Document& doc,
                                                        const model::ValidateOptions& options,
                                                        std::vector<model::Diagnostic>* diagnostics,
                                                        bool evaluable = true);

}  // namespace baton::engine
