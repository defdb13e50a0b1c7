// libFuzzer target: MRZ text as a reader sends it (TD1/TD3).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/mrz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace postgate::core;
  using namespace std::chrono;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Date today{year{2026}, November, day{23}};
  auto mrz = parse_mrz(text, today);
  if (!mrz) return 0;
  auto doc = identity_from_mrz(*mrz, today);
  if (doc) (void)mask_number(doc->type, doc->number), (void)mask_name(doc->name);
  return 0;
}
