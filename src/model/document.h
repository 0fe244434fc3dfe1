// Document: a Serverless Workflow source (YAML or JSON) parsed into Json, with the source
// position of every value, and the validation that runs before anything executes.
//
// Positions are kept per JSON pointer so that every problem can be reported compiler-style:
// `FILE:LINE:COL: error: MESSAGE (at /json/pointer)`.
//
// Thread-safety: Document is an immutable value after ParseDocument returns.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace baton::model {

struct SourcePosition {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based
};

// One problem found in a document.
struct Diagnostic {
  std::string file;
  SourcePosition position;
  std::string pointer;  // JSON pointer of the offending value ("" = the whole document)
  std::string message;
  bool is_warning = false;

  // "FILE:LINE:COL: error: MESSAGE (at /pointer)"
  std::string ToString() const;
};

struct Document {
  std::string file;  // as given by the user; used in diagnostics
  Json root;
  // JSON pointer → position of the value (for a mapping member: the position of its key).
  std::unordered_map<std::string, SourcePosition> positions;

  // Position of `pointer`, or of its nearest ancestor that has one.
  SourcePosition PositionOf(std::string_view pointer) const;
  Diagnostic MakeDiagnostic(std::string pointer, std::string message) const;
};

// Parses YAML 1.2 or JSON text (JSON is detected by a leading '{' or '['). A syntax error
// returns InvalidArgument whose message is already "FILE:LINE:COL: error: ...".
// A `file` named *.json must be strict JSON; other text that starts with '{' or '[' may
// also be flow-style YAML ({a: 1}).
Result<Document> ParseDocument(std::string_view text, std::string file);

// What a hostile document may cost. Both limits turn into an InvalidArgument at the
// position where they are crossed, instead of a stack overflow or an exhausted memory.
struct ParseLimits {
  int max_depth = 256;  // nested sequences and mappings
  // Values after alias expansion (an alias counts as every value it stands for), which is
  // what stops a "billion laughs" document from costing O(10^9) to walk.
  size_t max_nodes = 1'000'000;
};
Result<Document> ParseDocument(std::string_view text, std::string file, const ParseLimits& limits);

// Reads and parses a file. Missing/unreadable files return NotFound/InvalidArgument.
Result<Document> LoadDocumentFile(const std::string& path);

struct ValidateOptions {
  // Also report baton's DSL extensions (parallel `for`, backoff parameters, ...) as errors,
  // so that portable documents stay portable.
  bool strict = false;
};

// Structural validation of a DSL 1.0.x document: unknown properties and task types, wrong
// types, missing required fields, `then` targets that do not exist in the same list,
// invalid durations, references to undefined `use` components, invalid variable names.
// Expression compilation is checked separately (engine::Compile), with the same
// Diagnostic format. Returns every problem found (empty = valid).
std::vector<Diagnostic> Validate(const Document& doc, const ValidateOptions& options);

}  // namespace baton::model
