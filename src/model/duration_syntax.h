// Syntax of ISO 8601 durations as the DSL uses them (internal to src/model; the engine
// turns durations into time in engine/duration.h).
#pragma once

#include <string_view>

namespace baton::model::internal {

enum class IsoDurationCheck {
  kValid,
  kVariableLength,  // well-formed, but uses years or months, which have no fixed length
  kInvalid,
};

// The schema's pattern: P[nY][nM][nW][nD][T[nH][nM][nS]], n = digits with an optional
// fraction, at least one component, and at least one after a 'T'.
IsoDurationCheck CheckIsoDuration(std::string_view text);

}  // namespace baton::model::internal
