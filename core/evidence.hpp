#pragma once
// Evidence items (counter camera stills, X-ray images, ID card photos) as
// the store keeps them for the uplink, and the port between the two:
// storage/ implements EvidenceOutbox, uplink/ sends what it hands out
// (docs/protocol.md, "evidence"), daemon/ wires them.
//
// An item is separate from its record: an X-ray scan may be bound to a
// record after that record was committed and even delivered, so the
// binding travels with the item.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "core/uuid.hpp"

namespace postgate::core {

// How an item came to belong to its record.
enum class EvidenceBinding {
  commit,     // attached when the record was committed (camera still, ID photo)
  waybill,    // X-ray scan naming a waybill of the record
  lane_time,  // X-ray scan on the counter's lane within the time window
  unbound,    // nothing matched: kept and reported, sent with no record
};
std::string_view to_string(EvidenceBinding b);
std::optional<EvidenceBinding> evidence_binding_from_string(std::string_view s);

struct EvidenceItem {
  Uuid id;
  std::string kind;          // "camera", "xray", "id_photo"
  std::string source;        // camera id, X-ray machine id, reader name
  std::string content_type;  // "image/jpeg", "application/octet-stream", ...
  TimePoint captured_at{};
  std::uint64_t size = 0;  // plain bytes
  std::string sha256;      // lowercase hex of the plain bytes
  std::optional<Uuid> record_id;
  std::optional<std::uint64_t> record_seq;
  EvidenceBinding binding = EvidenceBinding::unbound;
  std::map<std::string, std::string> meta;  // kind-specific, masked (X-ray: verdict, lane, waybill)
  std::uint64_t acked = 0;                  // bytes HQ confirmed holding, from 0
  int mismatches = 0;                       // times HQ reported a hash mismatch
};

class EvidenceOutbox {
 public:
  virtual ~EvidenceOutbox() = default;
  // The next item to send: requested items first, then (when uploads are not
  // on request only) the oldest undelivered one; nullopt when none.
  virtual Result<std::optional<EvidenceItem>> next_evidence() const = 0;
  // Up to `len` plain bytes of an item from `offset` (fewer at the end).
  virtual Result<std::vector<std::uint8_t>> read_evidence(const Uuid& id, std::uint64_t offset,
                                                          std::size_t len) const = 0;
  // HQ holds [0, acked); `mismatches` as counted by the sender.
  virtual Status evidence_progress(const Uuid& id, std::uint64_t acked, int mismatches) = 0;
  // HQ verified the item; the local copy may be evicted from now on.
  virtual Status evidence_delivered(const Uuid& id) = 0;
  // HQ refused the item, or its hash kept failing: never sent again.
  virtual Status evidence_failed(const Uuid& id, const std::string& reason) = 0;
  // HQ asked for a record's evidence: marks its undelivered items requested.
  // Returns how many items were found still held (0: none, or evicted).
  virtual Result<std::size_t> request_evidence(std::optional<Uuid> record_id,
                                               std::optional<std::uint64_t> record_seq) = 0;
};

}  // namespace postgate::core
