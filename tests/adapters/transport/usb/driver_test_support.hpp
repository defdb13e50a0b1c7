#pragma once
// What the USB driver tests share: a clock with a fixed calendar date, and a
// DeviceSink that records everything a driver reports.
#include <chrono>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "adapters/device.hpp"
#include "core/time.hpp"
#include "core/workflow.hpp"

namespace postgate::test {

using adapters::DeviceError;
using adapters::DeviceSink;
using adapters::DeviceState;

// A fixed calendar date that moves on with real time, so timers work and
// validity checks do not depend on the day the test runs.
class TestClock final : public core::Clock {
 public:
  core::TimePoint now() const override {
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start_);
    return base_ + elapsed;
  }

 private:
  core::TimePoint base_ = *core::parse_utc("2026-11-23T08:00:00.000Z");
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

struct SinkLog {
  std::vector<core::WorkflowEvent> events;
  std::vector<DeviceError> errors;
  std::vector<std::pair<DeviceState, std::string>> states;
  DeviceSink sink() {
    return DeviceSink{[this](const core::WorkflowEvent& e) { events.push_back(e); },
                      [this](DeviceState s, const std::string& d) { states.emplace_back(s, d); },
                      [this](const DeviceError& e) { errors.push_back(e); }};
  }
  std::vector<std::string> scans() const {
    std::vector<std::string> out;
    for (auto& e : events)
      if (auto* b = std::get_if<core::BarcodeScanned>(&e)) out.push_back(b->text);
    return out;
  }
  std::vector<core::IdentityDocument> identities() const {
    std::vector<core::IdentityDocument> out;
    for (auto& e : events)
      if (auto* r = std::get_if<core::IdentityRead>(&e)) out.push_back(r->document);
    return out;
  }
  int failed_reads() const {
    int n = 0;
    for (auto& e : events) n += std::holds_alternative<core::IdentityReadFailed>(e) ? 1 : 0;
    return n;
  }
  bool in_state(DeviceState s) const { return !states.empty() && states.back().first == s; }
  bool has_error(const std::string& code) const {
    for (auto& e : errors)
      if (e.code == code) return true;
    return false;
  }
  std::string error_codes() const {
    std::string s;
    for (auto& e : errors) s += e.code + " ";
    return s;
  }
};

}  // namespace postgate::test
