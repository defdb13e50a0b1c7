#include "adapters/idcard/codec/sam_session.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace postgate::adapters::idcard {

namespace {

// Select answers 8 bytes (the card's serial); anything much longer is a
// stray reply (a late read) and not the select's.
constexpr std::size_t kMaxSelectData = 16;

std::size_t be16(const Bytes& b, std::size_t at) {
  return (static_cast<std::size_t>(b[at]) << 8) | b[at + 1];
}

std::string hex(std::uint8_t v) {
  static constexpr char digits[] = "0123456789ABCDEF";
  return {digits[v >> 4], digits[v & 0x0F]};
}

std::string status_detail(std::string_view what, const SamReply& reply) {
  const auto status = reply.status();
  return std::string(what) + ": " +
         (status ? std::string(describe(*status)) : std::string("unknown status")) + " (SW3 " +
         hex(reply.sw3) + ")";
}

// What the counter screen says for a failed read.
std::string reason_for(std::string_view code) {
  if (code == text_error::kExpired) return "card expired";
  if (code == text_error::kNotYetValid) return "card not yet valid";
  if (code == text_error::kUnknownCardType) return "card type not supported";
  if (code == "card_auth_failed") return "card could not be authenticated, place it again";
  return "card could not be read, place it again";
}

// Statuses that end a read for good: retrying the same card gives the same.
bool transient(SamStatus s) {
  switch (s) {
    case SamStatus::unknown_card_type:
    case SamStatus::bad_command:
    case SamStatus::unauthorised:
      return false;
    default:
      return true;
  }
}

}  // namespace

SamSession::SamSession(SamSessionSettings settings) : settings_(std::move(settings)) {}

void SamSession::reset() {
  decoder_.reset();
  card_.reset();
  pending_serial_.reset();
  phase_ = Phase::stopped;
  responding_ = true;
}

SamSessionOutput SamSession::start(core::TimePoint now) {
  reset();
  SamSessionOutput out;
  begin_cycle(out, now);
  finish(out);
  return out;
}

SamSessionOutput SamSession::on_bytes(std::span<const std::uint8_t> bytes, core::TimePoint now) {
  SamSessionOutput out;
  if (phase_ == Phase::stopped) return out;
  decoder_.feed(bytes);
  while (auto r = decoder_.next()) {
    if (!*r) {
      const core::Error& e = r->error();
      const bool garbage = e.code == frame_error::kGarbage;
      // Garbage may precede the real reply: keep waiting. A broken frame was
      // the reply: the exchange failed.
      if (!garbage && phase_ == Phase::await_read) {
        read_failed(out, e.code, "read: " + e.message, true);
        end_cycle(out, now);
      } else {
        out.errors.push_back(DeviceError{e.code, e.message});
        if (!garbage && phase_ != Phase::idle) end_cycle(out, now);
      }
      continue;
    }
    set_responding(out, true);
    handle_reply(out, std::move(**r), now);
  }
  advance(out, now);
  finish(out);
  return out;
}

SamSessionOutput SamSession::on_timer(core::TimePoint now) {
  SamSessionOutput out;
  if (phase_ == Phase::stopped) return out;
  advance(out, now);
  finish(out);
  return out;
}

void SamSession::send(SamSessionOutput& out, Bytes frame, Phase phase, core::TimePoint now) {
  out.send.push_back(std::move(frame));
  phase_ = phase;
  deadline_ = now + (phase == Phase::await_read ? settings_.read_timeout : settings_.reply_timeout);
}

void SamSession::begin_cycle(SamSessionOutput& out, core::TimePoint now) {
  cycle_started_ = now;
  pending_serial_.reset();
  send(out, find_card_command(), Phase::await_find, now);
}

void SamSession::end_cycle(SamSessionOutput&, core::TimePoint now) {
  phase_ = Phase::idle;
  next_poll_ = std::max(cycle_started_ + settings_.poll_interval, now);
}

void SamSession::advance(SamSessionOutput& out, core::TimePoint now) {
  if (phase_ != Phase::idle && phase_ != Phase::stopped && now >= deadline_) {
    const bool partial = decoder_.mid_frame();
    decoder_.reset();
    const std::string code = partial ? "truncated" : "timeout";
    if (phase_ == Phase::await_read) {
      read_failed(out, code, partial ? "read: reply cut short" : "read: no reply", true);
    } else if (partial || responding_) {
      // One error per run of silence, not one per poll.
      out.errors.push_back(
          DeviceError{code, std::string(phase_ == Phase::await_find ? "find" : "select") +
                                (partial ? ": reply cut short" : ": no reply")});
    }
    // A card that does not answer a read is the card's problem, not the
    // reader's: only silence to find and select says the reader is gone.
    if (!partial && phase_ != Phase::await_read) set_responding(out, false);
    end_cycle(out, now);
  }
  if (phase_ == Phase::idle && now >= next_poll_) begin_cycle(out, now);
}

void SamSession::set_responding(SamSessionOutput& out, bool value) {
  if (responding_ == value) return;
  responding_ = value;
  out.responding = value;
}

void SamSession::finish(SamSessionOutput& out) const {
  switch (phase_) {
    case Phase::stopped:
      out.wake_at.reset();
      break;
    case Phase::idle:
      out.wake_at = next_poll_;
      break;
    default:
      out.wake_at = deadline_;
      break;
  }
}

void SamSession::handle_reply(SamSessionOutput& out, SamReply reply, core::TimePoint now) {
  switch (phase_) {
    case Phase::await_find:
      handle_find(out, reply, now);
      return;
    case Phase::await_select:
      handle_select(out, reply, now);
      return;
    case Phase::await_read:
      handle_read(out, reply, now);
      return;
    case Phase::idle:
    case Phase::stopped:
      break;
  }
  out.errors.push_back(DeviceError{"unexpected_reply", status_detail("no command pending", reply)});
}

void SamSession::no_card(SamSessionOutput&) {
  pending_serial_.reset();
  if (card_ && ++card_->misses >= settings_.absent_polls) card_.reset();
}

void SamSession::handle_find(SamSessionOutput& out, const SamReply& reply, core::TimePoint now) {
  const auto status = reply.status();
  if (status == SamStatus::find_success) {
    send(out, select_card_command(), Phase::await_select, now);
    return;
  }
  if (status == SamStatus::no_card) {
    no_card(out);
    end_cycle(out, now);
    return;
  }
  if (status == SamStatus::success) {
    // Not an answer to find: a stray reply of an earlier exchange.
    out.errors.push_back(DeviceError{"unexpected_reply", status_detail("find", reply)});
    return;
  }
  out.errors.push_back(DeviceError{status ? std::string(error_code(*status)) : "unknown_status",
                                   status_detail("find", reply)});
  end_cycle(out, now);
}

void SamSession::handle_select(SamSessionOutput& out, const SamReply& reply, core::TimePoint now) {
  const auto status = reply.status();
  if (status == SamStatus::success && reply.data.size() <= kMaxSelectData) {
    std::optional<std::array<std::uint8_t, 8>> serial;
    if (reply.data.size() == 8) {
      serial.emplace();
      std::copy(reply.data.begin(), reply.data.end(), serial->begin());
    }
    if (!card_) {
      card_ = Card{};
      card_->serial = serial;
    }
    card_->misses = 0;
    pending_serial_ = serial;
    const bool same_serial =
        !settings_.compare_serial || !serial || !card_->serial || *serial == *card_->serial;
    if (card_->handled && same_serial) {
      end_cycle(out, now);
      return;
    }
    const bool fingerprint = settings_.read_command == ReadCommand::text_photo_fingerprint;
    send(out, fingerprint ? read_text_photo_fingerprint_command() : read_text_photo_command(),
         Phase::await_read, now);
    return;
  }
  if (status == SamStatus::select_failed || status == SamStatus::no_card) {
    no_card(out);
    end_cycle(out, now);
    return;
  }
  if (status == SamStatus::success || status == SamStatus::find_success) {
    out.errors.push_back(DeviceError{"unexpected_reply", status_detail("select", reply)});
    return;
  }
  out.errors.push_back(DeviceError{status ? std::string(error_code(*status)) : "unknown_status",
                                   status_detail("select", reply)});
  end_cycle(out, now);
}

void SamSession::handle_read(SamSessionOutput& out, const SamReply& reply, core::TimePoint now) {
  const auto status = reply.status();
  if (status == SamStatus::success || status == SamStatus::no_content) {
    const bool fingerprint = settings_.read_command == ReadCommand::text_photo_fingerprint;
    const std::size_t lengths = fingerprint ? 6 : 4;
    if (reply.data.size() <= kMaxSelectData) {
      // Too short to be a read: a stray reply (a late select). Keep waiting.
      out.errors.push_back(DeviceError{"unexpected_reply", status_detail("read", reply)});
      return;
    }
    const std::size_t text_len = be16(reply.data, 0);
    const std::size_t photo_len = be16(reply.data, 2);
    const std::size_t fp_len = fingerprint ? be16(reply.data, 4) : 0;
    const std::size_t want = lengths + text_len + photo_len + fp_len;
    if (reply.data.size() != want) {
      read_failed(out, reply.data.size() < want ? "truncated" : "bad_length",
                  "read: data is " + std::to_string(reply.data.size()) + " bytes, lengths say " +
                      std::to_string(want),
                  true);
      end_cycle(out, now);
      return;
    }
    const std::span<const std::uint8_t> text(reply.data.data() + lengths, text_len);
    auto card = decode_card_text(text, local_date(now, settings_.utc_offset), settings_.text);
    if (!card) {
      const core::Error& e = card.error();
      const bool own_code = e.code == text_error::kExpired || e.code == text_error::kNotYetValid ||
                            e.code == text_error::kUnknownCardType;
      read_failed(out, own_code ? e.code : std::string(text_error::kBadText),
                  "text: " + e.code + (e.field.empty() ? "" : " " + e.field) + ": " + e.message,
                  false);
      end_cycle(out, now);
      return;
    }
    if (card_->serial != pending_serial_ && pending_serial_) card_->serial = pending_serial_;
    const bool same_card = card_->number == card->document.number;
    card_->number = card->document.number;
    card_->handled = true;
    card_->attempts = 0;
    card_->failure_code.clear();
    if (!same_card) {
      out.events.emplace_back(core::IdentityRead{card->document});
      if (settings_.keep_photo)
        out.photo =
            Bytes(reply.data.begin() + static_cast<std::ptrdiff_t>(lengths + text_len),
                  reply.data.begin() + static_cast<std::ptrdiff_t>(lengths + text_len + photo_len));
      out.card = std::move(*card);
    }
    end_cycle(out, now);
    return;
  }
  if (status == SamStatus::find_success) {
    out.errors.push_back(DeviceError{"unexpected_reply", status_detail("read", reply)});
    return;
  }
  read_failed(out, status ? std::string(error_code(*status)) : "unknown_status",
              status_detail("read", reply), status ? transient(*status) : true);
  end_cycle(out, now);
}

void SamSession::read_failed(SamSessionOutput& out, std::string code, std::string detail,
                             bool is_transient) {
  if (!card_) {  // cannot happen: a read is only sent for a selected card
    out.errors.push_back(DeviceError{std::move(code), std::move(detail)});
    return;
  }
  if (card_->handled) {
    // A re-read because the serial changed. The same failure as before is
    // the same unreadable card: say nothing again.
    if (card_->number.empty() && card_->failure_code == code) {
      if (pending_serial_) card_->serial = pending_serial_;
      return;
    }
    card_->handled = false;
    card_->attempts = 0;
  }
  out.errors.push_back(DeviceError{code, std::move(detail)});
  if (is_transient && ++card_->attempts < settings_.read_attempts) return;
  card_->handled = true;
  card_->failure_code = code;
  if (pending_serial_) card_->serial = pending_serial_;
  out.events.emplace_back(core::IdentityReadFailed{reason_for(code)});
}

}  // namespace postgate::adapters::idcard
