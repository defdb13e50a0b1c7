#include "adapters/idcard/serial_idcard_reader.hpp"

namespace postgate::adapters::idcard {

SerialIdCardReader::SerialIdCardReader(boost::asio::io_context& io,
                                       SerialIdCardReaderSettings settings, DeviceSink sink,
                                       const core::Clock& clock)
    : SerialDriver(io, std::move(settings.link), std::move(sink), clock),
      session_(std::move(settings.session)) {}

SerialIdCardReader::~SerialIdCardReader() {
  stop();
}

void SerialIdCardReader::link_up(core::TimePoint now) {
  apply(session_.start(now));
}

void SerialIdCardReader::link_down() {
  session_.reset();
}

void SerialIdCardReader::bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) {
  apply(session_.on_bytes(bytes, now));
}

void SerialIdCardReader::timer_fired(core::TimePoint now) {
  apply(session_.on_timer(now));
}

void SerialIdCardReader::apply(SamSessionOutput out) {
  for (auto& frame : out.send) send(std::move(frame));
  for (const auto& e : out.errors) {
    if (!emit_error(e)) return;
  }
  if (out.card && card_handler_) {
    card_handler_(*out.card, out.photo);
    if (!active()) return;
  }
  for (const auto& ev : out.events) {
    if (!emit(ev)) return;
  }
  if (out.responding) {
    set_protocol_fault(*out.responding ? std::nullopt
                                       : std::optional<std::string>("reader not answering"));
    if (!active()) return;
  }
  wake_at(out.wake_at);
}

}  // namespace postgate::adapters::idcard
