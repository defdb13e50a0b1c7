#include "daemon/device_manager.hpp"

#include <spdlog/spdlog.h>

#include "adapters/transport/usb/usb_context.hpp"
#include "daemon/device_factory.hpp"

namespace postgate::daemon {

using adapters::DeviceState;
using json = nlohmann::json;

struct DeviceManager::Slot {
  config::AdapterConfig cfg;
  std::string where;
  std::unique_ptr<adapters::Device> device;
  DeviceState state = DeviceState::absent;
  std::string detail = "not started";
  std::optional<core::TimePoint> since;  // of the current state
  bool ever_attached = false;
  std::uint64_t reads = 0;   // identities read, or scans
  std::uint64_t errors = 0;  // counted device errors
  std::string last_event;    // "identity_read", "scan", "read_failed", "attached", ...
  std::optional<core::TimePoint> last_event_at;
  std::string last_error;  // "code: detail", masked
};

namespace {

core::Event device_event(std::string kind, std::string severity, std::string message) {
  core::Event e;
  e.kind = std::move(kind);
  e.severity = std::move(severity);
  e.message = std::move(message);
  return e;
}

}  // namespace

DeviceManager::DeviceManager(boost::asio::io_context& io, const core::Clock& clock,
                             Callbacks callbacks)
    : io_(io), clock_(clock), callbacks_(std::move(callbacks)) {}

DeviceManager::~DeviceManager() {
  stop();
}

void DeviceManager::start(const std::vector<config::AdapterConfig>& adapters,
                          std::chrono::minutes utc_offset) {
  stop();
  bool wants_usb = false;
  for (const auto& a : adapters)
    if (is_device_kind(a.kind) && a.device.transport == "usb") wants_usb = true;
  if (wants_usb && !usb_) {
    auto ctx = adapters::usb::UsbContext::create(io_);
    if (ctx) {
      usb_ = std::move(*ctx);
      spdlog::info("devices: libusb ready, hot-plug by {}", usb_->hotplug_mode());
    } else {
      usb_error_ = ctx.error().message;
      spdlog::error("devices: libusb unavailable: {}", usb_error_);
    }
  }
  for (const auto& a : adapters) {
    if (!is_device_kind(a.kind)) continue;
    auto slot = std::make_unique<Slot>();
    slot->cfg = a;
    slot->where = device_where(a);
    Slot* s = slot.get();
    adapters::DeviceSink sink{
        .input = [this, s](const core::WorkflowEvent& e) { on_input(*s, e); },
        .state_changed = [this, s](DeviceState st,
                                   const std::string& detail) { on_state(*s, st, detail); },
        .error = [this, s](const adapters::DeviceError& e) { on_error(*s, e); },
    };
    PhotoSink photo;
    if (callbacks_.photo)
      photo = [this, s](const core::IdentityDocument& doc, const std::vector<std::uint8_t>& raw) {
        callbacks_.photo(s->cfg.counter, s->cfg.name, doc.number, raw);
      };
    auto device =
        make_device(io_, usb_.get(), a, utc_offset, std::move(sink), clock_, std::move(photo));
    if (!device) {
      s->state = DeviceState::failed;
      s->detail = device.error().message + (usb_error_.empty() ? "" : " (" + usb_error_ + ")");
      s->since = clock_.now();
      spdlog::error("device {}: cannot start: {}", a.name, s->detail);
    } else {
      s->device = std::move(*device);
      spdlog::info("device {}: {} on {} for counter {}", a.name, a.kind, s->where, a.counter);
    }
    slots_.push_back(std::move(slot));
  }
  for (auto& s : slots_)
    if (s->device) s->device->start();
}

void DeviceManager::stop() {
  for (auto& s : slots_)
    if (s->device) s->device->stop();
  // Drivers keep weak references in their pending handlers; destroying them
  // after stop() is safe.
  slots_.clear();
}

void DeviceManager::on_input(Slot& s, const core::WorkflowEvent& e) {
  const auto now = clock_.now();
  s.last_event_at = now;
  if (std::holds_alternative<core::IdentityRead>(e)) {
    ++s.reads;
    s.last_event = "identity_read";
  } else if (std::holds_alternative<core::BarcodeScanned>(e)) {
    ++s.reads;
    s.last_event = "scan";
  } else if (const auto* f = std::get_if<core::IdentityReadFailed>(&e)) {
    s.last_event = "read_failed";
    spdlog::warn("device {}: read failed: {}", s.cfg.name, f->reason);
  }
  if (callbacks_.input) callbacks_.input(s.cfg.counter, e);
}

void DeviceManager::on_state(Slot& s, DeviceState state, const std::string& detail) {
  const DeviceState before = s.state;
  s.state = state;
  s.detail = detail;
  s.since = clock_.now();
  if (before == state) return;
  s.last_event = std::string(adapters::to_string(state));
  s.last_event_at = s.since;
  const std::string who = "device " + s.cfg.name + " (" + s.cfg.kind + ", counter " +
                          s.cfg.counter + ", " + s.where + ")";
  switch (state) {
    case DeviceState::attached:
      spdlog::info("{}: attached: {}", who, detail);
      if (callbacks_.alert)
        callbacks_.alert(device_event("device_attached", "info", who + " attached: " + detail));
      s.ever_attached = true;
      break;
    case DeviceState::absent:
      // "Not present" at start is the normal state of an unplugged slot;
      // only losing a device that was there is news for HQ.
      if (before == DeviceState::attached) {
        spdlog::warn("{}: gone: {}", who, detail);
        if (callbacks_.alert)
          callbacks_.alert(device_event("device_gone", "warning", who + " gone: " + detail));
      } else {
        spdlog::info("{}: absent: {}", who, detail);
      }
      break;
    case DeviceState::failed:
      spdlog::error("{}: failed: {}", who, detail);
      if (callbacks_.alert)
        callbacks_.alert(device_event("device_failed", "warning", who + " failed: " + detail));
      break;
  }
}

void DeviceManager::on_error(Slot& s, const adapters::DeviceError& e) {
  ++s.errors;
  s.last_error = e.code + (e.detail.empty() ? "" : ": " + e.detail);
  spdlog::warn("device {}: {} [errors: {}]", s.cfg.name, s.last_error, s.errors);
  // A scanner pointed at garbage errs many times a second: one event per
  // device and code a minute, with the count held back.
  auto held = error_alerts_.allow(s.cfg.name + "/" + e.code, std::chrono::steady_clock::now());
  if (!held || !callbacks_.alert) return;
  std::string message = "device " + s.cfg.name + " (" + s.cfg.kind + ", counter " + s.cfg.counter +
                        "): " + s.last_error;
  if (*held > 0) message += " (" + std::to_string(*held) + " more since the previous event)";
  callbacks_.alert(device_event("device_error", "info", std::move(message)));
}

json DeviceManager::to_json() const {
  json out = json::array();
  for (const auto& s : slots_) {
    out.push_back({
        {"name", s->cfg.name},
        {"kind", s->cfg.kind},
        {"transport", s->cfg.device.transport},
        {"where", s->where},
        {"counter", s->cfg.counter},
        {"state", std::string(adapters::to_string(s->state))},
        {"detail", s->detail},
        {"since", s->since ? json(core::format_utc(*s->since)) : json(nullptr)},
        {"reads", s->reads},
        {"errors", s->errors},
        {"last_event", s->last_event.empty() ? json(nullptr) : json(s->last_event)},
        {"last_event_at",
         s->last_event_at ? json(core::format_utc(*s->last_event_at)) : json(nullptr)},
        {"last_error", s->last_error.empty() ? json(nullptr) : json(s->last_error)},
    });
  }
  return out;
}

}  // namespace postgate::daemon
