#pragma once
// Keyboard-wedge scanners: HID boot keyboard reports (DOMAIN.md section 4)
// to text runs, US layout. Sans-IO: reports and time in, items out; the
// driver calls on_timer() at wake_at().
//
// A key is pressed when its usage appears in a report that did not have it
// (an all-zero report releases everything). A run of characters ends at the
// configured terminator key or when no key is pressed for inter_key_timeout.
// A run that went wrong (rollover, unknown key, too long, Ctrl/Alt/GUI held)
// yields one DeviceError when the fault is seen; the rest of that run is
// discarded up to its end (terminator or timeout), so a scan is either whole
// or not emitted at all.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/scanner/codec/scan_item.hpp"
#include "core/time.hpp"

namespace postgate::adapters::scanner {

enum class KeyTerminator { enter, tab, enter_or_tab, none };

enum class ReportFraming {
  boot,       // 8 bytes: modifiers, reserved, 6 usages
  report_id,  // 9 bytes: a report id, then the boot layout
  automatic,  // 9 bytes: report id first; 8 or fewer: boot layout
};

struct HidKeyboardSettings {
  KeyTerminator terminator = KeyTerminator::enter;
  std::chrono::milliseconds inter_key_timeout{100};
  std::size_t max_length = 512;  // characters (bytes: the layout is ASCII)
  ReportFraming framing = ReportFraming::automatic;
  // With a report id in the framing: only this id is a keyboard report,
  // others (consumer control, vendor) are ignored. Unset: any id.
  std::optional<std::uint8_t> report_id;
  // A report shorter than its framing: true = missing usage slots are empty
  // (some scanners send 3-byte reports); false = error "bad_report".
  bool accept_short_reports = true;
};

std::optional<KeyTerminator> key_terminator_from_string(std::string_view s);
std::string_view to_string(KeyTerminator t);
std::optional<ReportFraming> report_framing_from_string(std::string_view s);
std::string_view to_string(ReportFraming f);

using BootReport = std::array<std::uint8_t, 8>;

// The reports a US-layout keyboard wedge sends for `text` (printable ASCII):
// a press and a release per character, then the terminator key (none: no
// key). nullopt when a character cannot be typed. For tests, test peers and
// benchmarks.
std::optional<std::vector<BootReport>> keyboard_reports(std::string_view text,
                                                        KeyTerminator terminator);

class HidKeyboardDecoder {
 public:
  explicit HidKeyboardDecoder(HidKeyboardSettings settings = {});

  // One input report as read from the interrupt endpoint (or hidraw).
  std::vector<ScanItem> on_report(std::span<const std::uint8_t> report, core::TimePoint now);
  // Ends a run whose inter-key timeout has passed.
  std::vector<ScanItem> on_timer(core::TimePoint now);
  // When on_timer() has work to do; nullopt when no run is open.
  std::optional<core::TimePoint> wake_at() const;
  // Device gone: forget the key state and any open run (emits nothing).
  void reset();

  const DecoderStats& stats() const { return stats_; }
  const HidKeyboardSettings& settings() const { return settings_; }

 private:
  void press(std::uint8_t usage, std::uint8_t modifiers, core::TimePoint now,
             std::vector<ScanItem>& out);
  void end_run_by_terminator(std::vector<ScanItem>& out);
  void end_run_by_timeout(std::vector<ScanItem>& out);
  void fail_run(std::string_view code, std::string detail, core::TimePoint now,
                std::vector<ScanItem>& out);
  void emit_scan(std::vector<ScanItem>& out);

  HidKeyboardSettings settings_;
  std::array<std::uint8_t, 6> held_{};  // usages down in the last accepted report
  std::string run_;
  bool run_open_ = false;    // a key has been pressed since the last run ended
  bool discarding_ = false;  // the open run failed; drop keys until its end
  core::TimePoint last_key_{};
  DecoderStats stats_;
};

}  // namespace postgate::adapters::scanner
