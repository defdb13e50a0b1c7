#pragma once
// The durable record store (SQLite, WAL). See docs/storage.md for the schema,
// the fsync policy and recovery behaviour.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/outbox.hpp"
#include "core/record.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/keyring.hpp"

namespace postgate::storage {

using core::Result;

enum class SyncPolicy { full, extra };

// The record's JSON as the uplink sends it (docs/protocol.md); storage keeps
// it without knowing the format (the daemon passes codec's encoder).
using WireEncoder = std::function<core::Result<std::string>(const core::Record&)>;

struct StoreOptions {
  std::filesystem::path path;  // the database file
  std::filesystem::path
      quarantine_dir;  // where a corrupt file is moved; default: <path dir>/quarantine
  KeyRing keys;
  SyncPolicy sync = SyncPolicy::full;
  std::size_t group_commit_max = 256;  // most records in one transaction
  // Testing aid for the full-disk path: caps the database size in pages.
  std::optional<std::uint64_t> max_page_count;
  // How long to wait for a lock held by another process (a backup, an
  // operator's sqlite3 shell) before failing with "storage_busy".
  std::chrono::milliseconds busy_timeout{5000};
  // Names quarantined files; nullptr: the system clock. Must outlive open().
  const core::Clock* clock = nullptr;
  // The wire form of a record (codec's record JSON, clear), kept sealed
  // beside each row from its commit on for pending_wire_after. Without it
  // pending_wire_after fails with "no_wire_encoder".
  WireEncoder wire_encoder;
};

struct SubmitOk {
  core::Uuid id;
  std::uint64_t seq = 0;
  core::TimePoint accepted_at{};
  bool duplicate = false;  // the ref was stored before; id/seq are the first ones
};

enum class Health { ok, disk_full, error };
std::string_view to_string(Health h);

struct StoreStats {
  std::uint64_t records = 0;   // rows held
  std::uint64_t pending = 0;   // not yet acknowledged by HQ
  std::uint64_t last_seq = 0;  // highest seq given
  std::uint64_t delivered_upto = 0;
  std::optional<core::TimePoint> oldest_pending;
  std::uint64_t file_bytes = 0;
  Health health = Health::ok;
  std::string last_error;  // empty when healthy
};

// Also the uplink's ports (core/outbox.hpp): records and events go out
// through core::RecordOutbox and core::EventOutbox, which this implements.
class RecordStore : public core::RecordOutbox, public core::EventOutbox {
 public:
  // Opens (creating if needed), migrates the schema, runs quick_check. A
  // corrupt file is moved to quarantine_dir and the error says where; the
  // caller decides whether to start afresh.
  static Result<std::unique_ptr<RecordStore>> open(StoreOptions options);
  ~RecordStore() override = default;

  using SubmitCallback = std::function<void(Result<SubmitOk>)>;
  // Thread-safe. The record's id and accepted_at are set by the caller; seq is
  // given here. Submits are group-committed by one writer thread; `done` runs
  // exactly once on that thread, only after the commit is durable (or has
  // failed and been rolled back: then no seq was used). A record whose ref is
  // already stored is not stored again: done gets the first answer with
  // duplicate = true. A full disk fails with code "storage_full" and the store
  // retries by itself on the next submit.
  virtual void submit(core::Record record, SubmitCallback done) = 0;

  // Blocks until every submit queued so far has been answered.
  virtual void flush() = 0;

  virtual Result<StoreStats> stats() const = 0;
  // Newest first, decrypted (mask before display).
  virtual Result<std::vector<core::Record>> recent(std::size_t limit) const = 0;
  virtual Result<std::optional<core::Record>> by_seq(std::uint64_t seq) const = 0;

  // ---- core::RecordOutbox ----
  // Pending records with seq > after_seq in seq order, at most max_records and
  // about max_bytes of payload (at least one record if any). Memory is bounded
  // by the limits, not by the backlog. Any thread.
  Result<std::vector<core::Record>> pending_after(std::uint64_t after_seq, std::size_t max_records,
                                                  std::size_t max_bytes) const override = 0;
  // The same records in their wire form: the stored text (rows from before
  // schema v4 are encoded on the way). max_bytes counts the text.
  Result<std::vector<core::WireRecord>> pending_wire_after(
      std::uint64_t after_seq, std::size_t max_records, std::size_t max_bytes) const override = 0;
  // HQ acknowledged every seq <= upto_seq. Idempotent; an upto_seq beyond
  // last_seq is refused (code "ack_beyond_last"). Runs on the writer thread;
  // the caller waits for its commit.
  core::Status mark_delivered(std::uint64_t upto_seq) override = 0;
  // last_seq, delivered_upto, pending and oldest_pending from one read
  // snapshot: two meta rows and one index probe, no count and no file sizes
  // (cheaper than stats()). Any thread.
  Result<core::OutboxState> outbox_state() const override = 0;

  // ---- core::EventOutbox ----
  // Stores the event durably and returns its seq (monotonic, never reused,
  // also across purges and restarts). The caller gives a non-nil id and an
  // already masked message: events are not encrypted. Adding an id that is
  // stored already stores nothing and returns the first seq, so a retry after
  // an error cannot duplicate an alert. Refused: nil id, empty kind or
  // severity, invalid UTF-8, a message over kMaxEventMessageBytes
  // ("invalid_event"). BLOCKS the caller until the event's own transaction is
  // committed (one fsync, plus any record batch in progress: typically a few
  // ms); from a submit callback it runs inline. Any thread.
  Result<std::uint64_t> add_event(core::Event e) override = 0;
  // Unsent events with seq > after_seq in seq order, at most max_events.
  // Any thread.
  Result<std::vector<core::Event>> events_after(std::uint64_t after_seq,
                                                std::size_t max_events) const override = 0;
  // HQ has every event with seq <= upto_seq. Idempotent; beyond the last
  // event seq is refused ("ack_beyond_last"). Writer thread, caller waits.
  core::Status mark_events_sent(std::uint64_t upto_seq) override = 0;

  static constexpr std::size_t kMaxEventMessageBytes = 4096;

  // Deletes delivered records accepted before `older_than`; returns how many.
  // Never deletes a pending record, and never the row holding the highest seq
  // (so seq stays gapless across a purge). Also deletes sent events from
  // before `older_than` (not counted in the result); unsent ones stay.
  virtual Result<std::uint64_t> purge_delivered(core::TimePoint older_than) = 0;
};

}  // namespace postgate::storage
