#pragma once
// Hands a SamSession's output to its driver, the same on every transport.
#include <functional>
#include <optional>

#include "adapters/driver_core.hpp"
#include "adapters/idcard/codec/sam_session.hpp"

namespace postgate::adapters::idcard {

// Called with each card read (just before its IdentityRead goes to the
// sink): the whole text (address, validity, ...) and, with
// session.keep_photo, the raw WLT photo.
using CardHandler = std::function<void(const CardText&, const std::optional<Bytes>& photo)>;

// In order: the errors, the card (to `on_card`, if set), the events, the
// reader's responding state (not answering: a protocol fault), the next
// wake-up. The frames in out.send are the caller's: each transport writes
// them its own way. False, with the rest left undone, as soon as a sink
// callback stopped the driver.
bool deliver(const SamSessionOutput& out, const CardHandler& on_card, DriverCore::Emitter driver);

}  // namespace postgate::adapters::idcard
