#include "core/screening.hpp"

#include <gtest/gtest.h>

namespace postgate::core {
namespace {

Screener make() {
  return Screener(
      "2026.1", {
                    {"01", "firearms", Severity::prohibited, {"枪", "Gun", "ammunition", "AK-47"}},
                    {"02", "knives", Severity::prohibited, {"管制刀具", "knife", "dagger"}},
                    {"03", "batteries", Severity::restricted, {"锂电池", "battery", "power bank"}},
                    {"04", "liquids", Severity::restricted, {"", "酒", "perfume"}},
                });
}

std::vector<std::string> categories(const std::vector<ScreeningHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.category);
  return out;
}

using Ids = std::vector<std::string>;

TEST(Screening, SeverityNames) {
  EXPECT_EQ(to_string(Severity::prohibited), "prohibited");
  EXPECT_EQ(to_string(Severity::restricted), "restricted");
}

TEST(Screening, Accessors) {
  const auto s = make();
  EXPECT_EQ(s.version(), "2026.1");
  EXPECT_EQ(s.categories().size(), 4u);
  EXPECT_TRUE(s.has_category("03"));
  EXPECT_FALSE(s.has_category("3"));
  EXPECT_FALSE(s.has_category(""));
  const Screener empty;
  EXPECT_EQ(empty.version(), "");
  EXPECT_TRUE(empty.screen("gun").empty());
}

TEST(Screening, HitCarriesTheCategoryAndConfiguredKeyword) {
  const auto hits = make().screen("a toy GUN");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0], (ScreeningHit{"01", "firearms", Severity::prohibited, "Gun"}));
}

TEST(Screening, NothingDeclaredNothingFound) {
  EXPECT_TRUE(make().screen("").empty());
  EXPECT_TRUE(make().screen("books and clothes 衣服").empty());
}

TEST(Screening, ChineseKeywordsMatchAnywhere) {
  EXPECT_EQ(categories(make().screen("玩具枪")), Ids{"01"});
  EXPECT_EQ(categories(make().screen("手机锂电池两块")), Ids{"03"});
  EXPECT_EQ(categories(make().screen("白酒")), Ids{"04"});
}

TEST(Screening, EnglishKeywordsMatchWholeWords) {
  const auto s = make();
  EXPECT_EQ(categories(s.screen("gun")), Ids{"01"});
  EXPECT_EQ(categories(s.screen("a gun, two")), Ids{"01"});
  EXPECT_EQ(categories(s.screen("(gun)")), Ids{"01"});
  EXPECT_EQ(categories(s.screen("买gun")), Ids{"01"});  // Chinese next to it is a boundary
  EXPECT_TRUE(s.screen("begun").empty());
  EXPECT_TRUE(s.screen("gunpowder").empty());  // compounds need their own keyword
  EXPECT_TRUE(s.screen("shotgun").empty());
  EXPECT_TRUE(s.screen("gun2").empty());
  EXPECT_TRUE(s.screen("powerbank").empty());
}

TEST(Screening, EnglishPlurals) {
  const auto s = make();
  EXPECT_EQ(categories(s.screen("Guns N' Roses t-shirt")), Ids{"01"});
  EXPECT_EQ(categories(s.screen("two daggers")), Ids{"02"});
  EXPECT_EQ(categories(s.screen("spare batteries")), Ids{"03"});
  EXPECT_EQ(categories(s.screen("power banks")), Ids{"03"});
  EXPECT_EQ(categories(s.screen("perfumes")), Ids{"04"});
  EXPECT_TRUE(s.screen("knives").empty());  // irregular: list "knives" too if wanted
  EXPECT_TRUE(s.screen("gunslinger").empty());
}

TEST(Screening, CaseAndFullWidthFolding) {
  const auto s = make();
  EXPECT_EQ(categories(s.screen("GuN")), Ids{"01"});
  EXPECT_EQ(categories(s.screen("ＧＵＮ")), Ids{"01"});
  EXPECT_EQ(categories(s.screen("ｇｕｎｓ")), Ids{"01"});
  EXPECT_EQ(categories(s.screen("toy ＡＫ－４７ model")), Ids{"01"});
  EXPECT_EQ(categories(s.screen("ak-47")), Ids{"01"});
  EXPECT_TRUE(s.screen("ak-470").empty());
}

TEST(Screening, WhiteSpaceRunsAreOneSpace) {
  const auto s = make();
  EXPECT_EQ(categories(s.screen("power  bank")), Ids{"03"});
  EXPECT_EQ(categories(s.screen("power\tbank")), Ids{"03"});
  EXPECT_EQ(categories(s.screen("power\xE3\x80\x80"
                                "bank")),
            Ids{"03"});
  const Screener spaced("v", {{"09", "x", Severity::restricted, {"  power   bank "}}});
  EXPECT_EQ(categories(spaced.screen("a power bank")), Ids{"09"});
}

TEST(Screening, OneHitPerCategoryInCategoryOrder) {
  const auto hits = make().screen("perfume, a knife, ammunition, 枪 and a gun");
  ASSERT_EQ(categories(hits), (Ids{"01", "02", "04"}));
  EXPECT_EQ(hits[0].keyword, "枪");  // first keyword of the category that matched
  EXPECT_EQ(hits[1].keyword, "knife");
  EXPECT_EQ(hits[1].severity, Severity::prohibited);
  EXPECT_EQ(hits[2].keyword, "perfume");
  EXPECT_EQ(hits[2].severity, Severity::restricted);
}

TEST(Screening, EmptyKeywordsNeverMatch) {
  const Screener s("v", {{"09", "x", Severity::restricted, {"", "  "}}});
  EXPECT_TRUE(s.screen("anything").empty());
  EXPECT_TRUE(s.screen("").empty());
}

TEST(Screening, InvalidUtf8IsHarmless) {
  const auto s = make();
  EXPECT_EQ(categories(s.screen("\xFF枪")), Ids{"01"});
  EXPECT_TRUE(s.screen("\xE6\x9E").empty());  // truncated 枪
  EXPECT_EQ(categories(s.screen("\xC0gun")), Ids{"01"});
}

}  // namespace
}  // namespace postgate::core
