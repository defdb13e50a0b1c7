#pragma once
// What every device driver shares, whatever its transport: the DeviceSink
// with the state it was last told, one wake-up timer for the codec, the
// clock, and the started/stopped life. A transport base (serial::SerialDriver,
// usb::UsbDriver) adds its link and feeds the link's changes and bytes in
// here; a driver subclass adds its codec and moves bytes, time and outputs
// between the two.
//
// State reported to the sink: the link's (absent, attached, failed), except
// that a driver may mark an attached link failed at the protocol level
// ("reader not answering"); that mark is cleared on the next link change.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "adapters/device.hpp"
#include "core/time.hpp"

namespace postgate::adapters {

// The process-wide system clock, the default for drivers.
const core::Clock& system_clock();

class DriverCore : public Device {
 public:
  ~DriverCore() override = default;
  void start() override;
  // No sink callback after it returns; a stopped driver is not restarted.
  void stop() override;
  DeviceState state() const override { return state_; }
  const std::string& detail() const { return detail_; }

  // The sink side of a driver, for the helpers that hand a codec's output
  // over (idcard/session_output.hpp, mrz/zone_output.hpp). Only the driver
  // itself gives one out (emitter() is protected).
  class Emitter {
   public:
    bool emit(const core::WorkflowEvent& event) { return core_->emit(event); }
    bool emit_error(const DeviceError& error) { return core_->emit_error(error); }
    void set_protocol_fault(std::optional<std::string> detail) {
      core_->set_protocol_fault(std::move(detail));
    }
    void wake_at(std::optional<core::TimePoint> at) { core_->wake_at(at); }
    bool active() const { return core_->active(); }

   private:
    friend class DriverCore;
    explicit Emitter(DriverCore& core) : core_(&core) {}
    DriverCore* core_;
  };

 protected:
  // Which new details are told to the sink when the state stays the same:
  // only a failure's, or every one.
  enum class Redetail { when_failed, always };

  DriverCore(boost::asio::io_context& io, DeviceSink sink, const core::Clock& clock,
             Redetail redetail);

  // The transport base's link.
  virtual void open_link() = 0;
  virtual void close_link() = 0;
  // Whether a link that says attached can be talked to.
  virtual bool link_ready() const { return true; }

  // The link was opened (again): start talking.
  virtual void link_up(core::TimePoint now) = 0;
  // The link was lost: forget partial input. The timer is already cancelled.
  virtual void link_down() = 0;
  // Data the link received unasked.
  virtual void bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) = 0;
  virtual void timer_fired(core::TimePoint now) = 0;

  // Arms the timer for `at` (nullopt: cancels it). Ignored once stopped.
  void wake_at(std::optional<core::TimePoint> at);
  // Sink calls; false when the driver was stopped from inside the callback
  // (the caller must then return without touching its codec's output).
  bool emit(const core::WorkflowEvent& event);
  bool emit_error(const DeviceError& error);
  // nullopt: the protocol works; a detail: the link is open but the device
  // does not do its job (reported as failed).
  void set_protocol_fault(std::optional<std::string> detail);
  bool active() const { return started_ && !stopped_; }
  core::TimePoint now() const { return clock_.now(); }
  // A weak token for callbacks that may outlive the driver.
  std::weak_ptr<int> life() const { return life_; }
  Emitter emitter() { return Emitter(*this); }

  // The transport base's link handlers.
  void on_link_state(DeviceState s, const std::string& detail);
  void on_link_bytes(std::span<const std::uint8_t> bytes);
  // For the transport base's destructor: marks the driver stopped without
  // calling into the subclass (already gone), before the link is stopped.
  void halt();

 private:
  void report();

  DeviceSink sink_;
  const core::Clock& clock_;
  boost::asio::steady_timer timer_;
  Redetail redetail_;
  DeviceState link_state_ = DeviceState::absent;
  std::string link_detail_;
  std::optional<std::string> fault_;
  DeviceState state_ = DeviceState::absent;
  std::string detail_ = "not started";
  bool reported_ = false;
  bool started_ = false;
  bool stopped_ = false;
  std::uint64_t timer_seq_ = 0;
  // Timer handlers hold a weak reference: a handler that runs after the
  // driver is gone sees it expired and does nothing.
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace postgate::adapters
