#include "model/document.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "model/source_readers.h"

namespace baton::model {

namespace internal {

Status SyntaxError(const std::string& file, SourcePosition at, std::string_view message) {
  return Status::InvalidArgument(file + ":" + std::to_string(at.line) + ":" +
                                 std::to_string(at.column) + ": error: " + std::string(message));
}

}  // namespace internal

std::string Diagnostic::ToString() const {
  std::string out = file;
  if (position.line > 0) {
    out += ":" + std::to_string(position.line) + ":" + std::to_string(position.column);
  }
  out += is_warning ? ": warning: " : ": error: ";
  out += message;
  out += " (at ";
  out += pointer.empty() ? "/" : pointer;
  out += ")";
  return out;
}

SourcePosition Document::PositionOf(std::string_view pointer) const {
  std::string p(pointer);
  while (true) {
    auto it = positions.find(p);
    if (it != positions.end()) return it->second;
    if (p.empty()) return {};
    size_t slash = p.rfind('/');
    p.resize(slash == std::string::npos ? 0 : slash);
  }
}

Diagnostic Document::MakeDiagnostic(std::string pointer, std::string message) const {
  Diagnostic d;
  d.file = file;
  d.position = PositionOf(pointer);
  d.pointer = std::move(pointer);
  d.message = std::move(message);
  return d;
}

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// JSON is detected by its first significant character; YAML comments cannot come first.
bool LooksLikeJson(std::string_view text) {
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{' || c == '[';
  }
  return false;
}

}  // namespace

Result<Document> ParseDocument(std::string_view text, std::string file) {
  return ParseDocument(text, std::move(file), ParseLimits{});
}

Result<Document> ParseDocument(std::string_view text, std::string file, const ParseLimits& limits) {
  Document doc;
  doc.file = std::move(file);
  bool json_file = doc.file.size() >= 5 && doc.file.compare(doc.file.size() - 5, 5, ".json") == 0;
  if (json_file || LooksLikeJson(text)) {
    std::string_view json = text;
    if (json.substr(0, kUtf8Bom.size()) == kUtf8Bom) json.remove_prefix(kUtf8Bom.size());
    SourcePosition json_error_at;
    Status json_status = internal::ReadJson(json, limits, &doc, &json_error_at);
    if (json_status.ok() || json_file) {
      if (!json_status.ok()) return json_status;
      return doc;
    }
    // Flow-style YAML also starts with '{' or '[' ({a: 1} is not JSON but is a fine
    // document). When YAML fails too, the reader that got further understood the author's
    // intent better; on a tie it was meant as JSON, whose messages are the precise ones.
    Document yaml_doc;
    yaml_doc.file = doc.file;
    SourcePosition yaml_error_at;
    Status yaml_status = internal::ReadYaml(text, limits, &yaml_doc, &yaml_error_at);
    if (yaml_status.ok()) return yaml_doc;
    bool yaml_further =
        yaml_error_at.line > json_error_at.line ||
        (yaml_error_at.line == json_error_at.line && yaml_error_at.column > json_error_at.column);
    return yaml_further ? yaml_status : json_status;
  }
  Status status = internal::ReadYaml(text, limits, &doc);
  if (!status.ok()) return status;
  return doc;
}

Result<Document> LoadDocumentFile(const std::string& path) {
  std::error_code ec;
  std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) {
    return Status::NotFound(path + ": error: no such file");
  }
  if (std::filesystem::is_directory(st)) {
    return Status::InvalidArgument(path + ": error: is a directory, not a workflow file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return Status::InvalidArgument(
        path + ": error: cannot open: " + (err != 0 ? std::strerror(err) : "unknown reason"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::InvalidArgument(path + ": error: cannot read the file");
  return ParseDocument(text.str(), path);
}

}  // namespace baton::model
