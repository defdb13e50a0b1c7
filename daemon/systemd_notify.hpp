#pragma once
// sd_notify(3) messages. Every call is a no-op when not started by systemd
// ($NOTIFY_SOCKET unset).
#include <chrono>
#include <optional>
#include <string_view>

namespace postgate::daemon {

void notify_ready(std::string_view status);
void notify_stopping(std::string_view status);
void notify_status(std::string_view status);
void notify_watchdog();
// The watchdog interval systemd expects (WatchdogSec=), when it is enabled
// for this process.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace postgate::daemon
