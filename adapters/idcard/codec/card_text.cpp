#include "adapters/idcard/codec/card_text.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "core/utf8.hpp"

namespace postgate::adapters::idcard {

namespace {

using core::Date;
using core::Result;

constexpr char16_t kPad = 0x0020;
constexpr std::string_view kLongTerm = "长期";

// Field offsets and widths in bytes (DOMAIN.md section 2).
struct Field {
  std::size_t offset;
  std::size_t width;
  std::string_view name;
};

namespace resident {
constexpr Field kName{0, 30, "name"};
constexpr Field kSex{30, 2, "sex"};
constexpr Field kEthnicity{32, 4, "ethnicity"};
constexpr Field kBirth{36, 16, "birth_date"};
constexpr Field kAddress{52, 70, "address"};
constexpr Field kNumber{122, 36, "doc_number"};
constexpr Field kAuthority{158, 30, "issuing_authority"};
constexpr Field kValidFrom{188, 16, "valid_from"};
constexpr Field kValidTo{204, 16, "valid_to"};
constexpr Field kPermitNumber{220, 18, "permit_number"};  // HMT permit
constexpr Field kIssueCount{238, 4, "issue_count"};       // HMT permit
}  // namespace resident

namespace foreign2017 {
constexpr Field kEnglishName{0, 120, "english_name"};
constexpr Field kSex{120, 2, "sex"};
constexpr Field kNumber{122, 30, "doc_number"};
constexpr Field kNationality{152, 6, "nationality"};
constexpr Field kChineseName{158, 30, "chinese_name"};
constexpr Field kValidFrom{188, 16, "valid_from"};
constexpr Field kValidTo{204, 16, "valid_to"};
constexpr Field kBirth{220, 16, "birth_date"};
constexpr Field kVersion{236, 4, "card_version"};
constexpr Field kOffice{240, 8, "issuing_office"};
}  // namespace foreign2017

namespace foreign2023 {
constexpr Field kChineseName{0, 30, "chinese_name"};
constexpr Field kSex{30, 2, "sex"};
constexpr Field kRenewal{32, 4, "renewal_count"};
constexpr Field kBirth{36, 16, "birth_date"};
constexpr Field kEnglishName1{52, 70, "english_name"};
constexpr Field kNumber{122, 36, "doc_number"};
constexpr Field kValidFrom{188, 16, "valid_from"};
constexpr Field kValidTo{204, 16, "valid_to"};
constexpr Field kEnglishName2{220, 22, "english_name"};
constexpr Field kNationality{242, 6, "nationality"};
constexpr Field kOldLink{250, 6, "old_number_link"};
}  // namespace foreign2023

constexpr Field kTypeFlag{248, 2, "type_flag"};

std::unexpected<core::Error> bad(std::string_view code, std::string_view field,
                                 std::string message) {
  return core::fail(std::string(code), std::string(field), std::move(message));
}

char16_t unit_at(std::span<const std::uint8_t> block, std::size_t offset) {
  return static_cast<char16_t>(block[offset] | (block[offset + 1] << 8));
}

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFFFE ||
         cp == 0xFFFF;
}

// UTF-16LE units (surrogate pairs allowed, unpaired ones not) to UTF-8,
// trailing padding removed.
Result<std::string> decode_units(std::span<const std::uint8_t> bytes, std::string_view name) {
  std::size_t n = bytes.size() / 2;
  while (n > 0 && unit_at(bytes, (n - 1) * 2) == kPad) --n;
  std::string out;
  out.reserve(n * 3);
  for (std::size_t i = 0; i < n; ++i) {
    char32_t cp = unit_at(bytes, i * 2);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      const char32_t low = i + 1 < n ? unit_at(bytes, (i + 1) * 2) : 0;
      if (low < 0xDC00 || low > 0xDFFF)
        return bad(text_error::kBadText, name, std::string(name) + " has an unpaired surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      ++i;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return bad(text_error::kBadText, name, std::string(name) + " has an unpaired surrogate");
    }
    if (is_control(cp))
      return bad(text_error::kBadText, name, std::string(name) + " has a control character");
    core::utf8::append(out, cp);
  }
  return out;
}

Result<std::string> read(std::span<const std::uint8_t> block, const Field& f) {
  return decode_units(block.subspan(f.offset, f.width), f.name);
}

Result<std::string> read_required(std::span<const std::uint8_t> block, const Field& f) {
  auto s = read(block, f);
  if (s && s->empty()) return bad(text_error::kBadText, f.name, std::string(f.name) + " is empty");
  return s;
}

Result<Date> read_date(std::span<const std::uint8_t> block, const Field& f) {
  auto s = read(block, f);
  if (!s) return std::unexpected(std::move(s.error()));
  const auto d = core::parse_yyyymmdd(*s);
  if (!d || s->size() != 8)
    return bad(text_error::kBadDate, f.name, std::string(f.name) + " is not a YYYYMMDD date");
  return *d;
}

// nullopt inside: 长期.
Result<std::optional<Date>> read_expiry(std::span<const std::uint8_t> block, const Field& f) {
  auto s = read(block, f);
  if (!s) return std::unexpected(std::move(s.error()));
  if (*s == kLongTerm) return std::optional<Date>{};
  const auto d = core::parse_yyyymmdd(*s);
  if (!d || s->size() != 8)
    return bad(text_error::kBadDate, f.name, std::string(f.name) + " is not a date or 长期");
  return std::optional<Date>{*d};
}

Result<core::Sex> read_sex(std::span<const std::uint8_t> block, const Field& f) {
  auto s = read(block, f);
  if (!s) return std::unexpected(std::move(s.error()));
  if (*s == "0") return core::Sex::unknown;
  if (*s == "1") return core::Sex::male;
  if (*s == "2") return core::Sex::female;
  if (*s == "9") return core::Sex::unstated;
  return bad(text_error::kBadSex, f.name, "sex code is not 0, 1, 2 or 9");
}

bool is_two_digits(std::string_view s) {
  return s.size() == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
}

Result<std::string> read_ethnicity(std::span<const std::uint8_t> block, bool required) {
  auto s = read(block, resident::kEthnicity);
  if (!s) return s;
  if (s->empty() && !required) return s;
  if (is_two_digits(*s)) {
    const int v = ((*s)[0] - '0') * 10 + ((*s)[1] - '0');
    if ((v >= 1 && v <= 56) || v == 97 || v == 98) return s;
  }
  return bad(text_error::kBadEthnicity, resident::kEthnicity.name,
             "ethnicity code is not 01-56, 97 or 98");
}

Result<std::string> read_nationality(std::span<const std::uint8_t> block, const Field& f) {
  auto s = read(block, f);
  if (!s) return s;
  if (s->size() != 3 ||
      !std::all_of(s->begin(), s->end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    return bad(text_error::kBadText, f.name, "nationality is not a 3-letter code");
  return s;
}

// Birth date and sex printed on the card must agree with what the number
// embeds (where it embeds them): a mismatch means corrupted text.
core::Status cross_check(const core::IdentityDocument& doc, Date printed_birth,
                         core::Sex printed_sex) {
  if (doc.birth_date && *doc.birth_date != printed_birth)
    return bad(text_error::kBadDate, resident::kBirth.name, "birth date disagrees with the number");
  const bool binary = printed_sex == core::Sex::male || printed_sex == core::Sex::female;
  if (doc.sex && binary && *doc.sex != printed_sex)
    return bad(text_error::kBadSex, resident::kSex.name, "sex code disagrees with the number");
  return {};
}

core::Status check_validity(const CardText& card, Date today) {
  if (card.valid_to && *card.valid_to < card.valid_from)
    return bad(text_error::kBadDate, "valid_to", "validity ends before it starts");
  if (card.valid_from > today)
    return bad(text_error::kNotYetValid, "valid_from", "card is not valid yet");
  if (card.valid_to && *card.valid_to < today)
    return bad(text_error::kExpired, "valid_to", "card has expired");
  return {};
}

#define PG_TRY(var, expr) \
  auto var = (expr);      \
  if (!var) return std::unexpected(std::move(var.error()))

Result<CardText> decode_resident(std::span<const std::uint8_t> block, CardKind kind, Date today) {
  CardText card;
  card.kind = kind;
  const bool hmt = kind == CardKind::hmt_residence_permit;
  PG_TRY(name, read_required(block, resident::kName));
  PG_TRY(sex, read_sex(block, resident::kSex));
  PG_TRY(ethnicity, read_ethnicity(block, !hmt));
  PG_TRY(birth, read_date(block, resident::kBirth));
  PG_TRY(address, read_required(block, resident::kAddress));
  PG_TRY(number, read_required(block, resident::kNumber));
  PG_TRY(authority, read_required(block, resident::kAuthority));
  PG_TRY(from, read_date(block, resident::kValidFrom));
  PG_TRY(to, read_expiry(block, resident::kValidTo));
  if (hmt) {
    PG_TRY(permit, read(block, resident::kPermitNumber));
    PG_TRY(count, read(block, resident::kIssueCount));
    card.permit_number = std::move(*permit);
    card.issue_count = std::move(*count);
  }
  const auto type = hmt ? core::DocType::hmt_residence_permit : core::DocType::resident_id;
  PG_TRY(doc, core::validate_identity(type, *number, *name, today));
  PG_TRY(consistent, cross_check(*doc, *birth, *sex));
  card.document = std::move(*doc);
  card.document.sex = *sex == core::Sex::unknown || *sex == core::Sex::unstated
                          ? card.document.sex
                          : std::optional<core::Sex>(*sex);
  card.document.birth_date = *birth;
  card.document.valid_to = *to;
  card.ethnicity_code = std::move(*ethnicity);
  card.address = std::move(*address);
  card.issuing_authority = std::move(*authority);
  card.valid_from = *from;
  card.valid_to = *to;
  return card;
}

Result<CardText> foreign_common(CardText card, std::string_view number, Date birth, core::Sex sex,
                                std::string nationality, Date from, std::optional<Date> to,
                                Date today) {
  const std::string& name = card.english_name.empty() ? card.chinese_name : card.english_name;
  PG_TRY(doc, core::validate_identity(core::DocType::foreign_permanent_resident_id, number, name,
                                      today));
  PG_TRY(consistent, cross_check(*doc, birth, sex));
  card.document = std::move(*doc);
  card.document.birth_date = birth;
  card.document.sex = sex;
  card.document.nationality = std::move(nationality);
  card.document.valid_to = to;
  card.valid_from = from;
  card.valid_to = to;
  return card;
}

Result<CardText> decode_foreign_2017(std::span<const std::uint8_t> block, Date today) {
  CardText card;
  card.kind = CardKind::foreign_permanent_2017;
  PG_TRY(english, read(block, foreign2017::kEnglishName));
  PG_TRY(sex, read_sex(block, foreign2017::kSex));
  PG_TRY(number, read_required(block, foreign2017::kNumber));
  PG_TRY(nationality, read_nationality(block, foreign2017::kNationality));
  PG_TRY(chinese, read(block, foreign2017::kChineseName));
  PG_TRY(from, read_date(block, foreign2017::kValidFrom));
  PG_TRY(to, read_expiry(block, foreign2017::kValidTo));
  PG_TRY(birth, read_date(block, foreign2017::kBirth));
  PG_TRY(version, read(block, foreign2017::kVersion));
  PG_TRY(office, read(block, foreign2017::kOffice));
  if (english->empty() && chinese->empty())
    return bad(text_error::kBadText, "english_name", "card has no name");
  card.english_name = std::move(*english);
  card.chinese_name = std::move(*chinese);
  card.issuing_authority = std::move(*office);
  // For the 2017 card the 15-character number must also carry the card's
  // nationality in its first three letters.
  if (number->size() == 15 && number->substr(0, 3) != *nationality)
    return bad("bad_format", "doc_number", "number does not start with the nationality code");
  return foreign_common(std::move(card), *number, *birth, *sex, std::move(*nationality), *from, *to,
                        today);
}

Result<CardText> decode_foreign_2023(std::span<const std::uint8_t> block, Date today) {
  CardText card;
  card.kind = CardKind::foreign_permanent_2023;
  PG_TRY(chinese, read(block, foreign2023::kChineseName));
  PG_TRY(sex, read_sex(block, foreign2023::kSex));
  PG_TRY(renewal, read(block, foreign2023::kRenewal));
  PG_TRY(birth, read_date(block, foreign2023::kBirth));
  // The English name runs on from the first field into the second: join the
  // raw units before trimming, so a space at the join survives.
  std::array<std::uint8_t, foreign2023::kEnglishName1.width + foreign2023::kEnglishName2.width>
      english_units{};
  std::copy_n(block.begin() + foreign2023::kEnglishName1.offset, foreign2023::kEnglishName1.width,
              english_units.begin());
  std::copy_n(block.begin() + foreign2023::kEnglishName2.offset, foreign2023::kEnglishName2.width,
              english_units.begin() + foreign2023::kEnglishName1.width);
  PG_TRY(english, decode_units(english_units, "english_name"));
  PG_TRY(number, read_required(block, foreign2023::kNumber));
  PG_TRY(from, read_date(block, foreign2023::kValidFrom));
  PG_TRY(to, read_expiry(block, foreign2023::kValidTo));
  PG_TRY(nationality, read_nationality(block, foreign2023::kNationality));
  PG_TRY(link, read(block, foreign2023::kOldLink));
  if (english->empty() && chinese->empty())
    return bad(text_error::kBadText, "english_name", "card has no name");
  card.english_name = std::move(*english);
  card.chinese_name = std::move(*chinese);
  card.issue_count = std::move(*renewal);
  return foreign_common(std::move(card), *number, *birth, *sex, std::move(*nationality), *from, *to,
                        today);
}

#undef PG_TRY

// ---- encoder ----

void put_field(std::vector<std::uint8_t>& block, std::size_t offset, std::size_t width,
               std::string_view utf8) {
  std::vector<char16_t> units;
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t cp = core::utf8::decode(utf8, i).value_or(0xFFFD);
    if (cp >= 0x10000) {
      units.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      units.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      units.push_back(static_cast<char16_t>(cp));
    }
  }
  for (std::size_t k = 0; k < width / 2; ++k) {
    const char16_t u = k < units.size() ? units[k] : kPad;
    block[offset + 2 * k] = static_cast<std::uint8_t>(u & 0xFF);
    block[offset + 2 * k + 1] = static_cast<std::uint8_t>(u >> 8);
  }
}

void put(std::vector<std::uint8_t>& block, const Field& f, std::string_view utf8) {
  put_field(block, f.offset, f.width, utf8);
}

std::vector<std::uint8_t> blank_block() {
  std::vector<std::uint8_t> block(kCardTextSize);
  for (std::size_t i = 0; i < block.size(); i += 2) block[i] = 0x20;
  return block;
}

}  // namespace

std::string_view to_string(CardKind k) {
  switch (k) {
    case CardKind::resident:
      return "resident";
    case CardKind::hmt_residence_permit:
      return "hmt_residence_permit";
    case CardKind::foreign_permanent_2017:
      return "foreign_permanent_2017";
    case CardKind::foreign_permanent_2023:
      return "foreign_permanent_2023";
  }
  return "unknown";
}

core::Date local_date(core::TimePoint now, std::chrono::minutes utc_offset) {
  return core::Date{std::chrono::floor<std::chrono::days>(now + utc_offset)};
}

Result<CardText> decode_card_text(std::span<const std::uint8_t> block, Date today,
                                  const CardTextOptions& options) {
  if (block.size() != kCardTextSize)
    return bad(text_error::kBadText, "text",
               "text block is " + std::to_string(block.size()) + " bytes, not 256");
  const char16_t flag = unit_at(block, kTypeFlag.offset);
  Result<CardText> card = std::unexpected(core::Error{});
  if (flag == kPad || flag == 0) {
    // A blank flag with a residence-permit number: readers that leave the
    // flag blank for the permit still get the permit's rules.
    const auto number = read(block, resident::kNumber);
    const bool hmt_number =
        number && (number->starts_with("810000") || number->starts_with("820000") ||
                   number->starts_with("830000"));
    card = decode_resident(block, hmt_number ? CardKind::hmt_residence_permit : CardKind::resident,
                           today);
  } else if (flag == u'I') {
    card = decode_foreign_2017(block, today);
  } else if (flag == u'Y') {
    card = decode_foreign_2023(block, today);
  } else if (flag < 0x80 && options.hmt_flags.find(static_cast<char>(flag)) != std::string::npos) {
    card = decode_resident(block, CardKind::hmt_residence_permit, today);
  } else {
    return bad(text_error::kUnknownCardType, "type_flag", "unknown card type flag");
  }
  if (!card) return card;
  if (auto v = check_validity(*card, today); !v) return std::unexpected(std::move(v.error()));
  return card;
}

std::vector<std::uint8_t> encode_card_text(const ResidentCardFields& f) {
  auto block = blank_block();
  put(block, resident::kName, f.name);
  put(block, resident::kSex, f.sex_code);
  put(block, resident::kEthnicity, f.ethnicity_code);
  put(block, resident::kBirth, f.birth_date);
  put(block, resident::kAddress, f.address);
  put(block, resident::kNumber, f.number);
  put(block, resident::kAuthority, f.issuing_authority);
  put(block, resident::kValidFrom, f.valid_from);
  put(block, resident::kValidTo, f.valid_to);
  put(block, resident::kPermitNumber, f.permit_number);
  put(block, resident::kIssueCount, f.issue_count);
  put(block, kTypeFlag, f.type_flag);
  return block;
}

ResidentCardFields resident_card_fields(const core::SyntheticPerson& person, core::Date today) {
  using namespace std::chrono;
  const auto yyyymmdd = [](core::Date d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02u%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
    return std::string(buf);
  };
  // 29 February does not come back every year: issue on the 1st instead.
  const core::Date from{today.year() - years{1}, today.month(), day{1}};
  ResidentCardFields f;
  f.name = person.name;
  f.sex_code = person.sex == core::Sex::male ? "1" : "2";
  f.ethnicity_code = "01";
  f.birth_date = yyyymmdd(person.birth_date);
  f.address = "测试省样例市示范路" + std::to_string(person.resident_id[14] - '0' + 1) + "号";
  f.number = person.resident_id;
  f.issuing_authority = "样例市公安局示范分局";
  f.valid_from = yyyymmdd(from);
  f.valid_to = yyyymmdd(core::Date{from.year() + years{20}, from.month(), from.day()});
  return f;
}

std::vector<std::uint8_t> encode_card_text(const Foreign2017Fields& f) {
  auto block = blank_block();
  put(block, foreign2017::kEnglishName, f.english_name);
  put(block, foreign2017::kSex, f.sex_code);
  put(block, foreign2017::kNumber, f.number);
  put(block, foreign2017::kNationality, f.nationality);
  put(block, foreign2017::kChineseName, f.chinese_name);
  put(block, foreign2017::kValidFrom, f.valid_from);
  put(block, foreign2017::kValidTo, f.valid_to);
  put(block, foreign2017::kBirth, f.birth_date);
  put(block, foreign2017::kVersion, f.card_version);
  put(block, foreign2017::kOffice, f.issuing_office);
  put(block, kTypeFlag, f.type_flag);
  return block;
}

std::vector<std::uint8_t> encode_card_text(const Foreign2023Fields& f) {
  auto block = blank_block();
  put(block, foreign2023::kChineseName, f.chinese_name);
  put(block, foreign2023::kSex, f.sex_code);
  put(block, foreign2023::kRenewal, f.renewal_count);
  put(block, foreign2023::kBirth, f.birth_date);
  // Split on UTF-16 units: the first 35 go to the first field.
  std::u16string units;
  for (std::size_t i = 0; i < f.english_name.size();) {
    const char32_t cp = core::utf8::decode(f.english_name, i).value_or(0xFFFD);
    units.push_back(static_cast<char16_t>(cp < 0x10000 ? cp : 0xFFFD));
  }
  std::string first, second;
  for (std::size_t k = 0; k < units.size(); ++k)
    core::utf8::append(k < foreign2023::kEnglishName1.width / 2 ? first : second, units[k]);
  put(block, foreign2023::kEnglishName1, first);
  put(block, foreign2023::kEnglishName2, second);
  put(block, foreign2023::kNumber, f.number);
  put(block, foreign2023::kValidFrom, f.valid_from);
  put(block, foreign2023::kValidTo, f.valid_to);
  put(block, foreign2023::kNationality, f.nationality);
  put(block, kTypeFlag, f.type_flag);
  put(block, foreign2023::kOldLink, f.old_number_link);
  return block;
}

}  // namespace postgate::adapters::idcard
