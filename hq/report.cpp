#include "hq/report.hpp"

#include <algorithm>
#include <sstream>

namespace postgate::hq {

namespace {

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::optional<std::int64_t> pending_of(const OutletSummary& s) {
  if (!s.telemetry) return std::nullopt;
  const auto it = s.telemetry->find("pending");
  if (it == s.telemetry->end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

std::string str_or(const nlohmann::json& j, const char* key, const char* fallback) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

}  // namespace

std::string gaps_to_text(const std::vector<Gap>& gaps, std::uint64_t missing) {
  if (missing == 0) return "0";
  std::string s = std::to_string(gaps.size()) + " (";
  std::uint64_t listed = 0;
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    if (i > 0) s += ",";
    s += std::to_string(gaps[i].first);
    if (gaps[i].last != gaps[i].first) s += "-" + std::to_string(gaps[i].last);
    listed += gaps[i].last - gaps[i].first + 1;
  }
  if (listed < missing) s += ",...";
  return s + ")";
}

nlohmann::json fleet_to_json(const std::vector<OutletSummary>& fleet) {
  auto out = nlohmann::json::array();
  for (const auto& s : fleet) {
    nlohmann::json ranges = nlohmann::json::array();
    for (const auto& g : s.gaps) ranges.push_back({g.first, g.last});
    nlohmann::json j = {
        {"outlet", s.outlet},
        {"state", s.state.value_or("unknown")},
        {"last_seen", s.last_seen ? nlohmann::json(core::format_utc(*s.last_seen)) : nullptr},
        {"acked_seq", s.watermark},
        {"max_seq", s.max_seq},
        {"records", s.records},
        {"pending", nullptr},
        {"gaps", {{"count", s.gaps.size()}, {"missing", s.missing}, {"ranges", ranges}}},
        {"conflicts", s.conflicts},
        {"duplicates", s.duplicates},
        {"ignored", s.malformed},
        {"events", s.events},
        {"evidence",
         {{"verified", s.evidence_verified},
          {"partial", s.evidence_partial},
          {"rejected", s.evidence_rejected}}},
        {"status", s.status ? *s.status : nlohmann::json(nullptr)},
        {"telemetry_at",
         s.telemetry_at ? nlohmann::json(core::format_utc(*s.telemetry_at)) : nullptr},
    };
    if (const auto p = pending_of(s)) j["pending"] = *p;
    out.push_back(std::move(j));
  }
  return out;
}

std::string fleet_to_text(const std::vector<OutletSummary>& fleet) {
  std::vector<std::vector<std::string>> rows = {{"OUTLET", "STATE", "LAST SEEN", "ACKED", "PENDING",
                                                 "GAPS", "CONFLICTS", "IGNORED", "EVIDENCE"}};
  for (const auto& s : fleet) {
    const auto p = pending_of(s);
    rows.push_back(
        {s.outlet, s.state.value_or("unknown"), s.last_seen ? core::format_utc(*s.last_seen) : "-",
         std::to_string(s.watermark), p ? std::to_string(*p) : "-", gaps_to_text(s.gaps, s.missing),
         std::to_string(s.conflicts), std::to_string(s.malformed),
         std::to_string(s.evidence_verified) + " verified" +
             (s.evidence_partial ? ", " + std::to_string(s.evidence_partial) + " partial" : "") +
             (s.evidence_rejected ? ", " + std::to_string(s.evidence_rejected) + " rejected"
                                  : "")});
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::ostringstream out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i)
      line += i + 1 < r.size() ? pad(r[i], width[i] + 2) : r[i];
    out << line << "\n";
  }
  return out.str();
}

std::string records_to_text(const std::vector<nlohmann::json>& records) {
  std::ostringstream out;
  for (const auto& r : records) {
    std::string waybills;
    if (const auto it = r.find("waybills"); it != r.end() && it->is_array())
      for (const auto& w : *it) {
        if (!waybills.empty()) waybills += ",";
        waybills += w.is_string() ? w.get<std::string>() : "?";
      }
    const auto& sender = r.contains("sender") ? r.at("sender") : nlohmann::json::object();
    std::string inspection = "-";
    if (const auto it = r.find("inspection"); it != r.end() && it->is_object())
      inspection = str_or(*it, "outcome", "-");
    out << r.value("seq", std::uint64_t{0}) << "  " << str_or(r, "id", "-") << "  "
        << str_or(r, "accepted_at", "-") << "  " << str_or(r, "counter", "-") << "  "
        << str_or(r, "operator", "-") << "  " << str_or(sender, "doc_type", "-") << "  "
        << str_or(sender, "name", "-") << "  " << str_or(sender, "doc_number", "-") << "  "
        << waybills << "  " << str_or(r, "declared", "-") << "  " << inspection;
    if (const auto it = r.find("evidence_at_hq"); it != r.end() && it->is_array() && !it->empty()) {
      std::size_t verified = 0;
      for (const auto& e : *it)
        if (e.value("state", "") == "verified") ++verified;
      out << "  evidence " << verified << "/" << it->size() << " verified";
    }
    out << "\n";
  }
  return out.str();
}

nlohmann::json evidence_to_json(const EvidenceRow& r) {
  auto meta = nlohmann::json::parse(r.meta_json, nullptr, false);
  if (meta.is_discarded()) meta = nlohmann::json::object();
  return {
      {"outlet", r.outlet},
      {"id", r.id},
      {"kind", r.kind},
      {"source", r.source},
      {"content_type", r.content_type},
      {"captured_at", core::format_utc(r.captured_at)},
      {"size", r.size},
      {"sha256", r.sha256},
      {"record_id", r.record_id ? nlohmann::json(*r.record_id) : nullptr},
      {"record_seq", r.record_seq ? nlohmann::json(*r.record_seq) : nullptr},
      {"binding", r.binding},
      {"meta", std::move(meta)},
      {"have", r.have},
      {"state", r.state},
      {"path", r.path ? nlohmann::json(*r.path) : nullptr},
      {"sealed", r.key_id.has_value()},
      {"first_at", core::format_utc(r.first_at)},
      {"verified_at", r.verified_at ? nlohmann::json(core::format_utc(*r.verified_at)) : nullptr},
      {"mismatches", r.mismatches},
      {"reason", r.reason ? nlohmann::json(*r.reason) : nullptr}};
}

std::string evidence_to_text(const std::vector<EvidenceRow>& rows) {
  std::ostringstream out;
  for (const auto& r : rows) {
    out << (r.record_seq ? std::to_string(*r.record_seq) : std::string("unbound")) << "  " << r.id
        << "  " << r.kind << "  " << r.source << "  " << r.size << " bytes  " << r.binding << "  "
        << r.state;
    if (r.state == "partial") out << " " << r.have << "/" << r.size;
    if (r.reason) out << " (" << *r.reason << ")";
    if (r.path) out << "  " << *r.path;
    out << "\n";
  }
  return out.str();
}

void attach_evidence(std::vector<nlohmann::json>& records, const std::vector<EvidenceRow>& rows) {
  for (auto& rec : records) {
    const auto seq = rec.value("seq", std::int64_t{0});
    auto list = nlohmann::json::array();
    for (const auto& e : rows)
      if (e.record_seq && *e.record_seq == seq)
        list.push_back({{"id", e.id},
                        {"kind", e.kind},
                        {"state", e.state},
                        {"size", e.size},
                        {"binding", e.binding}});
    rec["evidence_at_hq"] = std::move(list);
  }
}

}  // namespace postgate::hq
