#include "engine/duration.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace baton::engine {

Result<int64_t> ParseIsoDuration(std::string_view text) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("invalid ISO 8601 duration '" + std::string(text) + "': " + why);
  };
  if (text.size() < 2 || text[0] != 'P') return bad("it must start with 'P'");
  double total_ms = 0;
  bool in_time = false;
  bool any = false;
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return bad("'T' appears twice");
      in_time = true;
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) ||
                               text[i] == '.' || text[i] == ',')) {
      ++i;
    }
    if (start == i || i >= text.size()) return bad("expected a number followed by a unit");
    std::string number(text.substr(start, i - start));
    for (char& c : number) {
      if (c == ',') c = '.';
    }
    char* end = nullptr;
    double value = std::strtod(number.c_str(), &end);
    if (end == number.c_str() || *end != '\0') return bad("malformed number");
    char unit = text[i++];
    double unit_ms = 0;
    if (!in_time) {
      switch (unit) {
        case 'W':
          unit_ms = 7 * 86400e3;
          break;
        case 'D':
          unit_ms = 86400e3;
          break;
        case 'Y':
        case 'M':
          return bad("years and months have no fixed length; use days");
        default:
          return bad("unknown date unit");
      }
    } else {
      switch (unit) {
        case 'H':
          unit_ms = 3600e3;
          break;
        case 'M':
          unit_ms = 60e3;
          break;
        case 'S':
          unit_ms = 1e3;
          break;
        default:
          return bad("unknown time unit");
      }
    }
    total_ms += value * unit_ms;
    any = true;
  }
  if (!any) return bad("no components");
  if (total_ms > 9e15) return bad("too long");
  return static_cast<int64_t>(std::llround(total_ms));
}

Result<int64_t> DurationToMillis(const Json& duration) {
  if (duration.IsString()) return ParseIsoDuration(duration.AsString());
  if (!duration.IsObject()) {
    return Status::InvalidArgument(
        std::string("a duration must be an ISO 8601 string or an object, not ") +
        duration.KindName());
  }
  static constexpr struct {
    const char* key;
    double ms;
  } kUnits[] = {{"days", 86400e3},
                {"hours", 3600e3},
                {"minutes", 60e3},
                {"seconds", 1e3},
                {"milliseconds", 1}};
  double total = 0;
  bool any = false;
  for (const auto& unit : kUnits) {
    Json v = duration.Get(unit.key);
    if (v.IsNull()) continue;
    if (!v.IsNumber() || v.AsNumber() < 0) {
      return Status::InvalidArgument(std::string("duration field '") + unit.key +
                                     "' must be a non-negative number");
    }
    total += v.AsNumber() * unit.ms;
    any = true;
  }
  if (!any)
    return Status::InvalidArgument(
        "a duration object needs at least one of days, hours, minutes, seconds, milliseconds");
  if (total > 9e15) return Status::InvalidArgument("duration too long");
  return static_cast<int64_t>(std::llround(total));
}

namespace {

// Days since 1970-01-01 → civil date (H. Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

}  // namespace

std::string FormatIso8601(Millis t) {
  int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  CivilFromDays(days, &y, &m, &d);
  char buf[96];  // roomy: the compiler cannot bound the year
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                static_cast<long long>((rem % 3600) / 60), static_cast<long long>(rem % 60));
  return buf;
}

Json DateTimeDescriptor(Millis t) {
  Json epoch = Json::Object();
  epoch.Set("seconds", Json::Number(static_cast<double>(t / 1000)));
  epoch.Set("milliseconds", Json::Number(static_cast<double>(t)));
  Json out = Json::Object();
  out.Set("iso8601", Json::String(FormatIso8601(t)));
  out.Set("epoch", std::move(epoch));
  return out;
}

}  // namespace baton::engine
