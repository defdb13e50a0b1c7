#include "storage/record_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "store_fixture.hpp"

namespace postgate::storage {
namespace {

using namespace testing;

std::int64_t raw_query_int(const fs::path& db, const std::string& q) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(h, q.c_str(), -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

void expect_same(const core::Record& a, const core::Record& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.accepted_at, b.accepted_at);
  const auto &x = a.acceptance, &y = b.acceptance;
  EXPECT_EQ(x.ref, y.ref);
  EXPECT_EQ(x.counter, y.counter);
  EXPECT_EQ(x.operator_id, y.operator_id);
  EXPECT_EQ(x.sender.type, y.sender.type);
  EXPECT_EQ(x.sender.number, y.sender.number);
  EXPECT_EQ(x.sender.name, y.sender.name);
  EXPECT_EQ(x.sender.birth_date, y.sender.birth_date);
  EXPECT_EQ(x.sender.sex, y.sender.sex);
  EXPECT_EQ(x.sender.nationality, y.sender.nationality);
  EXPECT_EQ(x.sender.valid_to, y.sender.valid_to);
  ASSERT_EQ(x.waybills.size(), y.waybills.size());
  for (std::size_t i = 0; i < x.waybills.size(); ++i) {
    EXPECT_EQ(x.waybills[i].number, y.waybills[i].number);
    EXPECT_EQ(x.waybills[i].carrier, y.waybills[i].carrier);
  }
  EXPECT_EQ(x.declared, y.declared);
  EXPECT_EQ(x.inspection.outcome, y.inspection.outcome);
  EXPECT_EQ(x.inspection.refuse_category, y.inspection.refuse_category);
  EXPECT_EQ(x.inspection.restricted_confirmed, y.inspection.restricted_confirmed);
  EXPECT_EQ(x.inspection.note, y.inspection.note);
  EXPECT_EQ(x.screening_hits, y.screening_hits);
  ASSERT_EQ(x.evidence.size(), y.evidence.size());
  for (std::size_t i = 0; i < x.evidence.size(); ++i) {
    EXPECT_EQ(x.evidence[i].kind, y.evidence[i].kind);
    EXPECT_EQ(x.evidence[i].source, y.evidence[i].source);
    EXPECT_EQ(x.evidence[i].path, y.evidence[i].path);
    EXPECT_EQ(x.evidence[i].sha256, y.evidence[i].sha256);
    EXPECT_EQ(x.evidence[i].size, y.evidence[i].size);
    EXPECT_EQ(x.evidence[i].captured_at, y.evidence[i].captured_at);
  }
}

TEST(RecordStore, FactoryOpensSqliteStore) {
  TempDir dir;
  auto s = RecordStore::open(options_in(dir, test_key(1)));
  ASSERT_TRUE(s) << s.error().message;
  auto st = (*s)->stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->records, 0u);
  EXPECT_EQ(st->last_seq, 0u);
  EXPECT_EQ(st->health, Health::ok);
  EXPECT_GT(st->file_bytes, 0u);
  EXPECT_EQ(to_string(Health::disk_full), "disk_full");
}

TEST(RecordStore, RefusesMissingKey) {
  TempDir dir;
  StoreOptions o = options_in(dir, test_key(1));
  o.keys = KeyRing{};
  EXPECT_EQ(RecordStore::open(o).error().code, "key_missing");
  o.keys = ring_of(test_key(1));
  o.keys.current.id ^= 1;
  EXPECT_EQ(RecordStore::open(o).error().code, "key_id_mismatch");
}

TEST(RecordStore, RoundTripEncryptsPersonalFields) {
  TempDir dir;
  core::SplitMix64 rng(42);
  const core::Record in = make_record(rng, 0, "pos-1");
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  auto ok = submit_sync(*store, in);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->seq, 1u);
  EXPECT_EQ(ok->id, in.id);
  EXPECT_EQ(ok->accepted_at, in.accepted_at);
  EXPECT_FALSE(ok->duplicate);

  core::Record expected = in;
  expected.seq = 1;
  auto got = store->by_seq(1);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->has_value());
  expect_same(**got, expected);
  auto recent = store->recent(10);
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 1u);
  expect_same(recent->front(), expected);
  EXPECT_FALSE(store->by_seq(2)->has_value());

  // Neither the database nor its WAL holds the name, the number or the
  // evidence path in clear; the masked forms are there for display.
  const fs::path db = dir.path() / "records.db";
  auto plain_absent = [&](const std::string& bytes) {
    EXPECT_EQ(bytes.find(in.acceptance.sender.name), std::string::npos);
    EXPECT_EQ(bytes.find(in.acceptance.sender.number), std::string::npos);
    EXPECT_EQ(bytes.find(in.acceptance.evidence[0].path), std::string::npos);
  };
  const std::string live = read_all(db) + read_all(db.string() + "-wal");
  plain_absent(live);
  EXPECT_NE(live.find(core::mask_number(in.acceptance.sender.type, in.acceptance.sender.number)),
            std::string::npos);
  EXPECT_NE(live.find(in.acceptance.waybills[0].number), std::string::npos);
  store.reset();
  plain_absent(read_all(db) + read_all(db.string() + "-wal"));
}

TEST(RecordStore, PublishedExampleNumbersRoundTrip) {
  TempDir dir;
  core::SplitMix64 rng(1);
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  const char* numbers[] = {"11010519491231002X", "440524188001010014"};
  for (int i = 0; i < 2; ++i) {
    core::Record r = make_record(rng, i);
    r.acceptance.sender.number = numbers[i];
    r.acceptance.sender.birth_date.reset();
    r.acceptance.sender.sex.reset();
    r.acceptance.sender.nationality.reset();
    r.acceptance.evidence.clear();
    r.acceptance.screening_hits.clear();
    ASSERT_TRUE(submit_sync(*store, r));
    auto got = store->by_seq(static_cast<std::uint64_t>(i + 1));
    ASSERT_TRUE(got && got->has_value());
    r.seq = static_cast<std::uint64_t>(i + 1);
    expect_same(**got, r);
  }
}

TEST(RecordStore, DuplicateRefAnswersTheFirstRecord) {
  TempDir dir;
  core::SplitMix64 rng(7);
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  const core::Record first = make_record(rng, 0, "pos-7781");
  auto a = submit_sync(*store, first);
  ASSERT_TRUE(a);
  auto other = submit_sync(*store, make_record(rng, 1));  // no ref: never a duplicate
  ASSERT_TRUE(other);
  auto again = submit_sync(*store, make_record(rng, 2, "pos-7781"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->id, first.id);
  EXPECT_EQ(again->seq, 1u);
  EXPECT_EQ(again->accepted_at, first.accepted_at);
  auto next = submit_sync(*store, make_record(rng, 3));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 3u);  // the duplicate used no seq
  EXPECT_EQ(store->stats()->records, 3u);
}

TEST(RecordStore, DuplicateRefWithinOneBatch) {
  TempDir dir;
  core::SplitMix64 rng(8);
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  // Hold the writer inside a callback so the next submits queue up and are
  // taken as one batch.
  std::promise<void> entered, release;
  auto release_f = release.get_future().share();
  store->submit(make_record(rng, 0), [&](core::Result<SubmitOk>) {
    entered.set_value();
    release_f.wait();
  });
  entered.get_future().wait();
  const std::uint64_t batches_before = store->batches_committed();
  std::vector<core::Result<SubmitOk>> answers(4, SubmitOk{});
  std::vector<core::Record> recs = {make_record(rng, 1, "dup"), make_record(rng, 2, "dup"),
                                    make_record(rng, 3), make_record(rng, 4, "dup")};
  for (std::size_t i = 0; i < recs.size(); ++i)
    store->submit(recs[i], [&answers, i](core::Result<SubmitOk> r) { answers[i] = std::move(r); });
  release.set_value();
  store->flush();
  EXPECT_EQ(store->batches_committed(), batches_before + 1);
  ASSERT_TRUE(answers[0] && answers[1] && answers[2] && answers[3]);
  EXPECT_FALSE(answers[0]->duplicate);
  EXPECT_EQ(answers[0]->seq, 2u);
  EXPECT_TRUE(answers[1]->duplicate);
  EXPECT_EQ(answers[1]->seq, 2u);
  EXPECT_EQ(answers[1]->id, recs[0].id);
  EXPECT_EQ(answers[2]->seq, 3u);
  EXPECT_TRUE(answers[3]->duplicate);
  EXPECT_EQ(answers[3]->id, recs[0].id);
  EXPECT_EQ(answers[3]->accepted_at, recs[0].accepted_at);
  EXPECT_EQ(store->stats()->last_seq, 3u);
}

TEST(RecordStore, DuplicateIdFailsWithoutUsingSeq) {
  TempDir dir;
  core::SplitMix64 rng(9);
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  const core::Record r = make_record(rng, 0);
  ASSERT_TRUE(submit_sync(*store, r));
  auto again = submit_sync(*store, r);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "duplicate_id");
  EXPECT_EQ(submit_sync(*store, make_record(rng, 1))->seq, 2u);
}

TEST(RecordStore, InvalidUtf8IsRefusedAndUsesNoSeq) {
  TempDir dir;
  core::SplitMix64 rng(10);
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  core::Record bad = make_record(rng, 0);
  bad.acceptance.declared = "\xff\xfe";
  auto r = submit_sync(*store, bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid_text");
  EXPECT_EQ(submit_sync(*store, make_record(rng, 1))->seq, 1u);
}

TEST(RecordStore, ReopenKeepsSeq) {
  TempDir dir;
  core::SplitMix64 rng(11);
  {
    auto store = open_store(options_in(dir, test_key(1)));
    ASSERT_TRUE(store);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(submit_sync(*store, make_record(rng, i)));
  }
  {
    auto store = open_store(options_in(dir, test_key(1)));
    ASSERT_TRUE(store);
    EXPECT_EQ(store->stats()->last_seq, 5u);
    EXPECT_EQ(submit_sync(*store, make_record(rng, 5))->seq, 6u);
  }
  // Even with every row gone, seq continues from the kept counter.
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / "records.db").c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "DELETE FROM records", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
    auto store = open_store(options_in(dir, test_key(1)));
    ASSERT_TRUE(store);
    EXPECT_EQ(submit_sync(*store, make_record(rng, 6))->seq, 7u);
  }
}

TEST(RecordStore, DestructorAnswersEverythingQueued) {
  TempDir dir;
  core::SplitMix64 rng(12);
  std::atomic<int> answered{0};
  {
    auto store = open_store(options_in(dir, test_key(1)));
    ASSERT_TRUE(store);
    for (int i = 0; i < 300; ++i)
      store->submit(make_record(rng, i), [&](core::Result<SubmitOk> r) {
        EXPECT_TRUE(r);
        ++answered;
      });
  }
  EXPECT_EQ(answered.load(), 300);
  auto store = open_store(options_in(dir, test_key(1)));
  EXPECT_EQ(store->stats()->last_seq, 300u);
}

TEST(RecordStore, ThrowingCallbackDoesNotStopTheWriter) {
  TempDir dir;
  core::SplitMix64 rng(13);
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  store->submit(make_record(rng, 0), [](core::Result<SubmitOk>) { throw std::runtime_error("x"); });
  EXPECT_EQ(submit_sync(*store, make_record(rng, 1))->seq, 2u);
}

TEST(RecordStore, CallbackMayCallBackIntoTheStore) {
  TempDir dir;
  core::SplitMix64 rng(14);
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  std::promise<bool> done;
  store->submit(make_record(rng, 0), [&](core::Result<SubmitOk> r) {
    store->flush();  // must not wait for itself
    const bool marked = store->mark_delivered(r->seq).has_value();
    auto st = store->stats();
    done.set_value(marked && st && st->delivered_upto == 1);
  });
  EXPECT_TRUE(done.get_future().get());
}

TEST(RecordStore, SeqGaplessUnderConcurrentSubmitters) {
  TempDir dir;
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  constexpr int kThreads = 8, kPerThread = 500;
  std::mutex mu;
  std::map<std::uint64_t, std::string> seq_to_id;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      core::SplitMix64 rng(1000 + static_cast<std::uint64_t>(t));
      for (int i = 0; i < kPerThread; ++i) {
        const core::Record r =
            make_record(rng, i, "t" + std::to_string(t) + "-" + std::to_string(i));
        auto ok = submit_sync(*store, r);
        if (!ok || ok->duplicate || ok->id != r.id) {
          ++failures;
          continue;
        }
        std::lock_guard lk(mu);
        if (!seq_to_id.emplace(ok->seq, r.id.str()).second) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  constexpr std::uint64_t kTotal = kThreads * kPerThread;
  ASSERT_EQ(seq_to_id.size(), kTotal);
  EXPECT_EQ(seq_to_id.begin()->first, 1u);
  EXPECT_EQ(seq_to_id.rbegin()->first, kTotal);
  auto st = store->stats();
  EXPECT_EQ(st->last_seq, kTotal);
  EXPECT_EQ(st->records, kTotal);
  // Concurrent submits shared transactions (and so fsyncs).
  EXPECT_LT(store->batches_committed(), kTotal);
  for (std::uint64_t seq : {1ull, 1234ull, 4000ull}) {
    auto r = store->by_seq(seq);
    ASSERT_TRUE(r && r->has_value());
    EXPECT_EQ((*r)->id.str(), seq_to_id[seq]);
  }
  std::printf("[          ] %llu records in %llu transactions\n",
              static_cast<unsigned long long>(kTotal),
              static_cast<unsigned long long>(store->batches_committed()));
}

TEST(RecordStore, KeyRotationReadsOldAndNewRows) {
  TempDir dir;
  core::SplitMix64 rng(15);
  const Key a = test_key(1), b = test_key(2);
  std::vector<core::Record> written;
  {
    auto store = open_store(options_in(dir, a));
    ASSERT_TRUE(store);
    for (int i = 0; i < 3; ++i) {
      written.push_back(make_record(rng, i));
      ASSERT_TRUE(submit_sync(*store, written.back()));
    }
  }
  StoreOptions rotated = options_in(dir, b);
  rotated.keys.previous.push_back(a);
  {
    auto store = open_store(rotated);
    ASSERT_TRUE(store);
    for (int i = 3; i < 6; ++i) {
      written.push_back(make_record(rng, i));
      ASSERT_TRUE(submit_sync(*store, written.back()));
    }
    auto all = store->recent(10);
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all->size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) {
      core::Record expected = written[5 - i];
      expected.seq = 6 - i;
      expect_same((*all)[i], expected);
    }
  }
  const fs::path db = dir.path() / "records.db";
  EXPECT_EQ(raw_query_int(db, "SELECT count(DISTINCT key_id) FROM records"), 2);
  EXPECT_EQ(
      raw_query_int(db, "SELECT count(*) FROM records WHERE key_id = " + std::to_string(b.id)), 3);
  // Without key A the old rows could not be read or delivered: refuse to start.
  auto without_a = RecordStore::open(options_in(dir, b));
  ASSERT_FALSE(without_a);
  EXPECT_EQ(without_a.error().code, "key_unknown");
  EXPECT_NE(without_a.error().message.find(key_id_hex(a.id)), std::string::npos);
}

}  // namespace
}  // namespace postgate::storage
