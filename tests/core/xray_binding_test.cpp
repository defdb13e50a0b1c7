#include "core/xray_binding.hpp"

#include <gtest/gtest.h>

namespace postgate::core {
namespace {

using namespace std::chrono_literals;

// A published UPU S10 example with its check digit.
constexpr const char* kS10 = "RR473124829GB";

const TimePoint kT0{std::chrono::milliseconds{1'795'000'000'000}};

XrayCandidate record(std::uint64_t seq, std::string counter, std::vector<std::string> lanes,
                     std::vector<std::string> waybills, TimePoint at) {
  return {"rec-" + std::to_string(seq), seq, std::move(counter), std::move(lanes),
          std::move(waybills),          at};
}

TEST(XrayBinding, ByWaybillFirstEvenOnAnotherLane) {
  const std::vector<XrayCandidate> c = {
      record(1, "c1", {"1"}, {"EE000000000CN"}, kT0 + 5s),
      record(2, "c2", {"2"}, {"SF123456789012", kS10}, kT0 - 20min),
  };
  const auto b = bind_xray_scan({std::string("rr 473124829 gb"), "1", kT0}, c);
  EXPECT_EQ(b.how, XrayBindingHow::waybill);
  EXPECT_EQ(b.record_id, "rec-2");
  EXPECT_EQ(b.seq, 2u);
  EXPECT_EQ(b.reason, "waybill matched record seq 2");
  EXPECT_EQ(b.reason.find("473124829"), std::string::npos);
}

TEST(XrayBinding, SameWaybillOnTwoRecordsTakesTheCloserOrNone) {
  std::vector<XrayCandidate> c = {
      record(1, "c1", {"1"}, {kS10}, kT0 - 50s),
      record(2, "c1", {"1"}, {kS10}, kT0 + 10s),
  };
  auto b = bind_xray_scan({std::string(kS10), "1", kT0}, c);
  EXPECT_EQ(b.how, XrayBindingHow::waybill);
  EXPECT_EQ(b.seq, 2u);
  c[0].accepted_at = kT0 - 10s;
  b = bind_xray_scan({std::string(kS10), "1", kT0}, c);
  EXPECT_EQ(b.how, XrayBindingHow::unbound);
  EXPECT_FALSE(b.record_id);
  EXPECT_EQ(b.reason, "waybill matched 2 records equally close in time");
}

TEST(XrayBinding, ByLaneAndTimeWindowClosestWins) {
  const std::vector<XrayCandidate> c = {
      record(1, "c1", {"1", "2"}, {}, kT0 - 200s), record(2, "c1", {"1", "2"}, {}, kT0 - 30s),
      record(3, "c3", {"3"}, {}, kT0 - 1s),        // other lane
      record(4, "c1", {"1", "2"}, {}, kT0 + 70s),  // beyond `before`
  };
  const auto b = bind_xray_scan({std::nullopt, "2", kT0}, c);
  EXPECT_EQ(b.how, XrayBindingHow::lane_time);
  EXPECT_EQ(b.seq, 2u);
  EXPECT_EQ(b.reason,
            "no waybill read; lane 2: record seq 2 accepted 30.0 s before the scan "
            "(closest of 2 in the window)");
}

TEST(XrayBinding, WindowEdgesAreInclusiveAndConfigurable) {
  const XrayBindingWindow w{10s, 20s};
  std::vector<XrayCandidate> c = {record(1, "c1", {"1"}, {}, kT0)};
  EXPECT_EQ(bind_xray_scan({std::nullopt, "1", kT0 - 10s}, c, w).how, XrayBindingHow::lane_time);
  EXPECT_EQ(bind_xray_scan({std::nullopt, "1", kT0 + 20s}, c, w).how, XrayBindingHow::lane_time);
  EXPECT_EQ(bind_xray_scan({std::nullopt, "1", kT0 - 10001ms}, c, w).how, XrayBindingHow::unbound);
  const auto late = bind_xray_scan({std::nullopt, "1", kT0 + 20001ms}, c, w);
  EXPECT_EQ(late.how, XrayBindingHow::unbound);
  EXPECT_EQ(late.reason, "no waybill read; lane 1: no record in the time window");
}

TEST(XrayBinding, UnknownWaybillFallsBackToLaneAndTime) {
  const std::vector<XrayCandidate> c = {record(7, "c1", {"1"}, {"EE000000000CN"}, kT0 - 5s)};
  const auto b = bind_xray_scan({std::string("NOREAD"), "1", kT0}, c);
  EXPECT_EQ(b.how, XrayBindingHow::lane_time);
  EXPECT_EQ(b.seq, 7u);
  EXPECT_TRUE(b.reason.starts_with("waybill matched no record; lane 1: record seq 7"));
}

TEST(XrayBinding, AmbiguousTimeIsUnbound) {
  const std::vector<XrayCandidate> c = {
      record(1, "c1", {"1"}, {}, kT0 - 15s),
      record(2, "c2", {"1"}, {}, kT0 + 15s),
  };
  const auto b = bind_xray_scan({std::nullopt, "1", kT0}, c);
  EXPECT_EQ(b.how, XrayBindingHow::unbound);
  EXPECT_FALSE(b.seq);
  EXPECT_EQ(b.reason, "no waybill read; lane 1: 2 records equally close in time in the window");
}

TEST(XrayBinding, NoCandidates) {
  const auto b = bind_xray_scan({std::nullopt, "1", kT0}, {});
  EXPECT_EQ(b.how, XrayBindingHow::unbound);
  EXPECT_EQ(to_string(b.how), "unbound");
}

}  // namespace
}  // namespace postgate::core
