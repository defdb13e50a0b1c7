#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace postgate::core {

// Injected random source (tests pass a seeded one).
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual std::uint64_t next() = 0;
};

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};
  std::string str() const;  // canonical lower-case 8-4-4-4-12
  static std::optional<Uuid> parse(std::string_view text);
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// RFC 9562 UUIDv7: 48-bit Unix ms timestamp, version 7, 74 random bits.
Uuid make_uuid_v7(TimePoint t, RandomSource& random);

}  // namespace postgate::core
