#pragma once
// Ports between the record store and the uplink. storage/ implements them,
// uplink/ uses them, daemon/ wires the two: neither depends on the other.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/record.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace postgate::core {

struct OutboxState {
  std::uint64_t last_seq = 0;        // highest seq stored
  std::uint64_t delivered_upto = 0;  // highest seq HQ acknowledged
  std::uint64_t pending = 0;         // records not yet acknowledged
  std::optional<TimePoint> oldest_pending;
};

// A pending record as the uplink sends it: its JSON text in the wire form of
// docs/protocol.md. The store keeps that text from the commit on, so
// draining a large backlog does not decode and re-encode every record.
struct WireRecord {
  std::uint64_t seq = 0;
  std::string json;
};

class RecordOutbox {
 public:
  virtual ~RecordOutbox() = default;
  // Pending records with seq > after_seq in seq order: at most max_records and
  // about max_bytes (at least one when any). Memory is bounded by the limits.
  virtual Result<std::vector<Record>> pending_after(std::uint64_t after_seq,
                                                    std::size_t max_records,
                                                    std::size_t max_bytes) const = 0;
  // The same, in wire form; max_bytes counts the JSON text.
  virtual Result<std::vector<WireRecord>> pending_wire_after(std::uint64_t after_seq,
                                                             std::size_t max_records,
                                                             std::size_t max_bytes) const = 0;
  // HQ acknowledged every seq <= upto_seq. Idempotent; beyond last_seq is
  // refused with code "ack_beyond_last".
  virtual Status mark_delivered(std::uint64_t upto_seq) = 0;
  virtual Result<OutboxState> outbox_state() const = 0;
};

// Alerts for HQ (prohibited item, storage error, device gone): kept durably
// and sent, in order, when the link is up.
struct Event {
  std::uint64_t seq = 0;  // local order, given by the store
  Uuid id;
  TimePoint at{};
  std::string kind;      // "prohibited_item", "storage_error", "device_gone", ...
  std::string severity;  // "info", "warning", "alert"
  std::string message;   // masked
  std::optional<std::uint64_t> record_seq;
};

class EventOutbox {
 public:
  virtual ~EventOutbox() = default;
  virtual Result<std::uint64_t> add_event(Event e) = 0;  // returns its seq
  virtual Result<std::vector<Event>> events_after(std::uint64_t after_seq,
                                                  std::size_t max_events) const = 0;
  virtual Status mark_events_sent(std::uint64_t upto_seq) = 0;
};

}  // namespace postgate::core
