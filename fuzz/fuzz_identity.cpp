// libFuzzer target: document type, number and name from outside (API or a
// reader's text block), through validation and masking.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/identity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace postgate::core;
  using namespace std::chrono;
  if (size < 2) return 0;
  const auto& types = all_doc_types();
  const DocType type = types[data[0] % types.size()];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto split = rest.find('\n');
  const auto number = rest.substr(0, split);
  const auto name = split == std::string_view::npos ? std::string_view{} : rest.substr(split + 1);
  (void)mask_number(type, number);
  (void)mask_name(name);
  auto doc = validate_identity(type, number, name, Date{year{2026}, November, day{23}});
  if (doc) {
    // A validated document must mask without exposing its number.
    const auto masked = mask_number(doc->type, doc->number);
    if (doc->number.size() >= 8 && masked == doc->number) __builtin_trap();
  }
  return 0;
}
