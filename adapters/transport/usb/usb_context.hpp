#pragma once
// One libusb context, driven by the daemon's Asio loop.
//
// libusb's own file descriptors (its event fd, its timer fd, and one usbfs fd
// per open device) are watched by the io_context through
// posix::stream_descriptor::async_wait; when one is ready, the loop calls
// libusb_handle_events_timeout_completed with a zero timeout. The set of fds
// is kept current through libusb's pollfd notifiers; if libusb ever needs
// timeouts handled by hand (libusb_pollfds_handle_timeouts() == 0) a
// steady_timer follows libusb_get_next_timeout. No thread of ours, no busy
// polling: an idle daemon sleeps in epoll.
//
// libusb's callbacks (transfer completion, hot-plug) never do work in place:
// they post it to the io_context, so user code never runs inside libusb's
// event handling and may open, close or submit freely.
//
// Hot-plug: libusb's native hot-plug when the platform has it; otherwise (or
// when forced by settings) the device list is re-read at a low rate and
// compared. Either way subscribers hear "the bus changed" on the Asio thread.
#include <libusb.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/transport/usb/device_match.hpp"
#include "core/result.hpp"

namespace postgate::adapters::usb {

struct UsbContextSettings {
  // Period of the rescan that stands in for hot-plug when libusb has none.
  std::chrono::milliseconds rescan_interval{2000};
  // Use the rescan instead of libusb's native hot-plug (for platforms whose
  // hot-plug source is unreliable, and to test the fallback).
  bool force_rescan = false;
  // libusb log level (0 none .. 4 debug); libusb prints to stderr.
  int libusb_log_level = 0;
};

// A device found by enumeration, with a reference that keeps libusb's
// device object alive while it is held.
struct FoundDevice {
  DeviceIdentity identity;
  std::shared_ptr<libusb_device> device;
};

class UsbContext {
 public:
  static core::Result<std::unique_ptr<UsbContext>> create(boost::asio::io_context& io,
                                                          UsbContextSettings settings = {});
  // Every UsbLink using this context must be stopped before it is destroyed.
  ~UsbContext();
  UsbContext(const UsbContext&) = delete;
  UsbContext& operator=(const UsbContext&) = delete;

  boost::asio::io_context& io() { return io_; }
  libusb_context* native() { return ctx_; }
  // "native" (libusb hot-plug callbacks) or "rescan" (periodic enumeration).
  std::string_view hotplug_mode() const { return native_hotplug_ ? "native" : "rescan"; }

  // The devices on the bus now (no device is opened).
  std::vector<FoundDevice> enumerate();

  // `on_change` runs on the Asio thread after a device arrived or left.
  // The returned id unsubscribes.
  std::uint64_t subscribe(std::function<void()> on_change);
  void unsubscribe(std::uint64_t id);

  // Runs libusb event handling (blocking, at most `limit`) until `done()`:
  // used by links to wait for their cancelled transfers before closing.
  void run_events_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

  // Counters, for tests and `postgatectl devices`.
  std::uint64_t event_rounds() const { return rounds_; }
  std::uint64_t bus_changes() const { return bus_changes_; }
  std::size_t watched_fds() const { return watches_.size(); }

 private:
  struct Watch;
  UsbContext(boost::asio::io_context& io, UsbContextSettings settings);
  core::Status init();
  void add_fd(int fd, short events);
  void remove_fd(int fd);
  void arm(const std::shared_ptr<Watch>& w);
  void on_ready();
  void handle_events();
  void recheck_after_handling();
  void update_timeout_timer();
  void start_rescan();
  void rescan_tick();
  void notify_bus_change();

  static void LIBUSB_CALL pollfd_added(int fd, short events, void* user);
  static void LIBUSB_CALL pollfd_removed(int fd, void* user);
  static int LIBUSB_CALL hotplug_event(libusb_context*, libusb_device*, libusb_hotplug_event,
                                       void* user);

  boost::asio::io_context& io_;
  UsbContextSettings settings_;
  libusb_context* ctx_ = nullptr;
  bool native_hotplug_ = false;
  bool manual_timeouts_ = false;
  libusb_hotplug_callback_handle hotplug_handle_{};
  bool hotplug_registered_ = false;
  std::map<int, std::shared_ptr<Watch>> watches_;
  boost::asio::steady_timer timeout_timer_;
  boost::asio::steady_timer rescan_timer_;
  std::set<std::pair<std::uint8_t, std::uint8_t>> last_seen_;  // (bus, address)
  bool ready_posted_ = false;
  bool change_posted_ = false;
  bool in_handle_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::map<std::uint64_t, std::function<void()>> subscribers_;
  std::uint64_t next_sub_ = 1;
  std::uint64_t rounds_ = 0;
  std::uint64_t bus_changes_ = 0;
};

}  // namespace postgate::adapters::usb
