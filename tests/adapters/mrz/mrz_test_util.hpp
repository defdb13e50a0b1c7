#pragma once
// Synthetic machine-readable zones for the MRZ tests: every field settable,
// check digits computed here (independently of core/mrz.cpp) unless a test
// overrides one to make it wrong.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "adapters/mrz/codec/mrz_assembler.hpp"

namespace postgate::adapters::mrz::testing {

inline char check(std::string_view s) {
  static constexpr int kWeights[] = {7, 3, 1};
  int sum = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const int v = c == '<' ? 0 : (c >= '0' && c <= '9') ? c - '0' : c - 'A' + 10;
    sum += v * kWeights[i % 3];
  }
  return static_cast<char>('0' + sum % 10);
}

inline std::string pad(std::string s, std::size_t n) {
  s.resize(n, '<');
  return s;
}

inline char wrong(char digit) {
  return digit == '9' ? '0' : static_cast<char>(digit + 1);
}

// A passport (TD3). Field names as in ICAO 9303; `bad` names the check digit
// to spoil: "document_number", "birth_date", "expiry", "optional_data",
// "composite".
struct Td3 {
  std::string state = "UTO";
  std::string names = "TESTER<<SAMPLE<PERSON";
  std::string number = "X1234567";
  std::string nationality = "UTO";
  std::string birth = "800101";
  char sex = 'F';
  std::string expiry = "310415";
  std::string personal = "";
  std::string bad;

  std::vector<std::string> lines() const {
    const std::string l1 = pad("P<" + state + names, 44);
    const std::string num = pad(number, 9), per = pad(personal, 14);
    const auto cd = [&](std::string_view field, std::string_view value) {
      const char c = check(value);
      return bad == field ? wrong(c) : c;
    };
    std::string l2 = num + cd("document_number", num) + nationality + birth +
                     cd("birth_date", birth) + sex + expiry + cd("expiry", expiry) + per +
                     cd("optional_data", per);
    l2 += cd("composite", l2.substr(0, 10) + l2.substr(13, 7) + l2.substr(21, 22));
    return {l1, l2};
  }
};

// A TD1 card; by default a Chinese HK/Macau permit (the TD1 cards postgate
// accepts). `bad`: "document_number", "birth_date", "expiry", "composite".
struct Td1 {
  std::string code = "CS";
  std::string state = "CHN";
  std::string number = "H12345678";
  std::string birth = "800101";
  char sex = 'M';
  std::string expiry = "310415";
  std::string nationality = "CHN";
  std::string names = "TESTER<<SAMPLE";
  std::string bad;

  std::vector<std::string> lines() const {
    const auto cd = [&](std::string_view field, std::string_view value) {
      const char c = check(value);
      return bad == field ? wrong(c) : c;
    };
    const std::string num = pad(number, 9);
    const std::string l1 = pad(code + state + num + cd("document_number", num), 30);
    std::string l2 = birth + cd("birth_date", birth) + sex + expiry + cd("expiry", expiry) +
                     nationality + pad("", 11);
    l2 += cd("composite", l1.substr(5, 25) + l2.substr(0, 7) + l2.substr(8, 7) + l2.substr(18, 11));
    return {l1, l2, pad(names, 30)};
  }
};

// Output as strings: "read:<doc type>:<number>", "failed", "!code".
inline std::vector<std::string> show(const MrzOutput& out) {
  std::vector<std::string> s;
  for (const auto& e : out.events) {
    if (const auto* r = std::get_if<core::IdentityRead>(&e)) {
      s.push_back("read:" + std::string(core::to_string(r->document.type)) + ":" +
                  r->document.number);
    } else if (std::holds_alternative<core::IdentityReadFailed>(e)) {
      s.push_back("failed");
    } else {
      s.push_back("other");
    }
  }
  for (const auto& e : out.errors) s.push_back("!" + e.code);
  return s;
}

// 2026-11-23 10:00 UTC: 18:00 at the outlet (+8 h).
inline core::TimePoint t0() {
  using namespace std::chrono;
  return time_point_cast<milliseconds>(sys_days{year{2026} / November / day{23}} + hours{10});
}

}  // namespace postgate::adapters::mrz::testing
