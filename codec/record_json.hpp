#pragma once
// JSON wire forms of acceptance records, shared by the local API (daemon),
// postgatectl and, later, the uplink and postgate-hq. docs/api.md describes
// them; keep that page in step with this file.
#include <nlohmann/json.hpp>

#include "core/record.hpp"
#include "core/result.hpp"

namespace postgate::codec {

using json = nlohmann::json;

// The "record" object of {"op":"submit","record":{...}}:
//   {"ref":"pos-7781","counter":"c1","operator":"op-17",
//    "sender":{"name":"...","doc_type":"resident_id","doc_number":"..."},
//    "waybills":["EA123456785CN"],"declared":"books","inspection":"pass"}
// "inspection" is "pass", "refuse", or an object
//   {"outcome":"pass"|"refuse","category":"01","restricted_confirmed":true,"note":"..."}.
// Only the shape is checked here (types, required keys, unknown keys); the
// meaning is checked by core::AcceptancePolicy. Error fields are dotted paths.
core::Result<core::RawAcceptance> raw_acceptance_from_json(const json& j);

enum class Masking { masked, clear };

// A stored record: the submit shape plus "id", "seq", "accepted_at",
// "screening_hits" and "evidence". Masked: name and number masked, evidence
// paths dropped.
json record_to_json(const core::Record& r, Masking m);
core::Result<core::Record> record_from_json(const json& j);

json inspection_to_json(const core::Inspection& i);
json error_to_json(const core::Error& e);  // {"code":..,"field":..,"message":..}

}  // namespace postgate::codec
