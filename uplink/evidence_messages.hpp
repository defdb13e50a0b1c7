#pragma once
// Evidence payloads of docs/protocol.md ("evidence"): the chunk (a JSON
// header line, '\n', raw bytes), HQ's ack and HQ's request. Pure functions
// on the standard library, core/ and nlohmann only, so HQ and the libFuzzer
// build (fuzz/CMakeLists.txt) use this file as it is.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/evidence.hpp"
#include "core/result.hpp"
#include "core/uuid.hpp"

namespace postgate::uplink {

struct EvidenceTopics {
  std::string chunk, ack, request;
};
EvidenceTopics make_evidence_topics(std::string_view prefix, std::string_view outlet);

// A newline must come within this many bytes, or the payload is refused
// without looking further.
inline constexpr std::size_t kMaxChunkHeaderBytes = 8 * 1024;
// What HQ accepts at most per chunk (the edge's default is 64 KiB).
inline constexpr std::size_t kMaxChunkDataBytes = 1024 * 1024;
// Acks and requests, as for record acks.
inline constexpr std::size_t kMaxEvidenceControlBytes = 4096;

// The header line (without its '\n') of the chunk [offset, offset + len).
std::string chunk_header(const core::EvidenceItem& item, std::uint64_t offset, std::uint64_t len);
// Header, '\n', bytes.
std::string chunk_payload(const core::EvidenceItem& item, std::uint64_t offset,
                          std::span<const std::uint8_t> bytes);

struct ChunkLimits {
  std::uint64_t max_size = 64ull * 1024 * 1024;  // whole item
  std::size_t max_len = kMaxChunkDataBytes;      // one chunk
};

struct ParsedChunk {
  core::EvidenceItem item;  // acked and mismatches are 0
  std::uint64_t offset = 0;
  std::string_view bytes;  // into the payload given to parse_chunk
};

// Refuses, with a stable code: "no_header" (no '\n' within 8 KiB),
// "header_not_json", "bad_shape" (not an object), "bad_field" (missing or
// mistyped field; Error::field names it), "len_mismatch" (len differs from
// the bytes that follow), "beyond_size" (offset + len > size), "too_large"
// (size over limits.max_size), "chunk_too_large" (len over limits.max_len).
core::Result<ParsedChunk> parse_chunk(std::string_view payload, const ChunkLimits& limits);
// The header's id when it can be read at all, so HQ can answer a refused
// chunk with a `rejected` ack the edge recognises.
std::optional<core::Uuid> chunk_id(std::string_view payload);

enum class EvidenceAckState { partial, verified, mismatch, rejected };
std::string_view to_string(EvidenceAckState s);

struct EvidenceAck {
  core::Uuid id;
  std::uint64_t have = 0;
  EvidenceAckState state = EvidenceAckState::partial;
  std::string reason;  // rejected only; masked
};
std::string evidence_ack_payload(const EvidenceAck& ack);
// Refused: over 4 KiB, not a JSON object, bad id, no unsigned have, unknown
// state.
core::Result<EvidenceAck> parse_evidence_ack(std::string_view payload);

struct EvidenceRequest {
  std::optional<core::Uuid> record_id;
  std::optional<std::uint64_t> record_seq;
};
std::string evidence_request_payload(const EvidenceRequest& r);
// Refused: over 4 KiB, not a JSON object, neither a valid record_id nor an
// unsigned record_seq.
core::Result<EvidenceRequest> parse_evidence_request(std::string_view payload);

}  // namespace postgate::uplink
