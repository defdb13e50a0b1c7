#pragma once
// One configured USB device slot: finds the device that the match names,
// opens it (detaching a kernel driver, claiming the interface), runs its
// transfers, and follows it through unplug and re-plug.
//
// All callbacks run on the Asio thread, never inside libusb's event
// handling, and none after stop() returns.
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "adapters/device.hpp"
#include "adapters/transport/usb/device_match.hpp"
#include "adapters/transport/usb/usb_context.hpp"
#include "core/result.hpp"

namespace postgate::adapters::usb {

struct UsbLinkSettings {
  DeviceMatch match;
  int interface_number = 0;
  bool detach_kernel_driver = true;
  // Keep one IN transfer pending on this endpoint for as long as the device
  // is open (keyboard-style scanners, HID readers). Unset: IN transfers are
  // made only on request (read()), for request/response devices.
  std::optional<std::uint8_t> continuous_in_endpoint;
  // Size of each continuous IN transfer; 0 = the endpoint's wMaxPacketSize.
  std::size_t continuous_in_size = 0;
  // After this many consecutive failed continuous transfers the link gives
  // up on the device (state failed) instead of retrying.
  int max_consecutive_errors = 5;
  // A failed open (permission, busy, ambiguous) is retried this often, and on
  // every hot-plug event.
  std::chrono::milliseconds retry_interval{5000};
  // Timeout of write() transfers (0 = none).
  std::chrono::milliseconds write_timeout{1000};
};

struct UsbLinkHandlers {
  // attached ("0400:c35a at 1-1 (/dev/bus/usb/001/002)"), absent
  // ("unplugged", "not present"), failed ("open: EACCES on /dev/bus/...").
  std::function<void(DeviceState, const std::string& detail)> state_changed;
  // Data from the continuous IN endpoint.
  std::function<void(std::span<const std::uint8_t>)> received;
  // A transfer failed but the link stays up (it closes itself on unplug).
  std::function<void(const core::Error&)> error;
};

// Completion of one requested transfer: the bytes read (IN) or written
// (OUT), or an error ("timeout" with the partial bytes lost, "io_error", ...).
using ReadDone = std::function<void(core::Result<std::vector<std::uint8_t>>)>;
using WriteDone = std::function<void(core::Status)>;

class UsbLink {
 public:
  UsbLink(UsbContext& ctx, UsbLinkSettings settings, UsbLinkHandlers handlers);
  ~UsbLink();  // stops
  UsbLink(const UsbLink&) = delete;
  UsbLink& operator=(const UsbLink&) = delete;

  void start();
  // Cancels every transfer, waits for libusb to give them back, releases the
  // interface and closes the device. No callback after it returns.
  void stop();

  bool is_open() const { return open_ != nullptr; }
  DeviceState state() const { return state_; }
  // The device now open (empty identity when none).
  DeviceIdentity identity() const;

  // Requested transfers, only while open (otherwise the callback gets
  // "no_device" on the Asio thread). The endpoint's type (bulk or interrupt)
  // comes from the interface descriptor. `timeout` 0 = none.
  void write(std::uint8_t endpoint, std::vector<std::uint8_t> bytes, WriteDone done);
  void read(std::uint8_t endpoint, std::size_t size, std::chrono::milliseconds timeout,
            ReadDone done);
  // A request on the control endpoint with an OUT data stage (class or
  // vendor requests such as HID SET_REPORT); `done` as for write(), with the
  // data stage's length checked. Timeout: write_timeout.
  void control_out(std::uint8_t request_type, std::uint8_t request, std::uint16_t value,
                   std::uint16_t index, std::vector<std::uint8_t> data, WriteDone done);

  // Transfers currently submitted to libusb (for tests).
  std::size_t in_flight() const;

 private:
  struct Open;
  struct Slot;
  void try_open();
  core::Status open_device(const FoundDevice& found);
  void on_bus_change();
  void close(DeviceState next, const std::string& detail, bool notify);
  void set_state(DeviceState s, const std::string& detail);
  void schedule_retry();
  Slot* new_slot(std::uint8_t endpoint, std::size_t size);
  core::Status submit(Slot* s, std::chrono::milliseconds timeout);
  void submit_continuous();
  void on_complete(Slot* s, int status, std::vector<std::uint8_t> data);
  void release_slot(Slot* s);
  static void LIBUSB_CALL transfer_done(libusb_transfer* t);

  UsbContext& ctx_;
  UsbLinkSettings settings_;
  UsbLinkHandlers handlers_;
  std::shared_ptr<Open> open_;
  DeviceState state_ = DeviceState::absent;
  std::string state_detail_;
  bool started_ = false;
  bool state_reported_ = false;
  std::uint64_t subscription_ = 0;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace postgate::adapters::usb
