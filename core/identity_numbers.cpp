// Document number rules per type (DOMAIN.md sections 1-3).
#include <algorithm>
#include <array>
#include <chrono>

#include "core/identity_numbers.hpp"
#include "core/utf8.hpp"

namespace postgate::core::detail {

namespace {

using namespace std::chrono;

constexpr std::string_view kField = "doc_number";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_digit);
}

int two_digits(std::string_view s) {
  return (s[0] - '0') * 10 + (s[1] - '0');
}

// Province-level codes of GB/T 2260. 71 (Taiwan) appears on resident ids of
// people born there; 81-83 belong to the HMT residence permit only.
bool is_mainland_province(int code) {
  return (code >= 11 && code <= 15) || (code >= 21 && code <= 23) || (code >= 31 && code <= 37) ||
         (code >= 41 && code <= 46) || (code >= 50 && code <= 54) || (code >= 61 && code <= 65) ||
         code == 71;
}

Result<NumberFacts> bad(std::string code, std::string message) {
  return fail(std::move(code), std::string(kField), std::move(message));
}

// The embedded YYYYMMDD birth date of GB 11643-shaped numbers.
Result<Date> birth_date_at(std::string_view number, std::size_t pos, Date today) {
  const auto date = parse_yyyymmdd(number.substr(pos, 8));
  if (!date)
    return fail("bad_birth_date", std::string(kField), "embedded birth date is not a date");
  if (*date < Date{year{1900}, January, day{1}})
    return fail("bad_birth_date", std::string(kField), "embedded birth date is before 1900");
  if (*date > today)
    return fail("bad_birth_date", std::string(kField), "embedded birth date is in the future");
  return *date;
}

// Shape and check character of an 18-character GB 11643 (MOD 11-2) number.
Result<NumberFacts> check_mod11_2(std::string_view n) {
  if (n.size() != 18 || !all_digits(n.substr(0, 17)) || !(is_digit(n[17]) || n[17] == 'X'))
    return bad("bad_format", "expected 17 digits and a check digit or X");
  if (gb11643_check_char(n.substr(0, 17)) != n[17])
    return bad("bad_check_digit", "check character does not match");
  return NumberFacts{};
}

Result<NumberFacts> check_resident(DocType type, std::string_view n, Date today) {
  auto facts = check_mod11_2(n);
  if (!facts) return facts;
  if (type == DocType::hmt_residence_permit) {
    const auto prefix = n.substr(0, 6);
    if (prefix != "810000" && prefix != "820000" && prefix != "830000")
      return bad("bad_region", "residence permit numbers start with 810000, 820000 or 830000");
  } else if (!is_mainland_province(two_digits(n))) {
    return bad("bad_region", "region code is not a province-level code");
  }
  auto birth = birth_date_at(n, 6, today);
  if (!birth) return std::unexpected(std::move(birth.error()));
  facts->birth_date = *birth;
  facts->sex = (n[16] - '0') % 2 == 1 ? Sex::male : Sex::female;
  return facts;
}

Result<NumberFacts> check_foreign_permanent(std::string_view n, Date today) {
  if (n.size() == 15) {
    // 2017 card: nationality (3 letters) and 12 digits. Its check-digit rule
    // is not in DOMAIN.md, so only the shape is checked.
    if (!std::all_of(n.begin(), n.begin() + 3, is_upper) || !all_digits(n.substr(3)))
      return bad("bad_format", "expected 3 letters and 12 digits");
    return NumberFacts{};
  }
  // 2023 card: 18 characters starting with 9, MOD 11-2 as GB 11643. The
  // birth date sits where it does on the resident id (characters 7-14).
  if (n.size() != 18 || n[0] != '9')
    return bad("bad_format", "expected 15 characters (2017) or 18 starting with 9 (2023)");
  auto facts = check_mod11_2(n);
  if (!facts) return facts;
  auto birth = birth_date_at(n, 6, today);
  if (!birth) return std::unexpected(std::move(birth.error()));
  facts->birth_date = *birth;
  return facts;
}

Result<NumberFacts> check_hk_macau(std::string_view n) {
  // H (Hong Kong) or M (Macau), the 8-digit lifetime number, optionally the
  // 2-digit issue count.
  if ((n.size() != 9 && n.size() != 11) || (n[0] != 'H' && n[0] != 'M') || !all_digits(n.substr(1)))
    return bad("bad_format", "expected H or M and 8 or 10 digits");
  return NumberFacts{};
}

Result<NumberFacts> check_taiwan(std::string_view n) {
  if ((n.size() != 8 && n.size() != 10) || !all_digits(n))
    return bad("bad_format", "expected 8 or 10 digits");
  return NumberFacts{};
}

Result<NumberFacts> check_passport(std::string_view n) {
  if (n.size() < 5 || n.size() > 9 ||
      !std::all_of(n.begin(), n.end(), [](char c) { return is_digit(c) || is_upper(c); }))
    return bad("bad_format", "expected 5 to 9 letters or digits");
  return NumberFacts{};
}

Result<NumberFacts> check_service_id(std::string_view n) {
  // Military and armed-police certificates have no published number rule;
  // they mix digits, letters and characters such as 字第...号.
  std::size_t count = 0;
  for (std::size_t i = 0; i < n.size(); ++count) {
    const auto cp = utf8::decode(n, i);
    if (!cp || !(*cp < 0x80 ? is_digit(static_cast<char>(*cp)) || is_upper(static_cast<char>(*cp))
                            : utf8::is_cjk(*cp)))
      return bad("bad_format", "expected digits, letters or Chinese characters");
  }
  if (count < 4 || count > 20) return bad("bad_format", "expected 4 to 20 characters");
  return NumberFacts{};
}

constexpr std::string_view kUsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";

Result<NumberFacts> check_organisation(std::string_view n) {
  if (n.size() != 18 || n.find_first_not_of(kUsccAlphabet) != std::string_view::npos)
    return bad("bad_format", "expected an 18-character unified social credit code");
  if (gb32100_check_char(n.substr(0, 17)) != n[17])
    return bad("bad_check_digit", "check character does not match");
  return NumberFacts{};
}

}  // namespace

std::string normalise_number(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (const char c : utf8::trim(raw)) {
    if (c == ' ') continue;
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

std::optional<char> gb32100_check_char(std::string_view first17) {
  static constexpr std::array<int, 17> weights{1,  3,  9,  27, 19, 26, 16, 17, 20,
                                               29, 25, 13, 8,  24, 10, 30, 28};
  if (first17.size() != 17) return std::nullopt;
  int sum = 0;
  for (std::size_t i = 0; i < 17; ++i) {
    const auto v = kUsccAlphabet.find(first17[i]);
    if (v == std::string_view::npos) return std::nullopt;
    sum += static_cast<int>(v) * weights[i];
  }
  const int check = 31 - sum % 31;
  return kUsccAlphabet[static_cast<std::size_t>(check == 31 ? 0 : check)];
}

Result<NumberFacts> check_number(DocType type, std::string_view n, Date today) {
  if (n.empty()) return bad("bad_format", "document number is empty");
  switch (type) {
    case DocType::resident_id:
    case DocType::temporary_resident_id:
    case DocType::hmt_residence_permit:
      return check_resident(type, n, today);
    case DocType::foreign_permanent_resident_id:
      return check_foreign_permanent(n, today);
    case DocType::hk_macau_travel_permit:
      return check_hk_macau(n);
    case DocType::taiwan_travel_permit:
      return check_taiwan(n);
    case DocType::passport:
      return check_passport(n);
    case DocType::military_id:
    case DocType::armed_police_id:
      return check_service_id(n);
    case DocType::organisation:
      return check_organisation(n);
  }
  return bad("bad_type", "unknown document type");
}

}  // namespace postgate::core::detail
