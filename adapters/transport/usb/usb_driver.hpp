#pragma once
// What every USB driver shares: a UsbLink under the DriverCore (sink, state,
// wake-up timer, clock). A driver subclass adds its codec and moves bytes,
// time and outputs between the two (the same shape as serial::SerialDriver,
// so drivers read alike). bytes_in() gets the link's continuous IN endpoint.
#include <boost/asio/io_context.hpp>

#include "adapters/driver_core.hpp"
#include "adapters/transport/usb/usb_context.hpp"
#include "adapters/transport/usb/usb_link.hpp"

namespace postgate::adapters::usb {

using adapters::system_clock;

class UsbDriver : public DriverCore {
 public:
  ~UsbDriver() override;
  const UsbLink& link() const { return link_; }

 protected:
  UsbDriver(boost::asio::io_context& io, UsbContext& ctx, UsbLinkSettings link, DeviceSink sink,
            const core::Clock& clock);

  UsbLink& usb() { return link_; }

 private:
  void open_link() override { link_.start(); }
  void close_link() override { link_.stop(); }
  bool link_ready() const override { return link_.is_open(); }
  void on_link_error(const core::Error& e);

  UsbLink link_;
};

}  // namespace postgate::adapters::usb
