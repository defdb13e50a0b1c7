#pragma once
// The scan time as X-ray machines write it. Machines keep the outlet's local
// time more often than UTC, so text without a zone is local time at a
// configured UTC offset. Parsing is done here, not with std::get_time, so it
// does not depend on the C locale or on the standard library in use.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/time.hpp"

namespace postgate::adapters::xray {

enum class TimeFormatKind {
  iso8601,   // 2026-11-23T08:15:30[.123][Z|+08:00|+0800|+08]; ' ' for 'T' too
  pattern,   // strftime-like: %Y %m %d %H %M %S %f (fraction) %z %% and literals
  epoch_s,   // seconds since 1970 (UTC), a fraction allowed
  epoch_ms,  // milliseconds since 1970 (UTC)
};

std::optional<TimeFormatKind> time_format_kind_from_string(std::string_view s);
std::string_view to_string(TimeFormatKind k);

struct TimeFormat {
  TimeFormatKind kind = TimeFormatKind::iso8601;
  std::string pattern;  // for kind pattern
  // Applied to text without a zone (iso8601 without one, pattern without %z).
  std::chrono::minutes utc_offset{0};
};

// Fails "bad_time_pattern" (field "pattern") when a pattern has an unknown
// directive or lacks one of %Y %m %d %H %M, or "bad_utc_offset" beyond
// +-14 h. Called when config is loaded.
core::Status validate_time_format(const TimeFormat& f);

// Accepts years 1970-2199 only; error code "bad_time", field empty. The
// message never repeats the text.
core::Result<core::TimePoint> parse_scan_time(std::string_view text, const TimeFormat& f);

}  // namespace postgate::adapters::xray
