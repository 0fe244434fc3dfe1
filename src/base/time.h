// Wall-clock times as text: RFC 3339 in UTC with milliseconds ("2026-11-26T19:17:53.123Z"),
// the form every API answer and log line uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace baton {

// Milliseconds since the Unix epoch → "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatRfc3339(int64_t epoch_ms);

// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (a space may replace 'T'; 't'/'z' accepted)
// → milliseconds since the epoch. nullopt when the text is not such a time.
std::optional<int64_t> ParseRfc3339(std::string_view text);

}  // namespace baton
