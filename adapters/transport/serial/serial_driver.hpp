#pragma once
// What every serial driver shares: a SerialLink under the DriverCore (sink,
// state, wake-up timer, clock). A driver subclass adds its codec and moves
// bytes, time and outputs between the two.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "adapters/driver_core.hpp"
#include "adapters/transport/serial/serial_link.hpp"

namespace postgate::adapters::serial {

using adapters::system_clock;

class SerialDriver : public DriverCore {
 public:
  ~SerialDriver() override;
  const SerialLink& link() const { return link_; }

 protected:
  SerialDriver(boost::asio::io_context& io, LinkSettings link, DeviceSink sink,
               const core::Clock& clock);

  bool send(std::vector<std::uint8_t> bytes);

 private:
  void open_link() override { link_.start(); }
  void close_link() override { link_.stop(); }

  SerialLink link_;
};

}  // namespace postgate::adapters::serial
