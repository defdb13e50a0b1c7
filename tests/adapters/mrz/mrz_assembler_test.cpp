#include "adapters/mrz/codec/mrz_assembler.hpp"

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

// ICAO 9303 published specimens (fictitious Utopia).
constexpr std::string_view kSpecimenTd3Line1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
constexpr std::string_view kSpecimenTd3Line2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";

struct Reader {
  explicit Reader(MrzAssemblerSettings s = {}) : a(s) {}
  MrzAssembler a;
  core::TimePoint now = t0();
  MrzOutput out;
  void line(std::string_view l, std::chrono::milliseconds gap = 50ms) {
    now += gap;
    out.append(a.on_line(l, now));
  }
  void lines(const std::vector<std::string>& ls) {
    for (const auto& l : ls) line(l);
  }
  void wait(std::chrono::milliseconds gap) {
    now += gap;
    out.append(a.on_timer(now));
  }
  std::vector<std::string> take() { return show(std::exchange(out, {})); }
};

TEST(MrzAssembler, Td3Passport) {
  Reader r;
  r.lines(Td3{}.lines());
  ASSERT_EQ(r.out.events.size(), 1u);
  const auto& doc = std::get<core::IdentityRead>(r.out.events[0]).document;
  EXPECT_EQ(doc.type, core::DocType::passport);
  EXPECT_EQ(doc.number, "X1234567");
  EXPECT_EQ(doc.name, "TESTER SAMPLE PERSON");
  EXPECT_EQ(doc.sex, core::Sex::female);
  EXPECT_EQ(doc.nationality, "UTO");
  using namespace std::chrono;
  EXPECT_EQ(doc.birth_date, core::Date(year{1980} / January / day{1}));
  EXPECT_EQ(doc.valid_to, core::Date(year{2031} / April / day{15}));
  EXPECT_TRUE(r.out.errors.empty());
  EXPECT_EQ(r.a.wake_at(), std::nullopt);
}

TEST(MrzAssembler, Td1ChinesePermits) {
  Reader r;
  r.lines(Td1{}.lines());
  Td1 taiwan;
  taiwan.code = "CT";
  taiwan.number = "12345678";
  r.lines(taiwan.lines());
  EXPECT_THAT(r.take(), ElementsAre("read:hk_macau_travel_permit:H12345678",
                                    "read:taiwan_travel_permit:12345678"));
}

TEST(MrzAssembler, SpecimenPassportParsesButHasExpired) {
  Reader r;
  r.line(kSpecimenTd3Line1);
  r.line(kSpecimenTd3Line2);
  EXPECT_THAT(r.take(), ElementsAre("failed", "!expired"));
  ASSERT_EQ(r.out.events.size(), 0u);
}

TEST(MrzAssembler, ExpiryByTheOutletsCalendar) {
  // 20:00 UTC on the 23rd is the 24th at +8 h: a passport valid to the 23rd
  // has expired at the outlet, not by the UTC date.
  Td3 p;
  p.expiry = "261123";
  const auto evening = t0() + 10h;
  MrzAssembler local;
  MrzAssembler utc(MrzAssemblerSettings{.utc_offset = 0min, .line_timeout = 1000ms});
  const auto lines = p.lines();
  (void)local.on_line(lines[0], evening);
  (void)utc.on_line(lines[0], evening);
  EXPECT_THAT(show(local.on_line(lines[1], evening)), ElementsAre("failed", "!expired"));
  EXPECT_THAT(show(utc.on_line(lines[1], evening)), ElementsAre("read:passport:X1234567"));
  using namespace std::chrono;
  EXPECT_EQ(local_date(evening, 8h), core::Date(year{2026} / November / day{24}));
  EXPECT_EQ(local_date(evening, 0min), core::Date(year{2026} / November / day{23}));
}

TEST(MrzAssembler, EveryTd3CheckDigitFailure) {
  for (const char* field :
       {"document_number", "birth_date", "expiry", "optional_data", "composite"}) {
    Td3 p;
    p.personal = "AB12345";
    p.bad = field;
    Reader r;
    r.lines(p.lines());
    ASSERT_EQ(r.out.errors.size(), 1u) << field;
    EXPECT_EQ(r.out.errors[0].code, "bad_check_digit");
    EXPECT_NE(r.out.errors[0].detail.find(field), std::string::npos) << r.out.errors[0].detail;
    EXPECT_EQ(r.out.errors[0].detail.find("AB12345"), std::string::npos);
    EXPECT_EQ(r.out.errors[0].detail.find("X1234567"), std::string::npos);
    ASSERT_EQ(r.out.events.size(), 1u);
    EXPECT_EQ(std::get<core::IdentityReadFailed>(r.out.events[0]).reason,
              "MRZ check digit wrong, read the document again");
  }
}

TEST(MrzAssembler, EveryTd1CheckDigitFailure) {
  for (const char* field : {"document_number", "birth_date", "expiry", "composite"}) {
    Td1 c;
    c.bad = field;
    Reader r;
    r.lines(c.lines());
    EXPECT_THAT(r.take(), ElementsAre("failed", "!bad_check_digit")) << field;
  }
}

TEST(MrzAssembler, ParserAndValidatorCodesPassThrough) {
  struct Case {
    std::vector<std::string> lines;
    std::string code;
  };
  Td3 bad_sex;
  bad_sex.sex = 'Q';
  Td3 bad_birth;
  bad_birth.birth = "801301";
  Td3 bad_expiry;
  bad_expiry.expiry = "310231";
  Td3 short_number;
  short_number.number = "X12";  // passports need 5-9 characters
  Td1 foreign_card;
  foreign_card.code = "ID";
  foreign_card.state = "UTO";
  foreign_card.nationality = "UTO";
  Td3 visa;  // can start a zone, but a TD3 zone must be a passport
  auto visa_lines = visa.lines();
  visa_lines[0][0] = 'V';
  const std::vector<Case> cases = {
      {bad_sex.lines(), "bad_format"},
      {bad_birth.lines(), "bad_birth_date"},
      {bad_expiry.lines(), "bad_expiry_date"},
      {short_number.lines(), "bad_format"},
      {foreign_card.lines(), "unsupported_document"},
      {visa_lines, "bad_format"},
  };
  for (const auto& c : cases) {
    Reader r;
    r.lines(c.lines);
    EXPECT_THAT(r.take(), ElementsAre("failed", "!" + c.code)) << c.lines[0];
  }
}

TEST(MrzAssembler, BlankLinesAndSpacesAroundAreFine) {
  Reader r;
  const auto l = Td3{}.lines();
  r.line("");
  r.line("  " + l[0] + "  ");
  r.line(l[1] + "\r");
  r.line("");
  r.line("");
  EXPECT_THAT(r.take(), ElementsAre("read:passport:X1234567"));
}

TEST(MrzAssembler, WholeZoneOnOneLine) {
  Reader r;
  const auto p = Td3{}.lines();
  const auto c = Td1{}.lines();
  r.line(p[0] + p[1]);
  r.line(c[0] + c[1] + c[2]);
  EXPECT_THAT(r.take(),
              ElementsAre("read:passport:X1234567", "read:hk_macau_travel_permit:H12345678"));
}

TEST(MrzAssembler, ZoneCutByABlankLine) {
  Reader r;
  const auto c = Td1{}.lines();
  r.line(c[0]);
  r.line(c[1]);
  r.line("");
  EXPECT_THAT(r.take(), ElementsAre("failed", "!incomplete_mrz"));
}

TEST(MrzAssembler, ZoneCutBySilence) {
  Reader r;
  const auto l = Td3{}.lines();
  r.line(l[0]);
  ASSERT_TRUE(r.a.wake_at().has_value());
  EXPECT_EQ(*r.a.wake_at(), r.now + 1000ms);
  r.wait(999ms);
  EXPECT_THAT(r.take(), IsEmpty());
  r.wait(1ms);
  EXPECT_THAT(r.take(), ElementsAre("failed", "!incomplete_mrz"));
  EXPECT_EQ(r.a.wake_at(), std::nullopt);
  // The late line 2 on its own cannot start a zone.
  r.line(l[1], 2s);
  EXPECT_THAT(r.take(), ElementsAre("failed", "!not_mrz"));
}

TEST(MrzAssembler, TouchKeepsAZoneAliveWhileALineArrives) {
  Reader r;
  const auto l = Td3{}.lines();
  r.line(l[0]);
  for (int i = 0; i < 30; ++i) {
    r.now += 100ms;
    r.a.touch(r.now);
    r.out.append(r.a.on_timer(r.now));
  }
  r.line(l[1]);
  EXPECT_THAT(r.take(), ElementsAre("read:passport:X1234567"));
}

TEST(MrzAssembler, NewZoneBeforeTheLastEndedResyncs) {
  Reader r;
  const auto p = Td3{}.lines();
  const auto c = Td1{}.lines();
  r.line(c[0]);
  r.lines(p);  // TD3 line 1 cannot continue a TD1 zone: it starts a new one
  r.line(p[0]);
  r.line(p[0]);  // line 1 twice: the first zone is incomplete
  r.line(p[1]);
  EXPECT_THAT(r.take(),
              ElementsAre("failed", "read:passport:X1234567", "failed", "read:passport:X1234567",
                          "!incomplete_mrz", "!incomplete_mrz"));
}

TEST(MrzAssembler, WrongLengthInsideAZone) {
  Reader r;
  const auto l = Td3{}.lines();
  r.line(l[0]);
  r.line(l[1].substr(0, 43));
  r.line(l[1], 2s);  // later, on its own: not a zone start
  r.lines(l);
  EXPECT_THAT(r.take(),
              ElementsAre("failed", "failed", "read:passport:X1234567", "!bad_length", "!not_mrz"));
}

TEST(MrzAssembler, LinesThatCannotBeMrz) {
  Reader r;
  r.line("RA123456785GB");           // a waybill: MRZ characters, wrong length
  r.line("hello world", 2s);         // not MRZ characters
  r.line(std::string(44, '<'), 2s);  // right length, cannot start a zone
  r.line("中文", 2s);
  r.line(std::string(1000, 'A'), 2s);
  EXPECT_THAT(r.take(), ElementsAre("failed", "failed", "failed", "failed", "failed", "!bad_length",
                                    "!not_mrz", "!not_mrz", "!not_mrz", "!bad_length"));
}

TEST(MrzAssembler, OneReadFailedPerAttempt) {
  Reader r;
  for (int i = 0; i < 5; ++i) r.line("GARBAGE GARBAGE");  // 50 ms apart: one attempt
  EXPECT_THAT(r.take(),
              ElementsAre("failed", "!not_mrz", "!not_mrz", "!not_mrz", "!not_mrz", "!not_mrz"));
  r.line("GARBAGE", 1500ms);  // a new attempt
  r.lines(Td3{}.lines());     // and a good read straight after: always reported
  EXPECT_THAT(r.take(), ElementsAre("failed", "read:passport:X1234567", "!bad_length"));
}

TEST(MrzAssembler, LineSourceError) {
  Reader r;
  const auto l = Td3{}.lines();
  r.line(l[0]);
  r.out.append(r.a.on_line_error(r.now));
  EXPECT_EQ(r.a.wake_at(), std::nullopt);
  r.line(l[1]);  // belongs to the lost zone
  EXPECT_THAT(r.take(), ElementsAre("failed", "!not_mrz"));
}

TEST(MrzAssembler, Reset) {
  Reader r;
  const auto l = Td3{}.lines();
  r.line(l[0]);
  r.a.reset();
  EXPECT_EQ(r.a.wake_at(), std::nullopt);
  r.lines(l);
  EXPECT_THAT(r.take(), ElementsAre("read:passport:X1234567"));
}

TEST(MrzAssembler, CanStartZone) {
  const auto p = Td3{}.lines();
  const auto c = Td1{}.lines();
  EXPECT_TRUE(can_start_zone(p[0], core::MrzFormat::td3));
  EXPECT_FALSE(can_start_zone(p[1], core::MrzFormat::td3));
  EXPECT_TRUE(can_start_zone(kSpecimenTd3Line1, core::MrzFormat::td3));
  EXPECT_FALSE(can_start_zone(kSpecimenTd3Line2, core::MrzFormat::td3));
  EXPECT_TRUE(can_start_zone(c[0], core::MrzFormat::td1));
  EXPECT_FALSE(can_start_zone(c[1], core::MrzFormat::td1));
  EXPECT_FALSE(can_start_zone(c[2], core::MrzFormat::td1));
  EXPECT_TRUE(can_start_zone("I<UTOD231458907<<<<<<<<<<<<<<<", core::MrzFormat::td1));
  EXPECT_FALSE(can_start_zone("I<UTOD231458907<<<<<<<<<<<<<<<", core::MrzFormat::td3));
  EXPECT_FALSE(can_start_zone("", core::MrzFormat::td1));
  EXPECT_FALSE(can_start_zone(std::string(30, '<'), core::MrzFormat::td1));
}

}  // namespace
}  // namespace postgate::adapters::mrz
