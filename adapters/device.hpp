#pragma once
// The port between device drivers and the daemon. A driver owns one physical
// device (or the slot where one is expected: it is configured before it is
// plugged in), turns its bytes into counter-workflow events, and reports its
// life: arrival, removal, errors. The daemon binds each driver to a counter
// (config), keeps the per-device counters shown by `postgatectl devices`,
// and turns state changes into status, telemetry and events.
//
// Threading: drivers run on the daemon's single Asio thread. Libraries with
// threads of their own (libusb) hand their results to that thread before a
// DeviceSink callback is called, so callbacks never race daemon state.
#include <functional>
#include <string>
#include <string_view>

#include "core/workflow.hpp"

namespace postgate::adapters {

enum class DeviceState {
  absent,    // configured, not (or no longer) present
  attached,  // opened and working
  failed,    // present but unusable (permission, claim failed, protocol fault)
};

inline std::string_view to_string(DeviceState s) {
  switch (s) {
    case DeviceState::absent:
      return "absent";
    case DeviceState::attached:
      return "attached";
    case DeviceState::failed:
      return "failed";
  }
  return "unknown";
}

// A read that went wrong at the device level (bad checksum, truncated frame,
// impossible text, reader status word). `code` is stable and machine-readable
// ("bad_checksum", "truncated", "bad_text", "card_auth_failed", ...);
// `detail` is for the log and never holds unmasked personal data.
struct DeviceError {
  std::string code;
  std::string detail;
};

struct DeviceSink {
  // IdentityRead, IdentityReadFailed or BarcodeScanned, for the bound counter.
  std::function<void(const core::WorkflowEvent&)> input;
  // Arrival, removal, failure. `detail` says why ("unplugged", "EACCES on
  // /dev/bus/usb/001/004", ...).
  std::function<void(DeviceState, const std::string& detail)> state_changed;
  // A counted error. A read error that staff must act on is ALSO sent as an
  // input (IdentityReadFailed) so the counter screen says "try again".
  std::function<void(const DeviceError&)> error;
};

class Device {
 public:
  virtual ~Device() = default;
  // Starts watching for the device and opening it whenever it is present.
  // Never throws for a missing or broken device: that is a state change.
  virtual void start() = 0;
  // Closes everything; no sink callback is made after stop() returns.
  virtual void stop() = 0;
  virtual DeviceState state() const = 0;
};

}  // namespace postgate::adapters
