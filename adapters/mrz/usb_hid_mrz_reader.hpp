#pragma once
// An MRZ (passport/travel-document) reader that types its zone as a USB HID
// keyboard, read from its interrupt-IN endpoint through libusb: keyboard
// decoder lines assembled into a TD3/TD1 zone and parsed with every check
// digit, giving IdentityRead, or IdentityReadFailed plus a DeviceError.
#include <boost/asio/io_context.hpp>

#include "adapters/mrz/codec/mrz_reader.hpp"
#include "adapters/transport/usb/usb_driver.hpp"

namespace postgate::adapters::mrz {

inline usb::UsbLinkSettings usb_hid_mrz_link_defaults() {
  usb::UsbLinkSettings s;
  s.continuous_in_endpoint = 0x81;
  return s;
}

struct UsbHidMrzReaderSettings {
  usb::UsbLinkSettings link = usb_hid_mrz_link_defaults();  // match from config
  MrzKeyboardSettings reader;  // keyboard decoding (Enter ends a line) and assembly
};

class UsbHidMrzReader final : public usb::UsbDriver {
 public:
  UsbHidMrzReader(boost::asio::io_context& io, usb::UsbContext& ctx,
                  UsbHidMrzReaderSettings settings, DeviceSink sink,
                  const core::Clock& clock = usb::system_clock());
  ~UsbHidMrzReader() override;

 private:
  void link_up(core::TimePoint now) override;
  void link_down() override;
  void bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) override;
  void timer_fired(core::TimePoint now) override;
  void apply(MrzOutput out);

  MrzKeyboardReader reader_;
};

}  // namespace postgate::adapters::mrz
