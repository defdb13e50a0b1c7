#pragma once
// Internal to the identity validator: the per-type document number rules.
#include <optional>
#include <string>
#include <string_view>

#include "core/identity.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace postgate::core::detail {

// What a number reveals about its holder, where the format embeds it.
struct NumberFacts {
  std::optional<Date> birth_date;
  std::optional<Sex> sex;
};

// Trims, removes spaces and upper-cases ASCII letters; other bytes are kept.
std::string normalise_number(std::string_view raw);

// Checks an already normalised number. Errors carry field "doc_number" and
// never the number itself.
Result<NumberFacts> check_number(DocType type, std::string_view number, Date today);

// GB 32100-2015 unified social credit code check character, or nullopt when
// the 17 characters are not all from the code's alphabet.
std::optional<char> gb32100_check_char(std::string_view first17);

}  // namespace postgate::core::detail
