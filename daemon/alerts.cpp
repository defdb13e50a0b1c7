#include "daemon/alerts.hpp"

#include <utility>

namespace postgate::daemon {

namespace {

// Well under the store's limit; the messages here are short anyway.
constexpr std::size_t kMaxMessage = 1024;

std::string clip(std::string s) {
  if (s.size() <= kMaxMessage) return s;
  s.resize(kMaxMessage);
  // Never cut a UTF-8 sequence: the store refuses invalid UTF-8.
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80) != 0) s.pop_back();
  return s + "...";
}

core::Event alert(std::string kind, std::string message) {
  core::Event e;
  e.kind = std::move(kind);
  e.severity = "alert";
  e.message = clip(std::move(message));
  return e;
}

}  // namespace

std::optional<core::Event> refusal_alert(const core::Acceptance& a, const core::Screener& screener,
                                         std::uint64_t record_seq) {
  if (a.inspection.outcome != core::InspectionOutcome::refuse) return std::nullopt;
  std::string what;
  for (const auto& c : screener.categories())
    if (c.id == a.inspection.refuse_category && c.severity == core::Severity::prohibited)
      what = c.id + " (" + c.name + ")";
  if (what.empty())
    for (const auto& h : a.screening_hits)
      if (h.severity == core::Severity::prohibited) {
        what = h.category + " (" + h.name + ")";
        break;
      }
  if (what.empty()) return std::nullopt;
  // The seq travels in record_seq; the message is the same whatever it is.
  auto e = alert("prohibited_item",
                 "counter " + a.counter + ": parcel refused, prohibited item " + what);
  e.record_seq = record_seq;
  return e;
}

core::Event rejection_alert(std::string_view counter, std::string_view source,
                            std::string_view message) {
  return alert("prohibited_item", std::string(source) + " submit for counter " +
                                      std::string(counter) + " rejected: " + std::string(message));
}

std::optional<core::Event> storage_alert(const core::Error& e) {
  if (e.code != "storage_full" && e.code != "storage_io" && e.code != "storage_corrupt" &&
      e.code != "storage_readonly")
    return std::nullopt;
  return alert("storage_error", "commit failed: " + e.code + ": " + e.message);
}

std::optional<std::uint64_t> AlertLimiter::allow(const std::string& key, Clock::time_point now) {
  auto [it, fresh] = slots_.try_emplace(key);
  if (!fresh && now - it->second.last < interval_) {
    ++it->second.suppressed;
    return std::nullopt;
  }
  it->second.last = now;
  return std::exchange(it->second.suppressed, 0);
}

}  // namespace postgate::daemon
