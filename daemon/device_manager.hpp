#pragma once
// The configured devices of the outlet: builds a driver per device adapter,
// routes what it reads to its counter's workflow, and keeps what
// `postgatectl devices`, `status` and telemetry show (state, reads, errors,
// last event). Arrivals, removals, failures and read errors also become
// events for HQ (rate-limited per device). Runs on the daemon's loop.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "adapters/device.hpp"
#include "config/config.hpp"
#include "core/outbox.hpp"
#include "core/time.hpp"
#include "core/workflow.hpp"
#include "daemon/alerts.hpp"

namespace postgate::adapters::usb {
class UsbContext;
}

namespace postgate::daemon {

class DeviceManager {
 public:
  struct Callbacks {
    // An event for the counter's workflow (IdentityRead, IdentityReadFailed,
    // BarcodeScanned).
    std::function<void(const std::string& counter, const core::WorkflowEvent&)> input;
    // An event for HQ (kind device_attached, device_gone, device_failed,
    // device_error); the daemon stamps, stores and sends it.
    std::function<void(core::Event)> alert;
    // An ID card's photo (readers with keep_photo): counter, device name,
    // the holder's document number, the raw block.
    std::function<void(const std::string& counter, const std::string& device,
                       const std::string& doc_number, const std::vector<std::uint8_t>& photo)>
        photo;
  };

  DeviceManager(boost::asio::io_context& io, const core::Clock& clock, Callbacks callbacks);
  ~DeviceManager();
  DeviceManager(const DeviceManager&) = delete;
  DeviceManager& operator=(const DeviceManager&) = delete;

  // Starts a driver for each device adapter of `adapters` (other kinds are
  // skipped). A device that cannot be built (libusb unavailable, bad
  // settings) is listed as failed with the reason; the others still start.
  void start(const std::vector<config::AdapterConfig>& adapters, std::chrono::minutes utc_offset);
  // Stops every driver; no callback is made afterwards.
  void stop();

  std::size_t size() const { return slots_.size(); }
  // One object per device: name, kind, transport, where, counter, state,
  // detail, reads, errors, last_event, last_event_at, last_error, since.
  nlohmann::json to_json() const;

 private:
  struct Slot;
  void on_input(Slot& s, const core::WorkflowEvent& e);
  void on_state(Slot& s, adapters::DeviceState state, const std::string& detail);
  void on_error(Slot& s, const adapters::DeviceError& e);

  boost::asio::io_context& io_;
  const core::Clock& clock_;
  Callbacks callbacks_;
  std::unique_ptr<adapters::usb::UsbContext> usb_;
  std::string usb_error_;  // why libusb is unavailable, when it is
  std::vector<std::unique_ptr<Slot>> slots_;
  AlertLimiter error_alerts_{std::chrono::minutes(1)};
};

}  // namespace postgate::daemon
