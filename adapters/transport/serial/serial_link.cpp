#include "adapters/transport/serial/serial_link.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <expected>
#include <filesystem>
#include <optional>

#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace postgate::adapters::serial {

namespace asio = boost::asio;

namespace {

std::string errno_name(int e) {
  const char* name = ::strerrorname_np(e);
  return name ? name : "errno " + std::to_string(e);
}

std::string describe(const boost::system::error_code& ec) {
  if (ec == asio::error::eof) return "EOF";
  if (ec.category() == boost::system::system_category()) {
    return errno_name(ec.value()) + " (" + ec.message() + ")";
  }
  return ec.message();
}

}  // namespace

OpenFailure classify_open_errno(int e, const std::string& path) {
  switch (e) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
    case ENOTDIR:
      return {DeviceState::absent, "not present: " + path};
    case EIO:
      return {DeviceState::absent, "not ready (EIO): " + path};
    case EACCES:
    case EPERM:
      return {DeviceState::failed,
              errno_name(e) + " on " + path +
                  ": is postgated in the dialout group (or does a udev rule grant access)?"};
    case EBUSY:
      return {DeviceState::failed,
              "EBUSY on " + path + ": another process holds the port (ModemManager, a console?)"};
    default:
      return {DeviceState::failed, errno_name(e) + " on " + path + ": " + std::strerror(e)};
  }
}

namespace {

speed_t speed_of(unsigned baud) {
  switch (baud) {
    case 50:
      return B50;
    case 75:
      return B75;
    case 110:
      return B110;
    case 134:
      return B134;
    case 150:
      return B150;
    case 200:
      return B200;
    case 300:
      return B300;
    case 600:
      return B600;
    case 1200:
      return B1200;
    case 1800:
      return B1800;
    case 2400:
      return B2400;
    case 4800:
      return B4800;
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 500000:
      return B500000;
    case 576000:
      return B576000;
    case 921600:
      return B921600;
    case 1000000:
      return B1000000;
    case 1152000:
      return B1152000;
    case 1500000:
      return B1500000;
    case 2000000:
      return B2000000;
    case 2500000:
      return B2500000;
    case 3000000:
      return B3000000;
    case 3500000:
      return B3500000;
    case 4000000:
      return B4000000;
  }
  return B0;
}

tcflag_t size_flag(unsigned data_bits) {
  switch (data_bits) {
    case 5:
      return CS5;
    case 6:
      return CS6;
    case 7:
      return CS7;
  }
  return CS8;
}

// Opens non-blocking in raw mode (no echo, no line editing, no CR/LF
// translation, no signals) with the configured line settings, takes the
// port exclusively (TIOCEXCL: keeps ModemManager and friends out) and drops
// bytes left over from before.
std::expected<int, OpenFailure> open_raw(const LinkSettings& s) {
  const int fd = ::open(s.path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::unexpected(classify_open_errno(errno, s.path));
  auto fail = [&](std::string detail) {
    ::close(fd);
    return std::unexpected(OpenFailure{DeviceState::failed, std::move(detail)});
  };
  termios tio{};
  if (::tcgetattr(fd, &tio) != 0) {
    return fail(s.path + " is not a serial device (" + errno_name(errno) + ")");
  }
  ::cfmakeraw(&tio);
  tio.c_cflag |= CREAD | CLOCAL;
  tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
  tio.c_cflag |= size_flag(s.data_bits);
  tio.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY | INPCK);
  if (s.parity != Parity::none) {
    // Bytes with parity errors are dropped; the protocols above notice the gap.
    tio.c_cflag |= PARENB;
    if (s.parity == Parity::odd) tio.c_cflag |= PARODD;
    tio.c_iflag |= INPCK | IGNPAR;
  }
  if (s.stop_bits == StopBits::two) tio.c_cflag |= CSTOPB;
  if (s.flow_control == FlowControl::software) tio.c_iflag |= IXON | IXOFF;
  if (s.flow_control == FlowControl::hardware) tio.c_cflag |= CRTSCTS;
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  const speed_t speed = speed_of(s.baud);
  if (speed == B0 || ::cfsetispeed(&tio, speed) != 0 || ::cfsetospeed(&tio, speed) != 0) {
    return fail("baud " + std::to_string(s.baud) + " not supported on " + s.path);
  }
  if (::tcsetattr(fd, TCSANOW, &tio) != 0) {
    const int e = errno;
    return fail("cannot set " + describe_line(s) + " on " + s.path + ": " + errno_name(e));
  }
  (void)::ioctl(fd, TIOCEXCL);
  (void)::tcflush(fd, TCIOFLUSH);
  return fd;
}

}  // namespace

class SerialLink::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, LinkSettings settings, LinkHandlers handlers)
      : settings_(std::move(settings)),
        io_(io),
        handlers_(std::move(handlers)),
        port_(io),
        retry_timer_(io),
        backoff_(settings_.reopen_min) {}

  void start() {
    if (started_ || stopped_) return;
    started_ = true;
    state_ = DeviceState::absent;
    detail_ = "not opened yet";
    try_open();
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    ++retry_seq_;
    retry_timer_.cancel();
    close_watch();
    close_port();
    state_ = DeviceState::absent;
    detail_ = "stopped";
  }

  bool send(std::vector<std::uint8_t> bytes) {
    if (stopped_ || !port_.is_open()) return false;
    writes_.push_back(std::move(bytes));
    if (!writing_) start_write();
    return true;
  }

  DeviceState state_ = DeviceState::absent;
  std::string detail_ = "not started";
  LinkSettings settings_;
  std::uint64_t opens_ = 0;

 private:
  void try_open() {
    if (stopped_ || port_.is_open()) return;
    auto fd = open_raw(settings_);
    if (!fd) {
      set_state(fd.error().state, fd.error().detail);
      if (stopped_) return;
      ensure_watch();
      schedule_retry();
      return;
    }
    boost::system::error_code ec;
    port_.assign(*fd, ec);
    if (ec) {
      ::close(*fd);
      set_state(DeviceState::failed, "cannot register " + settings_.path + ": " + describe(ec));
      if (!stopped_) schedule_retry();
      return;
    }
    ++generation_;
    ++opens_;
    backoff_ = settings_.reopen_min;
    ++retry_seq_;
    retry_timer_.cancel();
    start_read();
    set_state(DeviceState::attached, "opened " + settings_.path + " " + describe_line(settings_));
  }

  void schedule_retry() {
    const auto delay = backoff_;
    backoff_ = std::min(backoff_ * 2, settings_.reopen_max);
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait(
        [self = shared_from_this(), seq = ++retry_seq_](const boost::system::error_code& ec) {
          if (ec || self->stopped_ || seq != self->retry_seq_) return;
          self->try_open();
        });
  }

  void start_read() {
    port_.async_read_some(
        asio::buffer(read_buf_),
        [self = shared_from_this(), gen = generation_](
            const boost::system::error_code& ec, std::size_t n) { self->on_read(gen, ec, n); });
  }

  void on_read(std::uint64_t gen, const boost::system::error_code& ec, std::size_t n) {
    if (stopped_ || gen != generation_) return;
    if (ec) {
      lost("lost: " + describe(ec));
      return;
    }
    if (n > 0 && handlers_.bytes)
      handlers_.bytes(std::span<const std::uint8_t>(read_buf_.data(), n));
    if (stopped_ || gen != generation_) return;
    start_read();
  }

  void start_write() {
    writing_ = true;
    auto buf = std::make_shared<std::vector<std::uint8_t>>(std::move(writes_.front()));
    writes_.pop_front();
    asio::async_write(port_, asio::buffer(*buf),
                      [self = shared_from_this(), buf, gen = generation_](
                          const boost::system::error_code& ec, std::size_t) {
                        if (self->stopped_ || gen != self->generation_) return;
                        if (ec) {
                          self->lost("lost: write: " + describe(ec));
                          return;
                        }
                        if (self->writes_.empty()) {
                          self->writing_ = false;
                        } else {
                          self->start_write();
                        }
                      });
  }

  void lost(std::string detail) {
    close_port();
    set_state(DeviceState::absent, detail);
    if (stopped_) return;
    backoff_ = settings_.reopen_min;
    ensure_watch();
    schedule_retry();
  }

  void close_port() {
    ++generation_;
    boost::system::error_code ignored;
    // Exclusive mode lasts until the tty is released by every holder; give
    // it up explicitly so a reopen (by us or a tool) is not refused.
    if (port_.is_open()) (void)::ioctl(port_.native_handle(), TIOCNXCL);
    port_.close(ignored);
    writes_.clear();
    writing_ = false;
  }

  void set_state(DeviceState s, const std::string& detail) {
    const bool changed =
        !reported_ || s != state_ || (s == DeviceState::failed && detail != detail_);
    reported_ = true;
    state_ = s;
    detail_ = detail;
    if (changed && !stopped_ && handlers_.state_changed) handlers_.state_changed(s, detail);
  }

  // The inotify hint: the path's directory is watched for entries created,
  // moved in or re-permissioned (udev creates a node, then chmods it, then
  // adds the by-id link). A directory that does not exist (yet, or any more:
  // /dev/serial/by-id goes away with the last USB-serial device) is waited
  // for by watching its nearest existing ancestor for the missing component;
  // when that appears the watch moves down.
  void ensure_watch() {
    if (!settings_.watch_path || watch_) return;
    std::filesystem::path p(settings_.path);
    std::filesystem::path name = p.filename();
    std::filesystem::path dir = p.parent_path();
    if (dir.empty()) dir = ".";
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return;
    bool ancestor = false;
    for (;;) {
      if (::inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_ATTRIB) >= 0) break;
      const std::filesystem::path up = dir.parent_path();
      if ((errno != ENOENT && errno != ENOTDIR) || up.empty() || up == dir) {
        ::close(fd);
        return;
      }
      name = dir.filename();
      dir = up;
      ancestor = true;
    }
    watch_name_ = name.string();
    watching_ancestor_ = ancestor;
    watch_.emplace(io_, fd);
    wait_watch();
    // The entry may have appeared between the failed look-up and the watch:
    // act as if it had been reported.
    std::error_code ignored;
    if (std::filesystem::exists(std::filesystem::symlink_status(dir / name, ignored))) {
      asio::post(io_, [self = shared_from_this(), wgen = watch_gen_] {
        if (self->stopped_ || wgen != self->watch_gen_) return;
        self->hint(true, false);
      });
    }
  }

  void wait_watch() {
    watch_->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [self = shared_from_this(), wgen = watch_gen_](const boost::system::error_code& ec) {
          if (ec || self->stopped_ || wgen != self->watch_gen_) return;
          self->on_watch();
        });
  }

  void on_watch() {
    bool relevant = false;
    bool gone = false;
    alignas(inotify_event) std::array<char, 4096> buf;
    for (;;) {
      const ssize_t n = ::read(watch_->native_handle(), buf.data(), buf.size());
      if (n <= 0) break;
      for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
        inotify_event ev;
        std::memcpy(&ev, buf.data() + off, sizeof ev);
        const char* name = buf.data() + off + sizeof(inotify_event);
        if (ev.mask & (IN_IGNORED | IN_DELETE_SELF | IN_UNMOUNT)) gone = true;
        if (ev.mask & IN_Q_OVERFLOW) relevant = true;
        if (ev.len > 0 && watch_name_ == std::string_view(name, ::strnlen(name, ev.len))) {
          relevant = true;
        }
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev.len);
      }
    }
    if (!gone && !(relevant && watching_ancestor_)) wait_watch();
    hint(relevant, gone);
  }

  void hint(bool relevant, bool gone) {
    if (gone || (relevant && watching_ancestor_)) {
      close_watch();
      ensure_watch();  // one level down, or up to an ancestor
    }
    if (relevant && !port_.is_open()) {
      ++retry_seq_;
      retry_timer_.cancel();
      try_open();
    }
  }

  void close_watch() {
    if (!watch_) return;
    ++watch_gen_;
    boost::system::error_code ignored;
    watch_->close(ignored);
    watch_.reset();
  }

  asio::io_context& io_;
  LinkHandlers handlers_;
  asio::serial_port port_;
  asio::steady_timer retry_timer_;
  std::optional<asio::posix::stream_descriptor> watch_;
  std::string watch_name_;          // the entry of the watched directory that matters
  bool watching_ancestor_ = false;  // watching above the path's directory
  std::uint64_t watch_gen_ = 0;
  std::array<std::uint8_t, 1024> read_buf_{};
  std::deque<std::vector<std::uint8_t>> writes_;
  bool writing_ = false;
  bool started_ = false;
  bool reported_ = false;  // the first state after start() is always reported
  bool stopped_ = false;
  std::uint64_t generation_ = 0;  // bumped on every close: late handlers of an old open are ignored
  std::uint64_t retry_seq_ = 0;   // bumped whenever a scheduled retry is superseded
  std::chrono::milliseconds backoff_;
};

SerialLink::SerialLink(asio::io_context& io, LinkSettings settings, LinkHandlers handlers)
    : impl_(std::make_shared<Impl>(io, std::move(settings), std::move(handlers))) {}

SerialLink::~SerialLink() {
  if (impl_) impl_->stop();
}

void SerialLink::start() {
  impl_->start();
}
void SerialLink::stop() {
  impl_->stop();
}
bool SerialLink::send(std::vector<std::uint8_t> bytes) {
  return impl_->send(std::move(bytes));
}
DeviceState SerialLink::state() const {
  return impl_->state_;
}
const std::string& SerialLink::detail() const {
  return impl_->detail_;
}
const LinkSettings& SerialLink::settings() const {
  return impl_->settings_;
}
std::uint64_t SerialLink::opens() const {
  return impl_->opens_;
}

}  // namespace postgate::adapters::serial
