#pragma once
// Watches one X-ray machine's export folder. The machine writes, for each
// scan, an image and a result file naming it; this pairs them once both are
// complete, hands the scan over, and archives the files when the daemon says
// the scan is durable (confirm). Runs on the daemon's single Asio thread.
//
// Files are judged by what stat says, never by inotify events alone: events
// only say which name to look at again, so a lost or coalesced event cannot
// lose a file, and a queue overflow is a full listing of the folder. Work is
// bounded per turn of the loop (files_per_turn), so a burst of thousands of
// files never starves the rest of the daemon.
//
// Not handled: a writer that keeps a file open and pauses longer than
// `settle` between writes (the half file counts as complete). Machines that
// write that way need a longer settle.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "adapters/device.hpp"
#include "adapters/xray/folder_archive.hpp"
#include "adapters/xray/folder_settings.hpp"
#include "adapters/xray/inotify_watch.hpp"
#include "adapters/xray/xray_scan.hpp"
#include "core/time.hpp"
#include "core/waybill.hpp"

namespace postgate::adapters::xray {

class XrayFolderWatcher final : public Device {
 public:
  // `settings` must pass validate(); `waybills` is the outlet's configured
  // validator (carrier rules); `clock` must outlive the watcher.
  XrayFolderWatcher(boost::asio::io_context& io, XrayFolderSettings settings, XraySink sink,
                    core::WaybillValidator waybills, const core::Clock& clock);
  ~XrayFolderWatcher() override;

  // Device: start() watches the folder (or waits for it to appear) and
  // examines every file already there; stop() ends all callbacks.
  void start() override;
  void stop() override;
  DeviceState state() const override { return state_; }
  const std::string& detail() const { return detail_; }

  // The scan is durable: archives its result file and image in done/.
  // Error "unknown_scan" (never handed over by this run, or already
  // confirmed) or "archive_failed" (the files stay and are handed over again
  // after a restart). May be called from inside on_scan.
  core::Status confirm(const std::string& scan_id);

  // Lists the folder again and re-examines every file, as after an inotify
  // queue overflow. Nothing handed over is handed over twice.
  void rescan();

  // Handed over, not yet confirmed.
  std::size_t awaiting_confirm() const { return handed_.size(); }
  // Files seen and not yet handed over, rejected or archived.
  std::size_t tracked_files() const { return files_.size() - handed_files(); }

 private:
  enum class Kind { result, image };
  struct File {
    Kind kind = Kind::image;
    std::uintmax_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t inode = 0;
    core::TimePoint changed_at{};
    core::TimePoint complete_at{};
    bool finished = false;  // a writer closed it or moved it in since it changed
    bool complete = false;
    bool handed = false;    // part of a scan handed over, awaiting confirm
    bool given_up = false;  // could not be archived; left alone until it changes
    std::optional<core::TimePoint> deadline;
    // Result files, once parsed.
    std::optional<XrayResult> result;
    std::string sha256;
  };
  struct Handed {
    std::string result_file;
    std::string hash16;
    std::optional<std::filesystem::path> image_path;  // in the folder or orphans/
    bool image_in_folder = false;
    std::string image_file;
  };

  void attach();
  void detach(DeviceState s, const std::string& detail);
  void set_state(DeviceState s, const std::string& detail);
  void schedule_retry();

  // `finished`: what the latest inotify event said; nullopt: no news (a
  // listing or a deadline).
  void enqueue(std::string_view name, std::optional<bool> finished);
  void kick();
  void work();
  void arm_deadline();
  void deadline_fired();

  void examine(const std::string& name, bool finished);
  void handle_result(const std::string& name, File& f);
  void handle_image(const std::string& name, File& f);
  void try_pair(const std::string& name, File& f);
  void deliver(const std::string& name, File& f, std::optional<std::filesystem::path> image);
  void forget(const std::string& name);
  void reject(const std::string& name, Bin bin, const core::Error& why);
  std::optional<Kind> kind_of(std::string_view name) const;
  std::size_t handed_files() const;

  bool error(std::string code, std::string detail);
  bool active() const { return started_ && !stopped_; }

  boost::asio::io_context& io_;
  XrayFolderSettings settings_;
  XraySink sink_;
  core::WaybillValidator waybills_;
  const core::Clock& clock_;
  FolderArchive archive_;
  InotifyWatch watch_;
  boost::asio::steady_timer deadline_timer_;
  boost::asio::steady_timer retry_timer_;

  std::map<std::string, File> files_;
  std::map<std::string, std::string> awaited_images_;  // image -> result naming it
  std::map<std::string, Handed> handed_;               // scan_id ->
  std::deque<std::string> queue_;
  std::unordered_map<std::string, bool> queued_;  // name -> finished
  bool work_posted_ = false;

  DeviceState state_ = DeviceState::absent;
  std::string detail_ = "not started";
  bool reported_ = false;
  bool started_ = false;
  bool stopped_ = false;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace postgate::adapters::xray
