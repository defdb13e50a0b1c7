#include "adapters/scanner/codec/hid_pos.hpp"

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

struct Pos {
  explicit Pos(HidPosSettings s = {}) : d(s) {}
  HidPosDecoder d;
  core::TimePoint now = t0();
  std::vector<ScanItem> items;
  void report(const std::vector<std::uint8_t>& r, std::chrono::milliseconds gap = 4ms) {
    now += gap;
    append(items, d.on_report(r, now));
  }
  void scan(std::string_view aim, std::string_view data) {
    for (const auto& r : encode_pos_scan(d.settings(), aim, data)) report(r);
  }
  std::vector<std::string> out() { return show(std::exchange(items, {})); }
};

// A report built byte by byte from the vendor layout, not with the encoder.
std::vector<std::uint8_t> raw(std::uint8_t id, std::uint8_t len, std::string_view aim,
                              std::string_view data, std::uint8_t flag, std::size_t size = 62) {
  std::vector<std::uint8_t> r(size, 0);
  r[0] = id;
  r[1] = len;
  for (std::size_t i = 0; i < aim.size(); ++i) r[2 + i] = static_cast<std::uint8_t>(aim[i]);
  for (std::size_t i = 0; i < data.size(); ++i) r[5 + i] = static_cast<std::uint8_t>(data[i]);
  r[size - 1] = flag;
  return r;
}

TEST(HidPos, SingleReportWithAimId) {
  Pos p;
  p.report(raw(0x02, 13, "]C0", "RA123456785GB", 0));
  ASSERT_EQ(p.items.size(), 1u);
  const auto& scan = std::get<Scan>(p.items[0]);
  EXPECT_EQ(scan.text, "RA123456785GB");
  EXPECT_EQ(scan.aim_id, "]C0");
  EXPECT_EQ(p.d.wake_at(), std::nullopt);
}

TEST(HidPos, EncoderMatchesTheLayout) {
  const HidPosSettings s;
  EXPECT_EQ(encode_pos_report(s, "]C0", "RA123456785GB", false),
            raw(0x02, 13, "]C0", "RA123456785GB", 0));
  EXPECT_EQ(encode_pos_report(s, "]Q1", "X", true), raw(0x02, 1, "]Q1", "X", 1));
  EXPECT_EQ(encode_pos_scan(s, "]Q1", std::string(57, 'Z')).size(), 2u);
  EXPECT_EQ(encode_pos_scan(s, "]Q1", std::string(56, 'Z')).size(), 1u);
}

TEST(HidPos, ContinuationReassembly) {
  Pos p;
  std::string qr;
  for (int i = 0; i < 300; ++i) qr += static_cast<char>('0' + i % 10);
  p.scan("]Q1", qr);
  ASSERT_EQ(p.items.size(), 1u);
  EXPECT_EQ(std::get<Scan>(p.items[0]).text, qr);
  EXPECT_EQ(std::get<Scan>(p.items[0]).aim_id, "]Q1");
  EXPECT_EQ(p.d.stats().reports, 6u);  // 300 = 5 x 56 + 20
}

TEST(HidPos, Utf8ContentIsKept) {
  Pos p;
  p.scan("]Q1", "寄件人：测试 RA123456785GB");
  EXPECT_THAT(p.out(), ElementsAre("寄件人：测试 RA123456785GB"));
}

TEST(HidPos, SuffixStrippedOrNot) {
  Pos p;
  p.scan("]C0", "ABC\r\n");
  p.scan("]C0", "ABC\t");
  EXPECT_THAT(p.out(), ElementsAre("ABC", "ABC"));
  HidPosSettings keep;
  keep.strip_suffix = false;
  Pos q(keep);
  q.scan("]C0", "ABC\r");
  EXPECT_THAT(q.out(), ElementsAre("!bad_text"));
}

TEST(HidPos, NoOrBinaryAimIdIsEmpty) {
  Pos p;
  p.report(raw(0x02, 3, "", "ABC", 0));
  p.report(raw(0x02, 3, "\x01\x02\x03", "ABC", 0));
  p.report(raw(0x02, 3, "E0A", "ABC", 0));  // a vendor code id, printable: kept
  ASSERT_EQ(p.items.size(), 3u);
  EXPECT_EQ(std::get<Scan>(p.items[0]).aim_id, "");
  EXPECT_EQ(std::get<Scan>(p.items[1]).aim_id, "");
  EXPECT_EQ(std::get<Scan>(p.items[2]).aim_id, "E0A");
}

TEST(HidPos, OtherReportIdsAreIgnored) {
  Pos p;
  p.report(raw(0x04, 3, "]C0", "ABC", 0));  // trigger or status report
  p.report({0x15, 0x01});
  EXPECT_THAT(p.out(), IsEmpty());
  EXPECT_EQ(p.d.stats().ignored, 2u);
}

TEST(HidPos, MalformedLengths) {
  Pos p;
  p.report(raw(0x02, 57, "]C0", "", 0));         // over the capacity
  p.report(raw(0x02, 10, "]C0", "ABC", 0, 12));  // runs into the flag byte
  p.report(raw(0x02, 0xFF, "]C0", "", 0));
  p.report({0x02, 0x01, ']', 'C', '0'});  // no room for a flag
  p.report({});
  p.report(raw(0x02, 3, "]C0", "ABC", 0, 9));  // shortest that fits: fine
  EXPECT_THAT(p.out(), ElementsAre("!bad_length", "!bad_length", "!bad_length", "!bad_report",
                                   "!bad_report", "ABC"));
}

TEST(HidPos, BadLengthInAContinuedScanLosesTheWholeScan) {
  Pos p;
  p.report(raw(0x02, 56, "]Q1", std::string(56, 'A'), 1));
  p.report(raw(0x02, 80, "]Q1", "", 1));
  p.report(raw(0x02, 3, "]Q1", "AAA", 0));  // last part of the lost scan
  p.scan("]C0", "OK");
  EXPECT_THAT(p.out(), ElementsAre("!bad_length", "OK"));
}

TEST(HidPos, EmptyScanIsAnError) {
  Pos p;
  p.report(raw(0x02, 0, "]C0", "", 0));
  EXPECT_THAT(p.out(), ElementsAre("!empty_scan"));
}

TEST(HidPos, ControlCharactersAndInvalidUtf8) {
  Pos p;
  p.scan("]C0", std::string("A\x1D"
                            "B"));  // GS inside
  p.scan("]C0", "\xC3\x28");
  p.scan("]C0", "\x7F");
  EXPECT_THAT(p.out(), ElementsAre("!bad_text", "!bad_text", "!bad_text"));
}

TEST(HidPos, MaxLengthBoundsReassembly) {
  HidPosSettings s;
  s.max_length = 100;
  Pos p(s);
  p.scan("]Q1", std::string(100, 'A'));
  p.scan("]Q1", std::string(101, 'A'));
  p.scan("]Q1", std::string(1000, 'A'));
  p.scan("]Q1", "OK");
  EXPECT_THAT(p.out(), ElementsAre(std::string(100, 'A'), "!too_long", "!too_long", "OK"));
}

TEST(HidPos, MissingLastPartTimesOut) {
  Pos p;
  p.report(raw(0x02, 56, "]Q1", std::string(56, 'A'), 1));
  ASSERT_TRUE(p.d.wake_at().has_value());
  EXPECT_EQ(*p.d.wake_at(), p.now + 500ms);
  EXPECT_THAT(show(p.d.on_timer(p.now + 499ms)), IsEmpty());
  EXPECT_THAT(show(p.d.on_timer(p.now + 500ms)), ElementsAre("!incomplete_scan"));
  EXPECT_EQ(p.d.wake_at(), std::nullopt);
}

TEST(HidPos, LateContinuationStartsANewScan) {
  Pos p;
  p.report(raw(0x02, 56, "]Q1", std::string(56, 'A'), 1));
  p.report(raw(0x02, 2, "]C0", "OK", 0), 600ms);  // after the timeout: a scan of its own
  EXPECT_THAT(p.out(), ElementsAre("!incomplete_scan", "OK"));
}

TEST(HidPos, ResetDropsAPartialScan) {
  Pos p;
  p.report(raw(0x02, 56, "]Q1", std::string(56, 'A'), 1));
  p.d.reset();
  EXPECT_EQ(p.d.wake_at(), std::nullopt);
  p.scan("]C0", "OK");
  EXPECT_THAT(p.out(), ElementsAre("OK"));
}

TEST(HidPos, OtherVendorGeometry) {
  HidPosSettings s;
  s.report_id = 0x12;
  s.capacity = 20;
  Pos p(s);
  const auto reports = encode_pos_scan(s, "]E0", "6901234567892690123456789");
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].size(), 26u);
  for (const auto& r : reports) p.report(r);
  EXPECT_THAT(p.out(), ElementsAre("6901234567892690123456789"));
}

}  // namespace
}  // namespace postgate::adapters::scanner
