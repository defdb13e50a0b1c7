#pragma once
// The edge's evidence upload (docs/protocol.md, "evidence"; docs/uplink.md),
// without I/O: the uplink hands it the time, whether records are idle, HQ's
// acks and requests; it publishes chunks through an injected function and
// reports what must be told to HQ as events. One item at a time, at most
// `inflight_chunks` unacknowledged, paced by a token bucket.
//
// Not thread-safe: the uplink calls it on its loop thread only.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "core/evidence.hpp"
#include "uplink/evidence_messages.hpp"
#include "uplink/token_bucket.hpp"
#include "uplink/uplink_config.hpp"

namespace postgate::uplink {

struct EvidenceSettings {
  std::size_t chunk_bytes = 64 * 1024;
  std::size_t inflight_chunks = 4;
  double bytes_per_s = 256 * 1024;  // payload bytes (header included); 0: unlimited
  EvidenceUpload upload = EvidenceUpload::always;
  Millis ack_timeout{30'000};
  // How often the outbox is asked again when it had nothing (new items also
  // come through notify, this only bounds a missed one).
  Millis idle_recheck{10'000};
  // Progress is written to the outbox at most this often while an item
  // moves (and at once on every state change); losing it costs one chunk.
  Millis persist_every{1'000};
};

struct EvidenceFigures {
  std::uint64_t sent_bytes = 0;  // chunk payloads published, resends included
  std::uint64_t chunks_sent = 0;
  std::uint64_t delivered = 0;  // items HQ verified
  std::uint64_t failed = 0;     // items given up on
  std::uint64_t bad_acks = 0;   // malformed, unknown id, impossible have
  std::uint64_t ack_timeouts = 0;
  std::uint64_t rewinds = 0;  // HQ's have below what was sent (gap) or a resend
  std::uint64_t requests = 0;
  std::optional<std::string> current;  // id of the item being sent
  std::uint64_t current_acked = 0;
  std::uint64_t current_size = 0;
};

class EvidenceSender {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  // Hands one chunk payload to the MQTT client (QoS 1); false when refused.
  using Publish = std::function<bool(std::string payload)>;
  // An event for HQ: kind, severity, masked message, the record's seq.
  using Notify = std::function<void(const std::string& kind, const std::string& severity,
                                    const std::string& message, std::optional<std::uint64_t>)>;

  EvidenceSender(core::EvidenceOutbox& outbox, EvidenceSettings settings, Publish publish,
                 Notify notify, SteadyTime now);

  // The link is up: whatever was in flight is forgotten and the current
  // item resumes from the outbox's `acked`.
  void on_connected(SteadyTime now);
  void on_disconnected();
  // New evidence stored (or bound): look at the outbox again.
  void on_new_evidence() { maybe_more_ = true; }

  // Checks the ack timeout and, when `records_idle`, publishes what the
  // window and the bucket allow. Returns when to be called again at the
  // latest (nullopt: only on an event).
  std::optional<Millis> pump(SteadyTime now, bool records_idle);

  // Payloads of <prefix>/<outlet>/evidence/ack and .../request.
  void on_ack(std::string_view payload, SteadyTime now);
  void on_request(std::string_view payload);
  // A chunk publish failed while connected: start again from HQ's `have`
  // after `pause`.
  void on_publish_failed(SteadyTime now, Millis pause);
  // Writes pending progress (stop, disconnect).
  void flush();

  const EvidenceFigures& figures() const { return figures_; }
  bool connected() const { return connected_; }

 private:
  struct Inflight {
    std::uint64_t offset = 0;
    std::uint64_t len = 0;
    SteadyTime sent_at;
  };
  bool load_current();
  void rewind_to(std::uint64_t have);
  void persist(SteadyTime now, bool force);
  void persist_now(bool force);
  void finish_failed(const std::string& reason, const std::string& why);
  void finish_delivered();

  core::EvidenceOutbox& outbox_;
  EvidenceSettings settings_;
  Publish publish_;
  Notify notify_;
  TokenBucket bucket_;
  bool connected_ = false;
  bool maybe_more_ = true;
  SteadyTime next_look_{};
  SteadyTime paused_until_{};
  std::optional<core::EvidenceItem> current_;
  std::uint64_t acked_ = 0;  // HQ holds [0, acked_)
  std::uint64_t next_ = 0;   // next byte to send
  std::uint64_t persisted_ = 0;
  SteadyTime persisted_at_{};
  int read_failures_ = 0;
  bool empty_sent_ = false;                  // the one chunk of an empty item
  std::optional<core::Uuid> last_finished_;  // its late acks are expected
  std::deque<Inflight> inflight_;
  EvidenceFigures figures_;
};

}  // namespace postgate::uplink
