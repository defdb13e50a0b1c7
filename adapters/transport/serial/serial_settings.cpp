#include "adapters/transport/serial/serial_settings.hpp"

#include <algorithm>
#include <array>

namespace postgate::adapters::serial {

namespace {
// The rates Boost.Asio maps to termios speed_t constants on Linux.
constexpr std::array<unsigned, 30> kStandardBauds = {
    50,     75,     110,     134,     150,     200,     300,     600,     1200,    1800,
    2400,   4800,   9600,    19200,   38400,   57600,   115200,  230400,  460800,  500000,
    576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000};
}  // namespace

bool is_standard_baud(unsigned baud) {
  return std::find(kStandardBauds.begin(), kStandardBauds.end(), baud) != kStandardBauds.end();
}

core::Status validate(const LinkSettings& s) {
  if (s.path.empty()) return core::fail("missing", "path", "a serial device path is required");
  if (!is_standard_baud(s.baud)) {
    return core::fail("bad_value", "baud",
                      "baud " + std::to_string(s.baud) +
                          " is not a standard rate (9600, 19200, 38400, 57600, 115200, ...)");
  }
  if (s.data_bits < 5 || s.data_bits > 8) {
    return core::fail("bad_value", "data_bits", "data bits must be 5..8");
  }
  if (s.reopen_min.count() <= 0) {
    return core::fail("bad_value", "reopen_min", "the reopen delay must be positive");
  }
  if (s.reopen_max < s.reopen_min) {
    return core::fail("bad_value", "reopen_max", "reopen_max must not be below reopen_min");
  }
  return {};
}

core::Result<Parity> parse_parity(std::string_view text) {
  if (text == "none" || text == "N" || text == "n") return Parity::none;
  if (text == "odd" || text == "O" || text == "o") return Parity::odd;
  if (text == "even" || text == "E" || text == "e") return Parity::even;
  return core::fail("bad_value", "parity", "parity must be none, odd or even");
}

core::Result<StopBits> parse_stop_bits(std::string_view text) {
  if (text == "1") return StopBits::one;
  if (text == "2") return StopBits::two;
  return core::fail("bad_value", "stop_bits", "stop bits must be 1 or 2");
}

core::Result<FlowControl> parse_flow_control(std::string_view text) {
  if (text == "none") return FlowControl::none;
  if (text == "software" || text == "xonxoff") return FlowControl::software;
  if (text == "hardware" || text == "rtscts") return FlowControl::hardware;
  return core::fail("bad_value", "flow_control", "flow control must be none, software or hardware");
}

core::Status apply_framing(LinkSettings& s, std::string_view framing) {
  if (framing.size() != 3 || framing[0] < '5' || framing[0] > '8') {
    return core::fail("bad_value", "framing",
                      "framing is data bits, parity and stop bits, like 8N1 or 7E1");
  }
  auto parity = parse_parity(framing.substr(1, 1));
  if (!parity) return core::fail("bad_value", "framing", "framing parity must be N, O or E");
  auto stop = parse_stop_bits(framing.substr(2, 1));
  if (!stop) return core::fail("bad_value", "framing", "framing stop bits must be 1 or 2");
  s.data_bits = static_cast<unsigned>(framing[0] - '0');
  s.parity = *parity;
  s.stop_bits = *stop;
  return {};
}

std::string_view to_string(Parity p) {
  switch (p) {
    case Parity::none:
      return "none";
    case Parity::odd:
      return "odd";
    case Parity::even:
      return "even";
  }
  return "unknown";
}

std::string_view to_string(StopBits s) {
  return s == StopBits::two ? "2" : "1";
}

std::string_view to_string(FlowControl f) {
  switch (f) {
    case FlowControl::none:
      return "none";
    case FlowControl::software:
      return "software";
    case FlowControl::hardware:
      return "hardware";
  }
  return "unknown";
}

std::string describe_line(const LinkSettings& s) {
  const char parity = s.parity == Parity::none ? 'N' : s.parity == Parity::odd ? 'O' : 'E';
  std::string out = std::to_string(s.baud) + " " + std::to_string(s.data_bits) + parity +
                    std::string(to_string(s.stop_bits));
  if (s.flow_control != FlowControl::none) out += " " + std::string(to_string(s.flow_control));
  return out;
}

}  // namespace postgate::adapters::serial
