#include "adapters/scanner/serial_scanner.hpp"

namespace postgate::adapters::scanner {

SerialScanner::SerialScanner(boost::asio::io_context& io, SerialScannerSettings settings,
                             DeviceSink sink, const core::Clock& clock)
    : SerialDriver(io, std::move(settings.link), std::move(sink), clock),
      decoder_(std::move(settings.lines)) {}

SerialScanner::~SerialScanner() {
  stop();
}

void SerialScanner::link_up(core::TimePoint) {}

void SerialScanner::link_down() {
  decoder_.reset();
}

void SerialScanner::bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) {
  apply(decoder_.on_bytes(bytes, now));
}

void SerialScanner::timer_fired(core::TimePoint now) {
  apply(decoder_.on_timer(now));
}

void SerialScanner::apply(std::vector<ScanItem> items) {
  for (const auto& item : items) {
    const bool still = std::holds_alternative<Scan>(item) ? emit(to_event(std::get<Scan>(item)))
                                                          : emit_error(std::get<DeviceError>(item));
    if (!still) return;
  }
  wake_at(decoder_.wake_at());
}

}  // namespace postgate::adapters::scanner
