#pragma once
// Helpers shared by the scanner codec tests: decoder output as strings
// ("text" for a scan, "!code" for an error) and a fake clock.
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "adapters/scanner/codec/scan_item.hpp"
#include "core/time.hpp"

namespace postgate::adapters::scanner::testing {

inline std::vector<std::string> show(const std::vector<ScanItem>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    if (const auto* s = std::get_if<Scan>(&item)) {
      out.push_back(s->text);
    } else {
      out.push_back("!" + std::get<DeviceError>(item).code);
    }
  }
  return out;
}

inline void append(std::vector<ScanItem>& to, std::vector<ScanItem> from) {
  for (auto& i : from) to.push_back(std::move(i));
}

inline core::TimePoint t0() {
  return core::TimePoint{std::chrono::milliseconds{1'795'000'000'000}};  // 2026-11-18
}

}  // namespace postgate::adapters::scanner::testing
