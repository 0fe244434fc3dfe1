#include "cli/time_format.h"

#include <gtest/gtest.h>

namespace baton::cli {
namespace {

constexpr int64_t k2024May1Noon = 1714564800000;  // 2024-05-01T12:00:00Z

TEST(TimeFormatTest, ParsesUtcTimestamps) {
  EXPECT_EQ(ParseRfc3339("2024-05-01T12:00:00Z"), k2024May1Noon);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("2024-05-01t12:00:00z"), k2024May1Noon);
  EXPECT_EQ(ParseRfc3339("2024-05-01 12:00:00Z"), k2024May1Noon);
}

TEST(TimeFormatTest, ParsesFractionsToMilliseconds) {
  EXPECT_EQ(ParseRfc3339("2024-05-01T12:00:00.5Z"), k2024May1Noon + 500);
  EXPECT_EQ(ParseRfc3339("2024-05-01T12:00:00.123Z"), k2024May1Noon + 123);
  EXPECT_EQ(ParseRfc3339("2024-05-01T12:00:00.123456789Z"), k2024May1Noon + 123);
}

TEST(TimeFormatTest, AppliesOffsets) {
  EXPECT_EQ(ParseRfc3339("2024-05-01T14:00:00+02:00"), k2024May1Noon);
  EXPECT_EQ(ParseRfc3339("2024-05-01T06:30:00-05:30"), k2024May1Noon);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59Z"), -1000);
}

TEST(TimeFormatTest, RejectsWhatIsNotAnRfc3339DateTime) {
  EXPECT_FALSE(ParseRfc3339(""));
  EXPECT_FALSE(ParseRfc3339("2024-05-01"));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T12:00:00"));  // no offset
  EXPECT_FALSE(ParseRfc3339("2024-13-01T12:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T25:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T12:00:00.Z"));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T12:00:00Zjunk"));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T12:00:00+0200"));
  EXPECT_FALSE(ParseRfc3339("yesterday"));
}

TEST(TimeFormatTest, FormatsAtTheGivenOffset) {
  EXPECT_EQ(FormatRfc3339(k2024May1Noon, 0, false), "2024-05-01T12:00:00Z");
  EXPECT_EQ(FormatRfc3339(k2024May1Noon, 120, false), "2024-05-01T14:00:00+02:00");
  EXPECT_EQ(FormatRfc3339(k2024May1Noon, -330, false), "2024-05-01T06:30:00-05:30");
  EXPECT_EQ(FormatRfc3339(k2024May1Noon + 7, 0, true), "2024-05-01T12:00:00.007Z");
  EXPECT_EQ(FormatRfc3339(k2024May1Noon, 13 * 60, false), "2024-05-02T01:00:00+13:00");
  EXPECT_EQ(FormatRfc3339(-1, 0, true), "1969-12-31T23:59:59.999Z");
}

TEST(TimeFormatTest, FormatAndParseRoundTrip) {
  for (int64_t ms : {int64_t{0}, k2024May1Noon + 999, int64_t{951782400000} /* 2000-02-29 */}) {
    for (int offset : {0, 60, -480, 345}) {
      EXPECT_EQ(ParseRfc3339(FormatRfc3339(ms, offset, true)), ms) << ms << " " << offset;
    }
  }
}

TEST(TimeFormatTest, LocalTimeKeepsTextItCannotParse) {
  EXPECT_EQ(LocalTime(""), "-");
  EXPECT_EQ(LocalTime("soon"), "soon");
  int offset = LocalUtcOffsetMinutes(k2024May1Noon);
  EXPECT_EQ(LocalTime("2024-05-01T12:00:00Z"), FormatRfc3339(k2024May1Noon, offset, false));
}

TEST(TimeFormatTest, DurationsAreCompact) {
  EXPECT_EQ(FormatDuration(-5), "0ms");
  EXPECT_EQ(FormatDuration(0), "0ms");
  EXPECT_EQ(FormatDuration(999), "999ms");
  EXPECT_EQ(FormatDuration(1000), "1.0s");
  EXPECT_EQ(FormatDuration(1250), "1.2s");
  EXPECT_EQ(FormatDuration(59'999), "59.9s");
  EXPECT_EQ(FormatDuration(60'000), "1m00s");
  EXPECT_EQ(FormatDuration(184'000), "3m04s");
  EXPECT_EQ(FormatDuration(3'600'000), "1h00m");
  EXPECT_EQ(FormatDuration(7'500'000), "2h05m");
  EXPECT_EQ(FormatDuration(86'400'000), "1d00h");
  EXPECT_EQ(FormatDuration(273'600'000), "3d04h");
}

}  // namespace
}  // namespace baton::cli
