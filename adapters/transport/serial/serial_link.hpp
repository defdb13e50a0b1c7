#pragma once
// A serial line that keeps itself open: it opens the configured path in raw
// mode with the configured line settings, delivers whatever bytes arrive,
// writes queued buffers in order, and when the device goes away (read error,
// EOF, unplug) closes, reports absent and reopens once the path works again
// (retry with capped back-off, plus an inotify hint on the path's
// directory). A device missing at start is absent, not an error.
//
// Runs on the caller's io_context thread; handlers are called from it. No
// handler is called after stop() returns (or after destruction). The
// io_context must outlive the link.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "adapters/device.hpp"
#include "adapters/transport/serial/serial_settings.hpp"

namespace postgate::adapters::serial {

struct LinkHandlers {
  // attached: opened (detail "opened /dev/... 115200 8N1"); absent: not
  // there or gone ("not present: ...", "lost: ..."); failed: there but
  // unusable ("EACCES on /dev/ttyUSB0: ..."). Called on every change of
  // state, and for a new reason while failed. Calls to send() and stop()
  // from inside a handler are allowed.
  std::function<void(DeviceState, const std::string& detail)> state_changed;
  // A chunk of received bytes, valid only during the call.
  std::function<void(std::span<const std::uint8_t>)> bytes;
};

// How a failed open(2) is reported: a missing node is absent, a node we
// may not open is failed, with a detail that says what to fix.
struct OpenFailure {
  DeviceState state;
  std::string detail;
};
OpenFailure classify_open_errno(int err, const std::string& path);

class SerialLink {
 public:
  SerialLink(boost::asio::io_context& io, LinkSettings settings, LinkHandlers handlers);
  ~SerialLink();
  SerialLink(const SerialLink&) = delete;
  SerialLink& operator=(const SerialLink&) = delete;

  // Tries to open at once, then keeps the line open until stop().
  void start();
  void stop();
  // Queues bytes for writing; false (and dropped) when the line is not open.
  // Queued bytes not yet written when the line is lost are dropped.
  bool send(std::vector<std::uint8_t> bytes);

  DeviceState state() const;
  const std::string& detail() const;
  const LinkSettings& settings() const;
  // Successful opens since construction (1 after the first attach).
  std::uint64_t opens() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace postgate::adapters::serial
