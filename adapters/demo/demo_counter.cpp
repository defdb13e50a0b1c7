#include "adapters/demo/demo_counter.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace postgate::adapters::demo {

namespace {

// Harmless contents: no keyword of the default screening list, so a pass
// needs no confirmation.
constexpr std::array<const char*, 8> kContents = {"books", "clothes",   "tea",    "shoes",
                                                  "toys",  "documents", "towels", "notebooks"};

// FNV-1a: the counter id varies the seed, so two demo counters with the same
// seed still play different people.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

DemoCounter::DemoCounter(std::string name, std::string counter, DemoSettings settings)
    : name_(std::move(name)),
      counter_(std::move(counter)),
      settings_(std::move(settings)),
      random_(settings_.seed ^ fnv1a(counter_)) {
  if (!(settings_.rate_per_s > 0)) settings_.rate_per_s = 1.0;
  settings_.refuse_ratio = std::clamp(settings_.refuse_ratio, 0.0, 1.0);
}

bool DemoCounter::finished() const {
  return steps_.empty() && settings_.count != 0 && started_ >= settings_.count;
}

std::optional<DemoStep> DemoCounter::next(core::CounterState state, core::Date today) {
  if (steps_.empty()) {
    if (finished()) return std::nullopt;
    plan_parcel(state, today);
  }
  DemoStep s = std::move(steps_.front());
  steps_.pop_front();
  return s;
}

void DemoCounter::plan_parcel(core::CounterState state, core::Date today) {
  using S = core::CounterState;
  std::vector<DemoStep> plan;
  auto scan = [&](std::string text, std::string what) {
    plan.push_back(DemoStep{{}, core::BarcodeScanned{std::move(text)}, std::move(what)});
  };

  // Bring the counter to "ready" the way an operator would.
  if (state == S::collecting || state == S::confirm_restricted) scan(control("CANCEL"), "cancel");
  if (state == S::logged_out)
    scan(control("OP:") + settings_.operator_id, "badge");
  else if (state != S::ready)
    scan(control("DONE"), "done");

  const auto person = core::make_person(random_, today);
  auto doc =
      core::validate_identity(core::DocType::resident_id, person.resident_id, person.name, today);
  if (doc)
    plan.push_back(DemoStep{{}, core::IdentityRead{std::move(*doc)}, "id card"});
  else
    plan.push_back(
        DemoStep{{}, core::IdentityReadFailed{"demo: synthetic card rejected"}, "id card"});

  const auto waybills = 1 + core::uniform(random_, 3);
  for (std::uint64_t i = 0; i < waybills; ++i) scan(core::make_s10(random_), "waybill");
  scan(control("DECL:") + kContents[core::uniform(random_, kContents.size())], "contents");

  // refuse_ratio as a draw over 1e6 keeps the stream of draws independent
  // of floating point details.
  const bool refuse =
      !settings_.refuse_categories.empty() &&
      static_cast<double>(core::uniform(random_, 1000000)) < settings_.refuse_ratio * 1e6;
  if (refuse) {
    const auto& cat =
        settings_.refuse_categories[core::uniform(random_, settings_.refuse_categories.size())];
    scan(control("REFUSE:") + cat, "refuse");
  } else {
    scan(control("OK"), "ok");
  }

  // Spread the parcel's events over its share of time: rate_per_s parcels
  // per second whatever the number of scans.
  const auto period = std::chrono::duration<double>(1.0 / settings_.rate_per_s);
  const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(period / plan.size());
  for (std::size_t i = 0; i < plan.size(); ++i) {
    plan[i].delay = i == 0 && started_ == 0 ? std::chrono::milliseconds(0) : gap;
    steps_.push_back(std::move(plan[i]));
  }
  ++started_;
}

}  // namespace postgate::adapters::demo
