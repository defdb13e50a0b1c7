#include "adapters/scanner/codec/hid_keyboard.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "tests/adapters/scanner/scan_test_util.hpp"

namespace postgate::adapters::scanner {
namespace {

using namespace std::chrono_literals;
using testing::append;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::show;
using testing::t0;

constexpr std::uint8_t kLShift = 0x02;
constexpr std::uint8_t kRShift = 0x20;
constexpr std::uint8_t kEnter = 0x28;
constexpr std::uint8_t kTab = 0x2B;
constexpr std::uint8_t kKeypadEnter = 0x58;

template <class F>
HidKeyboardSettings kb(F f) {
  HidKeyboardSettings s;
  f(s);
  return s;
}

// Drives a decoder with reports at a controlled time; 2 ms between reports
// unless told otherwise, like a fast scanner.
struct Wedge {
  explicit Wedge(HidKeyboardSettings s = {}) : d(s) {}
  HidKeyboardDecoder d;
  core::TimePoint now = t0();
  std::vector<ScanItem> items;

  void report(std::vector<std::uint8_t> r) {
    now += 2ms;
    append(items, d.on_report(r, now));
  }
  void key(std::uint8_t usage, std::uint8_t mods = 0) {
    report({mods, 0, usage, 0, 0, 0, 0, 0});
    report({0, 0, 0, 0, 0, 0, 0, 0});
  }
  void type(std::string_view text, KeyTerminator t = KeyTerminator::enter) {
    const auto reports = keyboard_reports(text, t);
    ASSERT_TRUE(reports.has_value()) << text;
    for (const auto& r : *reports) report({r.begin(), r.end()});
  }
  void wait(std::chrono::milliseconds d_) {
    now += d_;
    append(items, d.on_timer(now));
  }
  std::vector<std::string> out() { return show(std::exchange(items, {})); }
};

// The US layout, written out independently of the decoder's table.
const std::map<std::uint8_t, std::pair<char, char>>& us_layout() {
  static const auto* m = [] {
    auto* m = new std::map<std::uint8_t, std::pair<char, char>>;
    for (int i = 0; i < 26; ++i) {
      (*m)[static_cast<std::uint8_t>(0x04 + i)] = {static_cast<char>('a' + i),
                                                   static_cast<char>('A' + i)};
    }
    const std::string digits = "1234567890", shifted = "!@#$%^&*()";
    for (int i = 0; i < 10; ++i)
      (*m)[static_cast<std::uint8_t>(0x1E + i)] = {digits[i], shifted[i]};
    const std::string punct = " -=[]\\\\;'`,./", punct_shift = " _+{}||:\"~<>?";
    for (int i = 0; i < 13; ++i) {
      (*m)[static_cast<std::uint8_t>(0x2C + i)] = {punct[i], punct_shift[i]};
    }
    return m;
  }();
  return *m;
}

TEST(HidKeyboard, EveryMainKeyPlainAndWithEitherShift) {
  ASSERT_EQ(us_layout().size(), 26u + 10u + 13u);
  for (const auto& [usage, chars] : us_layout()) {
    Wedge w;
    w.key(usage);
    w.key(usage, kLShift);
    w.key(usage, kRShift);
    w.key(usage, kLShift | kRShift);
    w.key(kEnter);
    const std::string expected{chars.first, chars.second, chars.second, chars.second};
    EXPECT_THAT(w.out(), ElementsAre(expected)) << "usage " << int(usage);
  }
}

TEST(HidKeyboard, FullPrintableAsciiRoundTrip) {
  std::string all;
  for (char c = 0x20; c < 0x7F; ++c) all += c;
  Wedge w;
  w.type(all);
  EXPECT_THAT(w.out(), ElementsAre(all));
}

TEST(HidKeyboard, KeypadDigitsAndSymbolsIgnoreShift) {
  const std::map<std::uint8_t, char> keypad = {{0x54, '/'}, {0x55, '*'}, {0x56, '-'}, {0x57, '+'},
                                               {0x59, '1'}, {0x5A, '2'}, {0x5B, '3'}, {0x5C, '4'},
                                               {0x5D, '5'}, {0x5E, '6'}, {0x5F, '7'}, {0x60, '8'},
                                               {0x61, '9'}, {0x62, '0'}, {0x63, '.'}, {0x67, '='}};
  for (const auto& [usage, c] : keypad) {
    Wedge w;
    w.key(usage);
    w.key(usage, kLShift);
    w.key(kKeypadEnter);
    EXPECT_THAT(w.out(), ElementsAre(std::string(2, c))) << "usage " << int(usage);
  }
}

TEST(HidKeyboard, WaybillTypedOnTheKeypad) {
  Wedge w;
  w.key(0x15, kLShift);  // R
  w.key(0x04, kLShift);  // A
  for (const std::uint8_t u : {0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x5D}) w.key(u);
  w.key(0x0A, kRShift);  // G
  w.key(0x05, kRShift);  // B
  w.key(kKeypadEnter);
  EXPECT_THAT(w.out(), ElementsAre("RA123456785GB"));
}

TEST(HidKeyboard, KeyCountsOncePerPressNotPerReport) {
  Wedge w;
  w.report({0, 0, 0x04, 0, 0, 0, 0, 0});
  w.report({0, 0, 0x04, 0, 0, 0, 0, 0});        // still held: no repeat
  w.report({0, 0, 0x04, 0x05, 0, 0, 0, 0});     // b added while a held
  w.report({0, 0, 0x05, 0, 0, 0, 0, 0});        // a released
  w.report({0, 0, 0x05, 0x04, 0x04, 0, 0, 0});  // a again (listed twice: once)
  w.report({0, 0, 0, 0, 0, 0, 0, 0});
  w.report({0, 0, 0x06, 0x07, 0x08, 0, 0, 0});  // three new keys: in array order
  w.report({0, 0, 0, 0, 0, 0, 0, 0});
  w.key(kEnter);
  EXPECT_THAT(w.out(), ElementsAre("abacde"));
}

TEST(HidKeyboard, SameCharacterTwiceNeedsARelease) {
  Wedge w;
  w.type("AA11");
  EXPECT_THAT(w.out(), ElementsAre("AA11"));
  // Without the release, the second press is the same key still held.
  w.report({kLShift, 0, 0x04, 0, 0, 0, 0, 0});
  w.report({kLShift, 0, 0x04, 0, 0, 0, 0, 0});
  w.key(kEnter);
  EXPECT_THAT(w.out(), ElementsAre("A"));
}

TEST(HidKeyboard, TerminatorSettings) {
  struct Case {
    KeyTerminator t;
    std::uint8_t key;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {KeyTerminator::enter, kEnter, {"AB"}},
      {KeyTerminator::enter, kKeypadEnter, {"AB"}},
      {KeyTerminator::enter, kTab, {"!unexpected_terminator"}},
      {KeyTerminator::tab, kTab, {"AB"}},
      {KeyTerminator::tab, kEnter, {"!unexpected_terminator"}},
      {KeyTerminator::enter_or_tab, kEnter, {"AB"}},
      {KeyTerminator::enter_or_tab, kTab, {"AB"}},
      {KeyTerminator::enter_or_tab, kKeypadEnter, {"AB"}},
      {KeyTerminator::none, kEnter, {"!unexpected_terminator"}},
      {KeyTerminator::none, kTab, {"!unexpected_terminator"}},
  };
  for (const auto& c : cases) {
    Wedge w(kb([&](HidKeyboardSettings& s) { s.terminator = c.t; }));
    w.type("AB", KeyTerminator::none);
    w.key(c.key);
    w.wait(1s);  // a discarded run ends by timeout silently
    EXPECT_EQ(w.out(), c.expected) << to_string(c.t) << " key " << int(c.key);
  }
}

TEST(HidKeyboard, TerminatorNamesRoundTrip) {
  for (auto t : {KeyTerminator::enter, KeyTerminator::tab, KeyTerminator::enter_or_tab,
                 KeyTerminator::none}) {
    EXPECT_EQ(key_terminator_from_string(to_string(t)), t);
  }
  EXPECT_EQ(key_terminator_from_string("return"), std::nullopt);
  for (auto f : {ReportFraming::boot, ReportFraming::report_id, ReportFraming::automatic}) {
    EXPECT_EQ(report_framing_from_string(to_string(f)), f);
  }
  EXPECT_EQ(report_framing_from_string("auto"), std::nullopt);
}

TEST(HidKeyboard, UnexpectedTerminatorResyncsAtTheNextTerminator) {
  Wedge v;
  v.type("AB", KeyTerminator::tab);  // AB<Tab>
  v.type("CD");                      // CD<Enter>: still the same run, discarded
  v.type("EF");
  EXPECT_THAT(v.out(), ElementsAre("!unexpected_terminator", "EF"));
}

TEST(HidKeyboard, EmptyRunsAreIgnored) {
  Wedge w;
  w.key(kEnter);
  w.key(kEnter);
  w.type("X");
  w.key(kEnter);
  EXPECT_THAT(w.out(), ElementsAre("X"));
}

TEST(HidKeyboard, TimeoutWithoutTerminatorIsIncomplete) {
  Wedge w(kb([](HidKeyboardSettings& s) {
    s.terminator = KeyTerminator::enter;
    s.inter_key_timeout = 100ms;
  }));
  EXPECT_EQ(w.d.wake_at(), std::nullopt);
  w.type("ABC", KeyTerminator::none);
  ASSERT_TRUE(w.d.wake_at().has_value());
  const auto last_key = w.now - 2ms;  // the last report was a release
  EXPECT_EQ(*w.d.wake_at(), last_key + 100ms);
  EXPECT_THAT(show(w.d.on_timer(last_key + 99ms)), IsEmpty());
  EXPECT_THAT(show(w.d.on_timer(last_key + 100ms)), ElementsAre("!incomplete_scan"));
  EXPECT_EQ(w.d.wake_at(), std::nullopt);
  EXPECT_THAT(w.out(), IsEmpty());
}

TEST(HidKeyboard, SlowKeysJustUnderTheTimeoutStayOneRun) {
  Wedge w(kb([](HidKeyboardSettings& s) {
    s.terminator = KeyTerminator::enter;
    s.inter_key_timeout = 100ms;
  }));
  for (const char c : std::string("SLOW")) {
    w.type(std::string(1, c), KeyTerminator::none);
    w.wait(94ms);  // + 2 ms per report: 98 ms between presses
  }
  w.key(kEnter);
  EXPECT_THAT(w.out(), ElementsAre("SLOW"));
}

TEST(HidKeyboard, PauseSplitsRunsSeenAtTheNextReport) {
  // No timer call in between: the next report ends the stale run first.
  Wedge w(kb([](HidKeyboardSettings& s) {
    s.terminator = KeyTerminator::enter;
    s.inter_key_timeout = 50ms;
  }));
  w.type("ABC", KeyTerminator::none);
  w.now += 200ms;
  w.type("DEF");
  EXPECT_THAT(w.out(), ElementsAre("!incomplete_scan", "DEF"));
}

TEST(HidKeyboard, TerminatorNoneEmitsRunsAtTimeout) {
  Wedge w(kb([](HidKeyboardSettings& s) {
    s.terminator = KeyTerminator::none;
    s.inter_key_timeout = 50ms;
  }));
  w.type("RA123456785GB", KeyTerminator::none);
  EXPECT_THAT(w.out(), IsEmpty());
  w.wait(60ms);
  w.type("PG:OK", KeyTerminator::none);
  w.now += 100ms;
  w.type("X", KeyTerminator::none);  // the pause ended PG:OK
  w.wait(50ms);
  EXPECT_THAT(w.out(), ElementsAre("RA123456785GB", "PG:OK", "X"));
}

TEST(HidKeyboard, MaxLengthThenResyncAtTerminator) {
  Wedge w(kb([](HidKeyboardSettings& s) {
    s.terminator = KeyTerminator::enter;
    s.max_length = 8;
  }));
  w.type("12345678");
  w.type("123456789");
  w.type("ABCDEFGHIJKLMNOP");
  w.type("OK");
  EXPECT_THAT(w.out(), ElementsAre("12345678", "!too_long", "!too_long", "OK"));
  EXPECT_EQ(w.d.stats().errors, 2u);
  EXPECT_EQ(w.d.stats().scans, 2u);
}

TEST(HidKeyboard, LongScanWithinTheLimit) {
  std::string long_text;
  for (int i = 0; i < 500; ++i) long_text += static_cast<char>('A' + i % 26);
  Wedge w;  // max_length 512
  w.type(long_text);
  EXPECT_THAT(w.out(), ElementsAre(long_text));
}

TEST(HidKeyboard, TooLongWithoutTerminatorEndsSilentlyAtTimeout) {
  Wedge w(kb([](HidKeyboardSettings& s) {
    s.terminator = KeyTerminator::enter;
    s.inter_key_timeout = 50ms;
    s.max_length = 4;
  }));
  w.type("ABCDEFG", KeyTerminator::none);
  w.wait(100ms);
  w.type("ABC");
  EXPECT_THAT(w.out(), ElementsAre("!too_long", "ABC"));
}

TEST(HidKeyboard, RolloverLosesTheRunAndKeepsKeyState) {
  Wedge w;
  w.type("AB", KeyTerminator::none);
  w.report({0, 0, 0x06, 0, 0, 0, 0, 0});                 // c held
  w.report({0, 0, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01});  // ErrorRollOver
  w.report({0, 0, 0x06, 0, 0, 0, 0, 0});                 // c still held: not a new press
  w.report({0, 0, 0, 0, 0, 0, 0, 0});
  w.key(kEnter);  // the run with a lost key is not emitted
  w.type("OK");
  EXPECT_THAT(w.out(), ElementsAre("!rollover", "OK"));
}

TEST(HidKeyboard, RolloverOutsideARunDiscardsTheNextKeys) {
  Wedge w;
  w.report({0, 0, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01});
  w.type("LOST");
  w.type("OK");
  EXPECT_THAT(w.out(), ElementsAre("!rollover", "OK"));
}

TEST(HidKeyboard, PostFailAndErrorUndefinedAreBadReports) {
  for (const std::uint8_t code : {0x02, 0x03}) {
    Wedge w;
    w.report({0, 0, code, 0, 0, 0, 0, 0});
    w.type("OK");
    EXPECT_THAT(w.out(), ElementsAre("!bad_report")) << int(code);
  }
}

TEST(HidKeyboard, UnknownKeysAreCountedAndLoseTheRun) {
  // F1..F12, PrintScreen..Up, Escape, Backspace, Non-US backslash, Application
  for (const std::uint8_t u :
       {0x29, 0x2A, 0x3A, 0x45, 0x46, 0x4F, 0x52, 0x64, 0x65, 0x68, 0x80, 0xA5, 0xDF, 0xE8, 0xFF}) {
    Wedge w;
    w.type("AB", KeyTerminator::none);
    w.key(u);
    w.type("CD");
    w.type("OK");
    EXPECT_THAT(w.out(), ElementsAre("!unknown_key", "OK")) << "usage " << int(u);
    EXPECT_EQ(w.d.stats().errors, 1u);
  }
}

TEST(HidKeyboard, CtrlAltGuiWithACharacterIsUnknown) {
  for (const std::uint8_t mod : {0x01, 0x04, 0x08, 0x10, 0x40, 0x80}) {
    Wedge w;
    w.key(0x04, mod);
    w.key(kEnter);
    w.type("OK");
    EXPECT_THAT(w.out(), ElementsAre("!unknown_key", "OK")) << "modifiers " << int(mod);
  }
}

TEST(HidKeyboard, LockKeysAndModifierUsagesAreIgnored) {
  Wedge w;
  for (const std::uint8_t u : {0x39, 0x47, 0x53, 0xE0, 0xE1, 0xE5, 0xE7}) w.key(u);
  w.type("OK");
  EXPECT_THAT(w.out(), ElementsAre("OK"));
  EXPECT_EQ(w.d.wake_at(), std::nullopt);
}

TEST(HidKeyboard, ReportIdPrefixAndFilter) {
  Wedge w;  // automatic framing
  w.report({0x01, kLShift, 0, 0x04, 0, 0, 0, 0, 0});
  w.report({0x01, 0, 0, 0, 0, 0, 0, 0, 0});
  w.report({0x01, 0, 0, kEnter, 0, 0, 0, 0, 0});
  w.report({0x01, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_THAT(w.out(), ElementsAre("A"));

  Wedge f(kb([](HidKeyboardSettings& s) {
    s.framing = ReportFraming::report_id;
    s.report_id = 0x01;
  }));
  f.report({0x02, 0, 0, 0x05, 0, 0, 0, 0, 0});  // consumer control or the like
  f.report({0x01, 0, 0, 0x04, 0, 0, 0, 0, 0});
  f.report({0x01, 0, 0, 0, 0, 0, 0, 0, 0});
  f.report({0x01, 0, 0, kEnter, 0, 0, 0, 0, 0});
  EXPECT_THAT(f.out(), ElementsAre("a"));
  EXPECT_EQ(f.d.stats().ignored, 1u);
  EXPECT_EQ(f.d.stats().reports, 4u);
}

TEST(HidKeyboard, ReportLengthsPerFraming) {
  {
    Wedge w(kb([](HidKeyboardSettings& s) { s.framing = ReportFraming::boot; }));
    w.report({0x01, 0, 0, 0x04, 0, 0, 0, 0, 0});  // 9 bytes where 8 are expected
    EXPECT_THAT(w.out(), ElementsAre("!bad_report"));
  }
  {
    Wedge w;
    w.report(std::vector<std::uint8_t>(10, 0));
    w.wait(1s);
    w.report({});
    EXPECT_THAT(w.out(), ElementsAre("!bad_report", "!bad_report"));
  }
  {
    Wedge w(kb([](HidKeyboardSettings& s) { s.framing = ReportFraming::report_id; }));
    w.report({0x01});  // an id and nothing else
    EXPECT_THAT(w.out(), ElementsAre("!bad_report"));
  }
  {
    Wedge w;  // short reports accepted: missing slots are empty
    w.report({kLShift, 0, 0x04});
    w.report({0});
    w.report({0, 0, kEnter});
    EXPECT_THAT(w.out(), ElementsAre("A"));
  }
  {
    Wedge w(kb([](HidKeyboardSettings& s) { s.accept_short_reports = false; }));
    w.report({kLShift, 0, 0x04});
    EXPECT_THAT(w.out(), ElementsAre("!bad_report"));
  }
}

TEST(HidKeyboard, ResetForgetsRunAndKeys) {
  Wedge w;
  w.type("PART", KeyTerminator::none);
  w.report({0, 0, 0x04, 0, 0, 0, 0, 0});
  w.d.reset();
  EXPECT_EQ(w.d.wake_at(), std::nullopt);
  w.report({0, 0, 0x04, 0, 0, 0, 0, 0});  // held before reset: a press again
  w.report({0, 0, 0, 0, 0, 0, 0, 0});
  w.key(kEnter);
  EXPECT_THAT(w.out(), ElementsAre("a"));
}

TEST(HidKeyboard, KeyboardReportsRejectsUntypableText) {
  EXPECT_EQ(keyboard_reports("tab\there", KeyTerminator::enter), std::nullopt);
  EXPECT_EQ(keyboard_reports("中文", KeyTerminator::enter), std::nullopt);
  const auto r = keyboard_reports("a", KeyTerminator::tab);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[2][2], kTab);
}

TEST(HidKeyboard, StatsCountReportsScansAndErrors) {
  Wedge w;
  w.type("AB");
  w.key(0x3A);
  w.key(kEnter);
  EXPECT_EQ(w.d.stats().reports, 10u);
  EXPECT_EQ(w.d.stats().scans, 1u);
  EXPECT_EQ(w.d.stats().errors, 1u);
}

}  // namespace
}  // namespace postgate::adapters::scanner
