// Declared contents screening against the configured categories.
#include "core/screening.hpp"

#include "core/utf8.hpp"

namespace postgate::core {

namespace {

bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_ascii_space(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Lower-cases ASCII, maps full-width forms onto ASCII, turns every run of
// white space (including U+3000) into one space, and replaces invalid bytes
// with U+FFFD so they cannot join neighbours into a false match.
std::string fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = utf8::decode(s, i).value_or(0xFFFD);
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;
    if (cp == 0x3000 || is_ascii_space(cp)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    utf8::append(out, cp);
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool is_ascii(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// True when `word` occurs in `text` with no ASCII letter or digit glued to
// either end (non-ASCII characters, such as Chinese, count as boundaries).
bool contains_word(std::string_view text, std::string_view word) {
  for (auto pos = text.find(word); pos != std::string_view::npos; pos = text.find(word, pos + 1)) {
    const auto end = pos + word.size();
    const bool left = pos == 0 || !is_ascii_alnum(word.front()) || !is_ascii_alnum(text[pos - 1]);
    const bool right =
        end == text.size() || !is_ascii_alnum(word.back()) || !is_ascii_alnum(text[end]);
    if (left && right) return true;
  }
  return false;
}

bool matches(std::string_view text, const std::string& keyword) {
  if (!is_ascii(keyword)) return text.find(keyword) != std::string_view::npos;
  // English plurals: -s, -es and y -> -ies ("battery" -> "batteries"). Other
  // inflections (knives) need their own keyword in the list.
  if (contains_word(text, keyword) || contains_word(text, keyword + "s") ||
      contains_word(text, keyword + "es"))
    return true;
  return keyword.size() > 1 && keyword.back() == 'y' &&
         contains_word(text, keyword.substr(0, keyword.size() - 1) + "ies");
}

}  // namespace

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::prohibited:
      return "prohibited";
    case Severity::restricted:
      return "restricted";
  }
  return "unknown";
}

Screener::Screener(std::string version, std::vector<ScreeningCategory> categories)
    : version_(std::move(version)), categories_(std::move(categories)) {
  folded_.reserve(categories_.size());
  for (const auto& c : categories_) {
    auto& keys = folded_.emplace_back();
    for (const auto& k : c.keywords) keys.push_back(fold(k));
  }
}

std::vector<ScreeningHit> Screener::screen(std::string_view declared) const {
  const std::string text = fold(declared);
  std::vector<ScreeningHit> hits;
  for (std::size_t c = 0; c < categories_.size(); ++c) {
    for (std::size_t k = 0; k < folded_[c].size(); ++k) {
      if (folded_[c][k].empty() || !matches(text, folded_[c][k])) continue;
      const auto& cat = categories_[c];
      hits.push_back({cat.id, cat.name, cat.severity, cat.keywords[k]});
      break;
    }
  }
  return hits;
}

bool Screener::has_category(std::string_view id) const {
  for (const auto& c : categories_)
    if (c.id == id) return true;
  return false;
}

}  // namespace postgate::core
