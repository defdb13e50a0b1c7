#include "adapters/xray/inotify_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postgate::adapters::xray {

namespace {

constexpr std::uint32_t kMask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO |
                                IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |
                                IN_ONLYDIR;
constexpr std::uint32_t kGone = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED;
// Reads per turn of the loop; the rest waits for the next readiness.
constexpr int kReadsPerTurn = 8;

}  // namespace

InotifyWatch::InotifyWatch(boost::asio::io_context& io, InotifyCallbacks callbacks)
    : desc_(io), cb_(std::move(callbacks)) {}

InotifyWatch::~InotifyWatch() {
  close();
}

core::Status InotifyWatch::open(const std::filesystem::path& dir) {
  close();
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0)
    return core::fail("failed", "", std::string("inotify_init1: ") + std::strerror(errno));
  const int wd = ::inotify_add_watch(fd, dir.c_str(), kMask);
  if (wd < 0) {
    const int e = errno;
    ::close(fd);
    return core::fail(e == ENOENT || e == ENOTDIR ? "absent" : "failed", "",
                      std::string("watching the folder: ") + std::strerror(e));
  }
  wd_ = wd;
  desc_.assign(fd);
  life_ = std::make_shared<int>(0);
  arm();
  return {};
}

void InotifyWatch::close() {
  life_ = std::make_shared<int>(0);  // orphans the pending handler
  if (desc_.is_open()) {
    boost::system::error_code ec;
    desc_.cancel(ec);
    desc_.close(ec);
  }
  wd_ = -1;
}

void InotifyWatch::arm() {
  desc_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                   [this, life = std::weak_ptr<int>(life_)](const boost::system::error_code& ec) {
                     if (ec || life.expired()) return;
                     drain();
                   });
}

void InotifyWatch::drain() {
  const std::weak_ptr<int> life = life_;
  alignas(inotify_event) char buf[64 * 1024];
  for (int turn = 0; turn < kReadsPerTurn; ++turn) {
    const auto n = ::read(desc_.native_handle(), buf, sizeof buf);
    if (n <= 0) break;  // EAGAIN: drained
    for (std::size_t off = 0; off + sizeof(inotify_event) <= static_cast<std::size_t>(n);) {
      inotify_event ev;
      std::memcpy(&ev, buf + off, sizeof ev);
      const char* name = buf + off + sizeof(inotify_event);
      off += sizeof(inotify_event) + ev.len;
      if (off > static_cast<std::size_t>(n)) break;  // never: the kernel writes whole events
      if (ev.mask & IN_Q_OVERFLOW) {
        if (cb_.overflow) cb_.overflow();
      } else if (ev.wd == wd_ && (ev.mask & kGone)) {
        if (cb_.gone) cb_.gone();
        return;  // the callback closes the watch
      } else if (ev.len > 0 && !(ev.mask & IN_ISDIR)) {
        const bool finished = (ev.mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0;
        if (cb_.file) cb_.file(std::string_view(name, ::strnlen(name, ev.len)), finished);
      }
      if (life.expired()) return;  // closed from a callback
    }
  }
  if (!life.expired() && desc_.is_open()) arm();
}

}  // namespace postgate::adapters::xray
