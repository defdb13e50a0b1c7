#include "adapters/mrz/serial_mrz_reader.hpp"

#include "adapters/mrz/zone_output.hpp"

namespace postgate::adapters::mrz {

SerialMrzReader::SerialMrzReader(boost::asio::io_context& io, SerialMrzReaderSettings settings,
                                 DeviceSink sink, const core::Clock& clock)
    : SerialDriver(io, std::move(settings.link), std::move(sink), clock),
      reader_(std::move(settings.reader)) {}

SerialMrzReader::~SerialMrzReader() {
  stop();
}

void SerialMrzReader::link_up(core::TimePoint) {}

void SerialMrzReader::link_down() {
  reader_.reset();
}

void SerialMrzReader::bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) {
  apply(reader_.on_bytes(bytes, now));
}

void SerialMrzReader::timer_fired(core::TimePoint now) {
  apply(reader_.on_timer(now));
}

void SerialMrzReader::apply(MrzOutput out) {
  if (deliver(out, emitter())) wake_at(reader_.wake_at());
}

}  // namespace postgate::adapters::mrz
