#include "daemon/wiring.hpp"

#include <gtest/gtest.h>

namespace postgate::daemon {
namespace {

using namespace std::chrono_literals;

config::Config base() {
  config::Config c;
  c.outlet = "o1";
  c.counters = {{"c1", "Counter 1"}};
  c.adapters = {config::AdapterConfig{"demo", "demo0", "c1", {}, {}}};
  return c;
}

TEST(DiffConfig, DeviceSettingsChangeRestartsTheAdapters) {
  auto next = base();
  next.adapters[0].kind = "barcode_scanner";
  auto same = next;
  EXPECT_FALSE(diff_config(next, same).adapters);
  same.adapters[0].device.baud = 19200;
  EXPECT_TRUE(diff_config(next, same).adapters);
}

TEST(DiffConfig, NothingChanged) {
  const auto d = diff_config(base(), base());
  EXPECT_TRUE(d.applied.empty());
  EXPECT_TRUE(d.needs_restart.empty());
  EXPECT_FALSE(d.policy || d.adapters || d.api_limits || d.log_level);
}

TEST(DiffConfig, RuntimeChangesAreApplied) {
  auto next = base();
  next.counters.push_back({"c2", "Counter 2"});
  next.logging.level = "debug";
  next.adapters[0].demo.rate_per_s = 5;
  next.api.max_clients = 3;
  next.screening.version = "v2";
  const auto d = diff_config(base(), next);
  EXPECT_TRUE(d.policy);
  EXPECT_TRUE(d.adapters);
  EXPECT_TRUE(d.log_level);
  EXPECT_TRUE(d.api_limits);
  EXPECT_TRUE(d.needs_restart.empty());
  EXPECT_EQ(d.applied.size(), 5u);
}

TEST(DiffConfig, StorageSocketAndOutletNeedARestart) {
  auto next = base();
  next.storage.path = "/elsewhere.db";
  next.api.socket = "/tmp/other.sock";
  next.outlet = "o2";
  const auto d = diff_config(base(), next);
  EXPECT_EQ(d.needs_restart.size(), 3u);
  EXPECT_TRUE(d.applied.empty());
}

TEST(Wiring, PolicyFromConfigKnowsTheCounters) {
  auto cfg = base();
  cfg.screening = config::default_screening();
  auto p = make_policy(cfg);
  ASSERT_TRUE(p);
  core::RawAcceptance raw;
  raw.counter = "c9";
  const auto r = p->validate(raw, core::Date{2026y / 11 / 23});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unknown_counter");
}

TEST(Wiring, LocalTodayUsesTheOutletOffset) {
  // 2026-11-23 20:00 UTC is already the 24th in China.
  const core::TimePoint t = std::chrono::sys_days{2026y / 11 / 23} + 20h;
  EXPECT_EQ(local_today(t, 8h), core::Date{2026y / 11 / 24});
  EXPECT_EQ(local_today(t, 0min), core::Date{2026y / 11 / 23});
}

TEST(Wiring, DemoRefusalsUseProhibitedCategories) {
  auto cfg = base();
  cfg.screening.categories = {{"02", "knives", core::Severity::prohibited, {"knife"}},
                              {"R1", "batteries", core::Severity::restricted, {"battery"}}};
  const auto s = make_demo_settings(cfg, cfg.adapters[0]);
  EXPECT_EQ(s.refuse_categories, std::vector<std::string>{"02"});
  EXPECT_EQ(s.operator_id, "op-demo0");
}

}  // namespace
}  // namespace postgate::daemon
