#include "core/evidence.hpp"

namespace postgate::core {

std::string_view to_string(EvidenceBinding b) {
  switch (b) {
    case EvidenceBinding::commit:
      return "commit";
    case EvidenceBinding::waybill:
      return "waybill";
    case EvidenceBinding::lane_time:
      return "lane_time";
    case EvidenceBinding::unbound:
      return "unbound";
  }
  return "unbound";
}

std::optional<EvidenceBinding> evidence_binding_from_string(std::string_view s) {
  for (const auto b : {EvidenceBinding::commit, EvidenceBinding::waybill,
                       EvidenceBinding::lane_time, EvidenceBinding::unbound})
    if (to_string(b) == s) return b;
  return std::nullopt;
}

}  // namespace postgate::core
