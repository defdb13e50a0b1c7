#include "adapters/mrz/codec/mrz_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "tests/adapters/mrz/mrz_test_util.hpp"

namespace postgate::adapters::mrz {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::show;
using testing::t0;
using testing::Td1;
using testing::Td3;

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A keyboard-wedge MRZ reader typing lines, `gap` between reports.
struct Wedge {
  explicit Wedge(MrzKeyboardSettings s = {}) : r(std::move(s)) {}
  MrzKeyboardReader r;
  core::TimePoint now = t0();
  MrzOutput out;
  void type(std::string_view line, scanner::KeyTerminator t = scanner::KeyTerminator::enter,
            std::chrono::milliseconds gap = 4ms) {
    const auto reports = scanner::keyboard_reports(line, t);
    ASSERT_TRUE(reports.has_value());
    for (const auto& rep : *reports) {
      now += gap;
      out.append(r.on_report(rep, now));
    }
  }
  // Runs timers as a driver would, until nothing is pending.
  void idle() {
    while (auto at = r.wake_at()) {
      now = std::max(now, *at);
      out.append(r.on_timer(now));
    }
  }
  std::vector<std::string> take() { return show(std::exchange(out, {})); }
};

TEST(MrzKeyboardReader, Td3LinesWithEnter) {
  Wedge w;
  for (const auto& l : Td3{}.lines()) w.type(l);
  w.idle();
  EXPECT_THAT(w.take(), ElementsAre("read:passport:X1234567"));
}

TEST(MrzKeyboardReader, Td1LinesWithoutSuffixEndedBySilence) {
  MrzKeyboardSettings s;
  s.keyboard.terminator = scanner::KeyTerminator::none;
  Wedge w(s);
  for (const auto& l : Td1{}.lines()) {
    w.type(l, scanner::KeyTerminator::none);
    w.now += 150ms;  // the gap between lines
    w.out.append(w.r.on_timer(w.now));
  }
  w.idle();
  EXPECT_THAT(w.take(), ElementsAre("read:hk_macau_travel_permit:H12345678"));
}

TEST(MrzKeyboardReader, SlowTypingDoesNotTimeTheZoneOut) {
  // 44 characters at 2 reports of 15 ms each: 1.3 s for line 2, longer than
  // the zone's line timeout; the keys keep the zone alive.
  Wedge w;
  const auto l = Td3{}.lines();
  w.type(l[0], scanner::KeyTerminator::enter, 15ms);
  w.type(l[1], scanner::KeyTerminator::enter, 15ms);
  w.idle();
  EXPECT_THAT(w.take(), ElementsAre("read:passport:X1234567"));
}

TEST(MrzKeyboardReader, KeyboardErrorsFailTheRead) {
  Wedge w;
  const auto l = Td3{}.lines();
  w.type(l[0]);
  w.type(l[1].substr(0, 20), scanner::KeyTerminator::none);
  w.out.append(w.r.on_report(std::vector<std::uint8_t>{0, 0, 1, 1, 1, 1, 1, 1}, w.now));
  w.type(l[1].substr(20));
  w.idle();
  EXPECT_THAT(w.take(), ElementsAre("failed", "!rollover"));
  // And the next swipe reads.
  w.now += 5s;
  for (const auto& line : l) w.type(line);
  EXPECT_THAT(w.take(), ElementsAre("read:passport:X1234567"));
}

TEST(MrzKeyboardReader, LastLineWithoutEnterIsIncomplete) {
  Wedge w;
  const auto l = Td3{}.lines();
  w.type(l[0]);
  w.type(l[1], scanner::KeyTerminator::none);
  w.idle();
  EXPECT_THAT(w.take(), ElementsAre("failed", "!incomplete_scan"));
}

struct Serial {
  explicit Serial(MrzSerialSettings s = {}) : r(std::move(s)) {}
  MrzSerialReader r;
  core::TimePoint now = t0();
  MrzOutput out;
  void send(std::string_view s, std::chrono::milliseconds gap = 2ms) {
    now += gap;
    out.append(r.on_bytes(bytes(s), now));
  }
  void idle() {
    while (auto at = r.wake_at()) {
      now = std::max(now, *at);
      out.append(r.on_timer(now));
    }
  }
  std::vector<std::string> take() { return show(std::exchange(out, {})); }
};

std::string block(const std::vector<std::string>& lines, std::string_view sep) {
  std::string s;
  for (const auto& l : lines) s += l + std::string(sep);
  return s;
}

TEST(MrzSerialReader, BlockShapes) {
  const auto p = Td3{}.lines();
  const auto c = Td1{}.lines();
  for (const std::string& input :
       {block(p, "\r\n") + "\r\n", block(p, "\r"), block(p, "\n") + "\n", block(c, "\r\n"),
        block(c, "\r") + "\r", p[0] + "\r\n" + p[1]}) {  // the last: silence ends it
    Serial s;
    s.send(input);
    s.idle();
    ASSERT_EQ(s.out.events.size(), 1u) << input;
    EXPECT_TRUE(std::holds_alternative<core::IdentityRead>(s.out.events[0])) << input;
    EXPECT_TRUE(s.out.errors.empty()) << input;
  }
}

TEST(MrzSerialReader, SplitAtEveryByte) {
  const std::string input = block(Td3{}.lines(), "\r\n") + "\r\n";
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    Serial s;
    s.send(input.substr(0, cut));
    s.send(input.substr(cut), 30ms);
    s.idle();
    EXPECT_THAT(s.take(), ElementsAre("read:passport:X1234567")) << cut;
  }
}

TEST(MrzSerialReader, SlowBytes) {
  Serial s;
  for (const char c : block(Td1{}.lines(), "\r\n")) s.send(std::string_view(&c, 1), 150ms);
  s.idle();
  EXPECT_THAT(s.take(), ElementsAre("read:hk_macau_travel_permit:H12345678"));
}

TEST(MrzSerialReader, GarbageThenAGoodBlock) {
  Serial s;
  s.send(std::string("\x00\xFF\x13garbage\r\n", 12));
  s.send(block(Td3{}.lines(), "\r\n"), 3s);
  s.idle();
  EXPECT_THAT(s.take(), ElementsAre("failed", "read:passport:X1234567", "!bad_text"));
}

TEST(MrzSerialReader, BadCheckDigitOverSerial) {
  Td3 p;
  p.bad = "expiry";
  Serial s;
  s.send(block(p.lines(), "\r\n"));
  s.idle();
  EXPECT_THAT(s.take(), ElementsAre("failed", "!bad_check_digit"));
}

TEST(MrzSerialReader, UnplugMidBlockThenReset) {
  Serial s;
  const auto l = Td3{}.lines();
  s.send(l[0] + "\r\n" + l[1].substr(0, 10));
  s.r.reset();
  EXPECT_EQ(s.r.wake_at(), std::nullopt);
  s.send(block(l, "\r\n"), 5s);
  s.idle();
  EXPECT_THAT(s.take(), ElementsAre("read:passport:X1234567"));
}

TEST(MrzSerialReader, OverlongLineIsAnError) {
  Serial s;
  s.send(std::string(500, 'A') + "\r\n");
  s.idle();
  EXPECT_THAT(s.take(), ElementsAre("failed", "!too_long"));
}

}  // namespace
}  // namespace postgate::adapters::mrz
