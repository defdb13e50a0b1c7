#include "hq/hq_store.hpp"

#include <algorithm>
#include <system_error>
#include <utility>

#include "codec/record_json.hpp"
#include "codec/record_writer.hpp"
#include "hq/hq_sql.hpp"

namespace postgate::hq {

using core::fail;
using core::Result;
using core::Status;

namespace {

std::int64_t to_ms(core::TimePoint t) {
  return t.time_since_epoch().count();
}

core::TimePoint from_ms(std::int64_t ms) {
  return core::TimePoint(std::chrono::milliseconds(ms));
}

std::optional<core::TimePoint> from_ms(std::optional<std::int64_t> ms) {
  if (!ms) return std::nullopt;
  return from_ms(*ms);
}

std::optional<json> parse_or_null(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// Binds a sealed row to where it lives, so a ciphertext copied to another
// row fails to open.
std::string aad_for(std::string_view outlet, std::uint64_t seq, std::string_view id) {
  return std::string(outlet) + "/" + std::to_string(seq) + "/" + std::string(id);
}

json personal_of(const core::Record& r) {
  json paths = json::array();
  for (const auto& e : r.acceptance.evidence) paths.push_back(e.path);
  return {{"name", r.acceptance.sender.name},
          {"doc_number", r.acceptance.sender.number},
          {"evidence_paths", std::move(paths)}};
}

}  // namespace

StoredForm stored_form(const core::Record& r) {
  // The direct writer gives the same bytes as the DOM at a fraction of the
  // cost (this runs for every record received). Records parsed from JSON
  // hold valid UTF-8; for one that does not, the DOM below fails as it
  // always did (nlohmann's type_error).
  StoredForm f;
  bool ok = static_cast<bool>(codec::append_record_json(r, codec::Masking::masked, f.body));
  // Keys in nlohmann's sorted order, so the text is personal_of(r).dump().
  f.personal = "{\"doc_number\":";
  ok = ok && codec::append_json_string(r.acceptance.sender.number, f.personal);
  f.personal += ",\"evidence_paths\":[";
  for (std::size_t i = 0; ok && i < r.acceptance.evidence.size(); ++i) {
    if (i > 0) f.personal += ',';
    ok = codec::append_json_string(r.acceptance.evidence[i].path, f.personal);
  }
  f.personal += "],\"name\":";
  ok = ok && codec::append_json_string(r.acceptance.sender.name, f.personal);
  f.personal += '}';
  if (ok) return f;
  return {codec::record_to_json(r, codec::Masking::masked).dump(), personal_of(r).dump()};
}

template <class F>
auto HqStore::in_transaction(F&& f) -> decltype(f()) {
  // Inside a group (begin_group) each unit of work is a savepoint: a unit
  // that fails is undone alone, and durability comes with commit_group.
  const bool nested = group_open_;
  if (auto s = db_.exec(nested ? sql::kSavepoint : sql::kBeginImmediate, "begin"); !s)
    return std::unexpected(s.error());
  auto result = f();
  if (!result) {
    if (nested) {
      (void)db_.exec(sql::kRollbackToSavepoint, "rollback");
      (void)db_.exec(sql::kReleaseSavepoint, "release");
    } else {
      db_.rollback_if_open();
    }
    return result;
  }
  if (auto s = db_.exec(nested ? sql::kReleaseSavepoint : sql::kCommit, "commit"); !s) {
    if (!nested) db_.rollback_if_open();
    return std::unexpected(s.error());
  }
  return result;
}

Status HqStore::begin_group() {
  if (group_open_) return fail("group_open", "db", "a group transaction is already open");
  if (auto s = db_.exec(sql::kBeginImmediate, "begin"); !s) return s;
  group_open_ = true;
  return {};
}

Status HqStore::commit_group() {
  if (!group_open_) return {};
  group_open_ = false;
  if (auto s = db_.exec(sql::kCommit, "commit"); !s) {
    db_.rollback_if_open();
    return s;
  }
  return {};
}

void HqStore::abort_group() {
  if (!group_open_) return;
  group_open_ = false;
  db_.rollback_if_open();
}

Result<HqStore> HqStore::open(const std::filesystem::path& path, StoreOptions options) {
  return open_with(path, Db::Mode::create, std::move(options));
}

Result<HqStore> HqStore::open_existing(const std::filesystem::path& path, StoreOptions options) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return fail("db_missing", "db", "no HQ database at " + path.string());
  return open_with(path, Db::Mode::existing, std::move(options));
}

Result<HqStore> HqStore::open_with(const std::filesystem::path& path, Db::Mode mode,
                                   StoreOptions options) {
  auto db = Db::open(path, mode, options.busy_timeout);
  if (!db) return std::unexpected(db.error());
  // The ack promises durability: FULL syncs the WAL at every commit.
  if (auto s = db->exec("PRAGMA journal_mode=WAL", "journal_mode"); !s)
    return std::unexpected(s.error());
  if (auto s = db->exec("PRAGMA synchronous=FULL", "synchronous"); !s)
    return std::unexpected(s.error());
  HqStore store(std::move(*db), std::move(options));
  if (auto s = store.migrate(); !s) return std::unexpected(s.error());
  return store;
}

Status HqStore::migrate() {
  // Read commands on a current database take no write lock.
  if (auto v = db_.query_int("PRAGMA user_version"); v && *v == sql::kSchemaVersion) return {};
  // Read first: the read commands (fleet, records) open the database while
  // serve is writing, and must not queue for the write lock (group commits
  // hold it back to back during a drain) when there is nothing to migrate.
  if (auto v = db_.query_int("PRAGMA user_version"); v && *v == sql::kSchemaVersion) return {};
  return in_transaction([&]() -> Status {
    auto v = db_.query_int("PRAGMA user_version");
    if (!v) return std::unexpected(v.error());
    if (*v > sql::kSchemaVersion)
      return fail("schema_newer", "db",
                  "database schema " + std::to_string(*v) + " is newer than this postgate-hq (" +
                      std::to_string(sql::kSchemaVersion) + ")");
    for (auto i = *v; i < sql::kSchemaVersion; ++i) {
      if (auto s = db_.exec(sql::kMigrations[static_cast<std::size_t>(i)], "migration"); !s)
        return s;
      if (auto s = db_.exec("PRAGMA user_version=" + std::to_string(i + 1), "user_version"); !s)
        return s;
    }
    return {};
  });
}

Status HqStore::ensure_outlet(std::string_view outlet) {
  auto st = db_.prepare(sql::kEnsureOutlet);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  if (const int rc = st->step(); rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "outlet"));
  return {};
}

Result<std::uint64_t> HqStore::advance_watermark(std::string_view outlet, std::uint64_t from) {
  auto st = db_.prepare(sql::kSeqsAbove);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  st->bind(2, static_cast<std::int64_t>(from));
  std::uint64_t w = from;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    if (static_cast<std::uint64_t>(st->int64(0)) != w + 1) return w;
    ++w;
  }
  if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "watermark"));
  return w;
}

Result<std::uint64_t> HqStore::missing_above(std::string_view outlet, std::uint64_t watermark) {
  auto st = db_.prepare(sql::kMissingCount);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  st->bind(2, static_cast<std::int64_t>(watermark));
  const int rc = st->step();
  if (rc != SQLITE_ROW) return std::unexpected(db_.error(rc, "missing"));
  return static_cast<std::uint64_t>(st->int64(0));
}

Result<std::vector<Gap>> HqStore::gaps_above(std::string_view outlet, std::uint64_t watermark,
                                             std::size_t limit) {
  auto st = db_.prepare(sql::kGaps);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  st->bind(2, static_cast<std::int64_t>(watermark));
  st->bind(3, static_cast<std::int64_t>(limit));
  std::vector<Gap> gaps;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW)
    gaps.push_back(
        {static_cast<std::uint64_t>(st->int64(0)), static_cast<std::uint64_t>(st->int64(1))});
  if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "gaps"));
  return gaps;
}

Result<BatchOutcome> HqStore::store_batch(std::string_view outlet,
                                          const std::vector<core::Record>& records,
                                          std::uint64_t malformed, core::TimePoint received_at,
                                          const std::vector<StoredForm>* forms) {
  if (forms && forms->size() != records.size())
    return fail("bad_forms", "forms", "stored forms do not match the records");
  return in_transaction([&]() -> Result<BatchOutcome> {
    if (auto s = ensure_outlet(outlet); !s) return std::unexpected(s.error());
    auto before = watermark(outlet);
    if (!before) return std::unexpected(before.error());

    auto find = db_.prepare(sql::kFindRecord);
    auto insert = db_.prepare(sql::kInsertRecord);
    auto conflict = db_.prepare(sql::kInsertConflict);
    if (!find) return std::unexpected(find.error());
    if (!insert) return std::unexpected(insert.error());
    if (!conflict) return std::unexpected(conflict.error());

    BatchOutcome out;
    std::uint64_t new_conflicts = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& r = records[i];
      const std::string id = r.id.str();
      find->reset();
      find->bind(1, outlet);
      find->bind(2, static_cast<std::int64_t>(r.seq));
      const int frc = find->step();
      if (frc == SQLITE_ROW) {
        const std::string kept = find->text(0);
        if (kept == id) {
          ++out.duplicates;
          continue;
        }
        // Never overwrite: the first record under a seq is the one acked.
        ++out.conflicts;
        out.conflict_seqs.push_back(r.seq);
        conflict->reset();
        conflict->bind(1, outlet);
        conflict->bind(2, static_cast<std::int64_t>(r.seq));
        conflict->bind(3, kept);
        conflict->bind(4, id);
        conflict->bind(5, to_ms(received_at));
        conflict->bind(6, codec::record_to_json(r, codec::Masking::masked).dump());
        int crc = conflict->step();
        if (crc != SQLITE_ROW) return std::unexpected(db_.error(crc, "conflict"));
        if (conflict->int64(0) == 1) ++new_conflicts;
        while ((crc = conflict->step()) == SQLITE_ROW) {
        }
        if (crc != SQLITE_DONE) return std::unexpected(db_.error(crc, "conflict"));
        continue;
      }
      if (frc != SQLITE_DONE) return std::unexpected(db_.error(frc, "find"));

      StoredForm computed;
      if (!forms) computed = stored_form(r);
      const StoredForm& form = forms ? (*forms)[i] : computed;
      const std::string& personal = form.personal;
      std::optional<std::int64_t> key_id;
      std::vector<std::uint8_t> blob;
      if (options_.keys) {
        auto sealed = storage::seal(options_.keys->current, personal, aad_for(outlet, r.seq, id));
        if (!sealed) return std::unexpected(sealed.error());
        blob = std::move(*sealed);
        key_id = options_.keys->current.id;
      } else {
        blob.assign(personal.begin(), personal.end());
      }
      insert->reset();
      insert->bind(1, outlet);
      insert->bind(2, static_cast<std::int64_t>(r.seq));
      insert->bind(3, id);
      insert->bind(4, to_ms(r.accepted_at));
      insert->bind(5, to_ms(received_at));
      insert->bind(6, form.body);
      insert->bind_blob(7, blob);
      insert->bind(8, key_id);
      if (const int irc = insert->step(); irc != SQLITE_DONE)
        return std::unexpected(db_.error(irc, "insert"));
      ++out.stored;
    }

    auto w = advance_watermark(outlet, *before);
    if (!w) return std::unexpected(w.error());
    out.watermark = *w;
    auto missing = missing_above(outlet, *w);
    if (!missing) return std::unexpected(missing.error());
    out.missing = *missing;
    if (out.missing > 0) {
      auto g = gaps_above(outlet, *w, options_.max_gap_ranges);
      if (!g) return std::unexpected(g.error());
      out.gaps = std::move(*g);
    }

    auto upd = db_.prepare(sql::kUpdateOutletCounts);
    if (!upd) return std::unexpected(upd.error());
    upd->bind(1, outlet);
    upd->bind(2, static_cast<std::int64_t>(out.watermark));
    upd->bind(3, static_cast<std::int64_t>(out.stored));
    upd->bind(4, static_cast<std::int64_t>(out.duplicates));
    upd->bind(5, static_cast<std::int64_t>(new_conflicts));
    upd->bind(6, static_cast<std::int64_t>(malformed));
    upd->bind(7, std::optional<std::int64_t>(to_ms(received_at)));
    if (const int rc = upd->step(); rc != SQLITE_DONE)
      return std::unexpected(db_.error(rc, "outlet update"));
    return out;
  });
}

Status HqStore::note_malformed(std::string_view outlet, core::TimePoint received_at) {
  return in_transaction([&]() -> Status {
    if (auto s = ensure_outlet(outlet); !s) return s;
    auto st = db_.prepare(sql::kTouchOutlet);
    if (!st) return std::unexpected(st.error());
    st->bind(1, outlet);
    st->bind(2, std::optional<std::int64_t>(to_ms(received_at)));
    st->bind(3, std::int64_t{1});
    if (const int rc = st->step(); rc != SQLITE_DONE)
      return std::unexpected(db_.error(rc, "outlet update"));
    return {};
  });
}

Status HqStore::put_status(std::string_view outlet, std::string_view state, const json& payload,
                           core::TimePoint received_at, bool live) {
  return in_transaction([&]() -> Status {
    if (auto s = ensure_outlet(outlet); !s) return s;
    auto st = db_.prepare(sql::kSetStatus);
    if (!st) return std::unexpected(st.error());
    st->bind(1, outlet);
    st->bind(2, state);
    st->bind(3, payload.dump());
    st->bind(4, to_ms(received_at));
    // A retained status replayed at subscribe time says nothing about when
    // the outlet was last heard from.
    st->bind(5, live ? std::optional<std::int64_t>(to_ms(received_at)) : std::nullopt);
    if (const int rc = st->step(); rc != SQLITE_DONE)
      return std::unexpected(db_.error(rc, "status"));
    return {};
  });
}

Status HqStore::put_telemetry(std::string_view outlet, const json& payload,
                              core::TimePoint received_at) {
  return in_transaction([&]() -> Status {
    if (auto s = ensure_outlet(outlet); !s) return s;
    auto st = db_.prepare(sql::kSetTelemetry);
    if (!st) return std::unexpected(st.error());
    st->bind(1, outlet);
    st->bind(2, payload.dump());
    st->bind(3, to_ms(received_at));
    if (const int rc = st->step(); rc != SQLITE_DONE)
      return std::unexpected(db_.error(rc, "telemetry"));
    return {};
  });
}

Result<bool> HqStore::add_event(std::string_view outlet, const Event& e,
                                core::TimePoint received_at) {
  return in_transaction([&]() -> Result<bool> {
    if (auto s = ensure_outlet(outlet); !s) return std::unexpected(s.error());
    auto st = db_.prepare(sql::kInsertEvent);
    if (!st) return std::unexpected(st.error());
    st->bind(1, outlet);
    st->bind(2, e.id);
    st->bind(3, e.at);
    st->bind(4, e.kind);
    st->bind(5, e.severity);
    st->bind(6, e.message);
    st->bind(7, e.record_seq);
    st->bind(8, to_ms(received_at));
    st->bind(9, e.body);
    if (const int rc = st->step(); rc != SQLITE_DONE)
      return std::unexpected(db_.error(rc, "event"));
    auto n = db_.query_int("SELECT changes()");
    if (!n) return std::unexpected(n.error());
    auto touch = db_.prepare(sql::kTouchOutlet);
    if (!touch) return std::unexpected(touch.error());
    touch->bind(1, outlet);
    touch->bind(2, std::optional<std::int64_t>(to_ms(received_at)));
    touch->bind(3, std::int64_t{0});
    if (const int rc = touch->step(); rc != SQLITE_DONE)
      return std::unexpected(db_.error(rc, "outlet update"));
    return *n > 0;
  });
}

Result<std::uint64_t> HqStore::watermark(std::string_view outlet) {
  auto st = db_.prepare(sql::kGetWatermark);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  const int rc = st->step();
  if (rc == SQLITE_ROW) return static_cast<std::uint64_t>(st->int64(0));
  if (rc == SQLITE_DONE) return std::uint64_t{0};
  return std::unexpected(db_.error(rc, "watermark"));
}

Result<std::vector<Gap>> HqStore::gaps(std::string_view outlet, std::size_t limit) {
  auto w = watermark(outlet);
  if (!w) return std::unexpected(w.error());
  return gaps_above(outlet, *w, limit);
}

Result<std::vector<OutletSummary>> HqStore::fleet() {
  std::vector<OutletSummary> out;
  {
    auto st = db_.prepare(sql::kFleet);
    if (!st) return std::unexpected(st.error());
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      OutletSummary s;
      s.outlet = st->text(0);
      s.watermark = static_cast<std::uint64_t>(st->int64(1));
      s.max_seq = static_cast<std::uint64_t>(st->int64(2));
      s.records = static_cast<std::uint64_t>(st->int64(3));
      s.duplicates = static_cast<std::uint64_t>(st->int64(4));
      s.conflicts = static_cast<std::uint64_t>(st->int64(5));
      s.malformed = static_cast<std::uint64_t>(st->int64(6));
      s.last_seen = from_ms(st->int64_or_null(7));
      s.state = st->text_or_null(8);
      s.status = parse_or_null(st->text_or_null(9));
      s.status_at = from_ms(st->int64_or_null(10));
      s.telemetry = parse_or_null(st->text_or_null(11));
      s.telemetry_at = from_ms(st->int64_or_null(12));
      out.push_back(std::move(s));
    }
    if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "fleet"));
  }
  for (auto& s : out) {
    auto missing = missing_above(s.outlet, s.watermark);
    if (!missing) return std::unexpected(missing.error());
    s.missing = *missing;
    if (s.missing > 0) {
      auto g = gaps_above(s.outlet, s.watermark, options_.max_gap_ranges);
      if (!g) return std::unexpected(g.error());
      s.gaps = std::move(*g);
    }
    auto ev = db_.prepare(sql::kEventCount);
    if (!ev) return std::unexpected(ev.error());
    ev->bind(1, s.outlet);
    if (const int rc = ev->step(); rc != SQLITE_ROW)
      return std::unexpected(db_.error(rc, "events"));
    s.events = static_cast<std::uint64_t>(ev->int64(0));
    if (auto c = evidence_counts(s); !c) return std::unexpected(c.error());
  }
  return out;
}

Result<std::vector<ConflictRow>> HqStore::conflicts(std::string_view outlet, std::size_t limit) {
  auto st = db_.prepare(sql::kConflicts);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  st->bind(2, static_cast<std::int64_t>(limit));
  std::vector<ConflictRow> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW)
    out.push_back({static_cast<std::uint64_t>(st->int64(0)), st->text(1), st->text(2),
                   from_ms(st->int64(3)), from_ms(st->int64(4)),
                   static_cast<std::uint64_t>(st->int64(5))});
  if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "conflicts"));
  return out;
}

Result<std::vector<json>> HqStore::records(std::string_view outlet, std::size_t limit, bool clear) {
  auto st = db_.prepare(sql::kRecent);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  st->bind(2, static_cast<std::int64_t>(limit));
  std::vector<json> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    const auto seq = static_cast<std::uint64_t>(st->int64(0));
    const std::string id = st->text(1);
    auto body = json::parse(st->text(2), nullptr, false);
    if (body.is_discarded())
      return fail("storage_corrupt", "body",
                  "stored record " + std::to_string(seq) + " unreadable");
    if (clear) {
      const auto key_id = st->int64_or_null(4);
      std::string personal_text;
      if (key_id) {
        if (!options_.keys)
          return fail("key_required", "key_file",
                      "records are encrypted at rest; give --key-file to show them in clear");
        auto opened = storage::open_sealed(*options_.keys, st->blob(3), aad_for(outlet, seq, id));
        if (!opened) return std::unexpected(opened.error());
        personal_text = std::move(*opened);
      } else {
        const auto b = st->blob(3);
        personal_text.assign(b.begin(), b.end());
      }
      auto personal = json::parse(personal_text, nullptr, false);
      if (personal.is_discarded() || !personal.is_object())
        return fail("storage_corrupt", "personal",
                    "personal fields of record " + std::to_string(seq) + " unreadable");
      body["sender"]["name"] = personal.value("name", "");
      body["sender"]["doc_number"] = personal.value("doc_number", "");
      const auto paths = personal.value("evidence_paths", json::array());
      auto& ev = body["evidence"];
      for (std::size_t i = 0; ev.is_array() && i < ev.size() && i < paths.size(); ++i)
        ev[i]["path"] = paths[i];
    }
    out.push_back(std::move(body));
  }
  if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "records"));
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace postgate::hq
