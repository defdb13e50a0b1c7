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
  deliver(out, card_handler_, emitter());
}

}  // namespace postgate::adapters::idcard
