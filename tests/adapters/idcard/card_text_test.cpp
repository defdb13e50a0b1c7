#include "adapters/idcard/codec/card_text.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "core/synthetic.hpp"

namespace postgate::adapters::idcard {
namespace {

using namespace std::chrono;
using core::Date;

constexpr Date kToday{year{2026}, November, day{23}};

// 17 digits + their GB 11643 check character.
std::string with_check(std::string first17) {
  first17.push_back(*core::gb11643_check_char(first17));
  return first17;
}

// A published example number (DOMAIN.md): born 1949-12-31, female.
ResidentCardFields published_example() {
  ResidentCardFields f;
  f.name = "王芳";
  f.sex_code = "2";
  f.ethnicity_code = "01";
  f.birth_date = "19491231";
  f.address = "测试省样例市示范路1号";
  f.number = "11010519491231002X";
  f.issuing_authority = "样例市公安局";
  f.valid_from = "20200101";
  f.valid_to = "长期";
  return f;
}

std::string error_of(const ResidentCardFields& f, Date today = kToday) {
  const auto r = decode_card_text(encode_card_text(f), today);
  return r ? "ok" : r.error().code;
}

void put_unit(std::vector<std::uint8_t>& block, std::size_t offset, char16_t u) {
  block[offset] = static_cast<std::uint8_t>(u & 0xFF);
  block[offset + 1] = static_cast<std::uint8_t>(u >> 8);
}

TEST(CardText, EncoderPadsWithUcs2Spaces) {
  const auto block = encode_card_text(published_example());
  ASSERT_EQ(block.size(), kCardTextSize);
  // 王 U+738B, 芳 U+82B3, then 0x0020 padding to 30 bytes.
  EXPECT_EQ(block[0], 0x8B);
  EXPECT_EQ(block[1], 0x73);
  EXPECT_EQ(block[2], 0xB3);
  EXPECT_EQ(block[3], 0x82);
  for (std::size_t i = 4; i < 30; i += 2) {
    EXPECT_EQ(block[i], 0x20);
    EXPECT_EQ(block[i + 1], 0x00);
  }
  EXPECT_EQ(block[30], '2');    // sex
  EXPECT_EQ(block[248], 0x20);  // blank type flag
}

TEST(CardText, ResidentCardOfTheDomainExample) {
  const auto card = decode_card_text(encode_card_text(published_example()), kToday);
  ASSERT_TRUE(card) << card.error().code << " " << card.error().message;
  EXPECT_EQ(card->kind, CardKind::resident);
  EXPECT_EQ(card->document.type, core::DocType::resident_id);
  EXPECT_EQ(card->document.number, "11010519491231002X");
  EXPECT_EQ(card->document.name, "王芳");
  EXPECT_EQ(card->document.birth_date, (Date{year{1949}, December, day{31}}));
  EXPECT_EQ(card->document.sex, core::Sex::female);
  EXPECT_FALSE(card->document.valid_to.has_value());
  EXPECT_FALSE(card->valid_to.has_value());  // 长期
  EXPECT_EQ(card->valid_from, (Date{year{2020}, January, day{1}}));
  EXPECT_EQ(card->ethnicity_code, "01");
  EXPECT_EQ(card->address, "测试省样例市示范路1号");
  EXPECT_EQ(card->issuing_authority, "样例市公安局");
}

TEST(CardText, SyntheticResidentsRoundTrip) {
  core::SplitMix64 random(2026);
  for (int i = 0; i < 200; ++i) {
    const auto person = core::make_person(random, kToday);
    const auto f = resident_card_fields(person, kToday);
    const auto card = decode_card_text(encode_card_text(f), kToday);
    ASSERT_TRUE(card) << card.error().code << " " << card.error().field;
    EXPECT_EQ(card->document.number, person.resident_id);
    EXPECT_EQ(card->document.name, person.name);
    EXPECT_EQ(card->document.birth_date, person.birth_date);
    EXPECT_EQ(card->document.sex, person.sex);
    ASSERT_TRUE(card->valid_to.has_value());
    EXPECT_EQ(card->document.valid_to, card->valid_to);
    EXPECT_GT(*card->valid_to, kToday);
  }
}

TEST(CardText, ValidityAgainstToday) {
  auto f = published_example();
  f.valid_from = "20061123";
  f.valid_to = "20261123";
  EXPECT_EQ(error_of(f), "ok");  // the last day is still valid
  f.valid_to = "20261122";
  EXPECT_EQ(error_of(f), "expired");
  f.valid_to = "20361122";
  f.valid_from = "20261124";
  EXPECT_EQ(error_of(f), "not_yet_valid");
  f.valid_from = "20261123";
  EXPECT_EQ(error_of(f), "ok");
  f.valid_from = "20300101";
  f.valid_to = "20200101";
  EXPECT_EQ(error_of(f, Date{year{2040}, January, day{1}}), "bad_date");
}

TEST(CardText, MalformedDates) {
  auto f = published_example();
  f.valid_to = "2036";
  EXPECT_EQ(error_of(f), "bad_date");
  f.valid_to = "长久";
  EXPECT_EQ(error_of(f), "bad_date");
  f = published_example();
  f.valid_from = "20201332";
  EXPECT_EQ(error_of(f), "bad_date");
  f = published_example();
  f.birth_date = "19491232";
  EXPECT_EQ(error_of(f), "bad_date");
  f.birth_date = "19500101";  // a date, but not the number's
  EXPECT_EQ(error_of(f), "bad_date");
}

TEST(CardText, NumberChecksPassThrough) {
  auto f = published_example();
  f.number = "110105194912310021";
  EXPECT_EQ(error_of(f), "bad_check_digit");
  f.number = "1101051949123100";
  EXPECT_EQ(error_of(f), "bad_format");
  f.number = with_check("99010519491231002");
  EXPECT_EQ(error_of(f), "bad_region");
  f.number = "";
  EXPECT_EQ(error_of(f), "bad_text");
  f = published_example();
  f.number = with_check("11010520491231002");  // born in 2049
  f.birth_date = "20491231";
  EXPECT_EQ(error_of(f), "bad_birth_date");
}

TEST(CardText, SexCodes) {
  auto f = published_example();  // a woman's number
  for (const auto* code : {"0", "2", "9"}) {
    f.sex_code = code;
    EXPECT_EQ(error_of(f), "ok") << code;
  }
  f.sex_code = "1";
  EXPECT_EQ(error_of(f), "bad_sex");
  for (const auto* code : {"3", "X", "", "12"}) {
    f.sex_code = code;
    EXPECT_EQ(error_of(f), "bad_sex") << code;
  }
}

TEST(CardText, EthnicityCodes) {
  auto f = published_example();
  for (const auto* code : {"01", "27", "56", "97", "98"}) {
    f.ethnicity_code = code;
    EXPECT_EQ(error_of(f), "ok") << code;
  }
  for (const auto* code : {"00", "57", "96", "99", "1", "A1", ""}) {
    f.ethnicity_code = code;
    EXPECT_EQ(error_of(f), "bad_ethnicity") << code;
  }
}

TEST(CardText, RequiredFields) {
  auto f = published_example();
  f.name = "";
  EXPECT_EQ(error_of(f), "bad_text");
  f = published_example();
  f.address = "";
  EXPECT_EQ(error_of(f), "bad_text");
  f = published_example();
  f.issuing_authority = "";
  EXPECT_EQ(error_of(f), "bad_text");
}

TEST(CardText, InvalidUcs2IsRejected) {
  const auto good = encode_card_text(published_example());
  struct Case {
    std::size_t offset;
    char16_t unit;
    const char* what;
  };
  for (const auto& c :
       {Case{2, 0xD800, "high surrogate then a letter"}, Case{2, 0xDC00, "lone low surrogate"},
        Case{28, 0xD83D, "high surrogate at the field's end"}, Case{2, 0x0007, "BEL"},
        Case{2, 0x0000, "NUL"}, Case{60, 0x009B, "CSI"}, Case{60, 0x2028, "line separator"},
        Case{160, 0xFFFF, "non-character"}, Case{122, 0x000A, "newline in the number"}}) {
    auto block = good;
    put_unit(block, c.offset, c.unit);
    const auto r = decode_card_text(block, kToday);
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().code, "bad_text") << c.what;
  }
}

TEST(CardText, SurrogatePairsAreAccepted) {
  auto f = published_example();
  f.name = "王\U00020000";  // CJK extension B
  const auto card = decode_card_text(encode_card_text(f), kToday);
  ASSERT_TRUE(card) << card.error().code;
  EXPECT_EQ(card->document.name, "王\U00020000");
}

TEST(CardText, PaddingInsideIsKept) {
  auto f = published_example();
  f.address = "测试省 样例市";
  const auto card = decode_card_text(encode_card_text(f), kToday);
  ASSERT_TRUE(card);
  EXPECT_EQ(card->address, "测试省 样例市");
}

TEST(CardText, WrongSizeAndUnknownFlag) {
  const auto block = encode_card_text(published_example());
  EXPECT_EQ(decode_card_text(std::span(block).first(255), kToday).error().code, "bad_text");
  EXPECT_EQ(decode_card_text({}, kToday).error().code, "bad_text");
  auto f = published_example();
  f.type_flag = "Z";
  EXPECT_EQ(error_of(f), "unknown_card_type");
  auto zero_flag = block;
  put_unit(zero_flag, 248, 0);
  EXPECT_TRUE(decode_card_text(zero_flag, kToday));
}

ResidentCardFields hmt_permit() {
  ResidentCardFields f = published_example();
  f.number = with_check("81000019800101003");
  f.birth_date = "19800101";
  f.sex_code = "1";
  f.ethnicity_code = "";
  f.permit_number = "H00000000";
  f.issue_count = "01";
  f.type_flag = "J";
  f.valid_from = "20250101";
  f.valid_to = "20300101";
  return f;
}

TEST(CardText, HmtResidencePermit) {
  const auto card = decode_card_text(encode_card_text(hmt_permit()), kToday);
  ASSERT_TRUE(card) << card.error().code << " " << card.error().field;
  EXPECT_EQ(card->kind, CardKind::hmt_residence_permit);
  EXPECT_EQ(card->document.type, core::DocType::hmt_residence_permit);
  EXPECT_EQ(card->permit_number, "H00000000");
  EXPECT_EQ(card->issue_count, "01");
  EXPECT_EQ(card->ethnicity_code, "");
  EXPECT_EQ(card->document.valid_to, (Date{year{2030}, January, day{1}}));
}

TEST(CardText, HmtPermitWithABlankFlagIsRecognisedByItsNumber) {
  auto f = hmt_permit();
  f.type_flag = "";
  const auto card = decode_card_text(encode_card_text(f), kToday);
  ASSERT_TRUE(card) << card.error().code;
  EXPECT_EQ(card->kind, CardKind::hmt_residence_permit);
}

TEST(CardText, HmtFlagsAreConfigurable) {
  auto f = hmt_permit();
  f.type_flag = "H";
  EXPECT_EQ(error_of(f), "unknown_card_type");
  CardTextOptions options;
  options.hmt_flags = "JH";
  EXPECT_TRUE(decode_card_text(encode_card_text(f), kToday, options));
  f = published_example();  // a mainland number under the permit's flag
  f.type_flag = "J";
  EXPECT_EQ(error_of(f), "bad_region");
}

Foreign2017Fields foreign2017() {
  Foreign2017Fields f;
  f.english_name = "SAMPLE, TESTER JOHN";
  f.sex_code = "1";
  f.number = "CAN000000000001";
  f.nationality = "CAN";
  f.chinese_name = "样本";
  f.valid_from = "20200101";
  f.valid_to = "20300101";
  f.birth_date = "19800101";
  f.issuing_office = "1100";
  return f;
}

TEST(CardText, ForeignPermanentResident2017) {
  const auto card = decode_card_text(encode_card_text(foreign2017()), kToday);
  ASSERT_TRUE(card) << card.error().code << " " << card.error().field;
  EXPECT_EQ(card->kind, CardKind::foreign_permanent_2017);
  EXPECT_EQ(card->document.type, core::DocType::foreign_permanent_resident_id);
  EXPECT_EQ(card->document.number, "CAN000000000001");
  EXPECT_EQ(card->document.name, "SAMPLE, TESTER JOHN");
  EXPECT_EQ(card->chinese_name, "样本");
  EXPECT_EQ(card->document.nationality, "CAN");
  EXPECT_EQ(card->document.sex, core::Sex::male);
  EXPECT_EQ(card->document.birth_date, (Date{year{1980}, January, day{1}}));
  EXPECT_EQ(card->issuing_authority, "1100");
}

TEST(CardText, ForeignPermanentResident2017Errors) {
  const auto code = [](const Foreign2017Fields& f) {
    const auto r = decode_card_text(encode_card_text(f), kToday);
    return r ? "ok" : r.error().code;
  };
  auto f = foreign2017();
  f.nationality = "USA";
  EXPECT_EQ(code(f), "bad_format");  // number says CAN
  f = foreign2017();
  f.nationality = "C1N";
  EXPECT_EQ(code(f), "bad_text");
  f = foreign2017();
  f.number = "CAN00000000000";
  EXPECT_EQ(code(f), "bad_format");
  f = foreign2017();
  f.english_name = "";
  f.chinese_name = "";
  EXPECT_EQ(code(f), "bad_text");
  f = foreign2017();
  f.valid_to = "20251231";
  EXPECT_EQ(code(f), "expired");
}

Foreign2023Fields foreign2023() {
  Foreign2023Fields f;
  f.chinese_name = "样本";
  f.sex_code = "2";
  f.renewal_count = "00";
  f.birth_date = "19850615";
  // 46 characters, with a space right at the join of the two fields (35).
  f.english_name = "SAMPLEFAMILYNAMEWITHMANYLETTERSXYZ GIVENNAME A";
  f.number = with_check("93111019850615002");
  f.valid_from = "20240101";
  f.valid_to = "20340101";
  f.nationality = "FRA";
  return f;
}

TEST(CardText, ForeignPermanentResident2023) {
  const auto f = foreign2023();
  const auto card = decode_card_text(encode_card_text(f), kToday);
  ASSERT_TRUE(card) << card.error().code << " " << card.error().field;
  EXPECT_EQ(card->kind, CardKind::foreign_permanent_2023);
  EXPECT_EQ(card->document.number, f.number);
  EXPECT_EQ(card->english_name, "SAMPLEFAMILYNAMEWITHMANYLETTERSXYZ GIVENNAME A");
  EXPECT_EQ(card->document.name, card->english_name);
  EXPECT_EQ(card->document.nationality, "FRA");
  EXPECT_EQ(card->document.sex, core::Sex::female);
  EXPECT_EQ(card->document.birth_date, (Date{year{1985}, June, day{15}}));
  EXPECT_EQ(card->valid_to, (Date{year{2034}, January, day{1}}));
}

TEST(CardText, ForeignPermanentResident2023Errors) {
  const auto code = [](const Foreign2023Fields& f) {
    const auto r = decode_card_text(encode_card_text(f), kToday);
    return r ? "ok" : r.error().code;
  };
  auto f = foreign2023();
  f.number.back() = f.number.back() == '0' ? '1' : '0';
  EXPECT_EQ(code(f), "bad_check_digit");
  f = foreign2023();
  f.number = with_check("13111019850615002");  // does not start with 9
  EXPECT_EQ(code(f), "bad_format");
  f = foreign2023();
  f.birth_date = "19850616";
  EXPECT_EQ(code(f), "bad_date");
  f = foreign2023();
  f.valid_from = "20270101";
  EXPECT_EQ(code(f), "not_yet_valid");
}

TEST(CardText, ErrorsDoNotLeakTheCard) {
  auto f = published_example();
  f.number = "110105194912310021";
  const auto r = decode_card_text(encode_card_text(f), kToday);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("1101"), std::string::npos);
  EXPECT_EQ(r.error().message.find("王"), std::string::npos);
}

TEST(CardText, LocalDateUsesTheOffset) {
  const auto at = [](int h) {
    return core::TimePoint{sys_days{Date{year{2026}, November, day{23}}} + hours{h}};
  };
  EXPECT_EQ(local_date(at(15), hours{8}), (Date{year{2026}, November, day{23}}));
  EXPECT_EQ(local_date(at(16), hours{8}), (Date{year{2026}, November, day{24}}));
  EXPECT_EQ(local_date(at(2), minutes{-180}), (Date{year{2026}, November, day{22}}));
}

}  // namespace
}  // namespace postgate::adapters::idcard
