#include "core/waybill.hpp"

#include <gtest/gtest.h>

namespace postgate::core {
namespace {

WaybillValidator make(std::vector<WaybillRule> rules, bool accept_s10 = true) {
  auto v = WaybillValidator::create(std::move(rules), accept_s10);
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message);
  return v ? std::move(*v) : WaybillValidator{};
}

const std::vector<WaybillRule> kRules{
    {"sf", R"(SF\d{12})"},
    {"zto", R"(7\d{11})"},
    {"catch_all_digits", R"(\d{10,14})"},
};

TEST(UpuS10, CheckDigitOfDomainExamples) {
  EXPECT_EQ(upu_s10_check_digit("12345678"), 5);  // RA123456785GB
  EXPECT_EQ(upu_s10_check_digit("47312482"), 9);
}

TEST(UpuS10, CheckDigitSpecialCases) {
  EXPECT_EQ(upu_s10_check_digit("00000000"), 5);  // S mod 11 = 0: C = 11 -> 5
  EXPECT_EQ(upu_s10_check_digit("00000008"), 0);  // S = 56, mod 11 = 1: C = 10 -> 0
  EXPECT_EQ(upu_s10_check_digit("00000001"), 4);  // S = 7: C = 4
}

TEST(UpuS10, CheckDigitNeedsEightDigits) {
  EXPECT_EQ(upu_s10_check_digit("1234567"), std::nullopt);
  EXPECT_EQ(upu_s10_check_digit("123456789"), std::nullopt);
  EXPECT_EQ(upu_s10_check_digit("1234567A"), std::nullopt);
  EXPECT_EQ(upu_s10_check_digit(""), std::nullopt);
}

TEST(UpuS10, IsValid) {
  EXPECT_TRUE(is_valid_upu_s10("RA123456785GB"));
  EXPECT_TRUE(is_valid_upu_s10("EA473124829CN"));
  EXPECT_FALSE(is_valid_upu_s10("RA123456784GB"));
  EXPECT_FALSE(is_valid_upu_s10("ra123456785gb"));  // not normalised
  EXPECT_FALSE(is_valid_upu_s10("RA123456785G"));
  EXPECT_FALSE(is_valid_upu_s10("RA123456785GBX"));
  EXPECT_FALSE(is_valid_upu_s10("R1123456785GB"));
  EXPECT_FALSE(is_valid_upu_s10("RA12345678AGB"));
  EXPECT_FALSE(is_valid_upu_s10(""));
}

TEST(WaybillValidator, DefaultAcceptsS10) {
  const WaybillValidator v;
  auto w = v.validate("RA123456785GB");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->number, "RA123456785GB");
  EXPECT_EQ(w->carrier, "upu_s10");
  EXPECT_EQ(v.validate("SF123456789012").error().code, "unknown_waybill_format");
}

TEST(WaybillValidator, Normalises) {
  const auto v = make(kRules);
  auto w = v.validate("  ra 1234 5678 5gb\t");
  ASSERT_TRUE(w.has_value()) << w.error().code;
  EXPECT_EQ(w->number, "RA123456785GB");
  EXPECT_TRUE(v.validate("RA123456785GB\r\n").has_value());
  w = v.validate("sf123456789012");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->number, "SF123456789012");
  EXPECT_EQ(w->carrier, "sf");
}

TEST(WaybillValidator, S10CheckDigitWinsOverCarrierRules) {
  const auto v = make({{"anything", R"([A-Z]{2}\d{9}[A-Z]{2})"}});
  auto w = v.validate("RA123456784GB");
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, "bad_check_digit");
}

TEST(WaybillValidator, S10CanBeSwitchedOff) {
  const auto off = make({{"anything", R"([A-Z]{2}\d{9}[A-Z]{2})"}}, false);
  auto w = off.validate("RA123456784GB");
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->carrier, "anything");
  const auto none = make({}, false);
  EXPECT_EQ(none.validate("RA123456785GB").error().code, "unknown_waybill_format");
}

TEST(WaybillValidator, CarrierRulesMatchWholeNumberInOrder) {
  const auto v = make(kRules);
  EXPECT_EQ(v.validate("SF123456789012")->carrier, "sf");
  EXPECT_EQ(v.validate("712345678901")->carrier, "zto");  // also matches catch_all: first wins
  EXPECT_EQ(v.validate("812345678901")->carrier, "catch_all_digits");
  EXPECT_EQ(v.validate("SF1234567890123").error().code, "unknown_waybill_format");  // 13 digits
  EXPECT_EQ(v.validate("XSF123456789012").error().code, "unknown_waybill_format");
  EXPECT_EQ(v.validate("123456789").error().code, "unknown_waybill_format");
}

TEST(WaybillValidator, PatternsSeeUpperCase) {
  const auto v = make({{"lower", R"(sf\d{3})"}});
  EXPECT_EQ(v.validate("sf123").error().code, "unknown_waybill_format");
}

TEST(WaybillValidator, CreateRejectsBadRules) {
  auto v = WaybillValidator::create({{"ok", R"(\d+)"}, {"broken", "(["}}, true);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, "bad_pattern");
  EXPECT_EQ(v.error().field, "waybills.carriers[1].pattern");
  v = WaybillValidator::create({{"", R"(\d+)"}}, true);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, "bad_carrier");
  EXPECT_EQ(v.error().field, "waybills.carriers[0].carrier");
}

TEST(WaybillValidator, Garbage) {
  const auto v = make(kRules);
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "empty_waybill"},
      {"   ", "empty_waybill"},
      {"RA1234\x01"
       "56785GB",
       "bad_character"},
      {"RA123456785GB\x1B[0m", "bad_character"},
      {"RA12345\n6785GB", "bad_character"},
      {"单号123456789012", "bad_character"},
      {"ＲＡ123456785GB", "bad_character"},
      {std::string("RA123\0"
                   "456785GB",
                   14),
       "bad_character"},
      {std::string(41, '1'), "waybill_too_long"},
      {"RA-123", "unknown_waybill_format"},
  };
  for (const auto& [text, code] : cases) {
    auto w = v.validate(text);
    ASSERT_FALSE(w.has_value()) << code;
    EXPECT_EQ(w.error().code, code);
    EXPECT_EQ(w.error().field, "");
  }
  const auto long_ok = make({{"long", R"(\d{40})"}});
  EXPECT_TRUE(long_ok.validate(std::string(40, '1')).has_value());
  EXPECT_TRUE(long_ok.validate(" " + std::string(40, '1') + " ").has_value());
}

TEST(ValidateAll, ReturnsAllInOrder) {
  const auto v = make(kRules);
  auto all = v.validate_all({"RA123456785GB", "sf123456789012", "EA473124829CN"});
  ASSERT_TRUE(all.has_value()) << all.error().code;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].number, "RA123456785GB");
  EXPECT_EQ((*all)[1].carrier, "sf");
  EXPECT_EQ((*all)[2].number, "EA473124829CN");
}

TEST(ValidateAll, EmptyList) {
  auto all = make(kRules).validate_all({});
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code, "no_waybill");
  EXPECT_EQ(all.error().field, "waybills");
}

TEST(ValidateAll, DuplicatesAfterNormalisation) {
  auto all = make(kRules).validate_all({"RA123456785GB", "SF123456789012", "ra 123456785 gb"});
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code, "duplicate_waybill");
  EXPECT_EQ(all.error().field, "waybills[2]");
}

TEST(ValidateAll, ErrorsNameTheElement) {
  auto all = make(kRules).validate_all({"RA123456785GB", "RA123456784GB"});
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code, "bad_check_digit");
  EXPECT_EQ(all.error().field, "waybills[1]");
  all = make(kRules).validate_all({""});
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code, "empty_waybill");
  EXPECT_EQ(all.error().field, "waybills[0]");
}

TEST(WaybillValidator, CopiesShareCompiledRules) {
  const auto v = make(kRules);
  const WaybillValidator copy = v;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.validate("SF123456789012")->carrier, "sf");
}

}  // namespace
}  // namespace postgate::core
