#include "core/identity.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "core/utf8.hpp"

namespace postgate::core {
namespace {

using namespace std::chrono;

constexpr Date kToday{year{2026}, November, day{23}};

// Completes 17 digits with their GB 11643 check character, so that tests can
// build numbers for any region and date without real-looking fixtures.
std::string with_check(const std::string& first17) {
  return first17 + *gb11643_check_char(first17);
}

// GB 32100 check character, computed independently of the implementation.
std::string uscc_with_check(const std::string& first17) {
  static const std::string alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  static const int weights[] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += static_cast<int>(alphabet.find(first17[i])) * weights[i];
  return first17 + alphabet[(31 - sum % 31) % 31];
}

Error error_of(DocType t, std::string_view number, std::string_view name = "张三") {
  auto r = validate_identity(t, number, name, kToday);
  EXPECT_FALSE(r.has_value()) << "expected a failure";
  return r ? Error{} : r.error();
}

void expect_error(DocType t, std::string_view number, const std::string& code,
                  const std::string& field = "doc_number") {
  const auto e = error_of(t, number);
  EXPECT_EQ(e.code, code) << e.message;
  EXPECT_EQ(e.field, field);
}

void expect_valid(DocType t, std::string_view number) {
  auto r = validate_identity(t, number, "张三", kToday);
  EXPECT_TRUE(r.has_value()) << to_string(t) << ": " << (r ? "" : r.error().code);
}

TEST(DocTypeNames, AreTheEnumeratorNamesAndRoundTrip) {
  const std::vector<std::string> expected{"resident_id",
                                          "temporary_resident_id",
                                          "hmt_residence_permit",
                                          "hk_macau_travel_permit",
                                          "taiwan_travel_permit",
                                          "passport",
                                          "foreign_permanent_resident_id",
                                          "military_id",
                                          "armed_police_id",
                                          "organisation"};
  ASSERT_EQ(all_doc_types().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const DocType t = all_doc_types()[i];
    EXPECT_EQ(to_string(t), expected[i]);
    EXPECT_EQ(doc_type_from_string(expected[i]), t);
  }
  EXPECT_EQ(doc_type_from_string("Resident_ID"), std::nullopt);
  EXPECT_EQ(doc_type_from_string(""), std::nullopt);
  EXPECT_EQ(doc_type_from_string("idcard"), std::nullopt);
}

TEST(Gb11643, CheckCharOfPublishedExamples) {
  EXPECT_EQ(gb11643_check_char("11010519491231002"), 'X');
  EXPECT_EQ(gb11643_check_char("44052418800101001"), '4');
}

TEST(Gb11643, CheckCharNeedsSeventeenDigits) {
  EXPECT_EQ(gb11643_check_char("1101051949123100"), std::nullopt);
  EXPECT_EQ(gb11643_check_char("110105194912310021"), std::nullopt);
  EXPECT_EQ(gb11643_check_char("1101051949123100A"), std::nullopt);
  EXPECT_EQ(gb11643_check_char(""), std::nullopt);
}

TEST(ResidentId, PublishedExampleIsValidWithFacts) {
  auto r = validate_identity(DocType::resident_id, "11010519491231002X", "张三", kToday);
  ASSERT_TRUE(r.has_value()) << r.error().code;
  EXPECT_EQ(r->type, DocType::resident_id);
  EXPECT_EQ(r->number, "11010519491231002X");
  EXPECT_EQ(r->name, "张三");
  EXPECT_EQ(r->birth_date, (Date{year{1949}, December, day{31}}));
  EXPECT_EQ(r->sex, Sex::female);  // 17th digit 2 is even
  EXPECT_EQ(r->nationality, std::nullopt);
  EXPECT_EQ(r->valid_to, std::nullopt);
}

TEST(ResidentId, OddSeventeenthDigitIsMale) {
  auto r = validate_identity(DocType::resident_id, with_check("11010519800101001"), "张三", kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->sex, Sex::male);
}

TEST(ResidentId, NormalisesLowerCaseXAndWhitespace) {
  for (const auto* n : {"11010519491231002x", " 11010519491231002X\t", "110105 19491231 002X",
                        "\xE3\x80\x80"
                        "11010519491231002x\n"}) {
    auto r = validate_identity(DocType::resident_id, n, "张三", kToday);
    ASSERT_TRUE(r.has_value()) << r.error().code;
    EXPECT_EQ(r->number, "11010519491231002X");
  }
}

TEST(ResidentId, SecondPublishedExampleHasABirthDateBefore1900) {
  // Its check character is right (see Gb11643 above), but 1880 is rejected.
  expect_error(DocType::resident_id, "440524188001010014", "bad_birth_date");
}

TEST(ResidentId, WrongCheckCharacter) {
  expect_error(DocType::resident_id, "110105194912310021", "bad_check_digit");
  expect_error(DocType::resident_id, "110105194912310020", "bad_check_digit");
  expect_error(DocType::resident_id, "440524188001010013", "bad_check_digit");
}

TEST(ResidentId, BadFormat) {
  expect_error(DocType::resident_id, "", "bad_format");
  expect_error(DocType::resident_id, "   ", "bad_format");
  expect_error(DocType::resident_id, "11010519491231002", "bad_format");
  expect_error(DocType::resident_id, "11010519491231002XX", "bad_format");
  expect_error(DocType::resident_id, "1101051949123100X2", "bad_format");
  expect_error(DocType::resident_id, "11010519491231002Y", "bad_format");
  expect_error(DocType::resident_id, "11010519491231-02X", "bad_format");
  expect_error(DocType::resident_id,
               "110105194912310\x01"
               "2X",
               "bad_format");
  // Full-width digits are not folded: a reader never produces them.
  expect_error(DocType::resident_id, "１１0105194912310021", "bad_format");
}

TEST(ResidentId, RegionMustBeAProvinceLevelCode) {
  for (const auto* prefix : {"00", "10", "16", "20", "24", "30", "38", "40", "47", "49", "55",
                             "60", "66", "70", "72", "80", "81", "82", "83", "84", "91", "99"}) {
    expect_error(DocType::resident_id, with_check(std::string(prefix) + "010519800101001"),
                 "bad_region");
  }
  for (const auto* prefix :
       {"11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71"}) {
    expect_valid(DocType::resident_id, with_check(std::string(prefix) + "010519800101001"));
  }
}

TEST(ResidentId, BirthDateBoundaries) {
  expect_valid(DocType::resident_id, with_check("11010520000229001"));  // leap day
  expect_error(DocType::resident_id, with_check("11010519000229001"), "bad_birth_date");
  expect_error(DocType::resident_id, with_check("11010520010229001"), "bad_birth_date");
  expect_error(DocType::resident_id, with_check("11010519801301001"), "bad_birth_date");
  expect_error(DocType::resident_id, with_check("11010519800100001"), "bad_birth_date");
  expect_error(DocType::resident_id, with_check("11010519800431001"), "bad_birth_date");
  expect_valid(DocType::resident_id, with_check("11010519000101001"));
  expect_error(DocType::resident_id, with_check("11010518991231001"), "bad_birth_date");
  expect_valid(DocType::resident_id, with_check("11010520261123001"));  // born today
  expect_error(DocType::resident_id, with_check("11010520261124001"), "bad_birth_date");
  expect_error(DocType::resident_id, with_check("11010530000101001"), "bad_birth_date");
}

TEST(ResidentId, TodayDecidesWhatIsFuture) {
  const auto n = with_check("11010520261124001");
  EXPECT_FALSE(validate_identity(DocType::resident_id, n, "张三", kToday).has_value());
  EXPECT_TRUE(
      validate_identity(DocType::resident_id, n, "张三", Date{year{2026}, November, day{24}})
          .has_value());
}

TEST(TemporaryResidentId, FollowsTheResidentRules) {
  expect_valid(DocType::temporary_resident_id, "11010519491231002X");
  expect_error(DocType::temporary_resident_id, "110105194912310021", "bad_check_digit");
  expect_error(DocType::temporary_resident_id, with_check("81000019800101001"), "bad_region");
}

TEST(HmtResidencePermit, NeedsAnHmtPrefix) {
  for (const auto* prefix : {"810000", "820000", "830000"}) {
    auto r = validate_identity(DocType::hmt_residence_permit,
                               with_check(std::string(prefix) + "19800101003"), "陈大文", kToday);
    ASSERT_TRUE(r.has_value()) << prefix << ": " << r.error().code;
    EXPECT_EQ(r->birth_date, (Date{year{1980}, January, day{1}}));
    EXPECT_EQ(r->sex, Sex::male);
  }
  for (const auto* prefix : {"810001", "110105", "840000", "710000"})
    expect_error(DocType::hmt_residence_permit, with_check(std::string(prefix) + "19800101003"),
                 "bad_region");
  expect_error(DocType::hmt_residence_permit, with_check("81000019800230003"), "bad_birth_date");
}

TEST(ForeignPermanentResident, Card2017ShapeOnly) {
  expect_valid(DocType::foreign_permanent_resident_id, "USA110080010011");
  auto r = validate_identity(DocType::foreign_permanent_resident_id, "usa 110080010011",
                             "SMITH JOHN", kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->number, "USA110080010011");
  EXPECT_EQ(r->birth_date, std::nullopt);
  expect_error(DocType::foreign_permanent_resident_id, "US1110080010011", "bad_format");
  expect_error(DocType::foreign_permanent_resident_id, "USA11008001001A", "bad_format");
  expect_error(DocType::foreign_permanent_resident_id, "USA11008001001", "bad_format");
}

TEST(ForeignPermanentResident, Card2023IsMod11AndCarriesTheBirthDate) {
  const auto n = with_check("91184019850615001");
  auto r = validate_identity(DocType::foreign_permanent_resident_id, n, "SMITH JOHN", kToday);
  ASSERT_TRUE(r.has_value()) << r.error().code;
  EXPECT_EQ(r->birth_date, (Date{year{1985}, June, day{15}}));
  EXPECT_EQ(r->sex, std::nullopt);

  std::string wrong = n;
  wrong[17] = wrong[17] == '0' ? '1' : '0';
  expect_error(DocType::foreign_permanent_resident_id, wrong, "bad_check_digit");
  expect_error(DocType::foreign_permanent_resident_id, with_check("81184019850615001"),
               "bad_format");
  expect_error(DocType::foreign_permanent_resident_id, with_check("91184020300615001"),
               "bad_birth_date");
  expect_error(DocType::foreign_permanent_resident_id, "9118401985061500", "bad_format");
}

TEST(HkMacauTravelPermit, HOrMThenEightOrTenDigits) {
  expect_valid(DocType::hk_macau_travel_permit, "H12345678");
  expect_valid(DocType::hk_macau_travel_permit, "M1234567801");
  auto r = validate_identity(DocType::hk_macau_travel_permit, " h1234 5678 ", "陈大文", kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->number, "H12345678");
  for (const auto* n : {"X12345678", "H1234567", "H123456789", "H123456789012", "12345678",
                        "H1234567A", "HH2345678"})
    expect_error(DocType::hk_macau_travel_permit, n, "bad_format");
}

TEST(TaiwanTravelPermit, EightOrTenDigits) {
  expect_valid(DocType::taiwan_travel_permit, "12345678");
  expect_valid(DocType::taiwan_travel_permit, "1234567890");
  for (const auto* n : {"1234567", "123456789", "12345678901", "1234567A", "T1234567"})
    expect_error(DocType::taiwan_travel_permit, n, "bad_format");
}

TEST(Passport, FiveToNineLettersOrDigits) {
  expect_valid(DocType::passport, "E12345678");
  expect_valid(DocType::passport, "L898902C3");
  expect_valid(DocType::passport, "12345");
  auto r = validate_identity(DocType::passport, "e1234 5678", "ZHANG SAN", kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->number, "E12345678");
  for (const auto* n : {"1234", "1234567890", "E1234-567", "E1234567<", "护照12345"})
    expect_error(DocType::passport, n, "bad_format");
}

TEST(ServiceIds, FourToTwentyDigitsLettersOrChinese) {
  for (const auto t : {DocType::military_id, DocType::armed_police_id}) {
    expect_valid(t, "南字第12345号");
    expect_valid(t, "ab12");
    expect_valid(t, "12345678901234567890");
    expect_valid(t, "军字第一二三四号");
    expect_error(t, "123", "bad_format");
    expect_error(t, "123456789012345678901", "bad_format");
    expect_error(t, "12#45", "bad_format");
    expect_error(t, "１２３４", "bad_format");  // full-width digits
    expect_error(t,
                 "\xFF\xFE"
                 "1234",
                 "bad_format");
  }
}

TEST(Organisation, UnifiedSocialCreditCode) {
  expect_valid(DocType::organisation, "91350100M000100Y43");  // the GB 32100 example
  auto r = validate_identity(DocType::organisation, "91350100m000100y43", "某某有限公司", kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->number, "91350100M000100Y43");
  EXPECT_EQ(r->birth_date, std::nullopt);
  EXPECT_EQ(r->sex, std::nullopt);
  expect_valid(DocType::organisation, uscc_with_check("12100000400000398"));
  expect_error(DocType::organisation, "91350100M000100Y44", "bad_check_digit");
  expect_error(DocType::organisation, "91350100M000100Y4", "bad_format");
  expect_error(DocType::organisation, "91350100I000100Y43", "bad_format");  // I not in alphabet
  expect_error(DocType::organisation, "91350100O000100Y43", "bad_format");
  expect_error(DocType::organisation, "91350100Z000100Y43", "bad_format");
}

TEST(Organisation, CheckValueThirtyOneBecomesZero) {
  // 17 zeros: sum 0, 31 - 0 = 31 -> '0'.
  expect_valid(DocType::organisation, "000000000000000000");
  expect_error(DocType::organisation, "000000000000000001", "bad_check_digit");
}

TEST(Name, TrimmedAndKept) {
  auto r =
      validate_identity(DocType::resident_id, "11010519491231002X", "  张三\xE3\x80\x80 ", kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->name, "张三");
  r = validate_identity(DocType::passport, "E12345678", "ERIKSSON ANNA MARIA", kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->name, "ERIKSSON ANNA MARIA");
  r = validate_identity(DocType::resident_id, "11010519491231002X", "阿依古丽·买买提", kToday);
  EXPECT_TRUE(r.has_value());
}

TEST(Name, Rejections) {
  const std::string sixty_four = [] {
    std::string s;
    for (int i = 0; i < 64; ++i) s += "张";
    return s;
  }();
  EXPECT_TRUE(validate_identity(DocType::resident_id, "11010519491231002X", sixty_four, kToday)
                  .has_value());
  for (const std::string& name :
       {std::string(""), std::string("   "), std::string("\xE3\x80\x80"), std::string("张\x01三"),
        std::string("张\t三"), std::string("张\x7F"), std::string("张\xC2\x85三"),
        std::string("张\xE2\x80\xA8三"), std::string("\xFF"), std::string("张\xE5\xBC"),
        std::string("\xC0\xAF"), std::string("\xED\xA0\x80"), std::string("a\0b", 3),
        sixty_four + "张"}) {
    auto r = validate_identity(DocType::resident_id, "11010519491231002X", name, kToday);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "bad_name");
    EXPECT_EQ(r.error().field, "name");
  }
}

TEST(Errors, NeverContainTheNumberOrName) {
  const std::vector<std::string> numbers{"110105194912310021", "11010519491231002",
                                         with_check("99010519800101001")};
  for (const auto& n : numbers) {
    const auto e = error_of(DocType::resident_id, n);
    EXPECT_EQ(e.message.find("1101051949"), std::string::npos);
    EXPECT_EQ(e.message.find("9901051980"), std::string::npos);
  }
  const auto e = error_of(DocType::resident_id, "11010519491231002X", "张\x01三");
  EXPECT_EQ(e.message.find("张"), std::string::npos);
}

TEST(MaskNumber, ResidentLikeKeepsSixAndFour) {
  EXPECT_EQ(mask_number(DocType::resident_id, "11010519491231002X"), "110105********002X");
  EXPECT_EQ(mask_number(DocType::resident_id, " 11010519491231002x"), "110105********002X");
  EXPECT_EQ(mask_number(DocType::temporary_resident_id, "11010519491231002X"),
            "110105********002X");
  EXPECT_EQ(mask_number(DocType::hmt_residence_permit, "810000199001010010"), "810000********0010");
  // Masking does not validate: a deliberately wrong check digit keeps a
  // valid-looking number out of the tree.
  EXPECT_EQ(mask_number(DocType::foreign_permanent_resident_id, "911840198506150012"),
            "911840********0012");
}

TEST(MaskNumber, OthersKeepTwoAndTwo) {
  EXPECT_EQ(mask_number(DocType::passport, "E12345678"), "E1*****78");
  EXPECT_EQ(mask_number(DocType::hk_macau_travel_permit, "H1234567801"), "H1*******01");
  EXPECT_EQ(mask_number(DocType::taiwan_travel_permit, "12345678"), "12****78");
  EXPECT_EQ(mask_number(DocType::passport, "ABCDEFG"), "AB***FG");
  EXPECT_EQ(mask_number(DocType::foreign_permanent_resident_id, "USA110080010011"),
            "US***********11");
  EXPECT_EQ(mask_number(DocType::organisation, "91350100M000100Y43"), "91**************43");
  // A resident id of the wrong length is masked like any other number.
  EXPECT_EQ(mask_number(DocType::resident_id, "1101051949"), "11******49");
  // Code points, not bytes.
  EXPECT_EQ(mask_number(DocType::military_id, "南字第12345号"), "南字*****5号");
}

TEST(MaskNumber, ShortNumbersHideAtLeastThree) {
  EXPECT_EQ(mask_number(DocType::passport, "ABCDEF"), "A****F");
  EXPECT_EQ(mask_number(DocType::passport, "ABCDE"), "A***E");
  EXPECT_EQ(mask_number(DocType::military_id, "ABCD"), "****");
  EXPECT_EQ(mask_number(DocType::military_id, "AB"), "***");
  EXPECT_EQ(mask_number(DocType::military_id, "A"), "***");
  EXPECT_EQ(mask_number(DocType::passport, ""), "");
  EXPECT_EQ(mask_number(DocType::passport, "   "), "");
}

TEST(MaskName, ChineseKeepsTheFirstCharacter) {
  EXPECT_EQ(mask_name("张三"), "张*");
  EXPECT_EQ(mask_name("欧阳娜娜"), "欧*");
  EXPECT_EQ(mask_name("  张三 "), "张*");
  EXPECT_EQ(mask_name("阿依古丽·买买提"), "阿*");
}

TEST(MaskName, LatinKeepsTheFirstWord) {
  EXPECT_EQ(mask_name("ZHANG SAN"), "ZHANG *");
  EXPECT_EQ(mask_name("ERIKSSON ANNA MARIA"), "ERIKSSON *");
  EXPECT_EQ(mask_name("Zhang,San"), "Zhang *");
  EXPECT_EQ(mask_name("MADONNA"), "M*");  // a single word still hides something
}

TEST(MaskName, EmptyAndBroken) {
  EXPECT_EQ(mask_name(""), "");
  EXPECT_EQ(mask_name(" \t "), "");
  EXPECT_EQ(mask_name("\xFF\xFE"), "*");
  EXPECT_EQ(mask_name("A\xFF B"), "A\xEF\xBF\xBD *");
  EXPECT_EQ(mask_number(DocType::passport,
                        "E1\xFF"
                        "45678"),
            "E1****78");
}

}  // namespace
}  // namespace postgate::core

namespace postgate::core {
namespace {

// Random bytes through every entry point: no crash or undefined behaviour
// (checked in the sanitizer build), errors always name their field.
TEST(Identity, GarbageNeverCrashes) {
  std::uint64_t state = 99;
  const auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<unsigned>(state >> 33);
  };
  const Date today{std::chrono::year{2026}, std::chrono::November, std::chrono::day{23}};
  for (int i = 0; i < 5000; ++i) {
    std::string a, b;
    for (unsigned n = next() % 24; n > 0; --n) a += static_cast<char>(next() % 256);
    for (unsigned n = next() % 12; n > 0; --n) b += static_cast<char>(next() % 256);
    for (const auto t : all_doc_types()) {
      auto r = validate_identity(t, a, b, today);
      if (!r) {
        EXPECT_TRUE(r.error().field == "doc_number" || r.error().field == "name");
      }
      EXPECT_TRUE(utf8::is_valid(mask_number(t, a)));
    }
    EXPECT_TRUE(utf8::is_valid(mask_name(b)));
    EXPECT_TRUE(utf8::is_valid(mask_name("AB" + b + " C")));
  }
}

}  // namespace
}  // namespace postgate::core
