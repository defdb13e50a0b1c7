#include <gtest/gtest.h>

#include <set>

#include "config/config.hpp"

namespace postgate::config {
namespace {

TEST(DefaultScreening, NationalCatalogueOf19ProhibitedCategories) {
  const ScreeningConfig s = default_screening();
  EXPECT_EQ(s.version, "2026-11-default");
  std::set<std::string> ids;
  int prohibited = 0;
  for (const auto& c : s.categories) {
    EXPECT_TRUE(ids.insert(c.id).second) << c.id;
    EXPECT_FALSE(c.name.empty()) << c.id;
    EXPECT_FALSE(c.keywords.empty()) << c.id;
    for (const auto& k : c.keywords) EXPECT_FALSE(k.empty()) << c.id;
    if (c.severity == core::Severity::prohibited) ++prohibited;
  }
  EXPECT_EQ(prohibited, 19);
  for (int i = 1; i <= 19; ++i) {
    const std::string id = (i < 10 ? "0" : "") + std::to_string(i);
    EXPECT_TRUE(ids.contains(id)) << id;
  }
  for (const char* id : {"R1", "R2", "R3"}) EXPECT_TRUE(ids.contains(id)) << id;
}

TEST(DefaultScreening, EveryCategoryHasChineseAndEnglishKeywords) {
  for (const auto& c : default_screening().categories) {
    bool chinese = false, english = false;
    for (const auto& k : c.keywords) {
      if (static_cast<unsigned char>(k[0]) >= 0x80) chinese = true;
      if ((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z')) english = true;
    }
    EXPECT_TRUE(chinese) << c.id;
    EXPECT_TRUE(english) << c.id;
  }
}

}  // namespace
}  // namespace postgate::config
