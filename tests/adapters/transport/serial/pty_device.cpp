#include "pty_device.hpp"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <stdexcept>
#include <thread>

namespace postgate::test {

namespace asio = boost::asio;

PtyDevice::PtyDevice(asio::io_context& io, std::filesystem::path link,
                     std::function<void(std::span<const std::uint8_t>)> on_bytes)
    : io_(io), link_(std::move(link)), on_bytes_(std::move(on_bytes)), timer_(io) {
  const int m = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0 || ::grantpt(m) != 0 || ::unlockpt(m) != 0) throw std::runtime_error("openpt");
  std::array<char, 128> name{};
  if (::ptsname_r(m, name.data(), name.size()) != 0) throw std::runtime_error("ptsname");
  slave_path_ = name.data();
  slave_fd_ = ::open(slave_path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave_fd_ < 0) throw std::runtime_error("open slave");
  // Raw from the start: the default line discipline would echo what the
  // peer writes before the code under test has set its own mode.
  termios tio{};
  ::tcgetattr(slave_fd_, &tio);
  ::cfmakeraw(&tio);
  ::tcsetattr(slave_fd_, TCSANOW, &tio);
  ::fcntl(m, F_SETFL, ::fcntl(m, F_GETFL) | O_NONBLOCK);
  master_.emplace(io_, m);
  std::filesystem::remove(link_);
  std::filesystem::create_symlink(slave_path_, link_);
  start_read();
}

PtyDevice::~PtyDevice() {
  unplug();
}

void PtyDevice::unplug() {
  pending_.clear();
  timer_.cancel();
  if (master_) {
    boost::system::error_code ignored;
    master_->close(ignored);
    master_.reset();
  }
  if (slave_fd_ >= 0) {
    ::close(slave_fd_);
    slave_fd_ = -1;
    std::error_code ignored;
    std::filesystem::remove(link_, ignored);
  }
}

void PtyDevice::start_read() {
  master_->async_read_some(asio::buffer(read_buf_),
                           [this, alive = std::weak_ptr<bool>(alive_)](
                               const boost::system::error_code& ec, std::size_t n) {
                             if (alive.expired() || ec || !master_) return;
                             if (on_bytes_) on_bytes_(std::span(read_buf_.data(), n));
                             if (master_) start_read();
                           });
}

void PtyDevice::write(std::span<const std::uint8_t> bytes) {
  if (!master_) return;
  const int fd = master_->native_handle();
  std::size_t off = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (off < bytes.size() && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return;
    } else {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 20);
    }
  }
}

void PtyDevice::write(const std::string& text) {
  write(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void PtyDevice::write_slowly(std::vector<std::uint8_t> bytes, std::size_t chunk,
                             std::chrono::milliseconds gap, std::function<void()> done) {
  if (chunk == 0) chunk = 1;
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    const std::size_t end = std::min(bytes.size(), i + chunk);
    pending_.push_back(Chunk{{bytes.begin() + static_cast<std::ptrdiff_t>(i),
                              bytes.begin() + static_cast<std::ptrdiff_t>(end)},
                             gap,
                             {}});
  }
  if (pending_.empty()) {
    if (done) done();
    return;
  }
  pending_.back().done = std::move(done);
  pump();
}

void PtyDevice::write_pieces(std::vector<std::vector<std::uint8_t>> pieces,
                             std::chrono::milliseconds gap, std::function<void()> done) {
  for (auto& p : pieces) pending_.push_back(Chunk{std::move(p), gap, {}});
  if (pending_.empty()) {
    if (done) done();
    return;
  }
  pending_.back().done = std::move(done);
  pump();
}

std::size_t PtyDevice::unread() const {
  int n = 0;
  if (slave_fd_ < 0 || ::ioctl(slave_fd_, FIONREAD, &n) != 0 || n < 0) return 0;
  return static_cast<std::size_t>(n);
}

void PtyDevice::pump() {
  if (pumping_ || pending_.empty()) return;
  Chunk c = std::move(pending_.front());
  pending_.erase(pending_.begin());
  write(c.bytes);
  if (c.done) c.done();
  if (pumping_ || pending_.empty()) return;
  pumping_ = true;
  timer_.expires_after(pending_.front().gap);
  timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        if (alive.expired()) return;
        pumping_ = false;
        if (ec) return;
        pump();
      });
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "pg-serial-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    io.restart();
    const auto slice = std::min<std::chrono::steady_clock::duration>(deadline - now,
                                                                     std::chrono::milliseconds(20));
    if (io.run_one_for(slice) == 0 && io.stopped()) {
      // No work at all: wait a little rather than spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

void run_for(asio::io_context& io, std::chrono::milliseconds d) {
  io.restart();
  io.run_for(d);
}

}  // namespace postgate::test
