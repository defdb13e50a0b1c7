#pragma once
// How a serial device is reached: the path and the line settings. Drivers
// embed this in their own settings; the daemon fills it from config.
#include <chrono>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace postgate::adapters::serial {

enum class Parity { none, odd, even };
enum class StopBits { one, two };
enum class FlowControl { none, software, hardware };  // software = XON/XOFF, hardware = RTS/CTS

struct LinkSettings {
  // /dev/ttyUSB0, /dev/ttyS1, or better a stable /dev/serial/by-id/... link:
  // ttyUSB numbers change with plug order.
  std::string path;
  unsigned baud = 115200;  // one of the standard termios rates (validate() lists them)
  unsigned data_bits = 8;  // 5..8
  Parity parity = Parity::none;
  StopBits stop_bits = StopBits::one;
  FlowControl flow_control = FlowControl::none;
  // While the device is absent or unusable, opening is retried after
  // reopen_min, doubling up to reopen_max.
  std::chrono::milliseconds reopen_min{500};
  std::chrono::milliseconds reopen_max{5000};
  // Also watch the path's directory (inotify) and retry at once when the
  // path is created or its permissions change; the timer stays as fallback.
  bool watch_path = true;
};

core::Status validate(const LinkSettings& s);

// Config spellings: "none" | "odd" | "even"; "1" | "2"; "none" | "software"
// (or "xonxoff") | "hardware" (or "rtscts"); framing "8N1", "7E1", "8N2", ...
core::Result<Parity> parse_parity(std::string_view text);
core::Result<StopBits> parse_stop_bits(std::string_view text);
core::Result<FlowControl> parse_flow_control(std::string_view text);
// Sets data_bits, parity and stop_bits from a framing string.
core::Status apply_framing(LinkSettings& s, std::string_view framing);

std::string_view to_string(Parity p);
std::string_view to_string(StopBits s);
std::string_view to_string(FlowControl f);
// "115200 8N1" (for logs and `postgatectl devices`).
std::string describe_line(const LinkSettings& s);

bool is_standard_baud(unsigned baud);

}  // namespace postgate::adapters::serial
