#pragma once
// What every scanner decoder produces: complete scans and counted errors, in
// the order the device caused them. A driver forwards a Scan as
// core::BarcodeScanned and a DeviceError to DeviceSink::error.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "adapters/device.hpp"
#include "core/workflow.hpp"

namespace postgate::adapters::scanner {

struct Scan {
  std::string text;    // valid UTF-8, no control characters; empty only from a
                       // LineDecoder with emit_empty_lines
  std::string aim_id;  // AIM symbology identifier ("]C0", "]Q1"), empty when unknown
};

using ScanItem = std::variant<Scan, DeviceError>;

inline core::WorkflowEvent to_event(const Scan& s) {
  return core::BarcodeScanned{s.text};
}

// Counters a driver may show in `postgatectl devices`.
struct DecoderStats {
  std::uint64_t reports = 0;  // reports (or bytes, for the line decoder) taken in
  std::uint64_t ignored = 0;  // reports with another report id, trigger/status reports
  std::uint64_t scans = 0;
  std::uint64_t errors = 0;
};

// Error codes shared by the decoders (DeviceError::code).
namespace errors {
inline constexpr std::string_view incomplete_scan = "incomplete_scan";  // run ended by timeout
inline constexpr std::string_view too_long = "too_long";                // over max_length
inline constexpr std::string_view bad_text = "bad_text";        // control char or invalid UTF-8
inline constexpr std::string_view bad_report = "bad_report";    // length or framing wrong
inline constexpr std::string_view rollover = "rollover";        // HID ErrorRollOver / POST fail
inline constexpr std::string_view unknown_key = "unknown_key";  // usage with no character
inline constexpr std::string_view unexpected_terminator = "unexpected_terminator";
inline constexpr std::string_view bad_length = "bad_length";  // HID POS length byte
inline constexpr std::string_view empty_scan = "empty_scan";  // HID POS report with no data
}  // namespace errors

// True when `text` is valid UTF-8 without C0/C1 control characters or DEL:
// what a scan may contain (Chinese QR content arrives as UTF-8).
bool is_scan_text(std::string_view text);

}  // namespace postgate::adapters::scanner
