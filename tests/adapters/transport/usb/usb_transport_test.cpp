// The libusb transport against umockdev devices: matching, open, the
// continuous interrupt read, request/response over bulk, unplug, re-plug,
// and a clean stop.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "adapters/transport/usb/device_match.hpp"
#include "adapters/transport/usb/usb_context.hpp"
#include "adapters/transport/usb/usb_error.hpp"
#include "adapters/transport/usb/usb_link.hpp"
#include "usb_testbed.hpp"

namespace postgate::adapters::usb {
namespace {

using namespace std::chrono_literals;
using test::run_until;
using test::UsbTestbed;

constexpr std::uint16_t kScannerVid = 0x05e0, kScannerPid = 0x1200;
constexpr std::uint16_t kReaderVid = 0x0400, kReaderPid = 0xc35a;

struct Recorder {
  std::vector<std::pair<DeviceState, std::string>> states;
  std::vector<std::vector<std::uint8_t>> data;
  std::vector<core::Error> errors;
  UsbLinkHandlers handlers() {
    return UsbLinkHandlers{
        [this](DeviceState s, const std::string& d) { states.emplace_back(s, d); },
        [this](std::span<const std::uint8_t> b) { data.emplace_back(b.begin(), b.end()); },
        [this](const core::Error& e) { errors.push_back(e); }};
  }
  bool attached() const { return !states.empty() && states.back().first == DeviceState::attached; }
};

UsbLinkSettings scanner_settings() {
  UsbLinkSettings s;
  s.match.vendor_id = kScannerVid;
  s.match.product_id = kScannerPid;
  s.continuous_in_endpoint = 0x81;
  return s;
}

std::vector<std::uint8_t> hex(const std::string& h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
  return out;
}

class UsbTransport : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!bed.mocked()) GTEST_SKIP() << "not under umockdev-wrapper";
  }
  UsbTestbed bed;  // before any libusb_init
  boost::asio::io_context io;
  std::unique_ptr<UsbContext> make_context(UsbContextSettings s = {}) {
    auto c = UsbContext::create(io, s);
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
    return c ? std::move(*c) : nullptr;
  }
};

TEST(UsbMatch, ParsesVidPid) {
  auto m = parse_vid_pid("0400:C35A");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->vendor_id, 0x0400);
  EXPECT_EQ(m->product_id, 0xc35a);
  EXPECT_EQ(to_string(*m), "0400:c35a");
  EXPECT_FALSE(parse_vid_pid("0400"));
  EXPECT_FALSE(parse_vid_pid("0400:c35a0"));
  EXPECT_FALSE(parse_vid_pid("04g0:c35a"));
}

TEST(UsbMatch, AmbiguousListsPorts) {
  DeviceMatch m{kScannerVid, kScannerPid, {}, {}};
  std::vector<DeviceIdentity> c{{kScannerVid, kScannerPid, 1, 2, "1-1", ""},
                                {kScannerVid, kScannerPid, 1, 3, "1-2", ""}};
  auto r = select_device(m, c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ambiguous");
  EXPECT_NE(r.error().message.find("port=1-1"), std::string::npos);
  EXPECT_NE(r.error().message.find("port=1-2"), std::string::npos);
  m.port_path = "1-2";
  ASSERT_TRUE(select_device(m, c));
  EXPECT_EQ(select_device(m, c)->address, 3);
  m.port_path = "1-4";
  EXPECT_EQ(select_device(m, c).error().code, "not_found");
}

TEST(UsbErrors, PermissionDeniedNamesTheNode) {
  auto e = usb_error(LIBUSB_ERROR_ACCESS, "open", device_node(1, 4));
  EXPECT_EQ(e.code, "permission_denied");
  EXPECT_NE(e.message.find("EACCES on /dev/bus/usb/001/004"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("udev"), std::string::npos);
  EXPECT_EQ(usb_error(LIBUSB_ERROR_NO_DEVICE, "x", "").code, "no_device");
  EXPECT_EQ(usb_error(LIBUSB_ERROR_BUSY, "claim interface 0", "").code, "busy");
}

// The tests run as root, whom no file mode stops; a forked child that has
// dropped to `nobody` sees a device node it may not open, as a service user
// does when the udev rule is missing.
TEST(UsbPermissions, DeniedOpenNamesTheNode) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to drop to nobody";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    // A scope, so the testbed removes its directory before the child exits.
    int code = [] {
      UsbTestbed bed;
      if (!bed.mocked()) return 4;
      bed.add("scanner_a");
      std::string node =
          std::string(umockdev_testbed_get_root_dir(bed.native())) + "/dev/bus/usb/001/002";
      if (::chmod(node.c_str(), 0) != 0) return 5;
      boost::asio::io_context io;
      auto ctx = UsbContext::create(io);
      if (!ctx) return 6;
      Recorder rec;
      UsbLink link(**ctx, scanner_settings(), rec.handlers());
      link.start();
      if (rec.states.empty()) return 7;
      std::fprintf(stderr, "child saw: %s\n", rec.states.back().second.c_str());
      bool ok =
          rec.states.back().first == DeviceState::failed &&
          rec.states.back().second.find("EACCES on /dev/bus/usb/001/002") != std::string::npos;
      link.stop();
      return ok ? 0 : 8;
    }();
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child step " << WEXITSTATUS(status) << " failed";
}

TEST_F(UsbTransport, EnumeratesWithPortAndSerial) {
  bed.add("scanner_a");
  bed.add("scanner_b");
  auto ctx = make_context();
  ASSERT_TRUE(ctx);
  auto found = ctx->enumerate();
  ASSERT_EQ(found.size(), 2u);
  std::vector<std::string> seen;
  for (auto& f : found) seen.push_back(f.identity.port_path + "/" + f.identity.serial);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"1-1/SCNA0001", "1-2/SCNB0002"}));
  std::cerr << "hotplug mode under umockdev: " << ctx->hotplug_mode() << "\n";
}

TEST_F(UsbTransport, OpensByVidPidAndReadsReports) {
  bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  auto ctx = make_context();
  Recorder rec;
  UsbLink link(*ctx, scanner_settings(), rec.handlers());
  link.start();
  ASSERT_TRUE(rec.attached()) << (rec.states.empty() ? "" : rec.states.back().second);
  EXPECT_NE(rec.states.back().second.find("05e0:1200 at 1-1 (/dev/bus/usb/001/002)"),
            std::string::npos)
      << rec.states.back().second;
  ASSERT_TRUE(run_until(io, [&] { return rec.data.size() >= 4; }));
  EXPECT_EQ(rec.data[0], hex("0200150000000000"));  // Shift+R
  EXPECT_EQ(rec.data[1], hex("0000000000000000"));
  EXPECT_EQ(rec.data[2], hex("0200040000000000"));  // Shift+A
  link.stop();
  EXPECT_EQ(link.in_flight(), 0u);
  EXPECT_FALSE(link.is_open());
}

TEST_F(UsbTransport, TwoIdenticalDevicesWithoutDisambiguatorFail) {
  bed.add("scanner_a");
  bed.add("scanner_b");
  auto ctx = make_context();
  Recorder rec;
  UsbLink link(*ctx, scanner_settings(), rec.handlers());
  link.start();
  ASSERT_FALSE(rec.states.empty());
  EXPECT_EQ(rec.states.back().first, DeviceState::failed);
  EXPECT_NE(rec.states.back().second.find("port=1-1"), std::string::npos);
  EXPECT_NE(rec.states.back().second.find("port=1-2"), std::string::npos);
  link.stop();
}

TEST_F(UsbTransport, OpensByPortPath) {
  bed.add("scanner_a");
  bed.add("scanner_b");
  bed.load_ioctl("/dev/bus/usb/001/003", "scanner_b");
  auto ctx = make_context();
  Recorder rec;
  auto s = scanner_settings();
  s.match.port_path = "1-2";
  UsbLink link(*ctx, s, rec.handlers());
  link.start();
  ASSERT_TRUE(rec.attached()) << (rec.states.empty() ? "" : rec.states.back().second);
  EXPECT_EQ(link.identity().address, 3);
  ASSERT_TRUE(run_until(io, [&] { return !rec.data.empty(); }));
  EXPECT_EQ(rec.data[0], hex("0000260000000000"));  // '9' from scanner B
  link.stop();
}

TEST_F(UsbTransport, OpensBySerial) {
  bed.add("scanner_a");
  bed.add("scanner_b");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  auto ctx = make_context();
  Recorder rec;
  auto s = scanner_settings();
  s.match.serial = "SCNA0001";
  UsbLink link(*ctx, s, rec.handlers());
  link.start();
  ASSERT_TRUE(rec.attached());
  EXPECT_EQ(link.identity().port_path, "1-1");
  EXPECT_EQ(link.identity().serial, "SCNA0001");
  link.stop();
}

TEST_F(UsbTransport, AbsentDeviceIsReportedNotFatal) {
  auto ctx = make_context();
  Recorder rec;
  UsbLink link(*ctx, scanner_settings(), rec.handlers());
  link.start();
  ASSERT_EQ(rec.states.size(), 1u);
  EXPECT_EQ(rec.states[0].first, DeviceState::absent);
  link.stop();
}

TEST_F(UsbTransport, MissingEndpointFails) {
  bed.add("scanner_a");
  auto ctx = make_context();
  Recorder rec;
  auto s = scanner_settings();
  s.continuous_in_endpoint = 0x83;
  UsbLink link(*ctx, s, rec.handlers());
  link.start();
  ASSERT_FALSE(rec.states.empty());
  EXPECT_EQ(rec.states.back().first, DeviceState::failed);
  EXPECT_NE(rec.states.back().second.find("no endpoint 0x83"), std::string::npos);
  link.stop();
}

TEST_F(UsbTransport, BulkRequestResponse) {
  bed.add("idcard");
  bed.load_ioctl("/dev/bus/usb/001/004", "idcard");
  auto ctx = make_context();
  Recorder rec;
  UsbLinkSettings s;
  s.match = DeviceMatch{kReaderVid, kReaderPid, {}, {}};
  UsbLink link(*ctx, s, rec.handlers());
  link.start();
  ASSERT_TRUE(rec.attached());
  std::vector<std::vector<std::uint8_t>> replies;
  std::vector<std::string> errors;
  std::function<void(int)> exchange = [&](int left) {
    if (left == 0) return;
    link.write(0x02, hex("AAAAAA96690003200122"), [&, left](core::Status st) {
      if (!st) {
        errors.push_back(st.error().message);
        return;
      }
      link.read(0x81, 4096, 1000ms, [&, left](core::Result<std::vector<std::uint8_t>> r) {
        if (!r) {
          errors.push_back(r.error().message);
          return;
        }
        replies.push_back(*r);
        exchange(left - 1);
      });
    });
  };
  exchange(2);
  ASSERT_TRUE(run_until(io, [&] { return replies.size() == 2 || !errors.empty(); }));
  ASSERT_TRUE(errors.empty()) << errors[0];
  EXPECT_EQ(replies[0], hex("AAAAAA966900040000808"
                            "4"));  // no card
  EXPECT_EQ(replies[1], hex("AAAAAA9669000800009F0000000097"));
  link.stop();
}

TEST_F(UsbTransport, WriteWhenClosedFailsOnTheLoop) {
  auto ctx = make_context();
  Recorder rec;
  UsbLinkSettings s;
  s.match = DeviceMatch{kReaderVid, kReaderPid, {}, {}};
  UsbLink link(*ctx, s, rec.handlers());
  link.start();
  std::optional<core::Status> result;
  link.write(0x02, {1, 2, 3}, [&](core::Status st) { result = st; });
  EXPECT_FALSE(result);  // never called in place
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  EXPECT_EQ(result->error().code, "no_device");
  link.stop();
}

TEST_F(UsbTransport, UnplugAndReplug) {
  auto syspath = bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  UsbContextSettings cs;
  cs.rescan_interval = 200ms;
  auto ctx = make_context(cs);
  Recorder rec;
  UsbLink link(*ctx, scanner_settings(), rec.handlers());
  link.start();
  ASSERT_TRUE(rec.attached());
  ASSERT_TRUE(run_until(io, [&] { return !rec.data.empty(); }));

  bed.unplug(syspath);
  ASSERT_TRUE(run_until(
      io, [&] { return !rec.states.empty() && rec.states.back().first == DeviceState::absent; }))
      << "no removal seen; hotplug mode " << ctx->hotplug_mode();
  EXPECT_EQ(rec.states.back().second, "unplugged");
  EXPECT_FALSE(link.is_open());

  syspath = bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  bed.uevent(syspath, "add");
  ASSERT_TRUE(run_until(io, [&] { return rec.attached(); }))
      << "no arrival seen; hotplug mode " << ctx->hotplug_mode();
  auto before = rec.data.size();
  ASSERT_TRUE(run_until(io, [&] { return rec.data.size() > before; }));
  std::cerr << "hotplug mode " << ctx->hotplug_mode() << ", bus changes " << ctx->bus_changes()
            << "\n";
  link.stop();
}

// The fallback for platforms without hot-plug: a low-rate rescan of the
// device list notices the removal and the return.
TEST_F(UsbTransport, RescanFallbackSeesUnplugAndReplug) {
  auto syspath = bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  UsbContextSettings cs;
  cs.force_rescan = true;
  cs.rescan_interval = 100ms;
  auto ctx = make_context(cs);
  EXPECT_EQ(ctx->hotplug_mode(), "rescan");
  Recorder rec;
  UsbLink link(*ctx, scanner_settings(), rec.handlers());
  link.start();
  ASSERT_TRUE(rec.attached());
  bed.unplug(syspath);
  ASSERT_TRUE(run_until(
      io, [&] { return !rec.states.empty() && rec.states.back().first == DeviceState::absent; }));
  EXPECT_EQ(rec.states.back().second, "unplugged");
  syspath = bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  bed.uevent(syspath, "add");
  ASSERT_TRUE(run_until(io, [&] { return rec.attached(); }));
  EXPECT_GE(ctx->bus_changes(), 1u);  // the arrival can only have come from the rescan
  link.stop();
}

TEST_F(UsbTransport, IdleContextDoesNotSpin) {
  auto ctx = make_context();
  auto rounds = ctx->event_rounds();
  io.run_for(300ms);
  EXPECT_LE(ctx->event_rounds() - rounds, 2u);
}

// Measurement, not a check: umockdev's emulated usbfs node is a socket and
// so always writable, while a real usbfs fd raises POLLOUT only when a URB
// is ready to reap. Under umockdev an open device therefore keeps the loop
// turning (about 2,500 rounds/s); see docs/devices/usb.md.
TEST_F(UsbTransport, OpenDeviceRoundsUnderUmockdev) {
  bed.add("idcard");
  bed.load_ioctl("/dev/bus/usb/001/004", "idcard");
  auto ctx = make_context();
  Recorder rec;
  UsbLinkSettings s;
  s.match = DeviceMatch{kReaderVid, kReaderPid, {}, {}};
  UsbLink link(*ctx, s, rec.handlers());
  link.start();
  ASSERT_TRUE(rec.attached());
  auto rounds = ctx->event_rounds();
  io.run_for(300ms);
  std::cerr << "event rounds in 300 ms with an idle open device under umockdev: "
            << ctx->event_rounds() - rounds << " (fds watched: " << ctx->watched_fds() << ")\n";
  link.stop();
  rounds = ctx->event_rounds();
  io.run_for(300ms);
  EXPECT_LE(ctx->event_rounds() - rounds, 2u) << "closed device still wakes the loop";
}

}  // namespace
}  // namespace postgate::adapters::usb
