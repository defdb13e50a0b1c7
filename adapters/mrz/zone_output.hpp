#pragma once
// Hands an MRZ reader's output to its driver, the same on every transport.
#include "adapters/driver_core.hpp"
#include "adapters/mrz/codec/mrz_assembler.hpp"

namespace postgate::adapters::mrz {

// The errors, then the events. False, with the rest left undone, as soon as
// a sink callback stopped the driver (the caller must then leave its reader
// alone, wake-up included).
bool deliver(const MrzOutput& out, DriverCore::Emitter driver);

}  // namespace postgate::adapters::mrz
