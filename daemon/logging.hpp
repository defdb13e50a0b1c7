#pragma once
// spdlog to stderr: colours only on a terminal; under systemd (stderr is the
// journal stream) no timestamps, since journald adds its own, and a "<N>"
// syslog priority prefix so journalctl -p works.
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>

namespace postgate::daemon {

enum class LogTarget { terminal, plain, journal };

// Where stderr goes: the journal when $JOURNAL_STREAM names stderr's device
// and inode (systemd.exec(5)), a terminal when isatty(2), else plain.
LogTarget detect_log_target();

void setup_logging(LogTarget target);
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);

}  // namespace postgate::daemon
