#include "adapters/transport/usb/device_match.hpp"

#include <charconv>
#include <cstdio>

namespace postgate::adapters::usb {

namespace {

std::string hex4(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04x", static_cast<unsigned>(v));
  return buf;
}

std::optional<std::uint16_t> parse_hex16(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

}  // namespace

std::string to_string(const DeviceMatch& m) {
  std::string s = hex4(m.vendor_id) + ":" + hex4(m.product_id);
  if (m.serial) s += " serial=" + *m.serial;
  if (m.port_path) s += " port=" + *m.port_path;
  return s;
}

core::Result<DeviceMatch> parse_vid_pid(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return core::fail("bad_vid_pid", "", "expected VID:PID in hex, like 0400:c35a");
  auto vid = parse_hex16(text.substr(0, colon));
  auto pid = parse_hex16(text.substr(colon + 1));
  if (!vid || !pid) return core::fail("bad_vid_pid", "", "expected VID:PID in hex, like 0400:c35a");
  DeviceMatch m;
  m.vendor_id = *vid;
  m.product_id = *pid;
  return m;
}

std::string device_node(std::uint8_t bus, std::uint8_t address) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/dev/bus/usb/%03u/%03u", static_cast<unsigned>(bus),
                static_cast<unsigned>(address));
  return buf;
}

std::string port_path(std::uint8_t bus, const std::vector<std::uint8_t>& ports) {
  if (ports.empty()) return {};
  std::string s = std::to_string(bus) + "-";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (i) s += '.';
    s += std::to_string(ports[i]);
  }
  return s;
}

bool matches(const DeviceMatch& m, const DeviceIdentity& d) {
  if (d.vendor_id != m.vendor_id || d.product_id != m.product_id) return false;
  if (m.serial && d.serial != *m.serial) return false;
  if (m.port_path && d.port_path != *m.port_path) return false;
  return true;
}

core::Result<DeviceIdentity> select_device(const DeviceMatch& m,
                                           const std::vector<DeviceIdentity>& candidates) {
  std::vector<const DeviceIdentity*> hits;
  for (const auto& d : candidates)
    if (matches(m, d)) hits.push_back(&d);
  if (hits.empty()) return core::fail("not_found", "", "no USB device " + to_string(m));
  if (hits.size() > 1) {
    std::string msg = std::to_string(hits.size()) + " USB devices match " + to_string(m) +
                      "; set serial or port to choose one of:";
    for (const auto* d : hits) {
      msg += " port=" + (d->port_path.empty() ? std::string("?") : d->port_path);
      if (!d->serial.empty()) msg += " (serial " + d->serial + ")";
    }
    return core::fail("ambiguous", "", msg);
  }
  return *hits.front();
}

}  // namespace postgate::adapters::usb
