#include "adapters/transport/serial/serial_driver.hpp"

namespace postgate::adapters::serial {

SerialDriver::SerialDriver(boost::asio::io_context& io, LinkSettings link, DeviceSink sink,
                           const core::Clock& clock)
    : DriverCore(io, std::move(sink), clock, Redetail::when_failed),
      link_(io, std::move(link),
            LinkHandlers{[this](DeviceState s, const std::string& d) { on_link_state(s, d); },
                         [this](std::span<const std::uint8_t> b) { on_link_bytes(b); }}) {}

SerialDriver::~SerialDriver() {
  // The link's handlers call into the subclass: stop before it is gone.
  // (Subclasses call stop() in their own destructor; this is the backstop.)
  halt();
  link_.stop();
}

bool SerialDriver::send(std::vector<std::uint8_t> bytes) {
  return active() && link_.send(std::move(bytes));
}

}  // namespace postgate::adapters::serial
