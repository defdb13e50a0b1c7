#pragma once
// A barcode scanner on USB HID, read straight from its interrupt-IN endpoint
// through libusb (the kernel's usbhid driver is detached, so scans do not
// also type into a console): boot-keyboard reports through the keyboard
// decoder, or HID POS scanned-data reports through the POS decoder.
// Each scan is a BarcodeScanned; a bad run or report is a DeviceError.
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string_view>

#include "adapters/scanner/codec/hid_keyboard.hpp"
#include "adapters/scanner/codec/hid_pos.hpp"
#include "adapters/transport/usb/usb_driver.hpp"

namespace postgate::adapters::scanner {

enum class HidScannerProtocol {
  keyboard,  // boot keyboard reports (keyboard wedge mode)
  pos,       // HID POS scanned-data reports (usage page 0x8C)
};
std::optional<HidScannerProtocol> hid_scanner_protocol_from_string(std::string_view s);

// Interface 0, interrupt IN 0x81: what keyboard-wedge scanners present.
inline usb::UsbLinkSettings usb_hid_scanner_link_defaults() {
  usb::UsbLinkSettings s;
  s.continuous_in_endpoint = 0x81;
  return s;
}

struct UsbHidScannerSettings {
  // match (VID:PID, serial, port) from config; endpoint and interface defaults
  // above.
  usb::UsbLinkSettings link = usb_hid_scanner_link_defaults();
  HidScannerProtocol protocol = HidScannerProtocol::keyboard;
  HidKeyboardSettings keyboard;  // terminator, inter-key timeout, max length
  HidPosSettings pos;            // report id, capacity, ...
};

class UsbHidScanner final : public usb::UsbDriver {
 public:
  UsbHidScanner(boost::asio::io_context& io, usb::UsbContext& ctx, UsbHidScannerSettings settings,
                DeviceSink sink, const core::Clock& clock = usb::system_clock());
  ~UsbHidScanner() override;

  const DecoderStats& stats() const;

 private:
  void link_up(core::TimePoint now) override;
  void link_down() override;
  void bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) override;
  void timer_fired(core::TimePoint now) override;
  void apply(std::vector<ScanItem> items);
  std::optional<core::TimePoint> decoder_wake_at() const;

  HidScannerProtocol protocol_;
  HidKeyboardDecoder keyboard_;
  HidPosDecoder pos_;
};

}  // namespace postgate::adapters::scanner
