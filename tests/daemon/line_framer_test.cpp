#include "daemon/line_framer.hpp"

#include <gtest/gtest.h>

namespace postgate::daemon {
namespace {

using Next = LineFramer::Next;

TEST(LineFramer, SplitsLinesAcrossFeeds) {
  LineFramer f(100);
  std::string line;
  f.feed("{\"op\":\"st");
  EXPECT_EQ(f.next(line), Next::need_more);
  f.feed("atus\"}\n{\"op\":\"records\"}\r\n{\"o");
  ASSERT_EQ(f.next(line), Next::line);
  EXPECT_EQ(line, R"({"op":"status"})");
  ASSERT_EQ(f.next(line), Next::line);
  EXPECT_EQ(line, R"({"op":"records"})");  // CR stripped
  EXPECT_EQ(f.next(line), Next::need_more);
  EXPECT_FALSE(f.has_complete_line());
  f.feed("p\":1}\n");
  EXPECT_TRUE(f.has_complete_line());
  ASSERT_EQ(f.next(line), Next::line);
  EXPECT_EQ(line, R"({"op":1})");
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(LineFramer, EmptyLinesAreLines) {
  LineFramer f(10);
  std::string line = "x";
  f.feed("\n\n");
  ASSERT_EQ(f.next(line), Next::line);
  EXPECT_EQ(line, "");
  ASSERT_EQ(f.next(line), Next::line);
  EXPECT_EQ(f.next(line), Next::need_more);
}

TEST(LineFramer, LineOfExactlyTheLimitPasses) {
  LineFramer f(5);
  std::string line;
  f.feed("12345\n12345\r\n");
  ASSERT_EQ(f.next(line), Next::line);
  EXPECT_EQ(line, "12345");
  ASSERT_EQ(f.next(line), Next::line);
  EXPECT_EQ(line, "12345");
}

TEST(LineFramer, CompleteLineOverTheLimitIsTooLongAndStaysSo) {
  LineFramer f(5);
  std::string line;
  f.feed("ok\n123456\nnext\n");
  ASSERT_EQ(f.next(line), Next::line);
  EXPECT_EQ(f.next(line), Next::too_long);
  f.feed("more\n");
  EXPECT_EQ(f.next(line), Next::too_long);
}

TEST(LineFramer, PartialLineOverTheLimitIsCaughtBeforeItsNewline) {
  LineFramer f(8);
  std::string line;
  f.feed(std::string(9, 'a'));
  EXPECT_EQ(f.next(line), Next::need_more);  // 9 bytes could be 8 + '\r'
  f.feed("a");
  EXPECT_EQ(f.next(line), Next::too_long);
}

TEST(LineFramer, BufferStaysBoundedUnderManyFeeds) {
  LineFramer f(64);
  std::string line;
  for (int i = 0; i < 10000; ++i) {
    f.feed("{\"op\":\"status\"}\n{\"op\"");
    ASSERT_EQ(f.next(line), Next::line);
    f.feed(":\"status\"}\n");
    ASSERT_EQ(f.next(line), Next::line);
    ASSERT_EQ(f.next(line), Next::need_more);
  }
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(LineFramer, FinishYieldsALastLineWithoutNewline) {
  LineFramer f(10);
  std::string line;
  f.feed("abc\ndef");
  ASSERT_EQ(f.next(line), Next::line);
  EXPECT_EQ(f.next(line), Next::need_more);
  ASSERT_EQ(f.finish(line), Next::line);
  EXPECT_EQ(line, "def");
  EXPECT_EQ(f.finish(line), Next::need_more);
}

}  // namespace
}  // namespace postgate::daemon
