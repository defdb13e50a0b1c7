#include "uplink/backoff.hpp"

#include <algorithm>

#include "core/synthetic.hpp"

namespace postgate::uplink {

std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min_delay,
                                        std::chrono::milliseconds max_delay,
                                        core::RandomSource& random) {
  const auto lo = std::max<std::int64_t>(min_delay.count(), 0);
  const auto hi = std::max<std::int64_t>(max_delay.count(), lo);
  std::int64_t ceiling = lo;
  // Doubling stops at the cap; the bound on the shift keeps it defined.
  for (unsigned i = 0; i < attempt && ceiling < hi && i < 62; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, hi);
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  const auto r = core::uniform(random, static_cast<std::uint64_t>(ceiling) + 1);
  return std::chrono::milliseconds(static_cast<std::int64_t>(r));
}

}  // namespace postgate::uplink
