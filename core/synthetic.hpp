#pragma once
// Synthetic people and waybill numbers: for tests, and for the demo adapter
// that feeds the daemon without devices. Pure: every random choice comes
// from the injected RandomSource, so a seed reproduces the same data set.
// The numbers pass every check postgate applies but are made up; they are
// never to be mistaken for, or mixed with, real records.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/identity.hpp"
#include "core/time.hpp"
#include "core/uuid.hpp"

namespace postgate::core {

struct SyntheticPerson {
  std::string name;         // Chinese, 2 or 3 characters
  std::string resident_id;  // 18 characters, valid GB 11643 check character
  Date birth_date{};
  Sex sex{};
};

// A person born between 1940 and 2005 (never after `today`), with a
// province-level region code, a random 4-digit remainder and a consistent
// birth date, sex digit and check character.
SyntheticPerson make_person(RandomSource& random, Date today);

// A UPU S10 number with a valid check digit. `prefix` and `country` are used
// as given and should be two upper-case letters each.
std::string make_s10(RandomSource& random, std::string_view prefix = "EA",
                     std::string_view country = "CN");

// A uniform integer in [0, bound) (bound > 0), without modulo bias.
std::uint64_t uniform(RandomSource& random, std::uint64_t bound);

// Steele, Lea and Flood's SplitMix64: tiny, fast, and good enough for test
// data. Not for anything that must be unpredictable.
class SplitMix64 final : public RandomSource {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() override;

 private:
  std::uint64_t state_;
};

}  // namespace postgate::core
