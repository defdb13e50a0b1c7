#include "uplink/evidence_messages.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace postgate::uplink {

using json = nlohmann::json;

namespace {

// Short identifiers (kind, source, meta keys): bounded, so a header can be
// logged and stored without surprises.
constexpr std::size_t kMaxTextField = 256;

bool is_lower_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

core::Error bad(std::string field, std::string message) {
  return core::Error{"bad_field", std::move(field), std::move(message)};
}

core::Result<std::string> text_field(const json& j, const char* key, bool allow_empty) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return std::unexpected(bad(key, std::string("\"") + key + "\" must be a string"));
  auto s = it->get<std::string>();
  if ((!allow_empty && s.empty()) || s.size() > kMaxTextField)
    return std::unexpected(bad(key, std::string("\"") + key + "\" empty or too long"));
  return s;
}

core::Result<std::uint64_t> unsigned_field(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned())
    return std::unexpected(bad(key, std::string("\"") + key + "\" must be an unsigned integer"));
  return it->get<std::uint64_t>();
}

core::Result<json> parse_small_object(std::string_view payload, const char* what) {
  if (payload.size() > kMaxEvidenceControlBytes)
    return core::fail("too_large", "", std::string(what) + " over 4 KiB");
  auto j = json::parse(payload, nullptr, false);
  if (j.is_discarded()) return core::fail("not_json", "", std::string(what) + " is not JSON");
  if (!j.is_object())
    return core::fail("bad_shape", "", std::string(what) + " is not a JSON object");
  return j;
}

core::Result<core::EvidenceItem> item_from_header(const json& h) {
  core::EvidenceItem item;
  const auto id = h.find("id");
  std::optional<core::Uuid> uid;
  if (id != h.end() && id->is_string()) uid = core::Uuid::parse(id->get<std::string>());
  if (!uid) return std::unexpected(bad("id", "\"id\" must be a UUID"));
  item.id = *uid;
  auto kind = text_field(h, "kind", false);
  if (!kind) return std::unexpected(kind.error());
  item.kind = std::move(*kind);
  auto source = text_field(h, "source", true);
  if (!source) return std::unexpected(source.error());
  item.source = std::move(*source);
  auto ct = text_field(h, "content_type", false);
  if (!ct) return std::unexpected(ct.error());
  item.content_type = std::move(*ct);
  auto captured = text_field(h, "captured_at", false);
  if (!captured) return std::unexpected(captured.error());
  const auto at = core::parse_utc(*captured);
  if (!at) return std::unexpected(bad("captured_at", "\"captured_at\" is not an RFC 3339 time"));
  item.captured_at = *at;
  auto size = unsigned_field(h, "size");
  if (!size) return std::unexpected(size.error());
  item.size = *size;
  const auto sha = h.find("sha256");
  if (sha == h.end() || !sha->is_string() || !is_lower_hex64(sha->get<std::string>()))
    return std::unexpected(bad("sha256", "\"sha256\" must be 64 lowercase hex digits"));
  item.sha256 = sha->get<std::string>();
  if (const auto rid = h.find("record_id"); rid != h.end() && !rid->is_null()) {
    std::optional<core::Uuid> r;
    if (rid->is_string()) r = core::Uuid::parse(rid->get<std::string>());
    if (!r) return std::unexpected(bad("record_id", "\"record_id\" must be a UUID or null"));
    item.record_id = *r;
  }
  if (const auto rs = h.find("record_seq"); rs != h.end() && !rs->is_null()) {
    if (!rs->is_number_unsigned())
      return std::unexpected(bad("record_seq", "\"record_seq\" must be unsigned or null"));
    item.record_seq = rs->get<std::uint64_t>();
  }
  auto binding = text_field(h, "binding", false);
  if (!binding) return std::unexpected(binding.error());
  const auto b = core::evidence_binding_from_string(*binding);
  if (!b) return std::unexpected(bad("binding", "unknown \"binding\""));
  item.binding = *b;
  if (const auto meta = h.find("meta"); meta != h.end() && !meta->is_null()) {
    if (!meta->is_object()) return std::unexpected(bad("meta", "\"meta\" must be an object"));
    // Only string values are defined; others are dropped, not refused, so a
    // later sender may add structured keys.
    for (const auto& [k, v] : meta->items())
      if (v.is_string() && k.size() <= kMaxTextField &&
          v.get_ref<const std::string&>().size() <= kMaxTextField)
        item.meta[k] = v.get<std::string>();
  }
  return item;
}

}  // namespace

EvidenceTopics make_evidence_topics(std::string_view prefix, std::string_view outlet) {
  const std::string base = std::string(prefix) + "/" + std::string(outlet) + "/evidence/";
  return {base + "chunk", base + "ack", base + "request"};
}

std::string chunk_header(const core::EvidenceItem& item, std::uint64_t offset, std::uint64_t len) {
  json meta = json::object();
  for (const auto& [k, v] : item.meta) meta[k] = v;
  json h = {{"id", item.id.str()},
            {"kind", item.kind},
            {"source", item.source},
            {"content_type", item.content_type},
            {"captured_at", core::format_utc(item.captured_at)},
            {"size", item.size},
            {"sha256", item.sha256},
            {"record_id", item.record_id ? json(item.record_id->str()) : json(nullptr)},
            {"record_seq", item.record_seq ? json(*item.record_seq) : json(nullptr)},
            {"binding", core::to_string(item.binding)},
            {"offset", offset},
            {"len", len},
            {"meta", std::move(meta)}};
  // dump() escapes control characters, so the line holds no raw '\n'.
  return h.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string chunk_payload(const core::EvidenceItem& item, std::uint64_t offset,
                          std::span<const std::uint8_t> bytes) {
  std::string out = chunk_header(item, offset, bytes.size());
  out.reserve(out.size() + 1 + bytes.size());
  out.push_back('\n');
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return out;
}

core::Result<ParsedChunk> parse_chunk(std::string_view payload, const ChunkLimits& limits) {
  const auto nl = payload.substr(0, kMaxChunkHeaderBytes).find('\n');
  if (nl == std::string_view::npos)
    return core::fail("no_header", "", "no header line within the first 8 KiB");
  const auto h = json::parse(payload.substr(0, nl), nullptr, false);
  if (h.is_discarded()) return core::fail("header_not_json", "", "chunk header is not JSON");
  if (!h.is_object()) return core::fail("bad_shape", "", "chunk header is not a JSON object");
  auto item = item_from_header(h);
  if (!item) return std::unexpected(item.error());
  auto offset = unsigned_field(h, "offset");
  if (!offset) return std::unexpected(offset.error());
  auto len = unsigned_field(h, "len");
  if (!len) return std::unexpected(len.error());
  const auto bytes = payload.substr(nl + 1);
  if (*len != bytes.size())
    return core::fail(
        "len_mismatch", "len",
        "len " + std::to_string(*len) + " but " + std::to_string(bytes.size()) + " bytes follow");
  if (item->size > limits.max_size)
    return core::fail("too_large", "size",
                      "item of " + std::to_string(item->size) + " bytes exceeds the limit of " +
                          std::to_string(limits.max_size));
  if (*len > limits.max_len)
    return core::fail("chunk_too_large", "len",
                      "chunk of " + std::to_string(*len) + " bytes exceeds the limit of " +
                          std::to_string(limits.max_len));
  if (*offset > item->size || *len > item->size - *offset)
    return core::fail("beyond_size", "offset", "offset + len beyond size");
  // An empty chunk only stands for an empty item.
  if (*len == 0 && item->size != 0) return core::fail("bad_field", "len", "empty chunk");
  ParsedChunk out;
  out.item = std::move(*item);
  out.offset = *offset;
  out.bytes = bytes;
  return out;
}

std::optional<core::Uuid> chunk_id(std::string_view payload) {
  const auto nl = payload.substr(0, kMaxChunkHeaderBytes).find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  const auto h = json::parse(payload.substr(0, nl), nullptr, false);
  if (!h.is_object()) return std::nullopt;
  const auto id = h.find("id");
  if (id == h.end() || !id->is_string()) return std::nullopt;
  return core::Uuid::parse(id->get<std::string>());
}

std::string_view to_string(EvidenceAckState s) {
  switch (s) {
    case EvidenceAckState::partial:
      return "partial";
    case EvidenceAckState::verified:
      return "verified";
    case EvidenceAckState::mismatch:
      return "mismatch";
    case EvidenceAckState::rejected:
      return "rejected";
  }
  return "partial";
}

std::string evidence_ack_payload(const EvidenceAck& ack) {
  json j = {{"id", ack.id.str()}, {"have", ack.have}, {"state", to_string(ack.state)}};
  if (!ack.reason.empty()) j["reason"] = ack.reason.substr(0, 200);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::Result<EvidenceAck> parse_evidence_ack(std::string_view payload) {
  auto j = parse_small_object(payload, "evidence ack");
  if (!j) return std::unexpected(j.error());
  EvidenceAck ack;
  const auto id = j->find("id");
  std::optional<core::Uuid> uid;
  if (id != j->end() && id->is_string()) uid = core::Uuid::parse(id->get<std::string>());
  if (!uid) return std::unexpected(bad("id", "\"id\" must be a UUID"));
  ack.id = *uid;
  auto have = unsigned_field(*j, "have");
  if (!have) return std::unexpected(have.error());
  ack.have = *have;
  const auto st = j->find("state");
  if (st == j->end() || !st->is_string()) return std::unexpected(bad("state", "no \"state\""));
  const auto& s = st->get_ref<const std::string&>();
  if (s == "partial")
    ack.state = EvidenceAckState::partial;
  else if (s == "verified")
    ack.state = EvidenceAckState::verified;
  else if (s == "mismatch")
    ack.state = EvidenceAckState::mismatch;
  else if (s == "rejected")
    ack.state = EvidenceAckState::rejected;
  else
    return std::unexpected(bad("state", "unknown \"state\""));
  if (const auto r = j->find("reason"); r != j->end() && r->is_string())
    ack.reason = r->get<std::string>().substr(0, 200);
  return ack;
}

std::string evidence_request_payload(const EvidenceRequest& r) {
  json j = json::object();
  if (r.record_id) j["record_id"] = r.record_id->str();
  if (r.record_seq) j["record_seq"] = *r.record_seq;
  return j.dump();
}

core::Result<EvidenceRequest> parse_evidence_request(std::string_view payload) {
  auto j = parse_small_object(payload, "evidence request");
  if (!j) return std::unexpected(j.error());
  EvidenceRequest r;
  if (const auto id = j->find("record_id"); id != j->end() && !id->is_null()) {
    if (id->is_string()) r.record_id = core::Uuid::parse(id->get<std::string>());
    if (!r.record_id) return std::unexpected(bad("record_id", "\"record_id\" must be a UUID"));
  }
  if (const auto seq = j->find("record_seq"); seq != j->end() && !seq->is_null()) {
    if (!seq->is_number_unsigned() || seq->get<std::uint64_t>() == 0)
      return std::unexpected(bad("record_seq", "\"record_seq\" must be a positive integer"));
    r.record_seq = seq->get<std::uint64_t>();
  }
  if (!r.record_id && !r.record_seq)
    return std::unexpected(bad("record_id", "request names neither record_id nor record_seq"));
  return r;
}

}  // namespace postgate::uplink
