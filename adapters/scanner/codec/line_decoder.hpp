#pragma once
// Serial scanners (and serial MRZ readers): bytes to lines. A line ends at a
// terminator byte, or (if configured) when the device is silent for
// inter_byte_timeout; a line that stops without its terminator is otherwise
// an error. Lines must be valid UTF-8 without control characters (Chinese QR
// content arrives as UTF-8); a bad line is one DeviceError, never a scan.
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

enum class LineTerminator {
  cr,
  lf,
  crlf,  // LF ends the line, the CR before it is dropped; a lone CR is bad text
  tab,
  any,  // CR, LF, CRLF (one terminator, not two) or Tab
};

std::optional<LineTerminator> line_terminator_from_string(std::string_view s);
std::string_view to_string(LineTerminator t);

struct LineDecoderSettings {
  LineTerminator terminator = LineTerminator::any;
  // 0 disables the timeout (a partial line then waits for its terminator).
  std::chrono::milliseconds inter_byte_timeout{200};
  // true: silence ends a line like a terminator (devices without suffix);
  // false: a line cut by silence is error "incomplete_scan".
  bool timeout_ends_line = false;
  std::size_t max_length = 512;  // bytes
  // Empty lines (a terminator right after another) are dropped unless this is
  // set; the MRZ assembler uses them as block ends.
  bool emit_empty_lines = false;
};

class LineDecoder {
 public:
  explicit LineDecoder(LineDecoderSettings settings = {});

  std::vector<ScanItem> on_bytes(std::span<const std::uint8_t> bytes, core::TimePoint now);
  std::vector<ScanItem> on_timer(core::TimePoint now);
  std::optional<core::TimePoint> wake_at() const;
  // Link lost: a partial line is dropped silently.
  void reset();

  const DecoderStats& stats() const { return stats_; }
  const LineDecoderSettings& settings() const { return settings_; }

 private:
  void end_line(std::vector<ScanItem>& out);
  void check_timeout(core::TimePoint now, std::vector<ScanItem>& out);
  void fail(std::string_view code, std::string detail, std::vector<ScanItem>& out);

  LineDecoderSettings settings_;
  std::string line_;
  bool open_ = false;        // bytes of an unfinished line have arrived
  bool discarding_ = false;  // the open line is too long; drop bytes to its end
  bool after_cr_ = false;    // for `any`: an LF right after CR is the same terminator
  core::TimePoint last_byte_{};
  DecoderStats stats_;
};

}  // namespace postgate::adapters::scanner
