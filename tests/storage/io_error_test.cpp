// I/O errors on the WAL (a dying disk, a full file system reported as EIO):
// the batch fails with "storage_io", uses no seq, and the store carries on.
#include <gtest/gtest.h>

#include "fault_vfs.hpp"
#include "store_fixture.hpp"

namespace postgate::storage {
namespace {

using namespace testing;

void expect_io_failure_then_recovery(std::atomic<bool>& fault) {
  TempDir dir;
  core::SplitMix64 rng(21);
  FaultVfs vfs;
  {
    auto store = open_store(options_in(dir, test_key(1)));
    ASSERT_TRUE(store);
    ASSERT_EQ(submit_sync(*store, make_record(rng, 0))->seq, 1u);

    fault = true;
    auto failed = submit_sync(*store, make_record(rng, 1, "retry-me"));
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, "storage_io") << failed.error().message;
    auto st = store->stats();
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(st->health, Health::error);
    EXPECT_NE(st->last_error.find("storage_io"), std::string::npos);
    EXPECT_EQ(st->last_seq, 1u);
    EXPECT_FALSE(store->by_seq(2)->has_value());

    fault = false;
    auto ok = submit_sync(*store, make_record(rng, 2, "retry-me"));
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->seq, 2u);
    EXPECT_FALSE(ok->duplicate);
    EXPECT_EQ(store->stats()->health, Health::ok);
  }
  auto reopened = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(reopened);
  auto st = reopened->stats();
  EXPECT_EQ(st->records, 2u);
  EXPECT_EQ(st->last_seq, 2u);
}

TEST(IoError, WalSyncFailureIsRolledBackAndRetried) {
  expect_io_failure_then_recovery(FaultVfs::fail_wal_sync);
}

TEST(IoError, WalWriteFailureIsRolledBackAndRetried) {
  expect_io_failure_then_recovery(FaultVfs::fail_wal_write);
}

// A failed fsync does not say the data missed the disk: after a crash the
// transaction may reappear. Whichever way it went, retrying with the same ref
// gives one record with the next seq, never two.
TEST(IoError, RetryWithSameRefAfterFailedSyncAndCrashStoresOnce) {
  TempDir dir, crashed_copy;
  core::SplitMix64 rng(22);
  FaultVfs vfs;
  const core::Record rec = make_record(rng, 1, "retry-me");
  auto store = open_store(options_in(dir, test_key(1)));
  ASSERT_TRUE(store);
  ASSERT_TRUE(submit_sync(*store, make_record(rng, 0)));
  FaultVfs::fail_wal_sync = true;
  ASSERT_FALSE(submit_sync(*store, rec));
  FaultVfs::fail_wal_sync = false;
  // The files as a power cut would leave them (no checkpoint, no clean close).
  for (const std::string suffix : {"", "-wal"})
    fs::copy_file(dir.path() / ("records.db" + suffix),
                  crashed_copy.path() / ("records.db" + suffix));
  store.reset();

  auto after = open_store(options_in(crashed_copy, test_key(1)));
  ASSERT_TRUE(after);
  auto retry = submit_sync(*after, rec);
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_EQ(retry->seq, 2u);
  EXPECT_EQ(retry->id, rec.id);
  EXPECT_EQ(after->stats()->records, 2u);
  EXPECT_EQ(submit_sync(*after, make_record(rng, 2))->seq, 3u);
}

}  // namespace
}  // namespace postgate::storage
