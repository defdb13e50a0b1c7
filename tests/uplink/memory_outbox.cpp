#include "memory_outbox.hpp"

#include "codec/record_json.hpp"
#include "test_records.hpp"

namespace postgate::uplink::testing {

std::uint64_t MemoryOutbox::append(std::size_t n) {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t seq = ++last_seq_;
    core::Record r = make_record(rng_, seq);
    const std::size_t bytes = codec::record_to_json(r, codec::Masking::clear).dump().size();
    records_.emplace(seq, Stored{std::move(r), bytes});
  }
  return last_seq_;
}

std::uint64_t MemoryOutbox::last_seq() const {
  std::lock_guard lk(mu_);
  return last_seq_;
}

std::uint64_t MemoryOutbox::delivered() const {
  std::lock_guard lk(mu_);
  return delivered_;
}

core::Result<std::vector<core::Record>> MemoryOutbox::pending_after(std::uint64_t after_seq,
                                                                    std::size_t max_records,
                                                                    std::size_t max_bytes) const {
  std::lock_guard lk(mu_);
  ++reads_;
  std::vector<core::Record> out;
  std::size_t bytes = 0;
  for (auto it = records_.upper_bound(after_seq); it != records_.end(); ++it) {
    if (out.size() >= max_records) break;
    if (!out.empty() && bytes + it->second.bytes > max_bytes) break;
    out.push_back(it->second.record);
    bytes += it->second.bytes;
  }
  if (out.size() > largest_read_) largest_read_ = out.size();
  return out;
}

core::Result<std::vector<core::WireRecord>> MemoryOutbox::pending_wire_after(
    std::uint64_t after_seq, std::size_t max_records, std::size_t max_bytes) const {
  auto recs = pending_after(after_seq, max_records, max_bytes);
  if (!recs) return std::unexpected(recs.error());
  std::vector<core::WireRecord> out;
  out.reserve(recs->size());
  for (const auto& r : *recs)
    out.push_back({r.seq, codec::record_to_json(r, codec::Masking::clear).dump()});
  return out;
}

core::Status MemoryOutbox::mark_delivered(std::uint64_t upto_seq) {
  std::lock_guard lk(mu_);
  if (upto_seq > last_seq_) return core::fail("ack_beyond_last", "upto_seq", "beyond last seq");
  if (upto_seq <= delivered_) return {};
  records_.erase(records_.begin(), records_.upper_bound(upto_seq));
  delivered_ = upto_seq;
  return {};
}

core::Result<core::OutboxState> MemoryOutbox::outbox_state() const {
  std::lock_guard lk(mu_);
  core::OutboxState s;
  s.last_seq = last_seq_;
  s.delivered_upto = delivered_;
  s.pending = last_seq_ - delivered_;
  if (!records_.empty()) s.oldest_pending = records_.begin()->second.record.accepted_at;
  return s;
}

core::Result<std::uint64_t> MemoryOutbox::add_event(core::Event e) {
  std::lock_guard lk(mu_);
  e.seq = ++last_event_;
  events_.emplace(e.seq, std::move(e));
  return last_event_;
}

core::Result<std::vector<core::Event>> MemoryOutbox::events_after(std::uint64_t after_seq,
                                                                  std::size_t max_events) const {
  std::lock_guard lk(mu_);
  std::vector<core::Event> out;
  for (auto it = events_.upper_bound(after_seq); it != events_.end() && out.size() < max_events;
       ++it)
    out.push_back(it->second);
  return out;
}

core::Status MemoryOutbox::mark_events_sent(std::uint64_t upto_seq) {
  std::lock_guard lk(mu_);
  events_.erase(events_.begin(), events_.upper_bound(upto_seq));
  if (upto_seq > events_sent_) events_sent_ = upto_seq;
  return {};
}

std::uint64_t MemoryOutbox::events_sent() const {
  std::lock_guard lk(mu_);
  return events_sent_;
}

}  // namespace postgate::uplink::testing
