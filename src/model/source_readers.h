// The two text readers behind ParseDocument: YAML 1.2 (through yaml-cpp's event parser) and
// strict JSON (our own, because it can say precisely what is wrong with a JSON file).
//
// Both build Document::root and Document::positions and keep to ParseLimits. On a syntax
// error they return InvalidArgument whose message is "FILE:LINE:COL: error: MESSAGE" and
// leave `doc` in an unspecified state. Internal to src/model.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "model/document.h"

namespace baton::model::internal {

// On failure, *error_at (if not null) receives the position of the error, so that the caller
// can tell which of the two readers understood more of a text.
Status ReadYaml(std::string_view text, const ParseLimits& limits, Document* doc,
                SourcePosition* error_at = nullptr);
Status ReadJson(std::string_view text, const ParseLimits& limits, Document* doc,
                SourcePosition* error_at = nullptr);

// "FILE:LINE:COL: error: MESSAGE" as an InvalidArgument (line/column are 1-based).
Status SyntaxError(const std::string& file, SourcePosition at, std::string_view message);

}  // namespace baton::model::internal
