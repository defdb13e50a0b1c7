// config/README.md documents the schema; its generated part must match.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_support.hpp"

namespace postgate::config {
namespace {

TEST(Readme, SchemaSectionIsUpToDate) {
  const auto file = test::kSourceDir / "config/README.md";
  std::ifstream in(file);
  ASSERT_TRUE(in) << file;
  std::ostringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const std::string begin = "<!-- schema:begin -->\n";
  const std::string end = "<!-- schema:end -->";
  const auto b = readme.find(begin);
  const auto e = readme.find(end);
  ASSERT_NE(b, std::string::npos) << "marker missing: " << begin;
  ASSERT_NE(e, std::string::npos) << "marker missing: " << end;
  ASSERT_LT(b, e);
  EXPECT_TRUE(readme.substr(b + begin.size(), e - b - begin.size()) == schema_markdown())
      << "config/README.md is out of date with config/schema.cpp; regenerate it:\n"
      << "  cmake --build <build> --target postgate_config_doc && "
      << "<build>/config/postgate_config_doc --update config/README.md";
}

}  // namespace
}  // namespace postgate::config
