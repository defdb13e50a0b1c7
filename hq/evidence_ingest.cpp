// evidence/chunk at HQ (docs/protocol.md "evidence", docs/hq.md "Evidence"):
// append in order, verify the SHA-256 once complete, answer every chunk.
//
// Runs inside the receiver's group transaction, which holds the database's
// write lock (BEGIN IMMEDIATE): receivers sharing one database through a
// shared subscription therefore never touch an item's files at the same
// time, and the row's `have` read here is the one the last writer committed.
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "hq/ingest.hpp"
#include "uplink/evidence_messages.hpp"

namespace postgate::hq {

namespace {

using uplink::EvidenceAck;
using uplink::EvidenceAckState;

std::string meta_json(const core::EvidenceItem& item) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : item.meta) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void bind_from(EvidenceRow& row, const core::EvidenceItem& item) {
  // The binding travels with every chunk and may change while an item is
  // on its way (an X-ray scan bound late): the latest chunk says.
  row.record_id = item.record_id ? std::optional<std::string>(item.record_id->str()) : std::nullopt;
  row.record_seq = item.record_seq
                       ? std::optional<std::int64_t>(static_cast<std::int64_t>(*item.record_seq))
                       : std::nullopt;
  row.binding = std::string(core::to_string(item.binding));
  row.meta_json = meta_json(item);
}

EvidenceRow new_row(const std::string& outlet, const core::EvidenceItem& item,
                    core::TimePoint now) {
  EvidenceRow row;
  row.outlet = outlet;
  row.id = item.id.str();
  row.kind = item.kind;
  row.source = item.source;
  row.content_type = item.content_type;
  row.captured_at = item.captured_at;
  row.size = item.size;
  row.sha256 = item.sha256;
  row.first_at = now;
  bind_from(row, item);
  return row;
}

}  // namespace

core::Result<std::optional<Publication>> Ingestor::on_evidence_chunk(const std::string& outlet,
                                                                     std::string_view payload) {
  const auto now = clock_.now();
  ++counters_.evidence_chunks;
  const auto topic = evidence_ack_topic(options_.prefix, outlet);
  auto answer = [&](const core::Uuid& id, std::uint64_t have, EvidenceAckState st,
                    std::string reason = {}) {
    // A verdict is never folded into a later partial ack of the same item.
    std::string key = topic + "/" + id.str();
    if (st != EvidenceAckState::partial) key += "/" + std::string(uplink::to_string(st));
    return std::optional<Publication>(Publication{
        topic, uplink::evidence_ack_payload(EvidenceAck{id, have, st, std::move(reason)}),
        std::move(key)});
  };

  uplink::ChunkLimits limits;
  limits.max_size = options_.max_evidence_bytes;
  auto chunk = files_ ? uplink::parse_chunk(payload, limits)
                      : core::Result<uplink::ParsedChunk>(core::fail(
                            "no_evidence_dir", "evidence_dir", "this receiver keeps no evidence"));
  if (!chunk) {
    reject(outlet, "evidence chunk", chunk.error());
    if (auto s = count_malformed(outlet); !s) return std::unexpected(s.error());
    const auto id = uplink::chunk_id(payload);
    if (!id) return std::optional<Publication>();  // nothing the edge could recognise
    ++counters_.evidence_rejected;
    if (chunk.error().code == "too_large") {
      // Kept as a row, so `postgate-hq evidence` shows what was refused.
      uplink::ChunkLimits any;
      any.max_size = ~std::uint64_t{0};
      if (auto whole = uplink::parse_chunk(payload, any)) {
        auto existing = store_.evidence_item(outlet, whole->item.id.str());
        if (!existing) return std::unexpected(existing.error());
        EvidenceRow row = *existing ? **existing : new_row(outlet, whole->item, now);
        row.state = "rejected";
        row.reason = "too_large";
        if (auto s = store_.put_evidence(row); !s) return std::unexpected(s.error());
      }
    }
    return answer(*id, 0, EvidenceAckState::rejected, chunk.error().code);
  }

  const auto& item = chunk->item;
  const std::string id = item.id.str();
  auto existing = store_.evidence_item(outlet, id);
  if (!existing) {
    ++counters_.store_errors;
    return std::unexpected(existing.error());
  }
  EvidenceRow row = *existing ? **existing : new_row(outlet, item, now);
  if (*existing) {
    if (row.sha256 != item.sha256 || row.size != item.size) {
      ++counters_.evidence_rejected;
      spdlog::warn("outlet {}: evidence {} arrived again with another size or hash: refused",
                   outlet, id);
      return answer(item.id, 0, EvidenceAckState::rejected, "header_changed");
    }
    if (row.state == "verified") return answer(item.id, row.size, EvidenceAckState::verified);
    if (row.state == "rejected")
      return answer(item.id, 0, EvidenceAckState::rejected, row.reason.value_or("rejected"));
    bind_from(row, item);
  }

  // What the file holds may be less than the row says (lost or cut file),
  // never more that counts.
  std::uint64_t have = std::min(row.have, files_->part_size(outlet, id));
  const std::uint64_t len = chunk->bytes.size();
  if (chunk->offset == have && (len > 0 || item.size == 0)) {
    if (auto s = files_->append(outlet, id, have, chunk->bytes); !s) {
      // Not acked: the edge sends it again after its ack timeout.
      ++counters_.store_errors;
      spdlog::error("outlet {}: evidence {} not written: {}", outlet, id, s.error().message);
      return std::optional<Publication>();
    }
    have += len;
    counters_.evidence_bytes += len;
  } else {
    spdlog::debug("outlet {}: evidence {} chunk at {} ignored, holding {}", outlet, id,
                  chunk->offset, have);
  }
  row.have = have;
  row.state = "partial";
  EvidenceAckState verdict = EvidenceAckState::partial;
  if (have == item.size) {
    auto sha = files_->part_sha256(outlet, id);
    if (!sha) {
      ++counters_.store_errors;
      spdlog::error("outlet {}: evidence {} not verified: {}", outlet, id, sha.error().message);
      return std::optional<Publication>();
    }
    if (*sha == item.sha256) {
      const auto& keys = store_.keys();
      const storage::Key* key = keys ? &keys->current : nullptr;
      auto path = files_->finalize(outlet, id, item.content_type, item.sha256, key);
      if (!path) {
        ++counters_.store_errors;
        spdlog::error("outlet {}: evidence {} not stored: {}", outlet, id, path.error().message);
        return std::optional<Publication>();
      }
      row.state = "verified";
      row.path = *path;
      row.verified_at = now;
      row.key_id = key ? std::optional<std::int64_t>(key->id) : std::nullopt;
      verdict = EvidenceAckState::verified;
      ++counters_.evidence_verified;
      spdlog::info("outlet {}: evidence {} ({}, {} bytes{}) verified", outlet, id, item.kind,
                   item.size,
                   item.record_seq ? ", record " + std::to_string(*item.record_seq) : ", unbound");
    } else {
      files_->discard_part(outlet, id);
      row.have = 0;
      ++row.mismatches;
      verdict = EvidenceAckState::mismatch;
      ++counters_.evidence_mismatches;
      spdlog::warn("outlet {}: evidence {} failed its SHA-256 check (mismatch {}): discarded",
                   outlet, id, row.mismatches);
    }
  }
  if (auto s = store_.put_evidence(row); !s) {
    ++counters_.store_errors;
    return std::unexpected(s.error());
  }
  return answer(item.id, row.have, verdict);
}

}  // namespace postgate::hq
