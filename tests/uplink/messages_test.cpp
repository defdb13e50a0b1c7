#include "uplink/messages.hpp"

#include <gtest/gtest.h>

#include "codec/record_json.hpp"
#include "core/synthetic.hpp"
#include "test_records.hpp"
#include "uplink/uplink.hpp"

namespace postgate::uplink {
namespace {

using namespace std::chrono_literals;

core::TimePoint t0() {
  return core::TimePoint(std::chrono::sys_days(std::chrono::year{2026} / 11 / 23) + 8h);
}

TEST(UplinkMessages, TopicsFollowTheProtocol) {
  const auto t = make_topics("postgate/v1", "sh-0001");
  EXPECT_EQ(t.records, "postgate/v1/sh-0001/records");
  EXPECT_EQ(t.ack, "postgate/v1/sh-0001/ack");
  EXPECT_EQ(t.status, "postgate/v1/sh-0001/status");
  EXPECT_EQ(t.telemetry, "postgate/v1/sh-0001/telemetry");
  EXPECT_EQ(t.events, "postgate/v1/sh-0001/events");
}

TEST(UplinkMessages, OutletSyntax) {
  EXPECT_TRUE(valid_outlet("sh-0001"));
  EXPECT_TRUE(valid_outlet(std::string(64, 'a')));
  EXPECT_FALSE(valid_outlet(""));
  EXPECT_FALSE(valid_outlet(std::string(65, 'a')));
  EXPECT_FALSE(valid_outlet("a/b"));
  EXPECT_FALSE(valid_outlet("+"));
  EXPECT_FALSE(valid_outlet("#"));
  EXPECT_FALSE(valid_outlet("a b"));
}

TEST(UplinkMessages, BatchCarriesUnmaskedRecordsInOrder) {
  core::SplitMix64 rng(1);
  std::vector<core::Record> recs = {testing::make_record(rng, 1), testing::make_record(rng, 2)};
  const auto j = json::parse(batch_payload("sh-0001", recs));
  EXPECT_EQ(j["outlet"], "sh-0001");
  ASSERT_EQ(j["batch"].size(), 2u);
  EXPECT_EQ(j["batch"][0]["seq"], 1);
  EXPECT_EQ(j["batch"][1]["seq"], 2);
  EXPECT_EQ(j["batch"][0]["id"], recs[0].id.str());
  // Clear form: the document number travels as stored.
  EXPECT_EQ(j["batch"][0]["sender"]["doc_number"], recs[0].acceptance.sender.number);
}

TEST(UplinkMessages, BatchFromWireFormsIsByteForByteTheSame) {
  core::SplitMix64 rng(7);
  std::vector<core::Record> recs;
  std::vector<core::WireRecord> wire;
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    recs.push_back(testing::make_record(rng, seq));
    wire.push_back({seq, codec::record_to_json(recs.back(), codec::Masking::clear).dump()});
  }
  EXPECT_EQ(batch_payload("sh-0001", std::span<const core::WireRecord>(wire)),
            batch_payload("sh-0001", std::span<const core::Record>(recs)));
  EXPECT_EQ(batch_payload("sh-0001", std::span<const core::WireRecord>(wire.data(), 1)),
            batch_payload("sh-0001", std::span<const core::Record>(recs.data(), 1)));
}

TEST(UplinkMessages, BirthAndOffline) {
  const auto b = json::parse(birth_payload("sh-0001", "0.1.0", t0(), t0() + 1250ms));
  EXPECT_EQ(b, json::parse(R"({"state":"online","outlet":"sh-0001","version":"0.1.0",
      "started_at":"2026-11-23T08:00:00.000Z","connected_at":"2026-11-23T08:00:01.250Z"})"));
  EXPECT_EQ(json::parse(offline_payload("sh-0001", "connection_lost", std::nullopt)),
            json::parse(R"({"state":"offline","outlet":"sh-0001","reason":"connection_lost"})"));
  EXPECT_EQ(json::parse(offline_payload("sh-0001", "shutdown", t0())),
            json::parse(R"({"state":"offline","outlet":"sh-0001","reason":"shutdown",
                            "at":"2026-11-23T08:00:00.000Z"})"));
}

TEST(UplinkMessages, TelemetryFiguresAndExtras) {
  core::OutboxState s;
  s.last_seq = 1234;
  s.delivered_upto = 1222;
  s.pending = 12;
  s.oldest_pending = t0();
  LinkFigures f{3, 1, 2, 4};
  const json extras = {{"disk_free_bytes", 123456789},
                       {"storage_health", "ok"},
                       {"pending", 999},  // cannot override
                       {"devices", json::array()}};
  const auto j =
      json::parse(telemetry_payload("sh-0001", "0.1.0", t0() + 40s, 3600s, s, f, extras));
  EXPECT_EQ(j["outlet"], "sh-0001");
  EXPECT_EQ(j["at"], "2026-11-23T08:00:40.000Z");
  EXPECT_EQ(j["uptime_s"], 3600);
  EXPECT_EQ(j["pending"], 12);
  EXPECT_EQ(j["oldest_pending_age_s"], 40);
  EXPECT_EQ(j["last_seq"], 1234);
  EXPECT_EQ(j["last_acked_seq"], 1222);
  EXPECT_EQ(j["disk_free_bytes"], 123456789);
  EXPECT_EQ(j["storage_health"], "ok");
  EXPECT_EQ(j["uplink"]["reconnects"], 3);
  EXPECT_EQ(j["uplink"]["bad_acks"], 1);
  s.oldest_pending.reset();
  EXPECT_TRUE(
      json::parse(telemetry_payload("x", "v", t0(), 1s, s, f, json()))["oldest_pending_age_s"]
          .is_null());
}

TEST(UplinkMessages, Event) {
  core::SplitMix64 rng(2);
  core::Event e;
  e.seq = 9;
  e.id = core::make_uuid_v7(t0(), rng);
  e.at = t0();
  e.kind = "prohibited_item";
  e.severity = "alert";
  e.message = "refused: category 01";
  e.record_seq = 42;
  const auto j = json::parse(event_payload("sh-0001", e));
  EXPECT_EQ(j["id"], e.id.str());
  EXPECT_EQ(j["kind"], "prohibited_item");
  EXPECT_EQ(j["record_seq"], 42);
  EXPECT_FALSE(j.contains("seq"));
}

TEST(UplinkAcks, ValidAck) {
  EXPECT_EQ(parse_ack(R"({"upto_seq":42})", "sh-0001").value(), 42u);
  EXPECT_EQ(parse_ack(R"({"upto_seq":0,"extra":[1,2]})", "sh-0001").value(), 0u);
  EXPECT_EQ(parse_ack(R"({"upto_seq":7,"outlet":"sh-0001"})", "sh-0001").value(), 7u);
  EXPECT_EQ(parse_ack(R"({"upto_seq":18446744073709551615})", "a").value(), ~0ull);
}

TEST(UplinkAcks, RefusedAcks) {
  const std::string big = R"({"upto_seq":1,"pad":")" + std::string(kMaxAckBytes, 'x') + "\"}";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "ack_not_json"},
      {"", "ack_not_json"},
      {"[1]", "ack_bad_type"},
      {"42", "ack_bad_type"},
      {"{}", "ack_bad_seq"},
      {R"({"upto_seq":-1})", "ack_bad_seq"},
      {R"({"upto_seq":1.5})", "ack_bad_seq"},
      {R"({"upto_seq":"5"})", "ack_bad_seq"},
      {R"({"upto_seq":null})", "ack_bad_seq"},
      {R"({"upto_seq":18446744073709551616})", "ack_bad_seq"},
      {R"({"upto_seq":5,"outlet":"other"})", "ack_other_outlet"},
      {R"({"upto_seq":5,"outlet":7})", "ack_other_outlet"},
      {big, "ack_too_large"},
  };
  for (const auto& [payload, code] : cases) {
    const auto r = parse_ack(payload, "sh-0001");
    ASSERT_FALSE(r.has_value()) << payload.substr(0, 40);
    EXPECT_EQ(r.error().code, code) << payload.substr(0, 40);
  }
}

TEST(UplinkConfigCheck, Validation) {
  UplinkConfig c;
  c.outlet = "sh-0001";
  c.brokers = {"tcp://127.0.0.1:1883"};
  EXPECT_TRUE(validate(c).has_value());
  EXPECT_EQ(c.effective_client_id(), "postgate-sh-0001");
  auto bad = [](UplinkConfig x) { return validate(x).error().code; };
  auto x = c;
  x.outlet = "a/b";
  EXPECT_EQ(bad(x), "bad_outlet");
  x = c;
  x.brokers.clear();
  EXPECT_EQ(bad(x), "no_broker");
  x = c;
  x.brokers = {"ssl://h:8883"};
  EXPECT_EQ(bad(x), "tls_missing");
  x.tls = TlsSettings{};
  EXPECT_TRUE(validate(x).has_value());
  x.tls->cert_file = "c.pem";
  EXPECT_EQ(bad(x), "tls_pair");
  x = c;
  x.brokers = {"http://h"};
  EXPECT_EQ(bad(x), "bad_broker");
  x = c;
  x.mqtt_version = 4;
  EXPECT_EQ(bad(x), "bad_mqtt_version");
  x = c;
  x.prefix = "a/+";
  EXPECT_EQ(bad(x), "bad_prefix");
  x = c;
  x.drain_bytes_per_s = 1000;
  EXPECT_EQ(bad(x), "bad_limit");
  x = c;
  x.reconnect_max = std::chrono::milliseconds(10);
  EXPECT_EQ(bad(x), "bad_limit");
}

TEST(UplinkStatusJson, JsonForPostgatectl) {
  UplinkStatus s;
  s.state = LinkState::connected;
  s.connected = true;
  s.broker = "tcp://h:1883";
  s.bad_acks = 2;
  const auto j = to_json(s);
  EXPECT_EQ(j["state"], "connected");
  EXPECT_EQ(j["broker"], "tcp://h:1883");
  EXPECT_EQ(j["bad_acks"], 2);
  EXPECT_TRUE(j["last_ack_at"].is_null());
}

}  // namespace
}  // namespace postgate::uplink
