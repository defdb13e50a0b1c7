// Masking for display and logs (DOMAIN.md section 1: hide at least part of a
// name; never show a whole document number).
#include <vector>

#include "core/identity.hpp"
#include "core/identity_numbers.hpp"
#include "core/utf8.hpp"

namespace postgate::core {

namespace {

// Code points as separate UTF-8 strings, so masking never splits a character
// (invalid bytes become U+FFFD: masked text goes to JSON and logs).
std::vector<std::string> split_code_points(std::string_view s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    std::string cp;
    utf8::append(cp, utf8::decode(s, i).value_or(0xFFFD));
    out.push_back(std::move(cp));
  }
  return out;
}

bool resident_like(DocType type) {
  return type == DocType::resident_id || type == DocType::temporary_resident_id ||
         type == DocType::hmt_residence_permit || type == DocType::foreign_permanent_resident_id;
}

std::string keep_ends(const std::vector<std::string>& cps, std::size_t head, std::size_t stars,
                      std::size_t tail) {
  std::string out;
  for (std::size_t i = 0; i < head; ++i) out += cps[i];
  out.append(stars, '*');
  for (std::size_t i = cps.size() - tail; i < cps.size(); ++i) out += cps[i];
  return out;
}

}  // namespace

std::string mask_number(DocType type, std::string_view number) {
  const auto cps = split_code_points(detail::normalise_number(number));
  const std::size_t n = cps.size();
  if (n == 0) return "";
  // Resident-like numbers keep region and the last four, as printed on
  // receipts ("110105********002X").
  if (resident_like(type) && n == 18) return keep_ends(cps, 6, 8, 4);
  // Everything else keeps two at each end with at least three stars; shorter
  // numbers keep less so that at least three characters stay hidden.
  if (n >= 7) return keep_ends(cps, 2, n - 4, 2);
  if (n >= 5) return keep_ends(cps, 1, n - 2, 1);
  return std::string(n < 3 ? 3 : n, '*');
}

std::string mask_name(std::string_view raw) {
  const std::string_view name = utf8::trim(raw);
  if (name.empty()) return "";
  std::size_t i = 0;
  const auto first = utf8::decode(name, i);
  const std::string first_cp(name.substr(0, i));
  // Chinese names (surname first, no spaces) keep the first character.
  if (!first) return "*";
  if (*first >= 0x80) return first_cp + "*";
  // Latin names keep the first word ("ZHANG SAN" -> "ZHANG *"); a single word
  // keeps only its first letter, or nothing would be hidden.
  const auto end = name.find_first_of(" ,\t");
  if (end == std::string_view::npos) return first_cp + "*";
  return utf8::sanitise(name.substr(0, end)) + " *";
}

}  // namespace postgate::core
