#pragma once
// Identity documents accepted for real-name acceptance (DOMAIN.md section 1).
// An IdentityDocument can only be obtained through validate_identity() or the
// MRZ parser, so holding one means its number passed every check that applies.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"

namespace postgate::core {

enum class DocType {
  resident_id,                    // 居民身份证, 18 chars, GB 11643
  temporary_resident_id,          // 临时居民身份证, same number rules
  hmt_residence_permit,           // 港澳台居民居住证, GB 11643, region 810000/820000/830000
  hk_macau_travel_permit,         // 港澳居民来往内地通行证: H/M + 8 or 10 digits
  taiwan_travel_permit,           // 台湾居民来往大陆通行证: 8 or 10 digits
  passport,                       // foreign or Chinese passport; ICAO 9303 MRZ when read
  foreign_permanent_resident_id,  // 2017 (15 chars) or 2023 (18 digits, starts 9)
  military_id,                    // 军官证/士兵证 etc.: shape checks only
  armed_police_id,                // 武警证: shape checks only
  organisation,                   // unified social credit code (GB 32100), org sender
};

std::string_view to_string(DocType t);  // "resident_id", ...
std::optional<DocType> doc_type_from_string(std::string_view s);
const std::vector<DocType>& all_doc_types();

enum class Sex { unknown, male, female, unstated };

struct IdentityDocument {
  DocType type{};
  std::string number;  // normalised: upper case, no spaces
  std::string name;    // UTF-8 as on the document
  std::optional<Date> birth_date;
  std::optional<Sex> sex;
  std::optional<std::string> nationality;  // ISO 3166-1 alpha-3 where known
  std::optional<Date> valid_to;            // expiry where known
};

// Validates the number for the document type (check digits, embedded birth
// date not in the future, region code shape, ...) and the name (non-empty,
// no control characters, at most 64 code points). Errors carry field
// "doc_number" or "name". `today` rejects birth dates in the future and
// expired documents where the expiry is known.
// The number is normalised first (trimmed, spaces removed, ASCII upper-cased)
// and the name trimmed. Error codes: "bad_format" (shape, including an empty
// number), "bad_check_digit", "bad_region", "bad_birth_date" (not a date,
// before 1900 or after today), "bad_name"; identity_from_mrz adds "expired".
// Per type:
//  - resident, temporary resident: GB 11643 check character, province-level
//    region (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71), birth date, sex;
//  - HMT residence permit: the same with prefix 810000, 820000 or 830000;
//  - foreign permanent resident: 2017 card 3 letters + 12 digits (shape
//    only); 2023 card 18 characters starting with 9, MOD 11-2, birth date;
//  - HK/Macau permit H or M + 8 or 10 digits; Taiwan permit 8 or 10 digits;
//  - passport 5-9 letters or digits; military and armed police 4-20 digits,
//    letters or Chinese characters (no published rule, shape only);
//  - organisation: GB 32100 unified social credit code with its check char.
Result<IdentityDocument> validate_identity(DocType type, std::string_view number,
                                           std::string_view name, Date today);

// GB 11643-1999: check character for the first 17 digits ('0'-'9' or 'X'), or
// nullopt when the input is not 17 digits.
std::optional<char> gb11643_check_char(std::string_view first17);

// Masking for display and logs. Numbers keep a short prefix and suffix
// (resident id: "110105********002X"); names keep the surname and replace the
// rest with "*" ("张三" -> "张*", "ZHANG SAN" -> "ZHANG *").
// Precisely: 18-character numbers of resident-like types (resident,
// temporary, HMT permit, foreign permanent resident) keep 6 + 8 stars + 4;
// other numbers keep 2 at each end with the middle starred, and numbers
// shorter than 7 keep less so that at least 3 characters are hidden. A
// single-word Latin name keeps only its first letter ("MADONNA" -> "M*").
// Both work on code points, normalise like validate_identity, and return ""
// for empty input.
std::string mask_number(DocType type, std::string_view number);
std::string mask_name(std::string_view name);

}  // namespace postgate::core
