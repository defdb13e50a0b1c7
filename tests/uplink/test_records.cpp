#include "test_records.hpp"

#include <chrono>

#include "core/synthetic.hpp"

namespace postgate::uplink::testing {

using namespace std::chrono_literals;

core::Record make_record(core::RandomSource& rng, std::uint64_t seq) {
  const core::Date today{std::chrono::year{2026} / 11 / 23};
  const core::SyntheticPerson p = core::make_person(rng, today);
  core::Record r;
  r.seq = seq;
  r.accepted_at = core::TimePoint(std::chrono::sys_days(today) + 8h) +
                  std::chrono::seconds(static_cast<std::int64_t>(seq));
  r.id = core::make_uuid_v7(r.accepted_at, rng);
  core::Acceptance& a = r.acceptance;
  a.ref = "pos-" + std::to_string(seq);
  a.counter = "c1";
  a.operator_id = "op-17";
  a.sender.type = core::DocType::resident_id;
  a.sender.number = p.resident_id;
  a.sender.name = p.name;
  a.sender.birth_date = p.birth_date;
  a.sender.sex = p.sex;
  a.sender.nationality = "CHN";
  a.waybills = {{core::make_s10(rng), "upu_s10"}};
  a.declared = "books and a kitchen knife";
  a.inspection.outcome = core::InspectionOutcome::pass;
  a.inspection.restricted_confirmed = true;
  a.inspection.note = "checked";
  a.screening_hits = {{"02", "controlled knives", core::Severity::restricted, "knife"}};
  return r;
}

}  // namespace postgate::uplink::testing
