#include "core/identity.hpp"

#include <array>
#include <utility>

#include "core/identity_numbers.hpp"
#include "core/utf8.hpp"

namespace postgate::core {

namespace {

constexpr std::array<std::pair<DocType, std::string_view>, 10> kNames{{
    {DocType::resident_id, "resident_id"},
    {DocType::temporary_resident_id, "temporary_resident_id"},
    {DocType::hmt_residence_permit, "hmt_residence_permit"},
    {DocType::hk_macau_travel_permit, "hk_macau_travel_permit"},
    {DocType::taiwan_travel_permit, "taiwan_travel_permit"},
    {DocType::passport, "passport"},
    {DocType::foreign_permanent_resident_id, "foreign_permanent_resident_id"},
    {DocType::military_id, "military_id"},
    {DocType::armed_police_id, "armed_police_id"},
    {DocType::organisation, "organisation"},
}};

constexpr std::size_t kMaxNameCodePoints = 64;

bool is_control(char32_t cp) {
  // C0, DEL, C1, and the Unicode line/paragraph separators: none belongs in a
  // name, and all of them can break log lines or the counter display.
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

Result<std::string> check_name(std::string_view raw) {
  if (!utf8::is_valid(raw)) return fail("bad_name", "name", "name is not valid UTF-8");
  const std::string_view name = utf8::trim(raw);
  if (name.empty()) return fail("bad_name", "name", "name is empty");
  std::size_t count = 0;
  for (std::size_t i = 0; i < name.size(); ++count) {
    if (is_control(*utf8::decode(name, i)))
      return fail("bad_name", "name", "name contains a control character");
  }
  if (count > kMaxNameCodePoints)
    return fail("bad_name", "name", "name is longer than 64 characters");
  return std::string(name);
}

}  // namespace

std::string_view to_string(DocType t) {
  for (const auto& [type, name] : kNames)
    if (type == t) return name;
  return "unknown";
}

std::optional<DocType> doc_type_from_string(std::string_view s) {
  for (const auto& [type, name] : kNames)
    if (name == s) return type;
  return std::nullopt;
}

const std::vector<DocType>& all_doc_types() {
  static const std::vector<DocType> types = [] {
    std::vector<DocType> v;
    for (const auto& entry : kNames) v.push_back(entry.first);
    return v;
  }();
  return types;
}

std::optional<char> gb11643_check_char(std::string_view first17) {
  static constexpr std::array<int, 17> weights{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr std::string_view check_chars = "10X98765432";
  if (first17.size() != 17) return std::nullopt;
  int sum = 0;
  for (std::size_t i = 0; i < 17; ++i) {
    const char c = first17[i];
    if (c < '0' || c > '9') return std::nullopt;
    sum += (c - '0') * weights[i];
  }
  return check_chars[static_cast<std::size_t>(sum % 11)];
}

Result<IdentityDocument> validate_identity(DocType type, std::string_view number,
                                           std::string_view name, Date today) {
  IdentityDocument doc;
  doc.type = type;
  doc.number = detail::normalise_number(number);
  auto facts = detail::check_number(type, doc.number, today);
  if (!facts) return std::unexpected(std::move(facts.error()));
  auto checked_name = check_name(name);
  if (!checked_name) return std::unexpected(std::move(checked_name.error()));
  doc.name = std::move(*checked_name);
  doc.birth_date = facts->birth_date;
  doc.sex = facts->sex;
  return doc;
}

}  // namespace postgate::core
