#pragma once
// The acceptance record: what the counter submits (RawAcceptance), what
// validation makes of it (Acceptance), and what storage made durable (Record).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/identity.hpp"
#include "core/screening.hpp"
#include "core/time.hpp"
#include "core/uuid.hpp"
#include "core/waybill.hpp"

namespace postgate::core {

enum class InspectionOutcome { pass, refuse };
std::string_view to_string(InspectionOutcome o);

struct Inspection {
  InspectionOutcome outcome{InspectionOutcome::pass};
  std::string refuse_category;        // screening category id, required with refuse
  bool restricted_confirmed = false;  // staff confirmed a restricted item was checked
  std::string note;                   // free text, optional
};

// Evidence attached to a record when it is committed (camera stills, ID
// photos, X-ray scans bound to the open parcel). The item itself lives in
// the evidence store (core/evidence.hpp) under `id`; committing the record
// binds that item to it in the same transaction.
struct EvidenceRef {
  std::string id;      // evidence item id (UUID text); empty for refs older than the store
  std::string kind;    // "camera", "xray", "id_photo"
  std::string source;  // camera or machine id
  std::string path;    // local, encrypted file
  std::string sha256;  // hex
  std::uint64_t size = 0;
  TimePoint captured_at{};
};

// Unvalidated input, as it arrives from the local API or is assembled by the
// counter workflow from device events. Everything is text.
struct RawAcceptance {
  std::optional<std::string> ref;  // caller's idempotency key
  std::string counter;
  std::string operator_id;
  std::string sender_name;
  std::string sender_doc_type;
  std::string sender_doc_number;
  // A document read by a device is already validated; it wins over the three
  // text fields above.
  std::optional<IdentityDocument> sender_document;
  std::vector<std::string> waybills;
  std::string declared;
  std::optional<Inspection> inspection;  // nullopt: not given
};

// A validated acceptance, ready to be made durable.
struct Acceptance {
  std::optional<std::string> ref;
  std::string counter;
  std::string operator_id;
  IdentityDocument sender;
  std::vector<Waybill> waybills;  // at least one, no duplicates
  std::string declared;
  Inspection inspection;
  std::vector<ScreeningHit> screening_hits;
  std::vector<EvidenceRef> evidence;
};

// A durable record. id and accepted_at are chosen before the commit; seq is
// given by the store inside the committing transaction (gapless, from 1).
struct Record {
  Uuid id;
  std::uint64_t seq = 0;
  TimePoint accepted_at{};
  Acceptance acceptance;
};

}  // namespace postgate::core
