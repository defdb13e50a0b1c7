#include "codec/record_json.hpp"

#include <set>

namespace postgate::codec {

using core::Error;
using core::fail;
using core::Result;

namespace {

// Checks that `j` is an object whose keys are all in `allowed`.
core::Status only_keys(const json& j, const std::set<std::string>& allowed, const std::string& at) {
  for (const auto& [key, _] : j.items()) {
    if (!allowed.contains(key)) {
      std::string list;
      for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
      return fail("unknown_field", at.empty() ? key : at + "." + key,
                  "unknown field \"" + key + "\" (allowed: " + list + ")");
    }
  }
  return {};
}

Result<std::string> get_string(const json& j, const char* key, const std::string& field,
                               bool required) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return fail("missing", field, field + " is required");
    return std::string();
  }
  if (!it->is_string()) return fail("bad_type", field, field + " must be a string");
  return it->get<std::string>();
}

Result<core::Inspection> inspection_from_json(const json& j) {
  core::Inspection in;
  auto outcome_from = [](const std::string& s) -> std::optional<core::InspectionOutcome> {
    if (s == "pass") return core::InspectionOutcome::pass;
    if (s == "refuse") return core::InspectionOutcome::refuse;
    return std::nullopt;
  };
  if (j.is_string()) {
    const auto o = outcome_from(j.get<std::string>());
    if (!o) return fail("bad_value", "inspection", "inspection must be \"pass\" or \"refuse\"");
    in.outcome = *o;
    return in;
  }
  if (!j.is_object())
    return fail("bad_type", "inspection", "inspection must be a string or an object");
  if (auto s = only_keys(j, {"outcome", "category", "restricted_confirmed", "note"}, "inspection");
      !s)
    return std::unexpected(s.error());
  auto outcome = get_string(j, "outcome", "inspection.outcome", true);
  if (!outcome) return std::unexpected(outcome.error());
  const auto o = outcome_from(*outcome);
  if (!o)
    return fail("bad_value", "inspection.outcome",
                "inspection.outcome must be \"pass\" or \"refuse\"");
  in.outcome = *o;
  auto category = get_string(j, "category", "inspection.category", false);
  if (!category) return std::unexpected(category.error());
  in.refuse_category = *category;
  auto note = get_string(j, "note", "inspection.note", false);
  if (!note) return std::unexpected(note.error());
  in.note = *note;
  if (const auto it = j.find("restricted_confirmed"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean())
      return fail("bad_type", "inspection.restricted_confirmed",
                  "inspection.restricted_confirmed must be true or false");
    in.restricted_confirmed = it->get<bool>();
  }
  return in;
}

}  // namespace

Result<core::RawAcceptance> raw_acceptance_from_json(const json& j) {
  if (!j.is_object()) return fail("bad_type", "record", "record must be a JSON object");
  if (auto s = only_keys(
          j, {"ref", "counter", "operator", "sender", "waybills", "declared", "inspection"}, "");
      !s)
    return std::unexpected(s.error());

  core::RawAcceptance raw;
  if (const auto it = j.find("ref"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return fail("bad_type", "ref", "ref must be a string");
    raw.ref = it->get<std::string>();
  }
  auto counter = get_string(j, "counter", "counter", true);
  if (!counter) return std::unexpected(counter.error());
  raw.counter = *counter;
  auto op = get_string(j, "operator", "operator", true);
  if (!op) return std::unexpected(op.error());
  raw.operator_id = *op;

  const auto sender = j.find("sender");
  if (sender == j.end() || sender->is_null())
    return fail("missing", "sender", "sender is required");
  if (!sender->is_object()) return fail("bad_type", "sender", "sender must be an object");
  if (auto s = only_keys(*sender, {"name", "doc_type", "doc_number"}, "sender"); !s)
    return std::unexpected(s.error());
  auto name = get_string(*sender, "name", "sender.name", true);
  if (!name) return std::unexpected(name.error());
  auto type = get_string(*sender, "doc_type", "sender.doc_type", true);
  if (!type) return std::unexpected(type.error());
  auto number = get_string(*sender, "doc_number", "sender.doc_number", true);
  if (!number) return std::unexpected(number.error());
  raw.sender_name = *name;
  raw.sender_doc_type = *type;
  raw.sender_doc_number = *number;

  const auto waybills = j.find("waybills");
  if (waybills == j.end() || waybills->is_null())
    return fail("missing", "waybills", "waybills is required");
  if (!waybills->is_array())
    return fail("bad_type", "waybills", "waybills must be an array of strings");
  for (std::size_t i = 0; i < waybills->size(); ++i) {
    const auto& w = (*waybills)[i];
    if (!w.is_string()) {
      const auto field = "waybills[" + std::to_string(i) + "]";
      return fail("bad_type", field, field + " must be a string");
    }
    raw.waybills.push_back(w.get<std::string>());
  }

  auto declared = get_string(j, "declared", "declared", true);
  if (!declared) return std::unexpected(declared.error());
  raw.declared = *declared;

  if (const auto it = j.find("inspection"); it != j.end() && !it->is_null()) {
    auto in = inspection_from_json(*it);
    if (!in) return std::unexpected(in.error());
    raw.inspection = *in;
  }
  return raw;
}

json inspection_to_json(const core::Inspection& i) {
  json j = {{"outcome", std::string(core::to_string(i.outcome))}};
  if (!i.refuse_category.empty()) j["category"] = i.refuse_category;
  if (i.restricted_confirmed) j["restricted_confirmed"] = true;
  if (!i.note.empty()) j["note"] = i.note;
  return j;
}

json error_to_json(const Error& e) {
  return {{"code", e.code}, {"field", e.field}, {"message", e.message}};
}

json record_to_json(const core::Record& r, Masking m) {
  const auto& a = r.acceptance;
  const bool clear = m == Masking::clear;
  json sender = {
      {"name", clear ? a.sender.name : core::mask_name(a.sender.name)},
      {"doc_type", std::string(core::to_string(a.sender.type))},
      {"doc_number", clear ? a.sender.number : core::mask_number(a.sender.type, a.sender.number)},
  };
  json waybills = json::array();
  for (const auto& w : a.waybills) waybills.push_back(w.number);
  json hits = json::array();
  for (const auto& h : a.screening_hits)
    hits.push_back({{"category", h.category},
                    {"name", h.name},
                    {"severity", std::string(core::to_string(h.severity))},
                    {"keyword", h.keyword}});
  json evidence = json::array();
  for (const auto& e : a.evidence) {
    json ej = {{"kind", e.kind},
               {"source", e.source},
               {"sha256", e.sha256},
               {"size", e.size},
               {"captured_at", core::format_utc(e.captured_at)}};
    if (!e.id.empty()) ej["id"] = e.id;
    if (clear) ej["path"] = e.path;
    evidence.push_back(std::move(ej));
  }
  json j = {
      {"id", r.id.str()},
      {"seq", r.seq},
      {"accepted_at", core::format_utc(r.accepted_at)},
      {"counter", a.counter},
      {"operator", a.operator_id},
      {"sender", std::move(sender)},
      {"waybills", std::move(waybills)},
      {"declared", a.declared},
      {"inspection", inspection_to_json(a.inspection)},
      {"screening_hits", std::move(hits)},
      {"evidence", std::move(evidence)},
  };
  if (a.ref) j["ref"] = *a.ref;
  return j;
}

Result<core::Record> record_from_json(const json& j) {
  if (!j.is_object()) return fail("bad_type", "", "record must be a JSON object");
  try {
    core::Record r;
    const auto id = core::Uuid::parse(j.at("id").get<std::string>());
    if (!id) return fail("bad_value", "id", "id is not a UUID");
    r.id = *id;
    r.seq = j.at("seq").get<std::uint64_t>();
    const auto at = core::parse_utc(j.at("accepted_at").get<std::string>());
    if (!at) return fail("bad_value", "accepted_at", "accepted_at is not a UTC timestamp");
    r.accepted_at = *at;
    auto& a = r.acceptance;
    if (j.contains("ref")) a.ref = j.at("ref").get<std::string>();
    a.counter = j.at("counter").get<std::string>();
    a.operator_id = j.at("operator").get<std::string>();
    const auto& s = j.at("sender");
    const auto type = core::doc_type_from_string(s.at("doc_type").get<std::string>());
    if (!type) return fail("bad_value", "sender.doc_type", "unknown document type");
    a.sender.type = *type;
    a.sender.name = s.at("name").get<std::string>();
    a.sender.number = s.at("doc_number").get<std::string>();
    for (const auto& w : j.at("waybills")) a.waybills.push_back({w.get<std::string>(), ""});
    a.declared = j.at("declared").get<std::string>();
    auto in = inspection_from_json(j.at("inspection"));
    if (!in) return std::unexpected(in.error());
    a.inspection = *in;
    if (j.contains("screening_hits")) {
      for (const auto& h : j.at("screening_hits")) {
        core::ScreeningHit hit;
        hit.category = h.at("category").get<std::string>();
        hit.name = h.value("name", "");
        hit.severity = h.at("severity").get<std::string>() == "prohibited"
                           ? core::Severity::prohibited
                           : core::Severity::restricted;
        hit.keyword = h.value("keyword", "");
        a.screening_hits.push_back(std::move(hit));
      }
    }
    if (j.contains("evidence")) {
      for (const auto& e : j.at("evidence")) {
        core::EvidenceRef ev;
        ev.id = e.value("id", "");
        ev.kind = e.at("kind").get<std::string>();
        ev.source = e.value("source", "");
        ev.path = e.value("path", "");
        ev.sha256 = e.value("sha256", "");
        ev.size = e.value("size", std::uint64_t{0});
        if (const auto t = core::parse_utc(e.value("captured_at", ""))) ev.captured_at = *t;
        a.evidence.push_back(std::move(ev));
      }
    }
    return r;
  } catch (const json::exception& e) {
    // nlohmann's message names the key or type that was wrong; no field values.
    return fail("bad_record", "", std::string("malformed record: ") + e.what());
  }
}

}  // namespace postgate::codec
