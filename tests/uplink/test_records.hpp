#pragma once
// Synthetic records for uplink tests: made-up people with valid check
// digits, generated from a seed; never real data.
#include <cstdint>

#include "core/record.hpp"
#include "core/uuid.hpp"

namespace postgate::uplink::testing {

// 2026-11-23T08:00:00Z + i seconds; about 600 bytes as JSON.
core::Record make_record(core::RandomSource& rng, std::uint64_t seq);

}  // namespace postgate::uplink::testing
