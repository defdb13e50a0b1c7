#include "adapters/xray/codec/scan_time.hpp"

#include <cstdint>

namespace postgate::adapters::xray {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::unexpected<core::Error> bad(std::string why) {
  return core::fail("bad_time", "", std::move(why));
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Exactly `n` digits at text[pos].
std::optional<int> digits(std::string_view text, std::size_t& pos, std::size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

// One or more fraction digits; the first three give milliseconds.
std::optional<int> fraction(std::string_view text, std::size_t& pos) {
  int ms = 0;
  std::size_t n = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    if (n < 3) ms = ms * 10 + (text[pos] - '0');
    ++n;
    ++pos;
    if (n > 9) return std::nullopt;
  }
  if (n == 0) return std::nullopt;
  for (std::size_t i = n; i < 3; ++i) ms *= 10;
  return ms;
}

// Z, +hh, +hhmm, +hh:mm (and '-').
std::optional<minutes> zone(std::string_view text, std::size_t& pos) {
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
    return minutes{0};
  }
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return std::nullopt;
  const int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  const auto h = digits(text, pos, 2);
  if (!h) return std::nullopt;
  int m = 0;
  if (pos < text.size() && text[pos] == ':') ++pos;
  if (pos < text.size() && is_digit(text[pos])) {
    const auto mm = digits(text, pos, 2);
    if (!mm) return std::nullopt;
    m = *mm;
  }
  if (*h > 14 || m > 59) return std::nullopt;
  return minutes{sign * (*h * 60 + m)};
}

struct Fields {
  int year = -1, month = -1, day = -1, hour = -1, minute = -1, second = 0, ms = 0;
  std::optional<minutes> zone;
};

core::Result<core::TimePoint> assemble(const Fields& f, minutes default_offset) {
  if (f.year < 1970 || f.year > 2199) return bad("year out of range");
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31) return bad("no such date");
  const std::chrono::year_month_day ymd{std::chrono::year{f.year},
                                        std::chrono::month{static_cast<unsigned>(f.month)},
                                        std::chrono::day{static_cast<unsigned>(f.day)}};
  if (!ymd.ok()) return bad("no such date");
  // 60: a leap second as some machines print it; folded onto the next second.
  if (f.hour > 23 || f.minute > 59 || f.second > 60) return bad("no such time of day");
  const auto offset = f.zone.value_or(default_offset);
  const auto local = std::chrono::sys_days{ymd} + hours{f.hour} + minutes{f.minute} +
                     seconds{f.second} + milliseconds{f.ms};
  return core::TimePoint{std::chrono::duration_cast<milliseconds>(local.time_since_epoch()) -
                         std::chrono::duration_cast<milliseconds>(offset)};
}

core::Result<core::TimePoint> parse_iso(std::string_view t, minutes offset) {
  Fields f;
  std::size_t pos = 0;
  auto expect = [&](char c) {
    if (pos < t.size() && t[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  auto y = digits(t, pos, 4);
  if (!y || !expect('-')) return bad("expected YYYY-MM-DD");
  auto mo = digits(t, pos, 2);
  if (!mo || !expect('-')) return bad("expected YYYY-MM-DD");
  auto d = digits(t, pos, 2);
  if (!d) return bad("expected YYYY-MM-DD");
  if (!expect('T') && !expect(' ') && !expect('t')) return bad("expected 'T' after the date");
  auto h = digits(t, pos, 2);
  if (!h || !expect(':')) return bad("expected hh:mm");
  auto mi = digits(t, pos, 2);
  if (!mi) return bad("expected hh:mm");
  f.year = *y, f.month = *mo, f.day = *d, f.hour = *h, f.minute = *mi;
  if (expect(':')) {
    auto s = digits(t, pos, 2);
    if (!s) return bad("expected seconds");
    f.second = *s;
    if (expect('.') || expect(',')) {
      auto ms = fraction(t, pos);
      if (!ms) return bad("bad fraction of a second");
      f.ms = *ms;
    }
  }
  if (pos < t.size()) {
    f.zone = zone(t, pos);
    if (!f.zone || pos != t.size()) return bad("bad zone or trailing text");
  }
  return assemble(f, offset);
}

// Walks a pattern; with `text` null it only checks the pattern.
core::Result<core::TimePoint> parse_pattern(std::string_view pattern, const std::string_view* text,
                                            minutes offset) {
  Fields f;
  std::size_t pos = 0;
  const std::string_view t = text ? *text : std::string_view{};
  bool has[5] = {};
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char p = pattern[i];
    if (p != '%') {
      if (text && (pos >= t.size() || t[pos] != p)) return bad("text does not match the pattern");
      ++pos;
      continue;
    }
    if (++i >= pattern.size())
      return core::fail("bad_time_pattern", "pattern", "pattern ends with '%'");
    const char d = pattern[i];
    std::optional<int> v;
    switch (d) {
      case 'Y':
        has[0] = true;
        if (text && !(v = digits(t, pos, 4))) return bad("expected a 4-digit year");
        if (v) f.year = *v;
        break;
      case 'm':
        has[1] = true;
        if (text && !(v = digits(t, pos, 2))) return bad("expected a 2-digit month");
        if (v) f.month = *v;
        break;
      case 'd':
        has[2] = true;
        if (text && !(v = digits(t, pos, 2))) return bad("expected a 2-digit day");
        if (v) f.day = *v;
        break;
      case 'H':
        has[3] = true;
        if (text && !(v = digits(t, pos, 2))) return bad("expected 2-digit hours");
        if (v) f.hour = *v;
        break;
      case 'M':
        has[4] = true;
        if (text && !(v = digits(t, pos, 2))) return bad("expected 2-digit minutes");
        if (v) f.minute = *v;
        break;
      case 'S':
        if (text && !(v = digits(t, pos, 2))) return bad("expected 2-digit seconds");
        if (v) f.second = *v;
        break;
      case 'f':
        if (text && !(v = fraction(t, pos))) return bad("bad fraction of a second");
        if (v) f.ms = *v;
        break;
      case 'z':
        if (text && !(f.zone = zone(t, pos))) return bad("bad zone");
        break;
      case '%':
        if (text && (pos >= t.size() || t[pos] != '%')) return bad("text does not match");
        ++pos;
        break;
      default:
        return core::fail("bad_time_pattern", "pattern", std::string("unknown directive %") + d);
    }
  }
  for (bool h : has)
    if (!h) return core::fail("bad_time_pattern", "pattern", "pattern needs %Y %m %d %H and %M");
  if (!text) return core::TimePoint{};
  if (pos != t.size()) return bad("trailing text after the pattern");
  return assemble(f, offset);
}

core::Result<core::TimePoint> parse_epoch(std::string_view t, bool in_ms) {
  std::size_t pos = 0;
  std::int64_t whole = 0;
  std::size_t n = 0;
  while (pos < t.size() && is_digit(t[pos])) {
    if (++n > 14) return bad("epoch value too large");
    whole = whole * 10 + (t[pos] - '0');
    ++pos;
  }
  if (n == 0) return bad("expected digits");
  int ms = 0;
  if (!in_ms && pos < t.size() && t[pos] == '.') {
    ++pos;
    auto f = fraction(t, pos);
    if (!f) return bad("bad fraction of a second");
    ms = *f;
  }
  if (pos != t.size()) return bad("trailing text after the number");
  const std::int64_t total = in_ms ? whole : whole * 1000 + ms;
  // 7'258'118'400'000 ms: 2200-01-01, the same bound as calendar times.
  if (total >= 7'258'118'400'000) return bad("year out of range");
  return core::TimePoint{milliseconds{total}};
}

}  // namespace

std::optional<TimeFormatKind> time_format_kind_from_string(std::string_view s) {
  if (s == "iso8601") return TimeFormatKind::iso8601;
  if (s == "pattern") return TimeFormatKind::pattern;
  if (s == "epoch_s") return TimeFormatKind::epoch_s;
  if (s == "epoch_ms") return TimeFormatKind::epoch_ms;
  return std::nullopt;
}

std::string_view to_string(TimeFormatKind k) {
  switch (k) {
    case TimeFormatKind::iso8601:
      return "iso8601";
    case TimeFormatKind::pattern:
      return "pattern";
    case TimeFormatKind::epoch_s:
      return "epoch_s";
    case TimeFormatKind::epoch_ms:
      return "epoch_ms";
  }
  return "unknown";
}

core::Status validate_time_format(const TimeFormat& f) {
  if (f.utc_offset > hours{14} || f.utc_offset < -hours{14})
    return core::fail("bad_utc_offset", "utc_offset", "UTC offset beyond +-14 hours");
  if (f.kind == TimeFormatKind::pattern) {
    if (auto r = parse_pattern(f.pattern, nullptr, f.utc_offset); !r)
      return std::unexpected(r.error());
  }
  return {};
}

core::Result<core::TimePoint> parse_scan_time(std::string_view text, const TimeFormat& f) {
  if (text.empty()) return bad("empty time");
  if (text.size() > 64) return bad("time text too long");
  switch (f.kind) {
    case TimeFormatKind::iso8601:
      return parse_iso(text, f.utc_offset);
    case TimeFormatKind::pattern:
      return parse_pattern(f.pattern, &text, f.utc_offset);
    case TimeFormatKind::epoch_s:
      return parse_epoch(text, false);
    case TimeFormatKind::epoch_ms:
      return parse_epoch(text, true);
  }
  return bad("unknown time format");
}

}  // namespace postgate::adapters::xray
