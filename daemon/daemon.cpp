#include "daemon/daemon.hpp"

#include <sys/statvfs.h>

#include <csignal>

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "codec/record_json.hpp"
#include "core/identity.hpp"
#include "daemon/device_factory.hpp"
#include "daemon/logging.hpp"
#include "daemon/systemd_notify.hpp"
#include "daemon/wiring.hpp"

#ifndef POSTGATE_VERSION
#define POSTGATE_VERSION "unknown"
#endif

namespace postgate::daemon {

namespace {
// Records of one answer are capped by count (limit) and by this many bytes
// of stored payload, so one request cannot make the daemon hold the store.
constexpr std::size_t kRecordsMaxBytes = 64u << 20;
constexpr auto kShutdownDrain = std::chrono::seconds(10);
// How often the telemetry's disk and storage figures are refreshed.
constexpr auto kHealthPeriod = std::chrono::seconds(10);

std::optional<std::uint64_t> disk_free(const std::filesystem::path& dir) {
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
}
}  // namespace

struct Daemon::DemoRunner {
  DemoRunner(asio::io_context& io, adapters::demo::DemoCounter c)
      : counter(std::move(c)), timer(io) {}
  adapters::demo::DemoCounter counter;
  asio::steady_timer timer;
  std::optional<adapters::demo::DemoStep> pending;
  std::uint64_t events = 0;
  std::string state =
      "starting";  // starting, running, waiting_commit, finished, stopped, no_counter
  bool stopped = false;
  bool waiting_commit = false;
};

Daemon::Daemon(asio::io_context& io, config::Config cfg)
    : io_(io),
      cfg_(std::move(cfg)),
      workflow_settings_(make_workflow_settings(cfg_)),
      health_timer_(io),
      signals_(io, SIGTERM, SIGINT, SIGHUP),
      tick_timer_(io),
      watchdog_timer_(io),
      started_at_(std::chrono::steady_clock::now()) {}

Daemon::~Daemon() {
  for (auto& r : demos_) r->stopped = true;
  devices_.reset();
  api_.reset();
  // Without a stop() the broker publishes the will; either way the uplink
  // must be gone before the store it reads.
  uplink_.reset();
  evidence_.reset();
  // The worker finishes its queued store calls first (they need the store);
  // then the store's writer answers what is queued and stops. Their results
  // are posted to the loop, which will not run them again.
  worker_.reset();
  store_.reset();
}

core::Date Daemon::today() const {
  return local_today(clock_.now(), workflow_settings_.utc_offset);
}

int Daemon::start() {
  if (auto level = parse_log_level(cfg_.logging.level)) spdlog::set_level(*level);

  auto policy = make_policy(cfg_);
  if (!policy) {
    spdlog::error("config: {}: {}", policy.error().field, policy.error().message);
    return kExitConfig;
  }
  policy_ = std::make_unique<core::AcceptancePolicy>(std::move(*policy));

  if (cfg_.uplink) {
    auto u = make_uplink_config(cfg_, POSTGATE_VERSION);
    if (!u) {
      spdlog::error("config: {}: {}", u.error().field, u.error().message);
      return kExitConfig;
    }
    uplink_cfg_ = std::move(*u);
  }

  // Before the store is opened: a second daemon on the same socket must not
  // touch the first one's files.
  if (auto s = ApiServer::check_free(io_, cfg_.api.socket); !s) {
    spdlog::error("api: {}", s.error().message);
    return kExitFailure;
  }

  auto options = make_store_options(cfg_.storage);
  if (!options) {
    spdlog::error("storage key: {}: {}", options.error().field, options.error().message);
    return kExitFailure;
  }
  auto store = storage::RecordStore::open(std::move(*options));
  if (!store) {
    spdlog::error("storage: cannot open {}: {} ({})", cfg_.storage.path.string(),
                  store.error().message, store.error().code);
    return kExitFailure;
  }
  store_ = std::move(*store);
  worker_ = std::make_unique<BlockingWorker>();

  if (auto s = open_evidence(); s != kExitOk) return s;

  build_workflows();

  api_ = std::make_unique<ApiServer>(io_, *this, make_api_limits(cfg_.api));
  if (auto s = api_->listen(cfg_.api.socket); !s) {
    spdlog::error("api: {}", s.error().message);
    return kExitFailure;
  }

  auto stats = store_->stats();
  if (stats) storage_health_ = std::string(storage::to_string(stats->health));
  if (uplink_cfg_) {
    uplink_ = std::make_unique<uplink::Uplink>(
        io_, *uplink_cfg_, *store_, store_.get(), [this] { return telemetry_json(); }, clock_,
        random_);
    if (evidence_ && evidence_->store()) uplink_->set_evidence_outbox(evidence_->store());
    if (auto s = uplink_->start(); !s) {
      spdlog::error("uplink: {}: {}", s.error().field, s.error().message);
      uplink_.reset();
      return kExitConfig;
    }
    refresh_health();  // disk_free_bytes long before the first telemetry
  }

  wait_signal();
  arm_tick();
  if (auto wd = watchdog_interval()) start_watchdog(*wd);
  start_adapters();

  spdlog::info("postgated {} serving outlet {} on {} ({} counter(s), {} adapter(s)); store {}: {}",
               POSTGATE_VERSION, cfg_.outlet, cfg_.api.socket.string(), cfg_.counters.size(),
               demos_.size() + (devices_ ? devices_->size() : 0), cfg_.storage.path.string(),
               stats ? std::to_string(stats->records) + " records, last seq " +
                           std::to_string(stats->last_seq)
                     : "stats unavailable: " + stats.error().message);
  notify_ready(status_text(stats ? &*stats : nullptr));
  return kExitOk;
}

int Daemon::open_evidence() {
  auto ring = load_keyring(cfg_.storage);
  if (!ring) {
    spdlog::error("storage key: {}: {}", ring.error().field, ring.error().message);
    return kExitFailure;
  }
  evidence_ = std::make_unique<EvidenceDesk>(
      io_, clock_, random_, policy_->waybills(),
      EvidenceDesk::Hooks{
          .event = [this](core::Event e) { record_event(std::move(e)); },
          .feed = [this](const std::string& counter,
                         const core::WorkflowEvent& e) { feed(counter, e); },
          .say =
              [this](const std::string& counter, core::PromptLevel level, const std::string& code,
                     const std::string& message) {
                perform(counter, {core::Prompt{level, code, message}});
              },
          .evidence_changed =
              [this] {
                if (uplink_) uplink_->notify_new_evidence();
              },
      });
  if (auto s = evidence_->open(cfg_, std::move(*ring), workflow_settings_.utc_offset); !s) {
    const bool config =
        s.error().field.starts_with("cameras") || s.error().field.starts_with("xray");
    spdlog::error("{}: {}: {} ({})", config ? "config" : "evidence", s.error().field,
                  s.error().message, s.error().code);
    evidence_.reset();
    return config ? kExitConfig : kExitFailure;
  }
  // X-ray scans arriving after a restart may belong to records from before it.
  if (!cfg_.xray.empty()) {
    if (auto recent = store_->recent(2000))
      evidence_->seed_recent(*recent);
    else
      spdlog::warn("xray: recent records not read: {}", recent.error().message);
  }
  return kExitOk;
}

// ---------------------------------------------------------------- signals

void Daemon::wait_signal() {
  signals_.async_wait([this](boost::system::error_code ec, int signo) {
    if (ec) return;
    on_signal(signo);
    wait_signal();
  });
}

void Daemon::on_signal(int signo) {
  if (signo == SIGHUP) {
    if (stopping_) return;
    reload();
    return;
  }
  shutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT");
}

void Daemon::reload() {
  const auto file = cfg_.source;
  spdlog::info("reload: reading {}", file.string());
  auto loaded = config::load_file(file);
  if (!loaded) {
    spdlog::warn("reload: {} has {} problem(s); keeping the running configuration", file.string(),
                 loaded.error().size());
    for (const auto& p : loaded.error()) spdlog::warn("reload: {}", p.str());
    notify_status("reload refused: invalid configuration; running the previous one");
    return;
  }
  config::Config next = std::move(*loaded);
  const auto changes = diff_config(cfg_, next);
  std::optional<core::AcceptancePolicy> policy;
  if (changes.policy) {
    auto p = make_policy(next);
    if (!p) {
      spdlog::warn("reload: refused: {}: {}; keeping the running configuration", p.error().field,
                   p.error().message);
      return;
    }
    policy.emplace(std::move(*p));
  }
  for (const auto& what : changes.needs_restart)
    spdlog::warn("reload: {} changed: needs restart; ignored until then", what);

  // What cannot change at runtime stays as it is running.
  next.outlet = cfg_.outlet;
  next.storage = cfg_.storage;
  next.api.socket = cfg_.api.socket;
  next.workflow = cfg_.workflow;
  next.source = cfg_.source;
  next.uplink = cfg_.uplink;
  if (next.cameras != cfg_.cameras || next.xray != cfg_.xray ||
      next.evidence.upload != cfg_.evidence.upload ||
      next.evidence.max_item_bytes != cfg_.evidence.max_item_bytes ||
      next.evidence.max_total_bytes != cfg_.evidence.max_total_bytes)
    spdlog::warn("reload: cameras, xray or evidence changed: needs restart; ignored until then");
  next.cameras = cfg_.cameras;
  next.xray = cfg_.xray;
  next.evidence = cfg_.evidence;
  cfg_ = std::move(next);

  if (changes.log_level)
    if (auto level = parse_log_level(cfg_.logging.level)) spdlog::set_level(*level);
  if (changes.api_limits) api_->set_limits(make_api_limits(cfg_.api));
  if (policy) {
    *policy_ = std::move(*policy);
    build_workflows();
  }
  if (changes.adapters) {
    stop_adapters();
    start_adapters();
  }
  for (const auto& what : changes.applied) spdlog::info("reload: applied {}", what);
  if (changes.applied.empty() && changes.needs_restart.empty()) spdlog::info("reload: no changes");
  notify_status(status_text(nullptr));
}

void Daemon::shutdown(const char* why) {
  if (stopping_) {
    spdlog::info("{}: already stopping", why);
    return;
  }
  stopping_ = true;
  spdlog::info("{}: stopping; finishing {} commit(s) in flight", why, in_flight_);
  notify_stopping("stopping: finishing commits in flight");
  api_->stop_accepting();
  stop_adapters();
  if (evidence_) evidence_->stop();
  tick_timer_.cancel();
  health_timer_.cancel();
  if (!uplink_) return flush_store();
  // The uplink says goodbye (retained offline) while the store is still open:
  // it reads the store until it is stopped.
  uplink_->stop([this] {
    spdlog::info("stopping: uplink stopped; flushing the store");
    flush_store();
  });
}

void Daemon::flush_store() {
  // flush() blocks until every queued submit is answered; the answers were
  // posted to the loop before this job posts its own, so they run first.
  worker_->post([this] {
    store_->flush();
    asio::post(io_, [this] { after_flush(); });
  });
}

void Daemon::after_flush() {
  if (in_flight_ != 0) spdlog::warn("stopping: {} commit(s) still unanswered", in_flight_);
  api_->drain(kShutdownDrain, [this] {
    spdlog::info("stopped ({} record(s) committed since start)", committed_);
    signals_.cancel();
    watchdog_timer_.cancel();
    io_.stop();
  });
}

// ---------------------------------------------------------------- timers

void Daemon::start_watchdog(std::chrono::microseconds interval) {
  watchdog_period_ = interval / 2;
  spdlog::info("systemd watchdog: {} ms, pinging every {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(interval).count(),
               std::chrono::duration_cast<std::chrono::milliseconds>(watchdog_period_).count());
  notify_watchdog();
  watchdog_tick();
}

void Daemon::watchdog_tick() {
  watchdog_timer_.expires_after(watchdog_period_);
  watchdog_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    // The ping goes out from the loop, after a round trip through the store's
    // worker: a stuck loop or a hung store both stop it.
    worker_->post([this] {
      auto stats = store_->stats();
      asio::post(io_, [this, stats = std::move(stats)] {
        notify_watchdog();
        if (stats && stats->health != storage::Health::ok)
          spdlog::warn("storage: {}: {}", storage::to_string(stats->health), stats->last_error);
        notify_status(status_text(stats ? &*stats : nullptr));
        watchdog_tick();
      });
    });
  });
}

void Daemon::arm_tick() {
  tick_timer_.expires_after(std::chrono::seconds(1));
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    std::vector<std::string> ids;
    for (const auto& [id, wf] : workflows_) ids.push_back(id);
    for (const auto& id : ids) feed(id, core::Tick{});
    arm_tick();
  });
}

// ---------------------------------------------------------------- workflows

void Daemon::build_workflows() {
  std::map<std::string, std::unique_ptr<core::CounterWorkflow>> next;
  for (const auto& c : cfg_.counters) {
    auto it = workflows_.find(c.id);
    if (it != workflows_.end())
      next.emplace(c.id, std::move(it->second));  // keeps its session
    else
      next.emplace(c.id,
                   std::make_unique<core::CounterWorkflow>(c.id, workflow_settings_, *policy_));
  }
  workflows_ = std::move(next);
}

void Daemon::feed(const std::string& counter, const core::WorkflowEvent& event) {
  auto it = workflows_.find(counter);
  if (it == workflows_.end()) return;
  perform(counter, it->second->handle(event, clock_.now()));
}

void Daemon::perform(const std::string& counter, std::vector<core::WorkflowEffect> effects) {
  for (auto& effect : effects) {
    if (auto* p = std::get_if<core::Prompt>(&effect)) {
      // Prompts are masked by the workflow; they are what the counter screen shows.
      switch (p->level) {
        case core::PromptLevel::info:
          spdlog::debug("counter {}: {}: {}", counter, p->code, p->message);
          break;
        case core::PromptLevel::ok:
          spdlog::info("counter {}: {}: {}", counter, p->code, p->message);
          break;
        case core::PromptLevel::warning:
        case core::PromptLevel::error:
          spdlog::warn("counter {}: {}: {}", counter, p->code, p->message);
          break;
      }
      if (p->code == "prohibited_item")
        record_event(rejection_alert(counter, "counter", p->message));
      continue;
    }
    if (auto* r = std::get_if<core::Recheck>(&effect)) {
      if (evidence_)
        evidence_->recheck(counter, r->waybill, r->inspection);
      else
        spdlog::warn("counter {}: re-inspection not recorded: no evidence store", counter);
      continue;
    }
    auto& c = std::get<core::Commit>(effect);
    if (photos_)
      if (auto ref = photos_->for_commit(counter, c.acceptance.sender.number))
        c.acceptance.evidence.push_back(std::move(*ref));
    const core::CounterWorkflow* wf = workflows_.at(counter).get();
    commit(std::move(c.acceptance), [this, counter, wf](core::Result<storage::SubmitOk> r) {
      auto it = workflows_.find(counter);
      // The counter may have been removed by a reload meanwhile.
      if (it == workflows_.end() || it->second.get() != wf) return;
      if (r)
        feed(counter, core::CommitSucceeded{r->seq});
      else
        feed(counter, core::CommitFailed{r.error()});
      for (auto& d : demos_)
        if (d->waiting_commit && d->counter.counter() == counter) schedule(*d);
    });
  }
}

void Daemon::commit(core::Acceptance acceptance, CommitDone done) {
  if (!evidence_) return store_commit(std::move(acceptance), std::move(done));
  // The counter's camera may add its still first (or, when the still is
  // required and missing, fail the commit); afterwards the evidence desk
  // learns the record (X-ray binding) and drops stills nothing bound.
  const std::string counter = acceptance.counter;
  evidence_->before_commit(
      counter, std::move(acceptance),
      [this, counter, done = std::move(done)](core::Result<core::Acceptance> a) mutable {
        if (!a) return done(std::unexpected(a.error()));
        core::Acceptance kept;  // what the desk needs: counter, waybills, evidence ids
        kept.counter = a->counter;
        kept.waybills = a->waybills;
        kept.evidence = a->evidence;
        store_commit(std::move(*a), [this, counter, done = std::move(done),
                                     kept = std::move(kept)](core::Result<storage::SubmitOk> r) {
          if (evidence_) evidence_->after_commit(counter, kept, r);
          done(std::move(r));
        });
      });
}

void Daemon::store_commit(core::Acceptance acceptance, CommitDone done) {
  // Decided now, with the policy the acceptance was validated against.
  auto refusal = refusal_alert(acceptance, policy_->screener(), 0);
  core::Record rec;
  rec.accepted_at = clock_.now();
  rec.id = core::make_uuid_v7(rec.accepted_at, random_);
  rec.acceptance = std::move(acceptance);
  ++in_flight_;
  ++commits_issued_;
  store_->submit(std::move(rec), [this, done = std::move(done),
                                  refusal = std::move(refusal)](core::Result<storage::SubmitOk> r) {
    // On the store's writer thread: hand over to the loop at once.
    asio::post(io_, [this, done, refusal, r = std::move(r)]() mutable {
      --in_flight_;
      ++commits_answered_;
      if (r && !r->duplicate) {
        ++committed_;
        if (uplink_) uplink_->notify_new_records();
        if (refusal) {
          refusal->record_seq = r->seq;
          record_event(std::move(*refusal));
        }
      }
      if (!r) storage_failure(r.error());
      done(r);
      while (!after_commits_.empty() && after_commits_.front().first <= commits_answered_) {
        auto fn = std::move(after_commits_.front().second);
        after_commits_.pop_front();
        fn();
      }
    });
  });
}

void Daemon::after_earlier_commits(std::function<void()> fn) {
  if (commits_answered_ >= commits_issued_) return fn();
  after_commits_.emplace_back(commits_issued_, std::move(fn));
}

// ---------------------------------------------------------------- uplink and events

void Daemon::record_event(core::Event event) {
  event.at = clock_.now();
  event.id = core::make_uuid_v7(event.at, random_);
  spdlog::log(event.severity == "info" ? spdlog::level::info : spdlog::level::warn,
              "event {} ({}): {}", event.kind, event.severity, event.message);
  worker_->post([this, event = std::move(event)]() mutable {
    auto r = store_->add_event(event);  // a copy: kept for the unstored path
    asio::post(io_, [this, r = std::move(r), event = std::move(event)]() mutable {
      if (!r) {
        // The store failing is often the news itself (full disk): HQ gets
        // it anyway, from memory, if the link is up or comes up before a
        // restart.
        spdlog::warn("event not stored: {}: {}{}", r.error().code, r.error().message,
                     uplink_ ? "; sending it unstored" : "");
        if (uplink_) uplink_->send_transient_event(std::move(event));
        return;
      }
      if (uplink_) uplink_->notify_new_events();
    });
  });
}

void Daemon::storage_failure(const core::Error& error) {
  spdlog::warn("storage: commit failed: {}: {}", error.code, error.message);
  auto event = storage_alert(error);
  if (!event) return;
  // A full disk fails every commit: one event a minute per code is enough.
  auto held_back = storage_alerts_.allow(error.code, std::chrono::steady_clock::now());
  if (!held_back) return;
  if (*held_back > 0)
    event->message += " (" + std::to_string(*held_back) + " more since the previous event)";
  record_event(std::move(*event));
}

json Daemon::telemetry_json() const {
  return json{{"devices", devices_json()},
              {"disk_free_bytes", disk_free_bytes_ ? json(*disk_free_bytes_) : json(nullptr)},
              {"storage_health", storage_health_}};
}

void Daemon::arm_health() {
  health_timer_.expires_after(kHealthPeriod);
  health_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    refresh_health();
  });
}

void Daemon::refresh_health() {
  // statvfs and stats() may block on a sick disk: the worker does them.
  worker_->post([this, dir = cfg_.storage.path.parent_path()] {
    auto free = disk_free(dir);
    auto stats = store_->stats();
    std::string health = stats ? std::string(storage::to_string(stats->health)) : "error";
    asio::post(io_, [this, free, health = std::move(health)] {
      disk_free_bytes_ = free;
      storage_health_ = health;
      if (!stopping_) arm_health();
    });
  });
}

// ---------------------------------------------------------------- demo adapters

void Daemon::start_adapters() {
  ++demo_generation_;
  if (!devices_) {
    devices_ = std::make_unique<DeviceManager>(
        io_, clock_,
        DeviceManager::Callbacks{
            .input = [this](const std::string& counter,
                            const core::WorkflowEvent& e) { feed(counter, e); },
            .alert = [this](core::Event e) { record_event(std::move(e)); },
            .photo =
                [this](const std::string& counter, const std::string& device,
                       const std::string& number, const std::vector<std::uint8_t>& raw) {
                  keep_photo(counter, device, number, raw);
                },
        });
  }
  devices_->start(cfg_.adapters, workflow_settings_.utc_offset);
  for (const auto& a : cfg_.adapters) {
    if (is_device_kind(a.kind)) continue;
    if (a.kind != "demo") {
      spdlog::warn("adapter {}: kind \"{}\" is not supported by this build; skipped", a.name,
                   a.kind);
      continue;
    }
    auto r = std::make_unique<DemoRunner>(
        io_, adapters::demo::DemoCounter(a.name, a.counter, make_demo_settings(cfg_, a)));
    spdlog::info(
        "adapter {}: demo counter on {} ({} parcel(s)/s, {}, seed {})", a.name, a.counter,
        a.demo.rate_per_s,
        a.demo.count == 0 ? std::string("forever") : std::to_string(a.demo.count) + " parcels",
        a.demo.seed);
    demos_.push_back(std::move(r));
  }
  for (auto& r : demos_) schedule(*r);
}

void Daemon::keep_photo(const std::string& counter, const std::string& device,
                        const std::string& doc_number, const std::vector<std::uint8_t>& photo) {
  if (!photos_) {
    auto ring = load_keyring(cfg_.storage);
    if (!ring) {
      spdlog::error("device {}: photo not kept: key: {}", device, ring.error().message);
      return;
    }
    photos_ = std::make_unique<IdPhotos>(cfg_.storage.evidence_dir, ring->current);
  }
  if (auto s = photos_->keep(counter, device, doc_number, photo, clock_.now()); !s)
    spdlog::error("device {}: photo not kept: {} ({})", device, s.error().message, s.error().code);
}

void Daemon::stop_adapters() {
  if (devices_) devices_->stop();
  for (auto& r : demos_) {
    r->stopped = true;
    r->state = "stopped";
    r->timer.cancel();
  }
  // Their timer handlers may still be queued: keep the runners alive until
  // those have run (they see `stopped`).
  if (!demos_.empty()) asio::post(io_, [old = std::move(demos_)] {});
  demos_.clear();
}

void Daemon::schedule(DemoRunner& r) {
  if (r.stopped || stopping_) return;
  r.waiting_commit = false;
  auto it = workflows_.find(r.counter.counter());
  if (it == workflows_.end()) {
    r.state = "no_counter";
    return;
  }
  if (it->second->state() == core::CounterState::committing) {
    r.waiting_commit = true;
    r.state = "waiting_commit";
    return;
  }
  if (!r.pending) {
    r.pending = r.counter.next(it->second->state(), today());
    if (!r.pending) {
      r.state = "finished";
      spdlog::info("adapter {}: finished after {} parcel(s)", r.counter.name(),
                   r.counter.parcels_started());
      return;
    }
  }
  r.state = "running";
  r.timer.expires_after(r.pending->delay);
  r.timer.async_wait([this, &r, gen = demo_generation_](boost::system::error_code ec) {
    if (ec || gen != demo_generation_ || r.stopped) return;
    deliver(r);
  });
}

void Daemon::deliver(DemoRunner& r) {
  auto step = std::move(*r.pending);
  r.pending.reset();
  ++r.events;
  spdlog::trace("adapter {}: {}", r.counter.name(), step.what);
  feed(r.counter.counter(), step.event);
  schedule(r);
}

// ---------------------------------------------------------------- API

void Daemon::submit(core::RawAcceptance raw, Reply reply) {
  if (stopping_)
    return reply(error_answer("shutting_down", "", "the daemon is stopping; submit again later"));
  auto acceptance = policy_->validate(raw, today());
  if (!acceptance) {
    if (acceptance.error().code == "prohibited_item")
      record_event(rejection_alert(raw.counter, "api", acceptance.error().message));
    return reply(error_answer(acceptance.error()));
  }
  commit(std::move(*acceptance), [reply](core::Result<storage::SubmitOk> r) {
    if (!r) return reply(error_answer(r.error()));
    json answer{{"ok", true}, {"id", r->id.str()}, {"seq", r->seq}};
    if (r->duplicate) answer["duplicate"] = true;
    reply(std::move(answer));
  });
}

json Daemon::devices_json() const {
  json devices = json::array();
  for (const auto& r : demos_)
    devices.push_back({{"name", r->counter.name()},
                       {"kind", "demo"},
                       {"counter", r->counter.counter()},
                       {"state", r->state},
                       {"parcels", r->counter.parcels_started()},
                       {"events", r->events}});
  if (devices_)
    for (auto& d : devices_->to_json()) devices.push_back(std::move(d));
  if (evidence_)
    for (auto& d : evidence_->devices_json()) devices.push_back(std::move(d));
  return devices;
}

void Daemon::devices(Reply reply) {
  reply(json{{"ok", true}, {"devices", devices_json()}});
}

json Daemon::counters_json() const {
  json counters = json::array();
  for (const auto& c : cfg_.counters) {
    json j{{"id", c.id}, {"name", c.name}, {"state", "unknown"}, {"operator", nullptr}};
    if (auto it = workflows_.find(c.id); it != workflows_.end()) {
      j["state"] = std::string(core::to_string(it->second->state()));
      if (const auto& op = it->second->operator_id()) j["operator"] = *op;
    }
    counters.push_back(std::move(j));
  }
  return counters;
}

void Daemon::status(Reply reply) {
  after_earlier_commits(
      [this, reply = std::move(reply)]() mutable { read_status(std::move(reply)); });
}

void Daemon::read_status(Reply reply) {
  json s{{"outlet", cfg_.outlet},
         {"version", POSTGATE_VERSION},
         {"uptime_s", std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - started_at_)
                          .count()},
         {"clients", api_ ? api_->clients() : 0},
         {"in_flight", in_flight_},
         {"stopping", stopping_},
         {"devices", devices_json()},
         {"counters", counters_json()}};
  worker_->post([this, s = std::move(s), reply = std::move(reply)]() mutable {
    auto stats = store_->stats();
    asio::post(io_, [this, s = std::move(s), reply = std::move(reply),
                     stats = std::move(stats)]() mutable {
      json storage{{"path", cfg_.storage.path.string()}};
      if (stats) {
        s["records"] = stats->records;
        s["pending"] = stats->pending;
        s["last_seq"] = stats->last_seq;
        storage["health"] = std::string(storage::to_string(stats->health));
        storage["bytes"] = stats->file_bytes;
        storage["last_error"] = stats->last_error.empty() ? json(nullptr) : json(stats->last_error);
        if (stats->oldest_pending) s["oldest_pending"] = core::format_utc(*stats->oldest_pending);
      } else {
        s["records"] = nullptr;
        s["pending"] = nullptr;
        s["last_seq"] = nullptr;
        storage["health"] = "error";
        storage["bytes"] = nullptr;
        storage["last_error"] = stats.error().message;
      }
      s["storage"] = std::move(storage);
      s["uplink"] = uplink_ ? uplink::to_json(uplink_->status()) : json(nullptr);
      reply(json{{"ok", true}, {"status", std::move(s)}});
    });
  });
}

void Daemon::records(RecordsQuery q, Reply reply) {
  after_earlier_commits(
      [this, q, reply = std::move(reply)]() mutable { read_records(q, std::move(reply)); });
}

void Daemon::read_records(RecordsQuery q, Reply reply) {
  worker_->post([this, q, reply = std::move(reply)]() mutable {
    auto rows = q.pending ? store_->pending_after(q.after, q.limit, kRecordsMaxBytes)
                          : store_->recent(q.limit);
    // Masking and encoding stay on the worker: they are the costly part.
    json answer;
    if (!rows) {
      answer = error_answer(rows.error());
    } else {
      json list = json::array();
      for (const auto& r : *rows) list.push_back(codec::record_to_json(r, codec::Masking::masked));
      answer = json{{"ok", true}, {"records", std::move(list)}};
    }
    asio::post(io_, [reply = std::move(reply), answer = std::move(answer)]() mutable {
      reply(std::move(answer));
    });
  });
}

std::string Daemon::status_text(const storage::StoreStats* stats) const {
  std::string s = "serving " + cfg_.outlet + ": ";
  if (stats) {
    s += std::to_string(stats->records) + " records, " + std::to_string(stats->pending) +
         " pending, storage " + std::string(storage::to_string(stats->health));
  } else {
    s += std::to_string(committed_) + " committed since start";
  }
  s += ", " + std::to_string(api_ ? api_->clients() : 0) + " client(s)";
  return s;
}

}  // namespace postgate::daemon
