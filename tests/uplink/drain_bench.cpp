// Drain rate of a backlog: the uplink (batches, HQ acks, in-memory outbox)
// against plain Paho QoS 1 publishing of the same records, one message each
// and in batches, with only the broker's PUBACK. Not a test: prints figures.
// Usage: uplink_drain_bench [records=100000]
#include <cstdio>
#include <cstdlib>
#include <deque>

#include <spdlog/spdlog.h>

#include "broker_harness.hpp"
#include "codec/record_json.hpp"
#include "test_records.hpp"

using namespace postgate;
using namespace postgate::uplink;
using namespace postgate::uplink::testing;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Publishes every payload QoS 1 with at most `window` unacknowledged.
double plain_paho(const std::string& uri, const std::vector<std::string>& payloads,
                  std::size_t window) {
  mqtt::create_options co(MQTTVERSION_5);
  co.set_max_buffered_messages(static_cast<int>(window + 10));
  mqtt::async_client cli(uri, "bench-plain", co, nullptr);
  auto o = mqtt::connect_options_builder().mqtt_version(MQTTVERSION_5).finalize();
  cli.connect(o)->wait();
  std::deque<mqtt::delivery_token_ptr> inflight;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& p : payloads) {
    if (inflight.size() >= window) {
      inflight.front()->wait();
      inflight.pop_front();
    }
    inflight.push_back(cli.publish("bench/plain", p.data(), p.size(), 1, false));
  }
  for (auto& t : inflight) t->wait();
  const double s = seconds_since(t0);
  cli.disconnect()->wait();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  if (!mosquitto_available()) {
    std::fprintf(stderr, "mosquitto missing\n");
    return 77;
  }
  spdlog::set_level(spdlog::level::warn);
  TempDir dir;
  Broker broker(dir.path());
  if (!broker.start()) {
    std::fprintf(stderr, "broker did not start: %s\n", broker.log().c_str());
    return 1;
  }
  MemoryOutbox outbox;
  auto t0 = std::chrono::steady_clock::now();
  outbox.append(n);
  std::printf("generated %zu records in %.2f s\n", n, seconds_since(t0));

  {
    HqPeer hq(broker.uri());
    if (!hq.start()) return 1;
    auto cfg = test_config(broker.uri());
    cfg.drain_records_per_s = 0;
    cfg.drain_bytes_per_s = 0;
    Edge edge(cfg, outbox);
    if (!edge.start()) return 1;
    wait_until([&] { return edge.status().connected; }, 10s);
    t0 = std::chrono::steady_clock::now();
    wait_until([&] { return outbox.pending() == 0; }, 600s);
    const double s = seconds_since(t0);
    const auto st = edge.status();
    std::printf(
        "uplink, HQ-acked, window 8 x 200: %zu records in %.2f s = %.0f records/s "
        "(%llu batches, largest %zu records / %zu bytes, %llu records received)\n",
        n, s, static_cast<double>(n) / s, static_cast<unsigned long long>(st.batches_sent),
        hq.largest_batch(), hq.largest_payload(), static_cast<unsigned long long>(hq.received()));
    edge.stop();
  }

  std::vector<std::string> single;
  core::SplitMix64 rng(1);
  single.reserve(n);
  for (std::size_t i = 1; i <= n; ++i)
    single.push_back(codec::record_to_json(make_record(rng, i), codec::Masking::clear).dump());
  for (std::size_t window : {1u, 100u}) {
    const std::size_t m = window == 1 ? std::min<std::size_t>(n, 20000) : n;
    std::vector<std::string> part(single.begin(), single.begin() + static_cast<long>(m));
    const double s = plain_paho(broker.uri(), part, window);
    std::printf("plain Paho QoS 1, one record a message, %zu in flight: %zu in %.2f s = %.0f/s\n",
                window, m, s, static_cast<double>(m) / s);
  }
  std::vector<std::string> batches;
  for (std::size_t i = 0; i < n; i += 200) {
    std::string b = "{\"outlet\":\"sh-0001\",\"batch\":[";
    for (std::size_t k = i; k < std::min(n, i + 200); ++k) b += (k == i ? "" : ",") + single[k];
    batches.push_back(b + "]}");
  }
  const double s = plain_paho(broker.uri(), batches, 8);
  std::printf(
      "plain Paho QoS 1, 200-record batches, 8 in flight, no HQ: %zu records in %.2f s "
      "= %.0f records/s\n",
      n, s, static_cast<double>(n) / s);
  return 0;
}
