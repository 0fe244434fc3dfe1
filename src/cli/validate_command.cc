#include "cli/validate_command.h"

#include <cstdio>

#include "engine/workflow.h"

namespace baton::cli {

std::optional<model::Document> LoadValidDocument(const std::string& path, bool strict,
                                                 std::vector<std::string>* problems) {
  auto doc = model::LoadDocumentFile(path);
  if (!doc.ok()) {
    problems->push_back(doc.status().message());
    return std::nullopt;
  }
  model::ValidateOptions options;
  options.strict = strict;
  std::vector<model::Diagnostic> diagnostics = model::Validate(*doc, options);
  bool errors = false;
  for (const auto& d : diagnostics) errors = errors || !d.is_warning;
  if (!errors) {
    // Expressions are compiled only on structurally valid documents.
    std::vector<model::Diagnostic> compile;
    (void)engine::Compile(*doc, &compile);
    diagnostics.insert(diagnostics.end(), compile.begin(), compile.end());
    for (const auto& d : compile) errors = errors || !d.is_warning;
  }
  for (const auto& d : diagnostics) problems->push_back(d.ToString());
  if (errors) return std::nullopt;
  return std::move(doc).value();
}

int RunValidate(const ValidateArgs& args) {
  bool ok = true;
  Json report = Json::Array();
  for (const auto& file : args.files) {
    std::vector<std::string> problems;
    bool valid = LoadValidDocument(file, args.strict, &problems).has_value();
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
