#pragma once
// Minimal UTF-8 handling for the domain (names, declared contents, masking).
// Strict: overlong forms, surrogates and code points above U+10FFFF are invalid.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postgate::core::utf8 {

// Decodes the code point starting at s[i] and advances i past it. On an
// invalid sequence returns nullopt and advances i by one byte, so callers can
// resynchronise.
std::optional<char32_t> decode(std::string_view s, std::size_t& i);

bool is_valid(std::string_view s);
void append(std::string& out, char32_t cp);
// Replaces every invalid byte with U+FFFD, so the result can go into JSON
// and logs (nlohmann::json refuses invalid UTF-8 when dumping).
std::string sanitise(std::string_view s);
// Number of code points; invalid bytes count one each.
std::size_t length(std::string_view s);

// CJK unified ideographs (basic block and extensions A-F) and the
// compatibility ideographs: the characters of Chinese names and keywords.
bool is_cjk(char32_t cp);

// Trims ASCII whitespace, NBSP and the ideographic space (U+3000).
std::string_view trim(std::string_view s);

}  // namespace postgate::core::utf8
