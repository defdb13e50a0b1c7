#pragma once
// X-ray result files: the small JSON or XML file a screening machine writes
// next to each scan image. Which field holds what differs per machine model,
// so a ResultMapping from config names each field's path.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/xray/codec/scan_time.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "core/waybill.hpp"

namespace postgate::adapters::xray {

enum class ResultFormat { json, xml };
std::optional<ResultFormat> result_format_from_string(std::string_view s);
std::string_view to_string(ResultFormat f);

enum class Verdict { clear, suspect, unknown };
std::string_view to_string(Verdict v);

// Field paths.
//   JSON: dotted ("scan.lane", "items.0.verdict": a number indexes an array)
//         or a JSON pointer ("/scan/lane").
//   XML:  element path from the root element ("Scan/Lane": the text of
//         <Lane> inside the root <Scan>), or an attribute as the last step
//         ("Scan/@lane"). A step without a prefix matches any namespace
//         prefix; the first element of a name wins.
struct ResultMapping {
  ResultFormat format = ResultFormat::json;
  std::string lane;
  std::string time;
  std::string waybill;  // empty: the machine does not scan waybills
  std::string verdict;
  std::string image;
  TimeFormat time_format;
  // Machine words, compared case-insensitively (ASCII) after trimming.
  // Any other word gives Verdict::unknown.
  std::vector<std::string> clear_words;
  std::vector<std::string> suspect_words;
  std::size_t max_bytes = 256 * 1024;
};

// Checked when config is loaded: paths present and well formed, time format,
// words not empty and not both clear and suspect, a sane size limit. Error
// fields name the mapping key ("lane", "time_format.pattern", ...).
core::Status validate_mapping(const ResultMapping& m);

struct XrayResult {
  std::string lane;  // printable ASCII, at most 32 bytes
  core::TimePoint time{};
  // The waybill the machine read, if it read one: normalised when the
  // validator accepts it (waybill_valid), otherwise as the machine wrote it,
  // trimmed. Personal data: never logged.
  std::optional<std::string> waybill;
  bool waybill_valid = false;
  Verdict verdict = Verdict::unknown;
  std::string verdict_word;  // as the machine wrote it, trimmed (for reports)
  std::string image;         // bare file name in the watched folder
};

// Error codes (field: the mapping path of the offending value, when one):
//   too_large, bad_json, bad_xml (field empty), missing_field, bad_type,
//   bad_time, bad_lane, bad_waybill, bad_verdict, bad_image_name.
// Messages say what is wrong without repeating the value.
core::Result<XrayResult> parse_result(std::string_view bytes, const ResultMapping& mapping,
                                      const core::WaybillValidator& waybills);
// With the default validator (UPU S10 only).
core::Result<XrayResult> parse_result(std::string_view bytes, const ResultMapping& mapping);

// A bare file name: not empty, at most 200 bytes, valid UTF-8 without
// control characters, no '/', '\\' or "..", not starting with '.'.
bool is_bare_file_name(std::string_view name);

}  // namespace postgate::adapters::xray
