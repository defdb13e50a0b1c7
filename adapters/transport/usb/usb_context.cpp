#include "adapters/transport/usb/usb_context.hpp"

#include <poll.h>
#include <sys/time.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <fstream>

#include "adapters/transport/usb/usb_error.hpp"

namespace postgate::adapters::usb {

namespace asio = boost::asio;

struct UsbContext::Watch {
  Watch(asio::io_context& io, int f, short ev) : fd(f), events(ev), sd(io, f) {}
  int fd;
  short events;
  asio::posix::stream_descriptor sd;
  bool reading = false;
  bool writing = false;
  bool alive = true;
};

namespace {

// sysfs names a device by its port path ("1-1.2"); its serial attribute is
// readable without opening the device (no usbfs permission needed).
std::string sysfs_serial(const std::string& port_path) {
  if (port_path.empty()) return {};
  std::ifstream in("/sys/bus/usb/devices/" + port_path + "/serial");
  std::string s;
  if (!in || !std::getline(in, s)) return {};
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

UsbContext::UsbContext(asio::io_context& io, UsbContextSettings settings)
    : io_(io), settings_(settings), timeout_timer_(io), rescan_timer_(io) {}

core::Result<std::unique_ptr<UsbContext>> UsbContext::create(asio::io_context& io,
                                                             UsbContextSettings settings) {
  std::unique_ptr<UsbContext> c(new UsbContext(io, settings));
  if (auto st = c->init(); !st) return std::unexpected(st.error());
  return c;
}

core::Status UsbContext::init() {
  int r = libusb_init(&ctx_);
  if (r != 0) {
    ctx_ = nullptr;
    return std::unexpected(usb_error(r, "libusb_init", ""));
  }
  if (settings_.libusb_log_level > 0)
    libusb_set_option(ctx_, LIBUSB_OPTION_LOG_LEVEL, settings_.libusb_log_level);
  manual_timeouts_ = libusb_pollfds_handle_timeouts(ctx_) == 0;
  if (const libusb_pollfd** fds = libusb_get_pollfds(ctx_)) {
    for (const libusb_pollfd** p = fds; *p; ++p) add_fd((*p)->fd, (*p)->events);
    libusb_free_pollfds(fds);
  }
  libusb_set_pollfd_notifiers(ctx_, &UsbContext::pollfd_added, &UsbContext::pollfd_removed, this);

  if (!settings_.force_rescan && libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
    r = libusb_hotplug_register_callback(
        ctx_,
        static_cast<libusb_hotplug_event>(LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
                                          LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT),
        static_cast<libusb_hotplug_flag>(0), LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
        LIBUSB_HOTPLUG_MATCH_ANY, &UsbContext::hotplug_event, this, &hotplug_handle_);
    hotplug_registered_ = r == LIBUSB_SUCCESS;
  }
  native_hotplug_ = hotplug_registered_;
  if (!native_hotplug_) start_rescan();
  update_timeout_timer();
  return {};
}

UsbContext::~UsbContext() {
  *alive_ = false;
  timeout_timer_.cancel();
  rescan_timer_.cancel();
  if (!ctx_) return;
  if (hotplug_registered_) libusb_hotplug_deregister_callback(ctx_, hotplug_handle_);
  libusb_set_pollfd_notifiers(ctx_, nullptr, nullptr, nullptr);
  for (auto& [fd, w] : watches_) {
    w->alive = false;
    boost::system::error_code ec;
    w->sd.cancel(ec);
    w->sd.release();  // libusb owns and closes its fds
  }
  watches_.clear();
  libusb_exit(ctx_);
}

void LIBUSB_CALL UsbContext::pollfd_added(int fd, short events, void* user) {
  static_cast<UsbContext*>(user)->add_fd(fd, events);
}

void LIBUSB_CALL UsbContext::pollfd_removed(int fd, void* user) {
  static_cast<UsbContext*>(user)->remove_fd(fd);
}

void UsbContext::add_fd(int fd, short events) {
  remove_fd(fd);
  auto w = std::make_shared<Watch>(io_, fd, events);
  watches_[fd] = w;
  arm(w);
}

void UsbContext::remove_fd(int fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  auto w = it->second;
  watches_.erase(it);
  w->alive = false;
  boost::system::error_code ec;
  w->sd.cancel(ec);
  w->sd.release();
}

void UsbContext::arm(const std::shared_ptr<Watch>& w) {
  if (!w->alive) return;
  std::weak_ptr<bool> alive = alive_;
  if ((w->events & POLLIN) && !w->reading) {
    w->reading = true;
    w->sd.async_wait(asio::posix::stream_descriptor::wait_read,
                     [this, w, alive](const boost::system::error_code& ec) {
                       w->reading = false;
                       if (ec || !w->alive || alive.expired()) return;
                       on_ready();
                     });
  }
  if ((w->events & POLLOUT) && !w->writing) {
    w->writing = true;
    w->sd.async_wait(asio::posix::stream_descriptor::wait_write,
                     [this, w, alive](const boost::system::error_code& ec) {
                       w->writing = false;
                       if (ec || !w->alive || alive.expired()) return;
                       on_ready();
                     });
  }
}

void UsbContext::on_ready() {
  handle_events();
  recheck_after_handling();
}

void UsbContext::handle_events() {
  if (in_handle_ || !ctx_) return;
  in_handle_ = true;
  ++rounds_;
  timeval zero{0, 0};
  libusb_handle_events_timeout_completed(ctx_, &zero, nullptr);
  in_handle_ = false;
  update_timeout_timer();
}

// Asio registers descriptors edge-triggered and async_wait does not look
// before it waits, so readiness that arrived while no wait was armed would
// be lost. Re-arm first, then look once (level): anything already pending
// gets another round.
void UsbContext::recheck_after_handling() {
  std::vector<pollfd> fds;
  fds.reserve(watches_.size());
  for (auto& [fd, w] : watches_) {
    arm(w);
    fds.push_back(pollfd{fd, static_cast<short>(w->events), 0});
  }
  if (fds.empty() || ready_posted_) return;
  if (::poll(fds.data(), fds.size(), 0) > 0) {
    ready_posted_ = true;
    std::weak_ptr<bool> alive = alive_;
    asio::post(io_, [this, alive] {
      if (alive.expired()) return;
      ready_posted_ = false;
      on_ready();
    });
  }
}

void UsbContext::update_timeout_timer() {
  if (!manual_timeouts_) return;
  timeval tv{};
  if (libusb_get_next_timeout(ctx_, &tv) != 1) {
    timeout_timer_.cancel();
    return;
  }
  timeout_timer_.expires_after(std::chrono::seconds(tv.tv_sec) +
                               std::chrono::microseconds(tv.tv_usec));
  std::weak_ptr<bool> alive = alive_;
  timeout_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    on_ready();
  });
}

int LIBUSB_CALL UsbContext::hotplug_event(libusb_context*, libusb_device*, libusb_hotplug_event,
                                          void* user) {
  static_cast<UsbContext*>(user)->notify_bus_change();
  return 0;
}

void UsbContext::notify_bus_change() {
  if (change_posted_) return;
  change_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  asio::post(io_, [this, alive] {
    if (alive.expired()) return;
    change_posted_ = false;
    ++bus_changes_;
    // Copy: a subscriber may unsubscribe (or subscribe) while being called.
    auto subs = subscribers_;
    for (auto& [id, fn] : subs)
      if (subscribers_.count(id)) fn();
  });
}

void UsbContext::start_rescan() {
  for (auto& d : enumerate()) last_seen_.insert({d.identity.bus, d.identity.address});
  rescan_timer_.expires_after(settings_.rescan_interval);
  std::weak_ptr<bool> alive = alive_;
  rescan_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    rescan_tick();
  });
}

void UsbContext::rescan_tick() {
  std::set<std::pair<std::uint8_t, std::uint8_t>> now;
  libusb_device** list = nullptr;
  ssize_t n = libusb_get_device_list(ctx_, &list);
  for (ssize_t i = 0; i < n; ++i)
    now.insert({libusb_get_bus_number(list[i]), libusb_get_device_address(list[i])});
  if (list) libusb_free_device_list(list, 1);
  if (now != last_seen_) {
    last_seen_ = std::move(now);
    notify_bus_change();
  }
  rescan_timer_.expires_after(settings_.rescan_interval);
  std::weak_ptr<bool> alive = alive_;
  rescan_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    rescan_tick();
  });
}

std::vector<FoundDevice> UsbContext::enumerate() {
  std::vector<FoundDevice> out;
  libusb_device** list = nullptr;
  ssize_t n = libusb_get_device_list(ctx_, &list);
  for (ssize_t i = 0; i < n; ++i) {
    libusb_device* dev = list[i];
    libusb_device_descriptor desc{};
    if (libusb_get_device_descriptor(dev, &desc) != 0) continue;
    FoundDevice f;
    f.identity.vendor_id = desc.idVendor;
    f.identity.product_id = desc.idProduct;
    f.identity.bus = libusb_get_bus_number(dev);
    f.identity.address = libusb_get_device_address(dev);
    std::uint8_t ports[8];
    int np = libusb_get_port_numbers(dev, ports, sizeof ports);
    if (np > 0)
      f.identity.port_path =
          port_path(f.identity.bus, std::vector<std::uint8_t>(ports, ports + np));
    f.identity.serial = sysfs_serial(f.identity.port_path);
    f.device = std::shared_ptr<libusb_device>(libusb_ref_device(dev), &libusb_unref_device);
    out.push_back(std::move(f));
  }
  if (list) libusb_free_device_list(list, 1);
  return out;
}

std::uint64_t UsbContext::subscribe(std::function<void()> on_change) {
  auto id = next_sub_++;
  subscribers_[id] = std::move(on_change);
  return id;
}

void UsbContext::unsubscribe(std::uint64_t id) {
  subscribers_.erase(id);
}

void UsbContext::run_events_until(const std::function<bool()>& done,
                                  std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    timeval tv{0, 20000};
    libusb_handle_events_timeout_completed(ctx_, &tv, nullptr);
  }
  recheck_after_handling();
}

}  // namespace postgate::adapters::usb
