#include "adapters/transport/usb/usb_link.hpp"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <list>

#include "adapters/transport/usb/usb_error.hpp"

namespace postgate::adapters::usb {

namespace asio = boost::asio;

struct UsbLink::Slot {
  UsbLink* link = nullptr;
  std::weak_ptr<Open> owner;
  libusb_transfer* transfer = nullptr;
  std::vector<std::uint8_t> buffer;
  std::uint8_t endpoint = 0;
  bool in_flight = false;
  bool continuous = false;
  bool control = false;  // buffer = 8-byte setup packet + data stage
  ReadDone read_done;
  WriteDone write_done;
};

struct EndpointInfo {
  std::uint8_t type = 0;  // LIBUSB_TRANSFER_TYPE_BULK / _INTERRUPT
  std::uint16_t max_packet = 0;
};

struct UsbLink::Open {
  libusb_device_handle* handle = nullptr;
  DeviceIdentity id;
  std::string node;
  std::map<std::uint8_t, EndpointInfo> endpoints;
  std::list<std::unique_ptr<Slot>> slots;
  int consecutive_errors = 0;
};

namespace {

std::string hex2(std::uint8_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%02x", static_cast<unsigned>(v));
  return b;
}

std::string describe(const DeviceIdentity& id) {
  DeviceMatch m{id.vendor_id, id.product_id, {}, {}};
  std::string s = to_string(m) + " at " + (id.port_path.empty() ? "?" : id.port_path) + " (" +
                  device_node(id.bus, id.address) + ")";
  if (!id.serial.empty()) s += " serial " + id.serial;
  return s;
}

core::Error transfer_error(int status, std::uint8_t ep, const std::string& node) {
  std::string what = "transfer on endpoint " + hex2(ep);
  switch (status) {
    case LIBUSB_TRANSFER_TIMED_OUT:
      return usb_error(LIBUSB_ERROR_TIMEOUT, what, node);
    case LIBUSB_TRANSFER_STALL:
      return usb_error(LIBUSB_ERROR_PIPE, what, node);
    case LIBUSB_TRANSFER_NO_DEVICE:
      return usb_error(LIBUSB_ERROR_NO_DEVICE, what, node);
    case LIBUSB_TRANSFER_OVERFLOW:
      return usb_error(LIBUSB_ERROR_OVERFLOW, what, node);
    case LIBUSB_TRANSFER_CANCELLED:
      return core::Error{"cancelled", "", what + ": cancelled"};
    default:
      return usb_error(LIBUSB_ERROR_IO, what, node);
  }
}

}  // namespace

UsbLink::UsbLink(UsbContext& ctx, UsbLinkSettings settings, UsbLinkHandlers handlers)
    : ctx_(ctx),
      settings_(std::move(settings)),
      handlers_(std::move(handlers)),
      retry_timer_(ctx.io()) {}

UsbLink::~UsbLink() {
  stop();
  *alive_ = false;
}

DeviceIdentity UsbLink::identity() const {
  return open_ ? open_->id : DeviceIdentity{};
}

std::size_t UsbLink::in_flight() const {
  std::size_t n = 0;
  if (open_)
    for (auto& s : open_->slots) n += s->in_flight ? 1 : 0;
  return n;
}

void UsbLink::start() {
  if (started_) return;
  started_ = true;
  state_reported_ = false;
  subscription_ = ctx_.subscribe([this] { on_bus_change(); });
  try_open();
}

void UsbLink::stop() {
  if (!started_) return;
  started_ = false;
  ctx_.unsubscribe(subscription_);
  retry_timer_.cancel();
  close(DeviceState::absent, "stopped", false);
}

void UsbLink::set_state(DeviceState s, const std::string& detail) {
  if (state_reported_ && s == state_ && detail == state_detail_) return;
  state_ = s;
  state_detail_ = detail;
  state_reported_ = true;
  if (started_ && handlers_.state_changed) handlers_.state_changed(s, detail);
}

void UsbLink::schedule_retry() {
  retry_timer_.expires_after(settings_.retry_interval);
  std::weak_ptr<bool> alive = alive_;
  retry_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || alive.expired() || !started_ || open_) return;
    try_open();
  });
}

void UsbLink::on_bus_change() {
  if (!started_) return;
  if (open_) {
    bool present = false;
    for (auto& f : ctx_.enumerate()) {
      const auto& d = f.identity;
      if (d.bus == open_->id.bus && d.address == open_->id.address &&
          d.vendor_id == open_->id.vendor_id && d.product_id == open_->id.product_id)
        present = true;
    }
    if (present) return;
    close(DeviceState::absent, "unplugged", true);
  }
  try_open();
}

void UsbLink::try_open() {
  if (!started_ || open_) return;
  auto found = ctx_.enumerate();
  std::vector<DeviceIdentity> ids;
  ids.reserve(found.size());
  for (auto& f : found) ids.push_back(f.identity);
  auto chosen = select_device(settings_.match, ids);
  if (!chosen) {
    if (chosen.error().code == "not_found") {
      // Keep "unplugged" as the reason until the device comes back.
      if (!(state_reported_ && state_ == DeviceState::absent))
        set_state(DeviceState::absent, "not present");
    } else {
      set_state(DeviceState::failed, chosen.error().message);
      schedule_retry();
    }
    return;
  }
  for (auto& f : found) {
    if (f.identity.bus != chosen->bus || f.identity.address != chosen->address) continue;
    if (auto st = open_device(f); !st) {
      if (st.error().code == "no_device") {
        set_state(DeviceState::absent, "unplugged");
      } else {
        set_state(DeviceState::failed, st.error().message);
        schedule_retry();
      }
    }
    return;
  }
}

core::Status UsbLink::open_device(const FoundDevice& found) {
  auto o = std::make_shared<Open>();
  o->id = found.identity;
  o->node = device_node(o->id.bus, o->id.address);
  int r = libusb_open(found.device.get(), &o->handle);
  if (r != 0) return std::unexpected(usb_error(r, "open", o->node));
  if (settings_.detach_kernel_driver) libusb_set_auto_detach_kernel_driver(o->handle, 1);
  r = libusb_claim_interface(o->handle, settings_.interface_number);
  if (r != 0 && settings_.detach_kernel_driver &&
      libusb_kernel_driver_active(o->handle, settings_.interface_number) == 0) {
    // The detach step failed but no kernel driver holds the interface (some
    // kernels and umockdev refuse the disconnect ioctl): claim it plainly.
    libusb_set_auto_detach_kernel_driver(o->handle, 0);
    r = libusb_claim_interface(o->handle, settings_.interface_number);
  }
  if (r != 0) {
    libusb_close(o->handle);
    return std::unexpected(
        usb_error(r, "claim interface " + std::to_string(settings_.interface_number), o->node));
  }
  libusb_config_descriptor* cfg = nullptr;
  if (libusb_get_active_config_descriptor(found.device.get(), &cfg) != 0)
    libusb_get_config_descriptor(found.device.get(), 0, &cfg);
  if (cfg) {
    for (int i = 0; i < cfg->bNumInterfaces; ++i) {
      const auto& itf = cfg->interface[i];
      if (itf.num_altsetting < 1) continue;
      const auto& alt = itf.altsetting[0];
      if (alt.bInterfaceNumber != settings_.interface_number) continue;
      for (int e = 0; e < alt.bNumEndpoints; ++e) {
        const auto& ep = alt.endpoint[e];
        o->endpoints[ep.bEndpointAddress] =
            EndpointInfo{static_cast<std::uint8_t>(ep.bmAttributes & 0x03), ep.wMaxPacketSize};
      }
    }
    libusb_free_config_descriptor(cfg);
  }
  auto fail = [&](core::Error e) -> core::Status {
    libusb_release_interface(o->handle, settings_.interface_number);
    libusb_close(o->handle);
    return std::unexpected(std::move(e));
  };
  if (settings_.continuous_in_endpoint && !o->endpoints.count(*settings_.continuous_in_endpoint))
    return fail(core::Error{"no_endpoint", "",
                            "no endpoint " + hex2(*settings_.continuous_in_endpoint) +
                                " on interface " + std::to_string(settings_.interface_number) +
                                " of " + o->node});
  open_ = o;
  set_state(DeviceState::attached, describe(o->id));
  if (open_ == o && settings_.continuous_in_endpoint) submit_continuous();
  return {};
}

UsbLink::Slot* UsbLink::new_slot(std::uint8_t endpoint, std::size_t size) {
  auto s = std::make_unique<Slot>();
  s->link = this;
  s->owner = open_;
  s->endpoint = endpoint;
  s->buffer.assign(size, 0);
  s->transfer = libusb_alloc_transfer(0);
  auto* raw = s.get();
  open_->slots.push_back(std::move(s));
  return raw;
}

void UsbLink::release_slot(Slot* s) {
  if (!open_) return;
  for (auto it = open_->slots.begin(); it != open_->slots.end(); ++it) {
    if (it->get() != s) continue;
    libusb_free_transfer(s->transfer);
    open_->slots.erase(it);
    return;
  }
}

core::Status UsbLink::submit(Slot* s, std::chrono::milliseconds timeout) {
  if (s->control) {
    libusb_fill_control_transfer(s->transfer, open_->handle, s->buffer.data(),
                                 &UsbLink::transfer_done, s,
                                 static_cast<unsigned>(timeout.count()));
    s->in_flight = true;
    if (int r = libusb_submit_transfer(s->transfer); r != 0) {
      s->in_flight = false;
      return std::unexpected(usb_error(r, "control request", open_->node));
    }
    return {};
  }
  auto ep = open_->endpoints.find(s->endpoint);
  if (ep == open_->endpoints.end())
    return core::fail("no_endpoint", "",
                      "no endpoint " + hex2(s->endpoint) + " on interface " +
                          std::to_string(settings_.interface_number) + " of " + open_->node);
  auto to = static_cast<unsigned>(timeout.count());
  if (ep->second.type == LIBUSB_TRANSFER_TYPE_INTERRUPT)
    libusb_fill_interrupt_transfer(s->transfer, open_->handle, s->endpoint, s->buffer.data(),
                                   static_cast<int>(s->buffer.size()), &UsbLink::transfer_done, s,
                                   to);
  else
    libusb_fill_bulk_transfer(s->transfer, open_->handle, s->endpoint, s->buffer.data(),
                              static_cast<int>(s->buffer.size()), &UsbLink::transfer_done, s, to);
  s->in_flight = true;
  int r = libusb_submit_transfer(s->transfer);
  if (r != 0) {
    s->in_flight = false;
    return std::unexpected(usb_error(r, "submit on endpoint " + hex2(s->endpoint), open_->node));
  }
  return {};
}

void LIBUSB_CALL UsbLink::transfer_done(libusb_transfer* t) {
  // Inside libusb's event handling: record and hand over, nothing else.
  auto* s = static_cast<Slot*>(t->user_data);
  s->in_flight = false;
  std::vector<std::uint8_t> data;
  if (t->actual_length > 0)
    data.assign(t->buffer, t->buffer + std::min<std::size_t>(t->actual_length, s->buffer.size()));
  int status = t->status;
  asio::post(s->link->ctx_.io(), [s, owner = s->owner, status, data = std::move(data)]() mutable {
    if (owner.expired()) return;  // closed meanwhile: the slot is gone with it
    s->link->on_complete(s, status, std::move(data));
  });
}

void UsbLink::submit_continuous() {
  if (!open_) return;
  std::size_t size = settings_.continuous_in_size;
  std::uint8_t ep = *settings_.continuous_in_endpoint;
  if (size == 0) size = open_->endpoints[ep].max_packet;
  if (size == 0) size = 64;
  Slot* s = new_slot(ep, size);
  s->continuous = true;
  if (auto st = submit(s, std::chrono::milliseconds(0)); !st) {
    release_slot(s);
    if (st.error().code == "no_device")
      close(DeviceState::absent, "unplugged", true);
    else
      close(DeviceState::failed, st.error().message, true);
  }
}

void UsbLink::on_complete(Slot* s, int status, std::vector<std::uint8_t> data) {
  std::weak_ptr<Open> owner = s->owner;
  const std::string node = open_ ? open_->node : std::string();
  if (s->continuous) {
    if (status == LIBUSB_TRANSFER_CANCELLED) return;
    if (status == LIBUSB_TRANSFER_NO_DEVICE) {
      close(DeviceState::absent, "unplugged", true);
      return;
    }
    if (status == LIBUSB_TRANSFER_COMPLETED) {
      open_->consecutive_errors = 0;
      if (handlers_.received && !data.empty()) handlers_.received(data);
    } else {
      auto err = transfer_error(status, s->endpoint, node);
      if (handlers_.error) handlers_.error(err);
      if (owner.expired()) return;
      if (++open_->consecutive_errors >= settings_.max_consecutive_errors) {
        close(DeviceState::failed,
              err.message + " (" + std::to_string(open_->consecutive_errors) + " in a row)", true);
        return;
      }
      if (status == LIBUSB_TRANSFER_STALL) libusb_clear_halt(open_->handle, s->endpoint);
    }
    if (owner.expired()) return;  // a handler stopped or closed the link
    if (auto st = submit(s, std::chrono::milliseconds(0)); !st) {
      if (st.error().code == "no_device")
        close(DeviceState::absent, "unplugged", true);
      else
        close(DeviceState::failed, st.error().message, true);
    }
    return;
  }
  auto rd = std::move(s->read_done);
  auto wd = std::move(s->write_done);
  std::uint8_t ep = s->endpoint;
  std::size_t asked = s->buffer.size();
  if (s->control) asked -= LIBUSB_CONTROL_SETUP_SIZE;  // actual_length counts the data stage
  release_slot(s);
  if (status == LIBUSB_TRANSFER_COMPLETED) {
    if (rd) rd(std::move(data));
    if (wd) {
      if (data.size() == asked)
        wd({});
      else
        wd(core::fail("short_write", "",
                      "wrote " + std::to_string(data.size()) + " of " + std::to_string(asked) +
                          " bytes to endpoint " + hex2(ep) + " of " + node));
    }
  } else {
    auto err = transfer_error(status, ep, node);
    if (rd) rd(std::unexpected(err));
    if (wd) wd(std::unexpected(err));
  }
  if (status == LIBUSB_TRANSFER_NO_DEVICE && !owner.expired())
    close(DeviceState::absent, "unplugged", true);
}

void UsbLink::write(std::uint8_t endpoint, std::vector<std::uint8_t> bytes, WriteDone done) {
  if (!open_) {
    std::weak_ptr<bool> alive = alive_;
    asio::post(ctx_.io(), [alive, done = std::move(done)] {
      if (!alive.expired() && done) done(core::fail("no_device", "", "device not open"));
    });
    return;
  }
  Slot* s = new_slot(endpoint, 0);
  s->buffer = std::move(bytes);
  s->write_done = std::move(done);
  if (auto st = submit(s, settings_.write_timeout); !st) {
    auto wd = std::move(s->write_done);
    release_slot(s);
    std::weak_ptr<bool> alive = alive_;
    asio::post(ctx_.io(), [alive, wd = std::move(wd), e = st.error()] {
      if (!alive.expired() && wd) wd(std::unexpected(e));
    });
  }
}

void UsbLink::read(std::uint8_t endpoint, std::size_t size, std::chrono::milliseconds timeout,
                   ReadDone done) {
  if (!open_) {
    std::weak_ptr<bool> alive = alive_;
    asio::post(ctx_.io(), [alive, done = std::move(done)] {
      if (!alive.expired() && done) done(core::fail("no_device", "", "device not open"));
    });
    return;
  }
  Slot* s = new_slot(endpoint, size);
  s->read_done = std::move(done);
  if (auto st = submit(s, timeout); !st) {
    auto rd = std::move(s->read_done);
    release_slot(s);
    std::weak_ptr<bool> alive = alive_;
    asio::post(ctx_.io(), [alive, rd = std::move(rd), e = st.error()] {
      if (!alive.expired() && rd) rd(std::unexpected(e));
    });
  }
}

void UsbLink::control_out(std::uint8_t request_type, std::uint8_t request, std::uint16_t value,
                          std::uint16_t index, std::vector<std::uint8_t> data, WriteDone done) {
  if (!open_) {
    std::weak_ptr<bool> alive = alive_;
    asio::post(ctx_.io(), [alive, done = std::move(done)] {
      if (!alive.expired() && done) done(core::fail("no_device", "", "device not open"));
    });
    return;
  }
  Slot* s = new_slot(0, LIBUSB_CONTROL_SETUP_SIZE);
  s->control = true;
  s->buffer.insert(s->buffer.end(), data.begin(), data.end());
  libusb_fill_control_setup(s->buffer.data(), request_type, request, value, index,
                            static_cast<std::uint16_t>(data.size()));
  s->write_done = std::move(done);
  if (auto st = submit(s, settings_.write_timeout); !st) {
    auto wd = std::move(s->write_done);
    release_slot(s);
    std::weak_ptr<bool> alive = alive_;
    asio::post(ctx_.io(), [alive, wd = std::move(wd), e = st.error()] {
      if (!alive.expired() && wd) wd(std::unexpected(e));
    });
  }
}

void UsbLink::close(DeviceState next, const std::string& detail, bool notify) {
  if (open_) {
    auto o = std::move(open_);
    open_.reset();
    for (auto& s : o->slots)
      if (s->in_flight) libusb_cancel_transfer(s->transfer);
    auto none_in_flight = [&o] {
      for (auto& s : o->slots)
        if (s->in_flight) return false;
      return true;
    };
    ctx_.run_events_until(none_in_flight, std::chrono::milliseconds(2000));
    for (auto& s : o->slots) {
      if (s->in_flight) {
        // libusb still holds it: leaking beats a use-after-free.
        (void)s.release();
        continue;
      }
      libusb_free_transfer(s->transfer);
    }
    o->slots.clear();
    libusb_release_interface(o->handle, settings_.interface_number);
    libusb_close(o->handle);
  }
  if (notify) {
    set_state(next, detail);
    if (next == DeviceState::failed) schedule_retry();
  } else {
    state_ = next;
    state_detail_ = detail;
  }
}

}  // namespace postgate::adapters::usb
