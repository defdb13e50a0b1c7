#include "storage/row_codec.hpp"

#include <openssl/crypto.h>

#include <array>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "core/identity.hpp"

namespace postgate::storage {

namespace {

using json = nlohmann::json;

// ---- on-disk enum names ---------------------------------------------------

std::string_view disk_name(core::DocType t) {
  switch (t) {
    case core::DocType::resident_id:
      return "resident_id";
    case core::DocType::temporary_resident_id:
      return "temporary_resident_id";
    case core::DocType::hmt_residence_permit:
      return "hmt_residence_permit";
    case core::DocType::hk_macau_travel_permit:
      return "hk_macau_travel_permit";
    case core::DocType::taiwan_travel_permit:
      return "taiwan_travel_permit";
    case core::DocType::passport:
      return "passport";
    case core::DocType::foreign_permanent_resident_id:
      return "foreign_permanent_resident_id";
    case core::DocType::military_id:
      return "military_id";
    case core::DocType::armed_police_id:
      return "armed_police_id";
    case core::DocType::organisation:
      return "organisation";
  }
  return "unknown";
}

constexpr std::array kDocTypes = {
    core::DocType::resident_id,
    core::DocType::temporary_resident_id,
    core::DocType::hmt_residence_permit,
    core::DocType::hk_macau_travel_permit,
    core::DocType::taiwan_travel_permit,
    core::DocType::passport,
    core::DocType::foreign_permanent_resident_id,
    core::DocType::military_id,
    core::DocType::armed_police_id,
    core::DocType::organisation,
};

std::optional<core::DocType> doc_type_from_disk(std::string_view s) {
  for (core::DocType t : kDocTypes)
    if (disk_name(t) == s) return t;
  return std::nullopt;
}

std::string_view disk_name(core::Sex s) {
  switch (s) {
    case core::Sex::unknown:
      return "unknown";
    case core::Sex::male:
      return "male";
    case core::Sex::female:
      return "female";
    case core::Sex::unstated:
      return "unstated";
  }
  return "unknown";
}

core::Sex sex_from_disk(std::string_view s) {
  if (s == "male") return core::Sex::male;
  if (s == "female") return core::Sex::female;
  if (s == "unstated") return core::Sex::unstated;
  return core::Sex::unknown;
}

std::string_view disk_name(core::Severity s) {
  switch (s) {
    case core::Severity::prohibited:
      return "prohibited";
    case core::Severity::restricted:
      return "restricted";
  }
  return "prohibited";
}

core::Severity severity_from_disk(std::string_view s) {
  return s == "restricted" ? core::Severity::restricted : core::Severity::prohibited;
}

std::string_view disk_name(core::InspectionOutcome o) {
  switch (o) {
    case core::InspectionOutcome::pass:
      return "pass";
    case core::InspectionOutcome::refuse:
      return "refuse";
  }
  return "pass";
}

// Dates as days since 1970-01-01: compact and free of formatting choices.
std::int64_t to_days(const core::Date& d) {
  return std::chrono::sys_days(d).time_since_epoch().count();
}

core::Date from_days(std::int64_t n) {
  return core::Date{std::chrono::sys_days(std::chrono::days(n))};
}

json body_of(const core::Record& r) {
  const core::Acceptance& a = r.acceptance;
  json waybills = json::array();
  for (const auto& w : a.waybills)
    waybills.push_back({{"number", w.number}, {"carrier", w.carrier}});
  json hits = json::array();
  for (const auto& h : a.screening_hits)
    hits.push_back({{"category", h.category},
                    {"name", h.name},
                    {"severity", disk_name(h.severity)},
                    {"keyword", h.keyword}});
  json evidence = json::array();
  for (const auto& e : a.evidence)
    evidence.push_back({{"kind", e.kind},
                        {"source", e.source},
                        {"sha256", e.sha256},
                        {"size", e.size},
                        {"captured_at", to_unix_ms(e.captured_at)}});
  return {{"waybills", std::move(waybills)},
          {"declared", a.declared},
          {"inspection",
           {{"outcome", disk_name(a.inspection.outcome)},
            {"refuse_category", a.inspection.refuse_category},
            {"restricted_confirmed", a.inspection.restricted_confirmed},
            {"note", a.inspection.note}}},
          {"screening_hits", std::move(hits)},
          {"evidence", std::move(evidence)}};
}

json personal_of(const core::Record& r) {
  const core::IdentityDocument& s = r.acceptance.sender;
  json j = {{"name", s.name}, {"number", s.number}};
  if (s.birth_date) j["birth_date"] = to_days(*s.birth_date);
  if (s.sex) j["sex"] = disk_name(*s.sex);
  if (s.nationality) j["nationality"] = *s.nationality;
  if (s.valid_to) j["valid_to"] = to_days(*s.valid_to);
  json paths = json::array();
  for (const auto& e : r.acceptance.evidence) paths.push_back(e.path);
  j["evidence_paths"] = std::move(paths);
  return j;
}

}  // namespace

std::int64_t to_unix_ms(core::TimePoint t) {
  return t.time_since_epoch().count();
}

core::TimePoint from_unix_ms(std::int64_t ms) {
  return core::TimePoint(std::chrono::milliseconds(ms));
}

std::string wire_aad(const std::string& id) {
  // Not the bare id (the personal blob's AAD): neither sealed value of a row
  // opens in the other's column.
  return "wire/" + id;
}

namespace {
constexpr std::string_view kSeqPlaceholder = ",\"seq\":0,";
}

core::Result<std::string> open_wire(const std::vector<std::uint8_t>& sealed, std::int64_t seq,
                                    const std::string& id, const KeyRing& ring) {
  auto text = open_sealed(ring, sealed, wire_aad(id));
  if (!text) {
    core::Error e = text.error();
    e.message = "record seq " + std::to_string(seq) + " wire form: " + e.message;
    return std::unexpected(std::move(e));
  }
  const auto at = text->find(kSeqPlaceholder);
  if (at == std::string::npos)
    return core::fail("record_decode", "wire",
                      "record seq " + std::to_string(seq) + ": stored wire form has no seq");
  text->replace(at + kSeqPlaceholder.size() - 2, 1, std::to_string(seq));
  return text;
}

core::Result<EncodedRow> encode_row(const core::Record& r, const KeyRing& ring,
                                    const WireEncoder* wire) {
  EncodedRow row;
  row.id = r.id.str();
  const core::Acceptance& a = r.acceptance;
  row.ref = a.ref;
  row.accepted_at_ms = to_unix_ms(r.accepted_at);
  row.counter = a.counter;
  row.operator_id = a.operator_id;
  row.doc_type = disk_name(a.sender.type);
  row.name_masked = core::mask_name(a.sender.name);
  row.number_masked = core::mask_number(a.sender.type, a.sender.number);
  std::string personal;
  try {
    row.body = body_of(r).dump();
    personal = personal_of(r).dump();
  } catch (const json::exception&) {
    // nlohmann refuses invalid UTF-8; the text itself stays out of the message.
    return core::fail("invalid_text", "", "record " + row.id + " holds text that is not UTF-8");
  }
  auto sealed = seal(ring.current, personal, row.id);
  OPENSSL_cleanse(personal.data(), personal.size());
  if (!sealed) return std::unexpected(sealed.error());
  row.personal = std::move(*sealed);
  row.key_id = ring.current.id;
  if (wire && *wire) {
    // A submitted record has no seq yet; only a test would pass one.
    std::optional<core::Record> zero;
    if (r.seq != 0) {
      zero = r;
      zero->seq = 0;
    }
    auto text = (*wire)(zero ? *zero : r);
    if (!text) return std::unexpected(text.error());
    if (text->find(kSeqPlaceholder) == std::string::npos)
      return core::fail("wire_form", "", "the wire encoder wrote no top-level seq");
    auto w = seal(ring.current, *text, wire_aad(row.id));
    OPENSSL_cleanse(text->data(), text->size());
    if (!w) return std::unexpected(w.error());
    row.wire = std::move(*w);
  }
  row.payload_bytes = static_cast<std::int64_t>(
      row.id.size() + (row.ref ? row.ref->size() : 0) + row.counter.size() +
      row.operator_id.size() + row.doc_type.size() + row.name_masked.size() +
      row.number_masked.size() + row.body.size() + row.personal.size() + 64);
  return row;
}

core::Result<core::Record> decode_row(const StoredRow& row, const KeyRing& ring) {
  const std::string where = "record seq " + std::to_string(row.seq);
  core::Record r;
  const auto id = core::Uuid::parse(row.id);
  if (!id) return core::fail("record_decode", "id", where + ": stored id is not a UUID");
  r.id = *id;
  r.seq = static_cast<std::uint64_t>(row.seq);
  r.accepted_at = from_unix_ms(row.accepted_at_ms);
  core::Acceptance& a = r.acceptance;
  a.ref = row.ref;
  a.counter = row.counter;
  a.operator_id = row.operator_id;
  const auto type = doc_type_from_disk(row.doc_type);
  if (!type) return core::fail("record_decode", "doc_type", where + ": unknown document type");
  a.sender.type = *type;

  auto personal = open_sealed(ring, row.personal, row.id);
  if (!personal) {
    core::Error e = personal.error();
    e.message = where + ": " + e.message;
    return std::unexpected(std::move(e));
  }
  std::vector<std::string> evidence_paths;
  try {
    const json p = json::parse(*personal);
    OPENSSL_cleanse(personal->data(), personal->size());
    a.sender.name = p.at("name").get<std::string>();
    a.sender.number = p.at("number").get<std::string>();
    if (p.contains("birth_date"))
      a.sender.birth_date = from_days(p["birth_date"].get<std::int64_t>());
    if (p.contains("sex")) a.sender.sex = sex_from_disk(p["sex"].get<std::string>());
    if (p.contains("nationality")) a.sender.nationality = p["nationality"].get<std::string>();
    if (p.contains("valid_to")) a.sender.valid_to = from_days(p["valid_to"].get<std::int64_t>());
    evidence_paths = p.value("evidence_paths", std::vector<std::string>{});

    const json b = json::parse(row.body);
    for (const auto& w : b.at("waybills"))
      a.waybills.push_back({w.at("number").get<std::string>(), w.at("carrier").get<std::string>()});
    a.declared = b.at("declared").get<std::string>();
    const json& in = b.at("inspection");
    a.inspection.outcome = in.at("outcome").get<std::string>() == "refuse"
                               ? core::InspectionOutcome::refuse
                               : core::InspectionOutcome::pass;
    a.inspection.refuse_category = in.value("refuse_category", "");
    a.inspection.restricted_confirmed = in.value("restricted_confirmed", false);
    a.inspection.note = in.value("note", "");
    for (const auto& h : b.at("screening_hits"))
      a.screening_hits.push_back({h.at("category").get<std::string>(),
                                  h.at("name").get<std::string>(),
                                  severity_from_disk(h.at("severity").get<std::string>()),
                                  h.at("keyword").get<std::string>()});
    const json& ev = b.at("evidence");
    for (std::size_t i = 0; i < ev.size(); ++i) {
      core::EvidenceRef e;
      e.kind = ev[i].at("kind").get<std::string>();
      e.source = ev[i].at("source").get<std::string>();
      e.sha256 = ev[i].at("sha256").get<std::string>();
      e.size = ev[i].at("size").get<std::uint64_t>();
      e.captured_at = from_unix_ms(ev[i].at("captured_at").get<std::int64_t>());
      if (i < evidence_paths.size()) e.path = evidence_paths[i];
      a.evidence.push_back(std::move(e));
    }
  } catch (const json::exception&) {
    return core::fail("record_decode", "", where + ": stored JSON is malformed");
  }
  return r;
}

}  // namespace postgate::storage
