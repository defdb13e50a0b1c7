#include "adapters/idcard/session_output.hpp"

namespace postgate::adapters::idcard {

bool deliver(const SamSessionOutput& out, const CardHandler& on_card, DriverCore::Emitter driver) {
  for (const auto& e : out.errors) {
    if (!driver.emit_error(e)) return false;
  }
  if (out.card && on_card) {
    on_card(*out.card, out.photo);
    if (!driver.active()) return false;
  }
  for (const auto& ev : out.events) {
    if (!driver.emit(ev)) return false;
  }
  if (out.responding) {
    driver.set_protocol_fault(*out.responding ? std::nullopt
                                              : std::optional<std::string>("reader not answering"));
    if (!driver.active()) return false;
  }
  driver.wake_at(out.wake_at);
  return true;
}

}  // namespace postgate::adapters::idcard
