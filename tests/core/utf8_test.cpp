#include "core/utf8.hpp"

#include <gtest/gtest.h>

namespace postgate::core {
namespace {

TEST(Utf8, DecodesAllLengths) {
  const std::string s = "a\xC3\xA9\xE5\xBC\xA0\xF0\x9F\x98\x80";  // a é 张 😀
  std::size_t i = 0;
  EXPECT_EQ(utf8::decode(s, i), U'a');
  EXPECT_EQ(utf8::decode(s, i), U'\u00E9');
  EXPECT_EQ(utf8::decode(s, i), U'\u5F20');
  EXPECT_EQ(utf8::decode(s, i), U'\U0001F600');
  EXPECT_EQ(i, s.size());
  EXPECT_TRUE(utf8::is_valid(s));
  EXPECT_EQ(utf8::length(s), 4u);
}

TEST(Utf8, RejectsMalformedSequences) {
  for (const std::string bad :
       {"\x80", "\xC3", "\xC3\x28", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
        "\xF8\x88\x80\x80\x80", "\xE5\xBC", "\xFF"}) {
    EXPECT_FALSE(utf8::is_valid(bad)) << testing::PrintToString(bad);
    std::size_t i = 0;
    EXPECT_EQ(utf8::decode(bad, i), std::nullopt);
    EXPECT_EQ(i, 1u);  // resynchronises one byte on
  }
}

TEST(Utf8, AppendRoundTrips) {
  for (const char32_t cp :
       {U'\0', U'\x7F', U'\x80', U'\u07FF', U'\u0800', U'\uFFFF', U'\U00010000', U'\U0010FFFF'}) {
    std::string s;
    utf8::append(s, cp);
    std::size_t i = 0;
    EXPECT_EQ(utf8::decode(s, i), cp);
    EXPECT_EQ(i, s.size());
  }
}

TEST(Utf8, Sanitise) {
  EXPECT_EQ(utf8::sanitise("a\xFF"
                           "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(utf8::sanitise("张三"), "张三");
  EXPECT_EQ(utf8::sanitise(""), "");
}

TEST(Utf8, Trim) {
  EXPECT_EQ(utf8::trim(" \t张三\r\n"), "张三");
  EXPECT_EQ(utf8::trim("\xE3\x80\x80张三\xC2\xA0"), "张三");
  EXPECT_EQ(utf8::trim("   "), "");
  EXPECT_EQ(utf8::trim("a b"), "a b");
}

TEST(Utf8, Cjk) {
  EXPECT_TRUE(utf8::is_cjk(U'张'));
  EXPECT_TRUE(utf8::is_cjk(U'〇'));
  EXPECT_TRUE(utf8::is_cjk(U'\U00020000'));
  EXPECT_FALSE(utf8::is_cjk(U'A'));
  EXPECT_FALSE(utf8::is_cjk(U'·'));
  EXPECT_FALSE(utf8::is_cjk(U'\uFF21'));  // full-width A
}

}  // namespace
}  // namespace postgate::core
