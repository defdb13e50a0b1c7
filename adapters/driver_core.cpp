#include "adapters/driver_core.hpp"

#include <algorithm>

namespace postgate::adapters {

const core::Clock& system_clock() {
  static const core::SystemClock clock;
  return clock;
}

DriverCore::DriverCore(boost::asio::io_context& io, DeviceSink sink, const core::Clock& clock,
                       Redetail redetail)
    : sink_(std::move(sink)), clock_(clock), timer_(io), redetail_(redetail) {}

void DriverCore::halt() {
  stopped_ = true;
  timer_.cancel();
}

void DriverCore::start() {
  if (started_ || stopped_) return;
  started_ = true;
  open_link();
}

void DriverCore::stop() {
  if (stopped_) return;
  stopped_ = true;
  ++timer_seq_;
  timer_.cancel();
  close_link();
  if (link_state_ == DeviceState::attached) link_down();
  state_ = DeviceState::absent;
  detail_ = "stopped";
}

void DriverCore::wake_at(std::optional<core::TimePoint> at) {
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

bool DriverCore::emit(const core::WorkflowEvent& event) {
  if (!active()) return false;
  if (sink_.input) sink_.input(event);
  return active();
}

bool DriverCore::emit_error(const DeviceError& error) {
  if (!active()) return false;
  if (sink_.error) sink_.error(error);
  return active();
}

void DriverCore::set_protocol_fault(std::optional<std::string> detail) {
  if (fault_ == detail) return;
  fault_ = std::move(detail);
  report();
}

void DriverCore::on_link_state(DeviceState s, const std::string& detail) {
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
  if (s == DeviceState::attached && active() && link_ready()) link_up(clock_.now());
}

void DriverCore::on_link_bytes(std::span<const std::uint8_t> bytes) {
  if (!active()) return;
  bytes_in(bytes, clock_.now());
}

void DriverCore::report() {
  DeviceState s = link_state_;
  std::string d = link_detail_;
  if (s == DeviceState::attached && fault_) {
    s = DeviceState::failed;
    d = *fault_;
  }
  const bool new_detail =
      d != detail_ && (redetail_ == Redetail::always || s == DeviceState::failed);
  const bool changed = !reported_ || s != state_ || new_detail;
  state_ = s;
  detail_ = d;
  reported_ = true;
  if (changed && active() && sink_.state_changed) sink_.state_changed(s, d);
}

}  // namespace postgate::adapters
