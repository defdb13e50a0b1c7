#pragma once
// The one validation path for every acceptance, whether it comes from the
// local API or from devices through the counter workflow.
#include <set>
#include <string>

#include "core/record.hpp"
#include "core/result.hpp"
#include "core/screening.hpp"
#include "core/waybill.hpp"

namespace postgate::core {

class AcceptancePolicy {
 public:
  AcceptancePolicy(WaybillValidator waybills, Screener screener, std::set<std::string> counters);

  // Error fields use the local API's names: "counter", "operator",
  // "sender.name", "sender.doc_type", "sender.doc_number", "waybills[2]",
  // "declared", "inspection". Rules:
  //  - counter must be configured; operator, declared non-empty;
  //  - identity validated (validate_identity) unless a device document is given;
  //  - one or more waybills, valid and distinct;
  //  - inspection required; refuse needs a known refuse_category;
  //  - a prohibited screening hit blocks (code "prohibited_item") unless the
  //    outcome is refuse (a refusal is recorded for audit);
  //  - a restricted hit with outcome pass needs restricted_confirmed
  //    (code "restricted_needs_confirmation").
  Result<Acceptance> validate(const RawAcceptance& raw, Date today) const;

  const Screener& screener() const { return screener_; }
  const WaybillValidator& waybills() const { return waybills_; }

 private:
  WaybillValidator waybills_;
  Screener screener_;
  std::set<std::string> counters_;
};

}  // namespace postgate::core
