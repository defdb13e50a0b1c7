#include "adapters/scanner/codec/scan_item.hpp"

#include <cstddef>

#include "core/utf8.hpp"

namespace postgate::adapters::scanner {

bool is_scan_text(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto cp = core::utf8::decode(text, i);
    if (!cp) return false;
    if (*cp < 0x20 || (*cp >= 0x7F && *cp < 0xA0)) return false;
  }
  return true;
}

}  // namespace postgate::adapters::scanner
