#pragma once
// A resident ID-card reader that carries the SAM protocol in HID reports
// instead of bulk transfers: the SAM session (find -> select -> read at the
// poll interval) over a UsbLink, with the generic report framing below.
// DOMAIN.md publishes no vendor framing, so every parameter is a setting.
//
// Host -> reader: each command frame is cut into fixed-size reports of
// `report_size` bytes: [report id, when configured] + up to
// report_size - 1 (with id) or report_size (without) frame bytes + zero
// padding to the report size. The reports go out one after another on the
// interrupt OUT endpoint, or, on readers without one (out_endpoint 0), as
// HID SET_REPORT control requests (Output report, wIndex = interface).
//
// Reader -> host: interrupt IN reports of the same shape. The report id is
// checked and stripped, the payloads are concatenated, and the frame's own
// length field says where the reply ends; the padding after its checksum is
// dropped, never given to the frame decoder. Zero bytes before a reply's
// preamble (idle reports) are dropped too; any other bytes reach the decoder,
// which reports them and resynchronises on the preamble.
//
// One transfer is in flight at a time (the session has one outstanding
// command, and umockdev replays one URB at a time), so the IN endpoint is
// read on request, one report per transfer, and never continuously.
//
// Unplugging loses the exchange and the card (session.reset()); when the
// reader comes back the session starts over and a card lying on it is read
// as a new placement.
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

#include "adapters/idcard/codec/sam_session.hpp"
#include "adapters/idcard/session_output.hpp"
#include "adapters/transport/usb/usb_driver.hpp"
#include "core/result.hpp"

namespace postgate::adapters::idcard {

struct UsbHidIdCardReaderSettings {
  // match (VID:PID, serial, port) and interface from config. The driver
  // reads the IN endpoint on request: link.continuous_in_endpoint is ignored.
  usb::UsbLinkSettings link;
  // Interrupt OUT endpoint; 0 = no OUT endpoint: send each report with a
  // HID SET_REPORT (Output) request on the control endpoint.
  std::uint8_t out_endpoint = 0x02;
  std::uint8_t in_endpoint = 0x81;
  // Bytes of each report on the wire, the report id byte included when there
  // is one (64 = the full-speed interrupt packet: 64 frame bytes per report
  // without an id, 63 with one).
  std::size_t report_size = 64;
  // Leading report id byte of every report, in both directions (unset: the
  // reader's reports carry no id).
  std::optional<std::uint8_t> report_id;
  SamSessionSettings session;
};

// Settings a reader cannot work with (a report with no room for frame
// bytes, an absurd size, an OUT endpoint with the IN direction bit): for
// config validation. A driver started with them reports state failed.
core::Status check(const UsbHidIdCardReaderSettings& settings);

class UsbHidIdCardReader final : public usb::UsbDriver {
 public:
  UsbHidIdCardReader(boost::asio::io_context& io, usb::UsbContext& ctx,
                     UsbHidIdCardReaderSettings settings, DeviceSink sink,
                     const core::Clock& clock = usb::system_clock());
  ~UsbHidIdCardReader() override;

  // Called with each card read (see session_output.hpp). Optional.
  using CardHandler = idcard::CardHandler;
  void on_card(CardHandler handler) { card_handler_ = std::move(handler); }

  const SamSession& session() const { return session_; }

  // Frame bytes per report (report_size less the report id byte).
  std::size_t payload_size() const;
  // The reports a frame is sent as (for tests and test peers).
  std::vector<Bytes> reports_for(std::span<const std::uint8_t> frame) const;

 private:
  void link_up(core::TimePoint now) override;
  void link_down() override;
  void bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) override;
  void timer_fired(core::TimePoint now) override;
  void apply(SamSessionOutput out);
  void send_next();
  void write_report();
  void read_report();
  void on_report(std::uint64_t gen, core::Result<std::vector<std::uint8_t>> r);
  void finish_reply();

  UsbHidIdCardReaderSettings settings_;
  core::Status valid_;
  SamSession session_;
  CardHandler card_handler_;
  std::deque<Bytes> out_queue_;
  std::deque<Bytes> reports_out_;  // reports of the command being written
  Bytes reply_;                    // payload bytes of the reply being read
  std::size_t fed_ = 0;            // bytes of reply_ already given to the session
  std::size_t received_ = 0;       // report bytes read for this reply (bounds it)
  bool writing_ = false;
  bool reading_ = false;
  bool expecting_ = false;   // a command was written and its reply is not complete
  bool long_reply_ = false;  // that command was a card read (read_timeout applies)
  std::uint64_t gen_ = 0;    // bumped on link loss: late completions are ignored
};

}  // namespace postgate::adapters::idcard
