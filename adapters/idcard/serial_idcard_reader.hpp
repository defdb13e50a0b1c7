#pragma once
// A resident ID-card reader on a serial line (a UART reader, or a USB reader
// whose bridge shows up as /dev/ttyUSB*): the SAM session (find -> select ->
// read at the poll interval) over a self-reopening SerialLink. Unplugging
// mid-frame loses that frame and the card; when the reader comes back the
// session starts over and the card on it is read as a new placement.
#include <functional>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "adapters/idcard/codec/sam_session.hpp"
#include "adapters/idcard/session_output.hpp"
#include "adapters/transport/serial/serial_driver.hpp"

namespace postgate::adapters::idcard {

struct SerialIdCardReaderSettings {
  serial::LinkSettings link;  // path from config; SAM readers default to 115200 8N1
  SamSessionSettings session;
};

class SerialIdCardReader final : public serial::SerialDriver {
 public:
  SerialIdCardReader(boost::asio::io_context& io, SerialIdCardReaderSettings settings,
                     DeviceSink sink, const core::Clock& clock = serial::system_clock());
  ~SerialIdCardReader() override;

  // Called with each card read (see session_output.hpp). Optional.
  using CardHandler = idcard::CardHandler;
  void on_card(CardHandler handler) { card_handler_ = std::move(handler); }

  const SamSession& session() const { return session_; }

 private:
  void link_up(core::TimePoint now) override;
  void link_down() override;
  void bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) override;
  void timer_fired(core::TimePoint now) override;
  void apply(SamSessionOutput out);

  SamSession session_;
  CardHandler card_handler_;
};

}  // namespace postgate::adapters::idcard
