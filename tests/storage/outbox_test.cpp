// The outbox side of the store: paging pending records, acknowledgements,
// and purging delivered ones.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store_fixture.hpp"

namespace postgate::storage {
namespace {

using namespace testing;

std::vector<std::uint64_t> seqs(const std::vector<core::Record>& rs) {
  std::vector<std::uint64_t> out;
  for (const auto& r : rs) out.push_back(r.seq);
  return out;
}

class Outbox : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_store(options_in(dir_, test_key(1)));
    ASSERT_TRUE(store_);
  }
  void fill(int n) {
    for (int i = 0; i < n; ++i) {
      store_->submit(make_record(rng_, next_++), [](core::Result<SubmitOk> r) { EXPECT_TRUE(r); });
    }
    store_->flush();
  }
  TempDir dir_;
  core::SplitMix64 rng_{77};
  int next_ = 0;
  std::unique_ptr<SqliteRecordStore> store_;
};

constexpr std::size_t kBig = 1u << 30;

TEST_F(Outbox, PagesInSeqOrder) {
  fill(10);
  EXPECT_EQ(seqs(*store_->pending_after(0, 3, kBig)), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(seqs(*store_->pending_after(3, 100, kBig)),
            (std::vector<std::uint64_t>{4, 5, 6, 7, 8, 9, 10}));
  EXPECT_TRUE(store_->pending_after(10, 100, kBig)->empty());
  EXPECT_TRUE(store_->pending_after(0, 0, kBig)->empty());
  // Decrypted, like every read.
  auto page = store_->pending_after(0, 1, kBig);
  EXPECT_EQ(page->front().acceptance.sender.number.size(), 18u);
}

TEST_F(Outbox, ByteBudgetKeepsAtLeastOneRecord) {
  fill(10);
  auto one = store_->pending_after(0, 100, 1);
  ASSERT_TRUE(one);
  EXPECT_EQ(seqs(*one), (std::vector<std::uint64_t>{1}));
  // A budget of three and a half records' estimates holds three.
  std::vector<std::int64_t> sizes;
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(
        sqlite3_open_v2((dir_.path() / "records.db").c_str(), &h, SQLITE_OPEN_READONLY, nullptr),
        SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h, "SELECT payload_bytes FROM records ORDER BY seq LIMIT 4", -1, &st,
                       nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) sizes.push_back(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
  }
  ASSERT_EQ(sizes.size(), 4u);
  EXPECT_GT(sizes[0], 300);  // a plausible estimate of one record
  EXPECT_LT(sizes[0], 4000);
  const auto budget = static_cast<std::size_t>(sizes[0] + sizes[1] + sizes[2] + sizes[3] / 2);
  auto some = store_->pending_after(0, 100, budget);
  ASSERT_TRUE(some);
  EXPECT_EQ(seqs(*some), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(store_->pending_after(0, 100, budget + static_cast<std::size_t>(sizes[3]))->size(), 4u);
}

TEST_F(Outbox, MarkDeliveredIsIdempotentAndBounded) {
  fill(10);
  ASSERT_TRUE(store_->mark_delivered(4));
  auto st = store_->stats();
  EXPECT_EQ(st->delivered_upto, 4u);
  EXPECT_EQ(st->pending, 6u);
  EXPECT_EQ(st->records, 10u);
  ASSERT_TRUE(st->oldest_pending);
  EXPECT_EQ(*st->oldest_pending, base_time() + std::chrono::seconds(4));  // seq 5
  EXPECT_EQ(seqs(*store_->pending_after(0, 2, kBig)), (std::vector<std::uint64_t>{5, 6}));

  EXPECT_TRUE(store_->mark_delivered(4));  // again
  EXPECT_TRUE(store_->mark_delivered(2));  // older: no step back
  EXPECT_EQ(store_->stats()->delivered_upto, 4u);

  auto beyond = store_->mark_delivered(11);
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code, "ack_beyond_last");
  EXPECT_EQ(store_->stats()->delivered_upto, 4u);

  ASSERT_TRUE(store_->mark_delivered(10));
  st = store_->stats();
  EXPECT_EQ(st->pending, 0u);
  EXPECT_FALSE(st->oldest_pending);
  EXPECT_TRUE(store_->pending_after(0, 10, kBig)->empty());
}

TEST_F(Outbox, PurgeNeverTouchesPendingOrTheLastRow) {
  fill(10);  // accepted at base + 0..9 s
  ASSERT_TRUE(store_->mark_delivered(6));
  // Older than base+3s: seqs 1..3.
  EXPECT_EQ(*store_->purge_delivered(base_time() + std::chrono::seconds(3)), 3u);
  EXPECT_EQ(store_->stats()->records, 7u);
  // Everything is old now, but only delivered rows go: 4..6.
  EXPECT_EQ(*store_->purge_delivered(base_time() + std::chrono::hours(1)), 3u);
  auto st = store_->stats();
  EXPECT_EQ(st->records, 4u);
  EXPECT_EQ(st->pending, 4u);
  EXPECT_EQ(seqs(*store_->pending_after(0, 10, kBig)), (std::vector<std::uint64_t>{7, 8, 9, 10}));
  EXPECT_FALSE(store_->by_seq(6)->has_value());

  // All delivered: the row with the highest seq stays.
  ASSERT_TRUE(store_->mark_delivered(10));
  EXPECT_EQ(*store_->purge_delivered(base_time() + std::chrono::hours(1)), 3u);
  EXPECT_EQ(store_->stats()->records, 1u);
  EXPECT_TRUE(store_->by_seq(10)->has_value());
  EXPECT_EQ(*store_->purge_delivered(base_time() + std::chrono::hours(1)), 0u);  // idempotent

  auto next = submit_sync(*store_, make_record(rng_, next_++));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 11u);
}

TEST_F(Outbox, PurgeRunsInBatches) {
  const int n = static_cast<int>(SqliteRecordStore::kPurgeBatchRows) * 2 + 500;
  fill(n);
  ASSERT_TRUE(store_->mark_delivered(static_cast<std::uint64_t>(n)));
  // Submits keep flowing while the purge walks its batches.
  std::atomic<bool> stop{false};
  std::atomic<int> stored{0};
  std::thread submitter([&] {
    core::SplitMix64 rng(5);
    int i = 100000;
    while (!stop) {
      if (submit_sync(*store_, make_record(rng, i++))) ++stored;
    }
  });
  auto purged = store_->purge_delivered(base_time() + std::chrono::hours(24));
  stop = true;
  submitter.join();
  ASSERT_TRUE(purged);
  // Row n is spared only while it holds the highest seq, which depends on
  // whether a concurrent submit got in before the last batch.
  EXPECT_GE(*purged, static_cast<std::uint64_t>(n - 1));
  EXPECT_LE(*purged, static_cast<std::uint64_t>(n));
  auto st = store_->stats();
  EXPECT_EQ(st->records, static_cast<std::uint64_t>(n) - *purged + stored.load());
  EXPECT_EQ(st->last_seq, static_cast<std::uint64_t>(n + stored.load()));
}

TEST_F(Outbox, RecentIsNewestFirst) {
  fill(5);
  EXPECT_EQ(seqs(*store_->recent(3)), (std::vector<std::uint64_t>{5, 4, 3}));
  EXPECT_TRUE(store_->recent(0)->empty());
}

TEST_F(Outbox, ReadsFromManyThreads) {
  fill(50);
  std::vector<std::thread> readers;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!store_->stats() || !store_->recent(5) || !store_->pending_after(0, 5, kBig)) ++bad;
      }
    });
  fill(50);
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store_->stats()->records, 100u);
}

}  // namespace
}  // namespace postgate::storage
