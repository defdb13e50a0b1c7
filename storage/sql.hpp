#pragma once
// Every SQL statement of the record store, in one place (docs/storage.md
// describes the schema). Statements take positional parameters ?1, ?2, ...
#include <array>
#include <string_view>

namespace postgate::storage::sql {

// ---- schema ---------------------------------------------------------------

// Migration N (1-based) takes the schema from user_version N-1 to N. Append
// only: a released migration is never edited, since files in the field have
// already run it.
inline constexpr std::array<std::string_view, 4> kMigrations = {
    // v1: records, and the meta counters that outlive any purge.
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('last_seq', 0), ('delivered_upto', 0);

CREATE TABLE records (
  seq            INTEGER PRIMARY KEY,    -- given by the store, gapless from 1
  id             TEXT NOT NULL UNIQUE,   -- UUID, canonical text
  ref            TEXT UNIQUE,            -- caller's idempotency key; NULLs do not collide
  accepted_at    INTEGER NOT NULL,       -- Unix ms, UTC
  counter        TEXT NOT NULL,
  operator_id    TEXT NOT NULL,
  doc_type       TEXT NOT NULL,
  name_masked    TEXT NOT NULL,          -- for display without the key
  number_masked  TEXT NOT NULL,
  body           TEXT NOT NULL,          -- JSON: waybills, declared, inspection, hits, evidence metadata
  personal       BLOB NOT NULL,          -- sealed JSON: sender identity, evidence paths
  key_id         INTEGER NOT NULL,       -- key that sealed `personal` (for rotation)
  payload_bytes  INTEGER NOT NULL        -- size estimate for outbox paging
);
CREATE INDEX records_accepted_at ON records (accepted_at);
CREATE INDEX records_key_id ON records (key_id);
)sql",
    // v2: events (alerts for HQ), with their own never-reused counter.
    R"sql(
INSERT INTO meta (key, value) VALUES ('last_event_seq', 0);

CREATE TABLE events (
  seq         INTEGER PRIMARY KEY,       -- from meta.last_event_seq; never reused
  id          TEXT NOT NULL UNIQUE,      -- UUID, canonical text; HQ deduplicates on it
  at          INTEGER NOT NULL,          -- Unix ms, UTC
  kind        TEXT NOT NULL,
  severity    TEXT NOT NULL,
  message     TEXT NOT NULL,             -- masked by the caller
  record_seq  INTEGER,                   -- the record it concerns, if any
  sent        INTEGER NOT NULL DEFAULT 0 -- 1 once HQ has it
);
CREATE INDEX events_unsent ON events (seq) WHERE sent = 0;
CREATE INDEX events_at ON events (at);
)sql",
    // v3: evidence items (camera stills, X-ray images, ID photos): the files
    // are sealed under the evidence directory; a row says what and whose.
    R"sql(
CREATE TABLE evidence (
  id            TEXT PRIMARY KEY,      -- UUID, canonical text
  kind          TEXT NOT NULL,         -- camera | xray | id_photo
  source        TEXT NOT NULL,
  content_type  TEXT NOT NULL,
  captured_at   INTEGER NOT NULL,      -- Unix ms, UTC
  created_at    INTEGER NOT NULL,
  size          INTEGER NOT NULL,      -- plain bytes
  sha256        TEXT NOT NULL,         -- of the plain bytes
  file          TEXT,                  -- name under the evidence dir; NULL once evicted
  stored_bytes  INTEGER NOT NULL,      -- sealed file size, for the total cap
  record_id     TEXT,
  record_seq    INTEGER,
  binding       TEXT NOT NULL,         -- commit | waybill | lane_time | unbound
  meta          TEXT NOT NULL,         -- JSON object, masked
  state         TEXT NOT NULL,         -- held | pending | delivered | failed | evicted
  requested     INTEGER NOT NULL DEFAULT 0,
  acked         INTEGER NOT NULL DEFAULT 0,
  mismatches    INTEGER NOT NULL DEFAULT 0,
  reason        TEXT,
  delivered_at  INTEGER
);
CREATE INDEX evidence_queue ON evidence (requested, created_at) WHERE state = 'pending';
CREATE INDEX evidence_record ON evidence (record_id);
CREATE INDEX evidence_evictable ON evidence (delivered_at) WHERE state = 'delivered';
)sql",
    // v4: each record's wire form, sealed, so a drain sends stored text
    // instead of decoding and re-encoding every record. NULL for rows
    // written before v4 (they are encoded when read).
    R"sql(
ALTER TABLE records ADD COLUMN wire BLOB;  -- sealed wire JSON with seq 0, AAD 'wire/' || id
)sql",
};

inline constexpr int kSchemaVersion = static_cast<int>(kMigrations.size());

inline constexpr std::string_view kUserVersion = "PRAGMA user_version";
inline constexpr std::string_view kQuickCheck = "PRAGMA quick_check";
inline constexpr std::string_view kJournalWal = "PRAGMA journal_mode=WAL";
inline constexpr std::string_view kSyncFull = "PRAGMA synchronous=FULL";
inline constexpr std::string_view kSyncExtra = "PRAGMA synchronous=EXTRA";
// After a checkpoint the WAL is truncated back to this size, so one burst
// does not leave a large file behind.
inline constexpr std::string_view kJournalSizeLimit = "PRAGMA journal_size_limit=67108864";
inline constexpr std::string_view kQueryOnly = "PRAGMA query_only=1";
inline constexpr std::string_view kPageCount = "PRAGMA page_count";
// PRAGMA arguments cannot be bound; the caller appends a number.
inline constexpr std::string_view kMaxPageCountPrefix = "PRAGMA max_page_count=";

// ---- transactions ---------------------------------------------------------

inline constexpr std::string_view kBeginImmediate = "BEGIN IMMEDIATE";
inline constexpr std::string_view kBeginRead = "BEGIN";
inline constexpr std::string_view kCommit = "COMMIT";
inline constexpr std::string_view kRollback = "ROLLBACK";

// ---- meta -----------------------------------------------------------------

inline constexpr std::string_view kGetMeta = "SELECT value FROM meta WHERE key = ?1";
inline constexpr std::string_view kSetMeta = "UPDATE meta SET value = ?2 WHERE key = ?1";

// ---- writes ---------------------------------------------------------------

inline constexpr std::string_view kMaxSeq = "SELECT coalesce(max(seq), 0) FROM records";
inline constexpr std::string_view kFindByRef =
    "SELECT id, seq, accepted_at FROM records WHERE ref = ?1";
// Binds an item held for the open parcel to the record committed for it.
inline constexpr std::string_view kBindEvidence =
    "UPDATE evidence SET record_id = ?1, record_seq = ?2, state = 'pending' "
    "WHERE id = ?3 AND state = 'held'";

inline constexpr std::string_view kInsert =
    "INSERT INTO records (seq, id, ref, accepted_at, counter, operator_id, doc_type, "
    "name_masked, number_masked, body, personal, key_id, payload_bytes, wire) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
// One batch of a purge: delivered (seq <= ?1), older than ?2 (ms), never the
// highest seq (?3), at most ?4 rows.
inline constexpr std::string_view kPurgeBatch =
    "DELETE FROM records WHERE seq IN ("
    "SELECT seq FROM records WHERE seq <= ?1 AND seq < ?3 AND accepted_at < ?2 "
    "ORDER BY seq LIMIT ?4)";

// ---- events ---------------------------------------------------------------

inline constexpr std::string_view kMaxEventSeq = "SELECT coalesce(max(seq), 0) FROM events";
inline constexpr std::string_view kFindEventById = "SELECT seq FROM events WHERE id = ?1";
inline constexpr std::string_view kInsertEvent =
    "INSERT INTO events (seq, id, at, kind, severity, message, record_seq, sent) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)";
// `sent = 0` in the WHERE lets SQLite use the partial index events_unsent.
inline constexpr std::string_view kMarkEventsSent =
    "UPDATE events SET sent = 1 WHERE sent = 0 AND seq <= ?1";
// One batch of an event purge: sent, older than ?1 (ms), at most ?2 rows.
inline constexpr std::string_view kPurgeEventsBatch =
    "DELETE FROM events WHERE seq IN ("
    "SELECT seq FROM events WHERE at < ?1 AND sent = 1 LIMIT ?2)";
// Unsent events after ?1 in seq order, at most ?2.
inline constexpr std::string_view kEventsAfter =
    "SELECT seq, id, at, kind, severity, message, record_seq FROM events "
    "WHERE sent = 0 AND seq > ?1 ORDER BY seq LIMIT ?2";

enum EventColumn : int {
  kEvSeq = 0,
  kEvId,
  kEvAt,
  kEvKind,
  kEvSeverity,
  kEvMessage,
  kEvRecordSeq,
};

// ---- reads ----------------------------------------------------------------

// Walks the distinct key ids through the index: one probe per key, not a scan.
inline constexpr std::string_view kNextKeyId =
    "SELECT key_id, (SELECT count(*) FROM records r WHERE r.key_id = records.key_id) "
    "FROM records WHERE key_id > ?1 ORDER BY key_id LIMIT 1";

#define POSTGATE_RECORD_COLUMNS \
  "seq, id, ref, accepted_at, counter, operator_id, doc_type, body, personal, payload_bytes"

inline constexpr std::string_view kBySeq =
    "SELECT " POSTGATE_RECORD_COLUMNS " FROM records WHERE seq = ?1";
inline constexpr std::string_view kRecent =
    "SELECT " POSTGATE_RECORD_COLUMNS " FROM records ORDER BY seq DESC LIMIT ?1";
// Pending = above delivered_upto. ?1 = after_seq, ?2 = most rows.
inline constexpr std::string_view kPendingAfter =
    "SELECT " POSTGATE_RECORD_COLUMNS
    " FROM records WHERE seq > max(?1, (SELECT value FROM meta WHERE key = 'delivered_upto'))"
    " ORDER BY seq LIMIT ?2";
// The same rows with the sealed wire form as the last column (kColWire).
inline constexpr std::string_view kPendingWireAfter =
    "SELECT " POSTGATE_RECORD_COLUMNS
    ", wire FROM records WHERE seq > max(?1, (SELECT value FROM meta WHERE key = 'delivered_upto'))"
    " ORDER BY seq LIMIT ?2";

#undef POSTGATE_RECORD_COLUMNS

inline constexpr std::string_view kCountRecords = "SELECT count(*) FROM records";
// Seq order is acceptance order, so the first pending row is the oldest one.
inline constexpr std::string_view kOldestPending =
    "SELECT accepted_at FROM records WHERE seq > ?1 ORDER BY seq LIMIT 1";

// Column positions in the record queries above.
enum RecordColumn : int {
  kColSeq = 0,
  kColId,
  kColRef,
  kColAcceptedAt,
  kColCounter,
  kColOperator,
  kColDocType,
  kColBody,
  kColPersonal,
  kColPayloadBytes,
  kColWire,  // kPendingWireAfter only
};

}  // namespace postgate::storage::sql
