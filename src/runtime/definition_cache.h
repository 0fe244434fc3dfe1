// Definitions in a server: their text (shared by every thread) and their compiled form
// (one per thread: compiled workflows hold jq values, whose reference counts are not
// atomic, so a compiled workflow never crosses threads).
//
// A deployed version never changes (a different content under the same version is
// refused), so neither cache ever needs invalidation.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/json.h"
#include "base/status.h"
#include "engine/workflow.h"
#include "runtime/service.h"
#include "store/store.h"

namespace baton::runtime {

struct WorkflowRef {
  std::string namespace_;
  std::string name;
  std::string version;  // empty = latest
};
// "namespace/name" or "namespace/name:version". InvalidArgument otherwise.
Result<WorkflowRef> ParseWorkflowRef(const std::string& text);

// Orders versions like semver ("1.10.0" > "1.9.0"); non-numeric parts compare as text.
bool VersionLess(const std::string& a, const std::string& b);

class DefinitionCache;

// The text of every deployed definition. Thread-safe.
class DefinitionSources {
 public:
  explicit DefinitionSources(store::Store* store) : store_(store) {}

  // Reads every definition from the store (at start).
  Status LoadAll();

  // Parses, validates and compiles `content`, then stores it. Idempotent for identical
  // content; Conflict for a different content under an existing version. Invalid
  // documents: InvalidArgument with one "document:LINE:COL: error: ..." line per problem.
  Result<DeployResult> Deploy(const std::string& content);

  // Resolves a reference (empty version = the highest version). NotFound otherwise.
  Result<WorkflowRef> Find(const std::string& namespace_, const std::string& name,
                           const std::string& version) const;
  // The text of an exact version.
  Result<std::string> Content(const std::string& namespace_, const std::string& name,
                              const std::string& version) const;

  Result<Json> ListView() const;
  Result<Json> VersionsView(const std::string& namespace_, const std::string& name) const;
  Result<Json> DefinitionView(const std::string& namespace_, const std::string& name,
                              const std::string& version) const;

 private:
  void AddLocked(store::Definition def);

  store::Store* store_;
  mutable std::mutex mu_;
  // "namespace/name" → version → definition
  std::map<std::string, std::map<std::string, store::Definition>> defs_;
};

// Compiled definitions for one thread. Not thread-safe: one per thread.
class DefinitionCache {
 public:
  // `single_threaded`: results of expressions may share storage with the program
  // (cheaper), which is right when everything compiled here stays on this thread.
  DefinitionCache(const DefinitionSources* sources, bool single_threaded)
      : sources_(sources), single_threaded_(single_threaded) {}

  Result<std::shared_ptr<const engine::CompiledWorkflow>> Get(const std::string& namespace_,
                                                              const std::string& name,
                                                              const std::string& version);
  // Compiles a document that is not deployed yet (Deploy's check); caches it on success.
  Result<std::shared_ptr<const engine::CompiledWorkflow>> CompileText(const std::string& content);

 private:
  const DefinitionSources* sources_;
  bool single_threaded_;
  std::unordered_map<std::string, std::shared_ptr<const engine::CompiledWorkflow>> compiled_;
};

}  // namespace baton::runtime
