#include "core/mrz.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace postgate::core {
namespace {

using namespace std::chrono;

constexpr Date kToday{year{2026}, November, day{23}};

// The published ICAO 9303 specimens (fictitious state Utopia).
constexpr std::string_view kTd3Line1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
constexpr std::string_view kTd3Line2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
constexpr std::string_view kTd1Line1 = "I<UTOD231458907<<<<<<<<<<<<<<<";
constexpr std::string_view kTd1Line2 = "7408122F1204159UTO<<<<<<<<<<<6";
constexpr std::string_view kTd1Line3 = "ERIKSSON<<ANNA<MARIA<<<<<<<<<<";

std::string td3_specimen() {
  return std::string(kTd3Line1) + "\n" + std::string(kTd3Line2);
}
std::string td1_specimen() {
  return std::string(kTd1Line1) + "\n" + std::string(kTd1Line2) + "\n" + std::string(kTd1Line3);
}

// Check digits computed here, independently of the implementation, so that
// tests can build zones with any field values.
char check(std::string_view s) {
  int sum = 0;
  const int weights[] = {7, 3, 1};
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const int v = c == '<' ? 0 : (c >= '0' && c <= '9') ? c - '0' : c - 'A' + 10;
    sum += v * weights[i % 3];
  }
  return static_cast<char>('0' + sum % 10);
}

std::string pad(std::string s, std::size_t n) {
  s.resize(n, '<');
  return s;
}

struct Td3 {
  std::string code = "P<";
  std::string state = "UTO";
  std::string names = "ERIKSSON<<ANNA<MARIA";
  std::string number = "L898902C3";
  std::string nationality = "UTO";
  std::string birth = "740812";
  char sex = 'F';
  std::string expiry = "310415";
  std::string personal = "ZE184226B";
  std::optional<char> personal_check;  // computed when not set

  std::string build() const {
    const std::string l1 = pad(code + state + names, 44);
    const std::string num = pad(number, 9), per = pad(personal, 14);
    std::string l2 = num + check(num) + nationality + birth + check(birth) + sex + expiry +
                     check(expiry) + per + personal_check.value_or(check(per));
    l2 += check(l2.substr(0, 10) + l2.substr(13, 7) + l2.substr(21, 22));
    return l1 + "\n" + l2;
  }
};

struct Td1 {
  std::string code = "I<";
  std::string state = "UTO";
  std::string number = "D23145890";
  std::string optional1;
  std::string birth = "740812";
  char sex = 'F';
  std::string expiry = "310415";
  std::string nationality = "UTO";
  std::string optional2;
  std::string names = "ERIKSSON<<ANNA<MARIA";

  std::string build() const {
    std::string l1 = code + state;
    if (number.size() > 9) {
      const std::string rest = number.substr(9);
      l1 += number.substr(0, 9) + "<" + rest + check(number) + "<" + optional1;
    } else {
      l1 += pad(number, 9) + check(pad(number, 9)) + optional1;
    }
    l1 = pad(l1, 30);
    std::string l2 =
        birth + check(birth) + sex + expiry + check(expiry) + nationality + pad(optional2, 11);
    l2 += check(l1.substr(5, 25) + l2.substr(0, 7) + l2.substr(8, 7) + l2.substr(18, 11));
    return l1 + "\n" + l2 + "\n" + pad(names, 30);
  }
};

Error error_of(const std::string& text, Date today = kToday) {
  auto r = parse_mrz(text, today);
  EXPECT_FALSE(r.has_value());
  return r ? Error{} : r.error();
}

TEST(MrzCharValue, IcaoValues) {
  EXPECT_EQ(mrz_char_value('0'), 0);
  EXPECT_EQ(mrz_char_value('9'), 9);
  EXPECT_EQ(mrz_char_value('A'), 10);
  EXPECT_EQ(mrz_char_value('Z'), 35);
  EXPECT_EQ(mrz_char_value('<'), 0);
  EXPECT_EQ(mrz_char_value('a'), -1);
  EXPECT_EQ(mrz_char_value(' '), -1);
  EXPECT_EQ(mrz_char_value('\0'), -1);
}

TEST(MrzCheckDigit, SpecimenFields) {
  EXPECT_EQ(mrz_check_digit("L898902C3"), 6);
  EXPECT_EQ(mrz_check_digit("740812"), 2);
  EXPECT_EQ(mrz_check_digit("120415"), 9);
  EXPECT_EQ(mrz_check_digit("ZE184226B<<<<<"), 1);
  EXPECT_EQ(mrz_check_digit("D23145890"), 7);
  EXPECT_EQ(mrz_check_digit(""), 0);
  EXPECT_EQ(mrz_check_digit("<<<<"), 0);
  EXPECT_EQ(mrz_check_digit("l898902c3"), -1);
}

TEST(ParseMrz, Td3Specimen) {
  auto r = parse_mrz(td3_specimen(), kToday);
  ASSERT_TRUE(r.has_value()) << r.error().field << " " << r.error().code;
  EXPECT_EQ(r->format, MrzFormat::td3);
  EXPECT_EQ(r->document_code, "P");
  EXPECT_EQ(r->issuing_state, "UTO");
  EXPECT_EQ(r->document_number, "L898902C3");
  EXPECT_EQ(r->surname, "ERIKSSON");
  EXPECT_EQ(r->given_names, "ANNA MARIA");
  EXPECT_EQ(r->nationality, "UTO");
  EXPECT_EQ(r->birth_date, (Date{year{1974}, August, day{12}}));
  EXPECT_EQ(r->sex, Sex::female);
  EXPECT_EQ(r->expiry, (Date{year{2012}, April, day{15}}));
  EXPECT_EQ(r->optional_data, "ZE184226B");
}

TEST(ParseMrz, BuilderReproducesTheSpecimen) {
  Td3 t;
  t.expiry = "120415";
  EXPECT_EQ(t.build(), td3_specimen());
  Td1 c;
  c.expiry = "120415";
  EXPECT_EQ(c.build(), td1_specimen());
}

TEST(ParseMrz, ToleratesLineEndsSpacesAndBlankLines) {
  const std::string l1(kTd3Line1), l2(kTd3Line2);
  for (const std::string& text :
       {l1 + "\r\n" + l2, l1 + "\r\n" + l2 + "\r\n", l1 + "  \n" + l2 + " \r\n\r\n\n",
        "\n\r\n" + l1 + "\n" + l2, l1 + "\n" + l2 + "\n   \n"}) {
    auto r = parse_mrz(text, kToday);
    ASSERT_TRUE(r.has_value()) << r.error().code;
    EXPECT_EQ(r->document_number, "L898902C3");
  }
}

TEST(ParseMrz, WrongLineCountOrLength) {
  const std::string l1(kTd3Line1), l2(kTd3Line2);
  for (const std::string& text :
       {std::string(), std::string("\n\n"), l1, l1 + "\n" + l2 + "\n" + l2, l1 + "\n\n" + l2,
        l1.substr(1) + "\n" + l2, l1 + "\n" + l2 + "<", l1 + "\n" + l2.substr(0, 30),
        std::string(kTd1Line1) + "\n" + std::string(kTd1Line2), " " + l1 + "\n" + l2,
        std::string(kTd1Line1) + "\n" + std::string(kTd1Line2) + "\n" + l1}) {
    const auto e = error_of(text);
    EXPECT_EQ(e.code, "bad_format");
    EXPECT_EQ(e.field, "mrz");
  }
}

TEST(ParseMrz, InvalidCharacters) {
  std::string text = td3_specimen();
  text[10] = 'a';
  EXPECT_EQ(error_of(text).code, "bad_character");
  text = td3_specimen();
  text[60] = '-';
  EXPECT_EQ(error_of(text).code, "bad_character");
  text = td3_specimen();
  text[3] = ' ';
  EXPECT_EQ(error_of(text).code, "bad_character");
}

TEST(ParseMrz, EveryTd3CheckDigit) {
  const std::string l1(kTd3Line1);
  const std::vector<std::pair<std::size_t, std::string>> cases{{9, "mrz.document_number"},
                                                               {19, "mrz.birth_date"},
                                                               {27, "mrz.expiry"},
                                                               {42, "mrz.optional_data"},
                                                               {43, "mrz.composite"}};
  for (const auto& [pos, field] : cases) {
    std::string l2(kTd3Line2);
    l2[pos] = l2[pos] == '9' ? '0' : static_cast<char>(l2[pos] + 1);
    const auto e = error_of(l1 + "\n" + l2);
    EXPECT_EQ(e.code, "bad_check_digit") << field;
    EXPECT_EQ(e.field, field);
  }
  // A letter where a check digit belongs.
  std::string l2(kTd3Line2);
  l2[9] = 'A';
  EXPECT_EQ(error_of(l1 + "\n" + l2).field, "mrz.document_number");
  // The composite covers the personal number: change a character and its own
  // check digit together, and only the composite notices.
  Td3 t;
  auto text = t.build();
  text[45 + 28] = 'Y';
  text[45 + 42] = check(std::string("YE184226B<<<<<"));
  EXPECT_EQ(error_of(text).field, "mrz.composite");
}

TEST(ParseMrz, EmptyPersonalNumberMayUseAFillerCheck) {
  Td3 t;
  t.personal = "";
  t.personal_check = '<';
  auto r = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(r.has_value()) << r.error().field;
  EXPECT_EQ(r->optional_data, "");
  t.personal_check = '0';
  EXPECT_TRUE(parse_mrz(t.build(), kToday).has_value());
  t.personal = "ZE184226B";
  t.personal_check = '<';  // a filler is only allowed for an empty field
  EXPECT_EQ(error_of(t.build()).field, "mrz.optional_data");
}

TEST(ParseMrz, ImpossibleDates) {
  Td3 t;
  for (const auto* birth : {"741312", "740230", "740800", "010229", "7408<2"}) {
    t.birth = birth;
    const auto e = error_of(t.build());
    EXPECT_EQ(e.code, "bad_birth_date") << birth;
    EXPECT_EQ(e.field, "mrz.birth_date");
  }
  t = Td3{};
  for (const auto* expiry : {"310231", "311301", "310400"}) {
    t.expiry = expiry;
    const auto e = error_of(t.build());
    EXPECT_EQ(e.code, "bad_expiry_date") << expiry;
    EXPECT_EQ(e.field, "mrz.expiry");
  }
}

TEST(ParseMrz, TwoDigitYears) {
  Td3 t;
  const auto birth = [&](const char* yymmdd, Date today) {
    t.birth = yymmdd;
    auto r = parse_mrz(t.build(), today);
    EXPECT_TRUE(r.has_value()) << yymmdd;
    return r ? r->birth_date : Date{};
  };
  EXPECT_EQ(birth("000229", kToday), (Date{year{2000}, February, day{29}}));
  EXPECT_EQ(birth("261123", kToday), (Date{year{2026}, November, day{23}}));  // born today
  EXPECT_EQ(birth("261124", kToday), (Date{year{1926}, November, day{24}}));  // not tomorrow
  EXPECT_EQ(birth("991231", kToday), (Date{year{1999}, December, day{31}}));
  EXPECT_EQ(birth("040229", Date{year{2003}, June, day{1}}), (Date{year{1904}, February, day{29}}));
  // 2000-02-29 would be in the future and 1900 had no 29 February.
  t.birth = "000229";
  EXPECT_EQ(error_of(t.build(), Date{year{1999}, June, day{1}}).code, "bad_birth_date");

  t = Td3{};
  t.expiry = "991231";
  auto r = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->expiry, (Date{year{2099}, December, day{31}}));
  t.expiry = "000101";
  r = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->expiry, (Date{year{2000}, January, day{1}}));
}

TEST(ParseMrz, SexCodes) {
  Td3 t;
  const std::vector<std::pair<char, Sex>> cases{
      {'M', Sex::male}, {'F', Sex::female}, {'X', Sex::unstated}, {'<', Sex::unstated}};
  for (const auto& [c, sex] : cases) {
    t.sex = c;
    auto r = parse_mrz(t.build(), kToday);
    ASSERT_TRUE(r.has_value()) << c;
    EXPECT_EQ(r->sex, sex);
  }
  t.sex = 'Q';
  const auto e = error_of(t.build());
  EXPECT_EQ(e.code, "bad_format");
  EXPECT_EQ(e.field, "mrz.sex");
}

TEST(ParseMrz, Td3MustBeAPassport) {
  Td3 t;
  t.code = "V<";
  EXPECT_EQ(error_of(t.build()).field, "mrz.document_code");
  t.code = "PO";  // second letter is the issuer's choice
  auto r = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->document_code, "PO");
}

TEST(ParseMrz, StateCodes) {
  Td3 t;
  t.state = "D<<";
  t.nationality = "D<<";
  auto r = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->issuing_state, "D");
  EXPECT_EQ(r->nationality, "D");
  t.nationality = "U1O";
  EXPECT_EQ(error_of(t.build()).field, "mrz.nationality");
  t = Td3{};
  t.state = "<<<";
  EXPECT_EQ(error_of(t.build()).field, "mrz.issuing_state");
}

TEST(ParseMrz, Names) {
  Td3 t;
  t.names = "VAN<DER<BERG<<JAN<<PIETER";
  auto r = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->surname, "VAN DER BERG");
  EXPECT_EQ(r->given_names, "JAN PIETER");
  t.names = "ZHANG";
  r = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->surname, "ZHANG");
  EXPECT_EQ(r->given_names, "");
}

TEST(ParseMrz, Td1Specimen) {
  auto r = parse_mrz(td1_specimen(), kToday);
  ASSERT_TRUE(r.has_value()) << r.error().field << " " << r.error().code;
  EXPECT_EQ(r->format, MrzFormat::td1);
  EXPECT_EQ(r->document_code, "I");
  EXPECT_EQ(r->issuing_state, "UTO");
  EXPECT_EQ(r->document_number, "D23145890");
  EXPECT_EQ(r->birth_date, (Date{year{1974}, August, day{12}}));
  EXPECT_EQ(r->sex, Sex::female);
  EXPECT_EQ(r->expiry, (Date{year{2012}, April, day{15}}));
  EXPECT_EQ(r->nationality, "UTO");
  EXPECT_EQ(r->optional_data, "");
  EXPECT_EQ(r->surname, "ERIKSSON");
  EXPECT_EQ(r->given_names, "ANNA MARIA");
  // \r\n and trailing spaces as with TD3.
  const std::string crlf = std::string(kTd1Line1) + "\r\n" + std::string(kTd1Line2) + " \r\n" +
                           std::string(kTd1Line3) + "\r\n";
  EXPECT_TRUE(parse_mrz(crlf, kToday).has_value());
}

TEST(ParseMrz, EveryTd1CheckDigit) {
  const std::string base = td1_specimen();
  const std::vector<std::pair<std::size_t, std::string>> cases{{14, "mrz.document_number"},
                                                               {31 + 6, "mrz.birth_date"},
                                                               {31 + 14, "mrz.expiry"},
                                                               {31 + 29, "mrz.composite"}};
  for (const auto& [pos, field] : cases) {
    std::string text = base;
    text[pos] = text[pos] == '9' ? '0' : static_cast<char>(text[pos] + 1);
    const auto e = error_of(text);
    EXPECT_EQ(e.code, "bad_check_digit") << field;
    EXPECT_EQ(e.field, field);
  }
  // The composite covers the optional data of line 1.
  std::string text = base;
  text[20] = 'B';  // ('A' has value 10: under weight 7 it would not change the sum mod 10)
  EXPECT_EQ(error_of(text).field, "mrz.composite");
}

TEST(ParseMrz, Td1OptionalData) {
  Td1 c;
  c.optional1 = "ABC";
  c.optional2 = "XYZ12";
  auto r = parse_mrz(c.build(), kToday);
  ASSERT_TRUE(r.has_value()) << r.error().field;
  EXPECT_EQ(r->optional_data, "ABC XYZ12");
  c.optional1 = "";
  r = parse_mrz(c.build(), kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->optional_data, "XYZ12");
}

TEST(ParseMrz, Td1LongDocumentNumber) {
  Td1 c;
  c.number = "D23145890123";
  const auto text = c.build();
  EXPECT_EQ(text.substr(0, 30), "I<UTOD23145890<1233<<<<<<<<<<<");
  auto r = parse_mrz(text, kToday);
  ASSERT_TRUE(r.has_value()) << r.error().field << " " << r.error().code;
  EXPECT_EQ(r->document_number, "D23145890123");
  EXPECT_EQ(r->optional_data, "");

  c.optional1 = "OPT";
  r = parse_mrz(c.build(), kToday);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->document_number, "D23145890123");
  EXPECT_EQ(r->optional_data, "OPT");

  // Wrong check digit of the long number (the composite is recomputed).
  Td1 wrong;
  wrong.number = "D23145890123";
  auto bad = wrong.build();
  bad[18] = bad[18] == '9' ? '0' : static_cast<char>(bad[18] + 1);
  bad[31 + 29] = check(bad.substr(5, 25) + bad.substr(31, 7) + bad.substr(31 + 8, 7) +
                       bad.substr(31 + 18, 11));
  const auto e = error_of(bad);
  EXPECT_EQ(e.code, "bad_check_digit");
  EXPECT_EQ(e.field, "mrz.document_number");

  // A filler instead of the check digit but nothing in the optional field.
  std::string missing =
      "I<UTOD23145890<<<<<<<<<<<<<<<<\n" + std::string(kTd1Line2) + "\n" + std::string(kTd1Line3);
  missing[31 + 29] = check(missing.substr(5, 25) + missing.substr(31, 7) +
                           missing.substr(31 + 8, 7) + missing.substr(31 + 18, 11));
  EXPECT_EQ(error_of(missing).field, "mrz.document_number");
}

TEST(ParseMrz, Td1DocumentCodes) {
  Td1 c;
  for (const auto* code : {"I<", "ID", "A<", "C<", "CR"}) {
    c.code = code;
    EXPECT_TRUE(parse_mrz(c.build(), kToday).has_value()) << code;
  }
  c.code = "P<";
  EXPECT_EQ(error_of(c.build()).field, "mrz.document_code");
}

TEST(IdentityFromMrz, PassportSpecimenHasExpired) {
  auto m = parse_mrz(td3_specimen(), kToday);
  ASSERT_TRUE(m.has_value());
  auto r = identity_from_mrz(*m, kToday);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "expired");
  EXPECT_EQ(r.error().field, "valid_to");
  // Still valid on its expiry day.
  const Date expiry_day{year{2012}, April, day{15}};
  m = parse_mrz(td3_specimen(), expiry_day);
  ASSERT_TRUE(m.has_value());
  r = identity_from_mrz(*m, expiry_day);
  ASSERT_TRUE(r.has_value()) << r.error().code;
  EXPECT_EQ(r->type, DocType::passport);
}

TEST(IdentityFromMrz, ValidPassport) {
  Td3 t;
  t.nationality = "D<<";
  auto m = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(m.has_value());
  auto r = identity_from_mrz(*m, kToday);
  ASSERT_TRUE(r.has_value()) << r.error().code;
  EXPECT_EQ(r->type, DocType::passport);
  EXPECT_EQ(r->number, "L898902C3");
  EXPECT_EQ(r->name, "ERIKSSON ANNA MARIA");
  EXPECT_EQ(r->birth_date, (Date{year{1974}, August, day{12}}));
  EXPECT_EQ(r->sex, Sex::female);
  EXPECT_EQ(r->nationality, "DEU");
  EXPECT_EQ(r->valid_to, (Date{year{2031}, April, day{15}}));
}

TEST(IdentityFromMrz, DocumentRulesStillApply) {
  Td3 t;
  t.number = "AB12";  // too short for a passport
  auto m = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(m.has_value());
  auto r = identity_from_mrz(*m, kToday);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field, "doc_number");
  t = Td3{};
  t.names = "";
  m = parse_mrz(t.build(), kToday);
  ASSERT_TRUE(m.has_value());
  r = identity_from_mrz(*m, kToday);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "bad_name");
}

TEST(IdentityFromMrz, Td1ChinesePermitsAndOthers) {
  Td1 c;
  c.code = "CR";
  c.state = "CHN";
  c.nationality = "CHN";
  c.number = "H12345678";
  auto m = parse_mrz(c.build(), kToday);
  ASSERT_TRUE(m.has_value());
  auto r = identity_from_mrz(*m, kToday);
  ASSERT_TRUE(r.has_value()) << r.error().code;
  EXPECT_EQ(r->type, DocType::hk_macau_travel_permit);
  EXPECT_EQ(r->number, "H12345678");

  c.code = "CT";
  c.number = "12345678";
  m = parse_mrz(c.build(), kToday);
  ASSERT_TRUE(m.has_value());
  r = identity_from_mrz(*m, kToday);
  ASSERT_TRUE(r.has_value()) << r.error().code;
  EXPECT_EQ(r->type, DocType::taiwan_travel_permit);

  m = parse_mrz(td1_specimen(), kToday);  // a foreign national id card
  ASSERT_TRUE(m.has_value());
  r = identity_from_mrz(*m, kToday);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "unsupported_document");
}

}  // namespace
}  // namespace postgate::core

namespace postgate::core {
namespace {

// Random zones of the right shape and random bytes: never a crash (the
// sanitizer build checks for undefined behaviour), and a success only when
// every check digit holds.
TEST(ParseMrz, GarbageNeverCrashes) {
  std::uint64_t state = 12345;
  const auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>(state >> 33);
  };
  const std::string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<<<<<<<<";
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const bool td3 = i % 2 == 0;
    const std::size_t lines = td3 ? 2 : 3, width = td3 ? 44 : 30;
    for (std::size_t l = 0; l < lines; ++l) {
      for (std::size_t c = 0; c < width; ++c) text += alphabet[next() % alphabet.size()];
      text += '\n';
    }
    if (i % 7 == 0) text[next() % text.size()] = static_cast<char>(next() % 256);
    auto r =
        parse_mrz(text, Date{std::chrono::year{2026}, std::chrono::November, std::chrono::day{23}});
    if (r) {
      (void)identity_from_mrz(
          *r, Date{std::chrono::year{2026}, std::chrono::November, std::chrono::day{23}});
    } else {
      EXPECT_TRUE(r.error().field.starts_with("mrz")) << r.error().field;
    }
  }
}

}  // namespace
}  // namespace postgate::core
