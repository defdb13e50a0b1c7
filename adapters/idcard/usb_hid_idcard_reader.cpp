#include "adapters/idcard/usb_hid_idcard_reader.hpp"

#include <algorithm>
#include <cstdio>

namespace postgate::adapters::idcard {

namespace {
constexpr std::size_t kHead = kPreamble.size() + 2;  // preamble + 2-byte length
// Larger than any HID report a full- or high-speed reader sends.
constexpr std::size_t kMaxReportSize = 4096;
// HID class request SET_REPORT (HID 1.11, 7.2.2), report type Output.
constexpr std::uint8_t kHidSetReport = 0x09;
constexpr std::uint16_t kHidOutputReport = 0x02;
constexpr std::uint8_t kClassInterfaceOut = 0x21;  // host-to-device, class, interface

std::string hex2(std::uint8_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%02x", static_cast<unsigned>(v));
  return b;
}
}  // namespace

core::Status check(const UsbHidIdCardReaderSettings& s) {
  const std::size_t id = s.report_id ? 1 : 0;
  if (s.report_size <= id || s.report_size > kMaxReportSize)
    return core::fail("invalid", "report_size",
                      "report_size " + std::to_string(s.report_size) + " must be " +
                          std::to_string(id + 1) + ".." + std::to_string(kMaxReportSize));
  if (s.out_endpoint & 0x80)
    return core::fail("invalid", "out_endpoint",
                      "out_endpoint " + hex2(s.out_endpoint) + " is an IN endpoint");
  if (!(s.in_endpoint & 0x80))
    return core::fail("invalid", "in_endpoint",
                      "in_endpoint " + hex2(s.in_endpoint) + " is an OUT endpoint");
  return {};
}

UsbHidIdCardReader::UsbHidIdCardReader(boost::asio::io_context& io, usb::UsbContext& ctx,
                                       UsbHidIdCardReaderSettings settings, DeviceSink sink,
                                       const core::Clock& clock)
    : UsbDriver(
          io, ctx,
          [&] {
            // Reports are read on request only (see the header).
            auto link = settings.link;
            link.continuous_in_endpoint.reset();
            return link;
          }(),
          std::move(sink), clock),
      settings_(std::move(settings)),
      valid_(check(settings_)),
      session_(settings_.session) {}

UsbHidIdCardReader::~UsbHidIdCardReader() {
  stop();
}

std::size_t UsbHidIdCardReader::payload_size() const {
  const std::size_t id = settings_.report_id ? 1 : 0;
  return settings_.report_size > id ? settings_.report_size - id : 0;
}

std::vector<Bytes> UsbHidIdCardReader::reports_for(std::span<const std::uint8_t> frame) const {
  std::vector<Bytes> out;
  const std::size_t n = payload_size();
  if (n == 0) return out;
  for (std::size_t at = 0; at < frame.size(); at += n) {
    Bytes r;
    r.reserve(settings_.report_size);
    if (settings_.report_id) r.push_back(*settings_.report_id);
    auto part = frame.subspan(at, std::min(n, frame.size() - at));
    r.insert(r.end(), part.begin(), part.end());
    r.resize(settings_.report_size, 0);
    out.push_back(std::move(r));
  }
  return out;
}

void UsbHidIdCardReader::link_up(core::TimePoint now) {
  if (!valid_) {
    set_protocol_fault(valid_.error().message);
    return;
  }
  apply(session_.start(now));
}

void UsbHidIdCardReader::link_down() {
  ++gen_;
  session_.reset();
  out_queue_.clear();
  reports_out_.clear();
  reply_.clear();
  fed_ = received_ = 0;
  writing_ = reading_ = expecting_ = false;
}

// The IN endpoint is read on request; nothing arrives here.
void UsbHidIdCardReader::bytes_in(std::span<const std::uint8_t>, core::TimePoint) {}

void UsbHidIdCardReader::timer_fired(core::TimePoint now) {
  apply(session_.on_timer(now));
}

void UsbHidIdCardReader::apply(SamSessionOutput out) {
  for (auto& frame : out.send) out_queue_.push_back(std::move(frame));
  if (deliver(out, card_handler_, emitter())) send_next();
}

void UsbHidIdCardReader::send_next() {
  if (writing_ || reading_ || out_queue_.empty() || !active() || !usb().is_open()) return;
  Bytes frame = std::move(out_queue_.front());
  out_queue_.pop_front();
  // A card read takes the card seconds; everything else answers at once.
  long_reply_ = frame.size() > kHead && frame[kHead] == cmd::kRead;
  // A new command: whatever was left of an earlier reply is abandoned.
  finish_reply();
  expecting_ = false;
  auto reports = reports_for(frame);
  reports_out_.assign(std::make_move_iterator(reports.begin()),
                      std::make_move_iterator(reports.end()));
  writing_ = true;
  write_report();
}

// Writes the next report of the command; after the last one, reads the reply.
void UsbHidIdCardReader::write_report() {
  if (reports_out_.empty()) {
    writing_ = false;
    if (!out_queue_.empty()) {
      send_next();
      return;
    }
    expecting_ = true;
    read_report();
    return;
  }
  Bytes report = std::move(reports_out_.front());
  reports_out_.pop_front();
  auto done = [this, gen = gen_, life = life()](core::Status st) {
    if (life.expired() || gen != gen_) return;
    if (!st) {
      writing_ = false;
      reports_out_.clear();
      if (st.error().code != "no_device")
        emit_error(DeviceError{"usb_" + st.error().code, st.error().message});
      return;  // the session's reply timeout takes it from here
    }
    write_report();
  };
  if (settings_.out_endpoint == 0) {
    const auto value =
        static_cast<std::uint16_t>((kHidOutputReport << 8) | settings_.report_id.value_or(0));
    usb().control_out(kClassInterfaceOut, kHidSetReport, value,
                      static_cast<std::uint16_t>(settings_.link.interface_number),
                      std::move(report), std::move(done));
    return;
  }
  usb().write(settings_.out_endpoint, std::move(report), std::move(done));
}

void UsbHidIdCardReader::read_report() {
  if (reading_ || writing_ || !expecting_ || !active() || !usb().is_open()) return;
  reading_ = true;
  // The IN transfer gives up with the session, so a reader that went quiet
  // does not hold back the session's next command.
  auto timeout = long_reply_ ? settings_.session.read_timeout : settings_.session.reply_timeout;
  usb().read(settings_.in_endpoint, settings_.report_size, timeout,
             [this, gen = gen_, life = life()](core::Result<std::vector<std::uint8_t>> r) {
               if (life.expired() || gen != gen_) return;
               on_report(gen, std::move(r));
             });
}

void UsbHidIdCardReader::finish_reply() {
  reply_.clear();
  fed_ = 0;
  received_ = 0;
}

void UsbHidIdCardReader::on_report(std::uint64_t gen, core::Result<std::vector<std::uint8_t>> r) {
  reading_ = false;
  if (!r) {
    expecting_ = false;
    finish_reply();
    // A timeout is the session's to report (it knows which command hung).
    if (r.error().code != "timeout" && r.error().code != "no_device")
      emit_error(DeviceError{"usb_" + r.error().code, r.error().message});
    send_next();
    return;
  }
  received_ += std::max<std::size_t>(r->size(), 1);
  std::span<const std::uint8_t> payload(*r);
  if (settings_.report_id) {
    if (payload.empty() || payload[0] != *settings_.report_id) {
      // Not a report of ours (another report id, or an empty one): skipped.
      const bool go_on = emit_error(DeviceError{
          "hid_report_id", payload.empty() ? std::string("empty report")
                                           : "report id " + hex2(payload[0]) + ", expected " +
                                                 hex2(*settings_.report_id)});
      if (!go_on || gen != gen_) return;
      payload = {};
    } else {
      payload = payload.subspan(1);
    }
  }
  // Idle reports and padding before the reply begins say nothing.
  if (reply_.empty()) {
    while (!payload.empty() && payload.front() == 0) payload = payload.subspan(1);
  }
  reply_.insert(reply_.end(), payload.begin(), payload.end());

  // Where the reply frame ends, once its head is in.
  std::size_t end = reply_.size();
  bool complete = false;
  auto it = std::search(reply_.begin(), reply_.end(), kPreamble.begin(), kPreamble.end());
  if (it != reply_.end()) {
    const auto at = static_cast<std::size_t>(it - reply_.begin());
    if (reply_.size() >= at + kHead) {
      const std::size_t len = (std::size_t{reply_[at + 5]} << 8) | reply_[at + 6];
      if (len < kMinReplyLength || len > kMaxReplyLength) {
        complete = true;  // an impossible length: the decoder says so
      } else if (reply_.size() >= at + kHead + len) {
        end = at + kHead + len;  // the rest of the report is padding
        complete = true;
      }
    }
  }
  // Reports that never make a frame are garbage: stop reading and let the
  // session judge what came.
  if (received_ > 2 * kMaxReplyLength + kHead) complete = true;

  Bytes chunk(reply_.begin() + static_cast<std::ptrdiff_t>(fed_),
              reply_.begin() + static_cast<std::ptrdiff_t>(end));
  fed_ = end;
  if (complete) {
    expecting_ = false;
    finish_reply();
  }
  if (!chunk.empty()) apply(session_.on_bytes(chunk, now()));
  if (!active() || gen != gen_) return;
  if (expecting_ && !complete) read_report();
  send_next();
}

}  // namespace postgate::adapters::idcard
