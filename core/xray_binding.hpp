#pragma once
// Which acceptance record an X-ray scan belongs to. The machine knows its
// lane and its clock, and sometimes the waybill it read; the outlet knows
// which counters feed which lane (config) and when each record was accepted.
// Rule (docs/devices/xray.md):
//   1. a waybill read by the machine that equals a waybill of exactly one
//      candidate (after normalising both: spaces dropped, ASCII upper case)
//      binds to it ("waybill"); several such candidates bind to the one
//      closest in time, a tie leaves the scan unbound;
//   2. otherwise the candidates whose counter feeds the scan's lane and
//      whose accepted_at is within [scan - after, scan + before] (the scan
//      falls in [accepted_at - before, accepted_at + after]) bind the closest
//      in time ("lane_time"); a tie, or none, leaves the scan unbound.
// An unbound scan is kept and reported; binding never guesses.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace postgate::core {

struct XrayScanKey {
  std::optional<std::string> waybill;  // as read by the machine, if it read one
  std::string lane;
  TimePoint time{};
};

// A recent record the scan may belong to.
struct XrayCandidate {
  std::string record_id;
  std::uint64_t seq = 0;
  std::string counter;
  std::vector<std::string> lanes;  // lanes fed by that counter (config)
  std::vector<std::string> waybills;
  TimePoint accepted_at{};
};

struct XrayBindingWindow {
  // How long before acceptance a scan may come (screened, then accepted)...
  std::chrono::milliseconds before{std::chrono::seconds{60}};
  // ...and how long after (accepted, then carried to the machine).
  std::chrono::milliseconds after{std::chrono::seconds{300}};
};

enum class XrayBindingHow { waybill, lane_time, unbound };
std::string_view to_string(XrayBindingHow how);

struct XrayBinding {
  std::optional<std::string> record_id;
  std::optional<std::uint64_t> seq;
  XrayBindingHow how = XrayBindingHow::unbound;
  // For the record and the log; names seqs, lanes and counts, never a
  // waybill number.
  std::string reason;
};

XrayBinding bind_xray_scan(const XrayScanKey& scan, std::span<const XrayCandidate> candidates,
                           const XrayBindingWindow& window = {});

}  // namespace postgate::core
