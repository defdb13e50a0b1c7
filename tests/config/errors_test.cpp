// Every class of problem, with its exact location and key path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace postgate::config {
namespace {

using test::kMinimal;
using test::problems;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

// --- required keys and ids -------------------------------------------------

TEST(Required, OutletAndCountersMissing) {
  EXPECT_THAT(problems("logging: {level: info}\n"),
              ElementsAre("postgate.yaml:1:1: outlet: required key is missing",
                          "postgate.yaml:1:1: counters: required key is missing"));
}

TEST(Required, NullValueIsReportedAtTheKey) {
  EXPECT_THAT(problems("outlet:\ncounters: [{id: c1}]\n"),
              ElementsAre("postgate.yaml:1:1: outlet: expected a string, got nothing"));
}

TEST(Ids, OutletMustBeAPlainId) {
  EXPECT_THAT(problems("outlet: bad id!\ncounters: [{id: c1}]\n"),
              ElementsAre("postgate.yaml:1:9: outlet: invalid outlet id \"bad id!\": use 1 to 64 "
                          "of A-Z a-z 0-9 _ -"));
  EXPECT_THAT(problems("outlet: " + std::string(65, 'a') + "\ncounters: [{id: c1}]\n"),
              ElementsAre(HasSubstr("postgate.yaml:1:9: outlet: invalid outlet id")));
  EXPECT_THAT(problems("outlet: " + std::string(64, 'a') + "\ncounters: [{id: c1}]\n"),
              ElementsAre("(loaded without problems)"));
  EXPECT_THAT(problems("outlet: \"\"\ncounters: [{id: c1}]\n"),
              ElementsAre(HasSubstr("postgate.yaml:1:9: outlet: invalid outlet id \"\"")));
}

TEST(Counters, AtLeastOne) {
  EXPECT_THAT(problems("outlet: o1\ncounters: []\n"),
              ElementsAre("postgate.yaml:2:11: counters: at least one counter is required"));
}

TEST(Counters, IdsRequiredValidAndUnique) {
  EXPECT_THAT(problems("outlet: o1\n"
                       "counters:\n"
                       "  - id: c1\n"
                       "  - id: c1\n"
                       "  - name: no id\n"
                       "  - id: c 2\n"),
              ElementsAre("postgate.yaml:4:9: counters[1].id: duplicate counter id \"c1\" "
                          "(also counters[0])",
                          "postgate.yaml:5:5: counters[2].id: required key is missing",
                          "postgate.yaml:6:9: counters[3].id: invalid counter id \"c 2\": use 1 "
                          "to 64 of A-Z a-z 0-9 _ -"));
}

// --- adapters ----------------------------------------------------------------

const std::string kTwoCounters =
    "outlet: o1\n"
    "counters:\n"
    "  - id: c1\n"
    "  - id: c2\n";

TEST(Adapters, CounterMustBeConfigured) {
  EXPECT_THAT(problems(kTwoCounters + "adapters:\n"          // 5
                                      "  - kind: demo\n"     // 6
                                      "    counter: c1\n"    // 7
                                      "  - kind: demo\n"     // 8
                                      "    counter: c9\n"),  // 9
              ElementsAre("postgate.yaml:9:14: adapters[1].counter: unknown counter \"c9\" "
                          "(configured: c1, c2)"));
}

TEST(Adapters, KindAndCounterRequired) {
  EXPECT_THAT(problems(kMinimal + "adapters:\n  - name: a\n"),
              ElementsAre("postgate.yaml:6:5: adapters[0].kind: required key is missing",
                          "postgate.yaml:6:5: adapters[0].counter: required key is missing"));
}

TEST(Adapters, UnknownKindListsKindsAndSkipsKindKeys) {
  EXPECT_THAT(problems(kMinimal + "adapters:\n"
                                  "  - kind: usb\n"
                                  "    counter: c1\n"
                                  "    rate_per_s: 2\n"),
              ElementsAre("postgate.yaml:6:11: adapters[0].kind: expected one of: demo, "
                          "idcard_reader, barcode_scanner, "
                          "mrz_reader (got "
                          "\"usb\")"));
}

TEST(Adapters, NamesUniqueIncludingDefaults) {
  EXPECT_THAT(problems(kMinimal + "adapters:\n"
                                  "  - {kind: demo, counter: c1}\n"
                                  "  - {kind: demo, counter: c1, name: demo0}\n"
                                  "  - {kind: demo, counter: c1, name: \"no/slash\"}\n"),
              ElementsAre("postgate.yaml:7:37: adapters[1].name: duplicate adapter name "
                          "\"demo0\" (also adapters[0])",
                          "postgate.yaml:8:37: adapters[2].name: invalid adapter name "
                          "\"no/slash\": use 1 to 64 of A-Z a-z 0-9 _ -"));
}

TEST(Adapters, KindSpecificKeysAreCheckedForTheirKind) {
  EXPECT_THAT(problems(kMinimal + "adapters:\n"
                                  "  - kind: demo\n"
                                  "    counter: c1\n"
                                  "    rate_per_sec: 2\n"
                                  "    refuse_ratio: 1.5\n"
                                  "    seed: -1\n"),
              ElementsAre("postgate.yaml:8:5: adapters[0].rate_per_sec: unknown key "
                          "\"rate_per_sec\" for kind \"demo\" (did you mean \"rate_per_s\"? "
                          "valid keys: kind, name, counter, rate_per_s, count, seed, "
                          "refuse_ratio)",
                          "postgate.yaml:9:19: adapters[0].refuse_ratio: must be between 0 and "
                          "1, got 1.5",
                          "postgate.yaml:10:11: adapters[0].seed: expected an unsigned integer, "
                          "got \"-1\""));
}

// --- unknown and duplicate keys at every level -------------------------------

TEST(UnknownKeys, TopLevelListsValidKeys) {
  EXPECT_THAT(problems(kMinimal + "colour: blue\n"),
              ElementsAre("postgate.yaml:5:1: colour: unknown key \"colour\" (valid keys: "
                          "outlet, counters, storage, api, workflow, adapters, cameras, xray, "
                          "evidence, waybills, screening, logging, uplink)"));
}

TEST(UnknownKeys, EveryNestedLevel) {
  EXPECT_THAT(problems("outlet: o1\n"
                       "counters:\n"
                       "  - id: c1\n"
                       "    desk: 3\n"  // 4
                       "storage: {pth: x}\n"
                       "api: {sockets: x}\n"
                       "workflow: {timeout: 3}\n"
                       "adapters: [{kind: demo, counter: c1, port: 1}]\n"
                       "waybills: {s10: true, carriers: [{carrier: a, pattern: A, x: 1}]}\n"
                       "screening: {list: []}\n"
                       "logging: {lvl: info}\n"),
              ElementsAre(StartsWith("postgate.yaml:4:5: counters[0].desk: unknown key \"desk\" "
                                     "(valid keys: id, name)"),
                          StartsWith("postgate.yaml:5:11: storage.pth: unknown key \"pth\" (did "
                                     "you mean \"path\"? valid keys: path, key_file, "),
                          StartsWith("postgate.yaml:6:7: api.sockets: unknown key \"sockets\" "
                                     "(did you mean \"socket\"?"),
                          StartsWith("postgate.yaml:7:12: workflow.timeout: unknown key"),
                          StartsWith("postgate.yaml:8:38: adapters[0].port: unknown key \"port\" "
                                     "for kind \"demo\""),
                          StartsWith("postgate.yaml:9:12: waybills.s10: unknown key"),
                          StartsWith("postgate.yaml:9:59: waybills.carriers[0].x: unknown key "
                                     "\"x\" (valid keys: carrier, pattern)"),
                          StartsWith("postgate.yaml:10:13: screening.list: unknown key \"list\" "
                                     "(valid keys: version, categories)"),
                          StartsWith("postgate.yaml:11:11: logging.lvl: unknown key \"lvl\" "
                                     "(did you mean \"level\"? valid keys: level)")));
}

TEST(UnknownKeys, NoSuggestionForShortUnrelatedNames) {
  EXPECT_THAT(problems(kMinimal + "waybills: {ab: 1}\n"),
              ElementsAre("postgate.yaml:5:12: waybills.ab: unknown key \"ab\" (valid keys: "
                          "accept_s10, carriers)"));
}

TEST(UnknownKeys, InScreeningCategory) {
  EXPECT_THAT(problems(kMinimal +
                       "screening:\n"
                       "  version: v1\n"
                       "  categories:\n"
                       "    - {id: A, name: a, severity: prohibited, keywords: [a], level: 1}\n"),
              ElementsAre("postgate.yaml:8:61: screening.categories[0].level: unknown key "
                          "\"level\" (valid keys: id, name, severity, keywords)"));
}

TEST(DuplicateKeys, AreRejected) {
  EXPECT_THAT(problems(kMinimal + "logging:\n  level: info\n  level: debug\n"),
              ElementsAre("postgate.yaml:7:3: logging.level: duplicate key (first given at line "
                          "6)"));
}

TEST(Structure, KeysMustBeNames) {
  EXPECT_THAT(problems(kMinimal + "? [a, b]\n: 1\n"),
              ElementsAre("postgate.yaml:5:3: expected a key name, got a list"));
}

TEST(Structure, OnlyOneDocument) {
  EXPECT_THAT(problems(kMinimal + "---\nlogging: {}\n"),
              ElementsAre("postgate.yaml:6:1: only one YAML document is allowed per file"));
}

TEST(Structure, TopLevelMustBeAMapping) {
  EXPECT_THAT(problems("- outlet: o1\n"),
              ElementsAre("postgate.yaml:1:1: expected a mapping, got a list"));
}

// --- types --------------------------------------------------------------------

TEST(Types, SayWhatWasExpected) {
  EXPECT_THAT(problems(kMinimal + "storage:\n"                       // 5
                                  "  path: [a, b]\n"                 // 6
                                  "  key_file: \"\"\n"               // 7
                                  "  create_key: maybe\n"            // 8
                                  "  previous_key_files: old.key\n"  // 9
                                  "  group_commit_max: 1.5\n"        // 10
                                  "api:\n"                           // 11
                                  "  max_clients: abc\n"             // 12
                                  "  idle_timeout_s: {a: 1}\n"       // 13
                                  "adapters:\n"                      // 14
                                  "  - kind: demo\n"                 // 15
                                  "    counter: c1\n"                // 16
                                  "    rate_per_s: fast\n"           // 17
                                  "workflow: 5\n"                    // 18
                                  "waybills:\n"                      // 19
                                  "  carriers: {carrier: a}\n"),     // 20
              ElementsAre("postgate.yaml:6:9: storage.path: expected a path, got a list",
                          "postgate.yaml:7:13: storage.key_file: expected a path, got \"\"",
                          "postgate.yaml:8:15: storage.create_key: expected true or false, got "
                          "\"maybe\"",
                          "postgate.yaml:9:23: storage.previous_key_files: expected a list of "
                          "paths, got \"old.key\"",
                          "postgate.yaml:10:21: storage.group_commit_max: expected an unsigned "
                          "integer, got \"1.5\"",
                          "postgate.yaml:12:16: api.max_clients: expected an unsigned integer, "
                          "got \"abc\"",
                          "postgate.yaml:13:19: api.idle_timeout_s: expected an unsigned integer, "
                          "got a mapping",
                          "postgate.yaml:17:17: adapters[0].rate_per_s: expected a number, got "
                          "\"fast\"",
                          "postgate.yaml:18:11: workflow: expected a mapping, got \"5\"",
                          "postgate.yaml:20:13: waybills.carriers: expected a list of mappings, "
                          "got a mapping"));
}

TEST(Types, ListElements) {
  EXPECT_THAT(problems(kMinimal + "storage:\n  previous_key_files:\n    - a.key\n    - [b]\n"),
              ElementsAre("postgate.yaml:8:7: storage.previous_key_files[1]: expected a path, "
                          "got a list"));
}

TEST(Types, StringsRejectStructures) {
  EXPECT_THAT(problems("outlet: {a: 1}\ncounters: [{id: c1}]\n"),
              ElementsAre("postgate.yaml:1:9: outlet: expected a string, got a mapping"));
}

TEST(Ranges, MaxLineBytes) {
  EXPECT_THAT(problems(kMinimal + "api: {max_line_bytes: 1023}\n"),
              ElementsAre("postgate.yaml:5:23: api.max_line_bytes: must be between 1024 and "
                          "16777216, got 1023"));
  EXPECT_THAT(problems(kMinimal + "api: {max_line_bytes: 16777217}\n"),
              ElementsAre(HasSubstr("must be between 1024 and 16777216, got 16777217")));
  EXPECT_THAT(problems(kMinimal + "api: {max_line_bytes: 99999999999999999999999}\n"),
              ElementsAre(HasSubstr("api.max_line_bytes: expected an unsigned integer")));
  EXPECT_THAT(problems(kMinimal + "api: {max_line_bytes: 1024}\n"),
              ElementsAre("(loaded without problems)"));
}

TEST(Ranges, Uint32FieldsCannotOverflow) {
  EXPECT_THAT(problems(kMinimal + "storage: {retention_days: 4294967296}\n"),
              ElementsAre(HasSubstr("storage.retention_days: must be between 1 and 36500")));
}

TEST(Enums, ListTheAllowedValues) {
  EXPECT_THAT(problems(kMinimal + "storage: {synchronous: normal}\nlogging: {level: verbose}\n"),
              ElementsAre("postgate.yaml:5:24: storage.synchronous: expected one of: full, "
                          "extra (got \"normal\")",
                          "postgate.yaml:6:18: logging.level: expected one of: trace, debug, "
                          "info, warn, error (got \"verbose\")"));
}

// --- waybills -------------------------------------------------------------------

TEST(Waybills, PatternMustCompile) {
  auto got = problems(kMinimal +
                      "waybills:\n"
                      "  carriers:\n"
                      "    - carrier: sf\n"
                      "      pattern: \"^SF[0-9{12}$\"\n");
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_THAT(got[0], StartsWith("postgate.yaml:8:16: waybills.carriers[0].pattern: does not "
                                 "compile as an ECMAScript regular expression: "));
}

TEST(Waybills, CarrierNamesUniqueAndNotReserved) {
  EXPECT_THAT(problems(kMinimal + "waybills:\n"
                                  "  carriers:\n"
                                  "    - {carrier: sf, pattern: \"^SF[0-9]{12}$\"}\n"
                                  "    - {carrier: sf, pattern: \"^SF[0-9]{13}$\"}\n"
                                  "    - {carrier: upu_s10, pattern: \"^X$\"}\n"
                                  "    - {carrier: zto}\n"),
              ElementsAre("postgate.yaml:8:17: waybills.carriers[1].carrier: duplicate carrier "
                          "\"sf\" (also waybills.carriers[0])",
                          "postgate.yaml:9:17: waybills.carriers[2].carrier: \"upu_s10\" is "
                          "reserved for UPU S10 numbers (see waybills.accept_s10)",
                          "postgate.yaml:10:7: waybills.carriers[3].pattern: required key is "
                          "missing"));
}

// --- screening ------------------------------------------------------------------

TEST(Screening, CategoryChecks) {
  EXPECT_THAT(
      problems(kMinimal + "screening:\n"                                                      // 5
                          "  version: v1\n"                                                   // 6
                          "  categories:\n"                                                   // 7
                          "    - {id: A, name: a, severity: prohibited, keywords: [a]}\n"     // 8
                          "    - {id: A, name: b, severity: banned, keywords: [b]}\n"         // 9
                          "    - {id: C, name: c, severity: restricted, keywords: []}\n"      // 10
                          "    - {id: D, name: d, severity: restricted, keywords: [\"\"]}\n"  // 11
                          "    - {id: E, severity: restricted}\n"),                           // 12
      ElementsAre("postgate.yaml:9:12: screening.categories[1].id: duplicate category "
                  "id \"A\" (also screening.categories[0])",
                  "postgate.yaml:9:34: screening.categories[1].severity: expected one "
                  "of: prohibited, restricted (got \"banned\")",
                  "postgate.yaml:10:56: screening.categories[2].keywords: at least one "
                  "keyword is required",
                  "postgate.yaml:11:57: screening.categories[3].keywords[0]: empty "
                  "keyword",
                  "postgate.yaml:12:7: screening.categories[4].name: required key is "
                  "missing",
                  "postgate.yaml:12:7: screening.categories[4].keywords: required key is "
                  "missing"));
}

TEST(Screening, VersionGoesWithCategories) {
  EXPECT_THAT(problems(kMinimal + "screening:\n  categories:\n"
                                  "    - {id: A, name: a, severity: prohibited, keywords: [a]}\n"),
              ElementsAre("postgate.yaml:6:3: screening.version: required when "
                          "screening.categories is given"));
  EXPECT_THAT(problems(kMinimal + "screening:\n  version: mine\n"),
              ElementsAre("postgate.yaml:6:12: screening.version: given without "
                          "screening.categories; the built-in list has its own version "
                          "(2026-11-default)"));
  EXPECT_THAT(problems(kMinimal + "screening:\n  version: v1\n  categories: []\n"),
              ElementsAre("postgate.yaml:7:15: screening.categories: at least one category is "
                          "required"));
}

// --- storage and api --------------------------------------------------------------

TEST(Storage, KeyFileIsNotTheDatabase) {
  EXPECT_THAT(problems(kMinimal + "storage:\n  path: a.db\n  key_file: ./a.db\n"),
              ElementsAre("postgate.yaml:7:13: storage.key_file: must not be the database file "
                          "(storage.path)"));
}

TEST(Api, SocketPathFitsSunPath) {
  auto got = problems(kMinimal + "api:\n  socket: " + std::string(100, 's') + "\n");
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0],
            "postgate.yaml:6:11: api.socket: resolves to a path of 114 bytes; a Unix socket path "
            "has at most 107");
}

TEST(Workflow, ControlPrefixNotEmpty) {
  EXPECT_THAT(problems(kMinimal + "workflow: {control_prefix: \"\"}\n"),
              ElementsAre("postgate.yaml:5:28: workflow.control_prefix: must not be empty"));
}

// --- all problems, in file order ------------------------------------------------------

TEST(Collect, AllProblemsInFileOrder) {
  auto got = problems(
      "logging: {level: loud}\n"
      "outlet: \"o 1\"\n"
      "counters: [{id: c1}]\n"
      "adapters: [{kind: demo, counter: c2}]\n"
      "api: {max_clients: 0}\n");
  EXPECT_THAT(got, ElementsAre(StartsWith("postgate.yaml:1:18: logging.level:"),
                               StartsWith("postgate.yaml:2:9: outlet:"),
                               StartsWith("postgate.yaml:4:34: adapters[0].counter:"),
                               StartsWith("postgate.yaml:5:20: api.max_clients:")));
}

}  // namespace
}  // namespace postgate::config
