#pragma once
// postgated: one Asio loop on the main thread runs the local API, the
// counter workflows and the demo adapters; the record store's writer thread
// and one worker thread for blocking store reads hand their results back to
// the loop with asio::post, so all daemon state is touched by the loop only.
// The MQTT uplink, when configured, runs on the same loop (Paho's threads only
// post into it) and reaches the store through the outbox ports.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "adapters/demo/demo_counter.hpp"
#include "config/config.hpp"
#include "core/acceptance_policy.hpp"
#include "core/workflow.hpp"
#include "daemon/alerts.hpp"
#include "daemon/api_protocol.hpp"
#include "daemon/api_server.hpp"
#include "daemon/blocking_worker.hpp"
#include "daemon/device_manager.hpp"
#include "daemon/evidence_desk.hpp"
#include "daemon/id_photos.hpp"
#include "daemon/system_random.hpp"
#include "storage/record_store.hpp"
#include "uplink/uplink.hpp"

namespace postgate::daemon {

// Exit codes of postgated (docs/api.md): 78 is EX_CONFIG, which the unit
// does not restart on.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitConfig = 78;

class Daemon final : public ApiBackend {
 public:
  Daemon(asio::io_context& io, config::Config cfg);
  ~Daemon() override;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens the store and the socket and starts serving; on failure logs why
  // and returns the exit code to use.
  int start();
  // The exit code once the loop has returned.
  int exit_code() const { return exit_code_; }

  void submit(core::RawAcceptance raw, Reply reply) override;
  void status(Reply reply) override;
  void records(RecordsQuery query, Reply reply) override;
  void devices(Reply reply) override;
  void read_status(Reply reply);
  void read_records(RecordsQuery query, Reply reply);

 private:
  struct DemoRunner;
  using CommitDone = std::function<void(core::Result<storage::SubmitOk>)>;

  void wait_signal();
  void on_signal(int signo);
  void reload();
  void shutdown(const char* why);
  void flush_store();
  void after_flush();

  // Telemetry figures the uplink asks on the loop: cached, never blocking.
  json telemetry_json() const;
  void arm_health();
  void refresh_health();
  // Stamps id and time, stores it through the worker (add_event fsyncs),
  // then tells the uplink.
  void record_event(core::Event event);
  void storage_failure(const core::Error& error);

  void start_watchdog(std::chrono::microseconds interval);
  void watchdog_tick();
  void arm_tick();

  int open_evidence();
  void build_workflows();
  void start_adapters();
  void keep_photo(const std::string& counter, const std::string& device,
                  const std::string& doc_number, const std::vector<std::uint8_t>& photo);
  void stop_adapters();
  void schedule(DemoRunner& r);
  void deliver(DemoRunner& r);

  void feed(const std::string& counter, const core::WorkflowEvent& event);
  void perform(const std::string& counter, std::vector<core::WorkflowEffect> effects);
  // Stamps id and accepted_at, submits; `done` runs on the loop once durable.
  void commit(core::Acceptance acceptance, CommitDone done);
  void store_commit(core::Acceptance acceptance, CommitDone done);

  core::Date today() const;
  std::string status_text(const storage::StoreStats* stats) const;
  json devices_json() const;
  json counters_json() const;

  asio::io_context& io_;
  config::Config cfg_;
  core::WorkflowSettings workflow_settings_;
  core::SystemClock clock_;
  SystemRandom random_;
  std::unique_ptr<storage::RecordStore> store_;
  std::unique_ptr<BlockingWorker> worker_;  // uses store_; ~Daemon stops it first
  std::optional<uplink::UplinkConfig> uplink_cfg_;
  std::unique_ptr<uplink::Uplink> uplink_;  // uses store_; stopped and destroyed before it
  asio::steady_timer health_timer_;
  std::optional<std::uint64_t> disk_free_bytes_;  // of the storage directory
  std::string storage_health_ = "unknown";
  AlertLimiter storage_alerts_{std::chrono::minutes(1)};
  // Stable address: the workflows keep a pointer; a reload assigns into it.
  std::unique_ptr<core::AcceptancePolicy> policy_;
  std::map<std::string, std::unique_ptr<core::CounterWorkflow>> workflows_;
  std::vector<std::unique_ptr<DemoRunner>> demos_;
  std::unique_ptr<DeviceManager> devices_;  // the real devices (drivers)
  std::unique_ptr<IdPhotos> photos_;        // when a reader keeps photos
  // Cameras, X-ray folders and the evidence store; the uplink reads the
  // store: destroyed after the uplink, before the record store.
  std::unique_ptr<EvidenceDesk> evidence_;
  std::unique_ptr<ApiServer> api_;
  asio::signal_set signals_;
  asio::steady_timer tick_timer_;
  asio::steady_timer watchdog_timer_;
  std::chrono::steady_clock::duration watchdog_period_{};
  std::chrono::steady_clock::time_point started_at_;
  std::uint64_t in_flight_ = 0;  // submits not yet answered by the store
  // Read-your-writes: a read waits until every commit issued before it has
  // been answered. The store answers commits in the order they were issued
  // (one writer, FIFO), so counting answers is enough.
  std::uint64_t commits_issued_ = 0;
  std::uint64_t commits_answered_ = 0;
  std::deque<std::pair<std::uint64_t, std::function<void()>>> after_commits_;
  void after_earlier_commits(std::function<void()> fn);
  std::uint64_t committed_ = 0;  // since start, both sources
  std::uint64_t demo_generation_ = 0;
  bool stopping_ = false;
  int exit_code_ = kExitOk;
};

}  // namespace postgate::daemon
