// The folder watcher on a real temporary folder with a real io_context and
// the real clock: short settle and pair timeouts keep it quick.
#include "adapters/xray/xray_folder_watcher.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>

namespace postgate::adapters::xray {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Recorder {
  std::vector<XrayScan> scans;
  std::vector<std::pair<OrphanKind, std::string>> orphans;
  std::vector<DeviceError> errors;
  std::vector<std::pair<DeviceState, std::string>> states;
  std::function<void(const XrayScan&)> also;

  XraySink sink() {
    return XraySink{[this](XrayScan s) {
                      scans.push_back(std::move(s));
                      if (also) also(scans.back());
                    },
                    [this](OrphanKind k, const std::string& f) { orphans.emplace_back(k, f); },
                    [this](const DeviceError& e) { errors.push_back(e); },
                    [this](DeviceState s, const std::string& d) { states.emplace_back(s, d); }};
  }
};

std::string result_json(const std::string& image, const std::string& verdict = "PASS",
                        const std::string& lane = "1") {
  return R"({"lane":")" + lane + R"(","time":"2026-11-23T08:15:30","waybill":null,"verdict":")" +
         verdict + R"(","image":")" + image + "\"}";
}

void write_file(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file()) ++n;
  return n;
}

class XrayWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/postgate-xray-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    folder_ = root_ / "export";
    fs::create_directory(folder_);
  }
  void TearDown() override {
    watcher_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  XrayFolderSettings settings() const {
    XrayFolderSettings s;
    s.machine_id = "xr1";
    s.folder = folder_;
    s.mapping.format = ResultFormat::json;
    s.mapping.lane = "lane";
    s.mapping.time = "time";
    s.mapping.waybill = "waybill";
    s.mapping.verdict = "verdict";
    s.mapping.image = "image";
    s.mapping.time_format.utc_offset = 8h;
    s.mapping.clear_words = {"PASS"};
    s.mapping.suspect_words = {"ALARM"};
    s.settle = 100ms;
    s.pair_timeout = 400ms;
    s.retry = 50ms;
    return s;
  }

  void start(XrayFolderSettings s) {
    EXPECT_TRUE(validate(s));
    watcher_ = std::make_unique<XrayFolderWatcher>(io_, std::move(s), rec_.sink(),
                                                   core::WaybillValidator{}, clock_);
    watcher_->start();
  }
  void start() { start(settings()); }

  // Runs the loop until `done` or `limit` passes.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      io_.restart();
      io_.run_for(5ms);
    }
    return true;
  }
  void run_for(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
  }

  fs::path archive(const char* bin) const { return folder_ / ".postgate" / bin; }

  fs::path root_, folder_;
  boost::asio::io_context io_;
  core::SystemClock clock_;
  Recorder rec_;
  std::unique_ptr<XrayFolderWatcher> watcher_;
};

TEST_F(XrayWatcherTest, PairIsHandedOverThenArchivedOnConfirm) {
  auto settings_with_slash = settings();
  settings_with_slash.folder = folder_ / "";  // "/tmp/.../export/"
  start(settings_with_slash);
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "0001.jpg", "JPEGDATA");
  write_file(folder_ / "0001.json", result_json("0001.jpg", "alarm"));
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  const auto& s = rec_.scans[0];
  EXPECT_EQ(s.machine_id, "xr1");
  EXPECT_EQ(s.result_file, "0001.json");
  EXPECT_TRUE(s.scan_id.starts_with("xr1:0001.json:"));
  EXPECT_EQ(s.scan_id.size(), std::string("xr1:0001.json:").size() + 16);
  EXPECT_EQ(s.lane, "1");
  EXPECT_EQ(core::format_utc(s.time), "2026-11-23T00:15:30.000Z");
  EXPECT_EQ(s.verdict, Verdict::suspect);
  ASSERT_TRUE(s.image);
  EXPECT_EQ(std::string(s.image->begin(), s.image->end()), "JPEGDATA");
  EXPECT_EQ(s.image_sha256.size(), 64u);
  EXPECT_EQ(watcher_->awaiting_confirm(), 1u);
  EXPECT_TRUE(fs::exists(folder_ / "0001.json"));  // not before confirm

  ASSERT_TRUE(watcher_->confirm(s.scan_id));
  EXPECT_FALSE(fs::exists(folder_ / "0001.json"));
  EXPECT_FALSE(fs::exists(folder_ / "0001.jpg"));
  const auto hash16 = s.result_sha256.substr(0, 16);
  EXPECT_TRUE(fs::exists(archive("done") / (hash16 + "-0001.json")));
  EXPECT_EQ(read_file(archive("done") / (hash16 + "-0001.jpg")), "JPEGDATA");
  EXPECT_EQ(watcher_->awaiting_confirm(), 0u);
  EXPECT_EQ(watcher_->confirm(s.scan_id).error().code, "unknown_scan");
  run_for(300ms);
  EXPECT_EQ(rec_.scans.size(), 1u);
  EXPECT_TRUE(rec_.errors.empty());
  EXPECT_TRUE(rec_.orphans.empty());
}

TEST_F(XrayWatcherTest, PartialWriteWaitsForTheWholeImage) {
  auto s = settings();
  s.settle = 400ms;
  start(s);
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  const std::string image(200'000, 'x');
  std::ofstream out(folder_ / "big.jpg", std::ios::binary);
  out.write(image.data(), 100'000);
  out.flush();
  write_file(folder_ / "big.json", result_json("big.jpg"));
  run_for(150ms);  // less than settle: the image is still open
  EXPECT_TRUE(rec_.scans.empty());
  out.write(image.data() + 100'000, 100'000);
  out.close();
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  ASSERT_TRUE(rec_.scans[0].image);
  EXPECT_EQ(rec_.scans[0].image->size(), image.size());
  run_for(200ms);
  EXPECT_EQ(rec_.scans.size(), 1u);
}

TEST_F(XrayWatcherTest, SettleCompletesAFileWithoutCloseEvent) {
  // Files already there at start have no events: settle decides.
  write_file(folder_ / "a.jpg", "IMG");
  write_file(folder_ / "a.json", result_json("a.jpg"));
  start();
  run_for(50ms);
  EXPECT_TRUE(rec_.scans.empty());
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  EXPECT_TRUE(rec_.scans[0].image);
}

TEST_F(XrayWatcherTest, EmptyFilesWaitForTheirContent) {
  // A writer that creates its files and pauses longer than settle before
  // writing them.
  start();
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "e.jpg", "");
  write_file(folder_ / "e.json", "");
  run_for(300ms);
  EXPECT_TRUE(rec_.scans.empty());
  EXPECT_TRUE(rec_.errors.empty());
  EXPECT_EQ(watcher_->tracked_files(), 2u);
  write_file(folder_ / "e.jpg", "IMG");
  write_file(folder_ / "e.json", result_json("e.jpg"));
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  ASSERT_TRUE(rec_.scans[0].image);
  EXPECT_EQ(rec_.scans[0].image->size(), 3u);
}

TEST_F(XrayWatcherTest, EmptyImageDoesNotHoldTheResultBack) {
  start();
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "z.jpg", "");
  write_file(folder_ / "z.json", result_json("z.jpg"));
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  EXPECT_FALSE(rec_.scans[0].image);
  ASSERT_EQ(rec_.orphans.size(), 1u);
  EXPECT_EQ(rec_.orphans[0].first, OrphanKind::result);
}

TEST_F(XrayWatcherTest, ResultWithoutImageIsAnOrphanAndStillAScan) {
  start();
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "lone.json", result_json("never.jpg", "ALARM"));
  run_for(200ms);
  EXPECT_TRUE(rec_.scans.empty());
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  ASSERT_EQ(rec_.orphans.size(), 1u);
  EXPECT_EQ(rec_.orphans[0].first, OrphanKind::result);
  EXPECT_EQ(rec_.orphans[0].second, "lone.json");
  EXPECT_FALSE(rec_.scans[0].image);
  EXPECT_EQ(rec_.scans[0].image_file, "never.jpg");
  EXPECT_EQ(rec_.scans[0].verdict, Verdict::suspect);
  ASSERT_TRUE(watcher_->confirm(rec_.scans[0].scan_id));
  EXPECT_EQ(count_files(archive("done")), 1u);
}

TEST_F(XrayWatcherTest, ImageWithoutResultIsAnOrphanAndPairsLater) {
  start();
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "late.jpg", "IMG");
  ASSERT_TRUE(run_until([&] { return rec_.orphans.size() == 1; }));
  EXPECT_EQ(rec_.orphans[0].first, OrphanKind::image);
  EXPECT_EQ(rec_.orphans[0].second, "late.jpg");
  EXPECT_FALSE(fs::exists(folder_ / "late.jpg"));
  EXPECT_TRUE(fs::exists(archive("orphans") / "late.jpg"));
  EXPECT_TRUE(rec_.scans.empty());

  // Its result file turns up after all: the image is found in orphans/.
  write_file(folder_ / "late.json", result_json("late.jpg"));
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  ASSERT_TRUE(rec_.scans[0].image);
  ASSERT_TRUE(watcher_->confirm(rec_.scans[0].scan_id));
  EXPECT_FALSE(fs::exists(archive("orphans") / "late.jpg"));
  EXPECT_EQ(count_files(archive("done")), 2u);
}

TEST_F(XrayWatcherTest, MalformedResultIsRejectedOnce) {
  start();
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "bad.json", "{\"lane\":");
  write_file(folder_ / "nolane.json", R"({"time":"2026-11-23T08:15:30","verdict":"PASS",
                                          "image":"x.jpg"})");
  write_file(folder_ / "evil.json", result_json("../../etc/passwd"));
  ASSERT_TRUE(run_until([&] { return rec_.errors.size() == 3; }));
  std::map<std::string, std::string> by_code;
  for (const auto& e : rec_.errors) by_code[e.code] = e.detail;
  EXPECT_TRUE(by_code["bad_json"].starts_with("bad.json: "));
  EXPECT_EQ(by_code["missing_field"],
            "nolane.json: lane: field missing or empty; moved to rejected/");
  EXPECT_TRUE(by_code.contains("bad_image_name"));
  EXPECT_EQ(count_files(archive("rejected")), 3u);
  EXPECT_EQ(count_files(folder_), 0u);
  watcher_->rescan();
  run_for(300ms);
  EXPECT_EQ(rec_.errors.size(), 3u);
  EXPECT_TRUE(rec_.scans.empty());
}

TEST_F(XrayWatcherTest, DuplicateIsReportedNotDeliveredTwice) {
  rec_.also = [&](const XrayScan& s) { EXPECT_TRUE(watcher_->confirm(s.scan_id)); };
  start();
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "d.jpg", "IMG");
  write_file(folder_ / "d.json", result_json("d.jpg"));
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  EXPECT_EQ(count_files(archive("done")), 2u);

  // The same pair copied in again.
  write_file(folder_ / "d.jpg", "IMG");
  write_file(folder_ / "d.json", result_json("d.jpg"));
  ASSERT_TRUE(run_until([&] { return !rec_.errors.empty(); }));
  EXPECT_EQ(rec_.errors[0].code, "duplicate");
  run_for(600ms);  // past pair_timeout: no orphan either
  EXPECT_EQ(rec_.scans.size(), 1u);
  EXPECT_TRUE(rec_.orphans.empty());
  EXPECT_EQ(count_files(archive("duplicates")), 2u);
  EXPECT_EQ(count_files(folder_), 0u);

  // Same name, new content: a new scan.
  write_file(folder_ / "d.jpg", "IMG2");
  write_file(folder_ / "d.json", result_json("d.jpg", "ALARM"));
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 2; }));
  EXPECT_NE(rec_.scans[1].scan_id, rec_.scans[0].scan_id);
}

TEST_F(XrayWatcherTest, UnconfirmedScanIsDeliveredAgainAfterRestart) {
  start();
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "r.jpg", "IMG");
  write_file(folder_ / "r.json", result_json("r.jpg"));
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  const auto id = rec_.scans[0].scan_id;
  watcher_->stop();
  watcher_.reset();

  start();
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 2; }));
  EXPECT_EQ(rec_.scans[1].scan_id, id);
  ASSERT_TRUE(watcher_->confirm(id));
  watcher_.reset();
  start();
  run_for(400ms);
  EXPECT_EQ(rec_.scans.size(), 2u);
}

TEST_F(XrayWatcherTest, RescanNeverHandsOverTwice) {
  start();
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "o.jpg", "IMG");
  write_file(folder_ / "o.json", result_json("o.jpg"));
  // As if the event queue had overflowed at once and again later.
  watcher_->rescan();
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  watcher_->rescan();
  watcher_->rescan();
  run_for(300ms);
  EXPECT_EQ(rec_.scans.size(), 1u);
  EXPECT_EQ(watcher_->tracked_files(), 0u);
}

TEST_F(XrayWatcherTest, RescanFindsFilesWhoseEventsWereLost) {
  // Moved in while the watch was closed (as if its events were lost), then
  // the folder is listed again.
  start();
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  watcher_->stop();
  write_file(folder_ / "lost.jpg", "IMG");
  write_file(folder_ / "lost.json", result_json("lost.jpg"));
  watcher_.reset();
  start();
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
}

TEST_F(XrayWatcherTest, OversizeImageIsRejectedAndTheScanGoesOn) {
  auto s = settings();
  s.max_image_bytes = 10;
  start(s);
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(folder_ / "h.jpg", std::string(11, 'x'));
  write_file(folder_ / "h.json", result_json("h.jpg"));
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  EXPECT_FALSE(rec_.scans[0].image);
  ASSERT_EQ(rec_.errors.size(), 1u);
  EXPECT_EQ(rec_.errors[0].code, "image_too_large");
  EXPECT_TRUE(fs::exists(archive("rejected") / "h.jpg"));
}

TEST_F(XrayWatcherTest, FolderAbsentThenPresentThenRemoved) {
  auto s = settings();
  s.folder = root_ / "later";
  start(s);
  ASSERT_TRUE(run_until([&] { return !rec_.states.empty(); }));
  EXPECT_EQ(rec_.states.back().first, DeviceState::absent);
  fs::create_directory(root_ / "later");
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));
  write_file(root_ / "later" / "p.jpg", "IMG");
  write_file(root_ / "later" / "p.json", result_json("p.jpg"));
  ASSERT_TRUE(run_until([&] { return rec_.scans.size() == 1; }));
  fs::remove_all(root_ / "later");
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::absent; }));
  EXPECT_EQ(rec_.states.back().second, "folder removed");
  EXPECT_EQ(watcher_->confirm(rec_.scans[0].scan_id).error().code, "archive_failed");
}

TEST_F(XrayWatcherTest, BurstOfAThousandPairsKeepsTheLoopResponsive) {
  constexpr int kPairs = 1000;
  rec_.also = [&](const XrayScan& s) { EXPECT_TRUE(watcher_->confirm(s.scan_id)); };
  auto s = settings();
  s.pair_timeout = 5s;  // the writer thread may be descheduled on a loaded machine
  start(s);
  ASSERT_TRUE(run_until([&] { return watcher_->state() == DeviceState::attached; }));

  // A timer due every 20 ms measures how late the loop runs it.
  std::chrono::steady_clock::duration worst{};
  boost::asio::steady_timer tick(io_);
  std::function<void()> arm = [&] {
    const auto due = std::chrono::steady_clock::now() + 20ms;
    tick.expires_at(due);
    tick.async_wait([&, due](const boost::system::error_code& ec) {
      if (ec) return;
      worst = std::max(worst, std::chrono::steady_clock::now() - due);
      arm();
    });
  };
  arm();

  std::atomic<bool> written{false};
  std::thread writer([&] {
    for (int i = 0; i < kPairs; ++i) {
      const auto n = std::to_string(10000 + i);
      write_file(folder_ / (n + ".jpg"), "IMAGE-" + n);
      write_file(folder_ / (n + ".json"), result_json(n + ".jpg"));
    }
    written = true;
  });
  const bool all = run_until([&] { return rec_.scans.size() >= kPairs; }, 60s);
  writer.join();
  tick.cancel();
  if (!all) {
    std::string left;
    for (const auto& e : fs::directory_iterator(folder_))
      left += " " + e.path().filename().string();
    FAIL() << rec_.scans.size() << " scans, " << rec_.errors.size() << " errors ("
           << (rec_.errors.empty() ? "" : rec_.errors[0].code + ": " + rec_.errors[0].detail)
           << "), " << rec_.orphans.size() << " orphans, " << watcher_->tracked_files()
           << " files tracked, left in the folder:" << left;
  }
  EXPECT_EQ(rec_.scans.size(), static_cast<std::size_t>(kPairs));
  EXPECT_TRUE(written);
  EXPECT_TRUE(rec_.errors.empty());
  EXPECT_TRUE(rec_.orphans.empty());
  EXPECT_LT(worst, 200ms) << std::chrono::duration_cast<std::chrono::milliseconds>(worst).count()
                          << " ms late";
  EXPECT_EQ(count_files(archive("done")), 2u * kPairs);
  std::set<std::string> ids;
  for (const auto& s : rec_.scans) ids.insert(s.scan_id);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kPairs));
}

TEST(XrayFolderSettings, Validation) {
  XrayFolderSettings s;
  s.machine_id = "xr1";
  s.folder = "/srv/xray";
  s.mapping.lane = "lane";
  s.mapping.time = "time";
  s.mapping.verdict = "verdict";
  s.mapping.image = "image";
  s.mapping.clear_words = {"PASS"};
  s.mapping.suspect_words = {"ALARM"};
  EXPECT_TRUE(validate(s));
  auto t = s;
  t.folder = "relative";
  EXPECT_EQ(validate(t).error().field, "folder");
  t = s;
  t.image_extensions.push_back(".JSON");
  EXPECT_EQ(validate(t).error().field, "image_extensions");
  t = s;
  t.pair_timeout = 10ms;
  EXPECT_EQ(validate(t).error().field, "pair_timeout");
  t = s;
  t.mapping.lane.clear();
  EXPECT_EQ(validate(t).error().field, "mapping.lane");
  t = s;
  t.machine_id = "a:b";
  EXPECT_EQ(validate(t).error().field, "machine_id");
}

}  // namespace
}  // namespace postgate::adapters::xray
