#include "uplink/evidence_sender.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

namespace postgate::uplink {

namespace {

// A header line is a few hundred bytes; the bucket is asked for the chunk
// plus this before reading it, and charged the real payload size after.
constexpr std::size_t kHeaderEstimate = 600;
// After a failed read or publish: not at once, not for long.
constexpr Millis kRetryPause{1'000};
constexpr int kMaxReadFailures = 3;

void sooner(std::optional<Millis>& wake, std::chrono::steady_clock::duration d) {
  auto ms = std::chrono::ceil<Millis>(d);
  if (ms.count() < 1) ms = Millis(1);
  if (!wake || ms < *wake) wake = ms;
}

}  // namespace

EvidenceSender::EvidenceSender(core::EvidenceOutbox& outbox, EvidenceSettings settings,
                               Publish publish, Notify notify, SteadyTime now)
    : outbox_(outbox),
      settings_(settings),
      publish_(std::move(publish)),
      notify_(std::move(notify)),
      bucket_(settings.bytes_per_s, now) {
  settings_.chunk_bytes = std::clamp<std::size_t>(settings_.chunk_bytes, 1, kMaxChunkDataBytes);
  settings_.inflight_chunks = std::max<std::size_t>(settings_.inflight_chunks, 1);
}

void EvidenceSender::on_connected(SteadyTime now) {
  connected_ = true;
  maybe_more_ = true;
  paused_until_ = now;
  // HQ's `have` is what counts; resending from it is harmless (HQ ignores
  // bytes below it and answers with it).
  if (current_) rewind_to(acked_);
}

void EvidenceSender::on_disconnected() {
  connected_ = false;
  inflight_.clear();
  flush();
}

void EvidenceSender::rewind_to(std::uint64_t have) {
  next_ = have;
  empty_sent_ = false;
  inflight_.clear();
}

bool EvidenceSender::load_current() {
  auto next = outbox_.next_evidence();
  if (!next) {
    spdlog::warn("uplink: reading the evidence outbox failed: {}", next.error().message);
    return false;
  }
  if (!*next) return false;
  current_ = std::move(**next);
  acked_ = std::min(current_->acked, current_->size);
  persisted_ = acked_;
  read_failures_ = 0;
  rewind_to(acked_);
  figures_.current = current_->id.str();
  figures_.current_size = current_->size;
  figures_.current_acked = acked_;
  spdlog::debug("uplink: evidence {} ({}, {} bytes) from byte {}", current_->id.str(),
                current_->kind, current_->size, acked_);
  return true;
}

void EvidenceSender::persist_now(bool force) {
  if (!current_ || (!force && acked_ == persisted_)) return;
  if (auto s = outbox_.evidence_progress(current_->id, acked_, current_->mismatches); !s) {
    spdlog::warn("uplink: evidence progress not stored: {}", s.error().message);
    return;  // HQ answers a resend with its `have`: costs one chunk
  }
  persisted_ = acked_;
}

void EvidenceSender::persist(SteadyTime now, bool force) {
  if (!current_ || (!force && acked_ == persisted_)) return;
  if (!force && now - persisted_at_ < settings_.persist_every) return;
  persist_now(force);
  persisted_at_ = now;
}

void EvidenceSender::flush() {
  persist_now(false);
}

void EvidenceSender::finish_delivered() {
  if (auto s = outbox_.evidence_delivered(current_->id); !s)
    spdlog::error("uplink: marking evidence {} delivered failed: {}", current_->id.str(),
                  s.error().message);
  ++figures_.delivered;
  spdlog::info("uplink: evidence {} ({}, {} bytes) verified by HQ", current_->id.str(),
               current_->kind, current_->size);
  last_finished_ = current_->id;
  current_.reset();
  figures_.current.reset();
  inflight_.clear();
  maybe_more_ = true;
}

void EvidenceSender::finish_failed(const std::string& reason, const std::string& why) {
  const auto item = *current_;
  if (auto s = outbox_.evidence_failed(item.id, reason); !s)
    spdlog::error("uplink: marking evidence {} failed: {}", item.id.str(), s.error().message);
  ++figures_.failed;
  spdlog::warn("uplink: evidence {} ({}) given up: {}", item.id.str(), item.kind, why);
  last_finished_ = item.id;
  current_.reset();
  figures_.current.reset();
  inflight_.clear();
  maybe_more_ = true;
  if (notify_)
    notify_("evidence_failed", "warning",
            "evidence " + item.id.str() + " (" + item.kind + ", " + std::to_string(item.size) +
                " bytes) not delivered: " + why,
            item.record_seq);
}

std::optional<Millis> EvidenceSender::pump(SteadyTime now, bool records_idle) {
  std::optional<Millis> wake;
  if (!connected_) return wake;
  if (!inflight_.empty()) {
    const auto due = inflight_.front().sent_at + settings_.ack_timeout;
    if (now >= due) {
      ++figures_.ack_timeouts;
      ++figures_.rewinds;
      spdlog::warn("uplink: no evidence ack within {} ms: sending {} again from byte {}",
                   settings_.ack_timeout.count(), current_ ? current_->id.str() : "?", acked_);
      rewind_to(acked_);
    } else {
      sooner(wake, due - now);
    }
  }
  persist(now, false);
  if (current_ && acked_ != persisted_) sooner(wake, settings_.persist_every);
  if (now < paused_until_) {
    sooner(wake, paused_until_ - now);
    return wake;
  }
  // Records first: the uplink calls again once its batches are all out.
  if (!records_idle) return wake;

  while (true) {
    if (!current_) {
      if (!maybe_more_ && now < next_look_) {
        sooner(wake, next_look_ - now);
        return wake;
      }
      maybe_more_ = false;
      next_look_ = now + settings_.idle_recheck;
      if (!load_current()) {
        sooner(wake, settings_.idle_recheck);
        return wake;
      }
    }
    if (inflight_.size() >= settings_.inflight_chunks) return wake;
    const auto& item = *current_;
    const bool all_sent = item.size == 0 ? empty_sent_ : next_ >= item.size;
    if (all_sent) return wake;  // HQ's verdict comes with the last ack
    const auto len =
        static_cast<std::size_t>(std::min<std::uint64_t>(settings_.chunk_bytes, item.size - next_));
    if (const auto w = bucket_.wait_for(static_cast<double>(len + kHeaderEstimate), now);
        w.count() > 0) {
      sooner(wake, w);
      return wake;
    }
    std::vector<std::uint8_t> bytes;
    if (len > 0) {
      auto read = outbox_.read_evidence(item.id, next_, len);
      if (!read) {
        spdlog::warn("uplink: reading evidence {} at {} failed: {}", item.id.str(), next_,
                     read.error().message);
        if (++read_failures_ >= kMaxReadFailures) {
          finish_failed("unreadable", "the local copy cannot be read");
          continue;
        }
        paused_until_ = now + kRetryPause;
        sooner(wake, kRetryPause);
        return wake;
      }
      if (read->size() != len) {
        finish_failed("short_file", "the local copy is shorter than its recorded size");
        continue;
      }
      bytes = std::move(*read);
    }
    read_failures_ = 0;
    std::string payload = chunk_payload(item, next_, bytes);
    const std::size_t payload_bytes = payload.size();
    if (!publish_(std::move(payload))) {
      paused_until_ = now + kRetryPause;
      sooner(wake, kRetryPause);
      return wake;
    }
    bucket_.spend(static_cast<double>(payload_bytes));
    inflight_.push_back({next_, len, now});
    next_ += len;
    if (item.size == 0) empty_sent_ = true;
    figures_.sent_bytes += payload_bytes;
    ++figures_.chunks_sent;
    sooner(wake, settings_.ack_timeout);
  }
}

void EvidenceSender::on_ack(std::string_view payload, SteadyTime now) {
  auto ack = parse_evidence_ack(payload);
  if (!ack) {
    ++figures_.bad_acks;
    spdlog::warn("uplink: evidence ack ignored ({}): {}", ack.error().code, ack.error().message);
    return;
  }
  if (!current_ || ack->id != current_->id) {
    // A repeat for the item just finished is expected (QoS 1 may repeat).
    if (last_finished_ && ack->id == *last_finished_) return;
    ++figures_.bad_acks;
    spdlog::warn("uplink: evidence ack for an item not being sent ignored");
    return;
  }
  auto& item = *current_;
  switch (ack->state) {
    case EvidenceAckState::partial: {
      if (ack->have > item.size) {
        ++figures_.bad_acks;
        spdlog::warn("uplink: evidence ack with have {} beyond size {} ignored", ack->have,
                     item.size);
        return;
      }
      if (ack->have < acked_) {
        // HQ holds less than it said before (lost its partial copy).
        ++figures_.rewinds;
        spdlog::warn("uplink: HQ holds only {} of evidence {} (had {}): sending from there",
                     ack->have, item.id.str(), acked_);
        acked_ = ack->have;
        rewind_to(ack->have);
        persist(now, true);
        break;
      }
      acked_ = ack->have;
      while (!inflight_.empty() && inflight_.front().offset + inflight_.front().len <= acked_ &&
             item.size != 0)
        inflight_.pop_front();
      if (acked_ >= next_) {
        // Everything sent is held (or more: an earlier run sent it).
        rewind_to(acked_);
      } else if (inflight_.empty() || inflight_.front().offset != acked_) {
        // A gap: HQ dropped what came after `have`.
        ++figures_.rewinds;
        rewind_to(acked_);
      }
      persist(now, false);
      break;
    }
    case EvidenceAckState::verified:
      acked_ = item.size;
      finish_delivered();
      break;
    case EvidenceAckState::mismatch:
      if (item.mismatches + 1 >= 2) {
        item.mismatches += 1;
        finish_failed("sha256_mismatch", "SHA-256 mismatch at HQ, twice");
        break;
      }
      item.mismatches += 1;
      ++figures_.rewinds;
      spdlog::warn("uplink: HQ found evidence {} corrupt (SHA-256 mismatch): sending it again",
                   item.id.str());
      acked_ = 0;
      rewind_to(0);
      persist(now, true);
      break;
    case EvidenceAckState::rejected:
      finish_failed(ack->reason.empty() ? "rejected" : "rejected: " + ack->reason,
                    "HQ rejected it" + (ack->reason.empty() ? "" : " (" + ack->reason + ")"));
      break;
  }
  if (current_) figures_.current_acked = acked_;
}

void EvidenceSender::on_request(std::string_view payload) {
  auto req = parse_evidence_request(payload);
  if (!req) {
    ++figures_.bad_acks;
    spdlog::warn("uplink: evidence request ignored ({}): {}", req.error().code,
                 req.error().message);
    return;
  }
  ++figures_.requests;
  const std::string what = req->record_seq ? "record seq " + std::to_string(*req->record_seq)
                                           : "record " + req->record_id->str();
  auto n = outbox_.request_evidence(req->record_id, req->record_seq);
  if (!n) {
    spdlog::error("uplink: evidence request for {} failed: {}", what, n.error().message);
    return;  // HQ may ask again
  }
  maybe_more_ = true;
  spdlog::info("uplink: HQ asked for the evidence of {}: {} item(s) held", what, *n);
  if (*n == 0 && notify_)
    notify_("evidence_unavailable", "warning",
            "HQ asked for the evidence of " + what + ": none held (none taken, or evicted)",
            req->record_seq);
}

void EvidenceSender::on_publish_failed(SteadyTime now, Millis pause) {
  rewind_to(acked_);
  paused_until_ = now + pause;
}

}  // namespace postgate::uplink
