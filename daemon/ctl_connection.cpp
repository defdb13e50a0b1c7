#include "daemon/ctl_connection.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postgate::daemon {

core::Result<CtlConnection> CtlConnection::connect(const std::filesystem::path& socket) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string p = socket.string();
  if (p.size() >= sizeof addr.sun_path)
    return core::fail("socket_path_too_long", "socket", "socket path " + p + " is too long");
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return core::fail("socket_error", "socket", std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    std::string hint;
    if (err == ENOENT || err == ECONNREFUSED) hint = " (is postgated running?)";
    if (err == EACCES) hint = " (are you in the postgate group?)";
    return core::fail("connect_failed", "socket",
                      "cannot connect to " + p + ": " + std::strerror(err) + hint);
  }
  return CtlConnection(fd);
}

CtlConnection::CtlConnection(CtlConnection&& other) noexcept
    : fd_(other.fd_), buf_(std::move(other.buf_)), start_(other.start_) {
  other.fd_ = -1;
}

CtlConnection::~CtlConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool CtlConnection::write_all(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void CtlConnection::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

std::optional<std::string> CtlConnection::read_line() {
  for (;;) {
    if (const auto nl = buf_.find('\n', start_); nl != std::string::npos) {
      std::string line = buf_.substr(start_, nl - start_);
      start_ = nl + 1;
      if (start_ == buf_.size()) {
        buf_.clear();
        start_ = 0;
      }
      return line;
    }
    if (start_ > 0) {
      buf_.erase(0, start_);
      start_ = 0;
    }
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace postgate::daemon
