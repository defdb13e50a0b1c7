#include "core/acceptance_policy.hpp"

#include <algorithm>

namespace postgate::core {

namespace {

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c == ' ' || c == '\t'; });
}

// Free-text fields reach the record, the screen and HQ: refuse control
// characters (they break logs and terminals) and unbounded sizes.
Status check_text(std::string_view value, std::string_view field, std::size_t max_bytes,
                  bool required) {
  if (required && blank(value))
    return fail("missing", std::string(field), std::string(field) + " is required");
  if (value.size() > max_bytes)
    return fail("too_long", std::string(field),
                std::string(field) + " is longer than " + std::to_string(max_bytes) + " bytes");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7F)
      return fail("bad_text", std::string(field),
                  std::string(field) + " contains a control character");
  return {};
}

}  // namespace

AcceptancePolicy::AcceptancePolicy(WaybillValidator waybills, Screener screener,
                                   std::set<std::string> counters)
    : waybills_(std::move(waybills)),
      screener_(std::move(screener)),
      counters_(std::move(counters)) {}

Result<Acceptance> AcceptancePolicy::validate(const RawAcceptance& raw, Date today) const {
  Acceptance a;

  if (raw.ref) {
    if (auto s = check_text(*raw.ref, "ref", 128, true); !s) return std::unexpected(s.error());
    a.ref = raw.ref;
  }
  if (auto s = check_text(raw.counter, "counter", 64, true); !s) return std::unexpected(s.error());
  if (!counters_.contains(raw.counter))
    return fail("unknown_counter", "counter", "counter \"" + raw.counter + "\" is not configured");
  a.counter = raw.counter;
  if (auto s = check_text(raw.operator_id, "operator", 64, true); !s)
    return std::unexpected(s.error());
  a.operator_id = raw.operator_id;

  if (raw.sender_document) {
    a.sender = *raw.sender_document;
  } else {
    const auto type = doc_type_from_string(raw.sender_doc_type);
    if (!type) {
      std::string known;
      for (auto t : all_doc_types())
        known += (known.empty() ? "" : ", ") + std::string(to_string(t));
      return fail("unknown_doc_type", "sender.doc_type",
                  "unknown document type \"" + raw.sender_doc_type + "\" (known: " + known + ")");
    }
    auto doc = validate_identity(*type, raw.sender_doc_number, raw.sender_name, today);
    if (!doc) return std::unexpected(nest("sender", doc.error()));
    a.sender = std::move(*doc);
  }

  auto waybills = waybills_.validate_all(raw.waybills);
  if (!waybills) return std::unexpected(waybills.error());
  a.waybills = std::move(*waybills);

  if (auto s = check_text(raw.declared, "declared", 512, true); !s)
    return std::unexpected(s.error());
  a.declared = raw.declared;

  if (!raw.inspection)
    return fail("inspection_required", "inspection",
                "every parcel needs an inspection outcome (pass or refuse)");
  a.inspection = *raw.inspection;
  if (auto s = check_text(a.inspection.note, "inspection.note", 512, false); !s)
    return std::unexpected(s.error());

  a.screening_hits = screener_.screen(a.declared);

  if (a.inspection.outcome == InspectionOutcome::refuse) {
    if (a.inspection.refuse_category.empty())
      return fail("refuse_category_required", "inspection.category",
                  "a refusal names the category of the prohibited or restricted item");
    if (!screener_.has_category(a.inspection.refuse_category))
      return fail("unknown_category", "inspection.category",
                  "unknown screening category \"" + a.inspection.refuse_category + "\"");
    return a;  // a refusal is recorded for audit, whatever the contents
  }

  for (const auto& hit : a.screening_hits) {
    if (hit.severity == Severity::prohibited)
      return fail("prohibited_item", "declared",
                  "declared contents match prohibited category " + hit.category + " (" + hit.name +
                      "): the parcel must be refused");
  }
  for (const auto& hit : a.screening_hits) {
    if (hit.severity == Severity::restricted && !a.inspection.restricted_confirmed)
      return fail("restricted_needs_confirmation", "inspection",
                  "declared contents match restricted category " + hit.category + " (" + hit.name +
                      "): inspection must confirm it (restricted_confirmed)");
  }
  return a;
}

}  // namespace postgate::core
