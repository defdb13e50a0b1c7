#include "daemon/evidence_desk.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "adapters/camera/http_snapshot_camera.hpp"
#include "adapters/camera/v4l2_camera.hpp"

namespace postgate::daemon {

namespace asio = boost::asio;
namespace xr = adapters::xray;
using json = nlohmann::json;

namespace {

constexpr std::size_t kRecentMax = 2000;  // records kept as X-ray binding candidates
constexpr auto kSweepEvery = std::chrono::seconds(2);

std::string content_type_of(const std::string& file) {
  std::string ext =
      file.substr(file.rfind('.') == std::string::npos ? file.size() : file.rfind('.'));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".png") return "image/png";
  if (ext == ".tif" || ext == ".tiff") return "image/tiff";
  if (ext == ".bmp") return "image/bmp";
  return "application/octet-stream";
}

core::EvidenceBinding binding_of(core::XrayBindingHow how) {
  switch (how) {
    case core::XrayBindingHow::waybill:
      return core::EvidenceBinding::waybill;
    case core::XrayBindingHow::lane_time:
      return core::EvidenceBinding::lane_time;
    case core::XrayBindingHow::unbound:
      break;
  }
  return core::EvidenceBinding::unbound;
}

core::Event event(std::string kind, std::string severity, std::string message,
                  std::optional<std::uint64_t> seq = std::nullopt) {
  core::Event e;
  e.kind = std::move(kind);
  e.severity = std::move(severity);
  e.message = std::move(message);
  e.record_seq = seq;
  return e;
}

}  // namespace

EvidenceDesk::EvidenceDesk(asio::io_context& io, const core::Clock& clock,
                           core::RandomSource& random, core::WaybillValidator waybills, Hooks hooks)
    : io_(io),
      clock_(clock),
      random_(random),
      waybills_(std::move(waybills)),
      hooks_(std::move(hooks)),
      sweep_timer_(io) {}

EvidenceDesk::~EvidenceDesk() {
  stop();
}

core::Status EvidenceDesk::open(const config::Config& cfg, storage::KeyRing keys,
                                std::chrono::minutes utc_offset) {
  storage::EvidenceOptions o;
  o.db_path = cfg.storage.path;
  o.dir = cfg.storage.evidence_dir;
  o.keys = std::move(keys);
  o.max_item_bytes = cfg.evidence.max_item_bytes;
  o.max_total_bytes = cfg.evidence.max_total_bytes;
  o.upload_on_request = cfg.evidence.upload == "on_request";
  auto s = storage::SqliteEvidenceStore::open(std::move(o), clock_, random_);
  if (!s) return std::unexpected(s.error());
  store_ = std::move(*s);

  for (std::size_t i = 0; i < cfg.cameras.size(); ++i) {
    const auto& c = cfg.cameras[i];
    const std::string where = "cameras[" + std::to_string(i) + "]";
    core::Result<std::unique_ptr<adapters::Camera>> made = std::unique_ptr<adapters::Camera>();
    if (c.source == "http") {
      auto h = adapters::camera::HttpSnapshotCamera::create(io_, *make_http_camera_settings(c),
                                                            random_, clock_);
      if (h)
        made = std::unique_ptr<adapters::Camera>(std::move(*h));
      else
        made = std::unexpected(h.error());
    } else {
      auto v = adapters::camera::V4l2Camera::create(io_, *make_v4l2_camera_settings(c), clock_);
      if (v)
        made = std::unique_ptr<adapters::Camera>(std::move(*v));
      else
        made = std::unexpected(v.error());
    }
    if (!made) return std::unexpected(core::nest(where, made.error()));
    CameraSlot slot;
    slot.cfg = c;
    slot.camera = std::move(*made);
    spdlog::info("camera {}: {} for counter {}, still on {}{}", c.id, c.source, c.counter,
                 c.capture_on, c.required ? " (required)" : "");
    cameras_.emplace(c.counter, std::move(slot));
  }

  for (std::size_t i = 0; i < cfg.xray.size(); ++i) {
    auto m = make_xray_machine(cfg.xray[i], utc_offset);
    if (!m) return std::unexpected(core::nest("xray[" + std::to_string(i) + "]", m.error()));
    auto machine = std::make_unique<Machine>();
    machine->m = std::move(*m);
    const std::size_t index = machines_.size();
    std::weak_ptr<int> alive = life_;
    xr::XraySink sink{
        .on_scan =
            [this, index, alive](xr::XrayScan scan) {
              if (!alive.expired()) on_scan(index, std::move(scan));
            },
        .on_orphan =
            [this, index, alive](xr::OrphanKind kind, const std::string& file) {
              if (alive.expired()) return;
              auto& mm = *machines_[index];
              ++mm.orphans;
              spdlog::warn("xray {}: orphan {} {} (its partner never came)", mm.m.folder.machine_id,
                           xr::to_string(kind), file);
            },
        .on_error =
            [this, index, alive](const adapters::DeviceError& e) {
              if (alive.expired()) return;
              auto& mm = *machines_[index];
              ++mm.errors;
              mm.last_error = e.code;
              spdlog::warn("xray {}: {}: {}", mm.m.folder.machine_id, e.code, e.detail);
            },
        .on_state =
            [this, index, alive](adapters::DeviceState st, const std::string& detail) {
              if (alive.expired()) return;
              auto& mm = *machines_[index];
              const std::string was = mm.state;
              mm.state = std::string(adapters::to_string(st));
              mm.detail = detail;
              if (was == mm.state) return;
              spdlog::info("xray {}: {} ({})", mm.m.folder.machine_id, mm.state, detail);
              if (was == "attached" && st != adapters::DeviceState::attached)
                hooks_.event(event("device_gone", "warning",
                                   "X-ray machine " + mm.m.folder.machine_id +
                                       " folder: " + mm.state + " (" + detail + ")"));
            },
    };
    machine->watcher = std::make_unique<xr::XrayFolderWatcher>(io_, machine->m.folder,
                                                               std::move(sink), waybills_, clock_);
    machines_.push_back(std::move(machine));
  }
  for (auto& m : machines_) m->watcher->start();
  if (!machines_.empty()) arm_sweep();
  return {};
}

void EvidenceDesk::seed_recent(const std::vector<core::Record>& records) {
  for (const auto& r : records) {
    storage::SubmitOk ok{r.id, r.seq, r.accepted_at, false};
    remember(r.acceptance, ok);
  }
  std::sort(recent_.begin(), recent_.end(),
            [](const auto& a, const auto& b) { return a.seq < b.seq; });
}

void EvidenceDesk::stop() {
  if (stopped_) return;
  stopped_ = true;
  life_.reset();
  sweep_timer_.cancel();
  for (auto& m : machines_) m->watcher->stop();
  for (auto& [counter, slot] : cameras_) {
    slot.camera->stop();
    // Waiting requests are answered (the commit goes on, or fails if the
    // still is required) rather than forgotten.
    auto queued = std::move(slot.queued);
    slot.queued.clear();
    for (auto& q : queued) q.done(core::fail("cancelled", "camera", "shutting down"));
  }
}

void EvidenceDesk::remember(const core::Acceptance& a, const storage::SubmitOk& ok) {
  core::XrayCandidate c;
  c.record_id = ok.id.str();
  c.seq = ok.seq;
  c.counter = a.counter;
  for (const auto& w : a.waybills) c.waybills.push_back(w.number);
  c.accepted_at = ok.accepted_at;
  recent_.push_back(std::move(c));
  while (recent_.size() > kRecentMax) recent_.pop_front();
}

// ---------------------------------------------------------------- cameras

void EvidenceDesk::capture(CameraSlot& slot,
                           std::function<void(core::Result<core::EvidenceRef>)> done,
                           std::optional<storage::SubmitOk> committed) {
  constexpr std::size_t kMaxQueued = 32;
  if (!slot.busy) return start_capture(slot, std::move(done), committed);
  if (slot.queued.size() >= kMaxQueued)
    return done(core::fail("camera_busy", "camera", "too many stills waiting for the camera"));
  slot.queued.push_back({std::move(done), committed});
}

void EvidenceDesk::start_capture(CameraSlot& slot,
                                 std::function<void(core::Result<core::EvidenceRef>)> done,
                                 std::optional<storage::SubmitOk> committed) {
  std::weak_ptr<int> alive = life_;
  slot.busy = true;
  // Answers, then lets the next waiting request have the camera.
  auto finish = [this, alive, &slot, done = std::move(done)](core::Result<core::EvidenceRef> r) {
    done(std::move(r));
    if (alive.expired()) return;
    slot.busy = false;
    if (slot.queued.empty() || stopped_) return;
    // Posted: the camera is still inside its own completion here.
    slot.busy = true;
    asio::post(io_, [this, alive, &slot] {
      if (alive.expired()) return;
      slot.busy = false;
      if (slot.queued.empty()) return;
      auto next = std::move(slot.queued.front());
      slot.queued.pop_front();
      start_capture(slot, std::move(next.done), next.committed);
    });
  };
  slot.camera->capture([this, alive, &slot, done = std::move(finish),
                        committed](core::Result<adapters::Still> still) {
    if (alive.expired() || !store_) return done(core::fail("cancelled", "", "shutting down"));
    ++slot.captures;
    if (!still) {
      ++slot.failures;
      slot.last_error = still.error().code;
      return done(std::unexpected(still.error()));
    }
    storage::NewEvidence e;
    e.kind = "camera";
    e.source = slot.cfg.id;
    e.content_type = "image/jpeg";
    e.captured_at = still->captured_at;
    e.bytes = std::move(still->jpeg);
    e.meta = {{"counter", slot.cfg.counter},
              {"width", std::to_string(still->width)},
              {"height", std::to_string(still->height)}};
    if (committed) {
      e.held = false;
      e.record_id = committed->id;
      e.record_seq = committed->seq;
    } else {
      e.held = true;
    }
    auto ref = store_->put(std::move(e));
    if (!ref) {
      ++slot.failures;
      slot.last_error = ref.error().code;
      return done(std::unexpected(ref.error()));
    }
    done(std::move(*ref));
  });
}

void EvidenceDesk::before_commit(const std::string& counter, core::Acceptance acceptance,
                                 Proceed proceed) {
  auto it = cameras_.find(counter);
  if (it == cameras_.end() || it->second.cfg.capture_on != "inspection" || !store_)
    return proceed(std::move(acceptance));
  CameraSlot& slot = it->second;
  capture(
      slot,
      [this, &slot, acceptance = std::move(acceptance),
       proceed = std::move(proceed)](core::Result<core::EvidenceRef> ref) mutable {
        if (ref) {
          acceptance.evidence.push_back(std::move(*ref));
          if (hooks_.evidence_changed) hooks_.evidence_changed();
          return proceed(std::move(acceptance));
        }
        spdlog::warn("camera {}: no still ({}: {})", slot.cfg.id, ref.error().code,
                     ref.error().message);
        if (slot.cfg.required)
          return proceed(
              core::fail("photo_required", "camera",
                         "no photo from camera " + slot.cfg.id + " (" + ref.error().code + ")"));
        proceed(std::move(acceptance));
      },
      std::nullopt);
}

void EvidenceDesk::after_commit(const std::string& counter, const core::Acceptance& acceptance,
                                const core::Result<storage::SubmitOk>& answer) {
  if (!store_) return;
  // Held stills the commit did not bind (failed, or a duplicate whose first
  // record already has its own) go: nothing was accepted with them.
  for (const auto& ev : acceptance.evidence) {
    if (ev.id.empty()) continue;
    if (const auto id = core::Uuid::parse(ev.id))
      if (auto s = store_->discard_held(*id); !s)
        spdlog::warn("evidence {}: not discarded: {}", ev.id, s.error().message);
  }
  if (!answer || answer->duplicate) return;
  remember(acceptance, *answer);
  retry_waiting();
  auto it = cameras_.find(counter);
  if (it == cameras_.end() || it->second.cfg.capture_on != "committed") return;
  CameraSlot& slot = it->second;
  const auto seq = answer->seq;
  capture(
      slot,
      [this, &slot, seq](core::Result<core::EvidenceRef> ref) {
        if (ref) {
          if (hooks_.evidence_changed) hooks_.evidence_changed();
          return;
        }
        spdlog::warn("camera {}: no still for record {} ({}: {})", slot.cfg.id, seq,
                     ref.error().code, ref.error().message);
      },
      *answer);
}

// ---------------------------------------------------------------- X-ray

std::vector<core::XrayCandidate> EvidenceDesk::candidates(const Machine& m,
                                                          const std::string& lane) const {
  std::vector<core::XrayCandidate> out;
  out.reserve(recent_.size());
  for (auto c : recent_) {
    c.lanes.clear();
    for (const auto& [l, counter] : m.m.lane_counter) {
      if (counter != c.counter) continue;
      c.lanes.push_back(l.empty() ? lane : l);
    }
    out.push_back(std::move(c));
  }
  return out;
}

void EvidenceDesk::on_scan(std::size_t index, xr::XrayScan scan) {
  Machine& m = *machines_[index];
  const std::string& machine = m.m.folder.machine_id;
  if (!store_) return;
  ++m.scans;
  const bool suspect = scan.verdict == xr::Verdict::suspect;
  if (suspect) ++m.suspect;

  // A scan handed over again (not confirmed before a restart) is stored once.
  auto known = store_->find_by_meta(machine, "scan_id", scan.scan_id);
  if (known && known->has_value()) {
    (void)m.watcher->confirm(scan.scan_id);
    return;
  }

  const core::XrayScanKey key{scan.waybill_valid ? scan.waybill : std::nullopt, scan.lane,
                              scan.time};
  const auto cands = candidates(m, scan.lane);
  const core::XrayBinding b = core::bind_xray_scan(key, cands, m.m.window);

  // The open parcel at the machine's counters may carry the waybill.
  if (suspect && key.waybill) {
    std::vector<std::string> counters;
    for (const auto& [l, counter] : m.m.lane_counter)
      if ((l.empty() || l == scan.lane) &&
          std::find(counters.begin(), counters.end(), counter) == counters.end())
        counters.push_back(counter);
    for (const auto& c : counters) hooks_.feed(c, core::XraySuspect{*key.waybill, machine});
  }

  std::optional<core::Uuid> stored;
  if (scan.image) {
    storage::NewEvidence e;
    e.kind = "xray";
    e.source = machine;
    e.content_type = content_type_of(scan.image_file);
    e.captured_at = scan.time;
    e.bytes = std::move(*scan.image);
    e.binding = binding_of(b.how);
    e.held = !b.record_id;
    if (b.record_id) {
      e.record_id = core::Uuid::parse(*b.record_id);
      e.record_seq = b.seq;
    }
    e.meta = {{"scan_id", scan.scan_id},
              {"verdict", std::string(xr::to_string(scan.verdict))},
              {"lane", scan.lane},
              {"machine_time", core::format_utc(scan.time)},
              {"binding_reason", b.reason}};
    if (key.waybill) e.meta["waybill"] = *key.waybill;
    auto ref = store_->put(std::move(e));
    if (!ref) {
      ++m.errors;
      m.last_error = ref.error().code;
      spdlog::error("xray {}: scan not stored: {} ({}); it is handed over again at the next start",
                    machine, ref.error().message, ref.error().code);
      hooks_.event(event("storage_error", "alert",
                         "X-ray scan from " + machine + " not stored: " + ref.error().code));
      return;  // not confirmed: the files stay in the folder
    }
    stored = core::Uuid::parse(ref->id);
    if (hooks_.evidence_changed) hooks_.evidence_changed();
  }
  if (auto s = m.watcher->confirm(scan.scan_id); !s)
    spdlog::warn("xray {}: {}", machine, s.error().message);

  if (b.record_id) {
    bound(m, stored.value_or(core::Uuid{}), b, suspect, scan.lane);
    return;
  }
  if (suspect)
    hooks_.event(event("xray_suspect", "alert",
                       "X-ray " + machine + " lane " + scan.lane +
                           ": suspect verdict, not bound to a record yet (" + b.reason + ")"));
  if (stored) {
    waiting_.push_back(Waiting{
        *stored, index, key, suspect,
        scan.time + std::chrono::duration_cast<std::chrono::milliseconds>(m.m.window.before)});
  } else {
    ++m.unbound;
  }
}

void EvidenceDesk::bound(const Machine& m, const core::Uuid& id, const core::XrayBinding& b,
                         bool suspect, const std::string& lane) {
  const std::string& machine = m.m.folder.machine_id;
  spdlog::info("xray {}: scan bound to record {} by {}", machine, *b.seq, core::to_string(b.how));
  if (!suspect) return;
  suspect_[*b.seq] = machine;
  hooks_.event(event("xray_suspect", "alert",
                     "X-ray " + machine + " lane " + lane + ": suspect verdict on record " +
                         std::to_string(*b.seq) + " (bound by " +
                         std::string(core::to_string(b.how)) + ")",
                     b.seq));
  (void)id;
  const auto rec =
      std::find_if(recent_.begin(), recent_.end(), [&](const auto& c) { return c.seq == *b.seq; });
  if (rec != recent_.end())
    hooks_.say(rec->counter, core::PromptLevel::warning, "xray_suspect_accepted",
               "X-ray suspect on an accepted parcel (seq " + std::to_string(*b.seq) +
                   "): retrieve it, inspect it, then scan PG:RECHECK, its waybill, and OK or "
                   "REFUSE");
}

void EvidenceDesk::recheck(const std::string& counter, const std::string& waybill,
                           const core::Inspection& inspection) {
  const auto rec = std::find_if(recent_.rbegin(), recent_.rend(), [&](const auto& c) {
    return std::find(c.waybills.begin(), c.waybills.end(), waybill) != c.waybills.end();
  });
  if (rec == recent_.rend()) {
    hooks_.say(counter, core::PromptLevel::warning, "recheck_unknown_waybill",
               "no accepted parcel with this waybill among the recent records: nothing recorded");
    return;
  }
  const auto it = suspect_.find(rec->seq);
  const std::string after = it != suspect_.end()
                                ? "after an X-ray suspect verdict from " + it->second
                                : "no X-ray suspect verdict pending";
  const bool refused = inspection.outcome == core::InspectionOutcome::refuse;
  hooks_.event(event("xray_recheck", refused ? "alert" : "info",
                     "re-inspection of record " + std::to_string(rec->seq) + " at counter " +
                         counter + ": " + std::string(core::to_string(inspection.outcome)) +
                         (refused ? " (category " + inspection.refuse_category + ")" : "") + ", " +
                         after,
                     rec->seq));
  if (it != suspect_.end()) suspect_.erase(it);
}

void EvidenceDesk::retry_waiting() {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const Machine& m = *machines_[it->machine];
    const auto b = core::bind_xray_scan(it->key, candidates(m, it->key.lane), m.m.window);
    if (!b.record_id) {
      ++it;
      continue;
    }
    const auto rid = core::Uuid::parse(*b.record_id);
    if (rid) {
      if (auto s = store_->bind(it->id, *rid, *b.seq, binding_of(b.how)); !s)
        spdlog::warn("xray {}: binding failed: {}", m.m.folder.machine_id, s.error().message);
      else if (hooks_.evidence_changed)
        hooks_.evidence_changed();
    }
    bound(m, it->id, b, it->suspect, it->key.lane);
    it = waiting_.erase(it);
  }
}

void EvidenceDesk::arm_sweep() {
  sweep_timer_.expires_after(kSweepEvery);
  std::weak_ptr<int> alive = life_;
  sweep_timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    sweep();
    arm_sweep();
  });
}

void EvidenceDesk::sweep() {
  const auto now = clock_.now();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->until > now) {
      ++it;
      continue;
    }
    Machine& m = *machines_[it->machine];
    ++m.unbound;
    if (auto s = store_->release_unbound(it->id); !s)
      spdlog::warn("xray {}: {}", m.m.folder.machine_id, s.error().message);
    hooks_.event(event("xray_unbound", "warning",
                       "X-ray " + m.m.folder.machine_id + " lane " + it->key.lane +
                           ": scan bound to no record; kept as unbound"));
    if (hooks_.evidence_changed) hooks_.evidence_changed();
    it = waiting_.erase(it);
  }
}

json EvidenceDesk::devices_json() const {
  json out = json::array();
  for (const auto& [counter, slot] : cameras_) {
    out.push_back(
        {{"name", slot.cfg.id},
         {"kind", "camera"},
         {"counter", counter},
         {"transport", slot.cfg.source},
         {"state", slot.last_error.empty() || slot.failures == 0 ? "ready" : "failing"},
         {"captures", slot.captures},
         {"errors", slot.failures},
         {"last_error", slot.last_error.empty() ? json(nullptr) : json(slot.last_error)}});
  }
  for (const auto& m : machines_) {
    out.push_back({{"name", m->m.folder.machine_id},
                   {"kind", "xray"},
                   {"counter", m->m.lane_counter.empty() ? "" : m->m.lane_counter.begin()->second},
                   {"transport", "folder"},
                   {"state", m->state},
                   {"scans", m->scans},
                   {"suspect", m->suspect},
                   {"unbound", m->unbound},
                   {"orphans", m->orphans},
                   {"errors", m->errors},
                   {"last_error", m->last_error.empty() ? json(nullptr) : json(m->last_error)}});
  }
  return out;
}

}  // namespace postgate::daemon
