#include "uplink/messages.hpp"

#include <algorithm>

#include "codec/record_json.hpp"

namespace postgate::uplink {

Topics make_topics(std::string_view prefix, std::string_view outlet) {
  const std::string base = std::string(prefix) + "/" + std::string(outlet) + "/";
  return {base + "records", base + "ack", base + "status", base + "telemetry", base + "events"};
}

bool valid_outlet(std::string_view outlet) {
  if (outlet.empty() || outlet.size() > 64) return false;
  return std::all_of(outlet.begin(), outlet.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string batch_payload(std::string_view outlet, std::span<const core::Record> records) {
  json batch = json::array();
  for (const auto& r : records) batch.push_back(codec::record_to_json(r, codec::Masking::clear));
  json j = {{"outlet", outlet}, {"batch", std::move(batch)}};
  return j.dump();
}

std::string batch_payload(std::string_view outlet, std::span<const core::WireRecord> records) {
  // nlohmann writes object keys sorted: "batch" before "outlet".
  const std::string tail = "],\"outlet\":" + json(outlet).dump() + "}";
  std::size_t size = 10 + tail.size();
  for (const auto& r : records) size += r.json.size() + 1;
  std::string out;
  out.reserve(size);
  out += "{\"batch\":[";
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out += ',';
    out += records[i].json;
  }
  out += tail;
  return out;
}

std::string birth_payload(std::string_view outlet, std::string_view version,
                          core::TimePoint started_at, core::TimePoint connected_at) {
  json j = {{"state", "online"},
            {"outlet", outlet},
            {"version", version},
            {"started_at", core::format_utc(started_at)},
            {"connected_at", core::format_utc(connected_at)}};
  return j.dump();
}

std::string offline_payload(std::string_view outlet, std::string_view reason,
                            std::optional<core::TimePoint> at) {
  json j = {{"state", "offline"}, {"outlet", outlet}, {"reason", reason}};
  if (at) j["at"] = core::format_utc(*at);
  return j.dump();
}

std::string telemetry_payload(std::string_view outlet, std::string_view version, core::TimePoint at,
                              std::chrono::seconds uptime, const core::OutboxState& state,
                              const LinkFigures& link, const json& extras) {
  json j = {{"outlet", outlet},
            {"at", core::format_utc(at)},
            {"version", version},
            {"uptime_s", uptime.count()},
            {"pending", state.pending},
            {"last_seq", state.last_seq},
            {"last_acked_seq", state.delivered_upto}};
  if (state.oldest_pending) {
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(at - *state.oldest_pending);
    j["oldest_pending_age_s"] = std::max<std::int64_t>(age.count(), 0);
  } else {
    j["oldest_pending_age_s"] = nullptr;
  }
  j["uplink"] = {{"reconnects", link.reconnects},
                 {"bad_acks", link.bad_acks},
                 {"ack_timeouts", link.ack_timeouts},
                 {"inflight_batches", link.inflight_batches}};
  if (extras.is_object()) {
    for (const auto& [k, v] : extras.items())
      if (!j.contains(k)) j[k] = v;
  }
  return j.dump();
}

std::string event_payload(std::string_view outlet, const core::Event& e) {
  json j = {{"outlet", outlet}, {"id", e.id.str()},       {"at", core::format_utc(e.at)},
            {"kind", e.kind},   {"severity", e.severity}, {"message", e.message}};
  if (e.record_seq) j["record_seq"] = *e.record_seq;
  return j.dump();
}

core::Result<std::uint64_t> parse_ack(std::string_view payload, std::string_view outlet) {
  if (payload.size() > kMaxAckBytes)
    return core::fail("ack_too_large", "", "ack of " + std::to_string(payload.size()) + " bytes");
  const json j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return core::fail("ack_not_json", "", "ack is not valid JSON");
  if (!j.is_object()) return core::fail("ack_bad_type", "", "ack is not a JSON object");
  const auto it = j.find("upto_seq");
  if (it == j.end() || !it->is_number_unsigned())
    return core::fail("ack_bad_seq", "upto_seq", "ack has no unsigned integer upto_seq");
  if (const auto o = j.find("outlet"); o != j.end()) {
    if (!o->is_string() || o->get<std::string>() != outlet)
      return core::fail("ack_other_outlet", "outlet", "ack names another outlet");
  }
  return it->get<std::uint64_t>();
}

}  // namespace postgate::uplink
