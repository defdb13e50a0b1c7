#pragma once
// An in-memory record and event outbox implementing the ports of
// core/outbox.hpp, as the SQLite store does: thread-safe, so a test can
// inspect it while the uplink's loop uses it.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>

#include "core/outbox.hpp"
#include "core/synthetic.hpp"

namespace postgate::uplink::testing {

class MemoryOutbox final : public core::RecordOutbox, public core::EventOutbox {
 public:
  explicit MemoryOutbox(std::uint64_t seed = 1) : rng_(seed) {}

  // Appends n synthetic records; returns the last seq.
  std::uint64_t append(std::size_t n);

  std::uint64_t last_seq() const;
  std::uint64_t delivered() const;
  std::uint64_t pending() const { return last_seq() - delivered(); }
  std::uint64_t reads() const { return reads_.load(); }
  std::size_t largest_read() const { return largest_read_.load(); }

  core::Result<std::vector<core::Record>> pending_after(std::uint64_t after_seq,
                                                        std::size_t max_records,
                                                        std::size_t max_bytes) const override;
  core::Result<std::vector<core::WireRecord>> pending_wire_after(
      std::uint64_t after_seq, std::size_t max_records, std::size_t max_bytes) const override;
  core::Status mark_delivered(std::uint64_t upto_seq) override;
  core::Result<core::OutboxState> outbox_state() const override;

  core::Result<std::uint64_t> add_event(core::Event e) override;
  core::Result<std::vector<core::Event>> events_after(std::uint64_t after_seq,
                                                      std::size_t max_events) const override;
  core::Status mark_events_sent(std::uint64_t upto_seq) override;
  std::uint64_t events_sent() const;

 private:
  struct Stored {
    core::Record record;
    std::size_t bytes;
  };
  mutable std::mutex mu_;
  core::SplitMix64 rng_;
  std::map<std::uint64_t, Stored> records_;  // pending only
  std::uint64_t last_seq_ = 0;
  std::uint64_t delivered_ = 0;
  std::map<std::uint64_t, core::Event> events_;  // unsent only
  std::uint64_t last_event_ = 0;
  std::uint64_t events_sent_ = 0;
  mutable std::atomic<std::uint64_t> reads_{0};
  mutable std::atomic<std::size_t> largest_read_{0};
};

}  // namespace postgate::uplink::testing
