#pragma once
// The 256-byte text block a SAM reader returns for a card (DOMAIN.md
// section 2): UCS-2 little-endian fields at fixed offsets, padded with
// U+0020, laid out per card type (the flag at byte 248).
//
// Decoding is strict: a field with an unpaired surrogate or a control
// character, a code outside its table, a date that is not a date, a number
// that fails its check digit or disagrees with the printed sex or birth
// date, an expired or not-yet-valid card: each is an Error and never a
// half-filled identity. Error messages never hold the card's personal data.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/identity.hpp"
#include "core/result.hpp"
#include "core/synthetic.hpp"
#include "core/time.hpp"

namespace postgate::adapters::idcard {

inline constexpr std::size_t kCardTextSize = 256;
inline constexpr std::size_t kCardPhotoSize = 1024;

enum class CardKind {
  resident,              // 居民身份证 (flag blank)
  hmt_residence_permit,  // 港澳台居民居住证 (flag J, unconfirmed; or blank with 81/82/83 number)
  foreign_permanent_2017,  // 外国人永久居留身份证, 2017 (flag I)
  foreign_permanent_2023,  // 外国人永久居留身份证, 2023 (flag Y)
};
std::string_view to_string(CardKind k);

// Everything the text block says. `document` went through
// core::validate_identity; its valid_to is set unless the card is 长期.
struct CardText {
  CardKind kind{};
  core::IdentityDocument document;
  std::string ethnicity_code;     // "01".."56", "97", "98"; empty where the card has none
  std::string address;            // resident card and HMT permit
  std::string issuing_authority;  // resident/HMT: authority; 2017 foreign card: office code
  core::Date valid_from{};
  std::optional<core::Date> valid_to;  // nullopt: 长期 (no expiry)
  std::string english_name;            // foreign cards
  std::string chinese_name;            // foreign cards (may be empty)
  std::string permit_number;           // HMT permit: the travel permit number
  std::string issue_count;             // HMT permit issue count, 2023 renewal count
};

struct CardTextOptions {
  // Type-flag letters taken as the HMT residence permit (DOMAIN.md:
  // "J is commonly cited, unconfirmed").
  std::string hmt_flags = "J";
};

// Decode error codes (core::Error::code); field names the text field.
namespace text_error {
inline constexpr std::string_view kBadText =
    "bad_text";  // size, UCS-2, control characters, empty field
inline constexpr std::string_view kUnknownCardType = "unknown_card_type";
inline constexpr std::string_view kBadSex = "bad_sex";
inline constexpr std::string_view kBadEthnicity = "bad_ethnicity";
inline constexpr std::string_view kBadDate = "bad_date";  // birth/validity dates, or validity order
inline constexpr std::string_view kExpired = "expired";
inline constexpr std::string_view kNotYetValid = "not_yet_valid";
// validate_identity's codes pass through: bad_format, bad_check_digit,
// bad_region, bad_birth_date, bad_name.
}  // namespace text_error

// `today` is the outlet's local date (see local_date()).
core::Result<CardText> decode_card_text(std::span<const std::uint8_t> block, core::Date today,
                                        const CardTextOptions& options = {});

// The outlet's calendar date at `now` (UTC + offset).
core::Date local_date(core::TimePoint now, std::chrono::minutes utc_offset);

// ---- encoder, for tests and for test peers that play a reader ----
// Fields are UTF-8; each is written as UTF-16LE, cut to its width and padded
// with U+0020. Raw strings, so tests can also write impossible content.
struct ResidentCardFields {  // resident card, and HMT permit when type_flag is set
  std::string name;
  std::string sex_code = "1";
  std::string ethnicity_code = "01";
  std::string birth_date;  // YYYYMMDD
  std::string address;
  std::string number;
  std::string issuing_authority;
  std::string valid_from;  // YYYYMMDD
  std::string valid_to;    // YYYYMMDD or 长期
  // HMT permit only.
  std::string permit_number;
  std::string issue_count;
  std::string type_flag;  // "" (blank) for the resident card, "J" for the HMT permit
};
struct Foreign2017Fields {
  std::string english_name;
  std::string sex_code = "1";
  std::string number;       // 15 characters
  std::string nationality;  // 3 letters
  std::string chinese_name;
  std::string valid_from;  // issue date
  std::string valid_to;    // expiry
  std::string birth_date;
  std::string card_version = "01";
  std::string issuing_office;  // 4 characters
  std::string type_flag = "I";
};
struct Foreign2023Fields {
  std::string chinese_name;
  std::string sex_code = "1";
  std::string renewal_count = "00";
  std::string birth_date;
  std::string english_name;  // up to 46 characters, split over two fields
  std::string number;        // 18 characters starting with 9
  std::string valid_from;
  std::string valid_to;
  std::string nationality;
  std::string type_flag = "Y";
  std::string old_number_link;
};
std::vector<std::uint8_t> encode_card_text(const ResidentCardFields& f);
// A valid resident card for a synthetic person (core::make_person): made-up
// address and authority, valid from a year before `today` for 20 years.
ResidentCardFields resident_card_fields(const core::SyntheticPerson& person, core::Date today);
std::vector<std::uint8_t> encode_card_text(const Foreign2017Fields& f);
std::vector<std::uint8_t> encode_card_text(const Foreign2023Fields& f);

}  // namespace postgate::adapters::idcard
