#pragma once
// A barcode scanner in serial mode (RS-232, or USB CDC/VCP showing up as
// /dev/ttyACM* or /dev/ttyUSB*): the line decoder over a self-reopening
// SerialLink. Each line is a BarcodeScanned; a bad line is a DeviceError.
#include <boost/asio/io_context.hpp>

#include "adapters/scanner/codec/line_decoder.hpp"
#include "adapters/transport/serial/serial_driver.hpp"

namespace postgate::adapters::scanner {

// Serial scanners ship at 9600 8N1 almost universally.
inline serial::LinkSettings serial_scanner_link_defaults() {
  serial::LinkSettings s;
  s.baud = 9600;
  return s;
}

struct SerialScannerSettings {
  serial::LinkSettings link = serial_scanner_link_defaults();  // path from config
  LineDecoderSettings lines;
};

class SerialScanner final : public serial::SerialDriver {
 public:
  SerialScanner(boost::asio::io_context& io, SerialScannerSettings settings, DeviceSink sink,
                const core::Clock& clock = serial::system_clock());
  ~SerialScanner() override;

  const DecoderStats& stats() const { return decoder_.stats(); }

 private:
  void link_up(core::TimePoint now) override;
  void link_down() override;
  void bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) override;
  void timer_fired(core::TimePoint now) override;
  void apply(std::vector<ScanItem> items);

  LineDecoder decoder_;
};

}  // namespace postgate::adapters::scanner
