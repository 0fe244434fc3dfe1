#include "runtime/definition_cache.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "base/time.h"
#include "engine/check.h"
#include "model/document.h"
#include "store/hash.h"

namespace baton::runtime {

namespace {

std::string Key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

bool ValidPart(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '+';
    if (!ok) return false;
  }
  return true;
}

Json TimeValue(int64_t ms) { return Json::String(FormatRfc3339(ms)); }

}  // namespace

Result<WorkflowRef> ParseWorkflowRef(const std::string& text) {
  WorkflowRef ref;
  size_t slash = text.find('/');
  size_t colon = text.find(':', slash == std::string::npos ? 0 : slash);
  if (slash == std::string::npos) {
    return Status::InvalidArgument("workflow '" + text +
                                   "': expected \"namespace/name\" or \"namespace/name:version\"");
  }
  ref.namespace_ = text.substr(0, slash);
  ref.name =
      text.substr(slash + 1, colon == std::string::npos ? std::string::npos : colon - slash - 1);
  if (colon != std::string::npos) ref.version = text.substr(colon + 1);
  if (!ValidPart(ref.namespace_) || !ValidPart(ref.name) ||
      (colon != std::string::npos && !ValidPart(ref.version))) {
    return Status::InvalidArgument("workflow '" + text +
                                   "': expected \"namespace/name\" or \"namespace/name:version\" "
                                   "(letters, digits, '-', '_', '.', '+')");
  }
  return ref;
}

bool VersionLess(const std::string& a, const std::string& b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    size_t ni = a.find_first_of(".-+", i);
    size_t nj = b.find_first_of(".-+", j);
    std::string pa = a.substr(i, ni == std::string::npos ? std::string::npos : ni - i);
    std::string pb = b.substr(j, nj == std::string::npos ? std::string::npos : nj - j);
    bool da =
        !pa.empty() && pa.size() < 19 && pa.find_first_not_of("0123456789") == std::string::npos;
    bool db =
        !pb.empty() && pb.size() < 19 && pb.find_first_not_of("0123456789") == std::string::npos;
    if (da && db && std::stoull(pa) != std::stoull(pb)) return std::stoull(pa) < std::stoull(pb);
    if (!(da && db) && pa != pb) return pa < pb;
    i = ni == std::string::npos ? a.size() : ni + 1;
    j = nj == std::string::npos ? b.size() : nj + 1;
  }
  return false;
}

// --- DefinitionSources ---

Status DefinitionSources::LoadAll() {
  BATON_ASSIGN_OR_RETURN(auto all, store_->ListDefinitions());
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& d : all) AddLocked(std::move(d));
  return Status::Ok();
}

void DefinitionSources::AddLocked(store::Definition def) {
  std::string key = Key(def.namespace_, def.name);
  std::string version = def.version;
  defs_[key][version] = std::move(def);
}

Result<DeployResult> DefinitionSources::Deploy(const std::string& content) {
  auto doc = model::ParseDocument(content, "document");
  if (!doc.ok()) return Status::InvalidArgument(doc.status().message());
  std::vector<model::Diagnostic> problems;
  std::shared_ptr<const engine::CompiledWorkflow> wf =
      engine::CheckAndCompile(*doc, model::ValidateOptions{}, &problems);
  if (!wf) {
    std::string message;
    for (const auto& p : problems) {
      if (!message.empty()) message += "\n";
      message += p.ToString();
    }
    return Status::InvalidArgument(message);
  }
  store::Definition def;
  def.namespace_ = wf->namespace_;
  def.name = wf->name;
  def.version = wf->version;
  def.content = content;
  def.content_hash = store::Sha256Hex(content);
  def.created_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  BATON_ASSIGN_OR_RETURN(auto outcome, store_->PutDefinition(def));
  DeployResult result{def.namespace_, def.name, def.version, false};
  switch (outcome) {
    case store::PutOutcome::kConflict:
      return Status::Conflict("workflow " + def.namespace_ + "/" + def.name + ":" + def.version +
                              " is already deployed with a different content; deploy it under a "
                              "new version");
    case store::PutOutcome::kUnchanged:
      break;
    case store::PutOutcome::kCreated:
      result.created = true;
      break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& versions = defs_[Key(def.namespace_, def.name)];
    if (!versions.count(def.version)) {
      BATON_ASSIGN_OR_RETURN(auto stored,
                             store_->GetDefinition(def.namespace_, def.name, def.version));
      if (stored) versions[def.version] = std::move(*stored);
    }
  }
  return result;
}

Result<WorkflowRef> DefinitionSources::Find(const std::string& namespace_, const std::string& name,
                                            const std::string& version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = defs_.find(Key(namespace_, name));
  if (it == defs_.end() || it->second.empty()) {
    return Status::NotFound("workflow " + Key(namespace_, name) + " is not deployed");
  }
  if (!version.empty()) {
    if (!it->second.count(version)) {
      return Status::NotFound("workflow " + Key(namespace_, name) + " has no version '" + version +
                              "'");
    }
    return WorkflowRef{namespace_, name, version};
  }
  const std::string* best = nullptr;
  for (const auto& [v, d] : it->second) {
    if (!best || VersionLess(*best, v)) best = &v;
  }
  return WorkflowRef{namespace_, name, *best};
}

Result<std::string> DefinitionSources::Content(const std::string& namespace_,
                                               const std::string& name,
                                               const std::string& version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = defs_.find(Key(namespace_, name));
  if (it != defs_.end()) {
    auto v = it->second.find(version);
    if (v != it->second.end()) return v->second.content;
  }
  return Status::NotFound("workflow " + Key(namespace_, name) + ":" + version + " is not deployed");
}

Result<Json> DefinitionSources::ListView() const {
  std::lock_guard<std::mutex> lock(mu_);
  Json items = Json::Array();
  for (const auto& [key, versions] : defs_) {
    if (versions.empty()) continue;
    const store::Definition& any = versions.begin()->second;
    std::vector<std::string> names;
    for (const auto& [v, d] : versions) names.push_back(v);
    std::sort(names.begin(), names.end(), VersionLess);
    Json vs = Json::Array();
    for (const auto& v : names) vs.Append(Json::String(v));
    Json item = Json::Object();
    item.Set("namespace", Json::String(any.namespace_));
    item.Set("name", Json::String(any.name));
    item.Set("versions", vs);
    item.Set("latest", Json::String(names.back()));
    items.Append(item);
  }
  Json out = Json::Object();
  out.Set("items", items);
  return out;
}

Result<Json> DefinitionSources::VersionsView(const std::string& namespace_,
                                             const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = defs_.find(Key(namespace_, name));
  if (it == defs_.end() || it->second.empty()) {
    return Status::NotFound("workflow " + Key(namespace_, name) + " is not deployed");
  }
  std::vector<const store::Definition*> defs;
  for (const auto& [v, d] : it->second) defs.push_back(&d);
  std::sort(defs.begin(), defs.end(), [](const store::Definition* a, const store::Definition* b) {
    return VersionLess(a->version, b->version);
  });
  Json versions = Json::Array();
  for (const auto* d : defs) {
    Json v = Json::Object();
    v.Set("version", Json::String(d->version));
    v.Set("createdAt", TimeValue(d->created_at));
    v.Set("contentHash", Json::String(d->content_hash));
    versions.Append(v);
  }
  Json out = Json::Object();
  out.Set("namespace", Json::String(namespace_));
  out.Set("name", Json::String(name));
  out.Set("versions", versions);
  return out;
}

Result<Json> DefinitionSources::DefinitionView(const std::string& namespace_,
                                               const std::string& name,
                                               const std::string& version) const {
  store::Definition d;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = defs_.find(Key(namespace_, name));
    auto v = it == defs_.end() ? decltype(it->second.end()){} : it->second.find(version);
    if (it == defs_.end() || v == it->second.end()) {
      return Status::NotFound("workflow " + Key(namespace_, name) + ":" + version +
                              " is not deployed");
    }
    d = v->second;
  }
  Json out = Json::Object();
  out.Set("namespace", Json::String(d.namespace_));
  out.Set("name", Json::String(d.name));
  out.Set("version", Json::String(d.version));
  out.Set("createdAt", TimeValue(d.created_at));
  out.Set("contentHash", Json::String(d.content_hash));
  out.Set("content", Json::String(d.content));
  auto doc = model::ParseDocument(d.content, "document");
  if (doc.ok()) out.Set("document", doc->root.DeepCopy());
  return out;
}

// --- DefinitionCache ---

Result<std::shared_ptr<const engine::CompiledWorkflow>> DefinitionCache::Get(
    const std::string& namespace_, const std::string& name, const std::string& version) {
  std::string key = namespace_ + "/" + name + ":" + version;
  auto it = compiled_.find(key);
  if (it != compiled_.end()) return it->second;
  BATON_ASSIGN_OR_RETURN(auto content, sources_->Content(namespace_, name, version));
  BATON_ASSIGN_OR_RETURN(auto wf, CompileText(content));
  return wf;
}

Result<std::shared_ptr<const engine::CompiledWorkflow>> DefinitionCache::CompileText(
    const std::string& content) {
  auto doc = model::ParseDocument(content, "document");
  if (!doc.ok()) return doc.status();
  std::vector<model::Diagnostic> problems;
  BATON_ASSIGN_OR_RETURN(auto wf, engine::Compile(*doc, &problems));
  if (single_threaded_) wf->programs->SetSingleThreaded(true);
  compiled_[wf->namespace_ + "/" + wf->name + ":" + wf->version] = wf;
  return wf;
}

}  // namespace baton::runtime
