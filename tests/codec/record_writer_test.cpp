#include "codec/record_writer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "codec/record_json.hpp"
#include "core/synthetic.hpp"
#include "core/utf8.hpp"

namespace postgate::codec {
namespace {

using namespace std::chrono;

// The published example number of GB 11643; no real person.
constexpr const char* kExampleId = "11010519491231002X";
constexpr core::Date kToday{year{2026}, November, day{24}};

core::TimePoint at_ms(std::int64_t ms) {
  return core::TimePoint{milliseconds{ms}};
}

core::Record full_record() {
  core::Record r;
  r.id = *core::Uuid::parse("01936f2a-7c3e-7b1d-9a2f-0c4d5e6f7a8b");
  r.seq = 4711;
  r.accepted_at = at_ms(1'795'000'000'123);
  auto& a = r.acceptance;
  a.ref = "pos-7781";
  a.counter = "c1";
  a.operator_id = "op-17";
  a.sender.type = core::DocType::resident_id;
  a.sender.number = kExampleId;
  a.sender.name = "张三";
  a.waybills = {{"EA123456785CN", "upu_s10"}, {"SF1234567890", "sf"}};
  a.declared = "books, \"gun\" replica\n2 pcs";
  a.inspection = {core::InspectionOutcome::refuse, "01", true, "replica \\ toy\t"};
  a.screening_hits = {{"01", "firearms", core::Severity::prohibited, "gun"},
                      {"07", "batteries", core::Severity::restricted, "电池"}};
  a.evidence = {{"01936f2a-0000-7000-8000-000000000001", "camera", "cam-1",
                 "/var/lib/postgate/evidence/a.enc", "ab12", 1024, at_ms(1'795'000'000'000)},
                {"", "xray", "xr-2", "/var/lib/postgate/evidence/b.enc", "cd34", 0, at_ms(0)}};
  return r;
}

core::Record minimal_record() {
  core::Record r;
  r.acceptance.waybills = {{"EA123456785CN", "upu_s10"}};
  return r;
}

// Both forms of the record agree byte for byte, or both refuse it.
void expect_same(const core::Record& r, Masking m) {
  std::string reference;
  bool reference_threw = false;
  try {
    reference = record_to_json(r, m).dump();
  } catch (const json::type_error& e) {
    ASSERT_EQ(e.id, 316);
    reference_threw = true;
  }
  std::string out = "prefix";
  const auto s = append_record_json(r, m, out);
  if (reference_threw) {
    ASSERT_FALSE(s) << "writer accepted what dump() refused";
    EXPECT_EQ(s.error().code, "invalid_text");
    EXPECT_EQ(out, "prefix");
  } else {
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(out, "prefix" + reference);
  }
}

void expect_same_both(const core::Record& r) {
  SCOPED_TRACE("clear");
  expect_same(r, Masking::clear);
  SCOPED_TRACE("masked");
  expect_same(r, Masking::masked);
}

TEST(RecordWriter, FullRecordMatchesTheDom) {
  expect_same_both(full_record());
  // And the text really is what the keys promise, not just equal to itself.
  const auto text = record_json_text(full_record(), Masking::masked);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find(kExampleId), std::string::npos);
  EXPECT_EQ(text->rfind("{\"accepted_at\":", 0), 0u);
}

TEST(RecordWriter, MinimalRecordMatchesTheDom) {
  expect_same_both(minimal_record());
}

TEST(RecordWriter, RefAbsentOrPresent) {
  auto r = full_record();
  r.acceptance.ref.reset();
  expect_same_both(r);
  r.acceptance.ref = "";
  expect_same_both(r);
}

TEST(RecordWriter, EvidenceWithAndWithoutId) {
  auto r = full_record();
  for (auto& e : r.acceptance.evidence) e.id.clear();
  expect_same_both(r);
  r.acceptance.evidence.resize(1);
  r.acceptance.evidence[0].id = "x";
  expect_same_both(r);
  r.acceptance.evidence.clear();
  expect_same_both(r);
}

TEST(RecordWriter, InspectionVariants) {
  auto r = full_record();
  for (const auto outcome : {core::InspectionOutcome::pass, core::InspectionOutcome::refuse})
    for (const char* category : {"", "01"})
      for (const bool confirmed : {false, true})
        for (const char* note : {"", "checked"}) {
          r.acceptance.inspection = {outcome, category, confirmed, note};
          expect_same_both(r);
        }
}

TEST(RecordWriter, ExtremeNumbers) {
  auto r = full_record();
  r.seq = std::numeric_limits<std::uint64_t>::max();
  r.acceptance.evidence[0].size = std::numeric_limits<std::uint64_t>::max();
  expect_same_both(r);
  r.seq = 0;
  expect_same_both(r);
}

TEST(AppendJsonString, EscapesLikeNlohmann) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "é中😀";
  std::string out;
  ASSERT_TRUE(append_json_string(all, out));
  EXPECT_EQ(out, json(all).dump());
  EXPECT_NE(out.find("\\u001f"), std::string::npos);
  EXPECT_NE(out.find('\x7f'), std::string::npos);
}

// Random text from every class of character the escaping treats apart.
class TextGen {
 public:
  explicit TextGen(std::mt19937& g) : g_(g) {}

  std::uint32_t below(std::uint32_t n) {
    return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(g_);
  }

  std::string text() {
    std::string s;
    if (below(8) == 0) return s;
    const auto n = below(24);
    for (std::uint32_t i = 0; i < n; ++i) {
      switch (below(9)) {
        case 0:
          s.push_back(static_cast<char>(below(0x20)));
          break;
        case 1:
          s.push_back('\x7f');
          break;
        case 2:
          s.push_back(below(2) ? '"' : '\\');
          break;
        case 3:
          core::utf8::append(s, 0x80 + below(0x800 - 0x80));
          break;
        case 4: {
          char32_t cp = 0x800 + below(0x10000 - 0x800);
          if (cp >= 0xD800 && cp <= 0xDFFF) cp -= 0x800;  // no surrogates
          core::utf8::append(s, cp);
          break;
        }
        case 5:
          core::utf8::append(s, 0x10000 + below(0x110000 - 0x10000));
          break;
        default:
          s.push_back(static_cast<char>(0x20 + below(0x7f - 0x20)));
      }
    }
    return s;
  }

 private:
  std::mt19937& g_;
};

// core's RandomSource over the test's generator, for the synthetic people.
class MtSource final : public core::RandomSource {
 public:
  explicit MtSource(std::mt19937& g) : g_(g) {}
  std::uint64_t next() override { return (std::uint64_t{g_()} << 32) | g_(); }

 private:
  std::mt19937& g_;
};

core::Record random_record(std::mt19937& g) {
  TextGen t(g);
  MtSource src(g);
  core::Record r;
  for (auto& b : r.id.bytes) b = static_cast<std::uint8_t>(g());
  r.seq = src.next() >> t.below(64);
  r.accepted_at = at_ms(static_cast<std::int64_t>(src.next() % 4'102'444'800'000ull));
  auto& a = r.acceptance;
  if (t.below(2)) a.ref = t.text();
  a.counter = t.text();
  a.operator_id = t.text();
  const auto& types = core::all_doc_types();
  a.sender.type = types[t.below(static_cast<std::uint32_t>(types.size()))];
  if (t.below(2)) {
    const auto person = core::make_person(src, kToday);
    a.sender.name = person.name;
    a.sender.number = person.resident_id;
  } else {
    a.sender.name = t.text();
    a.sender.number = t.text();
  }
  for (auto n = t.below(4); n > 0; --n) a.waybills.push_back({t.text(), t.text()});
  a.declared = t.text();
  a.inspection = {t.below(2) ? core::InspectionOutcome::pass : core::InspectionOutcome::refuse,
                  t.below(2) ? t.text() : "", t.below(2) == 1, t.below(2) ? t.text() : ""};
  for (auto n = t.below(3); n > 0; --n)
    a.screening_hits.push_back(
        {t.text(), t.text(), t.below(2) ? core::Severity::prohibited : core::Severity::restricted,
         t.text()});
  for (auto n = t.below(3); n > 0; --n)
    a.evidence.push_back({t.below(2) ? t.text() : "", t.text(), t.text(), t.text(), t.text(),
                          src.next() >> t.below(64),
                          at_ms(static_cast<std::int64_t>(src.next() % 4'102'444'800'000ull))});
  return r;
}

TEST(RecordWriter, RandomRecordsMatchTheDom) {
  std::mt19937 g(20261124);
  for (int i = 0; i < 2500; ++i) {
    SCOPED_TRACE(i);
    const auto r = random_record(g);
    expect_same_both(r);
    if (HasFatalFailure() || HasNonfatalFailure()) return;
  }
}

struct Invalid {
  const char* name;
  std::string bytes;
};

const std::vector<Invalid>& invalid_texts() {
  static const std::vector<Invalid> cases = {
      {"lone continuation",
       "ab\x80"
       "cd"},
      {"overlong NUL", "a\xC0\x80"},
      {"overlong 3-byte", "\xE0\x80\xAF"},
      {"surrogate", "x\xED\xA0\x80y"},
      {"above U+10FFFF", "\xF4\x90\x80\x80"},
      {"F5 lead", "\xF5\x80\x80\x80"},
      {"truncated at end", "\xE4\xB8"},
      {"truncated mid", "\xE4\xB8z"},
  };
  return cases;
}

TEST(AppendJsonString, RefusesInvalidUtf8AndLeavesOutAlone) {
  for (const auto& c : invalid_texts()) {
    SCOPED_TRACE(c.name);
    std::string out = "kept";
    EXPECT_FALSE(append_json_string(c.bytes, out));
    EXPECT_EQ(out, "kept");
    EXPECT_THROW(json(c.bytes).dump(), json::type_error);
  }
}

TEST(RecordWriter, InvalidUtf8FailsLikeDump) {
  // Fields written as given in both maskings; the name only in clear.
  using Setter = void (*)(core::Record&, const std::string&);
  const std::vector<Setter> setters = {
      [](core::Record& r, const std::string& s) { r.acceptance.declared = s; },
      [](core::Record& r, const std::string& s) { r.acceptance.counter = s; },
      [](core::Record& r, const std::string& s) { r.acceptance.ref = s; },
      [](core::Record& r, const std::string& s) { r.acceptance.waybills[0].number = s; },
      [](core::Record& r, const std::string& s) { r.acceptance.inspection.note = s; },
      [](core::Record& r, const std::string& s) { r.acceptance.screening_hits[1].keyword = s; },
      [](core::Record& r, const std::string& s) { r.acceptance.evidence[1].source = s; },
  };
  for (const auto& c : invalid_texts()) {
    SCOPED_TRACE(c.name);
    for (std::size_t i = 0; i < setters.size(); ++i) {
      SCOPED_TRACE(i);
      auto r = full_record();
      setters[i](r, c.bytes);
      for (const auto m : {Masking::clear, Masking::masked}) {
        EXPECT_THROW(record_to_json(r, m).dump(), json::type_error);
        std::string out = "prefix";
        const auto s = append_record_json(r, m, out);
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, "invalid_text");
        EXPECT_EQ(s.error().message.find(c.bytes), std::string::npos);
        EXPECT_EQ(out, "prefix");
        EXPECT_FALSE(record_json_text(r, m));
      }
    }
    auto r = full_record();
    r.acceptance.sender.name = c.bytes;
    EXPECT_THROW(record_to_json(r, Masking::clear).dump(), json::type_error);
    std::string out;
    EXPECT_FALSE(append_record_json(r, Masking::clear, out));
    EXPECT_TRUE(out.empty());
    // Masked, the name goes through mask_name first: whatever it makes of
    // the bytes, the two forms must agree.
    expect_same(r, Masking::masked);
    // An evidence path is dropped when masked, so only clear refuses it.
    r = full_record();
    r.acceptance.evidence[0].path = c.bytes;
    expect_same(r, Masking::clear);
    expect_same(r, Masking::masked);
    EXPECT_TRUE(append_record_json(r, Masking::masked, out));
  }
}

}  // namespace
}  // namespace postgate::codec
