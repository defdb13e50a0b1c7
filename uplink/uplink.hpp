#pragma once
// The edge half of the MQTT uplink: sends the record outbox to HQ in batches,
// marks records delivered on HQ's ack, publishes status, telemetry and
// events. docs/uplink.md has the state machine and the threading model.
//
// Threading: every method is called on the io_context's thread (the daemon's
// loop), except notify_new_records, notify_new_events and notify_new_evidence,
// which may be called
// from any thread. Paho's callbacks run on Paho's threads and only post into
// the io_context; no state is touched elsewhere and the loop never waits for
// the network.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "core/evidence.hpp"
#include "core/outbox.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "core/uuid.hpp"
#include "uplink/evidence_sender.hpp"
#include "uplink/uplink_config.hpp"

namespace postgate::uplink {

namespace asio = boost::asio;
using json = nlohmann::json;

enum class LinkState { idle, disconnected, connecting, connected, stopping, stopped };
std::string_view to_string(LinkState s);

// Figures for `postgatectl status` and telemetry.
struct UplinkStatus {
  LinkState state = LinkState::idle;
  bool connected = false;
  bool draining = false;  // connected with batches awaiting HQ's ack
  std::string broker;     // URI of the current connection, empty when down
  std::optional<core::TimePoint> connected_since;
  std::optional<core::TimePoint> last_ack_at;
  std::uint64_t delivered_upto = 0;  // last ack applied
  std::uint64_t sent_upto = 0;       // highest seq published on this connection
  std::size_t inflight_batches = 0;
  std::uint64_t reconnects = 0;  // established connections lost
  std::uint64_t connect_failures = 0;
  std::uint64_t bad_acks = 0;  // malformed, oversize, other outlet, beyond sent
  std::uint64_t ack_timeouts = 0;
  std::uint64_t batches_sent = 0;
  std::uint64_t records_sent = 0;  // resends included
  std::uint64_t events_sent = 0;
  std::string last_error;         // masked; the latest connect or publish failure
  bool evidence_enabled = false;  // an EvidenceOutbox was given
  EvidenceFigures evidence;
};
json to_json(const UplinkStatus& s);
json evidence_to_json(const EvidenceFigures& f);

// Extra telemetry figures (devices, disk_free_bytes, storage_health), asked
// on the loop thread at each telemetry tick: must not block.
using TelemetryProvider = std::function<json()>;

class Uplink {
 public:
  Uplink(asio::io_context& io, UplinkConfig cfg, core::RecordOutbox& records,
         core::EventOutbox* events, TelemetryProvider telemetry, core::Clock& clock,
         core::RandomSource& random);
  ~Uplink();
  Uplink(const Uplink&) = delete;
  Uplink& operator=(const Uplink&) = delete;

  // Evidence upload (docs/uplink.md, "Evidence"): off while nullptr, the
  // default. Call before start(); the outbox must outlive the uplink and is
  // used on the loop thread only.
  void set_evidence_outbox(core::EvidenceOutbox* outbox);

  // Validates the configuration, creates the client and starts connecting.
  core::Status start();
  // Clean shutdown: publishes the retained offline status when connected,
  // disconnects, then posts `done`. Safe in every state; bounded by
  // cfg.stop_timeout. Once stopped, the uplink stays stopped.
  void stop(std::function<void()> done);

  // A record was committed: send it (after linger) when the link is up.
  void notify_new_records();
  // An event was stored: send it when the link is up.
  void notify_new_events();
  // Evidence was stored, bound or requested locally: look at the evidence
  // outbox again (it is also looked at every 10 s).
  void notify_new_evidence();
  // An event the store could not keep (it is the store that failed: full
  // disk, I/O error). Sent once, QoS 1, when the link is up; held in memory
  // meanwhile (the newest kTransientEventsMax) and lost with the process.
  void send_transient_event(core::Event event);
  static constexpr std::size_t kTransientEventsMax = 32;

  UplinkStatus status() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace postgate::uplink
