#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace postgate::core {

struct Waybill {
  std::string number;   // normalised: upper case, no spaces
  std::string carrier;  // "upu_s10" or the name of the matching carrier rule
};

// A carrier's waybill format, from config: an ECMAScript regular expression
// that must match the whole (upper-cased) number.
struct WaybillRule {
  std::string carrier;
  std::string pattern;
};

// UPU S10: 2 letters, 8 digits, check digit, 2-letter country code.
std::optional<int> upu_s10_check_digit(std::string_view serial8);
bool is_valid_upu_s10(std::string_view number);

class WaybillValidator {
 public:
  // Accepts UPU S10 numbers only, until configured through create().
  WaybillValidator() = default;

  // Fails (field "waybills.carriers[i].pattern") when a pattern does not compile.
  static Result<WaybillValidator> create(std::vector<WaybillRule> rules, bool accept_s10);

  // S10 first (when enabled), then carrier rules in order. An S10-shaped
  // number with a wrong check digit is rejected as such even if a carrier
  // rule would match it.
  // The text is trimmed, inner spaces dropped and ASCII upper-cased. Error
  // codes (field left empty for the caller to fill): "empty_waybill",
  // "bad_character" (control or non-ASCII), "waybill_too_long" (over 40),
  // "bad_check_digit" (S10), "unknown_waybill_format".
  Result<Waybill> validate(std::string_view text) const;

  // Validates each and rejects duplicates; errors carry "waybills[i]".
  // Codes as above plus "duplicate_waybill", and "no_waybill" (field
  // "waybills") for an empty list.
  Result<std::vector<Waybill>> validate_all(const std::vector<std::string>& texts) const;

 private:
  struct Compiled;
  std::vector<WaybillRule> rules_;
  std::vector<std::shared_ptr<const Compiled>> compiled_;
  bool accept_s10_ = true;
};

}  // namespace postgate::core
