#include "uplink/uplink.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <vector>

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "uplink/backoff.hpp"
#include "uplink/evidence_messages.hpp"
#include "uplink/messages.hpp"
#include "uplink/token_bucket.hpp"

namespace postgate::uplink {

namespace {

using SteadyClock = std::chrono::steady_clock;

// How often HQ's acks are written to the store (one synced commit each).
constexpr auto kAckPersistEvery = std::chrono::milliseconds(100);

// Paho carries one void* per action; it holds our id for the action.
void* to_ctx(std::uint64_t id) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
}
std::uint64_t from_ctx(void* p) {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
}

enum class Op : std::uint8_t { connect, subscribe, publish, disconnect };

struct ActionResult {
  Op op{};
  std::uint64_t id = 0;
  bool ok = false;
  int rc = 0;
  int reason = 0;
  std::string server_uri;
  bool session_present = false;
};

std::string describe_rc(int rc, int reason) {
  std::string s = "rc " + std::to_string(rc);
  if (rc != 0) s += " (" + mqtt::exception::error_str(rc) + ")";
  if (reason != 0) s += ", reason " + std::to_string(reason);
  return s;
}

}  // namespace

std::string_view to_string(LinkState s) {
  switch (s) {
    case LinkState::idle:
      return "idle";
    case LinkState::disconnected:
      return "disconnected";
    case LinkState::connecting:
      return "connecting";
    case LinkState::connected:
      return "connected";
    case LinkState::stopping:
      return "stopping";
    case LinkState::stopped:
      return "stopped";
  }
  return "unknown";
}

json evidence_to_json(const EvidenceFigures& f) {
  return {{"sent_bytes", f.sent_bytes},
          {"chunks_sent", f.chunks_sent},
          {"delivered", f.delivered},
          {"failed", f.failed},
          {"bad_acks", f.bad_acks},
          {"ack_timeouts", f.ack_timeouts},
          {"rewinds", f.rewinds},
          {"requests", f.requests},
          {"current", f.current ? json(*f.current) : json(nullptr)},
          {"current_acked", f.current_acked},
          {"current_size", f.current_size}};
}

json to_json(const UplinkStatus& s) {
  json j = {{"state", to_string(s.state)},
            {"connected", s.connected},
            {"draining", s.draining},
            {"broker", s.broker},
            {"delivered_upto", s.delivered_upto},
            {"sent_upto", s.sent_upto},
            {"inflight_batches", s.inflight_batches},
            {"reconnects", s.reconnects},
            {"connect_failures", s.connect_failures},
            {"bad_acks", s.bad_acks},
            {"ack_timeouts", s.ack_timeouts},
            {"batches_sent", s.batches_sent},
            {"records_sent", s.records_sent},
            {"events_sent", s.events_sent},
            {"last_error", s.last_error}};
  if (s.evidence_enabled) j["evidence"] = evidence_to_json(s.evidence);
  j["connected_since"] =
      s.connected_since ? json(core::format_utc(*s.connected_since)) : json(nullptr);
  j["last_ack_at"] = s.last_ack_at ? json(core::format_utc(*s.last_ack_at)) : json(nullptr);
  return j;
}

core::Status validate(const UplinkConfig& c) {
  if (!valid_outlet(c.outlet))
    return core::fail("bad_outlet", "outlet", "outlet must match [A-Za-z0-9_-]{1,64}");
  if (c.prefix.empty() || c.prefix.find_first_of("+#") != std::string::npos)
    return core::fail("bad_prefix", "prefix", "prefix must be non-empty and hold no wildcard");
  if (c.brokers.empty()) return core::fail("no_broker", "brokers", "at least one broker URI");
  for (const auto& b : c.brokers) {
    const bool tls = b.starts_with("ssl://") || b.starts_with("mqtts://");
    if (!tls && !b.starts_with("tcp://") && !b.starts_with("mqtt://"))
      return core::fail("bad_broker", "brokers",
                        "broker URI must start with tcp://, mqtt://, ssl:// or mqtts://");
    if (tls && !c.tls) return core::fail("tls_missing", "tls", "ssl:// broker needs tls settings");
  }
  if (c.mqtt_version != 5 && c.mqtt_version != 3)
    return core::fail("bad_mqtt_version", "mqtt_version", "mqtt_version must be 5 or 3");
  if (c.tls && (c.tls->cert_file.empty() != c.tls->key_file.empty()))
    return core::fail("tls_pair", "tls", "cert_file and key_file go together");
  if (c.batch_max_records == 0 || c.batch_max_bytes == 0 || c.max_inflight_batches == 0)
    return core::fail("bad_limit", "batch", "batch and window limits must be positive");
  if (c.ack_timeout.count() <= 0)
    return core::fail("bad_limit", "ack_timeout", "ack_timeout must be positive");
  if (c.reconnect_min.count() <= 0 || c.reconnect_max < c.reconnect_min)
    return core::fail("bad_limit", "reconnect", "need 0 < reconnect_min <= reconnect_max");
  if (c.drain_records_per_s < 0 || c.drain_bytes_per_s < 0)
    return core::fail("bad_limit", "drain", "drain rates must not be negative");
  if (c.drain_bytes_per_s > 0 && c.drain_bytes_per_s < static_cast<double>(c.batch_max_bytes))
    return core::fail("bad_limit", "drain_bytes_per_s",
                      "drain_bytes_per_s must allow at least one full batch a second");
  if (c.evidence_chunk_bytes == 0 || c.evidence_chunk_bytes > kMaxChunkDataBytes)
    return core::fail("bad_limit", "evidence_chunk_bytes",
                      "evidence_chunk_bytes must be 1 .. 1048576 (what HQ accepts)");
  if (c.evidence_inflight_chunks == 0)
    return core::fail("bad_limit", "evidence_inflight_chunks",
                      "evidence_inflight_chunks must be positive");
  if (c.evidence_bytes_per_s < 0)
    return core::fail("bad_limit", "evidence_bytes_per_s",
                      "evidence_bytes_per_s must not be negative");
  return {};
}

// A Paho action listener: runs on Paho's thread and only posts the outcome.
class Listener final : public mqtt::iaction_listener {
 public:
  Listener(asio::io_context& io, std::weak_ptr<Uplink::Impl> impl, Op op)
      : io_(io), impl_(std::move(impl)), op_(op) {}
  void on_success(const mqtt::token& tok) override { deliver(tok, true); }
  void on_failure(const mqtt::token& tok) override { deliver(tok, false); }

 private:
  void deliver(const mqtt::token& tok, bool ok);
  asio::io_context& io_;
  std::weak_ptr<Uplink::Impl> impl_;
  Op op_;
};

struct Uplink::Impl : std::enable_shared_from_this<Uplink::Impl> {
  enum class PubKind : std::uint8_t {
    batch,
    event,
    transient_event,
    birth,
    offline,
    telemetry,
    evidence
  };
  struct Pending {
    PubKind kind;
    std::uint64_t epoch;
    std::uint64_t seq;  // last record seq of a batch, event seq
  };
  struct Batch {
    std::uint64_t first = 0, last = 0;
    std::size_t bytes = 0;
    SteadyClock::time_point sent_at;
  };

  Impl(asio::io_context& io_, UplinkConfig cfg_, core::RecordOutbox& records_,
       core::EventOutbox* events_, TelemetryProvider telemetry_, core::Clock& clock_,
       core::RandomSource& random_)
      : io(io_),
        cfg(std::move(cfg_)),
        records(records_),
        events(events_),
        telemetry(std::move(telemetry_)),
        clock(clock_),
        random(random_),
        topics(make_topics(cfg.prefix, cfg.outlet)),
        ev_topics(make_evidence_topics(cfg.prefix, cfg.outlet)),
        reconnect_timer(io),
        linger_timer(io),
        pace_timer(io),
        retry_timer(io),
        ack_timer(io),
        telemetry_timer(io),
        stop_timer(io),
        persist_timer(io),
        evidence_timer(io),
        record_bucket(cfg.drain_records_per_s, SteadyClock::now()),
        byte_bucket(cfg.drain_bytes_per_s, SteadyClock::now()) {}

  ~Impl() {
    if (cli) {
      // Abandoned without stop(): the broker sees the socket close and
      // publishes the will, which is the truth.
      try {
        cli->disable_callbacks();
      } catch (...) {
      }
    }
  }

  // ---- wiring ------------------------------------------------------------

  // Runs `fn` on the loop if the uplink still exists; the handler holds only
  // a weak reference, so a destroyed uplink is never touched.
  template <class Fn>
  void post(Fn fn) {
    asio::post(io, [w = weak_from_this(), fn = std::move(fn)]() mutable {
      if (auto self = w.lock()) fn(*self);
    });
  }
  template <class Fn>
  void arm(asio::steady_timer& t, SteadyClock::duration d, Fn fn) {
    t.expires_after(d);
    t.async_wait([w = weak_from_this(), fn = std::move(fn)](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = w.lock()) fn(*self);
    });
  }
  void cancel_link_timers() {
    linger_timer.cancel();
    pace_timer.cancel();
    retry_timer.cancel();
    ack_timer.cancel();
    evidence_timer.cancel();
    linger_armed = pace_armed = retry_armed = false;
  }

  core::Status start() {
    if (state != LinkState::idle) return core::fail("already_started", "", "uplink started twice");
    if (auto s = validate(cfg); !s) return s;
    started_at = clock.now();
    started_steady = SteadyClock::now();
    connect_l = std::make_unique<Listener>(io, weak_from_this(), Op::connect);
    subscribe_l = std::make_unique<Listener>(io, weak_from_this(), Op::subscribe);
    publish_l = std::make_unique<Listener>(io, weak_from_this(), Op::publish);
    disconnect_l = std::make_unique<Listener>(io, weak_from_this(), Op::disconnect);
    try {
      mqtt::create_options co(cfg.mqtt_version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
      // Only this process's window is ever handed to Paho (plus status,
      // telemetry and one event); the store, not Paho, holds the backlog.
      co.set_max_buffered_messages(static_cast<int>(4 * cfg.max_inflight_batches + 64));
      co.set_send_while_disconnected(false);
      cli = std::make_unique<mqtt::async_client>(cfg.brokers.front(), cfg.effective_client_id(), co,
                                                 nullptr);
      std::weak_ptr<Impl> w = weak_from_this();
      asio::io_context* ioc = &io;
      cli->set_connection_lost_handler([w, ioc](const std::string& cause) {
        asio::post(*ioc, [w, cause] {
          if (auto s = w.lock()) s->on_link_down(cause.empty() ? "connection lost" : cause);
        });
      });
      cli->set_disconnected_handler([w, ioc](const mqtt::properties&, mqtt::ReasonCode rc) {
        asio::post(*ioc, [w, rc] {
          if (auto s = w.lock())
            s->on_link_down("broker sent DISCONNECT, reason " + std::to_string(int(rc)));
        });
      });
      cli->set_message_callback([w, ioc](mqtt::const_message_ptr m) {
        asio::post(*ioc, [w, m = std::move(m)] {
          if (auto s = w.lock()) s->on_message(m->get_topic(), m->get_payload_str());
        });
      });
    } catch (const mqtt::exception& e) {
      return core::fail("mqtt_client", "brokers", std::string("cannot create client: ") + e.what());
    }
    if (auto st0 = records.outbox_state()) {
      delivered_upto = st0->delivered_upto;
      persisted_upto = delivered_upto;
      last_seq_at_start = st0->last_seq;
    } else {
      spdlog::warn("uplink: outbox state unavailable at start: {}", st0.error().message);
    }
    sent_upto = delivered_upto;
    if (evidence_outbox) make_evidence_sender();
    if (cfg.telemetry_interval.count() > 0)
      arm(telemetry_timer, cfg.telemetry_interval, [](Impl& s) { s.telemetry_tick(); });
    spdlog::info("uplink: outlet {} to {} broker(s), MQTT {}", cfg.outlet, cfg.brokers.size(),
                 cfg.mqtt_version == 5 ? "5" : "3.1.1");
    connect();
    return {};
  }

  void make_evidence_sender() {
    EvidenceSettings es;
    es.chunk_bytes = cfg.evidence_chunk_bytes;
    es.inflight_chunks = cfg.evidence_inflight_chunks;
    es.bytes_per_s = cfg.evidence_bytes_per_s;
    es.upload = cfg.evidence_upload;
    es.ack_timeout = cfg.ack_timeout;
    // The sender lives inside this Impl and is used on the loop only.
    ev = std::make_unique<EvidenceSender>(
        *evidence_outbox, es,
        [this](std::string payload) {
          return publish(PubKind::evidence, ev_topics.chunk, std::move(payload), 1, false, 0);
        },
        [this](const std::string& kind, const std::string& severity, const std::string& message,
               std::optional<std::uint64_t> record_seq) {
          evidence_event(kind, severity, message, record_seq);
        },
        SteadyClock::now());
  }

  // An evidence outcome HQ must hear of: stored with the other events when
  // there is an event store, else sent once.
  void evidence_event(const std::string& kind, const std::string& severity,
                      const std::string& message, std::optional<std::uint64_t> record_seq) {
    core::Event e;
    e.at = clock.now();
    e.id = core::make_uuid_v7(e.at, random);
    e.kind = kind;
    e.severity = severity;
    e.message = message;
    e.record_seq = record_seq;
    if (events) {
      if (auto seq = events->add_event(e); seq) {
        pump_events();
        return;
      } else {
        spdlog::warn("uplink: storing the {} event failed: {}", kind, seq.error().message);
      }
    }
    if (transient.size() >= kTransientEventsMax) transient.pop_front();
    transient.push_back(std::move(e));
    pump_transient();
  }

  // ---- connection ----------------------------------------------------------

  mqtt::connect_options connect_options() const {
    mqtt::connect_options o;
    o.set_mqtt_version(cfg.mqtt_version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
    if (cfg.mqtt_version == 5) {
      o.set_clean_start(!cfg.persistent_session);
      if (cfg.persistent_session) {
        mqtt::properties props;
        props.add(mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL,
                                 static_cast<int32_t>(cfg.session_expiry.count())));
        o.set_properties(props);
      }
    } else {
      o.set_clean_session(!cfg.persistent_session);
    }
    o.set_keep_alive_interval(static_cast<int>(cfg.keepalive.count()));
    o.set_connect_timeout(static_cast<int>(cfg.connect_timeout.count()));
    o.set_automatic_reconnect(false);  // we own back-off and failover
    o.set_servers(mqtt::string_collection::create(cfg.brokers));
    const std::string will = offline_payload(cfg.outlet, "connection_lost", std::nullopt);
    o.set_will(mqtt::will_options(topics.status, will, 1, true));
    if (cfg.username) o.set_user_name(*cfg.username);
    if (cfg.password) o.set_password(*cfg.password);
    if (cfg.tls) {
      mqtt::ssl_options ssl;
      if (!cfg.tls->ca_file.empty()) ssl.set_trust_store(cfg.tls->ca_file);
      if (!cfg.tls->cert_file.empty()) ssl.set_key_store(cfg.tls->cert_file);
      if (!cfg.tls->key_file.empty()) ssl.set_private_key(cfg.tls->key_file);
      ssl.set_enable_server_cert_auth(true);
      ssl.set_verify(cfg.tls->verify_hostname);
      // No ssl error handler: Paho C++ 1.2 keeps a pointer to the ssl_options
      // it was set on, which set_ssl copies away from (a crash on the first
      // TLS error). The connect failure is reported anyway.
      o.set_ssl(std::move(ssl));
    }
    return o;
  }

  void connect() {
    if (stopping) return;
    ++epoch;
    state = LinkState::connecting;
    try {
      cli->connect(connect_options(), to_ctx(epoch), *connect_l);
    } catch (const mqtt::exception& e) {
      on_connect_failed(epoch, std::string("connect refused by client: ") + e.what());
    }
  }

  void schedule_reconnect() {
    const auto d = backoff_delay(attempts, cfg.reconnect_min, cfg.reconnect_max, random);
    if (attempts < 64) ++attempts;
    spdlog::info("uplink: reconnecting in {} ms", d.count());
    arm(reconnect_timer, d, [](Impl& s) {
      if (s.state == LinkState::disconnected) s.connect();
    });
  }

  void on_connected(const ActionResult& r) {
    if (r.id != epoch || state != LinkState::connecting) return;  // stale attempt
    state = LinkState::connected;
    attempts = 0;
    st.broker = r.server_uri.empty() ? cfg.brokers.front() : r.server_uri;
    st.connected_since = clock.now();
    st.last_error.clear();
    spdlog::info("uplink: connected to {} (session {})", st.broker,
                 r.session_present ? "resumed" : "new");
    if (stopping) {
      go_offline();
      return;
    }
    // Drop bookkeeping of batches from older connections that Paho will not
    // complete (a new session discards them); they are resent below anyway.
    if (!r.session_present) forget_stale();
    subscribe();
    publish(PubKind::birth, topics.status,
            birth_payload(cfg.outlet, cfg.version, started_at, *st.connected_since), 1, true, 0);
    // Everything not acknowledged is sent again: duplicates are absorbed by
    // HQ, while a gap would stall it.
    if (auto s = records.outbox_state())
      delivered_upto = std::max(delivered_upto, s->delivered_upto);
    window.clear();
    sent_upto = delivered_upto;
    event_pub = 0;
    records_idle_known = false;
    if (ev) ev->on_connected(SteadyClock::now());
    arm_ack_check();
    pump();
    pump_events();
  }

  void forget_stale() {
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.epoch != epoch && it->second.kind == PubKind::batch) {
        --paho_batches;
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
  }

  void on_connect_failed(std::uint64_t id, const std::string& why) {
    if (id != epoch || state != LinkState::connecting) return;
    ++st.connect_failures;
    st.last_error = why;
    spdlog::warn("uplink: connect failed: {}", why);
    if (stopping) {
      finish_stop();
      return;
    }
    state = LinkState::disconnected;
    schedule_reconnect();
  }

  void on_link_down(const std::string& why) {
    if (state == LinkState::connected) {
      ++st.reconnects;
      st.last_error = why;
      spdlog::warn("uplink: link to {} lost: {}", st.broker, why);
      state = LinkState::disconnected;
      st.broker.clear();
      st.connected_since.reset();
      cancel_link_timers();
      window.clear();
      event_pub = 0;
      if (ev) ev->on_disconnected();
      schedule_reconnect();
    } else if (state == LinkState::stopping) {
      finish_stop();
    }
  }

  void subscribe() {
    try {
      cli->subscribe(topics.ack, 1, to_ctx(epoch), *subscribe_l);
      // One topic per SUBSCRIBE, so a refusal fails its own action (and
      // on_subscribed subscribes to all again).
      if (ev) {
        cli->subscribe(ev_topics.ack, 1, to_ctx(epoch), *subscribe_l);
        cli->subscribe(ev_topics.request, 1, to_ctx(epoch), *subscribe_l);
      }
    } catch (const mqtt::exception& e) {
      spdlog::warn("uplink: subscribe to acks failed: {}", e.what());
    }
  }

  void on_subscribed(const ActionResult& r) {
    if (r.id != epoch || state != LinkState::connected) return;
    if (r.ok) return;
    // Without the ack subscription nothing is ever delivered: try again.
    st.last_error = "ack subscription refused: " + describe_rc(r.rc, r.reason);
    spdlog::warn("uplink: {}", st.last_error);
    arm(retry_timer, cfg.reconnect_min, [e = epoch](Impl& s) {
      if (s.epoch == e && s.state == LinkState::connected) s.subscribe();
    });
  }

  // ---- stop ---------------------------------------------------------------

  void stop(std::function<void()> done) {
    if (done) stop_waiters.push_back(std::move(done));
    if (state == LinkState::stopped) {
      finish_stop();
      return;
    }
    if (stopping) return;
    stopping = true;
    reconnect_timer.cancel();
    telemetry_timer.cancel();
    cancel_link_timers();
    arm(stop_timer, cfg.stop_timeout, [](Impl& s) {
      spdlog::warn("uplink: clean stop timed out in state {}", to_string(s.state));
      s.finish_stop();
    });
    switch (state) {
      case LinkState::idle:
      case LinkState::disconnected:
        finish_stop();
        break;
      case LinkState::connecting:
        break;  // the connect's outcome continues the stop
      case LinkState::connected:
        go_offline();
        break;
      case LinkState::stopping:
      case LinkState::stopped:
        break;
    }
  }

  void go_offline() {
    state = LinkState::stopping;
    if (!publish(PubKind::offline, topics.status,
                 offline_payload(cfg.outlet, "shutdown", clock.now()), 1, true, 0))
      disconnect();
  }

  void disconnect() {
    try {
      cli->disconnect(1000, to_ctx(epoch), *disconnect_l);
    } catch (const mqtt::exception& e) {
      spdlog::warn("uplink: disconnect: {}", e.what());
      finish_stop();
    }
  }

  void finish_stop() {
    persist_timer.cancel();
    persist_armed = false;
    persist_acks();
    if (ev) ev->flush();
    if (state != LinkState::stopped) {
      if (state != LinkState::idle) spdlog::info("uplink: stopped");
      state = LinkState::stopped;
      stopping = true;
      stop_timer.cancel();
      reconnect_timer.cancel();
      telemetry_timer.cancel();
      cancel_link_timers();
      st.broker.clear();
      st.connected_since.reset();
    }
    auto waiters = std::move(stop_waiters);
    stop_waiters.clear();
    for (auto& w : waiters) asio::post(io, std::move(w));
  }

  // ---- sending -----------------------------------------------------------

  bool publish(PubKind kind, const std::string& topic, std::string payload, int qos, bool retained,
               std::uint64_t seq) {
    const std::uint64_t id = next_pub_id++;
    try {
      auto msg = mqtt::make_message(topic, std::move(payload), qos, retained);
      cli->publish(msg, to_ctx(id), *publish_l);
    } catch (const mqtt::exception& e) {
      st.last_error = std::string("publish: ") + e.what();
      spdlog::warn("uplink: publish to {} failed: {}", topic, e.what());
      return false;
    }
    // The outcome is posted, so it is handled after this entry exists.
    pending.emplace(id, Pending{kind, epoch, seq});
    if (kind == PubKind::batch) ++paho_batches;
    if (kind == PubKind::event) event_pub = id;
    last_pub_id = id;
    return true;
  }

  void on_new_records() {
    records_idle_known = false;
    if (state != LinkState::connected || stopping || linger_armed) return;
    if (cfg.linger.count() <= 0) {
      pump();
      return;
    }
    linger_armed = true;
    arm(linger_timer, cfg.linger, [](Impl& s) {
      s.linger_armed = false;
      s.pump();
    });
  }

  void retry_later() {
    if (retry_armed) return;
    retry_armed = true;
    arm(retry_timer, cfg.reconnect_min, [](Impl& s) {
      s.retry_armed = false;
      s.pump();
    });
  }

  // Records, then evidence when no record batch is waiting to be sent.
  void pump() {
    records_idle_known = pump_records();
    pump_evidence(records_idle_known);
  }

  void pump_evidence(bool records_idle) {
    if (!ev || state != LinkState::connected || stopping) return;
    if (const auto wake = ev->pump(SteadyClock::now(), records_idle))
      arm(evidence_timer, *wake, [](Impl& s) { s.evidence_wake(); });
  }

  // Evidence may go on without asking the outbox about records again as
  // long as nothing can have become pending since it last had none.
  void evidence_wake() {
    if (records_idle_known)
      pump_evidence(true);
    else
      pump();
  }

  // Returns true when every pending record is published (nothing waits).
  bool pump_records() {
    if (state != LinkState::connected || stopping || pace_armed || retry_armed) return false;
    const std::size_t max_window = cfg.max_inflight_batches;
    while (window.size() < max_window && paho_batches < 2 * max_window) {
      const auto now = SteadyClock::now();
      const auto wait = std::max(record_bucket.wait_for(1.0, now), byte_bucket.wait_for(1.0, now));
      if (wait.count() > 0) {
        pace_armed = true;
        arm(pace_timer, wait, [](Impl& s) {
          s.pace_armed = false;
          s.pump();
        });
        return false;
      }
      auto want_records = cfg.batch_max_records;
      auto want_bytes = cfg.batch_max_bytes;
      if (!record_bucket.unlimited())
        want_records = std::min<std::size_t>(
            want_records,
            std::max<std::size_t>(1, static_cast<std::size_t>(record_bucket.available(now))));
      if (!byte_bucket.unlimited())
        want_bytes = std::min<std::size_t>(
            want_bytes,
            std::max<std::size_t>(1, static_cast<std::size_t>(byte_bucket.available(now))));
      auto recs = records.pending_wire_after(sent_upto, want_records, want_bytes);
      if (!recs) {
        st.last_error = "outbox read: " + recs.error().message;
        spdlog::error("uplink: reading the outbox failed: {}", recs.error().message);
        retry_later();
        return false;
      }
      if (recs->empty()) return true;
      if (recs->front().seq <= sent_upto) {
        spdlog::error("uplink: outbox returned seq {} not after {}", recs->front().seq, sent_upto);
        retry_later();
        return false;
      }
      std::string payload = batch_payload(cfg.outlet, *recs);
      const std::size_t bytes = payload.size();
      const Batch b{recs->front().seq, recs->back().seq, bytes, now};
      if (!publish(PubKind::batch, topics.records, std::move(payload), 1, false, b.last)) {
        retry_later();
        return false;
      }
      window.push_back(b);
      record_bucket.spend(static_cast<double>(recs->size()));
      byte_bucket.spend(static_cast<double>(bytes));
      sent_upto = b.last;
      max_sent = std::max(max_sent, b.last);
      ++st.batches_sent;
      st.records_sent += recs->size();
    }
    return false;  // the window is full: more may wait
  }

  void pump_transient() {
    if (state != LinkState::connected || stopping) return;
    while (!transient.empty()) {
      const core::Event e = std::move(transient.front());
      transient.pop_front();
      publish(PubKind::transient_event, topics.events, event_payload(cfg.outlet, e), 1, false, 0);
    }
  }

  void pump_events() {
    pump_transient();
    if (!events || state != LinkState::connected || stopping || event_pub != 0) return;
    auto evs = events->events_after(events_sent_upto, 1);
    if (!evs) {
      spdlog::warn("uplink: reading events failed: {}", evs.error().message);
      return;  // tried again at the next notify, connect or telemetry tick
    }
    if (evs->empty()) return;
    const auto& e = evs->front();
    publish(PubKind::event, topics.events, event_payload(cfg.outlet, e), 1, false, e.seq);
  }

  void on_published(const ActionResult& r) {
    const auto it = pending.find(r.id);
    if (it == pending.end()) return;
    const Pending p = it->second;
    pending.erase(it);
    switch (p.kind) {
      case PubKind::batch:
        --paho_batches;
        if (!r.ok && p.epoch == epoch && state == LinkState::connected) {
          // Refused while the link stays up: start again from the last ack,
          // after a pause so a persistent refusal does not spin.
          st.last_error = "batch publish failed: " + describe_rc(r.rc, r.reason);
          spdlog::warn("uplink: {}", st.last_error);
          window.clear();
          sent_upto = delivered_upto;
          retry_later();
          return;
        }
        pump();
        break;
      case PubKind::event:
        if (r.id == event_pub) event_pub = 0;
        if (r.ok && p.seq > events_sent_upto) {
          if (auto s = events->mark_events_sent(p.seq); !s)
            spdlog::error("uplink: marking event {} sent failed: {}", p.seq, s.error().message);
          events_sent_upto = p.seq;
          ++st.events_sent;
        } else if (!r.ok) {
          spdlog::warn("uplink: event {} not sent: {}", p.seq, describe_rc(r.rc, r.reason));
          return;  // again at the next connect or telemetry tick
        }
        pump_events();
        break;
      case PubKind::transient_event:
        if (r.ok)
          ++st.events_sent;
        else
          spdlog::warn("uplink: unstored event not sent: {}", describe_rc(r.rc, r.reason));
        break;
      case PubKind::birth:
        if (!r.ok) spdlog::warn("uplink: birth not published: {}", describe_rc(r.rc, r.reason));
        break;
      case PubKind::offline:
        if (state == LinkState::stopping) disconnect();
        break;
      case PubKind::telemetry:
        break;
      case PubKind::evidence:
        if (!r.ok && p.epoch == epoch && state == LinkState::connected && ev) {
          st.last_error = "evidence publish failed: " + describe_rc(r.rc, r.reason);
          spdlog::warn("uplink: {}", st.last_error);
          ev->on_publish_failed(SteadyClock::now(), cfg.reconnect_min);
          evidence_wake();
        }
        break;
    }
  }

  // ---- acks ----------------------------------------------------------------

  void on_message(const std::string& topic, const std::string& payload) {
    if (ev && (topic == ev_topics.ack || topic == ev_topics.request)) {
      if (payload.size() > kMaxEvidenceControlBytes) {
        ++st.bad_acks;
        spdlog::warn("uplink: {} bytes on {} ignored (over 4 KiB)", payload.size(), topic);
        return;
      }
      if (topic == ev_topics.ack)
        ev->on_ack(payload, SteadyClock::now());
      else
        ev->on_request(payload);
      evidence_wake();
      return;
    }
    if (topic != topics.ack) return;
    auto n = parse_ack(payload, cfg.outlet);
    if (!n) {
      ++st.bad_acks;
      spdlog::warn("uplink: ack ignored ({}): {} [bad acks: {}]", n.error().code, n.error().message,
                   st.bad_acks);
      return;
    }
    if (*n <= delivered_upto) return;  // repeated or older: harmless
    if (*n > max_sent) {
      // Beyond anything stored here: not an ack of ours.
      if (*n > last_seq_at_start) {
        ++st.bad_acks;
        spdlog::warn("uplink: ack for seq {} ignored: only {} was sent [bad acks: {}]", *n,
                     max_sent, st.bad_acks);
        return;
      }
      // Records that existed at start and that an earlier run sent: HQ's
      // ack says it holds them all, and it is the only way forward when
      // that run died before writing the ack down (we resend from the last
      // ack we wrote, HQ answers with its watermark above what we resent).
      spdlog::info("uplink: ack for seq {} covers records an earlier run sent", *n);
      max_sent = *n;
    }
    // HQ holds everything up to n: the window moves at once. Writing that
    // down (mark_delivered waits for the store writer's fsync) is coalesced
    // to one commit per kAckPersistEvery: losing it to a crash only means
    // records HQ already has are sent again, and HQ absorbs duplicates.
    const std::uint64_t upto = *n;
    delivered_upto = upto;
    st.last_ack_at = clock.now();
    while (!window.empty() && window.front().last <= upto) window.pop_front();
    if (!window.empty() && window.front().first <= upto) window.front().first = upto + 1;
    sent_upto = std::max(sent_upto, delivered_upto);
    if (!persist_armed) {
      persist_armed = true;
      arm(persist_timer, kAckPersistEvery, [](Impl& s) {
        s.persist_armed = false;
        s.persist_acks();
      });
    }
    pump();
  }

  void persist_acks() {
    const std::uint64_t n = delivered_upto;
    if (n <= persisted_upto) return;
    if (auto s = records.mark_delivered(n); !s) {
      st.last_error = "mark_delivered: " + s.error().message;
      spdlog::error("uplink: marking records up to {} delivered failed: {}", n, s.error().message);
      return;  // tried again at the next ack or at stop
    }
    persisted_upto = n;
  }

  void arm_ack_check() {
    const auto period = std::clamp<Millis>(cfg.ack_timeout / 4, Millis(10), Millis(1000));
    arm(ack_timer, period, [](Impl& s) { s.check_ack_timeout(); });
  }

  void check_ack_timeout() {
    if (state != LinkState::connected) return;
    if (!window.empty() && SteadyClock::now() - window.front().sent_at >= cfg.ack_timeout) {
      ++st.ack_timeouts;
      spdlog::warn("uplink: no ack for seq {}..{} within {} ms: sending again from {}",
                   window.front().first, window.back().last, cfg.ack_timeout.count(),
                   delivered_upto + 1);
      window.clear();
      sent_upto = delivered_upto;
      pump();
    } else if (window.empty() && paho_batches >= 2 * cfg.max_inflight_batches) {
      // Publishes of earlier connections that Paho never completed would
      // block sending for good: stop counting them.
      spdlog::warn("uplink: {} batch publishes of earlier connections never completed",
                   paho_batches);
      forget_stale();
      pump();
    }
    arm_ack_check();
  }

  // ---- telemetry -----------------------------------------------------------

  void telemetry_tick() {
    if (state == LinkState::connected && !stopping) {
      auto s = records.outbox_state();
      if (s) {
        json extras = json::object();
        if (telemetry) {
          try {
            extras = telemetry();
          } catch (const std::exception& e) {
            spdlog::warn("uplink: telemetry provider failed: {}", e.what());
          }
        }
        if (ev && extras.is_object() && !extras.contains("evidence")) {
          const auto& f = ev->figures();
          extras["evidence"] = {{"sent_bytes", f.sent_bytes},
                                {"delivered", f.delivered},
                                {"failed", f.failed},
                                {"current", f.current ? json(*f.current) : json(nullptr)},
                                {"current_acked", f.current_acked},
                                {"current_size", f.current_size}};
        }
        const auto uptime =
            std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - started_steady);
        LinkFigures f{st.reconnects, st.bad_acks, st.ack_timeouts, window.size()};
        publish(PubKind::telemetry, topics.telemetry,
                telemetry_payload(cfg.outlet, cfg.version, clock.now(), uptime, *s, f, extras), 0,
                false, 0);
      } else {
        spdlog::warn("uplink: outbox state for telemetry failed: {}", s.error().message);
      }
      pump_events();
    }
    arm(telemetry_timer, cfg.telemetry_interval, [](Impl& s) { s.telemetry_tick(); });
  }

  void on_action(const ActionResult& r) {
    switch (r.op) {
      case Op::connect:
        if (r.ok)
          on_connected(r);
        else
          on_connect_failed(r.id, "connect: " + describe_rc(r.rc, r.reason));
        break;
      case Op::subscribe:
        on_subscribed(r);
        break;
      case Op::publish:
        on_published(r);
        break;
      case Op::disconnect:
        finish_stop();
        break;
    }
  }

  UplinkStatus status() const {
    UplinkStatus s = st;
    s.state = state;
    s.connected = state == LinkState::connected;
    s.draining = s.connected && !window.empty();
    s.delivered_upto = delivered_upto;
    s.sent_upto = sent_upto;
    s.inflight_batches = window.size();
    s.evidence_enabled = ev != nullptr;
    if (ev) s.evidence = ev->figures();
    return s;
  }

  asio::io_context& io;
  UplinkConfig cfg;
  core::RecordOutbox& records;
  core::EventOutbox* events;
  core::EvidenceOutbox* evidence_outbox = nullptr;
  TelemetryProvider telemetry;
  core::Clock& clock;
  core::RandomSource& random;
  Topics topics;
  EvidenceTopics ev_topics;

  std::unique_ptr<Listener> connect_l, subscribe_l, publish_l, disconnect_l;
  // After the listeners: destroyed first, so Paho never calls a dead one.
  std::unique_ptr<mqtt::async_client> cli;

  asio::steady_timer reconnect_timer, linger_timer, pace_timer, retry_timer, ack_timer,
      telemetry_timer, stop_timer, persist_timer, evidence_timer;
  bool linger_armed = false, pace_armed = false, retry_armed = false;

  LinkState state = LinkState::idle;
  bool stopping = false;
  std::vector<std::function<void()>> stop_waiters;
  std::uint64_t epoch = 0;  // connect attempts; outcomes of older ones are stale
  unsigned attempts = 0;

  std::deque<Batch> window;  // published, not yet acknowledged by HQ
  std::uint64_t sent_upto = 0;
  std::uint64_t max_sent = 0;  // highest seq ever published by this process
  std::uint64_t delivered_upto = 0;
  std::uint64_t last_seq_at_start = 0;
  std::uint64_t persisted_upto = 0;  // delivered_upto as last written to the store
  bool persist_armed = false;

  std::unordered_map<std::uint64_t, Pending> pending;  // handed to Paho, not completed
  std::size_t paho_batches = 0;
  std::uint64_t next_pub_id = 1;
  std::uint64_t last_pub_id = 0;
  std::uint64_t event_pub = 0;        // id of the event publish in flight, 0 when none
  std::deque<core::Event> transient;  // events the store could not keep
  std::uint64_t events_sent_upto = 0;

  TokenBucket record_bucket, byte_bucket;
  // Declared after everything its callbacks use; destroyed before them.
  std::unique_ptr<EvidenceSender> ev;
  bool records_idle_known = false;  // pending_after found none since the last notify
  UplinkStatus st;
  core::TimePoint started_at{};
  SteadyClock::time_point started_steady;
};

void Listener::deliver(const mqtt::token& tok, bool ok) {
  ActionResult r;
  r.op = op_;
  r.id = from_ctx(tok.get_user_context());
  r.ok = ok;
  r.rc = tok.get_return_code();
  r.reason = static_cast<int>(tok.get_reason_code());
  if (op_ == Op::connect && ok) {
    try {
      const auto resp = tok.get_connect_response();
      r.server_uri = resp.get_server_uri();
      r.session_present = resp.is_session_present();
    } catch (...) {
    }
  }
  asio::post(io_, [w = impl_, r = std::move(r)] {
    if (auto s = w.lock()) s->on_action(r);
  });
}

Uplink::Uplink(asio::io_context& io, UplinkConfig cfg, core::RecordOutbox& records,
               core::EventOutbox* events, TelemetryProvider telemetry, core::Clock& clock,
               core::RandomSource& random)
    : impl_(std::make_shared<Impl>(io, std::move(cfg), records, events, std::move(telemetry), clock,
                                   random)) {}

Uplink::~Uplink() = default;

core::Status Uplink::start() {
  return impl_->start();
}
void Uplink::stop(std::function<void()> done) {
  impl_->stop(std::move(done));
}

void Uplink::notify_new_records() {
  impl_->post([](Impl& s) { s.on_new_records(); });
}
void Uplink::notify_new_events() {
  impl_->post([](Impl& s) { s.pump_events(); });
}
void Uplink::notify_new_evidence() {
  impl_->post([](Impl& s) {
    if (!s.ev) return;
    s.ev->on_new_evidence();
    s.evidence_wake();
  });
}
void Uplink::set_evidence_outbox(core::EvidenceOutbox* outbox) {
  impl_->evidence_outbox = outbox;
}
void Uplink::send_transient_event(core::Event event) {
  impl_->post([e = std::move(event)](Impl& s) mutable {
    if (s.transient.size() >= kTransientEventsMax) s.transient.pop_front();
    s.transient.push_back(std::move(e));
    s.pump_transient();
  });
}

UplinkStatus Uplink::status() const {
  return impl_->status();
}

}  // namespace postgate::uplink
