// The store as the uplink sees it: core::RecordOutbox and core::EventOutbox
// through base-class pointers, the durable event queue, and the v1 -> v2
// schema migration that added it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <set>
#include <thread>

#include "core/outbox.hpp"
#include "storage/row_codec.hpp"
#include "storage/sql.hpp"
#include "storage/sqlite_db.hpp"
#include "store_fixture.hpp"

namespace postgate::storage {
namespace {

using namespace testing;

constexpr std::size_t kBig = 1u << 30;

std::vector<std::uint64_t> seqs_of(const std::vector<core::Record>& rs) {
  std::vector<std::uint64_t> out;
  for (const auto& r : rs) out.push_back(r.seq);
  return out;
}

std::vector<std::uint64_t> seqs_of(const std::vector<core::Event>& es) {
  std::vector<std::uint64_t> out;
  for (const auto& e : es) out.push_back(e.seq);
  return out;
}

// Runs one query returning one integer on a separate connection.
std::int64_t query_int(const fs::path& db, const std::string& q) {
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

// "type name sql" of every schema object, sorted by name.
std::vector<std::string> schema_of(const fs::path& db) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::vector<std::string> out;
  if (sqlite3_prepare_v2(
          h,
          "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master "
          "ORDER BY name",
          -1, &st, nullptr) == SQLITE_OK)
    while (sqlite3_step(st) == SQLITE_ROW)
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

class Ports : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    store_.reset();
    store_ = open_store(options_in(dir_, test_key(1)));
    ASSERT_TRUE(store_);
  }
  void fill(int n) {
    for (int i = 0; i < n; ++i)
      store_->submit(make_record(rng_, next_++), [](core::Result<SubmitOk> r) { EXPECT_TRUE(r); });
    store_->flush();
  }
  core::Event event(int i, std::optional<std::uint64_t> record_seq = std::nullopt) {
    core::Event e;
    e.at = base_time() + std::chrono::seconds(i);
    e.id = core::make_uuid_v7(e.at, rng_);
    e.kind = "prohibited_item";
    e.severity = "alert";
    e.message = "counter c1: prohibited item, sender 张* 110105********002X #" + std::to_string(i);
    e.record_seq = record_seq;
    return e;
  }
  TempDir dir_;
  core::SplitMix64 rng_{91};
  int next_ = 0;
  std::unique_ptr<SqliteRecordStore> store_;
};

TEST_F(Ports, WorkThroughBaseClassPointers) {
  fill(5);
  core::RecordOutbox* records = store_.get();
  core::EventOutbox* events = store_.get();

  auto page = records->pending_after(0, 3, kBig);
  ASSERT_TRUE(page);
  EXPECT_EQ(seqs_of(*page), (std::vector<std::uint64_t>{1, 2, 3}));
  ASSERT_TRUE(records->mark_delivered(3));
  EXPECT_EQ(records->mark_delivered(6).error().code, "ack_beyond_last");
  auto st = records->outbox_state();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->last_seq, 5u);
  EXPECT_EQ(st->delivered_upto, 3u);
  EXPECT_EQ(st->pending, 2u);

  auto s1 = events->add_event(event(0, 4));
  auto s2 = events->add_event(event(1));
  ASSERT_TRUE(s1);
  ASSERT_TRUE(s2);
  EXPECT_EQ(*s1, 1u);
  EXPECT_EQ(*s2, 2u);
  auto evs = events->events_after(0, 10);
  ASSERT_TRUE(evs);
  EXPECT_EQ(seqs_of(*evs), (std::vector<std::uint64_t>{1, 2}));
  ASSERT_TRUE(events->mark_events_sent(1));
  EXPECT_EQ(seqs_of(*events->events_after(0, 10)), (std::vector<std::uint64_t>{2}));

  // The factory's RecordStore converts to both ports as well.
  store_.reset();
  auto generic = RecordStore::open(options_in(dir_, test_key(1)));
  ASSERT_TRUE(generic);
  core::RecordOutbox& r2 = **generic;
  core::EventOutbox& e2 = **generic;
  EXPECT_EQ(r2.outbox_state()->pending, 2u);
  EXPECT_EQ(seqs_of(*e2.events_after(0, 10)), (std::vector<std::uint64_t>{2}));
}

TEST_F(Ports, OutboxStateFollowsSubmitMarkAndPurge) {
  auto st = store_->outbox_state();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->last_seq, 0u);
  EXPECT_EQ(st->delivered_upto, 0u);
  EXPECT_EQ(st->pending, 0u);
  EXPECT_FALSE(st->oldest_pending);

  fill(10);  // accepted at base + 0..9 s
  st = store_->outbox_state();
  EXPECT_EQ(st->last_seq, 10u);
  EXPECT_EQ(st->pending, 10u);
  EXPECT_EQ(st->oldest_pending, base_time());

  ASSERT_TRUE(store_->mark_delivered(4));
  st = store_->outbox_state();
  EXPECT_EQ(st->delivered_upto, 4u);
  EXPECT_EQ(st->pending, 6u);
  EXPECT_EQ(st->oldest_pending, base_time() + std::chrono::seconds(4));  // seq 5

  // Agrees with the full stats.
  auto full = store_->stats();
  EXPECT_EQ(full->last_seq, st->last_seq);
  EXPECT_EQ(full->delivered_upto, st->delivered_upto);
  EXPECT_EQ(full->pending, st->pending);
  EXPECT_EQ(full->oldest_pending, st->oldest_pending);

  // A purge removes delivered rows only; the figures stay.
  EXPECT_EQ(*store_->purge_delivered(base_time() + std::chrono::hours(1)), 4u);
  st = store_->outbox_state();
  EXPECT_EQ(st->last_seq, 10u);
  EXPECT_EQ(st->pending, 6u);
  EXPECT_EQ(st->oldest_pending, base_time() + std::chrono::seconds(4));

  ASSERT_TRUE(store_->mark_delivered(10));
  EXPECT_EQ(*store_->purge_delivered(base_time() + std::chrono::hours(1)), 5u);
  st = store_->outbox_state();
  EXPECT_EQ(st->last_seq, 10u);
  EXPECT_EQ(st->delivered_upto, 10u);
  EXPECT_EQ(st->pending, 0u);
  EXPECT_FALSE(st->oldest_pending);

  reopen();
  st = store_->outbox_state();
  EXPECT_EQ(st->last_seq, 10u);
  EXPECT_EQ(st->delivered_upto, 10u);
}

TEST_F(Ports, OutboxStateFromManyThreadsWhileSubmitting) {
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&] {
      std::uint64_t prev = 0;
      for (int i = 0; i < 200; ++i) {
        auto st = store_->outbox_state();
        if (!st || st->last_seq < prev || st->pending != st->last_seq - st->delivered_upto) ++bad;
        if (st) prev = st->last_seq;
      }
    });
  fill(100);
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store_->outbox_state()->last_seq, 100u);
}

TEST_F(Ports, EventsSurviveReopenWithEveryField) {
  const core::Event a = event(1, 7);
  const core::Event b = event(2);
  ASSERT_EQ(*store_->add_event(a), 1u);
  ASSERT_EQ(*store_->add_event(b), 2u);
  reopen();
  auto evs = store_->events_after(0, 10);
  ASSERT_TRUE(evs);
  ASSERT_EQ(evs->size(), 2u);
  const core::Event& x = (*evs)[0];
  EXPECT_EQ(x.seq, 1u);
  EXPECT_EQ(x.id, a.id);
  EXPECT_EQ(x.at, a.at);
  EXPECT_EQ(x.kind, a.kind);
  EXPECT_EQ(x.severity, a.severity);
  EXPECT_EQ(x.message, a.message);
  EXPECT_EQ(x.record_seq, std::optional<std::uint64_t>(7));
  EXPECT_EQ((*evs)[1].id, b.id);
  EXPECT_FALSE((*evs)[1].record_seq);
  EXPECT_EQ(*store_->add_event(event(3)), 3u);
}

TEST_F(Ports, EventsComeInSeqOrderAndBounded) {
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(*store_->add_event(event(i)), static_cast<std::uint64_t>(i + 1));
  EXPECT_EQ(seqs_of(*store_->events_after(0, 2)), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(seqs_of(*store_->events_after(2, 10)), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_TRUE(store_->events_after(5, 10)->empty());
  EXPECT_TRUE(store_->events_after(0, 0)->empty());
}

TEST_F(Ports, MarkEventsSentIsIdempotentBoundedAndDurable) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->add_event(event(i)));
  ASSERT_TRUE(store_->mark_events_sent(3));
  EXPECT_EQ(seqs_of(*store_->events_after(0, 10)), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_TRUE(store_->mark_events_sent(3));
  EXPECT_TRUE(store_->mark_events_sent(1));
  EXPECT_TRUE(store_->mark_events_sent(0));
  EXPECT_EQ(seqs_of(*store_->events_after(0, 10)), (std::vector<std::uint64_t>{4, 5}));
  auto beyond = store_->mark_events_sent(6);
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code, "ack_beyond_last");
  EXPECT_EQ(seqs_of(*store_->events_after(0, 10)), (std::vector<std::uint64_t>{4, 5}));
  // After a restart the uplink starts from 0 and gets only what is unsent.
  reopen();
  EXPECT_EQ(seqs_of(*store_->events_after(0, 10)), (std::vector<std::uint64_t>{4, 5}));
  ASSERT_TRUE(store_->mark_events_sent(5));
  EXPECT_TRUE(store_->events_after(0, 10)->empty());
}

TEST_F(Ports, SameEventIdIsStoredOnce) {
  const core::Event e = event(1);
  ASSERT_EQ(*store_->add_event(e), 1u);
  core::Event again = e;
  again.message = "a retry";
  EXPECT_EQ(*store_->add_event(again), 1u);
  EXPECT_EQ(*store_->add_event(event(2)), 2u);
  auto evs = store_->events_after(0, 10);
  ASSERT_EQ(evs->size(), 2u);
  EXPECT_EQ((*evs)[0].message, e.message);
}

TEST_F(Ports, InvalidEventsAreRefusedAndUseNoSeq) {
  auto refused = [&](core::Event e, const char* field) {
    auto r = store_->add_event(std::move(e));
    ASSERT_FALSE(r) << field;
    EXPECT_EQ(r.error().code, "invalid_event");
    EXPECT_EQ(r.error().field, field);
  };
  core::Event e = event(1);
  e.id = core::Uuid{};
  refused(e, "id");
  e = event(1);
  e.kind.clear();
  refused(e, "kind");
  e = event(1);
  e.severity.clear();
  refused(e, "severity");
  e = event(1);
  e.message = "bad \xff byte";
  refused(e, "message");
  e = event(1);
  e.message.assign(RecordStore::kMaxEventMessageBytes + 1, 'x');
  refused(e, "message");
  e = event(1);
  e.message.assign(RecordStore::kMaxEventMessageBytes, 'x');
  EXPECT_EQ(*store_->add_event(e), 1u);
}

TEST_F(Ports, PurgeDropsOldSentEventsOnlyAndSeqIsNeverReused) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store_->add_event(event(i)));  // at base + 0..3 s
  ASSERT_TRUE(store_->mark_events_sent(3));
  const fs::path db = dir_.path() / "records.db";
  // Sent and older than base + 2 s: seqs 1 and 2.
  ASSERT_TRUE(store_->purge_delivered(base_time() + std::chrono::seconds(2)));
  EXPECT_EQ(query_int(db, "SELECT group_concat(seq) IS '3,4' FROM events"), 1);
  // Everything old: 3 goes, 4 is unsent and stays.
  ASSERT_TRUE(store_->purge_delivered(base_time() + std::chrono::hours(1)));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM events"), 1);
  EXPECT_EQ(seqs_of(*store_->events_after(0, 10)), (std::vector<std::uint64_t>{4}));
  ASSERT_TRUE(store_->mark_events_sent(4));
  ASSERT_TRUE(store_->purge_delivered(base_time() + std::chrono::hours(1)));
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM events"), 0);
  // An empty table does not bring seq back, neither now nor after a restart.
  EXPECT_EQ(*store_->add_event(event(5)), 5u);
  reopen();
  EXPECT_EQ(*store_->add_event(event(6)), 6u);
  EXPECT_EQ(store_->mark_events_sent(7).error().code, "ack_beyond_last");
}

TEST_F(Ports, EventPurgeRunsInBatches) {
  // Events are written straight into the file: one fsync each through the
  // store would make this test slow.
  store_.reset();
  const fs::path path = dir_.path() / "records.db";
  const int n = static_cast<int>(SqliteRecordStore::kPurgeBatchRows) * 2 + 300;
  {
    auto db = Db::open(path, std::chrono::milliseconds(1000));
    ASSERT_TRUE(db);
    ASSERT_EQ(db->exec("BEGIN"), SQLITE_OK);
    auto ins = db->prepare(sql::kInsertEvent);
    ASSERT_TRUE(ins);
    for (int i = 1; i <= n; ++i) {
      ins->bind(1, std::int64_t{i});
      ins->bind(2, std::string_view(event(i).id.str()));
      ins->bind(3, to_unix_ms(base_time()));
      ins->bind(4, std::string_view("device_gone"));
      ins->bind(5, std::string_view("warning"));
      ins->bind(6, std::string_view("scanner 2 gone"));
      ins->bind_null(7);
      ASSERT_EQ(ins->step(), SQLITE_DONE);
      ins->reset();
    }
    ASSERT_EQ(db->exec("UPDATE meta SET value = " + std::to_string(n) +
                       " WHERE key = 'last_event_seq'; COMMIT"),
              SQLITE_OK);
  }
  reopen();
  ASSERT_TRUE(store_->mark_events_sent(static_cast<std::uint64_t>(n - 1)));
  ASSERT_TRUE(store_->purge_delivered(base_time() + std::chrono::hours(1)));
  EXPECT_EQ(query_int(path, "SELECT count(*) FROM events"), 1);
  EXPECT_EQ(seqs_of(*store_->events_after(0, 10)),
            (std::vector<std::uint64_t>{static_cast<std::uint64_t>(n)}));
}

TEST_F(Ports, EventsFromManyThreadsKeepRecordGroupCommit) {
  std::atomic<int> bad{0};
  std::vector<std::thread> adders;
  std::mutex mu;
  std::set<std::uint64_t> event_seqs;
  for (int t = 0; t < 3; ++t)
    adders.emplace_back([&, t] {
      core::SplitMix64 rng(1000 + static_cast<std::uint64_t>(t));
      for (int i = 0; i < 15; ++i) {
        core::Event e;
        e.at = base_time() + std::chrono::seconds(i);
        e.id = core::make_uuid_v7(e.at, rng);
        e.kind = "storage_error";
        e.severity = "warning";
        auto s = store_->add_event(e);
        if (!s) {
          ++bad;
          continue;
        }
        std::lock_guard lk(mu);
        event_seqs.insert(*s);
      }
    });
  // Meanwhile records, pipelined, and one event added from a submit callback
  // (runs inline on the writer).
  std::atomic<std::uint64_t> from_callback{0};
  core::Event cb_event = event(99, 1);
  for (int i = 0; i < 200; ++i)
    store_->submit(make_record(rng_, next_++), [&, i](core::Result<SubmitOk> r) {
      if (!r) ++bad;
      if (i == 0) {
        auto s = store_->add_event(cb_event);
        if (s) from_callback = *s;
      }
    });
  store_->flush();
  for (auto& a : adders) a.join();
  EXPECT_EQ(bad.load(), 0);
  ASSERT_NE(from_callback.load(), 0u);
  event_seqs.insert(from_callback.load());
  EXPECT_EQ(event_seqs.size(), 46u);
  EXPECT_EQ(*event_seqs.begin(), 1u);
  EXPECT_EQ(*event_seqs.rbegin(), 46u);
  EXPECT_EQ(store_->outbox_state()->last_seq, 200u);
  // Records still share transactions.
  EXPECT_LT(store_->batches_committed(), 200u);
}

// A v1 file as the v1 code wrote it: the v1 migration text, then rows.
void write_v1_file(const fs::path& path, const KeyRing& ring, core::RandomSource& rng,
                   const std::vector<int>& seqs, std::int64_t last_seq,
                   std::int64_t delivered_upto) {
  auto db = Db::open(path, std::chrono::milliseconds(1000));
  ASSERT_TRUE(db);
  ASSERT_EQ(db->exec("PRAGMA journal_mode=WAL"), SQLITE_OK);
  ASSERT_EQ(db->exec("BEGIN"), SQLITE_OK);
  ASSERT_EQ(db->exec(sql::kMigrations[0]), SQLITE_OK);
  ASSERT_EQ(db->exec("PRAGMA user_version = 1"), SQLITE_OK);
  // The insert of the v1 code (today's has more columns).
  auto ins = db->prepare(
      "INSERT INTO records (seq, id, ref, accepted_at, counter, operator_id, doc_type, "
      "name_masked, number_masked, body, personal, key_id, payload_bytes) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  ASSERT_TRUE(ins);
  for (int seq : seqs) {
    core::Record r = make_record(rng, seq, "ref-" + std::to_string(seq));
    auto row = encode_row(r, ring);
    ASSERT_TRUE(row);
    ins->bind(1, std::int64_t{seq});
    ins->bind(2, std::string_view(row->id));
    ins->bind(3, row->ref);
    ins->bind(4, row->accepted_at_ms);
    ins->bind(5, std::string_view(row->counter));
    ins->bind(6, std::string_view(row->operator_id));
    ins->bind(7, std::string_view(row->doc_type));
    ins->bind(8, std::string_view(row->name_masked));
    ins->bind(9, std::string_view(row->number_masked));
    ins->bind(10, std::string_view(row->body));
    ins->bind_blob(11, row->personal);
    ins->bind(12, static_cast<std::int64_t>(row->key_id));
    ins->bind(13, row->payload_bytes);
    ASSERT_EQ(ins->step(), SQLITE_DONE);
    ins->reset();
  }
  ASSERT_EQ(db->exec("UPDATE meta SET value = " + std::to_string(last_seq) +
                     " WHERE key = 'last_seq'; UPDATE meta SET value = " +
                     std::to_string(delivered_upto) + " WHERE key = 'delivered_upto'; COMMIT"),
            SQLITE_OK);
}

TEST(Migration, V1FileKeepsRecordsAndSeq) {
  TempDir dir;
  StoreOptions o = options_in(dir, test_key(1));
  core::SplitMix64 rng(17);
  // Seqs 1 and 2 were delivered and purged by the v1 code.
  write_v1_file(o.path, o.keys, rng, {3, 4, 5}, 5, 2);
  if (HasFatalFailure()) return;
  ASSERT_EQ(query_int(o.path, "PRAGMA user_version"), 1);

  {
    auto store = open_store(o);
    ASSERT_TRUE(store);
    EXPECT_EQ(query_int(o.path, "PRAGMA user_version"), sql::kSchemaVersion);
    auto st = store->outbox_state();
    EXPECT_EQ(st->last_seq, 5u);
    EXPECT_EQ(st->delivered_upto, 2u);
    EXPECT_EQ(st->pending, 3u);
    EXPECT_EQ(st->oldest_pending, base_time() + std::chrono::seconds(3));
    EXPECT_EQ(store->stats()->records, 3u);
    auto page = store->pending_after(0, 10, kBig);
    ASSERT_TRUE(page);
    EXPECT_EQ(seqs_of(*page), (std::vector<std::uint64_t>{3, 4, 5}));
    EXPECT_EQ(page->front().acceptance.ref, std::optional<std::string>("ref-3"));
    EXPECT_EQ(page->front().acceptance.sender.number.size(), 18u);  // decrypted

    // seq carries on; a ref stored under v1 is still a duplicate.
    EXPECT_EQ(submit_sync(*store, make_record(rng, 6))->seq, 6u);
    auto dup = submit_sync(*store, make_record(rng, 7, "ref-4"));
    ASSERT_TRUE(dup);
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->seq, 4u);

    core::Event e;
    e.at = base_time();
    e.id = core::make_uuid_v7(e.at, rng);
    e.kind = "device_gone";
    e.severity = "warning";
    EXPECT_EQ(*store->add_event(e), 1u);
  }

  // The migrated file has exactly the schema of a fresh one.
  TempDir fresh_dir;
  StoreOptions f = options_in(fresh_dir, test_key(1));
  ASSERT_TRUE(open_store(f));
  EXPECT_EQ(schema_of(o.path), schema_of(f.path));

  auto again = open_store(o);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outbox_state()->last_seq, 6u);
  EXPECT_EQ(again->events_after(0, 10)->size(), 1u);
}

}  // namespace
}  // namespace postgate::storage
