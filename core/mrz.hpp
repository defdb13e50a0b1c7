#pragma once
// ICAO 9303 machine-readable zones: TD3 (passports, 2x44) and TD1 (cards, 3x30).
#include <string>
#include <string_view>

#include "core/identity.hpp"
#include "core/result.hpp"

namespace postgate::core {

enum class MrzFormat { td1, td3 };

struct Mrz {
  MrzFormat format{};
  std::string document_code;    // "P", "ID", "C", ...
  std::string issuing_state;    // alpha-3
  std::string document_number;  // without filler
  std::string surname;          // "<" turned into spaces, trimmed
  std::string given_names;
  std::string nationality;  // alpha-3 as in the zone ("D" for Germany)
  Date birth_date{};
  Sex sex{};
  Date expiry{};
  std::string optional_data;  // TD3 personal number; TD1 both optional fields,
                              // joined by a space when both are used
};

// Character value per ICAO 9303 (0-9, A-Z = 10-35, '<' = 0); -1 otherwise.
int mrz_char_value(char c);
// Weighted 7-3-1 check digit of a field, or -1 on an invalid character.
int mrz_check_digit(std::string_view field);

// Accepts the lines separated by '\n' or "\r\n" (blank lines around the
// zone and trailing spaces ignored). Every check digit is verified; errors
// name the field ("mrz.birth_date", ...). Two-digit birth years take the
// latest century that does not put the birth after `today`; expiry years are
// 20YY. Codes: "bad_format" (line count or length, document code, sex, state
// codes), "bad_character", "bad_check_digit", "bad_birth_date",
// "bad_expiry_date". A TD1 document number longer than 9 characters (filler
// at position 15, the rest in the optional field) is returned whole.
Result<Mrz> parse_mrz(std::string_view text, Date today);
// As above with today's UTC date from the system clock; prefer the overload
// above wherever a Clock is at hand.
Result<Mrz> parse_mrz(std::string_view text);

// Maps a parsed MRZ onto an identity document (passport for TD3; for TD1 by
// document code) and validates it like any other document. An expired
// document fails with code "expired", field "valid_to".
// TD1 cards are accepted only as Chinese permits (issuing state CHN, code
// starting with C): an H/M number is the HK/Macau permit, digits only the
// Taiwan permit (mapping not confirmed against a specimen). Other TD1 cards
// fail with "unsupported_document". Nationality "D" becomes "DEU".
Result<IdentityDocument> identity_from_mrz(const Mrz& mrz, Date today);

}  // namespace postgate::core
