#pragma once
// Reconnect delays: capped exponential back-off with full jitter, so a fleet
// of outlets losing the same broker does not come back in step.
#include <chrono>

#include "core/uuid.hpp"

namespace postgate::uplink {

// A uniform delay in [0, min(max, min_delay * 2^attempt)]; attempt counts
// failed tries since the last successful connection, from 0.
std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min_delay,
                                        std::chrono::milliseconds max_delay,
                                        core::RandomSource& random);

}  // namespace postgate::uplink
