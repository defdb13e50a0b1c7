// The uplink against a real mosquitto and a test-side HQ peer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker_harness.hpp"

extern char** environ;

namespace postgate::uplink::testing {
namespace {

using json = nlohmann::json;

const std::string kStatus = "postgate/v1/sh-0001/status";

json parse(const Message& m) {
  return json::parse(m.payload, nullptr, false);
}
bool is_state(const Message& m, const std::string& state, const std::string& reason = "") {
  const auto j = parse(m);
  return j.is_object() && j.value("state", "") == state &&
         (reason.empty() || j.value("reason", "") == reason);
}

class UplinkBroker : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!mosquitto_available())
      GTEST_SKIP() << "mosquitto is not installed at " << kMosquitto << ": broker tests skipped";
    if (std::string why; !Peer::available(why))
      GTEST_SKIP() << why << ": the test-side HQ peer cannot run, broker tests skipped";
    broker_ = std::make_unique<Broker>(dir_.path());
  }
  void start_broker() { ASSERT_TRUE(broker_->start()) << broker_->log(); }
  std::unique_ptr<Peer> start_hq() {
    auto hq = std::make_unique<Peer>(Peer::Options{broker_->port(), "hq-test", {}, {}, {}});
    EXPECT_TRUE(hq->hq());
    return hq;
  }
  std::unique_ptr<Peer> watcher(const std::string& filter) {
    auto c = std::make_unique<Peer>(
        Peer::Options{broker_->port(), "watcher-" + std::to_string(++watchers_), {}, {}, {}});
    EXPECT_TRUE(c->subscribe(filter, 1));
    return c;
  }

  TempDir dir_;
  std::unique_ptr<Broker> broker_;
  int watchers_ = 0;
};

TEST_F(UplinkBroker, DeliversAThousandRecordsAndMarksThemDelivered) {
  start_broker();
  auto hq = start_hq();
  MemoryOutbox outbox;
  outbox.append(1000);
  Edge edge(test_config(broker_->uri()), outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 10s))
      << "pending " << outbox.pending() << ", hq has " << hq->contiguous("sh-0001");
  EXPECT_EQ(hq->contiguous("sh-0001"), 1000u);
  EXPECT_EQ(hq->distinct("sh-0001"), 1000u);
  EXPECT_LE(hq->largest_batch(), 200u);
  EXPECT_LE(hq->largest_payload(), 256u * 1024 + 4096);
  const auto st = edge.status();
  EXPECT_TRUE(st.connected);
  EXPECT_EQ(st.broker, broker_->uri());
  EXPECT_EQ(st.delivered_upto, 1000u);
  EXPECT_EQ(st.bad_acks, 0u);
  EXPECT_TRUE(st.last_ack_at.has_value());

  // New records after the backlog: notify wakes the sender.
  outbox.append(3);
  edge.notify_new_records();
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 5s));
  EXPECT_EQ(hq->contiguous("sh-0001"), 1003u);
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, BrokerDownAtStartThenUpDrains) {
  MemoryOutbox outbox;
  outbox.append(500);
  Edge edge(test_config(broker_->uri()), outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return edge.status().connect_failures >= 2; }, 5s));
  EXPECT_FALSE(edge.status().connected);
  EXPECT_EQ(outbox.pending(), 500u);

  start_broker();
  auto hq = start_hq();
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 10s))
      << "pending " << outbox.pending();
  EXPECT_EQ(hq->contiguous("sh-0001"), 500u);
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, BrokerRestartMidDrainLosesNothing) {
  start_broker();
  auto hq = start_hq();
  MemoryOutbox outbox;
  outbox.append(6000);
  auto cfg = test_config(broker_->uri());
  cfg.drain_records_per_s = 3000;  // about two seconds of draining
  Edge edge(cfg, outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return outbox.delivered() >= 1000; }, 5s));
  ASSERT_GT(outbox.pending(), 0u) << "drained before the restart";
  broker_->kill();
  std::this_thread::sleep_for(300ms);
  start_broker();
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 20s))
      << "pending " << outbox.pending() << ", hq contiguous " << hq->contiguous("sh-0001");
  EXPECT_EQ(hq->contiguous("sh-0001"), 6000u);
  EXPECT_EQ(hq->distinct("sh-0001"), 6000u);
  EXPECT_GE(edge.status().reconnects, 1u);
  std::printf("restart mid-drain: %llu records received for 6000 (duplicates absorbed)\n",
              static_cast<unsigned long long>(hq->received()));
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, BadAcksAreIgnoredWithoutLoss) {
  start_broker();
  auto hq = start_hq();
  hq->set_auto_ack(false);
  MemoryOutbox outbox;
  outbox.append(100);
  Edge edge(test_config(broker_->uri()), outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return hq->distinct("sh-0001") == 100; }, 5s));

  const std::string ack = "postgate/v1/sh-0001/ack";
  const std::vector<std::string> bad = {
      "not json",
      R"({"upto_seq":100,"pad":")" + std::string(5000, 'x') + "\"}",  // oversize
      R"({"upto_seq":-1})",
      R"({"upto_seq":"100"})",
      R"({"seq":100})",
      R"({"upto_seq":100000})",  // beyond what was sent
      R"({"upto_seq":100,"outlet":"sh-0002"})",
  };
  for (const auto& b : bad) hq->publish(ack, b);
  // Another outlet's ack topic never reaches this edge.
  hq->publish("postgate/v1/sh-0002/ack", R"({"upto_seq":100})");
  ASSERT_TRUE(wait_until([&] { return edge.status().bad_acks == bad.size(); }, 5s))
      << "bad acks " << edge.status().bad_acks;
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(edge.status().bad_acks, bad.size());
  EXPECT_EQ(outbox.delivered(), 0u);
  EXPECT_EQ(outbox.pending(), 100u);

  hq->publish(ack, R"({"upto_seq":40})");
  ASSERT_TRUE(wait_until([&] { return outbox.delivered() == 40; }, 5s));
  hq->publish(ack, R"({"upto_seq":10})");  // lower: harmless
  hq->publish(ack, R"({"upto_seq":100})");
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 5s));
  EXPECT_EQ(edge.status().bad_acks, bad.size());
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, AckTimeoutResendsFromTheLastAck) {
  start_broker();
  auto hq = start_hq();
  hq->set_auto_ack(false);
  MemoryOutbox outbox;
  outbox.append(50);
  auto cfg = test_config(broker_->uri());
  cfg.ack_timeout = 300ms;
  Edge edge(cfg, outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return hq->count_of("sh-0001", 1) >= 2; }, 5s));
  EXPECT_GE(edge.status().ack_timeouts, 1u);
  hq->publish("postgate/v1/sh-0001/ack", R"({"upto_seq":20})");
  ASSERT_TRUE(wait_until([&] { return outbox.delivered() == 20; }, 5s));
  // Later resends start after the ack.
  const auto before = hq->count_of("sh-0001", 21);
  ASSERT_TRUE(wait_until([&] { return hq->count_of("sh-0001", 21) > before; }, 5s));
  const auto ones = hq->count_of("sh-0001", 1);
  hq->set_auto_ack(true);
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 5s));
  EXPECT_EQ(hq->count_of("sh-0001", 1), ones);
  EXPECT_TRUE(edge.stop());
}

// An earlier run died after HQ stored records but before it wrote HQ's ack
// down: this run resends from the last ack it knows, and HQ answers with its
// watermark, above anything this run has sent. That ack must move it on.
TEST_F(UplinkBroker, AckBeyondWhatThisRunSentCoversAnEarlierRunsRecords) {
  start_broker();
  auto hq = start_hq();
  hq->set_auto_ack(false);
  MemoryOutbox outbox;
  outbox.append(5000);  // all there at start, none marked delivered
  Edge edge(test_config(broker_->uri()), outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return edge.status().inflight_batches == 8; }, 5s));
  hq->publish("postgate/v1/sh-0001/ack", R"({"upto_seq":4000})");  // beyond the window
  ASSERT_TRUE(wait_until([&] { return outbox.delivered() == 4000; }, 5s));
  EXPECT_EQ(edge.status().bad_acks, 0u);
  // Sending goes on after 4000, and an ack beyond every stored seq is still refused.
  ASSERT_TRUE(wait_until([&] { return hq->count_of("sh-0001", 4001) >= 1; }, 5s));
  hq->publish("postgate/v1/sh-0001/ack", R"({"upto_seq":5001})");
  ASSERT_TRUE(wait_until([&] { return edge.status().bad_acks == 1; }, 5s));
  // (The test HQ acks only what it saw without a gap: ack the rest by hand.)
  ASSERT_TRUE(wait_until([&] { return hq->count_of("sh-0001", 5000) >= 1; }, 5s));
  hq->publish("postgate/v1/sh-0001/ack", R"({"upto_seq":5000})");
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 5s));
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, MemoryIsBoundedByTheWindowWhateverTheBacklog) {
  start_broker();
  auto hq = start_hq();
  hq->set_auto_ack(false);
  MemoryOutbox outbox;
  outbox.append(20000);
  auto cfg = test_config(broker_->uri());
  const std::size_t window = cfg.max_inflight_batches;
  Edge edge(cfg, outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return hq->distinct("sh-0001") == window * 200; }, 5s))
      << hq->distinct("sh-0001");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(hq->distinct("sh-0001"), window * 200);  // the window, not the backlog
  EXPECT_EQ(edge.status().inflight_batches, window);
  EXPECT_LE(outbox.largest_read(), 200u);
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, BirthOnConnectAndOfflineOnCleanShutdownAreRetained) {
  start_broker();
  MemoryOutbox outbox;
  Edge edge(test_config(broker_->uri()), outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return edge.status().connected; }, 5s));
  {
    auto late = watcher(kStatus);  // subscribes after the birth: gets it retained
    const auto m = late->wait_for(
        kStatus, [](const Message& x) { return is_state(x, "online"); }, 5s);
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->retained);
    const auto j = parse(*m);
    EXPECT_EQ(j["outlet"], "sh-0001");
    EXPECT_EQ(j["version"], "0.1.0-test");
    EXPECT_TRUE(j.contains("started_at"));
    EXPECT_TRUE(j.contains("connected_at"));
  }
  auto live = watcher(kStatus);
  ASSERT_TRUE(edge.stop());
  EXPECT_EQ(edge.status().state, LinkState::stopped);
  ASSERT_TRUE(live->wait_for(
      kStatus, [](const Message& x) { return is_state(x, "offline", "shutdown"); }, 5s));
  auto after = watcher(kStatus);
  const auto m = after->wait_for(
      kStatus, [](const Message& x) { return is_state(x, "offline"); }, 5s);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->retained);
  EXPECT_EQ(parse(*m)["reason"], "shutdown");
  EXPECT_TRUE(parse(*m).contains("at"));
  // A clean stop is not a lost connection: no will afterwards.
  std::this_thread::sleep_for(200ms);
  for (const auto& x : live->messages_on(kStatus))
    EXPECT_FALSE(is_state(x, "offline", "connection_lost"));
}

TEST_F(UplinkBroker, LastWillWhenTheEdgeIsKilled) {
  start_broker();
  auto w = watcher(kStatus);
  pid_t pid = -1;
  std::string prog = UPLINK_EDGE_CHILD, uri = broker_->uri(), outlet = "sh-0001";
  char* argv[] = {prog.data(), uri.data(), outlet.data(), nullptr};
  ASSERT_EQ(posix_spawn(&pid, prog.c_str(), nullptr, nullptr, argv, environ), 0);
  const bool online = w->wait_for(
                           kStatus, [](const Message& x) { return is_state(x, "online"); }, 5s)
                          .has_value();
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(online);
  const auto m = w->wait_for(
      kStatus, [](const Message& x) { return is_state(x, "offline", "connection_lost"); }, 5s);
  ASSERT_TRUE(m) << "no will after SIGKILL";
  EXPECT_EQ(parse(*m), json::parse(R"({"state":"offline","outlet":"sh-0001",
                                       "reason":"connection_lost"})"));
  auto after = watcher(kStatus);
  const auto r = after->wait_for(
      kStatus, [](const Message& x) { return is_state(x, "offline"); }, 5s);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->retained);
}

TEST_F(UplinkBroker, DrainRateIsBounded) {
  start_broker();
  auto hq = start_hq();
  MemoryOutbox outbox;
  outbox.append(3000);
  auto cfg = test_config(broker_->uri());
  cfg.drain_records_per_s = 1000;
  Edge edge(cfg, outbox);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 10s));
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // One second's burst (1000), then 2000 at 1000/s.
  EXPECT_GE(took, 1.7);
  EXPECT_LE(took, 4.0);
  // No sliding second after the burst carries far more than the rate. The
  // receipt times are taken at the test's HQ peer, so a loaded machine (seen
  // under ASan in CI: 1,463) bunches deliveries; the bound catches a limiter
  // that does not limit (3,000 in one second), not jitter.
  const auto times = hq->receipt_times();
  ASSERT_EQ(times.size(), 3000u);
  std::size_t worst = 0;
  for (std::size_t i = 1000, j = 1000; i < times.size(); ++i) {
    while (times[i] - times[j] > 1s) ++j;
    worst = std::max(worst, i - j + 1);
  }
  EXPECT_LE(worst, 1800u);
  std::printf("drain at 1000 records/s: 3000 records in %.2f s, busiest later second %zu\n", took,
              worst);
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, ByteRateIsBounded) {
  start_broker();
  auto hq = start_hq();
  MemoryOutbox outbox;
  outbox.append(1500);
  auto cfg = test_config(broker_->uri());
  cfg.drain_bytes_per_s = 256 * 1024;
  Edge edge(cfg, outbox);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 15s));
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double bytes = static_cast<double>(hq->largest_payload()) / hq->largest_batch() * 1500;
  const double expected = bytes / (256 * 1024) - 1.0;  // the first second is a burst
  EXPECT_GE(took, expected * 0.8) << bytes << " bytes";
  EXPECT_LE(took, expected + 3.0);
  std::printf("drain at 256 KiB/s: about %.0f bytes in %.2f s\n", bytes, took);
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, EventsAreSentInOrderAndMarkedSent) {
  start_broker();
  auto w = watcher("postgate/v1/sh-0001/events");
  MemoryOutbox outbox;
  core::SplitMix64 rng(9);
  for (int i = 0; i < 3; ++i) {
    core::Event e;
    e.id = core::make_uuid_v7(core::SystemClock().now(), rng);
    e.at = core::SystemClock().now();
    e.kind = i == 1 ? "device_gone" : "prohibited_item";
    e.severity = "alert";
    e.message = "event " + std::to_string(i);
    e.record_seq = 10 + i;
    ASSERT_TRUE(outbox.add_event(e));
  }
  Edge edge(test_config(broker_->uri()), outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return outbox.events_sent() == 3; }, 5s));
  core::Event later;
  later.id = core::make_uuid_v7(core::SystemClock().now(), rng);
  later.kind = "storage_error";
  later.severity = "warning";
  later.message = "event 3";
  ASSERT_TRUE(outbox.add_event(later));
  edge.notify_new_events();
  ASSERT_TRUE(wait_until([&] { return outbox.events_sent() == 4; }, 5s));
  ASSERT_TRUE(
      wait_until([&] { return w->messages_on("postgate/v1/sh-0001/events").size() == 4; }, 5s));
  const auto msgs = w->messages_on("postgate/v1/sh-0001/events");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(parse(msgs[i])["message"], "event " + std::to_string(i));
  EXPECT_EQ(parse(msgs[0])["record_seq"], 10);
  EXPECT_FALSE(parse(msgs[3]).contains("record_seq"));
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, TelemetryCarriesOutboxFiguresAndProviderExtras) {
  start_broker();
  auto hq = start_hq();
  hq->set_auto_ack(false);
  auto w = watcher("postgate/v1/sh-0001/telemetry");
  MemoryOutbox outbox;
  outbox.append(7);
  auto cfg = test_config(broker_->uri());
  cfg.telemetry_interval = 200ms;
  Edge edge(cfg, outbox, true, [] {
    return json{{"disk_free_bytes", 123}, {"storage_health", "ok"}, {"devices", json::array()}};
  });
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return hq->distinct("sh-0001") == 7; }, 5s));
  hq->publish("postgate/v1/sh-0001/ack", R"({"upto_seq":3})");
  ASSERT_TRUE(wait_until([&] { return outbox.delivered() == 3; }, 5s));
  const auto m = w->wait_for(
      "postgate/v1/sh-0001/telemetry",
      [](const Message& x) { return parse(x).value("last_acked_seq", 0) == 3; }, 5s);
  ASSERT_TRUE(m);
  const auto j = parse(*m);
  EXPECT_EQ(j["pending"], 4);
  EXPECT_EQ(j["last_seq"], 7);
  EXPECT_EQ(j["version"], "0.1.0-test");
  EXPECT_EQ(j["disk_free_bytes"], 123);
  EXPECT_EQ(j["storage_health"], "ok");
  EXPECT_TRUE(j["oldest_pending_age_s"].is_number());
  EXPECT_TRUE(j.contains("uptime_s"));
  EXPECT_FALSE(m->retained);
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, FailsOverToTheNextBroker) {
  start_broker();
  auto hq = start_hq();
  MemoryOutbox outbox;
  outbox.append(20);
  const std::string dead = "tcp://127.0.0.1:" + std::to_string(free_port());
  auto cfg = test_config(broker_->uri());
  cfg.brokers = {dead, broker_->uri()};
  Edge edge(cfg, outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 5s));
  EXPECT_EQ(edge.status().broker, broker_->uri());
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, Mqtt311Works) {
  start_broker();
  auto hq = start_hq();
  auto w = watcher(kStatus);
  MemoryOutbox outbox;
  outbox.append(300);
  auto cfg = test_config(broker_->uri());
  cfg.mqtt_version = 3;
  Edge edge(cfg, outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 5s));
  ASSERT_TRUE(edge.stop());
  EXPECT_TRUE(w->wait_for(
      kStatus, [](const Message& x) { return is_state(x, "offline", "shutdown"); }, 5s));
}

TEST_F(UplinkBroker, SessionTakeoverReconnectsAndResumes) {
  start_broker();
  auto hq = start_hq();
  hq->set_auto_ack(false);
  MemoryOutbox outbox;
  outbox.append(3000);
  Edge edge(test_config(broker_->uri()), outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return edge.status().inflight_batches == 8; }, 5s));
  {
    // Another client with the edge's id takes the session over, then leaves.
    Peer thief(Peer::Options{broker_->port(), "postgate-sh-0001", {}, {}, {}});
    ASSERT_TRUE(thief.wait_connected());
  }
  ASSERT_TRUE(wait_until([&] { return edge.status().reconnects >= 1; }, 5s));
  hq->set_auto_ack(true);
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 15s))
      << "pending " << outbox.pending() << ", last error " << edge.status().last_error;
  EXPECT_EQ(hq->contiguous("sh-0001"), 3000u);
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkBroker, AcksQueuedWhileTheEdgeWasAwayAreHarmless) {
  start_broker();
  auto hq = start_hq();
  hq->set_auto_ack(false);
  MemoryOutbox outbox;
  outbox.append(100);
  {
    Edge first(test_config(broker_->uri()), outbox);
    ASSERT_TRUE(first.start());
    ASSERT_TRUE(wait_until([&] { return hq->distinct("sh-0001") == 100; }, 5s));
    ASSERT_TRUE(first.stop());
  }
  // HQ acks while the edge is away: the persistent session keeps the ack.
  ASSERT_TRUE(hq->publish("postgate/v1/sh-0001/ack", R"({"upto_seq":100})"));
  hq->set_auto_ack(true);
  Edge second(test_config(broker_->uri()), outbox);
  ASSERT_TRUE(second.start());
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 5s));
  // The queued ack named seqs this process had not sent: ignored, not
  // suspicious; the resend got a fresh ack.
  EXPECT_EQ(second.status().bad_acks, 0u);
  EXPECT_TRUE(second.stop());
}

TEST_F(UplinkBroker, StopIsSafeInEveryState) {
  MemoryOutbox outbox;
  outbox.append(2000);
  {  // never started
    Edge edge(test_config(broker_->uri()), outbox);
    EXPECT_TRUE(edge.stop(1s));
  }
  {  // disconnected, waiting to retry
    Edge edge(test_config(broker_->uri()), outbox);
    ASSERT_TRUE(edge.start());
    ASSERT_TRUE(wait_until([&] { return edge.status().connect_failures >= 1; }, 5s));
    EXPECT_TRUE(edge.stop(1s));
    EXPECT_EQ(edge.status().state, LinkState::stopped);
  }
  {  // connecting: a listener that never answers CONNECT
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 4), 0);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    auto cfg = test_config("tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
    cfg.connect_timeout = 1s;
    Edge edge(cfg, outbox);
    ASSERT_TRUE(edge.start());
    EXPECT_EQ(edge.status().state, LinkState::connecting);
    EXPECT_TRUE(edge.stop(4s));
    EXPECT_EQ(edge.status().state, LinkState::stopped);
    ::close(fd);
  }
  start_broker();
  auto hq = start_hq();
  hq->set_auto_ack(false);
  {  // connected and draining (window full, no acks), stopped twice
    Edge edge(test_config(broker_->uri()), outbox);
    ASSERT_TRUE(edge.start());
    ASSERT_TRUE(wait_until([&] { return edge.status().inflight_batches == 8; }, 5s));
    EXPECT_TRUE(edge.status().draining);
    EXPECT_TRUE(edge.stop(4s));
    EXPECT_TRUE(edge.stop(1s));
    EXPECT_EQ(edge.status().state, LinkState::stopped);
  }
  {  // destroyed without stop while connected: no crash (the will covers it)
    Edge edge(test_config(broker_->uri()), outbox);
    ASSERT_TRUE(edge.start());
    ASSERT_TRUE(wait_until([&] { return edge.status().connected; }, 5s));
  }
}

}  // namespace
}  // namespace postgate::uplink::testing
