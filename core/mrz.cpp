// ICAO 9303 MRZ parsing (DOMAIN.md section 3). Positions below are 0-based.
#include "core/mrz.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace postgate::core {

namespace {

using namespace std::chrono;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) {
  return c >= 'A' && c <= 'Z';
}

std::unexpected<Error> bad(std::string code, std::string_view field, std::string message) {
  return fail(std::move(code), "mrz." + std::string(field), std::move(message));
}

// Splits into lines, dropping "\r" line ends, trailing spaces and blank lines
// before and after the zone. A blank line inside the zone stays (and fails).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty() || !lines.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  const auto first = std::find_if(lines.begin(), lines.end(), [](auto l) { return !l.empty(); });
  lines.erase(lines.begin(), first);
  return lines;
}

std::string_view strip_filler(std::string_view s) {
  while (!s.empty() && s.back() == '<') s.remove_suffix(1);
  while (!s.empty() && s.front() == '<') s.remove_prefix(1);
  return s;
}

// "ANNA<MARIA<<<" -> "ANNA MARIA".
std::string name_part(std::string_view s) {
  std::string out;
  for (const char c : strip_filler(s)) {
    if (c != '<')
      out.push_back(c);
    else if (!out.empty() && out.back() != ' ')
      out.push_back(' ');
  }
  return out;
}

void split_name(std::string_view field, Mrz& m) {
  const auto sep = field.find("<<");
  m.surname = name_part(field.substr(0, sep));
  m.given_names = sep == std::string_view::npos ? "" : name_part(field.substr(sep + 2));
}

// A check digit must be a digit, except that an empty optional field may
// carry a filler instead.
Status verify(std::string_view field_text, char check, std::string_view field, bool filler_ok) {
  if (filler_ok && check == '<' && strip_filler(field_text).empty()) return {};
  if (!is_digit(check) || mrz_check_digit(field_text) != check - '0')
    return bad("bad_check_digit", field, "check digit does not match");
  return {};
}

std::optional<Date> yymmdd(std::string_view s, int century) {
  if (!std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  const int yy = (s[0] - '0') * 10 + (s[1] - '0');
  const Date d{year{century + yy}, month{static_cast<unsigned>((s[2] - '0') * 10 + (s[3] - '0'))},
               day{static_cast<unsigned>((s[4] - '0') * 10 + (s[5] - '0'))}};
  if (!d.ok()) return std::nullopt;
  return d;
}

// Two-digit birth years: the latest century that does not put the birth in
// the future.
Result<Date> birth_date(std::string_view s, Date today) {
  for (const int century : {2000, 1900}) {
    const auto d = yymmdd(s, century);
    if (d && *d <= today) return *d;
  }
  return bad("bad_birth_date", "birth_date", "birth date is not a valid past date");
}

Result<Date> expiry_date(std::string_view s) {
  const auto d = yymmdd(s, 2000);
  if (!d) return bad("bad_expiry_date", "expiry", "expiry is not a valid date");
  return *d;
}

Result<Sex> sex(char c) {
  switch (c) {
    case 'M':
      return Sex::male;
    case 'F':
      return Sex::female;
    case '<':
    case 'X':
      return Sex::unstated;
    default:
      return bad("bad_format", "sex", "sex must be M, F, X or <");
  }
}

Result<std::string> state_code(std::string_view s, std::string_view field) {
  if (!std::all_of(s.begin(), s.end(), [](char c) { return is_letter(c) || c == '<'; }) ||
      strip_filler(s).empty())
    return bad("bad_format", field, "expected a three-letter state code");
  return std::string(strip_filler(s));
}

// The fields both formats share, once their positions are known.
Status common_fields(Mrz& m, std::string_view code, std::string_view issuing,
                     std::string_view birth, std::string_view sex_char, std::string_view expiry,
                     std::string_view nationality, Date today) {
  m.document_code = std::string(strip_filler(code));
  auto issuer = state_code(issuing, "issuing_state");
  if (!issuer) return std::unexpected(issuer.error());
  m.issuing_state = *issuer;
  auto nat = state_code(nationality, "nationality");
  if (!nat) return std::unexpected(nat.error());
  m.nationality = *nat;
  auto b = birth_date(birth, today);
  if (!b) return std::unexpected(b.error());
  m.birth_date = *b;
  auto s = sex(sex_char[0]);
  if (!s) return std::unexpected(s.error());
  m.sex = *s;
  auto e = expiry_date(expiry);
  if (!e) return std::unexpected(e.error());
  m.expiry = *e;
  return {};
}

Result<Mrz> parse_td3(std::string_view l1, std::string_view l2, Date today) {
  Mrz m;
  m.format = MrzFormat::td3;
  if (l1[0] != 'P') return bad("bad_format", "document_code", "a TD3 zone must be a passport (P)");
  if (auto s = verify(l2.substr(0, 9), l2[9], "document_number", false); !s)
    return std::unexpected(s.error());
  if (auto s = verify(l2.substr(13, 6), l2[19], "birth_date", false); !s)
    return std::unexpected(s.error());
  if (auto s = verify(l2.substr(21, 6), l2[27], "expiry", false); !s)
    return std::unexpected(s.error());
  if (auto s = verify(l2.substr(28, 14), l2[42], "optional_data", true); !s)
    return std::unexpected(s.error());
  const std::string composite = std::string(l2.substr(0, 10)) + std::string(l2.substr(13, 7)) +
                                std::string(l2.substr(21, 22));
  if (auto s = verify(composite, l2[43], "composite", false); !s) return std::unexpected(s.error());
  if (auto s = common_fields(m, l1.substr(0, 2), l1.substr(2, 3), l2.substr(13, 6),
                             l2.substr(20, 1), l2.substr(21, 6), l2.substr(10, 3), today);
      !s)
    return std::unexpected(s.error());
  m.document_number = std::string(strip_filler(l2.substr(0, 9)));
  m.optional_data = std::string(strip_filler(l2.substr(28, 14)));
  split_name(l1.substr(5), m);
  return m;
}

Result<Mrz> parse_td1(std::string_view l1, std::string_view l2, std::string_view l3, Date today) {
  Mrz m;
  m.format = MrzFormat::td1;
  if (l1[0] != 'A' && l1[0] != 'C' && l1[0] != 'I')
    return bad("bad_format", "document_code", "a TD1 document code starts with A, C or I");
  std::string_view optional1 = l1.substr(15, 15);
  if (l1[14] == '<') {
    // Long document number: the first nine characters, a filler instead of
    // the check digit, the rest at the start of the optional data followed
    // by the check digit and a filler.
    const auto run = optional1.substr(0, optional1.find('<'));
    if (run.empty() || strip_filler(l1.substr(5, 9)).size() != 9)
      return bad("bad_format", "document_number", "document number check digit missing");
    const std::string number =
        std::string(l1.substr(5, 9)) + std::string(run.substr(0, run.size() - 1));
    if (auto s = verify(number, run.back(), "document_number", false); !s)
      return std::unexpected(s.error());
    m.document_number = number;
    optional1.remove_prefix(run.size());
  } else {
    if (auto s = verify(l1.substr(5, 9), l1[14], "document_number", false); !s)
      return std::unexpected(s.error());
    m.document_number = std::string(strip_filler(l1.substr(5, 9)));
  }
  if (auto s = verify(l2.substr(0, 6), l2[6], "birth_date", false); !s)
    return std::unexpected(s.error());
  if (auto s = verify(l2.substr(8, 6), l2[14], "expiry", false); !s)
    return std::unexpected(s.error());
  const std::string composite = std::string(l1.substr(5, 25)) + std::string(l2.substr(0, 7)) +
                                std::string(l2.substr(8, 7)) + std::string(l2.substr(18, 11));
  if (auto s = verify(composite, l2[29], "composite", false); !s) return std::unexpected(s.error());
  if (auto s = common_fields(m, l1.substr(0, 2), l1.substr(2, 3), l2.substr(0, 6), l2.substr(7, 1),
                             l2.substr(8, 6), l2.substr(15, 3), today);
      !s)
    return std::unexpected(s.error());
  // Both optional fields, joined by a space when both are used.
  const auto o1 = strip_filler(optional1), o2 = strip_filler(l2.substr(18, 11));
  m.optional_data = std::string(o1);
  if (!o1.empty() && !o2.empty()) m.optional_data += ' ';
  m.optional_data += o2;
  split_name(l3, m);
  return m;
}

// ICAO uses a few codes that are not ISO 3166-1 alpha-3 (Germany is "D").
std::string iso_alpha3(const std::string& code) {
  return code == "D" ? "DEU" : code;
}

}  // namespace

int mrz_char_value(char c) {
  if (is_digit(c)) return c - '0';
  if (is_letter(c)) return c - 'A' + 10;
  if (c == '<') return 0;
  return -1;
}

int mrz_check_digit(std::string_view field) {
  static constexpr int weights[] = {7, 3, 1};
  int sum = 0;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const int v = mrz_char_value(field[i]);
    if (v < 0) return -1;
    sum += v * weights[i % 3];
  }
  return sum % 10;
}

Result<Mrz> parse_mrz(std::string_view text, Date today) {
  const auto lines = split_lines(text);
  const bool td3 = lines.size() == 2 && lines[0].size() == 44 && lines[1].size() == 44;
  const bool td1 =
      lines.size() == 3 && lines[0].size() == 30 && lines[1].size() == 30 && lines[2].size() == 30;
  if (!td3 && !td1)
    return fail("bad_format", "mrz", "expected 2 lines of 44 or 3 lines of 30 characters");
  for (const auto line : lines)
    if (!std::all_of(line.begin(), line.end(), [](char c) { return mrz_char_value(c) >= 0; }))
      return fail("bad_character", "mrz", "only A-Z, 0-9 and < may appear in an MRZ");
  return td3 ? parse_td3(lines[0], lines[1], today)
             : parse_td1(lines[0], lines[1], lines[2], today);
}

Result<Mrz> parse_mrz(std::string_view text) {
  return parse_mrz(text, Date{floor<days>(system_clock::now())});
}

Result<IdentityDocument> identity_from_mrz(const Mrz& mrz, Date today) {
  DocType type = DocType::passport;
  if (mrz.format == MrzFormat::td1) {
    // Chinese exit-entry permits for Hong Kong, Macau and Taiwan residents
    // are TD1 cards issued by CHN with a document code starting with C; the
    // number tells them apart (H/M prefix or digits only). Other TD1 cards
    // (foreign national ids) are not accepted documents (DOMAIN.md 1).
    const auto& n = mrz.document_number;
    const bool chinese_permit = mrz.issuing_state == "CHN" && mrz.document_code.starts_with('C');
    if (chinese_permit && !n.empty() && (n[0] == 'H' || n[0] == 'M'))
      type = DocType::hk_macau_travel_permit;
    else if (chinese_permit && std::all_of(n.begin(), n.end(), is_digit))
      type = DocType::taiwan_travel_permit;
    else
      return fail("unsupported_document", "mrz.document_code",
                  "this card is not an accepted identity document");
  }
  std::string name = mrz.surname;
  if (!mrz.given_names.empty()) name += (name.empty() ? "" : " ") + mrz.given_names;
  auto doc = validate_identity(type, mrz.document_number, name, today);
  if (!doc) return doc;
  if (mrz.expiry < today) return fail("expired", "valid_to", "the document has expired");
  doc->birth_date = mrz.birth_date;
  doc->sex = mrz.sex;
  doc->nationality = iso_alpha3(mrz.nationality);
  doc->valid_to = mrz.expiry;
  return doc;
}

}  // namespace postgate::core
