#pragma once
// postgatectl's output: human summaries of API answers, and the submit
// request built from one input line. Pure, for tests.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace postgate::daemon {

// `status` is the "status" object of a status answer.
std::string format_status(const nlohmann::json& status);
// `records` is the "records" array of a records answer (masked records).
std::string format_records(const nlohmann::json& records);
// `postgatectl devices`: one line per device (and demo adapter).
std::string format_devices(const nlohmann::json& devices);

// Terminal columns taken by UTF-8 text (wide East Asian characters count 2).
std::size_t display_width(std::string_view text);

// A submit request line ("\n"-terminated) for one input line, or nullopt when
// the line is not JSON; `local_error` then holds the answer line to print in
// its place.
std::optional<std::string> submit_request(std::string_view input_line, std::size_t line_no,
                                          std::string& local_error);
// True when an answer line says ok.
bool answer_ok(std::string_view answer_line);

}  // namespace postgate::daemon
