#pragma once
// The daemon's evidence desk: counter cameras, X-ray folders and the
// evidence store, tied to the counter workflow (docs/operations.md,
// "Evidence").
//
// - Cameras: a still per parcel at the counter's step. `inspection`: taken
//   when the Commit effect comes out of the workflow, stored held and listed
//   in the acceptance, so the record commit binds it; `required` makes a
//   missing still fail the commit (staff retry or cancel). `committed`:
//   taken after the commit and bound to the record at once.
// - X-ray: every scan is stored (idempotently by scan id), bound to a recent
//   record by waybill or by lane and time; a scan that binds to nothing yet
//   waits (held) until its window has passed, and every later commit gets a
//   chance to claim it; then it is kept as unbound and reported. A suspect
//   verdict goes to HQ at once (event xray_suspect), flags the open parcel
//   carrying its waybill at the machine's counters (XraySuspect), and is
//   reported to the counter of an already accepted record.
// All on the loop thread.
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "adapters/camera/camera.hpp"
#include "adapters/xray/xray_folder_watcher.hpp"
#include "config/config.hpp"
#include "core/outbox.hpp"
#include "core/record.hpp"
#include "core/waybill.hpp"
#include "core/workflow.hpp"
#include "core/xray_binding.hpp"
#include "daemon/evidence_wiring.hpp"
#include "storage/evidence_store.hpp"
#include "storage/record_store.hpp"

namespace postgate::daemon {

class EvidenceDesk {
 public:
  struct Hooks {
    std::function<void(core::Event)> event;
    std::function<void(const std::string& counter, const core::WorkflowEvent&)> feed;
    // A counter-screen message that does not come from the workflow.
    std::function<void(const std::string& counter, core::PromptLevel, const std::string& code,
                       const std::string& message)>
        say;
    std::function<void()> evidence_changed;  // the uplink should look again
  };

  EvidenceDesk(boost::asio::io_context& io, const core::Clock& clock, core::RandomSource& random,
               core::WaybillValidator waybills, Hooks hooks);
  ~EvidenceDesk();
  EvidenceDesk(const EvidenceDesk&) = delete;
  EvidenceDesk& operator=(const EvidenceDesk&) = delete;

  // Opens the store (after the record store) and starts cameras and X-ray
  // watchers. Errors are config or storage errors: the daemon does not start.
  core::Status open(const config::Config& cfg, storage::KeyRing keys,
                    std::chrono::minutes utc_offset);
  // Recent records, so scans arriving after a restart still bind.
  void seed_recent(const std::vector<core::Record>& records);
  void stop();

  storage::SqliteEvidenceStore* store() { return store_.get(); }

  using Proceed = std::function<void(core::Result<core::Acceptance>)>;
  // Before the store sees the acceptance: adds the counter's still when its
  // camera captures on inspection. `proceed` runs exactly once, maybe inline.
  void before_commit(const std::string& counter, core::Acceptance acceptance, Proceed proceed);
  // The store answered: held items the commit did not bind are discarded,
  // waiting scans get a chance to bind, `committed` cameras capture.
  void after_commit(const std::string& counter, const core::Acceptance& acceptance,
                    const core::Result<storage::SubmitOk>& answer);

  // Staff re-inspected an accepted parcel (PG:RECHECK): the outcome is
  // recorded against its record (event xray_recheck) and clears a suspect
  // X-ray verdict pending on it.
  void recheck(const std::string& counter, const std::string& waybill,
               const core::Inspection& inspection);

  // Cameras and X-ray machines, for `op: devices` and telemetry.
  nlohmann::json devices_json() const;

 private:
  struct CameraSlot {
    config::CameraConfig cfg;
    std::unique_ptr<adapters::Camera> camera;
    std::uint64_t captures = 0, failures = 0;
    std::string last_error;
    // A camera takes one still at a time; requests meanwhile (API submits
    // for the same counter) wait their turn, at most kMaxQueued of them.
    bool busy = false;
    struct Request {
      std::function<void(core::Result<core::EvidenceRef>)> done;
      std::optional<storage::SubmitOk> committed;
    };
    std::deque<Request> queued;
  };
  struct Machine {
    XrayMachine m;
    std::unique_ptr<adapters::xray::XrayFolderWatcher> watcher;
    std::uint64_t scans = 0, suspect = 0, unbound = 0, errors = 0, orphans = 0;
    std::string state = "absent", detail, last_error;
  };
  struct Waiting {
    core::Uuid id;
    std::size_t machine = 0;
    core::XrayScanKey key;
    bool suspect = false;
    core::TimePoint until{};
  };

  void capture(CameraSlot& slot, std::function<void(core::Result<core::EvidenceRef>)> done,
               std::optional<storage::SubmitOk> committed);
  void start_capture(CameraSlot& slot, std::function<void(core::Result<core::EvidenceRef>)> done,
                     std::optional<storage::SubmitOk> committed);
  void on_scan(std::size_t machine, adapters::xray::XrayScan scan);
  std::vector<core::XrayCandidate> candidates(const Machine& m, const std::string& lane) const;
  void bound(const Machine& m, const core::Uuid& id, const core::XrayBinding& b, bool suspect,
             const std::string& lane);
  void retry_waiting();
  void arm_sweep();
  void sweep();
  void remember(const core::Acceptance& a, const storage::SubmitOk& ok);

  boost::asio::io_context& io_;
  const core::Clock& clock_;
  core::RandomSource& random_;
  core::WaybillValidator waybills_;
  Hooks hooks_;
  std::unique_ptr<storage::SqliteEvidenceStore> store_;
  std::map<std::string, CameraSlot> cameras_;  // by counter
  std::vector<std::unique_ptr<Machine>> machines_;
  std::deque<core::XrayCandidate> recent_;
  std::vector<Waiting> waiting_;
  std::map<std::uint64_t, std::string> suspect_;  // record seq -> machine, until rechecked
  boost::asio::steady_timer sweep_timer_;
  bool stopped_ = false;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace postgate::daemon
