// Defaults: the schema's documented defaults are the ones applied, and they
// agree with the member initialisers in config.hpp.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace postgate::config {
namespace {

using test::kMinimal;
using test::load;

TEST(Defaults, MinimalFileGetsEveryDefault) {
  auto c = load(kMinimal);
  ASSERT_TRUE(c) << format_problems(c.error());
  const StorageConfig st;
  EXPECT_EQ(c->storage.path, st.path);
  EXPECT_EQ(c->storage.key_file, st.key_file);
  EXPECT_EQ(c->storage.key_credential, st.key_credential);
  EXPECT_EQ(c->storage.previous_key_files, st.previous_key_files);
  EXPECT_EQ(c->storage.quarantine_dir, "/var/lib/postgate/quarantine");
  EXPECT_EQ(c->storage.synchronous, st.synchronous);
  EXPECT_EQ(c->storage.group_commit_max, st.group_commit_max);
  EXPECT_EQ(c->storage.retention_days, st.retention_days);
  EXPECT_EQ(c->storage.xray_retention_days, st.xray_retention_days);
  EXPECT_EQ(c->storage.create_key, st.create_key);
  EXPECT_EQ(c->storage.retention_days, 365u);
  EXPECT_EQ(c->storage.xray_retention_days, 30u);

  const ApiConfig api;
  EXPECT_EQ(c->api.socket, api.socket);
  EXPECT_EQ(c->api.max_line_bytes, api.max_line_bytes);
  EXPECT_EQ(c->api.max_clients, api.max_clients);
  EXPECT_EQ(c->api.idle_timeout_s, api.idle_timeout_s);

  const WorkflowConfig wf;
  EXPECT_EQ(c->workflow.control_prefix, wf.control_prefix);
  EXPECT_EQ(c->workflow.session_timeout_s, wf.session_timeout_s);
  EXPECT_EQ(c->workflow.identity_keep_s, wf.identity_keep_s);

  EXPECT_TRUE(c->adapters.empty());
  EXPECT_TRUE(c->waybills.accept_s10);
  EXPECT_TRUE(c->waybills.carriers.empty());
  EXPECT_EQ(c->logging.level, LoggingConfig{}.level);
  EXPECT_EQ(c->screening.version, kDefaultScreeningVersion);
  EXPECT_EQ(c->screening.categories.size(), default_screening().categories.size());
  EXPECT_EQ(c->outlet, "o1");
  EXPECT_EQ(c->counters[0].name, "Counter 1");
}

TEST(Defaults, DemoAdapterDefaultsMatchTheStruct) {
  auto c = load(kMinimal + "adapters:\n  - kind: demo\n    counter: c1\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  ASSERT_EQ(c->adapters.size(), 1u);
  const DemoAdapterConfig d;
  EXPECT_DOUBLE_EQ(c->adapters[0].demo.rate_per_s, d.rate_per_s);
  EXPECT_EQ(c->adapters[0].demo.count, d.count);
  EXPECT_EQ(c->adapters[0].demo.seed, d.seed);
  EXPECT_DOUBLE_EQ(c->adapters[0].demo.refuse_ratio, d.refuse_ratio);
}

TEST(Defaults, AdapterNamesDefaultToKindAndIndex) {
  auto c = load(kMinimal +
                "adapters:\n"
                "  - {kind: demo, counter: c1, name: front}\n"
                "  - {kind: demo, counter: c1}\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  EXPECT_EQ(c->adapters[0].name, "front");
  EXPECT_EQ(c->adapters[1].name, "demo1");
}

TEST(Defaults, EmptySectionsAndNullValuesTakeDefaults) {
  auto c = load(kMinimal + "storage:\napi: {}\nadapters:\nlogging:\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  EXPECT_EQ(c->storage.path, "/var/lib/postgate/postgate.db");
  EXPECT_EQ(c->api.max_line_bytes, 65536u);
  EXPECT_TRUE(c->adapters.empty());
}

TEST(Defaults, ValuesOverrideDefaults) {
  auto c = load(kMinimal +
                "storage:\n"
                "  synchronous: extra\n"
                "  group_commit_max: 10\n"
                "  create_key: yes\n"
                "  quarantine_dir: /srv/q\n"
                "  previous_key_files: [old1.key, /abs/old2.key]\n"
                "api:\n"
                "  max_line_bytes: 16777216\n"
                "workflow:\n"
                "  control_prefix: \"CMD:\"\n"
                "  identity_keep_s: 0\n"
                "waybills:\n"
                "  accept_s10: false\n"
                "logging:\n"
                "  level: debug\n"
                "adapters:\n"
                "  - kind: demo\n"
                "    counter: c1\n"
                "    rate_per_s: 0.5\n"
                "    count: 18446744073709551615\n"
                "    seed: 42\n"
                "    refuse_ratio: 1\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  EXPECT_EQ(c->storage.synchronous, "extra");
  EXPECT_EQ(c->storage.group_commit_max, 10u);
  EXPECT_TRUE(c->storage.create_key);
  EXPECT_EQ(c->storage.quarantine_dir, "/srv/q");
  ASSERT_EQ(c->storage.previous_key_files.size(), 2u);
  EXPECT_EQ(c->storage.previous_key_files[0], "/etc/postgate/old1.key");
  EXPECT_EQ(c->storage.previous_key_files[1], "/abs/old2.key");
  EXPECT_EQ(c->api.max_line_bytes, 16777216u);
  EXPECT_EQ(c->workflow.control_prefix, "CMD:");
  EXPECT_EQ(c->workflow.identity_keep_s, 0u);
  EXPECT_FALSE(c->waybills.accept_s10);
  EXPECT_EQ(c->logging.level, "debug");
  EXPECT_DOUBLE_EQ(c->adapters[0].demo.rate_per_s, 0.5);
  EXPECT_EQ(c->adapters[0].demo.count, 18446744073709551615u);
  EXPECT_EQ(c->adapters[0].demo.seed, 42u);
  EXPECT_DOUBLE_EQ(c->adapters[0].demo.refuse_ratio, 1.0);
}

TEST(Paths, RelativePathsResolveAgainstTheConfigDirectory) {
  auto c = load_string(kMinimal +
                           "storage:\n"
                           "  path: data/pg.db\n"
                           "  key_file: ../keys/./pg.key\n"
                           "api:\n"
                           "  socket: pg.sock\n",
                       "x.yaml", "/opt/outlet/etc");
  ASSERT_TRUE(c) << format_problems(c.error());
  EXPECT_EQ(c->storage.path, "/opt/outlet/etc/data/pg.db");
  EXPECT_EQ(c->storage.key_file, "/opt/outlet/keys/pg.key");
  EXPECT_EQ(c->storage.quarantine_dir, "/opt/outlet/etc/data/quarantine");
  EXPECT_EQ(c->api.socket, "/opt/outlet/etc/pg.sock");
}

TEST(Screening, ConfiguredListReplacesTheBuiltInOne) {
  auto c = load(kMinimal +
                "screening:\n"
                "  version: hq-2027-01\n"
                "  categories:\n"
                "    - id: X1\n"
                "      name: test items\n"
                "      severity: restricted\n"
                "      keywords: [测试, test]\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  EXPECT_EQ(c->screening.version, "hq-2027-01");
  ASSERT_EQ(c->screening.categories.size(), 1u);
  EXPECT_EQ(c->screening.categories[0].id, "X1");
  EXPECT_EQ(c->screening.categories[0].severity, core::Severity::restricted);
  EXPECT_EQ(c->screening.categories[0].keywords, (std::vector<std::string>{"测试", "test"}));
}

TEST(Problems, FormatOneLineEach) {
  std::vector<Problem> ps{{"a.yaml", 3, 5, "api.socket", "expected a path, got a list"},
                          {"a.yaml", 0, 0, "", "is a directory"}};
  EXPECT_EQ(format_problems(ps),
            "a.yaml:3:5: api.socket: expected a path, got a list\na.yaml: is a directory\n");
}

}  // namespace
}  // namespace postgate::config
