#include "adapters/idcard/usb_idcard_reader.hpp"

#include <algorithm>

namespace postgate::adapters::idcard {

namespace {
constexpr std::size_t kHead = kPreamble.size() + 2;  // preamble + 2-byte length
}  // namespace

UsbIdCardReader::UsbIdCardReader(boost::asio::io_context& io, usb::UsbContext& ctx,
                                 UsbIdCardReaderSettings settings, DeviceSink sink,
                                 const core::Clock& clock)
    : UsbDriver(io, ctx, settings.link, std::move(sink), clock),
      settings_(std::move(settings)),
      session_(settings_.session) {}

UsbIdCardReader::~UsbIdCardReader() {
  stop();
}

void UsbIdCardReader::link_up(core::TimePoint now) {
  apply(session_.start(now));
}

void UsbIdCardReader::link_down() {
  ++gen_;
  session_.reset();
  out_queue_.clear();
  reply_.clear();
  writing_ = reading_ = expecting_ = false;
}

// Bulk readers have no continuous endpoint; nothing arrives here.
void UsbIdCardReader::bytes_in(std::span<const std::uint8_t>, core::TimePoint) {}

void UsbIdCardReader::timer_fired(core::TimePoint now) {
  apply(session_.on_timer(now));
}

void UsbIdCardReader::apply(SamSessionOutput out) {
  for (auto& frame : out.send) out_queue_.push_back(std::move(frame));
  if (deliver(out, card_handler_, emitter())) send_next();
}

void UsbIdCardReader::send_next() {
  if (writing_ || reading_ || out_queue_.empty() || !active() || !usb().is_open()) return;
  Bytes frame = std::move(out_queue_.front());
  out_queue_.pop_front();
  // A card read takes the card seconds; everything else answers at once.
  long_reply_ = frame.size() > kHead && frame[kHead] == cmd::kRead;
  // A new command: whatever was left of an earlier reply is abandoned.
  reply_.clear();
  expecting_ = false;
  writing_ = true;
  auto gen = gen_;
  auto done = [this, gen, life = life()](core::Status st) {
    if (life.expired() || gen != gen_) return;
    writing_ = false;
    if (!st) {
      if (st.error().code != "no_device")
        emit_error(DeviceError{"usb_" + st.error().code, st.error().message});
      return;  // the session's reply timeout takes it from here
    }
    if (!out_queue_.empty()) {
      send_next();
      return;
    }
    expecting_ = true;
    read_reply();
  };
  if (settings_.out_body_endpoint && frame.size() > kHead) {
    Bytes body(frame.begin() + kHead, frame.end());
    frame.resize(kHead);
    usb().write(settings_.out_endpoint, std::move(frame),
                [this, gen, life = life(), body = std::move(body), done](core::Status st) mutable {
                  if (life.expired() || gen != gen_) return;
                  if (!st) {
                    done(std::move(st));
                    return;
                  }
                  usb().write(*settings_.out_body_endpoint, std::move(body), done);
                });
    return;
  }
  usb().write(settings_.out_endpoint, std::move(frame), done);
}

std::optional<std::size_t> UsbIdCardReader::missing() const {
  auto it = std::search(reply_.begin(), reply_.end(), kPreamble.begin(), kPreamble.end());
  if (it == reply_.end()) return std::nullopt;
  auto at = static_cast<std::size_t>(it - reply_.begin());
  if (reply_.size() < at + kHead) return std::nullopt;
  std::size_t len = (std::size_t{reply_[at + 5]} << 8) | reply_[at + 6];
  std::size_t have = reply_.size() - at - kHead;
  return have >= len ? 0 : len - have;
}

void UsbIdCardReader::read_reply() {
  if (reading_ || writing_ || !expecting_ || !active() || !usb().is_open()) return;
  reading_ = true;
  // The IN transfer gives up with the session, so a reader that went quiet
  // does not hold back the session's next command.
  auto timeout = long_reply_ ? settings_.session.read_timeout : settings_.session.reply_timeout;
  std::uint8_t ep = settings_.in_endpoint;
  std::size_t size = settings_.in_transfer_size;
  // Split readers: once the head is in, the body comes from the other endpoint.
  if (settings_.in_body_endpoint) {
    if (auto m = missing(); m && *m > 0) {
      ep = *settings_.in_body_endpoint;
      size = std::max<std::size_t>(64, (*m + 63) / 64 * 64);
    }
  }
  usb().read(ep, size, timeout,
             [this, gen = gen_, life = life()](core::Result<std::vector<std::uint8_t>> r) {
               if (life.expired() || gen != gen_) return;
               on_read(gen, std::move(r));
             });
}

void UsbIdCardReader::on_read(std::uint64_t gen, core::Result<std::vector<std::uint8_t>> r) {
  reading_ = false;
  if (!r) {
    expecting_ = false;
    // A timeout is the session's to report (it knows which command hung).
    if (r.error().code != "timeout" && r.error().code != "no_device")
      emit_error(DeviceError{"usb_" + r.error().code, r.error().message});
    send_next();
    return;
  }
  reply_.insert(reply_.end(), r->begin(), r->end());
  auto m = missing();
  // A reply longer than any frame without a complete one is garbage: give up
  // reading and let the session judge the bytes.
  const bool complete = (m && *m == 0) || reply_.size() > 2 * kMaxReplyLength + kHead;
  if (complete) {
    expecting_ = false;
    reply_.clear();
  }
  apply(session_.on_bytes(*r, now()));
  if (!active() || gen != gen_) return;
  if (expecting_ && !complete) read_reply();
  send_next();
}

}  // namespace postgate::adapters::idcard
