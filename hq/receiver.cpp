#include "hq/receiver.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

namespace postgate::hq {

namespace {

struct Incoming {
  std::string topic;
  std::string payload;  // empty when `parsed` holds a records payload
  bool retained = false;
  std::optional<core::Result<ParsedBatch>> parsed;
};

// Bounded hand-over from Paho's callback thread to the worker. When full the
// callback blocks, which stops Paho reading the socket: back-pressure to the
// broker rather than unbounded memory.
class Queue {
 public:
  explicit Queue(std::size_t max) : max_(max) {}
  void push(Incoming m) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < max_ || closed_; });
    if (closed_) return;
    q_.push_back(std::move(m));
    not_empty_.notify_one();
  }
  std::optional<Incoming> pop_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    if (!not_empty_.wait_for(lock, d, [&] { return !q_.empty(); })) return std::nullopt;
    Incoming m = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return m;
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_full_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Incoming> q_;
  std::size_t max_;
  bool closed_ = false;
};

std::string filter(const ReceiverOptions& o, const char* kind, bool shareable) {
  std::string f = o.prefix + "/+/" + kind;
  if (shareable && o.group) f = "$share/" + *o.group + "/" + f;
  return f;
}

mqtt::connect_options connect_options_for(const ReceiverOptions& o) {
  mqtt::connect_options c;
  auto servers = std::make_shared<mqtt::string_collection>();
  for (const auto& b : o.brokers) servers->push_back(b);
  c.set_servers(servers);
  c.set_keep_alive_interval(o.keepalive_s);
  c.set_connect_timeout(10);
  c.set_automatic_reconnect(1, 30);
  if (o.mqtt_version == 5) {
    c.set_mqtt_version(MQTTVERSION_5);
    c.set_clean_session(false);
    c.set_clean_start(o.clean_start);
    mqtt::properties props;
    props.add({mqtt::property::SESSION_EXPIRY_INTERVAL,
               static_cast<int32_t>(o.clean_start ? 0 : o.session_expiry_s)});
    c.set_properties(props);
  } else {
    c.set_mqtt_version(MQTTVERSION_3_1_1);
    c.set_clean_start(false);
    c.set_clean_session(o.clean_start);
  }
  if (!o.ca_file.empty() || !o.cert_file.empty()) {
    mqtt::ssl_options ssl;
    if (!o.ca_file.empty()) ssl.set_trust_store(o.ca_file);
    if (!o.cert_file.empty()) ssl.set_key_store(o.cert_file);
    if (!o.key_file.empty()) ssl.set_private_key(o.key_file);
    ssl.set_enable_server_cert_auth(true);
    c.set_ssl(ssl);
  }
  return c;
}

}  // namespace

std::vector<std::string> subscription_filters(const ReceiverOptions& o) {
  return {filter(o, "records", true), filter(o, "status", false), filter(o, "telemetry", true),
          filter(o, "events", true), filter(o, "evidence/chunk", true)};
}

core::Status run_receiver(Ingestor& ingestor, const ReceiverOptions& options,
                          const std::atomic<bool>& stop) {
  if (options.brokers.empty()) return core::fail("no_broker", "broker", "no --broker given");
  try {
    mqtt::create_options create(options.mqtt_version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
    // Acks published while the connection is down wait here; an ack is
    // small and a stale one is harmless.
    create.set_max_buffered_messages(static_cast<int>(options.queue_max));
    // Acks are not left to Paho while disconnected: it would send every
    // buffered one at once on reconnect, beyond the broker's receive
    // maximum, and mosquitto answers that with a protocol-error disconnect,
    // again at every reconnect. They are held below instead, the latest per
    // outlet (and item), and go out once connected.
    create.set_send_while_disconnected(false);
    // Declared before the client, so they outlive any callback it runs.
    Queue queue(options.queue_max);
    const auto filters = subscription_filters(options);
    std::mutex sub_mu;
    mqtt::token_ptr sub_token;
    mqtt::async_client client(options.brokers.front(), options.client_id, create);

    client.set_message_callback([&](mqtt::const_message_ptr m) {
      if (!m) return;
      // Records are parsed here, on Paho's thread, while the worker stores
      // the messages before them.
      auto parsed = ingestor.parse_ahead(m->get_topic(), m->get_payload());
      queue.push({m->get_topic(), parsed ? std::string() : m->get_payload_str(), m->is_retained(),
                  std::move(parsed)});
    });
    // Subscribing again on every connect covers a broker that lost our
    // session (restart without persistence, expiry). The token is checked
    // by the worker: waiting for it here would block Paho's callback thread.
    client.set_connected_handler([&](const std::string& cause) {
      spdlog::info("connected to {}{}", client.get_server_uri(),
                   cause.empty() ? "" : " (" + cause + ")");
      auto topics = std::make_shared<mqtt::string_collection>();
      for (const auto& f : filters) topics->push_back(f);
      mqtt::iasync_client::qos_collection qos(filters.size(), 1);
      try {
        auto tok = client.subscribe(topics, qos);
        std::lock_guard lock(sub_mu);
        sub_token = tok;
      } catch (const mqtt::exception& e) {
        spdlog::error("subscribe failed: {}", e.what());
      }
    });
    auto check_subscribed = [&] {
      std::lock_guard lock(sub_mu);
      if (!sub_token || !sub_token->is_complete()) return;
      try {
        const auto codes = sub_token->get_subscribe_response().get_reason_codes();
        for (std::size_t i = 0; i < filters.size(); ++i) {
          const int code = i < codes.size() ? static_cast<int>(codes[i]) : 0;
          if (code >= 0x80)
            spdlog::error("subscription to {} refused by the broker (reason {})", filters[i], code);
          else
            spdlog::info("subscribed to {}", filters[i]);
        }
      } catch (const mqtt::exception& e) {
        spdlog::error("subscribe failed: {}", e.what());
      }
      sub_token.reset();
    };
    client.set_connection_lost_handler([](const std::string& cause) {
      spdlog::warn("connection lost{}; reconnecting", cause.empty() ? "" : ": " + cause);
    });

    const auto copts = connect_options_for(options);
    // Paho reconnects by itself only after a first success; until then we
    // retry here with a capped back-off, watching for a stop request.
    auto delay = std::chrono::milliseconds(500);
    while (!stop.load()) {
      try {
        client.connect(copts)->wait();
        break;
      } catch (const mqtt::exception& e) {
        spdlog::warn("cannot connect ({}); retrying in {} ms", e.what(), delay.count());
        const auto until = std::chrono::steady_clock::now() + delay;
        while (!stop.load() && std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        delay = std::min(delay * 2, std::chrono::milliseconds(30000));
      }
    }

    // Group commit: what is already queued (up to group_max messages) is
    // stored in one transaction, so a backlog costs one fsync per group, not
    // per batch; the acks go out only after that commit, one per outlet
    // (a later ack of an outlet covers its earlier ones).
    const std::size_t group_max = std::max<std::size_t>(1, options.group_max);
    core::Status result;
    std::vector<Publication> acks;
    std::map<std::string, Publication> held;  // by coalescing key, not yet published
    const auto key_of = [](const Publication& p) { return p.key.empty() ? p.topic : p.key; };
    const auto flush_held = [&] {
      while (!held.empty() && client.is_connected()) {
        const auto it = held.begin();
        try {
          client.publish(it->second.topic, it->second.payload.data(), it->second.payload.size(), 1,
                         false);
        } catch (const mqtt::exception& e) {
          // Not connected after all, or Paho's queue is full: kept for later;
          // the edge resends after its ack timeout meanwhile, which re-acks.
          spdlog::debug("ack to {} held: {}", it->second.topic, e.what());
          return;
        }
        held.erase(it);
      }
    };
    while (!stop.load()) {
      check_subscribed();
      flush_held();
      auto m = queue.pop_for(std::chrono::milliseconds(50));
      if (!m) continue;
      if (auto s = ingestor.store().begin_group(); !s) {
        spdlog::critical("database failure, stopping: {} ({})", s.error().message, s.error().code);
        result = s;
        break;
      }
      acks.clear();
      std::size_t handled = 0;
      while (m) {
        auto ack = ingestor.handle(m->topic, m->payload, m->retained, std::move(m->parsed));
        if (!ack) {
          result = std::unexpected(ack.error());
          break;
        }
        if (*ack) {
          auto same = std::find_if(acks.begin(), acks.end(), [&](const Publication& p) {
            return key_of(p) == key_of(**ack);
          });
          if (same != acks.end())
            *same = std::move(**ack);
          else
            acks.push_back(std::move(**ack));
        }
        if (++handled >= group_max) break;
        m = queue.pop_for(std::chrono::milliseconds(0));
      }
      if (result) result = ingestor.store().commit_group();
      if (!result) {
        // A database that cannot write is not a state to keep receiving in:
        // every batch would be lost to us and resent by the edge anyway.
        ingestor.store().abort_group();
        spdlog::critical("database failure, stopping: {} ({})", result.error().message,
                         result.error().code);
        break;
      }
      for (auto& a : acks) held[key_of(a)] = std::move(a);
      flush_held();
    }

    queue.close();
    client.set_message_callback([](mqtt::const_message_ptr) {});
    if (client.is_connected()) {
      try {
        client.disconnect()->wait_for(std::chrono::seconds(5));
      } catch (const mqtt::exception& e) {
        spdlog::warn("disconnect: {}", e.what());
      }
    }
    // What was received but not yet handled is stored, so the work is not
    // lost; its acks go out with the next batch after a restart.
    while (result) {
      auto m = queue.pop_for(std::chrono::milliseconds(0));
      if (!m) break;
      if (auto r = ingestor.handle(m->topic, m->payload, m->retained, std::move(m->parsed)); !r)
        result = std::unexpected(r.error());
    }
    const auto& c = ingestor.counters();
    spdlog::info(
        "stopped: {} messages, {} batches, {} records stored, {} duplicates, {} conflicts, "
        "{} ignored, {} acks; evidence: {} chunks, {} bytes, {} verified, {} mismatches, "
        "{} rejected",
        c.messages, c.batches, c.stored, c.duplicates, c.conflicts, c.rejected, c.acks,
        c.evidence_chunks, c.evidence_bytes, c.evidence_verified, c.evidence_mismatches,
        c.evidence_rejected);
    return result;
  } catch (const mqtt::exception& e) {
    return core::fail("mqtt_error", "broker", std::string("MQTT client: ") + e.what());
  }
}

}  // namespace postgate::hq
