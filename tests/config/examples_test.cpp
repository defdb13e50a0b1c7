// The shipped example files and file-level failures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "test_support.hpp"

namespace postgate::config {
namespace {

using test::kSourceDir;
using ::testing::ElementsAre;

TEST(Examples, DemoConfigLoadsWithDataUnderRepoVar) {
  auto c = load_file(kSourceDir / "config/postgate.yaml");
  ASSERT_TRUE(c) << format_problems(c.error());
  const auto var = (kSourceDir / "var").lexically_normal();
  EXPECT_EQ(c->outlet, "demo-outlet");
  ASSERT_EQ(c->counters.size(), 1u);
  EXPECT_EQ(c->counters[0].id, "c1");
  EXPECT_EQ(c->storage.path, var / "postgate.db");
  EXPECT_EQ(c->storage.key_file, var / "postgate.key");
  EXPECT_EQ(c->storage.quarantine_dir, var / "quarantine");
  EXPECT_TRUE(c->storage.create_key);
  EXPECT_EQ(c->api.socket, var / "postgate.sock");
  ASSERT_EQ(c->adapters.size(), 1u);
  EXPECT_EQ(c->adapters[0].kind, "demo");
  EXPECT_EQ(c->adapters[0].name, "demo0");
  EXPECT_EQ(c->adapters[0].counter, "c1");
  EXPECT_DOUBLE_EQ(c->adapters[0].demo.rate_per_s, 2.0);
  ASSERT_EQ(c->waybills.carriers.size(), 2u);
  EXPECT_EQ(c->waybills.carriers[0].carrier, "sf_express");
  EXPECT_EQ(c->waybills.carriers[0].pattern, "^SF[0-9]{12,13}$");
  EXPECT_EQ(c->screening.version, kDefaultScreeningVersion);
  EXPECT_EQ(c->logging.level, "info");
  ASSERT_TRUE(c->uplink.has_value());  // scripts/demo runs a broker on 18830
  EXPECT_EQ(c->uplink->brokers, std::vector<std::string>{"tcp://127.0.0.1:18830"});
  EXPECT_EQ(c->uplink->telemetry_interval_s, 10u);
  EXPECT_EQ(c->source, (kSourceDir / "config/postgate.yaml").lexically_normal());
}

TEST(Examples, ProductionConfigLoadsWithoutAdapters) {
  auto c = load_file(kSourceDir / "config/postgate.production.yaml");
  ASSERT_TRUE(c) << format_problems(c.error());
  EXPECT_TRUE(c->adapters.empty());
  EXPECT_EQ(c->storage.path, "/var/lib/postgate/postgate.db");
  EXPECT_EQ(c->storage.key_file, "/var/lib/postgate/postgate.key");
  EXPECT_EQ(c->storage.quarantine_dir, "/var/lib/postgate/quarantine");
  EXPECT_FALSE(c->storage.create_key);
  EXPECT_EQ(c->api.socket, "/run/postgate/postgate.sock");
  EXPECT_EQ(c->counters.size(), 2u);
  EXPECT_FALSE(c->uplink.has_value());  // only a commented example
}

TEST(Examples, RelativeFileNameResolvesAgainstItsDirectory) {
  // Loading "config/postgate.yaml" from the repository root must not make
  // paths relative to the working directory.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(kSourceDir);
  auto c = load_file("config/postgate.yaml");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(c) << format_problems(c.error());
  EXPECT_EQ(c->storage.path, (kSourceDir / "var/postgate.db").lexically_normal());
}

class FileErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    // Unique per process: the normal and the sanitizer build may run at once.
    dir_ = std::filesystem::temp_directory_path() /
           ("postgate-config-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return (dir_ / name).string();
  }
  static std::vector<std::string> lines(const std::filesystem::path& file) {
    auto r = load_file(file);
    if (r) return {"(loaded)"};
    std::vector<std::string> out;
    for (const Problem& p : r.error()) out.push_back(p.str());
    return out;
  }
  std::filesystem::path dir_;
};

TEST_F(FileErrors, MissingFile) {
  const auto f = (dir_ / "nope.yaml").string();
  EXPECT_THAT(lines(f), ElementsAre(f + ": no such configuration file"));
}

TEST_F(FileErrors, Directory) {
  EXPECT_THAT(lines(dir_),
              ElementsAre(dir_.string() + ": is a directory; expected a YAML configuration file"));
}

TEST_F(FileErrors, EmptyFileAndCommentsOnly) {
  const std::string message =
      ": the configuration is empty; it needs at least \"outlet\" and \"counters\"";
  const auto empty = write("empty.yaml", "");
  EXPECT_THAT(lines(empty), ElementsAre(empty + message));
  const auto comments = write("comments.yaml", "# nothing yet\n\n");
  EXPECT_THAT(lines(comments), ElementsAre(comments + message));
}

TEST_F(FileErrors, SyntaxErrorHasLineAndColumn) {
  const auto f = write("bad.yaml", "outlet: o1\ncounters: [ {id: c1}\nlogging: {}\n");
  // yaml-cpp notices the unclosed flow sequence where the next key starts.
  EXPECT_THAT(lines(f), ElementsAre(f + ":3:1: YAML syntax error: end of sequence flow not found"));
}

TEST_F(FileErrors, TabIndentation) {
  const auto f = write("tab.yaml", "outlet: o1\n\tcounters: []\n");
  EXPECT_THAT(lines(f), ElementsAre(f + ":2:1: YAML syntax error: illegal tab when looking for "
                                        "indentation"));
}

TEST_F(FileErrors, TooLarge) {
  const auto f = write("big.yaml", "# " + std::string(1024 * 1024, 'x') + "\n");
  auto got = lines(f);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], ::testing::HasSubstr("more than the 1 MiB"));
}

TEST_F(FileErrors, ProblemsNameTheFileAsGiven) {
  const auto f = write("postgate.yaml", "outlet: o1\ncounters: []\n");
  EXPECT_THAT(lines(f), ElementsAre(f + ":2:11: counters: at least one counter is required"));
}

}  // namespace
}  // namespace postgate::config
