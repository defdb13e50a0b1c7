#pragma once
// Events (alerts) for HQ, built from what the daemon sees: a parcel refused
// or rejected for a prohibited item, a commit the store could not make. The
// messages are masked: they name counters, categories and error codes, never
// a sender. The daemon gives each event its id and time and stores it
// through the worker thread (add_event fsyncs).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/outbox.hpp"
#include "core/record.hpp"
#include "core/result.hpp"
#include "core/screening.hpp"

namespace postgate::daemon {

// A committed refusal whose category, or one of whose screening hits, is
// prohibited; nullopt for any other record.
std::optional<core::Event> refusal_alert(const core::Acceptance& a, const core::Screener& screener,
                                         std::uint64_t record_seq);

// A submit refused by the policy with code "prohibited_item" (`source`:
// "api"), or an OK scanned at a counter on prohibited contents (`source`:
// "counter", `message` is the counter's prompt).
core::Event rejection_alert(std::string_view counter, std::string_view source,
                            std::string_view message);

// A commit failed for a storage reason worth telling HQ about (full disk, I/O
// error, corruption, read-only); nullopt for other errors (validation, busy).
std::optional<core::Event> storage_alert(const core::Error& e);

// At most one event per key per interval (a full disk fails every commit).
class AlertLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AlertLimiter(Clock::duration interval) : interval_(interval) {}
  // nullopt: held back. Else the event may go out now, and the value says
  // how many with this key were held back since the previous one.
  std::optional<std::uint64_t> allow(const std::string& key, Clock::time_point now);

 private:
  struct Slot {
    Clock::time_point last{};
    std::uint64_t suppressed = 0;
  };
  Clock::duration interval_;
  std::map<std::string, Slot> slots_;
};

}  // namespace postgate::daemon
