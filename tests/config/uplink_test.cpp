// The optional uplink section: absent means offline only; present, it needs
// brokers and gets the uplink author's defaults; its shape is checked here
// with positions (the daemon runs uplink::validate() again at start).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace postgate::config {
namespace {

using test::kMinimal;
using test::load;
using test::problems;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Uplink, AbsentSectionMeansOfflineOnly) {
  auto c = load(kMinimal);
  ASSERT_TRUE(c) << format_problems(c.error());
  EXPECT_FALSE(c->uplink.has_value());
}

TEST(Uplink, DefaultsMatchTheStructAndTheUplinkAuthorsFigures) {
  auto c = load(kMinimal + "uplink:\n  brokers: [\"tcp://hq:1883\"]\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  ASSERT_TRUE(c->uplink.has_value());
  const UplinkConfig& u = *c->uplink;
  const UplinkConfig d;
  EXPECT_EQ(u.brokers, std::vector<std::string>{"tcp://hq:1883"});
  EXPECT_EQ(u.prefix, d.prefix);
  EXPECT_EQ(u.prefix, "postgate/v1");
  EXPECT_EQ(u.mqtt_version, 5u);
  EXPECT_EQ(u.client_id, "");
  EXPECT_EQ(u.username, "");
  EXPECT_EQ(u.password, "");
  EXPECT_FALSE(u.tls.has_value());
  EXPECT_EQ(u.keepalive_s, 30u);
  EXPECT_EQ(u.connect_timeout_s, 10u);
  EXPECT_TRUE(u.persistent_session);
  EXPECT_EQ(u.session_expiry_s, 604800u);
  EXPECT_EQ(u.batch_max_records, 500u);
  EXPECT_EQ(u.batch_max_bytes, 131072u);
  EXPECT_EQ(u.linger_ms, 50u);
  EXPECT_EQ(u.max_inflight_batches, 32u);
  EXPECT_EQ(u.ack_timeout_s, 30u);
  EXPECT_EQ(u.reconnect_min_s, 1u);
  EXPECT_EQ(u.reconnect_max_s, 60u);
  EXPECT_DOUBLE_EQ(u.drain_records_per_s, 2000);
  EXPECT_DOUBLE_EQ(u.drain_bytes_per_s, 2097152);
  EXPECT_EQ(u.telemetry_interval_s, 60u);
  EXPECT_EQ(u.stop_timeout_s, 5u);
  // The struct's initialisers say the same.
  EXPECT_EQ(u.keepalive_s, d.keepalive_s);
  EXPECT_EQ(u.session_expiry_s, d.session_expiry_s);
  EXPECT_EQ(u.batch_max_bytes, d.batch_max_bytes);
  EXPECT_DOUBLE_EQ(u.drain_bytes_per_s, d.drain_bytes_per_s);
  EXPECT_EQ(u.telemetry_interval_s, d.telemetry_interval_s);
}

TEST(Uplink, EveryKeyIsRead) {
  auto c = load(kMinimal +
                "uplink:\n"
                "  brokers: [ssl://a:8883, mqtts://b:8883, tcp://c:1883, mqtt://d]\n"
                "  prefix: x/y\n"
                "  mqtt_version: 3\n"
                "  client_id: edge-1\n"
                "  username: u\n"
                "  password: p\n"
                "  tls:\n"
                "    ca_file: ca.pem\n"
                "    cert_file: /abs/edge.crt\n"
                "    key_file: keys/edge.key\n"
                "    verify_hostname: false\n"
                "  keepalive_s: 5\n"
                "  connect_timeout_s: 3\n"
                "  persistent_session: false\n"
                "  session_expiry_s: 0\n"
                "  batch_max_records: 10\n"
                "  batch_max_bytes: 4096\n"
                "  linger_ms: 0\n"
                "  max_inflight_batches: 2\n"
                "  ack_timeout_s: 7\n"
                "  reconnect_min_s: 2\n"
                "  reconnect_max_s: 2\n"
                "  drain_records_per_s: 0\n"
                "  drain_bytes_per_s: 0\n"
                "  telemetry_interval_s: 0\n"
                "  stop_timeout_s: 9\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  const UplinkConfig& u = *c->uplink;
  EXPECT_EQ(u.brokers.size(), 4u);
  EXPECT_EQ(u.prefix, "x/y");
  EXPECT_EQ(u.mqtt_version, 3u);
  EXPECT_EQ(u.client_id, "edge-1");
  EXPECT_EQ(u.username, "u");
  EXPECT_EQ(u.password, "p");
  ASSERT_TRUE(u.tls.has_value());
  // Relative paths resolve against the file's directory, like every path.
  EXPECT_EQ(u.tls->ca_file, "/etc/postgate/ca.pem");
  EXPECT_EQ(u.tls->cert_file, "/abs/edge.crt");
  EXPECT_EQ(u.tls->key_file, "/etc/postgate/keys/edge.key");
  EXPECT_FALSE(u.tls->verify_hostname);
  EXPECT_EQ(u.keepalive_s, 5u);
  EXPECT_EQ(u.connect_timeout_s, 3u);
  EXPECT_FALSE(u.persistent_session);
  EXPECT_EQ(u.session_expiry_s, 0u);
  EXPECT_EQ(u.batch_max_records, 10u);
  EXPECT_EQ(u.batch_max_bytes, 4096u);
  EXPECT_EQ(u.linger_ms, 0u);
  EXPECT_EQ(u.max_inflight_batches, 2u);
  EXPECT_EQ(u.ack_timeout_s, 7u);
  EXPECT_EQ(u.reconnect_min_s, 2u);
  EXPECT_EQ(u.reconnect_max_s, 2u);
  EXPECT_DOUBLE_EQ(u.drain_records_per_s, 0);
  EXPECT_DOUBLE_EQ(u.drain_bytes_per_s, 0);
  EXPECT_EQ(u.telemetry_interval_s, 0u);
  EXPECT_EQ(u.stop_timeout_s, 9u);
}

TEST(Uplink, EmptyTlsMappingUsesTheSystemTrustStore) {
  auto c = load(kMinimal + "uplink:\n  brokers: [ssl://hq:8883]\n  tls: {}\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  ASSERT_TRUE(c->uplink->tls.has_value());
  EXPECT_TRUE(c->uplink->tls->ca_file.empty());
  EXPECT_TRUE(c->uplink->tls->verify_hostname);
}

TEST(Uplink, SectionWithoutBrokersIsAnError) {
  EXPECT_THAT(problems(kMinimal + "uplink:\n"),
              ElementsAre("postgate.yaml:5:1: uplink.brokers: required key is missing"));
  EXPECT_THAT(problems(kMinimal + "uplink:\n  prefix: a\n"),
              ElementsAre("postgate.yaml:6:3: uplink.brokers: required key is missing"));
  EXPECT_THAT(problems(kMinimal + "uplink:\n  brokers: []\n"),
              ElementsAre("postgate.yaml:6:12: uplink.brokers: at least one broker URI is "
                          "required"));
}

TEST(Uplink, BrokerUrisAreChecked) {
  EXPECT_THAT(problems(kMinimal + "uplink:\n"
                                  "  brokers:\n"
                                  "    - http://hq:80\n"     // 7
                                  "    - hq:1883\n"          // 8
                                  "    - tcp://\n"           // 9
                                  "    - ssl://hq:8883\n"),  // 10
              ElementsAre("postgate.yaml:7:7: uplink.brokers[0]: broker URI \"http://hq:80\" "
                          "must start with tcp://, mqtt://, ssl:// or mqtts://",
                          "postgate.yaml:8:7: uplink.brokers[1]: broker URI \"hq:1883\" must "
                          "start with tcp://, mqtt://, ssl:// or mqtts://",
                          "postgate.yaml:9:7: uplink.brokers[2]: broker URI \"tcp://\" has no "
                          "host",
                          "postgate.yaml:10:7: uplink.brokers[3]: ssl:// needs uplink.tls (an "
                          "empty mapping uses the system trust store)"));
}

TEST(Uplink, ShapeChecks) {
  EXPECT_THAT(problems(kMinimal + "uplink:\n"
                                  "  brokers: [mqtts://hq]\n"
                                  "  prefix: a/+/b\n"        // 7
                                  "  mqtt_version: 4\n"      // 8
                                  "  tls:\n"                 // 9
                                  "    cert_file: c.pem\n"   // 10
                                  "  reconnect_min_s: 30\n"  // 11
                                  "  reconnect_max_s: 10\n"  // 12
                                  "  batch_max_bytes: 8192\n"
                                  "  drain_bytes_per_s: 4096\n"),  // 14
              ElementsAre("postgate.yaml:7:11: uplink.prefix: must not be empty nor hold an MQTT "
                          "wildcard (+ or #)",
                          "postgate.yaml:8:17: uplink.mqtt_version: must be 5 or 3 (MQTT 3.1.1), "
                          "got 4",
                          "postgate.yaml:10:16: uplink.tls.cert_file: needs uplink.tls.key_file "
                          "too (mutual TLS takes both)",
                          "postgate.yaml:12:20: uplink.reconnect_max_s: reconnect_max_s (10) must "
                          "be at least reconnect_min_s (30)",
                          "postgate.yaml:14:22: uplink.drain_bytes_per_s: drain_bytes_per_s must "
                          "be 0 (unlimited) or at least batch_max_bytes (8192): one full batch a "
                          "second"));
}

TEST(Uplink, TypesRangesAndUnknownKeys) {
  EXPECT_THAT(problems(kMinimal + "uplink:\n"
                                  "  brokers: tcp://hq:1883\n"  // 6
                                  "  mqtt_version: 6\n"         // 7
                                  "  keepalive_s: 0\n"          // 8
                                  "  tls: {ca: x}\n"            // 9
                                  "  batch_records: 5\n"),      // 10
              ElementsAre("postgate.yaml:6:12: uplink.brokers: expected a list of strings, got "
                          "\"tcp://hq:1883\"",
                          "postgate.yaml:7:17: uplink.mqtt_version: must be between 3 and 5, got 6",
                          "postgate.yaml:8:16: uplink.keepalive_s: must be between 1 and 65535, "
                          "got 0",
                          HasSubstr("uplink.tls.ca: unknown key \"ca\""),
                          HasSubstr("uplink.batch_records: unknown key \"batch_records\"")));
}

TEST(Uplink, RangeFailureIsNotComparedAgain) {
  // reconnect_max_s out of range keeps its default; no second problem about
  // min > max on top of the first.
  EXPECT_THAT(problems(kMinimal + "uplink:\n"
                                  "  brokers: [tcp://hq]\n"
                                  "  reconnect_min_s: 100\n"
                                  "  reconnect_max_s: 0\n"),
              ElementsAre(HasSubstr("uplink.reconnect_max_s: must be between 1 and 86400")));
}

}  // namespace
}  // namespace postgate::config

namespace postgate::config {
namespace {

// The production file's commented example is valid once uncommented.
TEST(Uplink, ProductionExampleLoadsWhenUncommented) {
  std::ifstream in(test::kSourceDir / "config/postgate.production.yaml");
  std::string text, line;
  bool example = false;
  while (std::getline(in, line)) {
    if (line == "# uplink:") example = true;
    if (example && line.starts_with("# ")) line = line.substr(2);
    text += line + "\n";
  }
  ASSERT_TRUE(example);
  auto c = load_string(text, "postgate.production.yaml", "/etc/postgate");
  ASSERT_TRUE(c) << format_problems(c.error());
  ASSERT_TRUE(c->uplink.has_value());
  EXPECT_EQ(c->uplink->brokers.size(), 2u);
  EXPECT_TRUE(c->uplink->brokers[0].starts_with("ssl://"));
  ASSERT_TRUE(c->uplink->tls.has_value());
  EXPECT_EQ(c->uplink->tls->ca_file, "/etc/postgate/hq-ca.pem");
  EXPECT_FALSE(c->uplink->tls->cert_file.empty());
}

}  // namespace
}  // namespace postgate::config
