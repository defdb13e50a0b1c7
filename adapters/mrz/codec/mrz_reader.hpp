#pragma once
// An MRZ reader is a line source plus an assembler: over a keyboard wedge
// (HID boot reports) or a serial line. These combine the two so a driver
// only moves bytes and timers.
#include <cstdint>
#include <optional>
#include <span>

#include "adapters/mrz/codec/mrz_assembler.hpp"
#include "adapters/scanner/codec/hid_keyboard.hpp"
#include "adapters/scanner/codec/line_decoder.hpp"
#include "core/time.hpp"

namespace postgate::adapters::mrz {

// Keyboard-wedge reader: each line ends with Enter by default; for readers
// that send no line suffix set keyboard.terminator = none, so that the
// inter-key gap ends each line.
struct MrzKeyboardSettings {
  scanner::HidKeyboardSettings keyboard;
  MrzAssemblerSettings assembler;
};

class MrzKeyboardReader {
 public:
  explicit MrzKeyboardReader(MrzKeyboardSettings settings = {});
  MrzOutput on_report(std::span<const std::uint8_t> report, core::TimePoint now);
  MrzOutput on_timer(core::TimePoint now);
  std::optional<core::TimePoint> wake_at() const;
  void reset();

 private:
  MrzOutput feed(std::vector<scanner::ScanItem> items, core::TimePoint now);
  scanner::HidKeyboardDecoder keyboard_;
  MrzAssembler assembler_;
};

// Serial reader: lines by CR/LF/CRLF, empty lines kept (they end a zone),
// silence ends a line.
inline scanner::LineDecoderSettings serial_line_defaults() {
  scanner::LineDecoderSettings s;
  s.terminator = scanner::LineTerminator::any;
  s.inter_byte_timeout = std::chrono::milliseconds{200};
  s.timeout_ends_line = true;
  s.max_length = 128;
  s.emit_empty_lines = true;
  return s;
}
struct MrzSerialSettings {
  scanner::LineDecoderSettings lines = serial_line_defaults();
  MrzAssemblerSettings assembler;
};

class MrzSerialReader {
 public:
  explicit MrzSerialReader(MrzSerialSettings settings = {});
  MrzOutput on_bytes(std::span<const std::uint8_t> bytes, core::TimePoint now);
  MrzOutput on_timer(core::TimePoint now);
  std::optional<core::TimePoint> wake_at() const;
  void reset();

 private:
  MrzOutput feed(std::vector<scanner::ScanItem> items, core::TimePoint now);
  scanner::LineDecoder lines_;
  MrzAssembler assembler_;
};

}  // namespace postgate::adapters::mrz
