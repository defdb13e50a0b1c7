#pragma once
// The outlet's evidence store: camera stills, X-ray images and ID photos,
// each sealed (AES-256-GCM, the item id as AAD) into one file under the
// evidence directory, with a row in the record store's database (table
// `evidence`, schema v3) saying what it is, whose it is and how far HQ has it.
//
// Life of an item: `held` (captured for the open parcel; the record commit
// that lists it in its evidence binds it, in the record's transaction) ->
// `pending` (to send) -> `delivered` (HQ verified its SHA-256) -> `evicted`
// (file deleted to make room; the row stays). `failed`: HQ refused it.
// Items still held when the store opens belonged to a parcel that was never
// committed: stills and ID photos are deleted (nothing was accepted), X-ray
// scans are kept as unbound.
//
// Caps: an item larger than max_item_bytes is refused; when the files would
// exceed max_total_bytes, delivered items are evicted oldest first, and when
// that is not enough the new item is refused ("evidence_full"): undelivered
// evidence is never dropped to make room.
//
// Not thread-safe: one owner thread (the daemon's loop). Opened after the
// SqliteRecordStore, which creates and migrates the database.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/evidence.hpp"
#include "core/record.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "core/uuid.hpp"
#include "storage/keyring.hpp"
#include "storage/sqlite_db.hpp"

namespace postgate::storage {

struct EvidenceOptions {
  std::filesystem::path db_path;  // the record store's database file
  std::filesystem::path dir;      // where the sealed files go (created 0700)
  KeyRing keys;
  std::uint64_t max_item_bytes = 16ull << 20;
  std::uint64_t max_total_bytes = 4ull << 30;
  bool upload_on_request = false;  // true: send only what HQ asked for
  std::chrono::milliseconds busy_timeout{5000};
};

struct NewEvidence {
  std::string kind;  // camera | xray | id_photo
  std::string source;
  std::string content_type = "image/jpeg";
  core::TimePoint captured_at{};
  std::vector<std::uint8_t> bytes;
  // true: for the open parcel; bound by the commit of the record that lists
  // it (EvidenceRef::id), discarded if the parcel is cancelled.
  bool held = false;
  core::EvidenceBinding binding = core::EvidenceBinding::commit;
  std::optional<core::Uuid> record_id;  // a committed record it is bound to now
  std::optional<std::uint64_t> record_seq;
  std::map<std::string, std::string> meta;  // masked
};

struct EvidenceStats {
  std::uint64_t held = 0, pending = 0, delivered = 0, failed = 0, evicted = 0;
  std::uint64_t pending_bytes = 0;  // plain bytes not yet verified by HQ
  std::uint64_t stored_bytes = 0;   // sealed files on disk
};

class SqliteEvidenceStore final : public core::EvidenceOutbox {
 public:
  static core::Result<std::unique_ptr<SqliteEvidenceStore>> open(EvidenceOptions options,
                                                                 const core::Clock& clock,
                                                                 core::RandomSource& random);

  // Seals and stores the bytes (file fsync'd before the row is written).
  // Errors: "evidence_too_large", "evidence_full", "evidence_io", storage_*.
  core::Result<core::EvidenceRef> put(NewEvidence e);
  // A held item whose parcel was cancelled: file and row are removed.
  core::Status discard_held(const core::Uuid& id);
  // Binds an item (held or pending, not yet bound to a record) to a
  // committed record: X-ray scans matched after the commit.
  core::Status bind(const core::Uuid& id, const core::Uuid& record_id, std::uint64_t record_seq,
                    core::EvidenceBinding how);
  // A held item no record claimed (an X-ray scan whose binding window
  // passed): sent as unbound from now on.
  core::Status release_unbound(const core::Uuid& id);
  // The item of `source` whose meta has key = value (X-ray scans are found
  // again by their scan id, so a scan handed over twice is stored once).
  core::Result<std::optional<core::EvidenceItem>> find_by_meta(const std::string& source,
                                                               const std::string& key,
                                                               const std::string& value) const;
  core::Result<EvidenceStats> stats() const;
  core::Result<std::vector<core::EvidenceItem>> for_record(std::uint64_t record_seq) const;
  core::Result<std::optional<core::EvidenceItem>> item(const core::Uuid& id) const;
  // The plain bytes of a whole item (checked against its SHA-256).
  core::Result<std::vector<std::uint8_t>> read_all(const core::Uuid& id) const;

  // core::EvidenceOutbox
  core::Result<std::optional<core::EvidenceItem>> next_evidence() const override;
  core::Result<std::vector<std::uint8_t>> read_evidence(const core::Uuid& id, std::uint64_t offset,
                                                        std::size_t len) const override;
  core::Status evidence_progress(const core::Uuid& id, std::uint64_t acked,
                                 int mismatches) override;
  core::Status evidence_delivered(const core::Uuid& id) override;
  core::Status evidence_failed(const core::Uuid& id, const std::string& reason) override;
  core::Result<std::size_t> request_evidence(std::optional<core::Uuid> record_id,
                                             std::optional<std::uint64_t> record_seq) override;

  const EvidenceOptions& options() const { return options_; }

 private:
  SqliteEvidenceStore(EvidenceOptions options, const core::Clock& clock,
                      core::RandomSource& random);
  core::Status reconcile_held();
  core::Status make_room(std::uint64_t incoming);
  core::Result<const std::vector<std::uint8_t>*> cached(const core::Uuid& id) const;
  core::Result<std::vector<core::EvidenceItem>> query_items(std::string_view sql,
                                                            const std::string& arg) const;
  core::Status exec_update(std::string_view sql, const std::string& id,
                           std::optional<std::int64_t> a = std::nullopt,
                           std::optional<std::string> b = std::nullopt);

  EvidenceOptions options_;
  const core::Clock& clock_;
  core::RandomSource& random_;
  mutable Db db_;
  // The uplink reads an item chunk by chunk: its plain bytes are kept
  // between chunks (one item, at most max_item_bytes).
  mutable std::string cached_id_;
  mutable std::vector<std::uint8_t> cached_plain_;
};

}  // namespace postgate::storage
