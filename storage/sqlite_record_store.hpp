#pragma once
// The SQLite implementation of RecordStore: one writer thread that
// group-commits, one read connection behind a mutex.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "storage/record_store.hpp"
#include "storage/row_codec.hpp"
#include "storage/sqlite_db.hpp"

namespace postgate::storage {

class SqliteRecordStore final : public RecordStore {
 public:
  static Result<std::unique_ptr<SqliteRecordStore>> open(StoreOptions options);
  // Answers everything queued, then closes.
  ~SqliteRecordStore() override;

  void submit(core::Record record, SubmitCallback done) override;
  void flush() override;

  Result<StoreStats> stats() const override;
  Result<std::vector<core::Record>> recent(std::size_t limit) const override;
  Result<std::optional<core::Record>> by_seq(std::uint64_t seq) const override;
  Result<std::vector<core::Record>> pending_after(std::uint64_t after_seq, std::size_t max_records,
                                                  std::size_t max_bytes) const override;
  Result<std::vector<core::WireRecord>> pending_wire_after(std::uint64_t after_seq,
                                                           std::size_t max_records,
                                                           std::size_t max_bytes) const override;
  core::Status mark_delivered(std::uint64_t upto_seq) override;
  Result<core::OutboxState> outbox_state() const override;
  Result<std::uint64_t> purge_delivered(core::TimePoint older_than) override;

  Result<std::uint64_t> add_event(core::Event e) override;
  Result<std::vector<core::Event>> events_after(std::uint64_t after_seq,
                                                std::size_t max_events) const override;
  core::Status mark_events_sent(std::uint64_t upto_seq) override;

  // Test hook for the full-disk path: PRAGMA max_page_count on the write
  // connection (SQLite never sets it below the current size).
  core::Status set_max_page_count(std::uint64_t pages);

  // Record transactions committed so far; with group commit this grows
  // slower than the number of records (one fsync per transaction).
  std::uint64_t batches_committed() const { return batches_committed_.load(); }

  // Rows deleted per purge transaction, so that submits queued behind a
  // large purge wait for one batch, not for all of it.
  static constexpr std::int64_t kPurgeBatchRows = 1000;

 private:
  struct Submit {
    Result<EncodedRow> row;  // encoded on the caller's thread
    core::Record record;     // kept for the id/accepted_at of the answer
    SubmitCallback done;
  };
  using Task = std::function<void()>;
  using Item = std::variant<Submit, Task>;

  struct WriterStmts {
    Stmt find_by_ref, insert, bind_evidence, get_meta, set_meta, max_seq, purge;
    Stmt find_event, insert_event, max_event_seq, mark_events_sent, purge_events;
  };
  struct ReaderStmts {
    Stmt by_seq, recent, pending_after, pending_wire_after, count, oldest_pending, get_meta,
        events_after;
  };

  explicit SqliteRecordStore(StoreOptions options);
  Result<bool> init();

  void writer_loop();
  void commit_batch(std::vector<Submit>& batch);
  // Runs `f` on the writer thread (inline when already there) and waits.
  template <class T>
  T run_on_writer(std::function<T()> f);
  void enqueue(Item item);

  // Writer-side helpers (writer thread only).
  Result<std::int64_t> writer_meta(std::string_view key);
  core::Status writer_set_meta(std::string_view key, std::int64_t value);
  void note_write_failure(const core::Error& e);
  void note_write_success();
  core::Error write_error(int rc, std::string_view what);
  Result<std::uint64_t> writer_add_event(const core::Event& e);
  core::Status writer_mark_events_sent(std::uint64_t upto_seq);
  // One batch of sent events purged; how many rows went.
  Result<std::int64_t> writer_purge_events(core::TimePoint older_than);

  // Reader-side helpers (reader_mu_ held).
  Result<std::int64_t> reader_meta(std::string_view key) const;
  Result<core::Record> read_record(const Stmt& st) const;
  Result<core::OutboxState> read_outbox_state() const;

  StoreOptions options_;

  Db write_db_;
  WriterStmts w_;
  std::thread writer_;
  std::thread::id writer_id_;

  mutable std::mutex reader_mu_;
  mutable Db read_db_;
  mutable ReaderStmts r_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;   // writer waits for work
  std::condition_variable answer_cv_;  // flush waits for answers
  std::deque<Item> queue_;
  std::uint64_t submitted_ = 0;  // submits enqueued
  std::uint64_t answered_ = 0;   // submits whose callback has run
  bool stopping_ = false;

  std::atomic<std::uint64_t> batches_committed_{0};

  mutable std::mutex health_mu_;
  Health health_ = Health::ok;
  std::string last_error_;
};

}  // namespace postgate::storage
