#include "daemon/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <string>

namespace postgate::daemon {

namespace {
void send(std::string message) {
  ::sd_notify(0, message.c_str());
}
std::string status_line(std::string_view status) {
  // STATUS= is one line.
  std::string s(status);
  for (auto& c : s)
    if (c == '\n') c = ' ';
  return "STATUS=" + s;
}
}  // namespace

void notify_ready(std::string_view status) {
  send("READY=1\n" + status_line(status));
}
void notify_stopping(std::string_view status) {
  send("STOPPING=1\n" + status_line(status));
}
void notify_status(std::string_view status) {
  send(status_line(status));
}
void notify_watchdog() {
  send("WATCHDOG=1");
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return std::chrono::microseconds(usec);
  return std::nullopt;
}

}  // namespace postgate::daemon
