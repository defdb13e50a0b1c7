#pragma once
// The edge's MQTT payloads (docs/protocol.md), built and parsed without I/O
// so they can be tested byte for byte.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/outbox.hpp"
#include "core/record.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace postgate::uplink {

using json = nlohmann::json;

struct Topics {
  std::string records, ack, status, telemetry, events;
};
Topics make_topics(std::string_view prefix, std::string_view outlet);

// True for [A-Za-z0-9_-]{1,64}: always one topic level, never a wildcard.
bool valid_outlet(std::string_view outlet);

// {"outlet":..,"batch":[record,...]} with the records unmasked.
std::string batch_payload(std::string_view outlet, std::span<const core::Record> records);
// The same bytes from records already in wire form (as the store keeps them):
// the texts are joined, not parsed.
std::string batch_payload(std::string_view outlet, std::span<const core::WireRecord> records);

std::string birth_payload(std::string_view outlet, std::string_view version,
                          core::TimePoint started_at, core::TimePoint connected_at);
// reason "connection_lost" (the will, no "at") or "shutdown" (with "at").
std::string offline_payload(std::string_view outlet, std::string_view reason,
                            std::optional<core::TimePoint> at);

struct LinkFigures {
  std::uint64_t reconnects = 0;
  std::uint64_t bad_acks = 0;
  std::uint64_t ack_timeouts = 0;
  std::size_t inflight_batches = 0;
};
// `extras` (devices, disk, storage health) is merged in; its keys never
// override the ones set here.
std::string telemetry_payload(std::string_view outlet, std::string_view version, core::TimePoint at,
                              std::chrono::seconds uptime, const core::OutboxState& state,
                              const LinkFigures& link, const json& extras);

std::string event_payload(std::string_view outlet, const core::Event& e);

inline constexpr std::size_t kMaxAckBytes = 4096;

// {"upto_seq":N}. Refused: larger than 4 KiB, not JSON, not an object, no
// unsigned integer upto_seq, or an "outlet" key naming another outlet.
core::Result<std::uint64_t> parse_ack(std::string_view payload, std::string_view outlet);

}  // namespace postgate::uplink
