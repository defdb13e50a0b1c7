#include "adapters/mrz/codec/mrz_assembler.hpp"

#include <algorithm>
#include <utility>

namespace postgate::adapters::mrz {
namespace {

constexpr std::size_t kTd3Width = 44;
constexpr std::size_t kTd1Width = 30;

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_mrz_char(char c) {
  return is_upper(c) || is_digit(c) || c == '<';
}

std::size_t width(core::MrzFormat f) {
  return f == core::MrzFormat::td3 ? kTd3Width : kTd1Width;
}
std::size_t line_count(core::MrzFormat f) {
  return f == core::MrzFormat::td3 ? 2 : 3;
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// For the counter screen: short, masked, says what to do.
std::string reason_for(std::string_view code) {
  if (code == "expired") return "document expired";
  if (code == "unsupported_document") return "document type not accepted";
  if (code == "bad_check_digit") return "MRZ check digit wrong, read the document again";
  if (code == "incomplete_mrz") return "MRZ incomplete, read the document again";
  return "MRZ could not be read, read the document again";
}

}  // namespace

void MrzOutput::append(MrzOutput&& other) {
  for (auto& e : other.events) events.push_back(std::move(e));
  for (auto& e : other.errors) errors.push_back(std::move(e));
}

core::Date local_date(core::TimePoint now, std::chrono::minutes utc_offset) {
  return core::Date{std::chrono::floor<std::chrono::days>(now + utc_offset)};
}

bool can_start_zone(std::string_view line, core::MrzFormat format) {
  if (line.size() != width(format)) return false;
  if (!std::all_of(line.begin(), line.end(), is_mrz_char)) return false;
  const bool head = is_upper(line[0]) && (is_upper(line[1]) || line[1] == '<') &&
                    std::all_of(line.begin() + 2, line.begin() + 5,
                                [](char c) { return is_upper(c) || c == '<'; });
  if (!head) return false;
  const bool has_digit = std::any_of(line.begin(), line.end(), is_digit);
  if (format == core::MrzFormat::td3) {
    // Line 1 holds code, state and names only; line 2 always has digits.
    return !has_digit;
  }
  // TD1 codes start with A, C or I; line 1 carries the document number and
  // its check digit (or '<' for a long number), the names line no digit.
  return (line[0] == 'A' || line[0] == 'C' || line[0] == 'I') && has_digit &&
         (is_digit(line[14]) || line[14] == '<');
}

MrzAssembler::MrzAssembler(MrzAssemblerSettings settings) : settings_(std::move(settings)) {}

MrzOutput MrzAssembler::on_line(std::string_view raw, core::TimePoint now) {
  MrzOutput out = on_timer(now);
  const std::string_view line = trim(raw);
  if (format_) {
    if (line.empty()) {
      fail("incomplete_mrz",
           "zone ended after " + std::to_string(lines_.size()) + " of " +
               std::to_string(line_count(*format_)) + " lines",
           now, out);
      close();
      return out;
    }
    if (line.size() == width(*format_) && !can_start_zone(line, *format_)) {
      lines_.emplace_back(line);
      last_line_ = now;
      if (lines_.size() == line_count(*format_)) out.append(complete(now));
      return out;
    }
    // Not this zone's next line: the zone is lost; the line may start a new one.
    const bool restart =
        can_start_zone(line, core::MrzFormat::td3) || can_start_zone(line, core::MrzFormat::td1);
    if (restart) {
      fail("incomplete_mrz", "a new zone started before this one ended", now, out);
    } else {
      fail("bad_length",
           "line of " + std::to_string(line.size()) + " characters in a zone of " +
               std::to_string(width(*format_)),
           now, out);
    }
    close();
    if (!restart) return out;
  }
  if (line.empty()) return out;
  // Readers that send the zone as one line.
  if (line.size() == 2 * kTd3Width &&
      can_start_zone(line.substr(0, kTd3Width), core::MrzFormat::td3)) {
    format_ = core::MrzFormat::td3;
    lines_ = {std::string(line.substr(0, kTd3Width)), std::string(line.substr(kTd3Width))};
    out.append(complete(now));
    return out;
  }
  if (line.size() == 3 * kTd1Width &&
      can_start_zone(line.substr(0, kTd1Width), core::MrzFormat::td1)) {
    format_ = core::MrzFormat::td1;
    lines_ = {std::string(line.substr(0, kTd1Width)),
              std::string(line.substr(kTd1Width, kTd1Width)),
              std::string(line.substr(2 * kTd1Width))};
    out.append(complete(now));
    return out;
  }
  for (const auto f : {core::MrzFormat::td3, core::MrzFormat::td1}) {
    if (can_start_zone(line, f)) {
      format_ = f;
      lines_ = {std::string(line)};
      last_line_ = now;
      return out;
    }
  }
  const bool mrz_chars = std::all_of(line.begin(), line.end(), is_mrz_char);
  if (mrz_chars && line.size() != kTd3Width && line.size() != kTd1Width) {
    fail("bad_length", "MRZ line of " + std::to_string(line.size()) + " characters", now, out);
  } else {
    fail("not_mrz", "line of " + std::to_string(line.size()) + " characters cannot start a zone",
         now, out);
  }
  return out;
}

MrzOutput MrzAssembler::on_line_error(core::TimePoint now) {
  MrzOutput out = on_timer(now);
  close();
  if (!quiet_until_ || now >= *quiet_until_) {
    out.events.emplace_back(core::IdentityReadFailed{reason_for("")});
  }
  quiet_until_ = now + settings_.line_timeout;
  return out;
}

void MrzAssembler::touch(core::TimePoint now) {
  if (format_) last_line_ = now;
}

MrzOutput MrzAssembler::on_timer(core::TimePoint now) {
  MrzOutput out;
  if (format_ && now - last_line_ >= settings_.line_timeout) {
    fail("incomplete_mrz",
         "no line for " + std::to_string(settings_.line_timeout.count()) + " ms after " +
             std::to_string(lines_.size()) + " of " + std::to_string(line_count(*format_)) +
             " lines",
         now, out);
    close();
  }
  return out;
}

std::optional<core::TimePoint> MrzAssembler::wake_at() const {
  if (!format_) return std::nullopt;
  return last_line_ + settings_.line_timeout;
}

void MrzAssembler::reset() {
  close();
  quiet_until_.reset();
}

void MrzAssembler::close() {
  format_.reset();
  lines_.clear();
}

MrzOutput MrzAssembler::complete(core::TimePoint now) {
  MrzOutput out;
  std::string text;
  for (const auto& l : lines_) {
    if (!text.empty()) text += '\n';
    text += l;
  }
  const char* kind = *format_ == core::MrzFormat::td3 ? "TD3" : "TD1";
  close();
  const core::Date today = local_date(now, settings_.utc_offset);
  auto parsed = core::parse_mrz(text, today);
  if (!parsed) {
    fail(parsed.error().code,
         std::string(kind) + " " + parsed.error().field + ": " + parsed.error().message, now, out);
    return out;
  }
  auto identity = core::identity_from_mrz(*parsed, today);
  if (!identity) {
    fail(identity.error().code,
         std::string(kind) + " " + identity.error().field + ": " + identity.error().message, now,
         out);
    return out;
  }
  quiet_until_.reset();
  out.events.emplace_back(core::IdentityRead{std::move(*identity)});
  return out;
}

void MrzAssembler::fail(std::string code, std::string detail, core::TimePoint now, MrzOutput& out) {
  if (!quiet_until_ || now >= *quiet_until_) {
    out.events.emplace_back(core::IdentityReadFailed{reason_for(code)});
  }
  quiet_until_ = now + settings_.line_timeout;
  out.errors.push_back(DeviceError{std::move(code), std::move(detail)});
}

}  // namespace postgate::adapters::mrz
