#pragma once
#include <cstdint>

#include "core/uuid.hpp"

namespace postgate::daemon {

// Record ids need unpredictable bits: getrandom(2) per call (a few per record).
class SystemRandom final : public core::RandomSource {
 public:
  std::uint64_t next() override;
};

}  // namespace postgate::daemon
