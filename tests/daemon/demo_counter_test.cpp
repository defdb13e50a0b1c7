// The demo adapter alone, driving a real CounterWorkflow the way the daemon
// does: events in order, commits answered by the test.
#include "adapters/demo/demo_counter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace postgate::adapters::demo {
namespace {

using namespace std::chrono_literals;
using core::CounterState;

const core::Date kToday{std::chrono::year{2026}, std::chrono::month{11}, std::chrono::day{23}};

core::AcceptancePolicy policy() {
  auto waybills = core::WaybillValidator::create({}, true);
  core::Screener screener("t",
                          {{"02", "controlled knives", core::Severity::prohibited, {"knife"}},
                           {"R1", "lithium batteries", core::Severity::restricted, {"battery"}}});
  return core::AcceptancePolicy(std::move(*waybills), std::move(screener), {"c1"});
}

struct Run {
  std::vector<core::Acceptance> commits;
  std::vector<std::string> warnings;
  std::chrono::milliseconds elapsed{0};
  std::size_t events = 0;
};

// Plays the counter to the end (count must be set), committing every Commit.
Run play(DemoCounter& demo, core::CounterWorkflow& wf, bool fail_first_commit = false) {
  Run run;
  core::TimePoint now = std::chrono::sys_days{kToday} + 2h;
  bool failed_once = false;
  while (auto step = demo.next(wf.state(), kToday)) {
    now += step->delay;
    run.elapsed += step->delay;
    ++run.events;
    auto effects = wf.handle(step->event, now);
    for (std::size_t i = 0; i < effects.size(); ++i) {
      if (auto* p = std::get_if<core::Prompt>(&effects[i])) {
        if (p->level == core::PromptLevel::warning || p->level == core::PromptLevel::error)
          run.warnings.push_back(p->code);
      } else if (auto* c = std::get_if<core::Commit>(&effects[i])) {
        if (fail_first_commit && !failed_once) {
          failed_once = true;
          (void)wf.handle(core::CommitFailed{{"storage_full", "", "disk full"}}, now);
          continue;
        }
        run.commits.push_back(c->acceptance);
        auto more = wf.handle(core::CommitSucceeded{run.commits.size()}, now);
        effects.insert(effects.end(), more.begin(), more.end());
      }
    }
    EXPECT_LT(run.events, 10000u) << "runaway script";
    if (run.events >= 10000) break;
  }
  return run;
}

TEST(DemoCounter, PlaysCountParcelsThroughTheWorkflow) {
  const auto pol = policy();
  core::CounterWorkflow wf("c1", {}, pol);
  DemoSettings s;
  s.count = 20;
  s.rate_per_s = 4;
  DemoCounter demo("demo0", "c1", s);
  const auto run = play(demo, wf);
  EXPECT_EQ(run.commits.size(), 20u);
  EXPECT_TRUE(demo.finished());
  EXPECT_EQ(demo.parcels_started(), 20u);
  EXPECT_TRUE(run.warnings.empty()) << run.warnings.front();
  std::set<std::string> numbers;
  for (const auto& a : run.commits) {
    EXPECT_EQ(a.counter, "c1");
    EXPECT_EQ(a.operator_id, "op-demo");
    EXPECT_GE(a.waybills.size(), 1u);
    EXPECT_LE(a.waybills.size(), 3u);
    EXPECT_EQ(a.inspection.outcome, core::InspectionOutcome::pass);
    numbers.insert(a.sender.number);
  }
  EXPECT_GT(numbers.size(), 15u);  // different people
  // 20 parcels at 4/s take about 5 s of script time (the first starts at once).
  EXPECT_GE(run.elapsed, 4500ms);
  EXPECT_LE(run.elapsed, 5000ms);
  EXPECT_FALSE(demo.next(wf.state(), kToday));
}

TEST(DemoCounter, SameSeedSameParcels) {
  const auto pol = policy();
  DemoSettings s;
  s.count = 5;
  s.seed = 42;
  core::CounterWorkflow wf1("c1", {}, pol), wf2("c1", {}, pol);
  DemoCounter d1("a", "c1", s), d2("b", "c1", s);
  const auto r1 = play(d1, wf1), r2 = play(d2, wf2);
  ASSERT_EQ(r1.commits.size(), r2.commits.size());
  for (std::size_t i = 0; i < r1.commits.size(); ++i) {
    EXPECT_EQ(r1.commits[i].sender.number, r2.commits[i].sender.number);
    EXPECT_EQ(r1.commits[i].declared, r2.commits[i].declared);
  }
  s.seed = 43;
  core::CounterWorkflow wf3("c1", {}, pol);
  DemoCounter d3("c", "c1", s);
  EXPECT_NE(play(d3, wf3).commits[0].sender.number, r1.commits[0].sender.number);
}

TEST(DemoCounter, RefuseRatioOneRefusesEveryParcelWithAKnownCategory) {
  const auto pol = policy();
  core::CounterWorkflow wf("c1", {}, pol);
  DemoSettings s;
  s.count = 6;
  s.refuse_ratio = 1.0;
  DemoCounter demo("demo0", "c1", s);
  const auto run = play(demo, wf);
  ASSERT_EQ(run.commits.size(), 6u);
  for (const auto& a : run.commits) {
    EXPECT_EQ(a.inspection.outcome, core::InspectionOutcome::refuse);
    EXPECT_EQ(a.inspection.refuse_category, "02");
  }
}

TEST(DemoCounter, RefuseRatioIsRoughlyHonoured) {
  const auto pol = policy();
  core::CounterWorkflow wf("c1", {}, pol);
  DemoSettings s;
  s.count = 400;
  s.refuse_ratio = 0.25;
  s.rate_per_s = 100;
  DemoCounter demo("demo0", "c1", s);
  const auto run = play(demo, wf);
  std::size_t refused = 0;
  for (const auto& a : run.commits)
    refused += a.inspection.outcome == core::InspectionOutcome::refuse;
  EXPECT_GT(refused, 60u);
  EXPECT_LT(refused, 140u);
}

TEST(DemoCounter, RecoversFromAFailedCommit) {
  const auto pol = policy();
  core::CounterWorkflow wf("c1", {}, pol);
  DemoSettings s;
  s.count = 3;
  DemoCounter demo("demo0", "c1", s);
  const auto run = play(demo, wf, /*fail_first_commit=*/true);
  // The failed parcel is cancelled by the next one's script; the other two commit.
  EXPECT_EQ(run.commits.size(), 2u);
}

TEST(DemoCounter, StartsFromAnyState) {
  DemoSettings s;
  s.count = 1;
  DemoCounter logged_out("a", "c1", s), collecting("b", "c1", s), ready("c", "c1", s);
  auto first = [](DemoCounter& d, CounterState st) {
    auto step = d.next(st, kToday);
    EXPECT_TRUE(step);
    auto* scan = std::get_if<core::BarcodeScanned>(&step->event);
    return scan ? scan->text : std::string("(not a scan)");
  };
  EXPECT_EQ(first(logged_out, CounterState::logged_out), "PG:OP:op-demo");
  EXPECT_EQ(first(collecting, CounterState::collecting), "PG:CANCEL");
  EXPECT_EQ(first(ready, CounterState::ready), "(not a scan)");  // straight to the ID card
}

}  // namespace
}  // namespace postgate::adapters::demo
