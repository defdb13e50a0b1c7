#include "adapters/mrz/zone_output.hpp"

namespace postgate::adapters::mrz {

bool deliver(const MrzOutput& out, DriverCore::Emitter driver) {
  for (const auto& e : out.errors) {
    if (!driver.emit_error(e)) return false;
  }
  for (const auto& ev : out.events) {
    if (!driver.emit(ev)) return false;
  }
  return true;
}

}  // namespace postgate::adapters::mrz
