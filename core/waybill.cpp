// Waybill numbers: UPU S10 (DOMAIN.md section 3) and carrier formats from config.
#include "core/waybill.hpp"

#include <array>
// GCC 12's <regex> trips -Wmaybe-uninitialized inside the library at -O2
// with the sanitizers on (a false positive in libstdc++'s own code).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#include <set>

namespace postgate::core {

namespace {

constexpr std::size_t kMaxLength = 40;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) {
  return c >= 'A' && c <= 'Z';
}

bool s10_shaped(std::string_view n) {
  if (n.size() != 13) return false;
  for (std::size_t i = 0; i < 13; ++i) {
    const bool letter_position = i < 2 || i >= 11;
    if (letter_position ? !is_letter(n[i]) : !is_digit(n[i])) return false;
  }
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Trims white space (scanners end a read with Enter or Tab), drops inner
// spaces, upper-cases ASCII; anything left that is not printable ASCII is
// refused rather than guessed at.
Result<std::string> normalise(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  std::string out;
  for (const char c : text) {
    if (c == ' ') continue;
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E)
      return fail("bad_character", "", "waybill number contains a control or non-ASCII character");
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  if (out.empty()) return fail("empty_waybill", "", "waybill number is empty");
  if (out.size() > kMaxLength)
    return fail("waybill_too_long", "", "waybill number is longer than 40 characters");
  return out;
}

}  // namespace

struct WaybillValidator::Compiled {
  std::regex re;
};

std::optional<int> upu_s10_check_digit(std::string_view serial8) {
  static constexpr std::array<int, 8> weights{8, 6, 4, 2, 3, 5, 9, 7};
  if (serial8.size() != 8) return std::nullopt;
  int sum = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    if (!is_digit(serial8[i])) return std::nullopt;
    sum += (serial8[i] - '0') * weights[i];
  }
  const int c = 11 - sum % 11;
  return c == 10 ? 0 : c == 11 ? 5 : c;
}

bool is_valid_upu_s10(std::string_view number) {
  return s10_shaped(number) && upu_s10_check_digit(number.substr(2, 8)) == number[10] - '0';
}

Result<WaybillValidator> WaybillValidator::create(std::vector<WaybillRule> rules, bool accept_s10) {
  WaybillValidator v;
  v.accept_s10_ = accept_s10;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string where = "waybills.carriers[" + std::to_string(i) + "]";
    if (rules[i].carrier.empty())
      return fail("bad_carrier", where + ".carrier", "carrier name is empty");
    try {
      v.compiled_.push_back(std::make_shared<const Compiled>(
          Compiled{std::regex(rules[i].pattern, std::regex::ECMAScript | std::regex::optimize)}));
    } catch (const std::regex_error& e) {
      return fail("bad_pattern", where + ".pattern",
                  std::string("pattern does not compile: ") + e.what());
    }
  }
  v.rules_ = std::move(rules);
  return v;
}

Result<Waybill> WaybillValidator::validate(std::string_view text) const {
  auto number = normalise(text);
  if (!number) return std::unexpected(std::move(number.error()));
  if (accept_s10_ && s10_shaped(*number)) {
    if (!is_valid_upu_s10(*number))
      return fail("bad_check_digit", "", "UPU S10 check digit does not match");
    return Waybill{std::move(*number), "upu_s10"};
  }
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    bool matched = false;
    try {
      matched = std::regex_match(*number, compiled_[i]->re);
    } catch (const std::regex_error&) {
      // Too complex for std::regex on this input: treated as no match.
    }
    if (matched) return Waybill{std::move(*number), rules_[i].carrier};
  }
  return fail("unknown_waybill_format", "", "waybill number matches no known format");
}

Result<std::vector<Waybill>> WaybillValidator::validate_all(
    const std::vector<std::string>& texts) const {
  if (texts.empty()) return fail("no_waybill", "waybills", "at least one waybill is required");
  std::vector<Waybill> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string where = "waybills[" + std::to_string(i) + "]";
    auto w = validate(texts[i]);
    if (!w) return std::unexpected(nest(where, std::move(w.error())));
    if (!seen.insert(w->number).second)
      return fail("duplicate_waybill", where, "waybill number appears twice");
    out.push_back(std::move(*w));
  }
  return out;
}

}  // namespace postgate::core
