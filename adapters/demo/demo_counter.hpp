#pragma once
// A scripted counter for demos and tests without devices: it plays what an
// operator, an ID-card reader and a barcode scanner would send to a
// core::CounterWorkflow, one parcel after another. It knows nothing of time
// sources or event loops: the caller asks for the next event, waits the
// delay it names, and delivers it (the daemon does so with an Asio timer).
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/synthetic.hpp"
#include "core/time.hpp"
#include "core/workflow.hpp"

namespace postgate::adapters::demo {

struct DemoSettings {
  double rate_per_s = 1.0;    // parcels per second (> 0)
  std::uint64_t count = 0;    // parcels to produce; 0: forever
  std::uint64_t seed = 1;     // with the counter id, fixes every synthetic value
  double refuse_ratio = 0.0;  // share of parcels refused at inspection, 0..1
  std::string control_prefix = "PG:";
  std::string operator_id = "op-demo";
  // Categories a refusal names; they must exist in the screening list.
  std::vector<std::string> refuse_categories = {"02"};
};

struct DemoStep {
  std::chrono::milliseconds delay{0};  // wait this long before delivering
  core::WorkflowEvent event;
  std::string what;  // for logs, masked: "badge", "id card", "waybill", "contents", "ok", ...
};

class DemoCounter {
 public:
  DemoCounter(std::string name, std::string counter, DemoSettings settings);

  // The next event for a counter whose workflow is in `state`. A new parcel
  // starts from whatever state the workflow is in (it logs in, closes a
  // customer left over, cancels a parcel left open), so a rejected scan
  // never wedges the script. nullopt once `count` parcels were played.
  // The caller must not deliver events while the workflow is committing.
  std::optional<DemoStep> next(core::CounterState state, core::Date today);

  const std::string& name() const { return name_; }
  const std::string& counter() const { return counter_; }
  const DemoSettings& settings() const { return settings_; }
  std::uint64_t parcels_started() const { return started_; }
  bool finished() const;

 private:
  void plan_parcel(core::CounterState state, core::Date today);
  std::string control(std::string_view rest) const {
    return settings_.control_prefix + std::string(rest);
  }

  std::string name_;
  std::string counter_;
  DemoSettings settings_;
  core::SplitMix64 random_;
  std::deque<DemoStep> steps_;
  std::uint64_t started_ = 0;
};

}  // namespace postgate::adapters::demo
