// How the client verbs show times and durations: RFC 3339 timestamps as the server sends
// them are parsed and shown in the local time zone ("2024-05-01T14:03:22+02:00"), and
// durations compactly ("850ms", "1.2s", "3m04s", "2h05m", "3d04h").
//
// The pure functions take the UTC offset as an argument (testable in any time zone); only
// LocalUtcOffsetMinutes and LocalTime read the process's time zone (TZ, /etc/localtime).
// None reads the clock. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"

namespace baton::cli {

// Parsing is baton::ParseRfc3339 (base/time.h), shared with the server.
using baton::ParseRfc3339;

// Unix milliseconds → RFC 3339 at the given UTC offset ("Z" when 0), with ".mmm" if
// `millis`.
std::string FormatRfc3339(int64_t epoch_ms, int offset_minutes, bool millis);

// The local time zone's UTC offset at that instant, in minutes.
int LocalUtcOffsetMinutes(int64_t epoch_ms);

// A server timestamp shown in local time; text that does not parse is returned as it is,
// and empty text gives "-".
std::string LocalTime(std::string_view rfc3339, bool millis = false);

// Compact duration; negative values are shown as 0ms.
std::string FormatDuration(int64_t ms);

}  // namespace baton::cli
