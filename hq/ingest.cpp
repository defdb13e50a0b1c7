#include "hq/ingest.hpp"

#include <set>

#include <spdlog/spdlog.h>

#include "codec/record_json.hpp"

namespace postgate::hq {

using core::fail;
using core::Result;
using core::Status;

namespace {

std::string describe_gaps(const BatchOutcome& o) {
  std::string s;
  for (const auto& g : o.gaps) {
    if (!s.empty()) s += ",";
    s += std::to_string(g.first);
    if (g.last != g.first) s += "-" + std::to_string(g.last);
  }
  if (o.gaps.size() > 0 && o.missing > 0) {
    std::uint64_t listed = 0;
    for (const auto& g : o.gaps) listed += g.last - g.first + 1;
    if (listed < o.missing) s += ",...";
  }
  return s;
}

// The outlet named inside a payload must be the one in the topic: a
// mismatch is a misconfigured or impersonating edge.
Status check_outlet_field(const json& j, std::string_view topic_outlet, bool required) {
  const auto it = j.find("outlet");
  if (it == j.end()) {
    if (required) return fail("bad_shape", "outlet", "payload has no \"outlet\"");
    return {};
  }
  if (!it->is_string()) return fail("bad_shape", "outlet", "\"outlet\" must be a string");
  if (it->get<std::string>() != topic_outlet)
    return fail("outlet_mismatch", "outlet", "payload names another outlet than its topic");
  return {};
}

Result<json> parse_object(std::string_view payload, std::size_t max_bytes) {
  if (payload.size() > max_bytes)
    return fail("oversize", "",
                "payload of " + std::to_string(payload.size()) + " bytes exceeds the limit of " +
                    std::to_string(max_bytes));
  auto j = json::parse(payload, nullptr, false);
  if (j.is_discarded()) return fail("not_json", "", "payload is not JSON");
  if (!j.is_object()) return fail("bad_shape", "", "payload is not a JSON object");
  return j;
}

}  // namespace

bool valid_outlet(std::string_view outlet) {
  if (outlet.empty() || outlet.size() > 64) return false;
  for (const char c : outlet) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<TopicParts> parse_topic(std::string_view prefix, std::string_view topic) {
  if (topic.size() <= prefix.size() + 1 || !topic.starts_with(prefix) ||
      topic[prefix.size()] != '/')
    return std::nullopt;
  const auto rest = topic.substr(prefix.size() + 1);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto outlet = rest.substr(0, slash);
  const auto kind = rest.substr(slash + 1);
  if (!valid_outlet(outlet)) return std::nullopt;
  TopicParts parts{std::string(outlet), Kind::records};
  if (kind == "records")
    parts.kind = Kind::records;
  else if (kind == "status")
    parts.kind = Kind::status;
  else if (kind == "telemetry")
    parts.kind = Kind::telemetry;
  else if (kind == "events")
    parts.kind = Kind::events;
  else if (kind == "evidence/chunk")
    parts.kind = Kind::evidence_chunk;
  else
    return std::nullopt;
  return parts;
}

std::string ack_topic(std::string_view prefix, std::string_view outlet) {
  return std::string(prefix) + "/" + std::string(outlet) + "/ack";
}

std::string evidence_ack_topic(std::string_view prefix, std::string_view outlet) {
  return std::string(prefix) + "/" + std::string(outlet) + "/evidence/ack";
}

std::string ack_payload(std::uint64_t upto_seq) {
  return json{{"upto_seq", upto_seq}}.dump();
}

Result<ParsedBatch> parse_batch(std::string_view topic_outlet, std::string_view payload,
                                std::size_t max_bytes) {
  auto j = parse_object(payload, max_bytes);
  if (!j) return std::unexpected(j.error());
  if (auto s = check_outlet_field(*j, topic_outlet, true); !s) return std::unexpected(s.error());
  const auto batch = j->find("batch");
  if (batch == j->end() || !batch->is_array())
    return fail("bad_shape", "batch", "payload has no \"batch\" array");

  ParsedBatch out;
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < batch->size(); ++i) {
    const auto where = "batch[" + std::to_string(i) + "]";
    auto r = codec::record_from_json((*batch)[i]);
    if (!r) {
      out.rejected.push_back(core::nest(where, r.error()));
      continue;
    }
    if (r->seq == 0) {
      out.rejected.push_back({"bad_value", where + ".seq", "seq counts from 1"});
      continue;
    }
    if (!seen.insert(r->seq).second) {
      out.rejected.push_back({"bad_value", where + ".seq", "seq repeated within one batch"});
      continue;
    }
    out.forms.push_back(stored_form(*r));
    out.records.push_back(std::move(*r));
  }
  return out;
}

void Ingestor::reject(const std::string& outlet, std::string_view what, const core::Error& e) {
  ++counters_.rejected;
  spdlog::warn("outlet {}: {} ignored: {} ({}{}{})", outlet, what, e.message, e.code,
               e.field.empty() ? "" : ", ", e.field);
}

Status Ingestor::count_malformed(const std::string& outlet) {
  auto s = store_.note_malformed(outlet, clock_.now());
  if (!s) ++counters_.store_errors;
  return s;
}

std::optional<Result<ParsedBatch>> Ingestor::parse_ahead(std::string_view topic,
                                                         std::string_view payload) const {
  const auto parts = parse_topic(options_.prefix, topic);
  if (!parts || parts->kind != Kind::records) return std::nullopt;
  return parse_batch(parts->outlet, payload, options_.max_payload_bytes);
}

Result<std::optional<Publication>> Ingestor::handle(std::string_view topic,
                                                    std::string_view payload, bool retained,
                                                    std::optional<Result<ParsedBatch>> parsed) {
  ++counters_.messages;
  const auto parts = parse_topic(options_.prefix, topic);
  if (!parts) {
    ++counters_.rejected;
    spdlog::warn("message on unexpected topic ignored ({} bytes)", payload.size());
    return std::optional<Publication>();
  }
  switch (parts->kind) {
    case Kind::records:
      return on_records(parts->outlet,
                        parsed ? std::move(*parsed)
                               : parse_batch(parts->outlet, payload, options_.max_payload_bytes));
    case Kind::status:
      if (auto s = on_status(parts->outlet, payload, retained); !s)
        return std::unexpected(s.error());
      break;
    case Kind::telemetry:
      if (auto s = on_telemetry(parts->outlet, payload); !s) return std::unexpected(s.error());
      break;
    case Kind::events:
      if (auto s = on_event(parts->outlet, payload); !s) return std::unexpected(s.error());
      break;
    case Kind::evidence_chunk:
      return on_evidence_chunk(parts->outlet, payload);
  }
  return std::optional<Publication>();
}

Result<std::optional<Publication>> Ingestor::on_records(const std::string& outlet,
                                                        Result<ParsedBatch> parsed) {
  const auto now = clock_.now();
  if (!parsed) {
    reject(outlet, "records payload", parsed.error());
    // Counted against the topic's outlet, so `fleet` shows it to an operator.
    if (auto s = count_malformed(outlet); !s) return std::unexpected(s.error());
    return std::optional<Publication>();
  }
  for (const auto& e : parsed->rejected) reject(outlet, "record", e);

  ++counters_.batches;
  auto out =
      store_.store_batch(outlet, parsed->records, parsed->rejected.size(), now, &parsed->forms);
  if (!out) {
    ++counters_.store_errors;
    spdlog::error("outlet {}: batch of {} not stored, not acked: {} ({})", outlet,
                  parsed->records.size(), out.error().message, out.error().code);
    return std::unexpected(out.error());
  }
  counters_.stored += out->stored;
  counters_.duplicates += out->duplicates;
  counters_.conflicts += out->conflicts;
  if (out->conflicts > 0) {
    std::string seqs;
    for (const auto q : out->conflict_seqs) seqs += (seqs.empty() ? "" : ",") + std::to_string(q);
    spdlog::error(
        "outlet {}: CONFLICT: seq {} already held under another id; the first record is kept, "
        "the other recorded in the conflicts table (see `postgate-hq fleet`)",
        outlet, seqs);
  }
  if (out->missing > 0)
    spdlog::warn("outlet {}: gap above acked seq {}: {} missing ({})", outlet, out->watermark,
                 out->missing, describe_gaps(*out));
  spdlog::debug("outlet {}: batch of {}: {} stored, {} duplicate, acked up to {}", outlet,
                parsed->records.size(), out->stored, out->duplicates, out->watermark);
  // Nothing is contiguous from seq 1 yet: an ack of 0 would tell the edge
  // nothing.
  if (out->watermark == 0) return std::optional<Publication>();
  ++counters_.acks;
  return std::optional<Publication>(
      Publication{ack_topic(options_.prefix, outlet), ack_payload(out->watermark), {}});
}

Status Ingestor::on_status(const std::string& outlet, std::string_view payload, bool retained) {
  // An empty retained payload is how a retained status is cleared.
  if (payload.empty()) return {};
  auto j = parse_object(payload, options_.max_payload_bytes);
  if (j) {
    if (auto s = check_outlet_field(*j, outlet, false); !s) j = std::unexpected(s.error());
  }
  std::string state;
  if (j) {
    const auto it = j->find("state");
    if (it == j->end() || !it->is_string())
      j = fail("bad_shape", "state", "status has no \"state\" string");
    else
      state = it->get<std::string>();
  }
  if (!j) {
    reject(outlet, "status", j.error());
    return count_malformed(outlet);
  }
  if (state != "online" && state != "offline")
    spdlog::warn("outlet {}: status with unknown state \"{}\" stored as is", outlet,
                 state.substr(0, 32));
  spdlog::info("outlet {}: {}{}", outlet, state.substr(0, 32), retained ? " (retained)" : "");
  auto s = store_.put_status(outlet, state, *j, clock_.now(), !retained);
  if (!s) ++counters_.store_errors;
  return s;
}

Status Ingestor::on_telemetry(const std::string& outlet, std::string_view payload) {
  auto j = parse_object(payload, options_.max_payload_bytes);
  if (j) {
    if (auto s = check_outlet_field(*j, outlet, false); !s) j = std::unexpected(s.error());
  }
  if (!j) {
    reject(outlet, "telemetry", j.error());
    return count_malformed(outlet);
  }
  auto s = store_.put_telemetry(outlet, *j, clock_.now());
  if (!s) ++counters_.store_errors;
  return s;
}

Status Ingestor::on_event(const std::string& outlet, std::string_view payload) {
  auto j = parse_object(payload, options_.max_payload_bytes);
  if (j) {
    if (auto s = check_outlet_field(*j, outlet, false); !s) j = std::unexpected(s.error());
  }
  Event e;
  if (j) {
    auto str = [&](const char* key) -> std::optional<std::string> {
      const auto it = j->find(key);
      if (it == j->end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    const auto id = str("id");
    const auto kind = str("kind");
    if (!id || id->empty() || !kind)
      j = fail("bad_shape", !id ? "id" : "kind", "event needs string \"id\" and \"kind\"");
    else {
      e.id = *id;
      e.kind = *kind;
      e.severity = str("severity").value_or("info");
      e.at = str("at");
      e.message = str("message");
      if (const auto it = j->find("record_seq"); it != j->end() && it->is_number_unsigned())
        e.record_seq = static_cast<std::int64_t>(it->get<std::uint64_t>());
      e.body = j->dump();
    }
  }
  if (!j) {
    reject(outlet, "event", j.error());
    return count_malformed(outlet);
  }
  auto added = store_.add_event(outlet, e, clock_.now());
  if (!added) {
    ++counters_.store_errors;
    return std::unexpected(added.error());
  }
  if (*added) {
    // Event messages are masked by the edge (docs/protocol.md).
    const auto level = e.severity == "alert"     ? spdlog::level::err
                       : e.severity == "warning" ? spdlog::level::warn
                                                 : spdlog::level::info;
    spdlog::log(level, "outlet {}: event {} ({}): {}", outlet, e.kind.substr(0, 64), e.severity,
                e.message.value_or("").substr(0, 512));
  }
  return {};
}

}  // namespace postgate::hq
