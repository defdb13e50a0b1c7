// The uplink section's conversion to uplink::UplinkConfig, reload's view of
// it, and the alerts the daemon raises for HQ.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "daemon/alerts.hpp"
#include "daemon/ctl_format.hpp"
#include "daemon/wiring.hpp"

namespace postgate::daemon {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

config::Config with_uplink() {
  config::Config c;
  c.outlet = "o1";
  c.counters = {{"c1", "Counter 1"}};
  c.uplink.emplace();
  c.uplink->brokers = {"tcp://127.0.0.1:1883"};
  return c;
}

TEST(UplinkWiring, DefaultsBecomeTheUplinksOwnDefaults) {
  auto u = make_uplink_config(with_uplink(), "1.2.3");
  ASSERT_TRUE(u) << u.error().message;
  const uplink::UplinkConfig d;
  EXPECT_EQ(u->outlet, "o1");
  EXPECT_EQ(u->version, "1.2.3");
  EXPECT_EQ(u->brokers, std::vector<std::string>{"tcp://127.0.0.1:1883"});
  EXPECT_EQ(u->prefix, d.prefix);
  EXPECT_EQ(u->mqtt_version, d.mqtt_version);
  EXPECT_EQ(u->effective_client_id(), "postgate-o1");
  EXPECT_FALSE(u->tls);
  EXPECT_FALSE(u->username);
  EXPECT_FALSE(u->password);
  EXPECT_EQ(u->keepalive, d.keepalive);
  EXPECT_EQ(u->connect_timeout, d.connect_timeout);
  EXPECT_EQ(u->persistent_session, d.persistent_session);
  EXPECT_EQ(u->session_expiry, d.session_expiry);
  EXPECT_EQ(u->batch_max_records, d.batch_max_records);
  EXPECT_EQ(u->batch_max_bytes, d.batch_max_bytes);
  EXPECT_EQ(u->linger, d.linger);
  EXPECT_EQ(u->max_inflight_batches, d.max_inflight_batches);
  EXPECT_EQ(u->ack_timeout, d.ack_timeout);
  EXPECT_EQ(u->reconnect_min, d.reconnect_min);
  EXPECT_EQ(u->reconnect_max, d.reconnect_max);
  EXPECT_DOUBLE_EQ(u->drain_records_per_s, d.drain_records_per_s);
  EXPECT_DOUBLE_EQ(u->drain_bytes_per_s, d.drain_bytes_per_s);
  EXPECT_EQ(u->telemetry_interval, d.telemetry_interval);
  EXPECT_EQ(u->stop_timeout, d.stop_timeout);
}

TEST(UplinkWiring, SecondsAndMillisecondsAndTls) {
  auto c = with_uplink();
  auto& in = *c.uplink;
  in.brokers = {"ssl://hq:8883"};
  in.mqtt_version = 3;
  in.client_id = "edge";
  in.username = "u";
  in.password = "p";
  in.tls = config::UplinkTlsConfig{"/ca.pem", "/c.crt", "/c.key", false};
  in.keepalive_s = 7;
  in.linger_ms = 5;
  in.ack_timeout_s = 3;
  in.reconnect_min_s = 2;
  in.reconnect_max_s = 9;
  in.telemetry_interval_s = 0;
  in.stop_timeout_s = 1;
  in.drain_bytes_per_s = 0;
  auto u = make_uplink_config(c, "v");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->mqtt_version, 3);
  EXPECT_EQ(u->effective_client_id(), "edge");
  EXPECT_EQ(u->username, "u");
  EXPECT_EQ(u->password, "p");
  ASSERT_TRUE(u->tls);
  EXPECT_EQ(u->tls->ca_file, "/ca.pem");
  EXPECT_EQ(u->tls->cert_file, "/c.crt");
  EXPECT_EQ(u->tls->key_file, "/c.key");
  EXPECT_FALSE(u->tls->verify_hostname);
  EXPECT_EQ(u->keepalive, 7s);
  EXPECT_EQ(u->linger, 5ms);
  EXPECT_EQ(u->ack_timeout, 3000ms);
  EXPECT_EQ(u->reconnect_min, 2000ms);
  EXPECT_EQ(u->reconnect_max, 9000ms);
  EXPECT_EQ(u->telemetry_interval, 0ms);
  EXPECT_EQ(u->stop_timeout, 1000ms);
  EXPECT_DOUBLE_EQ(u->drain_bytes_per_s, 0);
}

TEST(UplinkWiring, UplinkValidationNamesTheYamlKey) {
  // What the config loader reports with a position is checked again here
  // (a Config built in code skips the loader).
  auto c = with_uplink();
  c.uplink->brokers = {"ssl://hq:8883"};
  auto u = make_uplink_config(c, "v");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, "tls_missing");
  EXPECT_EQ(u.error().field, "uplink.tls");

  c = with_uplink();
  c.uplink->brokers.clear();
  u = make_uplink_config(c, "v");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().field, "uplink.brokers");

  c = with_uplink();
  c.outlet = "bad outlet";
  u = make_uplink_config(c, "v");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().field, "outlet");

  c = with_uplink();
  c.uplink.reset();
  EXPECT_FALSE(make_uplink_config(c, "v"));
}

TEST(UplinkWiring, AnyUplinkChangeNeedsARestart) {
  auto before = with_uplink();
  auto after = before;
  EXPECT_TRUE(diff_config(before, after).needs_restart.empty());
  after.uplink->telemetry_interval_s = 10;
  EXPECT_EQ(diff_config(before, after).needs_restart, std::vector<std::string>{"uplink"});
  after = before;
  after.uplink->tls.emplace();
  EXPECT_EQ(diff_config(before, after).needs_restart, std::vector<std::string>{"uplink"});
  after.uplink.reset();
  EXPECT_EQ(diff_config(before, after).needs_restart, std::vector<std::string>{"uplink"});
  EXPECT_TRUE(diff_config(after, after).needs_restart.empty());
}

core::Screener screener() {
  return core::Screener("t",
                        {{"01", "firearms", core::Severity::prohibited, {"gun"}},
                         {"R1", "lithium batteries", core::Severity::restricted, {"battery"}}});
}

TEST(Alerts, ProhibitedRefusalNamesCounterAndCategoryAndRecord) {
  core::Acceptance a;
  a.counter = "c1";
  a.sender.name = "SENDER NAME";
  a.inspection.outcome = core::InspectionOutcome::refuse;
  a.inspection.refuse_category = "01";
  auto e = refusal_alert(a, screener(), 42);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, "prohibited_item");
  EXPECT_EQ(e->severity, "alert");
  EXPECT_EQ(e->record_seq, 42u);
  EXPECT_NE(e->message.find("c1"), std::string::npos);
  EXPECT_NE(e->message.find("01 (firearms)"), std::string::npos);
  EXPECT_EQ(e->message.find("SENDER"), std::string::npos);  // masked: no sender at all
}

TEST(Alerts, OnlyProhibitedRefusalsAreAlerts) {
  core::Acceptance a;
  a.counter = "c1";
  EXPECT_FALSE(refusal_alert(a, screener(), 1));  // a pass
  a.inspection.outcome = core::InspectionOutcome::refuse;
  a.inspection.refuse_category = "R1";
  EXPECT_FALSE(refusal_alert(a, screener(), 1));  // refused as restricted only
  a.screening_hits.push_back({"01", "firearms", core::Severity::prohibited, "gun"});
  EXPECT_TRUE(refusal_alert(a, screener(), 1));  // but the contents were prohibited
}

TEST(Alerts, RejectionAndStorage) {
  auto r = rejection_alert("c1", "api", "declared contents match prohibited category 01");
  EXPECT_EQ(r.kind, "prohibited_item");
  EXPECT_EQ(r.severity, "alert");
  EXPECT_FALSE(r.record_seq);
  EXPECT_NE(r.message.find("api"), std::string::npos);

  auto s = storage_alert({"storage_full", "", "database /x.db is full"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, "storage_error");
  EXPECT_NE(s->message.find("storage_full"), std::string::npos);
  EXPECT_TRUE(storage_alert({"storage_io", "", "I/O"}));
  EXPECT_FALSE(storage_alert({"storage_busy", "", "locked"}));
  EXPECT_FALSE(storage_alert({"bad_check_digit", "sender.doc_number", "x"}));
}

TEST(Alerts, LongMessagesAreClippedOnACharacterBoundary) {
  std::string text;
  for (int i = 0; i < 600; ++i) text += "禁";  // 3 bytes each
  auto r = rejection_alert("c1", "counter", text);
  EXPECT_LT(r.message.size(), 1100u);
  EXPECT_TRUE(r.message.ends_with("..."));
  const auto body = r.message.substr(0, r.message.size() - 3);
  EXPECT_TRUE(body.ends_with("禁"));
}

TEST(Alerts, LimiterLetsOnePerIntervalPerKeyAndCountsTheRest) {
  AlertLimiter limiter(std::chrono::minutes(1));
  const AlertLimiter::Clock::time_point t0{std::chrono::hours(1)};
  EXPECT_EQ(limiter.allow("storage_full", t0), 0u);
  EXPECT_FALSE(limiter.allow("storage_full", t0 + 1s));
  EXPECT_FALSE(limiter.allow("storage_full", t0 + 59s));
  EXPECT_EQ(limiter.allow("storage_io", t0 + 2s), 0u);  // another key
  EXPECT_EQ(limiter.allow("storage_full", t0 + 60s), 2u);
  EXPECT_FALSE(limiter.allow("storage_full", t0 + 61s));
}

TEST(CtlFormat, StatusShowsTheUplink) {
  auto s = json::parse(R"({"outlet":"o1","pending":3,"uplink":{"state":"connected",
    "connected":true,"broker":"tcp://hq:1883","delivered_upto":7,"inflight_batches":1,
    "last_error":"old"}})");
  auto out = format_status(s);
  EXPECT_NE(out.find("uplink    connected to tcp://hq:1883 (delivered upto 7, pending 3, 1 "
                     "batch(es) in flight)\n"),
            std::string::npos)
      << out;
  s["uplink"] = json::parse(R"({"state":"disconnected","connected":false,"broker":"",
    "delivered_upto":7,"inflight_batches":0,"last_error":"connection refused"})");
  out = format_status(s);
  EXPECT_NE(out.find("uplink    disconnected (delivered upto 7, pending 3)  last error: "
                     "connection refused\n"),
            std::string::npos)
      << out;
  s["uplink"] = nullptr;
  EXPECT_NE(format_status(s).find("uplink    none (offline only)"), std::string::npos);
  s.erase("uplink");
  EXPECT_EQ(format_status(s).find("uplink"), std::string::npos);
}

}  // namespace
}  // namespace postgate::daemon
