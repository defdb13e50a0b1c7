#pragma once
// Output of `postgate-hq fleet` and `postgate-hq records`: text for people,
// JSON for scripts and tests (docs/hq.md lists the fields).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hq/hq_store.hpp"

namespace postgate::hq {

nlohmann::json fleet_to_json(const std::vector<OutletSummary>& fleet);
std::string fleet_to_text(const std::vector<OutletSummary>& fleet);
// `records` are the stored wire forms (masked or clear, as fetched).
std::string records_to_text(const std::vector<nlohmann::json>& records);
std::string gaps_to_text(const std::vector<Gap>& gaps, std::uint64_t missing);

// Evidence (`postgate-hq evidence`), and the short form `records` attaches
// to each record as "evidence_at_hq": [{id, kind, state, size, binding}].
nlohmann::json evidence_to_json(const EvidenceRow& row);
std::string evidence_to_text(const std::vector<EvidenceRow>& rows);
void attach_evidence(std::vector<nlohmann::json>& records, const std::vector<EvidenceRow>& rows);

}  // namespace postgate::hq
