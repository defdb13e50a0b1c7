// Corrupt files, full disks and schema versions.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "storage/sql.hpp"
#include "store_fixture.hpp"

namespace postgate::storage {
namespace {

using namespace testing;

std::int64_t user_version(const fs::path& db) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Quarantine, NotADatabaseIsMovedAsideWithItsWal) {
  TempDir dir;
  StoreOptions o = options_in(dir, test_key(1));
  FixedClock clock(base_time() + std::chrono::minutes(15) + std::chrono::seconds(30));
  o.clock = &clock;
  std::ofstream(o.path, std::ios::binary) << std::string(8192, 'x');
  std::ofstream(o.path.string() + "-wal", std::ios::binary) << "stale wal";
  auto s = RecordStore::open(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, "storage_corrupt");
  const fs::path moved = o.quarantine_dir / "records.20261123T081530Z.db";
  EXPECT_NE(s.error().message.find(moved.string()), std::string::npos) << s.error().message;
  EXPECT_FALSE(fs::exists(o.path));
  EXPECT_FALSE(fs::exists(o.path.string() + "-wal"));
  // The files are kept as found: SQLite's shared-memory index may come along.
  EXPECT_EQ(read_all(moved), std::string(8192, 'x'));
  EXPECT_EQ(read_all(moved.string() + "-wal"), "stale wal");
  for (const auto& f : files_in(o.quarantine_dir))
    EXPECT_EQ(f.string().rfind(moved.string(), 0), 0u) << f;

  // A second corrupt file in the same second gets its own name.
  std::ofstream(o.path, std::ios::binary) << std::string(8192, 'y');
  auto again = RecordStore::open(o);
  ASSERT_FALSE(again);
  EXPECT_TRUE(fs::exists(o.quarantine_dir / "records.20261123T081530Z-2.db"));

  // The next start gets a fresh, working store.
  auto fresh = open_store(o);
  ASSERT_TRUE(fresh);
  core::SplitMix64 rng(1);
  EXPECT_EQ(submit_sync(*fresh, make_record(rng, 0))->seq, 1u);
}

TEST(Quarantine, DamagedPagesFailQuickCheck) {
  TempDir dir;
  StoreOptions o = options_in(dir, test_key(1));
  o.quarantine_dir.clear();  // default: <dir of the database>/quarantine
  {
    auto store = open_store(o);
    ASSERT_TRUE(store);
    core::SplitMix64 rng(2);
    for (int i = 0; i < 200; ++i) store->submit(make_record(rng, i), [](core::Result<SubmitOk>) {});
    store->flush();
  }
  // Closing the last connection checkpoints the WAL into the main file.
  ASSERT_FALSE(fs::exists(o.path.string() + "-wal"));
  const auto size = fs::file_size(o.path);
  ASSERT_GT(size, 16u * 4096);
  {
    std::fstream f(o.path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    const std::string junk(3 * 4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto s = RecordStore::open(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, "storage_corrupt");
  EXPECT_NE(s.error().message.find("quarantine"), std::string::npos) << s.error().message;
  EXPECT_FALSE(fs::exists(o.path));
  EXPECT_FALSE(fs::exists(o.path.string() + "-wal"));
  const auto moved = files_in(dir.path() / "quarantine");
  ASSERT_FALSE(moved.empty());
  EXPECT_EQ(moved.front().extension(), ".db");
  EXPECT_EQ(fs::file_size(moved.front()), size);
}

TEST(FullDisk, RefusesWithoutUsingSeqAndRecovers) {
  TempDir dir;
  core::SplitMix64 rng(3);
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  ASSERT_TRUE(submit_sync(*store, make_record(rng, 0)));
  // Cap the file at its current size: the next new page is refused.
  ASSERT_TRUE(store->set_max_page_count(1));
  std::uint64_t last_ok = 1;
  core::Result<SubmitOk> failed = SubmitOk{};
  for (int i = 1; i < 200 && failed; ++i) {
    failed = submit_sync(*store, make_record(rng, i));
    if (failed) last_ok = failed->seq;
  }
  ASSERT_FALSE(failed) << "the size cap never bit";
  EXPECT_EQ(failed.error().code, "storage_full");
  EXPECT_NE(failed.error().message.find("no seq"), std::string::npos) << failed.error().message;
  auto st = store->stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->health, Health::disk_full);
  EXPECT_NE(st->last_error.find("storage_full"), std::string::npos);
  EXPECT_EQ(st->last_seq, last_ok);
  EXPECT_EQ(st->records, last_ok);
  // Still full: still refused, still no seq used. Reads keep working.
  EXPECT_EQ(submit_sync(*store, make_record(rng, 500)).error().code, "storage_full");
  EXPECT_TRUE(store->by_seq(last_ok)->has_value());

  // Space returns: the very next submit succeeds with the next seq.
  ASSERT_TRUE(store->set_max_page_count(1u << 30));
  auto ok = submit_sync(*store, make_record(rng, 501));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->seq, last_ok + 1);
  st = store->stats();
  EXPECT_EQ(st->health, Health::ok);
  EXPECT_TRUE(st->last_error.empty());
  store.reset();

  // The file is intact (quick_check at open) and seq continues.
  auto reopened = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(reopened);
  EXPECT_EQ(submit_sync(*reopened, make_record(rng, 502))->seq, last_ok + 2);
}

TEST(FullDisk, CapFromOptionsAtOpen) {
  TempDir dir;
  core::SplitMix64 rng(4);
  StoreOptions o = options_in(dir, test_key(1));
  o.max_page_count = 18;  // a fresh v3 database takes 15 pages
  auto store = open_store(o);
  ASSERT_TRUE(store);
  int stored = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = submit_sync(*store, make_record(rng, i));
    if (!r) {
      EXPECT_EQ(r.error().code, "storage_full");
      break;
    }
    ++stored;
  }
  EXPECT_LT(stored, 100);
  EXPECT_EQ(store->stats()->last_seq, static_cast<std::uint64_t>(stored));
  store.reset();
  o.max_page_count.reset();
  store = open_store(o);
  ASSERT_TRUE(store);
  EXPECT_EQ(submit_sync(*store, make_record(rng, 100))->seq,
            static_cast<std::uint64_t>(stored + 1));
}

TEST(Schema, MigratesAnEmptyFile) {
  TempDir dir;
  StoreOptions o = options_in(dir, test_key(1));
  std::ofstream(o.path).close();  // zero bytes: a valid, empty SQLite file
  ASSERT_EQ(fs::file_size(o.path), 0u);
  {
    auto store = open_store(o);
    ASSERT_TRUE(store);
    core::SplitMix64 rng(5);
    EXPECT_EQ(submit_sync(*store, make_record(rng, 0))->seq, 1u);
  }
  EXPECT_EQ(user_version(o.path), sql::kSchemaVersion);
  // Opening again applies nothing and keeps the data.
  auto store = open_store(o);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->stats()->records, 1u);
}

TEST(Schema, RefusesAFutureVersionAndLeavesTheFileAlone) {
  TempDir dir;
  StoreOptions o = options_in(dir, test_key(1));
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(o.path.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "CREATE TABLE future(x); PRAGMA user_version = 7;", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(h);
  }
  auto s = RecordStore::open(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, "schema_too_new");
  EXPECT_NE(s.error().message.find("version 7"), std::string::npos) << s.error().message;
  EXPECT_TRUE(fs::exists(o.path));
  EXPECT_FALSE(fs::exists(o.quarantine_dir));
  EXPECT_EQ(user_version(o.path), 7);
}

TEST(Schema, ExtraSyncWorksToo) {
  TempDir dir;
  StoreOptions o = options_in(dir, test_key(1));
  o.sync = SyncPolicy::extra;
  auto store = open_store(o);
  ASSERT_TRUE(store);
  core::SplitMix64 rng(6);
  EXPECT_EQ(submit_sync(*store, make_record(rng, 0))->seq, 1u);
}

TEST(Schema, UsesWalAndFullSync) {
  TempDir dir;
  StoreOptions o = options_in(dir, test_key(1));
  auto store = open_store(o);
  ASSERT_TRUE(store);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open_v2(o.path.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(h);
}

}  // namespace
}  // namespace postgate::storage

namespace postgate::storage {
namespace {

using namespace testing;

TEST(Busy, ForeignLockFailsTheBatchAndTheNextSubmitRetries) {
  TempDir dir;
  core::SplitMix64 rng(6);
  StoreOptions o = options_in(dir, test_key(1));
  o.busy_timeout = std::chrono::milliseconds(100);
  auto store = open_store(o);
  ASSERT_TRUE(store);
  ASSERT_TRUE(submit_sync(*store, make_record(rng, 0)));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto busy = submit_sync(*store, make_record(rng, 1));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, "storage_busy");
  auto st = store->stats();  // readers are not blocked by a writer in WAL mode
  ASSERT_TRUE(st);
  EXPECT_EQ(st->health, Health::error);
  EXPECT_NE(st->last_error.find("storage_busy"), std::string::npos);
  EXPECT_EQ(st->last_seq, 1u);
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  auto ok = submit_sync(*store, make_record(rng, 2));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->seq, 2u);
  EXPECT_EQ(store->stats()->health, Health::ok);
}

}  // namespace
}  // namespace postgate::storage
