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

}  // namespace postgate::hq
