#pragma once
// Declared contents against the prohibited / restricted items lists (config).
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace postgate::core {

enum class Severity { prohibited, restricted };
std::string_view to_string(Severity s);

struct ScreeningCategory {
  std::string id;    // e.g. "01"
  std::string name;  // e.g. "firearms"
  Severity severity{};
  std::vector<std::string> keywords;  // Chinese or English
};

struct ScreeningHit {
  std::string category;  // category id
  std::string name;      // category name
  Severity severity{};
  std::string keyword;  // the keyword that matched
  friend bool operator==(const ScreeningHit&, const ScreeningHit&) = default;
};

class Screener {
 public:
  Screener() = default;
  Screener(std::string version, std::vector<ScreeningCategory> categories);
  // Case-insensitive: ASCII case and full-width forms (U+FF01-U+FF5E, e.g.
  // "ＧＵＮ") are folded, runs of white space count as one space. Keywords
  // made only of ASCII match whole words, also with a plural ending ("gun"
  // matches "guns" but not "begun"); others (Chinese) match anywhere. At most
  // one hit per category, naming the first of its keywords that matched, in
  // category order.
  std::vector<ScreeningHit> screen(std::string_view declared) const;
  const std::string& version() const { return version_; }
  const std::vector<ScreeningCategory>& categories() const { return categories_; }
  bool has_category(std::string_view id) const;

 private:
  std::string version_;
  std::vector<ScreeningCategory> categories_;
  std::vector<std::vector<std::string>> folded_;  // keywords, folded once
};

}  // namespace postgate::core
