// libFuzzer target: an evidence/chunk payload as HQ receives it (header
// line, '\n', bytes): parse_chunk and chunk_id must refuse or accept
// without crashing, and what they accept must survive a round trip.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "uplink/evidence_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace postgate;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  uplink::ChunkLimits limits;
  limits.max_size = 1 << 20;
  const auto id = uplink::chunk_id(payload);
  auto c = uplink::parse_chunk(payload, limits);
  if (!c) return 0;
  if (!id || !(*id == c->item.id)) __builtin_trap();  // an accepted header has a readable id
  if (c->offset + c->bytes.size() > c->item.size) __builtin_trap();
  const auto* b = reinterpret_cast<const std::uint8_t*>(c->bytes.data());
  const auto again = uplink::chunk_payload(c->item, c->offset, std::span(b, c->bytes.size()));
  auto back = uplink::parse_chunk(again, limits);
  if (!back || back->offset != c->offset || back->bytes != c->bytes ||
      back->item.sha256 != c->item.sha256 || back->item.size != c->item.size)
    __builtin_trap();  // what we write we must be able to read
  return 0;
}
