#include "adapters/transport/usb/usb_driver.hpp"

#include <algorithm>

namespace postgate::adapters::usb {

const core::Clock& system_clock() {
  static const core::SystemClock clock;
  return clock;
}

UsbDriver::UsbDriver(boost::asio::io_context& io, UsbContext& ctx, UsbLinkSettings link,
                     DeviceSink sink, const core::Clock& clock)
    : sink_(std::move(sink)),
      clock_(clock),
      timer_(io),
      link_(ctx, std::move(link),
            UsbLinkHandlers{[this](DeviceState s, const std::string& d) { on_link_state(s, d); },
                            [this](std::span<const std::uint8_t> b) { on_link_bytes(b); },
                            [this](const core::Error& e) { on_link_error(e); }}) {}

UsbDriver::~UsbDriver() {
  // The link's handlers call into the subclass: subclasses call stop() in
  // their own destructor; this is the backstop.
  stopped_ = true;
  link_.stop();
  timer_.cancel();
}

void UsbDriver::start() {
  if (started_ || stopped_) return;
  started_ = true;
  link_.start();
}

void UsbDriver::stop() {
  if (stopped_) return;
  stopped_ = true;
  ++timer_seq_;
  timer_.cancel();
  link_.stop();
  if (link_state_ == DeviceState::attached) link_down();
  state_ = DeviceState::absent;
  detail_ = "stopped";
}

void UsbDriver::wake_at(std::optional<core::TimePoint> at) {
  ++timer_seq_;
  if (!at || !active()) {
    timer_.cancel();
    return;
  }
  const auto delay = std::max(*at - clock_.now(), core::TimePoint::duration::zero());
  timer_.expires_after(delay);
  timer_.async_wait([this, life = std::weak_ptr<int>(life_),
                     seq = timer_seq_](const boost::system::error_code& ec) {
    if (ec || life.expired() || seq != timer_seq_ || !active()) return;
    timer_fired(clock_.now());
  });
}

bool UsbDriver::emit(const core::WorkflowEvent& event) {
  if (!active()) return false;
  if (sink_.input) sink_.input(event);
  return active();
}

bool UsbDriver::emit_error(const DeviceError& error) {
  if (!active()) return false;
  if (sink_.error) sink_.error(error);
  return active();
}

void UsbDriver::set_protocol_fault(std::optional<std::string> detail) {
  if (fault_ == detail) return;
  fault_ = std::move(detail);
  report();
}

void UsbDriver::on_link_state(DeviceState s, const std::string& detail) {
  if (!active()) return;
  const bool was_up = link_state_ == DeviceState::attached;
  link_state_ = s;
  link_detail_ = detail;
  fault_.reset();
  if (was_up && s != DeviceState::attached) {
    wake_at(std::nullopt);
    link_down();
  }
  report();
  if (s == DeviceState::attached && active() && link_.is_open()) link_up(clock_.now());
}

void UsbDriver::on_link_bytes(std::span<const std::uint8_t> bytes) {
  if (!active()) return;
  bytes_in(bytes, clock_.now());
}

void UsbDriver::on_link_error(const core::Error& e) {
  emit_error(DeviceError{"usb_" + e.code, e.message});
}

void UsbDriver::report() {
  DeviceState s = link_state_;
  std::string d = link_detail_;
  if (s == DeviceState::attached && fault_) {
    s = DeviceState::failed;
    d = *fault_;
  }
  const bool changed = !reported_ || s != state_ || d != detail_;
  state_ = s;
  detail_ = d;
  reported_ = true;
  if (changed && active() && sink_.state_changed) sink_.state_changed(s, d);
}

}  // namespace postgate::adapters::usb
