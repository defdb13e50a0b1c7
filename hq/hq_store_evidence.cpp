// The evidence table of HqStore. Each write is one statement: inside the
// receiver's group transaction it commits with the group, before the ack.
#include "hq/hq_sql.hpp"
#include "hq/hq_store.hpp"

namespace postgate::hq {

namespace {

std::int64_t to_ms(core::TimePoint t) {
  return t.time_since_epoch().count();
}

core::TimePoint from_ms(std::int64_t ms) {
  return core::TimePoint(std::chrono::milliseconds(ms));
}

EvidenceRow row_of(const Stmt& st) {
  EvidenceRow r;
  r.outlet = st.text(0);
  r.id = st.text(1);
  r.kind = st.text(2);
  r.source = st.text(3);
  r.content_type = st.text(4);
  r.captured_at = from_ms(st.int64(5));
  r.size = static_cast<std::uint64_t>(st.int64(6));
  r.sha256 = st.text(7);
  r.record_id = st.text_or_null(8);
  r.record_seq = st.int64_or_null(9);
  r.binding = st.text(10);
  r.meta_json = st.text(11);
  r.have = static_cast<std::uint64_t>(st.int64(12));
  r.state = st.text(13);
  r.path = st.text_or_null(14);
  r.first_at = from_ms(st.int64(15));
  if (const auto v = st.int64_or_null(16)) r.verified_at = from_ms(*v);
  r.mismatches = st.int64(17);
  r.key_id = st.int64_or_null(18);
  r.reason = st.text_or_null(19);
  return r;
}

}  // namespace

core::Result<std::optional<EvidenceRow>> HqStore::evidence_item(std::string_view outlet,
                                                                std::string_view id) {
  auto st = db_.prepare(sql::kGetEvidence);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  st->bind(2, id);
  const int rc = st->step();
  if (rc == SQLITE_ROW) return std::optional<EvidenceRow>(row_of(*st));
  if (rc == SQLITE_DONE) return std::optional<EvidenceRow>();
  return std::unexpected(db_.error(rc, "evidence"));
}

core::Status HqStore::put_evidence(const EvidenceRow& r) {
  if (auto s = ensure_outlet(r.outlet); !s) return s;
  auto st = db_.prepare(sql::kPutEvidence);
  if (!st) return std::unexpected(st.error());
  st->bind(1, r.outlet);
  st->bind(2, r.id);
  st->bind(3, r.kind);
  st->bind(4, r.source);
  st->bind(5, r.content_type);
  st->bind(6, to_ms(r.captured_at));
  st->bind(7, static_cast<std::int64_t>(r.size));
  st->bind(8, r.sha256);
  st->bind(9, r.record_id);
  st->bind(10, r.record_seq);
  st->bind(11, r.binding);
  st->bind(12, r.meta_json);
  st->bind(13, static_cast<std::int64_t>(r.have));
  st->bind(14, r.state);
  st->bind(15, r.path);
  st->bind(16, to_ms(r.first_at));
  st->bind(17, r.verified_at ? std::optional<std::int64_t>(to_ms(*r.verified_at)) : std::nullopt);
  st->bind(18, r.mismatches);
  st->bind(19, r.key_id);
  st->bind(20, r.reason);
  if (const int rc = st->step(); rc != SQLITE_DONE)
    return std::unexpected(db_.error(rc, "evidence"));
  return {};
}

core::Result<std::vector<EvidenceRow>> HqStore::evidence_items(
    std::string_view outlet, std::optional<std::int64_t> record_seq, std::size_t limit) {
  auto st = db_.prepare(sql::kListEvidence);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  st->bind(2, record_seq);
  st->bind(3, static_cast<std::int64_t>(limit));
  std::vector<EvidenceRow> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) out.push_back(row_of(*st));
  if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "evidence"));
  return out;
}

core::Result<std::vector<EvidenceRow>> HqStore::evidence_for_seqs(std::string_view outlet,
                                                                  std::int64_t first,
                                                                  std::int64_t last) {
  auto st = db_.prepare(sql::kEvidenceForSeqs);
  if (!st) return std::unexpected(st.error());
  st->bind(1, outlet);
  st->bind(2, first);
  st->bind(3, last);
  std::vector<EvidenceRow> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) out.push_back(row_of(*st));
  if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "evidence"));
  return out;
}

core::Status HqStore::evidence_counts(OutletSummary& s) {
  auto st = db_.prepare(sql::kEvidenceCounts);
  if (!st) return std::unexpected(st.error());
  st->bind(1, s.outlet);
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    const auto state = st->text(0);
    const auto n = static_cast<std::uint64_t>(st->int64(1));
    if (state == "verified")
      s.evidence_verified = n;
    else if (state == "rejected")
      s.evidence_rejected = n;
    else
      s.evidence_partial += n;
  }
  if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "evidence"));
  return {};
}

}  // namespace postgate::hq
