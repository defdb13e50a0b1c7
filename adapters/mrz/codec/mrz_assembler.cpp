#include "adapters/mrz/codec/mrz_assembler.hpp"

namespace postgate::adapters::mrz {

core::Date local_date(core::TimePoint now, std::chrono::minutes utc_offset) {
  return core::Date{std::chrono::floor<std::chrono::days>(now + utc_offset)};
}

}  // namespace postgate::adapters::mrz
