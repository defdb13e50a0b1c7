#include "adapters/scanner/codec/line_decoder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "tests/adapters/scanner/scan_test_util.hpp"

namespace postgate::adapters::scanner {
namespace {

using namespace std::chrono_literals;
using testing::append;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::show;
using testing::t0;

template <class F>
LineDecoderSettings with(F f) {
  LineDecoderSettings s;
  f(s);
  return s;
}

struct Serial {
  explicit Serial(LineDecoderSettings s = {}) : d(s) {}
  LineDecoder d;
  core::TimePoint now = t0();
  std::vector<ScanItem> items;
  void send(std::string_view bytes, std::chrono::milliseconds gap = 1ms) {
    now += gap;
    append(items,
           d.on_bytes({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, now));
  }
  // One byte at a time, `gap` apart: a slow device.
  void trickle(std::string_view bytes, std::chrono::milliseconds gap) {
    for (const char c : bytes) send(std::string_view(&c, 1), gap);
  }
  void wait(std::chrono::milliseconds gap) {
    now += gap;
    append(items, d.on_timer(now));
  }
  std::vector<std::string> out() { return show(std::exchange(items, {})); }
};

TEST(LineDecoder, AnyTerminatorShapes) {
  Serial s;
  s.send("CR\rLF\nCRLF\r\nTAB\tEND\r");
  EXPECT_THAT(s.out(), ElementsAre("CR", "LF", "CRLF", "TAB", "END"));
}

TEST(LineDecoder, CrlfSplitAcrossReadsIsOneTerminator) {
  Serial s;
  s.send("RA123456785GB\r");
  s.send("\nNEXT\r");
  s.send("\n");
  EXPECT_THAT(s.out(), ElementsAre("RA123456785GB", "NEXT"));
}

TEST(LineDecoder, EmptyLinesDroppedOrKept) {
  Serial s;
  s.send("A\r\r\n\nB\n");
  EXPECT_THAT(s.out(), ElementsAre("A", "B"));
  Serial k(with([](auto& c) { c.emit_empty_lines = true; }));
  k.send("A\r\n\r\nB\r\n");
  EXPECT_THAT(k.out(), ElementsAre("A", "", "B"));
}

TEST(LineDecoder, EachSingleTerminatorSetting) {
  struct Case {
    LineTerminator t;
    std::string input;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {LineTerminator::cr, "A\rB\r", {"A", "B"}},
      {LineTerminator::cr, "A\nB\r", {"!bad_text"}},  // LF is not text
      {LineTerminator::lf, "A\nB\n", {"A", "B"}},
      {LineTerminator::lf, "A\r\n", {"!bad_text"}},
      {LineTerminator::crlf, "A\r\nB\r\n", {"A", "B"}},
      {LineTerminator::crlf, "A\nB\r\n", {"A", "B"}},  // a bare LF still ends a line
      {LineTerminator::crlf, "A\rB\r\n", {"!bad_text"}},
      {LineTerminator::tab, "A\tB\t", {"A", "B"}},
      {LineTerminator::tab, "A\r\n\t", {"!bad_text"}},
  };
  for (const auto& c : cases) {
    Serial s(with([&](auto& x) { x.terminator = c.t; }));
    s.send(c.input);
    EXPECT_EQ(s.out(), c.expected) << to_string(c.t);
  }
}

TEST(LineDecoder, TerminatorNamesRoundTrip) {
  for (auto t : {LineTerminator::cr, LineTerminator::lf, LineTerminator::crlf, LineTerminator::tab,
                 LineTerminator::any}) {
    EXPECT_EQ(line_terminator_from_string(to_string(t)), t);
  }
  EXPECT_EQ(line_terminator_from_string("CR"), std::nullopt);
}

TEST(LineDecoder, SlowBytesBelowTheTimeout) {
  Serial s(with([](auto& c) { c.inter_byte_timeout = 100ms; }));
  s.trickle("SLOW\r", 99ms);
  EXPECT_THAT(s.out(), ElementsAre("SLOW"));
}

TEST(LineDecoder, TimeoutCutsALine) {
  Serial s(with([](auto& c) { c.inter_byte_timeout = 100ms; }));
  s.send("PART");
  ASSERT_TRUE(s.d.wake_at().has_value());
  EXPECT_EQ(*s.d.wake_at(), s.now + 100ms);
  s.wait(99ms);
  EXPECT_THAT(s.out(), IsEmpty());
  s.wait(1ms);
  EXPECT_THAT(s.out(), ElementsAre("!incomplete_scan"));
  EXPECT_EQ(s.d.wake_at(), std::nullopt);
  s.send("WHOLE\r");
  EXPECT_THAT(s.out(), ElementsAre("WHOLE"));
}

TEST(LineDecoder, StaleLineEndsWhenTheNextBytesArrive) {
  Serial s(with([](auto& c) { c.inter_byte_timeout = 100ms; }));
  s.send("PART");
  s.send("NEXT\r", 150ms);
  EXPECT_THAT(s.out(), ElementsAre("!incomplete_scan", "NEXT"));
}

TEST(LineDecoder, TimeoutEndsLinesWhenConfigured) {
  Serial s(with([](auto& c) {
    c.inter_byte_timeout = 50ms;
    c.timeout_ends_line = true;
  }));
  s.send("RA123456785GB");
  s.wait(50ms);
  s.send("PG:OK");
  s.send("X", 80ms);
  s.wait(60ms);
  EXPECT_THAT(s.out(), ElementsAre("RA123456785GB", "PG:OK", "X"));
}

TEST(LineDecoder, ZeroTimeoutWaitsForever) {
  Serial s(with([](auto& c) { c.inter_byte_timeout = 0ms; }));
  s.send("PART");
  EXPECT_EQ(s.d.wake_at(), std::nullopt);
  s.wait(1h);
  s.send("REST\r", 1h);
  EXPECT_THAT(s.out(), ElementsAre("PARTREST"));
}

TEST(LineDecoder, LfLongAfterCrIsItsOwnTerminator) {
  Serial s(with([](auto& c) {
    c.inter_byte_timeout = 100ms;
    c.emit_empty_lines = true;
  }));
  s.send("A\r");
  s.send("\n", 500ms);
  EXPECT_THAT(s.out(), ElementsAre("A", ""));
}

TEST(LineDecoder, MaxLengthAndResync) {
  Serial s(with([](auto& c) { c.max_length = 8; }));
  s.send("12345678\r123456789\rABCDEFGHIJKLMNOPQRSTUVWXYZ\rOK\r");
  EXPECT_THAT(s.out(), ElementsAre("12345678", "!too_long", "!too_long", "OK"));
}

TEST(LineDecoder, TooLongCutBySilenceIsReportedOnce) {
  Serial s(with([](auto& c) {
    c.max_length = 4;
    c.inter_byte_timeout = 50ms;
  }));
  s.send("ABCDEFGH");
  s.wait(60ms);
  s.send("OK\r");
  EXPECT_THAT(s.out(), ElementsAre("!too_long", "OK"));
}

TEST(LineDecoder, Utf8AcceptedControlAndInvalidRejected) {
  Serial s;
  s.send("寄件 RA123456785GB\r");
  s.send(std::string("NUL\0IN", 6) + "\r");
  s.send("BEL\x07\r");
  s.send("ESC\x1B[0m\r");
  s.send("DEL\x7F\r");
  s.send("C1\xC2\x85\r");  // U+0085 NEL
  s.send("\xFF\xFE\r");
  s.send("\xE5\xAF\r");      // truncated sequence
  s.send("\xC0\xAF\r");      // overlong '/'
  s.send("\xED\xA0\x80\r");  // surrogate
  s.send("OK\r");
  EXPECT_THAT(s.out(),
              ElementsAre("寄件 RA123456785GB", "!bad_text", "!bad_text", "!bad_text", "!bad_text",
                          "!bad_text", "!bad_text", "!bad_text", "!bad_text", "!bad_text", "OK"));
  EXPECT_EQ(s.d.stats().errors, 9u);
  EXPECT_EQ(s.d.stats().scans, 2u);
}

TEST(LineDecoder, SplitAtEveryByteBoundary) {
  const std::string input = "RA123456785GB\r\n中文\r\nPG:OK\t";
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    Serial s;
    s.send(input.substr(0, cut));
    s.send(input.substr(cut));
    EXPECT_THAT(s.out(), ElementsAre("RA123456785GB", "中文", "PG:OK")) << cut;
  }
}

TEST(LineDecoder, ResetDropsAPartialLine) {
  Serial s;
  s.send("PAR");
  s.d.reset();
  EXPECT_EQ(s.d.wake_at(), std::nullopt);
  s.send("OK\r");
  EXPECT_THAT(s.out(), ElementsAre("OK"));
}

}  // namespace
}  // namespace postgate::adapters::scanner

namespace postgate::adapters::scanner {
namespace {

TEST(ScanText, PrintableUtf8Only) {
  EXPECT_TRUE(is_scan_text("RA123456785GB"));
  EXPECT_TRUE(is_scan_text("寄件人 ~!@#$%^&*()_+{}|:\"<>?"));
  EXPECT_TRUE(is_scan_text(""));
  EXPECT_TRUE(is_scan_text("\xC2\xA0"));  // U+00A0, the first after the C1 block
  EXPECT_FALSE(is_scan_text("\x1D"));     // GS
  EXPECT_FALSE(is_scan_text("\x7F"));
  EXPECT_FALSE(is_scan_text("\xC2\x9F"));  // U+009F, C1
  EXPECT_FALSE(is_scan_text("\xE4\xB8"));
}

TEST(ScanText, ScanBecomesABarcodeEvent) {
  const auto e = to_event(Scan{"RA123456785GB", "]C0"});
  ASSERT_TRUE(std::holds_alternative<core::BarcodeScanned>(e));
  EXPECT_EQ(std::get<core::BarcodeScanned>(e).text, "RA123456785GB");
}

}  // namespace
}  // namespace postgate::adapters::scanner
