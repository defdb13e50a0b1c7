#include "adapters/scanner/usb_hid_scanner.hpp"

namespace postgate::adapters::scanner {

std::optional<HidScannerProtocol> hid_scanner_protocol_from_string(std::string_view s) {
  if (s == "keyboard") return HidScannerProtocol::keyboard;
  if (s == "pos") return HidScannerProtocol::pos;
  return std::nullopt;
}

UsbHidScanner::UsbHidScanner(boost::asio::io_context& io, usb::UsbContext& ctx,
                             UsbHidScannerSettings settings, DeviceSink sink,
                             const core::Clock& clock)
    : UsbDriver(io, ctx, std::move(settings.link), std::move(sink), clock),
      protocol_(settings.protocol),
      keyboard_(std::move(settings.keyboard)),
      pos_(std::move(settings.pos)) {}

UsbHidScanner::~UsbHidScanner() {
  stop();
}

const DecoderStats& UsbHidScanner::stats() const {
  return protocol_ == HidScannerProtocol::keyboard ? keyboard_.stats() : pos_.stats();
}

void UsbHidScanner::link_up(core::TimePoint) {}

void UsbHidScanner::link_down() {
  keyboard_.reset();
  pos_.reset();
}

void UsbHidScanner::bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) {
  apply(protocol_ == HidScannerProtocol::keyboard ? keyboard_.on_report(bytes, now)
                                                  : pos_.on_report(bytes, now));
}

void UsbHidScanner::timer_fired(core::TimePoint now) {
  apply(protocol_ == HidScannerProtocol::keyboard ? keyboard_.on_timer(now) : pos_.on_timer(now));
}

std::optional<core::TimePoint> UsbHidScanner::decoder_wake_at() const {
  return protocol_ == HidScannerProtocol::keyboard ? keyboard_.wake_at() : pos_.wake_at();
}

void UsbHidScanner::apply(std::vector<ScanItem> items) {
  for (const auto& item : items) {
    const bool still = std::holds_alternative<Scan>(item) ? emit(to_event(std::get<Scan>(item)))
                                                          : emit_error(std::get<DeviceError>(item));
    if (!still) return;
  }
  wake_at(decoder_wake_at());
}

}  // namespace postgate::adapters::scanner
