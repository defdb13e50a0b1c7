#include "adapters/transport/usb/usb_driver.hpp"

namespace postgate::adapters::usb {

UsbDriver::UsbDriver(boost::asio::io_context& io, UsbContext& ctx, UsbLinkSettings link,
                     DeviceSink sink, const core::Clock& clock)
    : DriverCore(io, std::move(sink), clock, Redetail::always),
      link_(ctx, std::move(link),
            UsbLinkHandlers{[this](DeviceState s, const std::string& d) { on_link_state(s, d); },
                            [this](std::span<const std::uint8_t> b) { on_link_bytes(b); },
                            [this](const core::Error& e) { on_link_error(e); }}) {}

UsbDriver::~UsbDriver() {
  // The link's handlers call into the subclass: subclasses call stop() in
  // their own destructor; this is the backstop.
  halt();
  link_.stop();
}

void UsbDriver::on_link_error(const core::Error& e) {
  emit_error(DeviceError{"usb_" + e.code, e.message});
}

}  // namespace postgate::adapters::usb
