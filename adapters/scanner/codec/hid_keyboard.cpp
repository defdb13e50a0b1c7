#include "adapters/scanner/codec/hid_keyboard.hpp"

#include <algorithm>
#include <cstdio>

namespace postgate::adapters::scanner {
namespace {

constexpr std::uint8_t kShift = 0x02 | 0x20;
constexpr std::uint8_t kCtrlAltGui = 0x01 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;

constexpr std::uint8_t kErrorRollOver = 0x01;
constexpr std::uint8_t kPostFail = 0x02;
constexpr std::uint8_t kErrorUndefined = 0x03;
constexpr std::uint8_t kEnter = 0x28;
constexpr std::uint8_t kTab = 0x2B;
constexpr std::uint8_t kKeypadEnter = 0x58;

struct KeyChars {
  char plain = 0;
  char shifted = 0;
};

// US layout, usages 0x04..0x67; 0 = no character.
constexpr KeyChars key_chars(std::uint8_t usage) {
  if (usage >= 0x04 && usage <= 0x1D) {
    const char c = static_cast<char>('a' + (usage - 0x04));
    return {c, static_cast<char>(c - 'a' + 'A')};
  }
  if (usage >= 0x1E && usage <= 0x27) {
    constexpr char digits[] = "1234567890";
    constexpr char shifted[] = "!@#$%^&*()";
    return {digits[usage - 0x1E], shifted[usage - 0x1E]};
  }
  // Keypad digits and symbols ignore Shift: scanners assume Num Lock on.
  if (usage >= 0x59 && usage <= 0x61) {
    const char c = static_cast<char>('1' + (usage - 0x59));
    return {c, c};
  }
  switch (usage) {
    case 0x2C:
      return {' ', ' '};
    case 0x2D:
      return {'-', '_'};
    case 0x2E:
      return {'=', '+'};
    case 0x2F:
      return {'[', '{'};
    case 0x30:
      return {']', '}'};
    case 0x31:
      return {'\\', '|'};
    case 0x32:
      return {'\\', '|'};  // Non-US # ~: Linux maps it to the backslash key
    case 0x33:
      return {';', ':'};
    case 0x34:
      return {'\'', '"'};
    case 0x35:
      return {'`', '~'};
    case 0x36:
      return {',', '<'};
    case 0x37:
      return {'.', '>'};
    case 0x38:
      return {'/', '?'};
    case 0x54:
      return {'/', '/'};
    case 0x55:
      return {'*', '*'};
    case 0x56:
      return {'-', '-'};
    case 0x57:
      return {'+', '+'};
    case 0x62:
      return {'0', '0'};
    case 0x63:
      return {'.', '.'};
    case 0x67:
      return {'=', '='};
    default:
      return {};
  }
}

// Keys that carry no character and mean nothing to a scan: lock keys some
// scanners toggle, and modifiers that also appear in the usage array.
constexpr bool ignored_key(std::uint8_t usage) {
  return usage == 0x39 || usage == 0x47 || usage == 0x53 || (usage >= 0xE0 && usage <= 0xE7);
}

std::string usage_hex(std::uint8_t usage) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", usage);
  return buf;
}

bool is_terminator(std::uint8_t usage, KeyTerminator t) {
  const bool enter = usage == kEnter || usage == kKeypadEnter;
  const bool tab = usage == kTab;
  switch (t) {
    case KeyTerminator::enter:
      return enter;
    case KeyTerminator::tab:
      return tab;
    case KeyTerminator::enter_or_tab:
      return enter || tab;
    case KeyTerminator::none:
      return false;
  }
  return false;
}

}  // namespace

std::optional<KeyTerminator> key_terminator_from_string(std::string_view s) {
  if (s == "enter") return KeyTerminator::enter;
  if (s == "tab") return KeyTerminator::tab;
  if (s == "enter_or_tab") return KeyTerminator::enter_or_tab;
  if (s == "none") return KeyTerminator::none;
  return std::nullopt;
}

std::string_view to_string(KeyTerminator t) {
  switch (t) {
    case KeyTerminator::enter:
      return "enter";
    case KeyTerminator::tab:
      return "tab";
    case KeyTerminator::enter_or_tab:
      return "enter_or_tab";
    case KeyTerminator::none:
      return "none";
  }
  return "unknown";
}

std::optional<ReportFraming> report_framing_from_string(std::string_view s) {
  if (s == "boot") return ReportFraming::boot;
  if (s == "report_id") return ReportFraming::report_id;
  if (s == "automatic") return ReportFraming::automatic;
  return std::nullopt;
}

std::string_view to_string(ReportFraming f) {
  switch (f) {
    case ReportFraming::boot:
      return "boot";
    case ReportFraming::report_id:
      return "report_id";
    case ReportFraming::automatic:
      return "automatic";
  }
  return "unknown";
}

std::optional<std::vector<BootReport>> keyboard_reports(std::string_view text,
                                                        KeyTerminator terminator) {
  std::vector<BootReport> reports;
  reports.reserve(2 * text.size() + 2);
  const auto key = [&](std::uint8_t usage, bool shift) {
    reports.push_back(BootReport{static_cast<std::uint8_t>(shift ? 0x02 : 0), 0, usage});
    reports.push_back(BootReport{});
  };
  for (const char c : text) {
    std::uint8_t found = 0;
    bool shift = false;
    // Main-block keys only (0x04..0x38): the keypad duplicates are not needed.
    for (std::uint8_t u = 0x04; u <= 0x38 && !found; ++u) {
      const KeyChars k = key_chars(u);
      if (k.plain == c) {
        found = u;
      } else if (k.shifted == c) {
        found = u;
        shift = true;
      }
    }
    if (!found) return std::nullopt;
    key(found, shift);
  }
  switch (terminator) {
    case KeyTerminator::enter:
    case KeyTerminator::enter_or_tab:
      key(kEnter, false);
      break;
    case KeyTerminator::tab:
      key(kTab, false);
      break;
    case KeyTerminator::none:
      break;
  }
  return reports;
}

HidKeyboardDecoder::HidKeyboardDecoder(HidKeyboardSettings settings)
    : settings_(std::move(settings)) {}

std::vector<ScanItem> HidKeyboardDecoder::on_report(std::span<const std::uint8_t> report,
                                                    core::TimePoint now) {
  std::vector<ScanItem> out;
  ++stats_.reports;
  if (run_open_ && now - last_key_ >= settings_.inter_key_timeout) end_run_by_timeout(out);

  // Split off the report id, per the framing.
  bool has_id = false;
  switch (settings_.framing) {
    case ReportFraming::boot:
      has_id = false;
      break;
    case ReportFraming::report_id:
      has_id = true;
      break;
    case ReportFraming::automatic:
      has_id = report.size() == 9;
      break;
  }
  const std::size_t expected = has_id ? 9 : 8;
  if (report.size() > expected || report.size() < (has_id ? 2u : 1u) ||
      (report.size() < expected && !settings_.accept_short_reports)) {
    fail_run(errors::bad_report, "keyboard report of " + std::to_string(report.size()) + " bytes",
             now, out);
    return out;
  }
  if (has_id) {
    if (settings_.report_id && report[0] != *settings_.report_id) {
      ++stats_.ignored;
      return out;
    }
    report = report.subspan(1);
  }

  const std::uint8_t modifiers = report[0];
  std::array<std::uint8_t, 6> keys{};
  for (std::size_t i = 2; i < report.size(); ++i) keys[i - 2] = report[i];

  // ErrorRollOver (too many keys), POSTFail, ErrorUndefined: the key state
  // is unknown for this report, so keep the last one and lose the run.
  for (const std::uint8_t k : keys) {
    if (k == kErrorRollOver || k == kPostFail || k == kErrorUndefined) {
      fail_run(k == kErrorRollOver ? errors::rollover : errors::bad_report,
               "keyboard error usage " + usage_hex(k), now, out);
      return out;
    }
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::uint8_t k = keys[i];
    if (k == 0) continue;
    const bool seen_in_report = std::find(keys.begin(), keys.begin() + i, k) != keys.begin() + i;
    const bool was_held = std::find(held_.begin(), held_.end(), k) != held_.end();
    if (!seen_in_report && !was_held) press(k, modifiers, now, out);
  }
  held_ = keys;
  return out;
}

std::vector<ScanItem> HidKeyboardDecoder::on_timer(core::TimePoint now) {
  std::vector<ScanItem> out;
  if (run_open_ && now - last_key_ >= settings_.inter_key_timeout) end_run_by_timeout(out);
  return out;
}

std::optional<core::TimePoint> HidKeyboardDecoder::wake_at() const {
  if (!run_open_) return std::nullopt;
  return last_key_ + settings_.inter_key_timeout;
}

void HidKeyboardDecoder::reset() {
  held_ = {};
  run_.clear();
  run_open_ = false;
  discarding_ = false;
}

void HidKeyboardDecoder::press(std::uint8_t usage, std::uint8_t modifiers, core::TimePoint now,
                               std::vector<ScanItem>& out) {
  if (ignored_key(usage)) return;
  if (usage == kEnter || usage == kKeypadEnter || usage == kTab) {
    if (is_terminator(usage, settings_.terminator)) {
      end_run_by_terminator(out);
    } else {
      fail_run(errors::unexpected_terminator,
               std::string(usage == kTab ? "tab" : "enter") + " with terminator " +
                   std::string(to_string(settings_.terminator)),
               now, out);
    }
    return;
  }
  const KeyChars chars = key_chars(usage);
  if (chars.plain == 0) {
    fail_run(errors::unknown_key, "usage " + usage_hex(usage), now, out);
  } else if (modifiers & kCtrlAltGui) {
    fail_run(errors::unknown_key, "usage " + usage_hex(usage) + " with Ctrl, Alt or GUI held", now,
             out);
  } else if (!discarding_) {
    if (run_.size() >= settings_.max_length) {
      fail_run(errors::too_long, "over " + std::to_string(settings_.max_length) + " characters",
               now, out);
    } else {
      run_ += (modifiers & kShift) ? chars.shifted : chars.plain;
    }
  }
  run_open_ = true;
  last_key_ = now;
}

void HidKeyboardDecoder::end_run_by_terminator(std::vector<ScanItem>& out) {
  if (!discarding_ && !run_.empty()) emit_scan(out);
  run_.clear();
  run_open_ = false;
  discarding_ = false;
}

void HidKeyboardDecoder::end_run_by_timeout(std::vector<ScanItem>& out) {
  if (!discarding_ && !run_.empty()) {
    if (settings_.terminator == KeyTerminator::none) {
      emit_scan(out);
    } else {
      ++stats_.errors;
      out.emplace_back(DeviceError{std::string(errors::incomplete_scan),
                                   std::to_string(run_.size()) + " characters without terminator"});
    }
  }
  run_.clear();
  run_open_ = false;
  discarding_ = false;
}

void HidKeyboardDecoder::fail_run(std::string_view code, std::string detail, core::TimePoint now,
                                  std::vector<ScanItem>& out) {
  if (!discarding_) {
    ++stats_.errors;
    out.emplace_back(DeviceError{std::string(code), std::move(detail)});
  }
  discarding_ = true;
  run_open_ = true;
  last_key_ = now;
  run_.clear();
}

void HidKeyboardDecoder::emit_scan(std::vector<ScanItem>& out) {
  ++stats_.scans;
  out.emplace_back(Scan{std::move(run_), {}});
  run_.clear();
}

}  // namespace postgate::adapters::scanner
