#pragma once
// Error policy (one for the whole code base, see docs/operations.md):
// every function that crosses a component boundary returns Result<T>.
// Exceptions thrown by third-party libraries (yaml-cpp, nlohmann::json, Paho,
// Boost) are caught at the edge where that library is used and turned into an
// Error. An Error's message never contains unmasked personal data.
#include <expected>
#include <string>
#include <utility>

namespace postgate::core {

struct Error {
  std::string code;     // stable, snake_case, for machines: "bad_check_digit"
  std::string field;    // dotted path of the offending input, may be empty
  std::string message;  // for people; masked
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(std::string code, std::string field, std::string message) {
  return std::unexpected(Error{std::move(code), std::move(field), std::move(message)});
}

// Prefixes the field path of an error produced for a nested value, so that a
// validator of a document can say "doc_number" and its caller "sender.doc_number".
inline Error nest(std::string_view prefix, Error e) {
  e.field = e.field.empty() ? std::string(prefix) : std::string(prefix) + "." + e.field;
  return e;
}

}  // namespace postgate::core
