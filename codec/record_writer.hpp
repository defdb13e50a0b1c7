#pragma once
// A direct JSON writer for records: the same bytes as
// record_to_json(r, m).dump() (no indent, UTF-8 kept as is, invalid UTF-8
// refused) without building the nlohmann DOM, whose std::map per object
// dominates the cost of draining records. record_to_json stays the reference;
// tests/codec/record_writer_test.cpp holds the two byte for byte together, so
// a key added there must be added here in its sorted place.
#include <string>
#include <string_view>

#include "codec/record_json.hpp"
#include "core/record.hpp"
#include "core/result.hpp"

namespace postgate::codec {

// Appends the record's JSON text to `out`. Fails with "invalid_text" when a
// string is not valid UTF-8 (where nlohmann's dump throws type_error 316);
// `out` is then left as it was at entry.
core::Status append_record_json(const core::Record& r, Masking m, std::string& out);
core::Result<std::string> record_json_text(const core::Record& r, Masking m);

// Appends `s` as a quoted JSON string, escaped like nlohmann's dump with
// ensure_ascii=false. Returns false, with `out` as it was, when `s` is not
// valid UTF-8 (overlong forms, surrogates, above U+10FFFF, truncated).
[[nodiscard]] bool append_json_string(std::string_view s, std::string& out);

}  // namespace postgate::codec
