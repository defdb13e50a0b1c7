#pragma once
// Which physical USB device a configured slot means. VID:PID alone is
// enough for a single device; two identical devices (same VID:PID, often no
// serial number) are told apart by the bus-port path, which names the
// socket the device is plugged into and survives re-plugging into the same
// socket.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace postgate::adapters::usb {

struct DeviceMatch {
  std::uint16_t vendor_id = 0;
  std::uint16_t product_id = 0;
  std::optional<std::string> serial;     // iSerialNumber as read from sysfs
  std::optional<std::string> port_path;  // "1-1.2": bus 1, root port 1, hub port 2
};

// "0400:c35a", "0400:c35a serial=AB12", "0400:c35a port=1-1.2"
std::string to_string(const DeviceMatch& m);

// "0400:C35A" (hex, case-insensitive) -> vendor and product id.
core::Result<DeviceMatch> parse_vid_pid(std::string_view text);

// What enumeration knows about a device without opening it.
struct DeviceIdentity {
  std::uint16_t vendor_id = 0;
  std::uint16_t product_id = 0;
  std::uint8_t bus = 0;
  std::uint8_t address = 0;
  std::string port_path;  // "1-1.2"; empty when libusb cannot tell
  std::string serial;     // empty when the device has none (or sysfs is unreadable)
};

// "/dev/bus/usb/001/004"
std::string device_node(std::uint8_t bus, std::uint8_t address);
// "1-1.2" from a bus number and the chain of port numbers.
std::string port_path(std::uint8_t bus, const std::vector<std::uint8_t>& ports);

// Picks the one device `m` means among `candidates`. No match -> error
// "not_found"; several matches and no serial/port to tell them apart ->
// error "ambiguous" whose message lists the candidates' port paths, so the
// operator can copy one into the config.
core::Result<DeviceIdentity> select_device(const DeviceMatch& m,
                                           const std::vector<DeviceIdentity>& candidates);

bool matches(const DeviceMatch& m, const DeviceIdentity& d);

}  // namespace postgate::adapters::usb
