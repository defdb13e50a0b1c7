#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postgate::core {

// All timestamps are UTC with millisecond precision.
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

// Injected everywhere time matters, so tests are deterministic.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
};

// A calendar date as printed on documents (no time zone).
using Date = std::chrono::year_month_day;

// "2026-11-23T08:15:30.123Z"
std::string format_utc(TimePoint t);
std::optional<TimePoint> parse_utc(std::string_view text);
// "YYYYMMDD" -> valid calendar date, or nullopt.
std::optional<Date> parse_yyyymmdd(std::string_view text);
std::string format_date(Date d);  // "YYYY-MM-DD"

}  // namespace postgate::core
