#include "core/xray_binding.hpp"

#include <algorithm>

namespace postgate::core {

namespace {

std::string normalise(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t') continue;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

std::chrono::milliseconds distance(TimePoint a, TimePoint b) {
  return a > b ? a - b : b - a;
}

// The candidate closest in time to the scan, or nullptr when two are equally
// close.
const XrayCandidate* closest(const std::vector<const XrayCandidate*>& found, TimePoint t,
                             bool& tie) {
  tie = false;
  const XrayCandidate* best = nullptr;
  for (const auto* c : found) {
    if (!best || distance(c->accepted_at, t) < distance(best->accepted_at, t)) {
      best = c;
      tie = false;
    } else if (distance(c->accepted_at, t) == distance(best->accepted_at, t)) {
      tie = true;
    }
  }
  return tie ? nullptr : best;
}

std::string seconds_text(std::chrono::milliseconds d) {
  return std::to_string(d.count() / 1000) + "." + std::to_string(d.count() % 1000 / 100) + " s";
}

XrayBinding bound(const XrayCandidate& c, XrayBindingHow how, std::string reason) {
  return XrayBinding{c.record_id, c.seq, how, std::move(reason)};
}

}  // namespace

std::string_view to_string(XrayBindingHow how) {
  switch (how) {
    case XrayBindingHow::waybill:
      return "waybill";
    case XrayBindingHow::lane_time:
      return "lane_time";
    case XrayBindingHow::unbound:
      return "unbound";
  }
  return "unbound";
}

XrayBinding bind_xray_scan(const XrayScanKey& scan, std::span<const XrayCandidate> candidates,
                           const XrayBindingWindow& window) {
  std::string waybill_note;
  if (scan.waybill && !normalise(*scan.waybill).empty()) {
    const auto wanted = normalise(*scan.waybill);
    std::vector<const XrayCandidate*> found;
    for (const auto& c : candidates) {
      if (std::any_of(c.waybills.begin(), c.waybills.end(),
                      [&](const std::string& w) { return normalise(w) == wanted; }))
        found.push_back(&c);
    }
    bool tie = false;
    if (const auto* c = closest(found, scan.time, tie)) {
      return bound(*c, XrayBindingHow::waybill,
                   found.size() == 1
                       ? "waybill matched record seq " + std::to_string(c->seq)
                       : "waybill matched " + std::to_string(found.size()) + " records; seq " +
                             std::to_string(c->seq) + " closest in time");
    }
    if (tie)
      return XrayBinding{
          std::nullopt, std::nullopt, XrayBindingHow::unbound,
          "waybill matched " + std::to_string(found.size()) + " records equally close in time"};
    waybill_note = "waybill matched no record; ";
  } else {
    waybill_note = "no waybill read; ";
  }

  std::vector<const XrayCandidate*> found;
  for (const auto& c : candidates) {
    if (std::find(c.lanes.begin(), c.lanes.end(), scan.lane) == c.lanes.end()) continue;
    if (scan.time < c.accepted_at - window.before || scan.time > c.accepted_at + window.after)
      continue;
    found.push_back(&c);
  }
  bool tie = false;
  if (const auto* c = closest(found, scan.time, tie)) {
    return bound(
        *c, XrayBindingHow::lane_time,
        waybill_note + "lane " + scan.lane + ": record seq " + std::to_string(c->seq) +
            " accepted " + seconds_text(distance(c->accepted_at, scan.time)) +
            (c->accepted_at <= scan.time ? " before" : " after") + " the scan" +
            (found.size() > 1 ? " (closest of " + std::to_string(found.size()) + " in the window)"
                              : ""));
  }
  return XrayBinding{
      std::nullopt, std::nullopt, XrayBindingHow::unbound,
      waybill_note + "lane " + scan.lane + ": " +
          (tie ? std::to_string(found.size()) + " records equally close in time in the window"
               : std::string("no record in the time window"))};
}

}  // namespace postgate::core
