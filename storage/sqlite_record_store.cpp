#include "storage/sqlite_record_store.hpp"

#include <algorithm>
#include <future>
#include <limits>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "core/utf8.hpp"
#include "storage/schema.hpp"
#include "storage/sql.hpp"

namespace postgate::storage {

namespace {

std::int64_t clamp_i64(std::uint64_t v) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(
      v, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
}

// Ends the read transaction however the reading code leaves.
class ReadTxn {
 public:
  explicit ReadTxn(Db& db) : db_(db), rc_(db.exec(sql::kBeginRead)) {}
  ~ReadTxn() { db_.rollback_if_open(); }
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  int rc() const { return rc_; }

 private:
  Db& db_;
  int rc_;
};

// Resets a statement when the scope ends, so a failed step never leaves it
// active (an active statement would keep a read snapshot or block ROLLBACK).
class ResetGuard {
 public:
  explicit ResetGuard(Stmt& s) : s_(s) {}
  ~ResetGuard() { s_.reset(); }
  ResetGuard(const ResetGuard&) = delete;
  ResetGuard& operator=(const ResetGuard&) = delete;

 private:
  Stmt& s_;
};

bool all_zero(const std::array<std::uint8_t, 32>& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

core::Status check_keys(const KeyRing& ring) {
  if (all_zero(ring.current.bytes))
    return core::fail("key_missing", "keys.current",
                      "no encryption key given for personal fields; configure a key file");
  auto check = [](const Key& k, const char* field) -> core::Status {
    if (k.id != key_id_of(k.bytes))
      return core::fail("key_id_mismatch", field,
                        "key id " + key_id_hex(k.id) + " does not match its bytes (expected " +
                            key_id_hex(key_id_of(k.bytes)) + "); build keys with make_key");
    return {};
  };
  if (auto s = check(ring.current, "keys.current"); !s) return s;
  for (const Key& k : ring.previous)
    if (auto s = check(k, "keys.previous"); !s) return s;
  return {};
}

core::Status validate_event(const core::Event& e) {
  auto bad = [](const char* field, std::string why) {
    return core::fail("invalid_event", field, "event not stored: " + why);
  };
  if (e.id == core::Uuid{}) return bad("id", "no id given (the caller chooses a UUID)");
  if (e.kind.empty()) return bad("kind", "empty kind");
  if (e.severity.empty()) return bad("severity", "empty severity");
  // The uplink serialises events as JSON, which refuses invalid UTF-8: one
  // such row would stall every event behind it.
  for (auto [field, text] :
       {std::pair{"kind", &e.kind}, {"severity", &e.severity}, {"message", &e.message}})
    if (!core::utf8::is_valid(*text)) return bad(field, std::string(field) + " is not valid UTF-8");
  if (e.message.size() > RecordStore::kMaxEventMessageBytes)
    return bad("message", "message has " + std::to_string(e.message.size()) + " bytes, more than " +
                              std::to_string(RecordStore::kMaxEventMessageBytes));
  return {};
}

}  // namespace

std::string_view to_string(Health h) {
  switch (h) {
    case Health::ok:
      return "ok";
    case Health::disk_full:
      return "disk_full";
    case Health::error:
      return "error";
  }
  return "error";
}

Result<std::unique_ptr<RecordStore>> RecordStore::open(StoreOptions options) {
  auto store = SqliteRecordStore::open(std::move(options));
  if (!store) return std::unexpected(store.error());
  return std::unique_ptr<RecordStore>(std::move(*store));
}

Result<std::unique_ptr<SqliteRecordStore>> SqliteRecordStore::open(StoreOptions options) {
  if (auto s = check_keys(options.keys); !s) return std::unexpected(s.error());
  std::unique_ptr<SqliteRecordStore> store(new SqliteRecordStore(std::move(options)));
  if (auto r = store->init(); !r) return std::unexpected(r.error());
  return store;
}

SqliteRecordStore::SqliteRecordStore(StoreOptions options) : options_(std::move(options)) {
  if (options_.group_commit_max == 0) options_.group_commit_max = 1;
}

Result<bool> SqliteRecordStore::init() {
  const core::SystemClock system_clock;
  const core::Clock& clock = options_.clock != nullptr ? *options_.clock : system_clock;
  auto w = open_write_connection(options_, clock);
  if (!w) return std::unexpected(w.error());
  write_db_ = std::move(*w);
  auto prep = [](Db& db, Stmt& into, std::string_view q) -> core::Status {
    auto st = db.prepare(q);
    if (!st) return std::unexpected(st.error());
    into = std::move(*st);
    return {};
  };
  for (auto [stmt, q] : {std::pair{&w_.find_by_ref, sql::kFindByRef},
                         {&w_.insert, sql::kInsert},
                         {&w_.bind_evidence, sql::kBindEvidence},
                         {&w_.get_meta, sql::kGetMeta},
                         {&w_.set_meta, sql::kSetMeta},
                         {&w_.max_seq, sql::kMaxSeq},
                         {&w_.purge, sql::kPurgeBatch},
                         {&w_.find_event, sql::kFindEventById},
                         {&w_.insert_event, sql::kInsertEvent},
                         {&w_.max_event_seq, sql::kMaxEventSeq},
                         {&w_.mark_events_sent, sql::kMarkEventsSent},
                         {&w_.purge_events, sql::kPurgeEventsBatch}})
    if (auto s = prep(write_db_, *stmt, q); !s) return std::unexpected(s.error());

  auto r = open_read_connection(options_);
  if (!r) return std::unexpected(r.error());
  read_db_ = std::move(*r);
  for (auto [stmt, q] : {std::pair{&r_.by_seq, sql::kBySeq},
                         {&r_.recent, sql::kRecent},
                         {&r_.pending_after, sql::kPendingAfter},
                         {&r_.pending_wire_after, sql::kPendingWireAfter},
                         {&r_.count, sql::kCountRecords},
                         {&r_.oldest_pending, sql::kOldestPending},
                         {&r_.get_meta, sql::kGetMeta},
                         {&r_.events_after, sql::kEventsAfter}})
    if (auto s = prep(read_db_, *stmt, q); !s) return std::unexpected(s.error());

  // Refuse to start when stored rows are sealed under a key the ring lacks:
  // they could be neither shown nor delivered, and the outbox would stall.
  {
    auto st = read_db_.prepare(sql::kNextKeyId);
    if (!st) return std::unexpected(st.error());
    std::int64_t after = -1;
    for (;;) {
      st->bind(1, after);
      const int rc = st->step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return std::unexpected(read_db_.error(rc, "key check"));
      after = st->int64(0);
      const std::int64_t rows = st->int64(1);
      st->reset();
      if (options_.keys.find(static_cast<std::uint32_t>(after)) == nullptr)
        return core::fail("key_unknown", "keys.previous",
                          std::to_string(rows) + " stored records are sealed with key " +
                              key_id_hex(static_cast<std::uint32_t>(after)) +
                              ", which is neither the current nor a previous key; add that key "
                              "file to the previous keys");
    }
  }

  writer_ = std::thread([this] { writer_loop(); });
  writer_id_ = writer_.get_id();
  return true;
}

SqliteRecordStore::~SqliteRecordStore() {
  {
    std::lock_guard lk(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

// ---- queue ------------------------------------------------------------------

void SqliteRecordStore::submit(core::Record record, SubmitCallback done) {
  // Encryption runs here, on the submitting thread, to keep the single
  // writer thread for SQLite work only.
  Submit s{
      encode_row(record, options_.keys, options_.wire_encoder ? &options_.wire_encoder : nullptr),
      std::move(record), std::move(done)};
  {
    std::unique_lock lk(queue_mu_);
    if (stopping_) {
      lk.unlock();
      s.done(core::fail("store_closed", "", "the record store is closing; nothing was stored"));
      return;
    }
    queue_.push_back(std::move(s));
    ++submitted_;
  }
  queue_cv_.notify_one();
}

void SqliteRecordStore::enqueue(Item item) {
  {
    std::lock_guard lk(queue_mu_);
    queue_.push_back(std::move(item));
  }
  queue_cv_.notify_one();
}

void SqliteRecordStore::flush() {
  // From inside a callback the writer cannot wait for itself.
  if (std::this_thread::get_id() == writer_id_) return;
  std::unique_lock lk(queue_mu_);
  const std::uint64_t target = submitted_;
  answer_cv_.wait(lk, [&] { return answered_ >= target; });
}

template <class T>
T SqliteRecordStore::run_on_writer(std::function<T()> f) {
  // Between transactions (e.g. in a submit callback) the writer may run the
  // work directly; waiting for itself would deadlock.
  if (std::this_thread::get_id() == writer_id_) return f();
  std::promise<T> p;
  auto fut = p.get_future();
  enqueue(Task([&] { p.set_value(f()); }));
  return fut.get();
}

void SqliteRecordStore::writer_loop() {
  std::vector<Submit> batch;
  for (;;) {
    Task task;
    batch.clear();
    {
      std::unique_lock lk(queue_mu_);
      queue_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything answered
      if (auto* t = std::get_if<Task>(&queue_.front())) {
        task = std::move(*t);
        queue_.pop_front();
      } else {
        while (!queue_.empty() && batch.size() < options_.group_commit_max &&
               std::holds_alternative<Submit>(queue_.front())) {
          batch.push_back(std::move(std::get<Submit>(queue_.front())));
          queue_.pop_front();
        }
      }
    }
    if (task) {
      task();
      continue;
    }
    commit_batch(batch);
    {
      std::lock_guard lk(queue_mu_);
      answered_ += batch.size();
    }
    answer_cv_.notify_all();
  }
}

// ---- writer -------------------------------------------------------------------

core::Error SqliteRecordStore::write_error(int rc, std::string_view what) {
  core::Error e = write_db_.error(rc, what);
  const std::string where = "database " + options_.path.string();
  if ((rc & 0xff) == SQLITE_FULL)
    e.message = where + " is full (disk full or size cap reached: " + e.message +
                "); nothing of this batch was stored and no seq was used; free disk space, the "
                "next submit retries";
  else if ((rc & 0xff) == SQLITE_IOERR)
    // A failed fsync does not prove the data missed the disk: after a crash
    // the transaction may reappear, which a retry with the same ref absorbs.
    e.message = where + ": I/O error (" + e.message +
                "); nothing was acknowledged; retry with the same ref (a retry is answered as "
                "a duplicate should the data have reached the disk after all)";
  else
    e.message = where + ": " + e.message;
  return e;
}

void SqliteRecordStore::note_write_failure(const core::Error& e) {
  std::lock_guard lk(health_mu_);
  health_ = e.code == "storage_full" ? Health::disk_full : Health::error;
  last_error_ = e.code + ": " + e.message;
}

void SqliteRecordStore::note_write_success() {
  std::lock_guard lk(health_mu_);
  health_ = Health::ok;
  last_error_.clear();
}

Result<std::int64_t> SqliteRecordStore::writer_meta(std::string_view key) {
  ResetGuard g(w_.get_meta);
  w_.get_meta.bind(1, key);
  const int rc = w_.get_meta.step();
  if (rc == SQLITE_ROW) return w_.get_meta.int64(0);
  if (rc == SQLITE_DONE)
    return core::fail("storage_corrupt", "", "meta row '" + std::string(key) + "' is missing");
  return std::unexpected(write_error(rc, "read meta"));
}

core::Status SqliteRecordStore::writer_set_meta(std::string_view key, std::int64_t value) {
  ResetGuard g(w_.set_meta);
  w_.set_meta.bind(1, key);
  w_.set_meta.bind(2, value);
  const int rc = w_.set_meta.step();
  if (rc != SQLITE_DONE) return std::unexpected(write_error(rc, "write meta"));
  return {};
}

void SqliteRecordStore::commit_batch(std::vector<Submit>& batch) {
  enum class Kind { failed, stored, dup_stored_before, dup_in_batch };
  const std::size_t n = batch.size();
  std::vector<Kind> kinds(n, Kind::failed);
  std::vector<Result<SubmitOk>> answers(n, SubmitOk{});
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (batch[i].row)
      any = true;
    else
      answers[i] = std::unexpected(batch[i].row.error());
  }

  auto fail_all = [&](const core::Error& e) {
    write_db_.rollback_if_open();
    note_write_failure(e);
    // Answers found in earlier transactions stay true; everything this
    // transaction would have written is gone with the rollback.
    for (std::size_t i = 0; i < n; ++i)
      if (batch[i].row && kinds[i] != Kind::dup_stored_before) answers[i] = std::unexpected(e);
  };

  auto run = [&]() -> bool {
    if (const int rc = write_db_.exec(sql::kBeginImmediate); rc != SQLITE_OK) {
      fail_all(write_error(rc, "begin"));
      return false;
    }
    // seq continues from the larger of the kept counter and the table, so
    // neither a purge nor a hand-edited meta row can make it go back.
    auto last = writer_meta("last_seq");
    if (!last) {
      fail_all(last.error());
      return false;
    }
    std::int64_t last_seq = *last;
    {
      ResetGuard g(w_.max_seq);
      const int rc = w_.max_seq.step();
      if (rc != SQLITE_ROW) {
        fail_all(write_error(rc, "max seq"));
        return false;
      }
      last_seq = std::max(last_seq, w_.max_seq.int64(0));
    }
    const std::int64_t first_seq = last_seq;
    std::unordered_map<std::string, std::size_t> refs_in_batch;

    for (std::size_t i = 0; i < n; ++i) {
      if (!batch[i].row) continue;
      const EncodedRow& row = *batch[i].row;
      if (row.ref) {
        if (auto it = refs_in_batch.find(*row.ref); it != refs_in_batch.end()) {
          answers[i] = *answers[it->second];
          answers[i]->duplicate = true;
          kinds[i] = Kind::dup_in_batch;
          continue;
        }
        ResetGuard g(w_.find_by_ref);
        w_.find_by_ref.bind(1, std::string_view(*row.ref));
        const int rc = w_.find_by_ref.step();
        if (rc == SQLITE_ROW) {
          const auto id = core::Uuid::parse(w_.find_by_ref.text(0));
          answers[i] = SubmitOk{id.value_or(core::Uuid{}),
                                static_cast<std::uint64_t>(w_.find_by_ref.int64(1)),
                                from_unix_ms(w_.find_by_ref.int64(2)), true};
          kinds[i] = Kind::dup_stored_before;
          continue;
        }
        if (rc != SQLITE_DONE) {
          fail_all(write_error(rc, "find ref"));
          return false;
        }
      }
      const std::int64_t seq = last_seq + 1;
      int rc;
      {
        ResetGuard g(w_.insert);
        Stmt& st = w_.insert;
        st.bind(1, seq);
        st.bind(2, std::string_view(row.id));
        st.bind(3, row.ref);
        st.bind(4, row.accepted_at_ms);
        st.bind(5, std::string_view(row.counter));
        st.bind(6, std::string_view(row.operator_id));
        st.bind(7, std::string_view(row.doc_type));
        st.bind(8, std::string_view(row.name_masked));
        st.bind(9, std::string_view(row.number_masked));
        st.bind(10, std::string_view(row.body));
        st.bind_blob(11, row.personal);
        st.bind(12, static_cast<std::int64_t>(row.key_id));
        st.bind(13, row.payload_bytes);
        if (row.wire)
          st.bind_blob(14, *row.wire);
        else
          st.bind_null(14);
        rc = st.step();
        if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_CONSTRAINT) {
          // Capture the message before reset can replace it.
          core::Error e = write_error(rc, "insert");
          fail_all(e);
          return false;
        }
      }
      if (rc == SQLITE_DONE) {
        last_seq = seq;
        answers[i] = SubmitOk{batch[i].record.id, static_cast<std::uint64_t>(seq),
                              batch[i].record.accepted_at, false};
        kinds[i] = Kind::stored;
        if (row.ref) refs_in_batch.emplace(*row.ref, i);
        // Evidence captured for this parcel becomes the record's, atomically
        // with the record: a crash leaves either both or a held item that
        // the evidence store discards at its next open.
        for (const auto& ev : batch[i].record.acceptance.evidence) {
          if (ev.id.empty()) continue;
          ResetGuard eg(w_.bind_evidence);
          w_.bind_evidence.bind(1, std::string_view(row.id));
          w_.bind_evidence.bind(2, seq);
          w_.bind_evidence.bind(3, std::string_view(ev.id));
          if (const int erc = w_.bind_evidence.step(); erc != SQLITE_DONE) {
            fail_all(write_error(erc, "bind evidence"));
            return false;
          }
        }
      } else {
        // A statement-level constraint failure undoes only that statement;
        // the transaction and the other records carry on. The ref was checked
        // above, so this is the id.
        answers[i] = core::fail("duplicate_id", "id", "record id " + row.id + " is already stored");
      }
    }
    if (last_seq != first_seq) {
      if (auto s = writer_set_meta("last_seq", last_seq); !s) {
        fail_all(s.error());
        return false;
      }
    }
    if (const int rc = write_db_.exec(sql::kCommit); rc != SQLITE_OK) {
      fail_all(write_error(rc, "commit"));
      return false;
    }
    ++batches_committed_;
    return true;
  };

  if (any && run()) note_write_success();

  for (std::size_t i = 0; i < n; ++i) {
    try {
      batch[i].done(std::move(answers[i]));
    } catch (...) {
      // A throwing callback must not take the writer thread (and with it
      // every later submit) down; the record is durable either way.
    }
  }
}

core::Status SqliteRecordStore::mark_delivered(std::uint64_t upto_seq) {
  return run_on_writer<core::Status>([&]() -> core::Status {
    if (const int rc = write_db_.exec(sql::kBeginImmediate); rc != SQLITE_OK) {
      core::Error e = write_error(rc, "begin");
      note_write_failure(e);
      return std::unexpected(e);
    }
    auto last = writer_meta("last_seq");
    auto delivered = writer_meta("delivered_upto");
    if (!last || !delivered) {
      write_db_.rollback_if_open();
      return std::unexpected(!last ? last.error() : delivered.error());
    }
    const std::int64_t upto = clamp_i64(upto_seq);
    if (upto > *last) {
      write_db_.rollback_if_open();
      return core::fail("ack_beyond_last", "upto_seq",
                        "acknowledgement up to seq " + std::to_string(upto_seq) +
                            " is beyond the last seq given here (" + std::to_string(*last) +
                            "); was this database replaced or restored from a backup?");
    }
    if (upto > *delivered) {
      if (auto s = writer_set_meta("delivered_upto", upto); !s) {
        write_db_.rollback_if_open();
        note_write_failure(s.error());
        return s;
      }
    }
    if (const int rc = write_db_.exec(sql::kCommit); rc != SQLITE_OK) {
      core::Error e = write_error(rc, "commit");
      write_db_.rollback_if_open();
      note_write_failure(e);
      return std::unexpected(e);
    }
    return {};
  });
}

Result<std::uint64_t> SqliteRecordStore::purge_delivered(core::TimePoint older_than) {
  std::uint64_t total = 0;
  for (;;) {
    // One batch per writer task: submits queued meanwhile run in between.
    auto batch = run_on_writer<Result<std::int64_t>>([&]() -> Result<std::int64_t> {
      if (const int rc = write_db_.exec(sql::kBeginImmediate); rc != SQLITE_OK)
        return std::unexpected(write_error(rc, "begin"));
      auto last = writer_meta("last_seq");
      auto delivered = writer_meta("delivered_upto");
      if (!last || !delivered) {
        write_db_.rollback_if_open();
        return std::unexpected(!last ? last.error() : delivered.error());
      }
      int rc;
      {
        ResetGuard g(w_.purge);
        w_.purge.bind(1, *delivered);
        w_.purge.bind(2, to_unix_ms(older_than));
        w_.purge.bind(3, *last);
        w_.purge.bind(4, kPurgeBatchRows);
        rc = w_.purge.step();
      }
      if (rc != SQLITE_DONE) {
        core::Error e = write_error(rc, "purge");
        write_db_.rollback_if_open();
        return std::unexpected(e);
      }
      const std::int64_t deleted = sqlite3_changes64(write_db_.raw());
      if (const int crc = write_db_.exec(sql::kCommit); crc != SQLITE_OK) {
        core::Error e = write_error(crc, "commit");
        write_db_.rollback_if_open();
        return std::unexpected(e);
      }
      return deleted;
    });
    if (!batch) {
      if (batch.error().code.starts_with("storage_")) note_write_failure(batch.error());
      return std::unexpected(batch.error());
    }
    total += static_cast<std::uint64_t>(*batch);
    if (*batch < kPurgeBatchRows) break;
  }
  for (;;) {
    auto batch =
        run_on_writer<Result<std::int64_t>>([&] { return writer_purge_events(older_than); });
    if (!batch) {
      if (batch.error().code.starts_with("storage_")) note_write_failure(batch.error());
      return std::unexpected(batch.error());
    }
    if (*batch < kPurgeBatchRows) return total;
  }
}

// ---- events ---------------------------------------------------------------------

Result<std::uint64_t> SqliteRecordStore::add_event(core::Event e) {
  if (auto s = validate_event(e); !s) return std::unexpected(s.error());
  // Its own small transaction on the writer: queued behind the record batch
  // in progress, never mixed into one, so group commit is unchanged.
  return run_on_writer<Result<std::uint64_t>>([&] { return writer_add_event(e); });
}

Result<std::uint64_t> SqliteRecordStore::writer_add_event(const core::Event& e) {
  auto fail = [&](core::Error err) -> Result<std::uint64_t> {
    write_db_.rollback_if_open();
    if (err.code.starts_with("storage_")) note_write_failure(err);
    return std::unexpected(std::move(err));
  };
  if (const int rc = write_db_.exec(sql::kBeginImmediate); rc != SQLITE_OK)
    return fail(write_error(rc, "begin"));
  const std::string id = e.id.str();
  {
    std::optional<core::Error> err;
    std::optional<std::int64_t> existing;
    {
      ResetGuard g(w_.find_event);
      w_.find_event.bind(1, std::string_view(id));
      const int rc = w_.find_event.step();
      if (rc == SQLITE_ROW)
        existing = w_.find_event.int64(0);
      else if (rc != SQLITE_DONE)
        err = write_error(rc, "find event");
    }
    if (err) return fail(std::move(*err));
    if (existing) {
      write_db_.rollback_if_open();
      return static_cast<std::uint64_t>(*existing);
    }
  }
  // Like record seqs: from the larger of the kept counter and the table, so
  // a purge cannot make it go back.
  auto last = writer_meta("last_event_seq");
  if (!last) return fail(last.error());
  std::int64_t seq = *last;
  {
    std::optional<core::Error> err;
    {
      ResetGuard g(w_.max_event_seq);
      const int rc = w_.max_event_seq.step();
      if (rc == SQLITE_ROW)
        seq = std::max(seq, w_.max_event_seq.int64(0));
      else
        err = write_error(rc, "max event seq");
    }
    if (err) return fail(std::move(*err));
  }
  ++seq;
  {
    std::optional<core::Error> err;
    {
      ResetGuard g(w_.insert_event);
      Stmt& st = w_.insert_event;
      st.bind(1, seq);
      st.bind(2, std::string_view(id));
      st.bind(3, to_unix_ms(e.at));
      st.bind(4, std::string_view(e.kind));
      st.bind(5, std::string_view(e.severity));
      st.bind(6, std::string_view(e.message));
      if (e.record_seq)
        st.bind(7, clamp_i64(*e.record_seq));
      else
        st.bind_null(7);
      if (const int rc = st.step(); rc != SQLITE_DONE) err = write_error(rc, "insert event");
    }
    if (err) return fail(std::move(*err));
  }
  if (auto s = writer_set_meta("last_event_seq", seq); !s) return fail(s.error());
  if (const int rc = write_db_.exec(sql::kCommit); rc != SQLITE_OK)
    return fail(write_error(rc, "commit"));
  return static_cast<std::uint64_t>(seq);
}

core::Status SqliteRecordStore::mark_events_sent(std::uint64_t upto_seq) {
  return run_on_writer<core::Status>([&] { return writer_mark_events_sent(upto_seq); });
}

core::Status SqliteRecordStore::writer_mark_events_sent(std::uint64_t upto_seq) {
  auto fail = [&](core::Error err) -> core::Status {
    write_db_.rollback_if_open();
    if (err.code.starts_with("storage_")) note_write_failure(err);
    return std::unexpected(std::move(err));
  };
  if (const int rc = write_db_.exec(sql::kBeginImmediate); rc != SQLITE_OK)
    return fail(write_error(rc, "begin"));
  auto last = writer_meta("last_event_seq");
  if (!last) return fail(last.error());
  const std::int64_t upto = clamp_i64(upto_seq);
  if (upto > *last) {
    write_db_.rollback_if_open();
    return core::fail("ack_beyond_last", "upto_seq",
                      "events acknowledged up to seq " + std::to_string(upto_seq) +
                          " but the last event seq given here is " + std::to_string(*last) +
                          "; was this database replaced or restored from a backup?");
  }
  std::optional<core::Error> err;
  {
    ResetGuard g(w_.mark_events_sent);
    w_.mark_events_sent.bind(1, upto);
    if (const int rc = w_.mark_events_sent.step(); rc != SQLITE_DONE)
      err = write_error(rc, "mark events sent");
  }
  if (err) return fail(std::move(*err));
  if (const int rc = write_db_.exec(sql::kCommit); rc != SQLITE_OK)
    return fail(write_error(rc, "commit"));
  return {};
}

Result<std::int64_t> SqliteRecordStore::writer_purge_events(core::TimePoint older_than) {
  if (const int rc = write_db_.exec(sql::kBeginImmediate); rc != SQLITE_OK)
    return std::unexpected(write_error(rc, "begin"));
  int rc;
  {
    ResetGuard g(w_.purge_events);
    w_.purge_events.bind(1, to_unix_ms(older_than));
    w_.purge_events.bind(2, kPurgeBatchRows);
    rc = w_.purge_events.step();
  }
  if (rc != SQLITE_DONE) {
    core::Error e = write_error(rc, "purge events");
    write_db_.rollback_if_open();
    return std::unexpected(e);
  }
  const std::int64_t deleted = sqlite3_changes64(write_db_.raw());
  if (const int crc = write_db_.exec(sql::kCommit); crc != SQLITE_OK) {
    core::Error e = write_error(crc, "commit");
    write_db_.rollback_if_open();
    return std::unexpected(e);
  }
  return deleted;
}

core::Status SqliteRecordStore::set_max_page_count(std::uint64_t pages) {
  return run_on_writer<core::Status>([&]() -> core::Status {
    auto r = write_db_.query_int(std::string(sql::kMaxPageCountPrefix) + std::to_string(pages));
    if (!r) return std::unexpected(r.error());
    return {};
  });
}

// ---- reader -------------------------------------------------------------------

Result<std::int64_t> SqliteRecordStore::reader_meta(std::string_view key) const {
  ResetGuard g(r_.get_meta);
  r_.get_meta.bind(1, key);
  const int rc = r_.get_meta.step();
  if (rc == SQLITE_ROW) return r_.get_meta.int64(0);
  if (rc == SQLITE_DONE)
    return core::fail("storage_corrupt", "", "meta row '" + std::string(key) + "' is missing");
  return std::unexpected(read_db_.error(rc, "read meta"));
}

Result<core::Record> SqliteRecordStore::read_record(const Stmt& st) const {
  StoredRow row;
  row.seq = st.int64(sql::kColSeq);
  row.id = st.text(sql::kColId);
  row.ref = st.text_or_null(sql::kColRef);
  row.accepted_at_ms = st.int64(sql::kColAcceptedAt);
  row.counter = st.text(sql::kColCounter);
  row.operator_id = st.text(sql::kColOperator);
  row.doc_type = st.text(sql::kColDocType);
  row.body = st.text(sql::kColBody);
  row.personal = st.blob(sql::kColPersonal);
  return decode_row(row, options_.keys);
}

Result<core::OutboxState> SqliteRecordStore::read_outbox_state() const {
  core::OutboxState s;
  auto last = reader_meta("last_seq");
  if (!last) return std::unexpected(last.error());
  auto delivered = reader_meta("delivered_upto");
  if (!delivered) return std::unexpected(delivered.error());
  s.last_seq = static_cast<std::uint64_t>(*last);
  s.delivered_upto = static_cast<std::uint64_t>(*delivered);
  // Pending rows are never purged and seq is gapless, so this is exact.
  s.pending = s.last_seq > s.delivered_upto ? s.last_seq - s.delivered_upto : 0;
  if (s.pending > 0) {
    ResetGuard g(r_.oldest_pending);
    r_.oldest_pending.bind(1, *delivered);
    const int rc = r_.oldest_pending.step();
    if (rc == SQLITE_ROW)
      s.oldest_pending = from_unix_ms(r_.oldest_pending.int64(0));
    else if (rc != SQLITE_DONE)
      return std::unexpected(read_db_.error(rc, "oldest pending"));
  }
  return s;
}

Result<core::OutboxState> SqliteRecordStore::outbox_state() const {
  std::lock_guard lk(reader_mu_);
  ReadTxn txn(read_db_);
  if (txn.rc() != SQLITE_OK) return std::unexpected(read_db_.error(txn.rc(), "begin read"));
  return read_outbox_state();
}

Result<StoreStats> SqliteRecordStore::stats() const {
  StoreStats s;
  {
    std::lock_guard lk(reader_mu_);
    ReadTxn txn(read_db_);
    if (txn.rc() != SQLITE_OK) return std::unexpected(read_db_.error(txn.rc(), "begin read"));
    auto o = read_outbox_state();
    if (!o) return std::unexpected(o.error());
    {
      ResetGuard g(r_.count);
      const int rc = r_.count.step();
      if (rc != SQLITE_ROW) return std::unexpected(read_db_.error(rc, "count"));
      s.records = static_cast<std::uint64_t>(r_.count.int64(0));
    }
    s.last_seq = o->last_seq;
    s.delivered_upto = o->delivered_upto;
    s.pending = o->pending;
    s.oldest_pending = o->oldest_pending;
  }
  std::error_code ec;
  for (const std::string suffix : {"", "-wal"}) {
    const auto size = std::filesystem::file_size(options_.path.string() + suffix, ec);
    if (!ec) s.file_bytes += size;
  }
  std::lock_guard lk(health_mu_);
  s.health = health_;
  s.last_error = last_error_;
  return s;
}

Result<std::vector<core::Event>> SqliteRecordStore::events_after(std::uint64_t after_seq,
                                                                 std::size_t max_events) const {
  std::vector<core::Event> out;
  if (max_events == 0) return out;
  std::lock_guard lk(reader_mu_);
  ResetGuard g(r_.events_after);
  Stmt& st = r_.events_after;
  st.bind(1, clamp_i64(after_seq));
  st.bind(2, clamp_i64(max_events));
  for (;;) {
    const int rc = st.step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return std::unexpected(read_db_.error(rc, "events"));
    core::Event e;
    e.seq = static_cast<std::uint64_t>(st.int64(sql::kEvSeq));
    const std::string id = st.text(sql::kEvId);
    const auto uuid = core::Uuid::parse(id);
    if (!uuid)
      return core::fail("storage_corrupt", "",
                        "event " + std::to_string(e.seq) + " has a malformed id");
    e.id = *uuid;
    e.at = from_unix_ms(st.int64(sql::kEvAt));
    e.kind = st.text(sql::kEvKind);
    e.severity = st.text(sql::kEvSeverity);
    e.message = st.text(sql::kEvMessage);
    if (!st.is_null(sql::kEvRecordSeq))
      e.record_seq = static_cast<std::uint64_t>(st.int64(sql::kEvRecordSeq));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<core::Record>> SqliteRecordStore::recent(std::size_t limit) const {
  std::vector<core::Record> out;
  if (limit == 0) return out;
  std::lock_guard lk(reader_mu_);
  ResetGuard g(r_.recent);
  r_.recent.bind(1, clamp_i64(limit));
  for (;;) {
    const int rc = r_.recent.step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return std::unexpected(read_db_.error(rc, "recent"));
    auto rec = read_record(r_.recent);
    if (!rec) return std::unexpected(rec.error());
    out.push_back(std::move(*rec));
  }
  return out;
}

Result<std::optional<core::Record>> SqliteRecordStore::by_seq(std::uint64_t seq) const {
  if (seq > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return std::optional<core::Record>{};
  std::lock_guard lk(reader_mu_);
  ResetGuard g(r_.by_seq);
  r_.by_seq.bind(1, static_cast<std::int64_t>(seq));
  const int rc = r_.by_seq.step();
  if (rc == SQLITE_DONE) return std::optional<core::Record>{};
  if (rc != SQLITE_ROW) return std::unexpected(read_db_.error(rc, "by seq"));
  auto rec = read_record(r_.by_seq);
  if (!rec) return std::unexpected(rec.error());
  return std::optional<core::Record>(std::move(*rec));
}

Result<std::vector<core::Record>> SqliteRecordStore::pending_after(std::uint64_t after_seq,
                                                                   std::size_t max_records,
                                                                   std::size_t max_bytes) const {
  std::vector<core::Record> out;
  if (max_records == 0) return out;
  std::lock_guard lk(reader_mu_);
  ResetGuard g(r_.pending_after);
  r_.pending_after.bind(1, clamp_i64(after_seq));
  r_.pending_after.bind(2, clamp_i64(max_records));
  std::uint64_t bytes = 0;
  for (;;) {
    const int rc = r_.pending_after.step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return std::unexpected(read_db_.error(rc, "pending"));
    // Decided on the stored estimate before decoding, so a page never holds
    // more than one row beyond max_bytes in memory.
    const auto size = static_cast<std::uint64_t>(r_.pending_after.int64(sql::kColPayloadBytes));
    if (!out.empty() && bytes + size > max_bytes) break;
    auto rec = read_record(r_.pending_after);
    if (!rec) return std::unexpected(rec.error());
    out.push_back(std::move(*rec));
    bytes += size;
  }
  return out;
}

Result<std::vector<core::WireRecord>> SqliteRecordStore::pending_wire_after(
    std::uint64_t after_seq, std::size_t max_records, std::size_t max_bytes) const {
  std::vector<core::WireRecord> out;
  if (max_records == 0) return out;
  if (!options_.wire_encoder)
    return core::fail("no_wire_encoder", "", "the record store was opened without a wire encoder");
  std::lock_guard lk(reader_mu_);
  Stmt& st = r_.pending_wire_after;
  ResetGuard g(st);
  st.bind(1, clamp_i64(after_seq));
  st.bind(2, clamp_i64(max_records));
  std::uint64_t bytes = 0;
  for (;;) {
    const int rc = st.step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return std::unexpected(read_db_.error(rc, "pending"));
    const std::int64_t seq = st.int64(sql::kColSeq);
    core::Result<std::string> text;
    if (st.is_null(sql::kColWire)) {
      // Written before schema v4 or without an encoder: encode it now.
      auto rec = read_record(st);
      if (!rec) return std::unexpected(rec.error());
      text = options_.wire_encoder(*rec);
    } else {
      text = open_wire(st.blob(sql::kColWire), seq, st.text(sql::kColId), options_.keys);
    }
    if (!text) return std::unexpected(text.error());
    // At least one record, and never more than one beyond max_bytes read.
    if (!out.empty() && bytes + text->size() > max_bytes) break;
    bytes += text->size();
    out.push_back({static_cast<std::uint64_t>(seq), std::move(*text)});
  }
  return out;
}

}  // namespace postgate::storage
