#pragma once
// What every USB driver shares: a UsbLink, one wake-up timer for the codec,
// the clock, and the DeviceSink with the state it was last told. A driver
// subclass adds its codec and moves bytes, time and outputs between the two
// (the same shape as serial::SerialDriver, so drivers read alike).
//
// State reported to the sink: the link's (absent, attached, failed), except
// that a driver may mark an attached device failed at the protocol level
// ("reader not answering"); that mark is cleared on the next link change.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "adapters/device.hpp"
#include "adapters/transport/usb/usb_context.hpp"
#include "adapters/transport/usb/usb_link.hpp"
#include "core/time.hpp"

namespace postgate::adapters::usb {

// The process-wide system clock, the default for drivers.
const core::Clock& system_clock();

class UsbDriver : public Device {
 public:
  ~UsbDriver() override;
  void start() override;
  // No sink callback after it returns; a stopped driver is not restarted.
  void stop() override;
  DeviceState state() const override { return state_; }
  const std::string& detail() const { return detail_; }
  const UsbLink& link() const { return link_; }

 protected:
  UsbDriver(boost::asio::io_context& io, UsbContext& ctx, UsbLinkSettings link, DeviceSink sink,
            const core::Clock& clock);

  // The device was opened (again): start talking.
  virtual void link_up(core::TimePoint now) = 0;
  // The device was lost: forget partial input. The timer is already cancelled.
  virtual void link_down() = 0;
  // Data from the link's continuous IN endpoint.
  virtual void bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) = 0;
  virtual void timer_fired(core::TimePoint now) = 0;

  // Arms the timer for `at` (nullopt: cancels it). Ignored once stopped.
  void wake_at(std::optional<core::TimePoint> at);
  // Sink calls; false when the driver was stopped from inside the callback
  // (the caller must then return without touching its codec's output).
  bool emit(const core::WorkflowEvent& event);
  bool emit_error(const DeviceError& error);
  // nullopt: the protocol works; a detail: the device is open but does not
  // do its job (reported as failed).
  void set_protocol_fault(std::optional<std::string> detail);
  bool active() const { return started_ && !stopped_; }
  core::TimePoint now() const { return clock_.now(); }
  UsbLink& usb() { return link_; }
  // A weak token for callbacks that may outlive the driver.
  std::weak_ptr<int> life() const { return life_; }

 private:
  void on_link_state(DeviceState s, const std::string& detail);
  void on_link_bytes(std::span<const std::uint8_t> bytes);
  void on_link_error(const core::Error& e);
  void report();

  DeviceSink sink_;
  const core::Clock& clock_;
  boost::asio::steady_timer timer_;
  UsbLink link_;
  DeviceState link_state_ = DeviceState::absent;
  std::string link_detail_;
  std::optional<std::string> fault_;
  DeviceState state_ = DeviceState::absent;
  std::string detail_ = "not started";
  bool reported_ = false;
  bool started_ = false;
  bool stopped_ = false;
  std::uint64_t timer_seq_ = 0;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace postgate::adapters::usb
