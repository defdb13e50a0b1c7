#pragma once
// Every SQL statement of the HQ database, in one place (docs/hq.md describes
// the schema). Times are Unix milliseconds, UTC, on the receiver's clock.
#include <array>
#include <string_view>

namespace postgate::hq::sql {

// Migration N (1-based) takes user_version N-1 to N. Append only.
inline constexpr std::array<std::string_view, 2> kMigrations = {
    R"sql(
CREATE TABLE outlets (
  outlet          TEXT PRIMARY KEY,
  watermark       INTEGER NOT NULL DEFAULT 0,  -- highest seq with 1..seq all stored
  max_seq         INTEGER NOT NULL DEFAULT 0,
  records         INTEGER NOT NULL DEFAULT 0,
  duplicates      INTEGER NOT NULL DEFAULT 0,
  conflicts       INTEGER NOT NULL DEFAULT 0,  -- distinct (seq, other id) pairs
  malformed       INTEGER NOT NULL DEFAULT 0,  -- payloads or records ignored
  last_seen       INTEGER,                     -- last live (not retained) message
  status_state    TEXT,                        -- "online" / "offline"
  status_json     TEXT,
  status_at       INTEGER,
  telemetry_json  TEXT,
  telemetry_at    INTEGER
) WITHOUT ROWID;

CREATE TABLE records (
  outlet       TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  id           TEXT NOT NULL,
  accepted_at  INTEGER NOT NULL,
  received_at  INTEGER NOT NULL,
  body         TEXT NOT NULL,   -- the record's masked JSON form
  personal     BLOB NOT NULL,   -- JSON {name, doc_number, evidence_paths}; sealed when key_id set
  key_id       INTEGER,         -- NULL: personal is plain JSON text
  PRIMARY KEY (outlet, seq)
) WITHOUT ROWID;

CREATE TABLE conflicts (
  outlet       TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  kept_id      TEXT NOT NULL,
  other_id     TEXT NOT NULL,
  first_at     INTEGER NOT NULL,
  last_at      INTEGER NOT NULL,
  times        INTEGER NOT NULL DEFAULT 1,
  other_body   TEXT NOT NULL,   -- masked JSON of the record that was not kept
  PRIMARY KEY (outlet, seq, other_id)
) WITHOUT ROWID;

CREATE TABLE events (
  outlet       TEXT NOT NULL,
  id           TEXT NOT NULL,
  at           TEXT,
  kind         TEXT NOT NULL,
  severity     TEXT NOT NULL,
  message      TEXT,
  record_seq   INTEGER,
  received_at  INTEGER NOT NULL,
  body         TEXT NOT NULL,
  PRIMARY KEY (outlet, id)
) WITHOUT ROWID;
CREATE INDEX events_received ON events (received_at);
)sql",
    // 2: evidence items (docs/hq.md, "Evidence"); the files live in the
    // evidence directory, `path` is relative to it.
    R"sql(
CREATE TABLE evidence (
  outlet        TEXT NOT NULL,
  id            TEXT NOT NULL,
  kind          TEXT NOT NULL,
  source        TEXT NOT NULL,
  content_type  TEXT NOT NULL,
  captured_at   INTEGER NOT NULL,
  size          INTEGER NOT NULL,
  sha256        TEXT NOT NULL,
  record_id     TEXT,
  record_seq    INTEGER,
  binding       TEXT NOT NULL,
  meta_json     TEXT NOT NULL,
  have          INTEGER NOT NULL DEFAULT 0,  -- bytes [0, have) held in the .part file
  state         TEXT NOT NULL,               -- partial, verified, rejected
  path          TEXT,                        -- once verified
  first_at      INTEGER NOT NULL,
  verified_at   INTEGER,
  mismatches    INTEGER NOT NULL DEFAULT 0,
  key_id        INTEGER,                     -- NULL: the file is plain
  reason        TEXT,                        -- why rejected
  PRIMARY KEY (outlet, id)
) WITHOUT ROWID;
CREATE INDEX evidence_record ON evidence (outlet, record_seq);
)sql",
};

inline constexpr int kSchemaVersion = static_cast<int>(kMigrations.size());

inline constexpr std::string_view kBeginImmediate = "BEGIN IMMEDIATE";
inline constexpr std::string_view kCommit = "COMMIT";
inline constexpr std::string_view kSavepoint = "SAVEPOINT unit";
inline constexpr std::string_view kRollbackToSavepoint = "ROLLBACK TO unit";
inline constexpr std::string_view kReleaseSavepoint = "RELEASE unit";

// ---- outlets --------------------------------------------------------------

inline constexpr std::string_view kEnsureOutlet =
    "INSERT INTO outlets (outlet) VALUES (?1) ON CONFLICT (outlet) DO NOTHING";
inline constexpr std::string_view kGetWatermark = "SELECT watermark FROM outlets WHERE outlet = ?1";
// ?2 watermark, ?3 records added, ?4 duplicates, ?5 new conflicts, ?6 malformed,
// ?7 last_seen (NULL keeps it)
inline constexpr std::string_view kUpdateOutletCounts =
    "UPDATE outlets SET watermark = ?2, "
    "max_seq = max(max_seq, coalesce((SELECT max(seq) FROM records WHERE outlet = ?1), 0)), "
    "records = records + ?3, duplicates = duplicates + ?4, conflicts = conflicts + ?5, "
    "malformed = malformed + ?6, last_seen = coalesce(?7, last_seen) WHERE outlet = ?1";
inline constexpr std::string_view kTouchOutlet =
    "UPDATE outlets SET last_seen = coalesce(?2, last_seen), malformed = malformed + ?3 "
    "WHERE outlet = ?1";
inline constexpr std::string_view kSetStatus =
    "UPDATE outlets SET status_state = ?2, status_json = ?3, status_at = ?4, "
    "last_seen = coalesce(?5, last_seen) WHERE outlet = ?1";
inline constexpr std::string_view kSetTelemetry =
    "UPDATE outlets SET telemetry_json = ?2, telemetry_at = ?3, last_seen = ?3 "
    "WHERE outlet = ?1";
inline constexpr std::string_view kFleet =
    "SELECT outlet, watermark, max_seq, records, duplicates, conflicts, malformed, last_seen, "
    "status_state, status_json, status_at, telemetry_json, telemetry_at, "
    "(SELECT max(received_at) FROM events e WHERE e.outlet = o.outlet) "
    "FROM outlets o ORDER BY outlet";

// ---- records --------------------------------------------------------------

inline constexpr std::string_view kFindRecord =
    "SELECT id FROM records WHERE outlet = ?1 AND seq = ?2";
inline constexpr std::string_view kInsertRecord =
    "INSERT INTO records (outlet, seq, id, accepted_at, received_at, body, personal, key_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
// Walks up from the watermark; the caller stops at the first hole.
inline constexpr std::string_view kSeqsAbove =
    "SELECT seq FROM records WHERE outlet = ?1 AND seq > ?2 ORDER BY seq";
// Holes above the watermark ?2: each row is one missing range [first, last].
inline constexpr std::string_view kGaps =
    "SELECT prev + 1, seq - 1 FROM ("
    "  SELECT seq, lag(seq, 1, ?2) OVER (ORDER BY seq) AS prev"
    "  FROM records WHERE outlet = ?1 AND seq > ?2)"
    " WHERE seq > prev + 1 ORDER BY seq LIMIT ?3";
inline constexpr std::string_view kMissingCount =
    "SELECT coalesce(max(seq), ?2) - ?2 - count(*) FROM records WHERE outlet = ?1 AND seq > ?2";
inline constexpr std::string_view kRecent =
    "SELECT seq, id, body, personal, key_id FROM records WHERE outlet = ?1 "
    "ORDER BY seq DESC LIMIT ?2";

// ---- conflicts ------------------------------------------------------------

// Returns a row only when the pair is new (the caller counts it once).
inline constexpr std::string_view kInsertConflict =
    "INSERT INTO conflicts (outlet, seq, kept_id, other_id, first_at, last_at, other_body) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) "
    "ON CONFLICT (outlet, seq, other_id) DO UPDATE SET last_at = excluded.last_at, "
    "times = times + 1 RETURNING times";
inline constexpr std::string_view kConflicts =
    "SELECT seq, kept_id, other_id, first_at, last_at, times FROM conflicts WHERE outlet = ?1 "
    "ORDER BY seq, first_at LIMIT ?2";

// ---- events ---------------------------------------------------------------

inline constexpr std::string_view kInsertEvent =
    "INSERT INTO events (outlet, id, at, kind, severity, message, record_seq, received_at, body) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (outlet, id) DO NOTHING";
inline constexpr std::string_view kEventCount = "SELECT count(*) FROM events WHERE outlet = ?1";
inline constexpr std::string_view kRecentEvents =
    "SELECT id, at, kind, severity, message, record_seq, received_at FROM events "
    "WHERE outlet = ?1 ORDER BY received_at DESC LIMIT ?2";

// ---- evidence -------------------------------------------------------------

inline constexpr std::string_view kEvidenceColumns =
    "outlet, id, kind, source, content_type, captured_at, size, sha256, record_id, record_seq, "
    "binding, meta_json, have, state, path, first_at, verified_at, mismatches, key_id, reason";
inline constexpr std::string_view kPutEvidence =
    "INSERT OR REPLACE INTO evidence (outlet, id, kind, source, content_type, captured_at, size, "
    "sha256, record_id, record_seq, binding, meta_json, have, state, path, first_at, verified_at, "
    "mismatches, key_id, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
    "?14, ?15, ?16, ?17, ?18, ?19, ?20)";
inline constexpr std::string_view kGetEvidence =
    "SELECT outlet, id, kind, source, content_type, captured_at, size, sha256, record_id, "
    "record_seq, binding, meta_json, have, state, path, first_at, verified_at, mismatches, key_id, "
    "reason FROM evidence WHERE outlet = ?1 AND id = ?2";
// ?2: a record seq, or NULL for all; unbound items sort first.
inline constexpr std::string_view kListEvidence =
    "SELECT outlet, id, kind, source, content_type, captured_at, size, sha256, record_id, "
    "record_seq, binding, meta_json, have, state, path, first_at, verified_at, mismatches, key_id, "
    "reason FROM evidence WHERE outlet = ?1 AND (?2 IS NULL OR record_seq = ?2) "
    "ORDER BY record_seq, captured_at, id LIMIT ?3";
inline constexpr std::string_view kEvidenceForSeqs =
    "SELECT outlet, id, kind, source, content_type, captured_at, size, sha256, record_id, "
    "record_seq, binding, meta_json, have, state, path, first_at, verified_at, mismatches, key_id, "
    "reason FROM evidence WHERE outlet = ?1 AND record_seq BETWEEN ?2 AND ?3 "
    "ORDER BY record_seq, captured_at, id";
inline constexpr std::string_view kEvidenceCounts =
    "SELECT state, count(*) FROM evidence WHERE outlet = ?1 GROUP BY state";

}  // namespace postgate::hq::sql
