// The HQ database without a broker: watermark, duplicates, conflicts, gaps,
// encryption at rest, and what survives a reopen.
#include "hq/hq_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "codec/record_json.hpp"
#include "hq_test_data.hpp"
#include "storage/keyring.hpp"

namespace postgate::hq {
namespace {

using testing::make_records;
using testing::test_time;

class HqStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hq_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  HqStore open(StoreOptions o = {}) {
    auto s = HqStore::open(dir_ / "hq.db", std::move(o));
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
    return std::move(*s);
  }

  std::filesystem::path dir_;
  core::SplitMix64 random_{42};
};

TEST_F(HqStoreTest, InOrderBatchesAdvanceTheWatermark) {
  auto store = open();
  auto a = store.store_batch("sh-0001", make_records(1, 5, random_), 0, test_time());
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->stored, 5u);
  EXPECT_EQ(a->watermark, 5u);
  EXPECT_EQ(a->missing, 0u);
  auto b = store.store_batch("sh-0001", make_records(6, 9, random_), 0, test_time(1));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->watermark, 9u);
  // Outlets are independent.
  auto c = store.store_batch("sh-0002", make_records(1, 2, random_), 0, test_time(2));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->watermark, 2u);
  EXPECT_EQ(*store.watermark("sh-0001"), 9u);
}

TEST_F(HqStoreTest, GroupCommitStoresEveryBatchOnceCommitted) {
  {
    auto store = open();
    ASSERT_TRUE(store.begin_group().has_value());
    EXPECT_FALSE(store.begin_group().has_value());  // no nesting of groups
    auto a = store.store_batch("o", make_records(1, 4, random_), 0, test_time());
    ASSERT_TRUE(a.has_value());
    auto b = store.store_batch("o", make_records(5, 8, random_), 0, test_time(1));
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->watermark, 8u);  // seen inside the group
    ASSERT_TRUE(store.commit_group().has_value());
    EXPECT_FALSE(store.in_group());
  }
  auto again = open();
  EXPECT_EQ(*again.watermark("o"), 8u);
}

TEST_F(HqStoreTest, AbortedGroupLeavesNothing) {
  auto store = open();
  ASSERT_TRUE(store.store_batch("o", make_records(1, 2, random_), 0, test_time()).has_value());
  ASSERT_TRUE(store.begin_group().has_value());
  ASSERT_TRUE(store.store_batch("o", make_records(3, 6, random_), 0, test_time(1)).has_value());
  store.abort_group();
  EXPECT_EQ(*store.watermark("o"), 2u);
  // The store is usable after an abort, in and out of groups.
  ASSERT_TRUE(store.store_batch("o", make_records(3, 3, random_), 0, test_time(2)).has_value());
  EXPECT_EQ(*store.watermark("o"), 3u);
}

TEST_F(HqStoreTest, DuplicatesAreAbsorbed) {
  auto store = open();
  const auto rs = make_records(1, 3, random_);
  ASSERT_TRUE(store.store_batch("o", rs, 0, test_time()).has_value());
  auto again = store.store_batch("o", rs, 0, test_time(1));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->stored, 0u);
  EXPECT_EQ(again->duplicates, 3u);
  EXPECT_EQ(again->conflicts, 0u);
  EXPECT_EQ(again->watermark, 3u);
  auto fleet = store.fleet();
  ASSERT_TRUE(fleet.has_value());
  ASSERT_EQ(fleet->size(), 1u);
  EXPECT_EQ((*fleet)[0].records, 3u);
  EXPECT_EQ((*fleet)[0].duplicates, 3u);
}

TEST_F(HqStoreTest, ConflictKeepsTheFirstAndIsCountedOnce) {
  auto store = open();
  const auto first = make_records(1, 2, random_);
  ASSERT_TRUE(store.store_batch("o", first, 0, test_time()).has_value());
  auto other = make_records(2, 2, random_);  // same seq, new id
  ASSERT_NE(other[0].id, first[1].id);
  auto out = store.store_batch("o", other, 0, test_time(1));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->conflicts, 1u);
  EXPECT_EQ(out->conflict_seqs, std::vector<std::uint64_t>{2});
  EXPECT_EQ(out->watermark, 2u);
  // The same conflicting record again: logged, not counted twice.
  ASSERT_TRUE(store.store_batch("o", other, 0, test_time(2)).has_value());

  auto rows = store.conflicts("o", 10);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].seq, 2u);
  EXPECT_EQ((*rows)[0].kept_id, first[1].id.str());
  EXPECT_EQ((*rows)[0].other_id, other[0].id.str());
  EXPECT_EQ((*rows)[0].times, 2u);
  auto fleet = store.fleet();
  ASSERT_TRUE(fleet.has_value());
  EXPECT_EQ((*fleet)[0].conflicts, 1u);

  auto held = store.records("o", 10, true);
  ASSERT_TRUE(held.has_value());
  ASSERT_EQ(held->size(), 2u);
  EXPECT_EQ((*held)[1]["id"], first[1].id.str());
  EXPECT_EQ((*held)[1]["sender"]["doc_number"], first[1].acceptance.sender.number);
}

TEST_F(HqStoreTest, GapHoldsTheWatermarkUntilFilled) {
  auto store = open();
  ASSERT_TRUE(store.store_batch("o", make_records(1, 5, random_), 0, test_time()).has_value());
  auto high = store.store_batch("o", make_records(8, 10, random_), 0, test_time(1));
  ASSERT_TRUE(high.has_value());
  EXPECT_EQ(high->watermark, 5u);
  EXPECT_EQ(high->missing, 2u);
  EXPECT_EQ(high->gaps, (std::vector<Gap>{{6, 7}}));

  ASSERT_TRUE(store.store_batch("o", make_records(13, 13, random_), 0, test_time(2)));
  EXPECT_EQ(*store.gaps("o", 10), (std::vector<Gap>{{6, 7}, {11, 12}}));
  auto fleet = store.fleet();
  ASSERT_TRUE(fleet.has_value());
  EXPECT_EQ((*fleet)[0].missing, 4u);
  EXPECT_EQ((*fleet)[0].max_seq, 13u);

  auto fill = store.store_batch("o", make_records(6, 7, random_), 0, test_time(3));
  ASSERT_TRUE(fill.has_value());
  EXPECT_EQ(fill->watermark, 10u);
  EXPECT_EQ(fill->gaps, (std::vector<Gap>{{11, 12}}));
}

TEST_F(HqStoreTest, NothingFromSeqOneMeansWatermarkZero) {
  auto store = open();
  auto out = store.store_batch("o", make_records(3, 4, random_), 0, test_time());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->watermark, 0u);
  EXPECT_EQ(out->gaps, (std::vector<Gap>{{1, 2}}));
}

TEST_F(HqStoreTest, WatermarkSurvivesReopen) {
  {
    auto store = open();
    ASSERT_TRUE(store.store_batch("o", make_records(1, 4, random_), 0, test_time()));
    ASSERT_TRUE(store.store_batch("o", make_records(6, 6, random_), 0, test_time()));
  }
  auto store = open();
  EXPECT_EQ(*store.watermark("o"), 4u);
  auto fill = store.store_batch("o", make_records(5, 5, random_), 0, test_time(1));
  ASSERT_TRUE(fill.has_value());
  EXPECT_EQ(fill->watermark, 6u);
}

TEST_F(HqStoreTest, PersonalFieldsAreSealedWithAKey) {
  const auto key_path = dir_ / "hq.key";
  ASSERT_TRUE(storage::generate_key_file(key_path).has_value());
  auto key = storage::load_key_file(key_path);
  ASSERT_TRUE(key.has_value());
  storage::KeyRing ring;
  ring.current = *key;
  const auto rs = make_records(1, 3, random_);
  {
    StoreOptions o;
    o.keys = ring;
    auto store = open(std::move(o));
    ASSERT_TRUE(store.store_batch("o", rs, 0, test_time()).has_value());
    auto clear = store.records("o", 10, true);
    ASSERT_TRUE(clear.has_value()) << clear.error().message;
    ASSERT_EQ(clear->size(), 3u);
    EXPECT_EQ((*clear)[0]["sender"]["name"], rs[0].acceptance.sender.name);
    EXPECT_EQ((*clear)[0]["sender"]["doc_number"], rs[0].acceptance.sender.number);
  }
  // Neither the number nor the name is anywhere in the files.
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    if (f.path() == key_path) continue;
    std::ifstream in(f.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    for (const auto& r : rs) {
      EXPECT_EQ(bytes.find(r.acceptance.sender.number), std::string::npos) << f.path();
      EXPECT_EQ(bytes.find(r.acceptance.sender.name), std::string::npos) << f.path();
    }
  }
  // Without the key: masked works, clear refuses.
  auto store = open();
  auto masked = store.records("o", 10, false);
  ASSERT_TRUE(masked.has_value());
  EXPECT_EQ((*masked)[0]["sender"]["doc_number"],
            core::mask_number(core::DocType::resident_id, rs[0].acceptance.sender.number));
  auto clear = store.records("o", 10, true);
  ASSERT_FALSE(clear.has_value());
  EXPECT_EQ(clear.error().code, "key_required");
}

TEST_F(HqStoreTest, MaskedRecordsByDefaultNewestLimitInSeqOrder) {
  auto store = open();
  const auto rs = make_records(1, 5, random_);
  ASSERT_TRUE(store.store_batch("o", rs, 0, test_time()).has_value());
  auto out = store.records("o", 2, false);
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0]["seq"], 4);
  EXPECT_EQ((*out)[1]["seq"], 5);
  EXPECT_EQ((*out)[1]["sender"]["name"], core::mask_name(rs[4].acceptance.sender.name));
  EXPECT_NE((*out)[1]["sender"]["doc_number"], rs[4].acceptance.sender.number);
}

TEST_F(HqStoreTest, StatusTelemetryAndEvents) {
  auto store = open();
  const json online = {{"state", "online"}, {"outlet", "o"}};
  // A retained status replayed at subscribe does not count as "seen".
  ASSERT_TRUE(store.put_status("o", "online", online, test_time(), false));
  auto f = store.fleet();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ((*f)[0].state, "online");
  EXPECT_FALSE((*f)[0].last_seen.has_value());

  ASSERT_TRUE(store.put_telemetry("o", {{"outlet", "o"}, {"pending", 12}}, test_time(5)));
  Event e{"ev-1", "2026-11-23T08:00:00.000Z", "device_gone", "warning", "scanner gone", 7, "{}"};
  EXPECT_EQ(store.add_event("o", e, test_time(6)), true);
  EXPECT_EQ(store.add_event("o", e, test_time(7)), false);
  ASSERT_TRUE(store.put_status("o", "offline", {{"state", "offline"}}, test_time(8), true));
  f = store.fleet();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ((*f)[0].state, "offline");
  EXPECT_EQ((*f)[0].last_seen, test_time(8));
  EXPECT_EQ((*f)[0].telemetry->at("pending"), 12);
  EXPECT_EQ((*f)[0].events, 1u);
}

TEST_F(HqStoreTest, OpenExistingRefusesAMissingFile) {
  auto s = HqStore::open_existing(dir_ / "nope.db", {});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, "db_missing");
}

TEST(StoredForm, IsTheMaskedRecordAndThePersonalFieldsAsTheDomWritesThem) {
  core::SplitMix64 random{7};
  auto records = make_records(1, 50, random);
  records[3].acceptance.evidence.push_back({});
  records[3].acceptance.evidence.back().kind = "camera";
  records[3].acceptance.evidence.back().path = "/var/lib/postgate/evidence/a \"b\".pge";
  records[4].acceptance.sender.name = "Tab\tand \x01";
  for (const auto& r : records) {
    const auto f = stored_form(r);
    EXPECT_EQ(f.body, codec::record_to_json(r, codec::Masking::masked).dump());
    json paths = json::array();
    for (const auto& e : r.acceptance.evidence) paths.push_back(e.path);
    const json personal = {{"name", r.acceptance.sender.name},
                           {"doc_number", r.acceptance.sender.number},
                           {"evidence_paths", paths}};
    EXPECT_EQ(f.personal, personal.dump());
    // Masked: neither the name nor the number is in the body.
    EXPECT_EQ(f.body.find(r.acceptance.sender.number), std::string::npos);
  }
}

}  // namespace
}  // namespace postgate::hq
