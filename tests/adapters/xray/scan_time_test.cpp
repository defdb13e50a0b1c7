#include "adapters/xray/codec/scan_time.hpp"

#include <gtest/gtest.h>

namespace postgate::adapters::xray {
namespace {

using namespace std::chrono_literals;

std::string utc(std::string_view text, const TimeFormat& f) {
  const auto r = parse_scan_time(text, f);
  return r ? core::format_utc(*r) : "error:" + r.error().code;
}

TEST(ScanTime, Iso8601WithAndWithoutZone) {
  const TimeFormat f{TimeFormatKind::iso8601, "", 8h};
  EXPECT_EQ(utc("2026-11-23T08:15:30", f), "2026-11-23T00:15:30.000Z");
  EXPECT_EQ(utc("2026-11-23 08:15:30.5", f), "2026-11-23T00:15:30.500Z");
  EXPECT_EQ(utc("2026-11-23T08:15", f), "2026-11-23T00:15:00.000Z");
  EXPECT_EQ(utc("2026-11-23T08:15:30.123456Z", f), "2026-11-23T08:15:30.123Z");
  EXPECT_EQ(utc("2026-11-23T08:15:30+08:00", f), "2026-11-23T00:15:30.000Z");
  EXPECT_EQ(utc("2026-11-23T08:15:30+0530", f), "2026-11-23T02:45:30.000Z");
  EXPECT_EQ(utc("2026-11-23T01:15:30-02", f), "2026-11-23T03:15:30.000Z");
  // Local midnight at UTC+8 is the previous day in UTC.
  EXPECT_EQ(utc("2026-01-01T00:00:00", f), "2025-12-31T16:00:00.000Z");
}

TEST(ScanTime, Iso8601Rejects) {
  const TimeFormat f{TimeFormatKind::iso8601, "", 0min};
  for (const char* bad : {"", "2026-11-23", "2026-13-01T00:00", "2026-02-29T00:00",
                          "2026-11-23T24:00", "2026-11-23T08:15:30 extra", "1969-12-31T23:59",
                          "2200-01-01T00:00", "2026-11-23T08:15:30+15:00", "2026-11-23T08:15:30."})
    EXPECT_EQ(utc(bad, f), "error:bad_time") << bad;
}

TEST(ScanTime, Pattern) {
  const TimeFormat f{TimeFormatKind::pattern, "%Y%m%d_%H%M%S.%f", 8h};
  EXPECT_EQ(utc("20261123_081530.07", f), "2026-11-23T00:15:30.070Z");
  EXPECT_EQ(utc("20261123_081530", f), "error:bad_time");
  const TimeFormat z{TimeFormatKind::pattern, "%d.%m.%Y %H:%M %z %%", 8h};
  EXPECT_EQ(utc("23.11.2026 08:15 Z %", z), "2026-11-23T08:15:00.000Z");
  EXPECT_TRUE(validate_time_format(f));
  EXPECT_FALSE(validate_time_format({TimeFormatKind::pattern, "%H:%M", 0min}));
  EXPECT_FALSE(validate_time_format({TimeFormatKind::pattern, "%Y-%m-%d %H:%M %", 0min}));
}

TEST(ScanTime, Epoch) {
  const TimeFormat s{TimeFormatKind::epoch_s, "", 8h};
  const TimeFormat ms{TimeFormatKind::epoch_ms, "", 8h};
  EXPECT_EQ(utc("1795000000", s), "2026-11-18T11:06:40.000Z");
  EXPECT_EQ(utc("1795000000.25", s), "2026-11-18T11:06:40.250Z");
  EXPECT_EQ(utc("1795000000250", ms), "2026-11-18T11:06:40.250Z");
  EXPECT_EQ(utc("1795000000.5", ms), "error:bad_time");
  EXPECT_EQ(utc("-1", s), "error:bad_time");
  EXPECT_EQ(utc("99999999999999", s), "error:bad_time");
  EXPECT_EQ(utc("1e9", s), "error:bad_time");
}

}  // namespace
}  // namespace postgate::adapters::xray
