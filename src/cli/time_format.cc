#include "cli/time_format.h"

#include <cstdio>
#include <ctime>

namespace baton::cli {

namespace {

struct Civil {
  int64_t year;
  int month;
  int day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), static_cast<int>(m), static_cast<int>(d)};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::string FormatRfc3339(int64_t epoch_ms, int offset_minutes, bool millis) {
  int64_t local_ms = epoch_ms + int64_t{offset_minutes} * 60'000;
  int64_t days = FloorDiv(local_ms, 86'400'000);
  int64_t ms_of_day = local_ms - days * 86'400'000;
  Civil date = CivilFromDays(days);
  int64_t secs = ms_of_day / 1000;
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02lld:%02lld:%02lld",
                        static_cast<long long>(date.year), date.month, date.day,
                        static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                        static_cast<long long>(secs % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (millis) {
    std::snprintf(buf, sizeof(buf), ".%03lld", static_cast<long long>(ms_of_day % 1000));
    out += buf;
  }
  if (offset_minutes == 0) {
    out += 'Z';
  } else {
    int abs_offset = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    std::snprintf(buf, sizeof(buf), "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', abs_offset / 60,
                  abs_offset % 60);
    out += buf;
  }
  return out;
}

int LocalUtcOffsetMinutes(int64_t epoch_ms) {
  auto seconds = static_cast<std::time_t>(FloorDiv(epoch_ms, 1000));
  std::tm local{};
  if (localtime_r(&seconds, &local) == nullptr) return 0;
  return static_cast<int>(local.tm_gmtoff / 60);
}

std::string LocalTime(std::string_view rfc3339, bool millis) {
  if (rfc3339.empty()) return "-";
  auto epoch_ms = ParseRfc3339(rfc3339);
  if (!epoch_ms) return std::string(rfc3339);
  return FormatRfc3339(*epoch_ms, LocalUtcOffsetMinutes(*epoch_ms), millis);
}

std::string FormatDuration(int64_t ms) {
  if (ms < 0) ms = 0;
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof(buf), "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    // Tenths, rounded down, so 59999 ms stays "59.9s" rather than "60.0s".
    std::snprintf(buf, sizeof(buf), "%lld.%llds", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms / 100 % 10));
  } else if (ms < 3'600'000) {
    int64_t s = ms / 1000;
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else if (ms < 86'400'000) {
    int64_t m = ms / 60'000;
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(m / 60),
                  static_cast<long long>(m % 60));
  } else {
    int64_t h = ms / 3'600'000;
    std::snprintf(buf, sizeof(buf), "%lldd%02lldh", static_cast<long long>(h / 24),
                  static_cast<long long>(h % 24));
  }
  return buf;
}

}  // namespace baton::cli
