// libFuzzer target: what the edge receives on evidence/ack and
// evidence/request; accepted payloads must survive a round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "uplink/evidence_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace postgate;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  if (auto a = uplink::parse_evidence_ack(payload)) {
    auto back = uplink::parse_evidence_ack(uplink::evidence_ack_payload(*a));
    if (!back || !(back->id == a->id) || back->have != a->have || back->state != a->state)
      __builtin_trap();
  }
  if (auto r = uplink::parse_evidence_request(payload)) {
    auto back = uplink::parse_evidence_request(uplink::evidence_request_payload(*r));
    if (!back || back->record_seq != r->record_seq || back->record_id != r->record_id)
      __builtin_trap();
  }
  return 0;
}
