#pragma once
// The HQ database: records per (outlet, seq), the per-outlet watermark that
// acks are computed from, conflicts, events, and the latest status and
// telemetry of each outlet. One writer connection; several receivers may
// share the file (BEGIN IMMEDIATE serialises them).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/record.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "hq/db.hpp"
#include "storage/keyring.hpp"

namespace postgate::hq {

using json = nlohmann::json;

struct Gap {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  friend bool operator==(const Gap&, const Gap&) = default;
};

// What the records table holds of a record besides its keys: the masked JSON
// body and the personal fields (JSON, sealed at rest when a key is set).
// Computed off the storing thread when the receiver parses ahead.
struct StoredForm {
  std::string body;
  std::string personal;
};
StoredForm stored_form(const core::Record& r);

struct BatchOutcome {
  std::size_t stored = 0;
  std::size_t duplicates = 0;
  std::size_t conflicts = 0;  // records whose seq was held under another id
  std::vector<std::uint64_t> conflict_seqs;
  std::uint64_t watermark = 0;  // after the batch
  std::uint64_t missing = 0;    // seqs absent between the watermark and max seq
  std::vector<Gap> gaps;        // the first few missing ranges
};

struct Event {
  std::string id;
  std::optional<std::string> at;
  std::string kind;
  std::string severity;
  std::optional<std::string> message;
  std::optional<std::int64_t> record_seq;
  std::string body;  // the payload as received
};

struct OutletSummary {
  std::string outlet;
  std::uint64_t watermark = 0;
  std::uint64_t max_seq = 0;
  std::uint64_t records = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t conflicts = 0;
  std::uint64_t malformed = 0;
  std::optional<core::TimePoint> last_seen;
  std::optional<std::string> state;  // from the last status message
  std::optional<json> status;
  std::optional<core::TimePoint> status_at;
  std::optional<json> telemetry;
  std::optional<core::TimePoint> telemetry_at;
  std::uint64_t missing = 0;
  std::vector<Gap> gaps;
  std::uint64_t events = 0;
  std::uint64_t evidence_verified = 0;
  std::uint64_t evidence_partial = 0;
  std::uint64_t evidence_rejected = 0;
};

// One evidence item at HQ (the `evidence` table).
struct EvidenceRow {
  std::string outlet;
  std::string id;
  std::string kind;
  std::string source;
  std::string content_type;
  core::TimePoint captured_at{};
  std::uint64_t size = 0;
  std::string sha256;
  std::optional<std::string> record_id;
  std::optional<std::int64_t> record_seq;
  std::string binding;
  std::string meta_json = "{}";
  std::uint64_t have = 0;
  std::string state = "partial";  // partial, verified, rejected
  std::optional<std::string> path;
  core::TimePoint first_at{};
  std::optional<core::TimePoint> verified_at;
  std::int64_t mismatches = 0;
  std::optional<std::int64_t> key_id;
  std::optional<std::string> reason;
};

struct ConflictRow {
  std::uint64_t seq = 0;
  std::string kept_id;
  std::string other_id;
  core::TimePoint first_at{};
  core::TimePoint last_at{};
  std::uint64_t times = 0;
};

struct StoreOptions {
  // Seals personal fields (name, document number, evidence paths) at rest.
  std::optional<storage::KeyRing> keys;
  std::chrono::milliseconds busy_timeout{10000};
  std::size_t max_gap_ranges = 20;
};

class HqStore {
 public:
  // Creates the file and schema when missing (serve).
  static core::Result<HqStore> open(const std::filesystem::path& path, StoreOptions options);
  // For the read commands: fails with "db_missing" rather than create.
  static core::Result<HqStore> open_existing(const std::filesystem::path& path,
                                             StoreOptions options);

  // Stores one batch in one transaction and advances the watermark.
  // `malformed` counts records of the payload already rejected by the
  // parser, so the outlet's counter includes them. `live` is false for a
  // message the broker replayed as retained.
  // `forms`, when given, holds stored_form() of each record, in order.
  core::Result<BatchOutcome> store_batch(std::string_view outlet,
                                         const std::vector<core::Record>& records,
                                         std::uint64_t malformed, core::TimePoint received_at,
                                         const std::vector<StoredForm>* forms = nullptr);
  core::Status note_malformed(std::string_view outlet, core::TimePoint received_at);
  core::Status put_status(std::string_view outlet, std::string_view state, const json& payload,
                          core::TimePoint received_at, bool live);
  core::Status put_telemetry(std::string_view outlet, const json& payload,
                             core::TimePoint received_at);
  // false when an event with that id was already held.
  core::Result<bool> add_event(std::string_view outlet, const Event& e,
                               core::TimePoint received_at);

  // Group commit: between begin_group and commit_group every call above is
  // one savepoint of a single transaction, so a burst of batches costs one
  // fsync. Nothing done inside a group may be acknowledged before
  // commit_group succeeds. abort_group undoes the whole group.
  core::Status begin_group();
  core::Status commit_group();
  void abort_group();
  bool in_group() const { return group_open_; }

  core::Result<std::uint64_t> watermark(std::string_view outlet);
  core::Result<std::vector<Gap>> gaps(std::string_view outlet, std::size_t limit);
  core::Result<std::vector<OutletSummary>> fleet();
  core::Result<std::vector<ConflictRow>> conflicts(std::string_view outlet, std::size_t limit);
  // The newest `limit` records in seq order, in their wire JSON form; clear
  // needs the key they were sealed with ("key_required" / "key_unknown").
  core::Result<std::vector<json>> records(std::string_view outlet, std::size_t limit, bool clear);

  // Evidence (hq_store_evidence.cpp). put_evidence writes the whole row.
  core::Result<std::optional<EvidenceRow>> evidence_item(std::string_view outlet,
                                                         std::string_view id);
  core::Status put_evidence(const EvidenceRow& row);
  core::Result<std::vector<EvidenceRow>> evidence_items(std::string_view outlet,
                                                        std::optional<std::int64_t> record_seq,
                                                        std::size_t limit);
  core::Result<std::vector<EvidenceRow>> evidence_for_seqs(std::string_view outlet,
                                                           std::int64_t first, std::int64_t last);
  const std::optional<storage::KeyRing>& keys() const { return options_.keys; }

 private:
  HqStore(Db db, StoreOptions options) : db_(std::move(db)), options_(std::move(options)) {}
  static core::Result<HqStore> open_with(const std::filesystem::path& path, Db::Mode mode,
                                         StoreOptions options);
  core::Status migrate();
  core::Status ensure_outlet(std::string_view outlet);
  core::Result<std::uint64_t> advance_watermark(std::string_view outlet, std::uint64_t from);
  core::Result<std::uint64_t> missing_above(std::string_view outlet, std::uint64_t watermark);
  core::Result<std::vector<Gap>> gaps_above(std::string_view outlet, std::uint64_t watermark,
                                            std::size_t limit);
  template <class F>
  auto in_transaction(F&& f) -> decltype(f());
  core::Status evidence_counts(OutletSummary& s);

  Db db_;
  StoreOptions options_;
  bool group_open_ = false;
};

}  // namespace postgate::hq
