// The wire form the store keeps beside each record (schema v4): what the
// uplink sends without decoding and re-encoding, sealed like the personal
// fields, with the seq written in when read.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "codec/record_json.hpp"
#include "core/outbox.hpp"
#include "storage/sqlite_db.hpp"
#include "store_fixture.hpp"

namespace postgate::storage {
namespace {

using namespace testing;

constexpr std::size_t kBig = 1u << 30;

WireEncoder codec_encoder() {
  return [](const core::Record& r) -> core::Result<std::string> {
    return codec::record_to_json(r, codec::Masking::clear).dump();
  };
}

std::string expected_wire(SqliteRecordStore& store, std::uint64_t seq) {
  auto r = store.by_seq(seq);
  EXPECT_TRUE(r && *r);
  return r && *r ? codec::record_to_json(**r, codec::Masking::clear).dump() : "";
}

void exec(const fs::path& db, const std::string& q) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(h, q.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(h);
}

class WireForm : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteRecordStore> open(bool with_encoder) {
    StoreOptions o = options_in(dir_, test_key(1));
    if (with_encoder) o.wire_encoder = codec_encoder();
    return open_store(std::move(o));
  }
  void fill(SqliteRecordStore& store, int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(submit_sync(store, make_record(rng_, next_++)));
  }
  fs::path db() const { return dir_.path() / "records.db"; }
  TempDir dir_;
  core::SplitMix64 rng_{5};
  int next_ = 0;
};

TEST_F(WireForm, IsTheCodecTextWithTheRowsSeq) {
  auto store = open(true);
  fill(*store, 12);
  auto page = store->pending_wire_after(0, 100, kBig);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 12u);
  for (std::size_t i = 0; i < page->size(); ++i) {
    EXPECT_EQ((*page)[i].seq, i + 1);
    EXPECT_EQ((*page)[i].json, expected_wire(*store, i + 1));
  }
  // After an ack only the rest is pending, from the same stored text.
  ASSERT_TRUE(store->mark_delivered(10));
  page = store->pending_wire_after(0, 100, kBig);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ(page->front().seq, 11u);
  EXPECT_EQ(page->front().json, expected_wire(*store, 11));
}

TEST_F(WireForm, PagesAreBoundedByCountAndTextBytes) {
  auto store = open(true);
  fill(*store, 6);
  auto all = store->pending_wire_after(0, 100, kBig);
  ASSERT_TRUE(all);
  EXPECT_EQ(store->pending_wire_after(0, 4, kBig)->size(), 4u);
  const std::size_t two = (*all)[0].json.size() + (*all)[1].json.size();
  EXPECT_EQ(store->pending_wire_after(0, 100, two)->size(), 2u);
  EXPECT_EQ(store->pending_wire_after(0, 100, two - 1)->size(), 1u);
  EXPECT_EQ(store->pending_wire_after(0, 100, 1)->size(), 1u);  // at least one
  auto after = store->pending_wire_after(4, 100, kBig);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ(after->front().seq, 5u);
  EXPECT_TRUE(store->pending_wire_after(6, 100, kBig)->empty());
  EXPECT_TRUE(store->pending_wire_after(0, 0, kBig)->empty());
}

TEST_F(WireForm, RowsStoredWithoutItAreEncodedWhenRead) {
  {
    auto store = open(false);  // as rows written before schema v4
    fill(*store, 3);
    EXPECT_EQ(store->pending_wire_after(0, 10, kBig).error().code, "no_wire_encoder");
  }
  auto store = open(true);
  fill(*store, 2);
  auto page = store->pending_wire_after(0, 10, kBig);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 5u);
  for (std::size_t i = 0; i < page->size(); ++i)
    EXPECT_EQ((*page)[i].json, expected_wire(*store, i + 1));
}

TEST_F(WireForm, IsSealedAndBoundToItsRow) {
  std::string name;
  {
    auto store = open(true);
    core::Record r = make_record(rng_, next_++);
    name = r.acceptance.sender.name;
    ASSERT_TRUE(submit_sync(*store, r));
    fill(*store, 1);
  }
  // No clear personal data in the column.
  {
    auto store = open(true);
    auto page = store->pending_wire_after(0, 1, kBig);
    ASSERT_TRUE(page);
    ASSERT_NE(page->front().json.find(name), std::string::npos);
  }
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &h), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h, "SELECT wire FROM records WHERE seq = 1", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  const auto* b = static_cast<const char*>(sqlite3_column_blob(st, 0));
  const std::string blob(b, static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(h);
  EXPECT_EQ(blob.find(name), std::string::npos);

  // A wire form moved to another row does not open there.
  exec(db(), "UPDATE records SET wire = (SELECT wire FROM records WHERE seq = 1) WHERE seq = 2");
  {
    auto store = open(true);
    EXPECT_TRUE(store->pending_wire_after(0, 1, kBig));
    auto page = store->pending_wire_after(1, 1, kBig);
    ASSERT_FALSE(page);
    EXPECT_EQ(page.error().code, "sealed_auth");
  }
  // Nor does the personal blob put in its place.
  exec(db(), "UPDATE records SET wire = personal WHERE seq = 1");
  auto store = open(true);
  auto page = store->pending_wire_after(0, 1, kBig);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, "sealed_auth");
}

TEST_F(WireForm, AnEncoderWithoutATopLevelSeqIsRefusedAtSubmit) {
  StoreOptions o = options_in(dir_, test_key(1));
  o.wire_encoder = [](const core::Record&) -> core::Result<std::string> {
    return std::string(R"({"id":"x"})");
  };
  auto store = open_store(std::move(o));
  auto r = submit_sync(*store, make_record(rng_, 0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "wire_form");
  EXPECT_EQ(store->outbox_state()->last_seq, 0u);
}

}  // namespace
}  // namespace postgate::storage
