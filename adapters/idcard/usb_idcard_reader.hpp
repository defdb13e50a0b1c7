#pragma once
// A resident ID-card reader on USB bulk endpoints (SAM readers such as the
// 0400:C35A family): the SAM session (find -> select -> read at the poll
// interval) over a UsbLink. Each command frame is written to the OUT
// endpoint; the reply is read from the IN endpoint until the frame its
// length field announces is complete (or the read times out, which the
// session's own reply timeout then handles). One transfer is in flight at a
// time, like the session's one outstanding command.
//
// Readers differ (DOMAIN.md section 2): most take the whole frame on one OUT
// endpoint and answer on one IN endpoint; SAM_V readers split each frame, the
// 7-byte head (preamble and length) on one endpoint and the body on another.
// Set the *_body_endpoint settings for those.
//
// Unplugging loses the exchange and the card (session.reset()); when the
// reader comes back the session starts over and a card lying on it is read
// as a new placement.
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

#include "adapters/idcard/codec/sam_session.hpp"
#include "adapters/idcard/session_output.hpp"
#include "adapters/transport/usb/usb_driver.hpp"

namespace postgate::adapters::idcard {

struct UsbIdCardReaderSettings {
  usb::UsbLinkSettings link;  // match (VID:PID, serial, port) and interface from config
  std::uint8_t out_endpoint = 0x02;
  std::uint8_t in_endpoint = 0x81;
  // SAM_V split endpoints (0x06 and 0x85 on those readers): when set, the
  // frame head goes to/comes from the endpoints above and the body these.
  std::optional<std::uint8_t> out_body_endpoint;
  std::optional<std::uint8_t> in_body_endpoint;
  // Buffer of each bulk IN transfer (a read reply is 1295 bytes, 2321 with
  // the fingerprint block); a multiple of the endpoint's packet size.
  std::size_t in_transfer_size = 4096;
  SamSessionSettings session;
};

class UsbIdCardReader final : public usb::UsbDriver {
 public:
  UsbIdCardReader(boost::asio::io_context& io, usb::UsbContext& ctx,
                  UsbIdCardReaderSettings settings, DeviceSink sink,
                  const core::Clock& clock = usb::system_clock());
  ~UsbIdCardReader() override;

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
  void send_next();
  void read_reply();
  void on_read(std::uint64_t gen, core::Result<std::vector<std::uint8_t>> r);
  // Bytes still missing from the reply frame begun in reply_ (0 when it is
  // complete; nullopt when its head has not arrived yet).
  std::optional<std::size_t> missing() const;

  UsbIdCardReaderSettings settings_;
  SamSession session_;
  CardHandler card_handler_;
  std::deque<Bytes> out_queue_;
  Bytes reply_;  // bytes of the reply being read
  bool writing_ = false;
  bool reading_ = false;
  bool expecting_ = false;   // a command was written and its reply is not complete
  bool long_reply_ = false;  // that command was a card read (read_timeout applies)
  std::uint64_t gen_ = 0;    // bumped on link loss: late completions are ignored
};

}  // namespace postgate::adapters::idcard
