#include "cli/validate_command.h"

#include <cstdio>

#include "engine/check.h"
#include "engine/workflow.h"

namespace baton::cli {

std::optional<ValidDocument> LoadValidDocument(const std::string& path, bool strict,
                                               std::vector<std::string>* problems, bool evaluable) {
  auto doc = model::LoadDocumentFile(path);
  if (!doc.ok()) {
    problems->push_back(doc.status().message());
    return std::nullopt;
  }
  model::ValidateOptions options;
  options.strict = strict;
  std::vector<model::Diagnostic> diagnostics;
  std::shared_ptr<const engine::CompiledWorkflow> workflow =
      engine::CheckAndCompile(*doc, options, &diagnostics, evaluable);
  for (const auto& d : diagnostics) problems->push_back(d.ToString());
  if (!workflow) return std::nullopt;
  return ValidDocument{std::move(doc).value(), std::move(workflow)};
}

int RunValidate(const ValidateArgs& args) {
  bool ok = true;
  Json report = Json::Array();
  for (const auto& file : args.files) {
    std::vector<std::string> problems;
    bool valid = LoadValidDocument(file, args.strict, &problems, /*evaluable=*/false).has_value();
    ok = ok && valid;
    if (args.output == "json") {
      Json entry = Json::Object();
      entry.Set("file", Json::String(file));
      entry.Set("valid", Json::Bool(valid));
      Json list = Json::Array();
      for (const auto& p : problems) list.Append(Json::String(p));
      entry.Set("problems", list);
      report.Append(entry);
    } else {
      for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    }
  }
  if (args.output == "json") std::printf("%s\n", report.Dump(true).c_str());
  return ok ? 0 : 1;
}

}  // namespace baton::cli
