// libFuzzer target: one line of the local API's submit request, through the
// same path as the daemon: JSON parse, shape check, policy validation, and
// the masked JSON form of the result.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codec/record_json.hpp"
#include "core/acceptance_policy.hpp"

namespace {

const postgate::core::AcceptancePolicy& policy() {
  using namespace postgate::core;
  static const AcceptancePolicy p = [] {
    auto waybills = WaybillValidator::create({{"sf", "^SF[0-9]{12}$"}}, true);
    Screener screener("fuzz", {{"01", "firearms", Severity::prohibited, {"gun", "枪"}},
                               {"R1", "batteries", Severity::restricted, {"power bank"}}});
    return AcceptancePolicy(std::move(*waybills), std::move(screener), {"c1"});
  }();
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace postgate;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto j = codec::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return 0;
  const auto it = j.find("record");
  if (it == j.end()) return 0;
  auto raw = codec::raw_acceptance_from_json(*it);
  if (!raw) return 0;
  using namespace std::chrono;
  auto accepted = policy().validate(*raw, core::Date{year{2026}, November, day{23}});
  if (!accepted) return 0;
  core::Record r;
  r.seq = 1;
  r.acceptance = std::move(*accepted);
  const auto out = codec::record_to_json(r, codec::Masking::masked).dump();
  auto back = codec::record_from_json(codec::record_to_json(r, codec::Masking::clear));
  if (!back) __builtin_trap();  // what we write we must be able to read
  return static_cast<int>(out.size() & 0);
}
