// Durations and timestamps of the DSL, without any clock (the engine is pure).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/json.h"
#include "base/status.h"
#include "engine/event.h"

namespace baton::engine {

// Parses an ISO 8601 duration ("PT1S", "P2DT3H4M5.5S", "PT0.25S", "P1W") into milliseconds.
// Years and months have no fixed length and are rejected.
Result<int64_t> ParseIsoDuration(std::string_view text);

// A DSL duration: ISO 8601 string or {days, hours, minutes, seconds, milliseconds}.
// (Expressions are evaluated by the caller first.)
Result<int64_t> DurationToMillis(const Json& duration);

// "2026-11-26T18:04:01Z" (seconds precision, UTC: what jq 1.6's fromdate accepts).
std::string FormatIso8601(Millis t);
// {iso8601, epoch: {seconds, milliseconds}}: the spec's datetime descriptor.
Json DateTimeDescriptor(Millis t);

}  // namespace baton::engine
