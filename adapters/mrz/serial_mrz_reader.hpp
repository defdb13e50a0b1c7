#pragma once
// An MRZ reader on a serial line: lines (CR/LF, blank line or silence ends
// a zone) assembled into a TD3/TD1 zone, parsed with every check digit,
// giving IdentityRead, or IdentityReadFailed plus a DeviceError.
#include <boost/asio/io_context.hpp>

#include "adapters/mrz/codec/mrz_reader.hpp"
#include "adapters/transport/serial/serial_driver.hpp"

namespace postgate::adapters::mrz {

inline serial::LinkSettings serial_mrz_link_defaults() {
  serial::LinkSettings s;
  s.baud = 9600;
  return s;
}

struct SerialMrzReaderSettings {
  serial::LinkSettings link = serial_mrz_link_defaults();  // path from config
  MrzSerialSettings reader;  // line decoding (serial_line_defaults()) and assembly
};

class SerialMrzReader final : public serial::SerialDriver {
 public:
  SerialMrzReader(boost::asio::io_context& io, SerialMrzReaderSettings settings, DeviceSink sink,
                  const core::Clock& clock = serial::system_clock());
  ~SerialMrzReader() override;

 private:
  void link_up(core::TimePoint now) override;
  void link_down() override;
  void bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) override;
  void timer_fired(core::TimePoint now) override;
  void apply(MrzOutput out);

  MrzSerialReader reader_;
};

}  // namespace postgate::adapters::mrz
