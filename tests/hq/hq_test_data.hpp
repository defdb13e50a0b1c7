#pragma once
// Synthetic records and wire payloads for the HQ tests. Every person and
// waybill comes from core/synthetic.hpp with a fixed seed.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec/record_json.hpp"
#include "core/record.hpp"
#include "core/synthetic.hpp"

namespace postgate::hq::testing {

inline core::TimePoint test_time(std::int64_t offset_ms = 0) {
  // 2026-11-23T08:00:00.000Z
  return core::TimePoint(std::chrono::milliseconds(1'795'420'800'000 + offset_ms));
}

inline core::Record make_record(std::uint64_t seq, core::RandomSource& random) {
  using namespace std::chrono;
  core::Record r;
  r.seq = seq;
  r.accepted_at = test_time(static_cast<std::int64_t>(seq) * 1000);
  r.id = core::make_uuid_v7(r.accepted_at, random);
  const auto person = core::make_person(random, year{2026} / November / day{23});
  auto& a = r.acceptance;
  a.counter = "c1";
  a.operator_id = "op-17";
  a.sender.type = core::DocType::resident_id;
  a.sender.name = person.name;
  a.sender.number = person.resident_id;
  a.waybills = {{core::make_s10(random), "upu_s10"}};
  a.declared = "books";
  return r;
}

inline std::vector<core::Record> make_records(std::uint64_t first, std::uint64_t last,
                                              core::RandomSource& random) {
  std::vector<core::Record> out;
  for (auto s = first; s <= last; ++s) out.push_back(make_record(s, random));
  return out;
}

inline nlohmann::json batch_json(const std::string& outlet, const std::vector<core::Record>& rs) {
  nlohmann::json batch = nlohmann::json::array();
  for (const auto& r : rs) batch.push_back(codec::record_to_json(r, codec::Masking::clear));
  return {{"outlet", outlet}, {"batch", std::move(batch)}};
}

inline std::string batch_payload(const std::string& outlet, const std::vector<core::Record>& rs) {
  return batch_json(outlet, rs).dump();
}

}  // namespace postgate::hq::testing
