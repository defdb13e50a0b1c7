#pragma once
// A DeviceSink that keeps everything a driver reports, for assertions.
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "adapters/device.hpp"
#include "core/workflow.hpp"

namespace postgate::test {

struct DeviceRecorder {
  std::vector<core::WorkflowEvent> events;
  std::vector<adapters::DeviceError> errors;
  std::vector<std::pair<adapters::DeviceState, std::string>> states;

  adapters::DeviceSink sink() {
    return adapters::DeviceSink{
        [this](const core::WorkflowEvent& e) { events.push_back(e); },
        [this](adapters::DeviceState s, const std::string& d) { states.emplace_back(s, d); },
        [this](const adapters::DeviceError& e) { errors.push_back(e); }};
  }

  std::vector<core::IdentityDocument> reads() const {
    std::vector<core::IdentityDocument> out;
    for (const auto& e : events) {
      if (const auto* r = std::get_if<core::IdentityRead>(&e)) out.push_back(r->document);
    }
    return out;
  }
  int failures() const {
    int n = 0;
    for (const auto& e : events) n += std::holds_alternative<core::IdentityReadFailed>(e);
    return n;
  }
  std::vector<std::string> scans() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (const auto* s = std::get_if<core::BarcodeScanned>(&e)) out.push_back(s->text);
    }
    return out;
  }
  int errors_with(std::string_view code) const {
    int n = 0;
    for (const auto& e : errors) n += e.code == code;
    return n;
  }
  std::vector<adapters::DeviceState> state_sequence() const {
    std::vector<adapters::DeviceState> out;
    for (const auto& s : states) out.push_back(s.first);
    return out;
  }
};

}  // namespace postgate::test
